import * as k8s from "@pulumi/kubernetes";
import type { StackValidationPolicy } from "@pulumi/policy";
import { CronExpressionParser } from "cron-parser";
import { BACKUP_ROLE_LABEL, COMPONENT_LABEL } from "./lib/well-known";
import { environmentOf, metadata, ofClass, stackEnvironmentFromLabels } from "./resources";

/** Longest gap, in hours, between runs of a cron schedule over two weeks; undefined if unparsable. */
export function longestGapHours(schedule: string): number | undefined {
    try {
        const start = new Date(Date.UTC(2026, 0, 5));
        const it = CronExpressionParser.parse(schedule, { currentDate: start, tz: "UTC" });
        let prev = it.next().toDate().getTime();
        let gap = 0;
        for (let i = 0; i < 500; i++) {
            const t = it.next().toDate().getTime();
            gap = Math.max(gap, t - prev);
            prev = t;
            if (t - start.getTime() > 14 * 86400000) break;
        }
        return gap / 3600000;
    } catch {
        return undefined;
    }
}

export const requireBackupsInProduction: StackValidationPolicy = {
    name: "require-backups-in-production",
    description:
        "A production stack has a backup CronJob that runs at least daily, a pre-deploy backup Job, and a " +
        "restore drill at least weekly (runbooks 001, 002, 003).",
    validateStack: (args, reportViolation) => {
        if (stackEnvironmentFromLabels(args.resources) !== "production") return;
        // CronJobs of component `backup`: backups, and restores labelled with their role.
        const backupCrons = ofClass(args.resources, k8s.batch.v1.CronJob).filter(
            (c) => metadata(c.props).labels[COMPONENT_LABEL] === "backup" && environmentOf(c.props) === "production",
        );
        const role = (c: { props: Parameters<typeof metadata>[0] }) => metadata(c.props).labels[BACKUP_ROLE_LABEL];
        const crons = backupCrons.filter((c) => role(c) !== "restore" && role(c) !== "restore-drill");
        const drills = backupCrons.filter((c) => role(c) === "restore-drill");
        if (drills.length === 0)
            reportViolation(
                "No restore drill CronJob in this production stack; set backup.restoreDrill so a restore is " +
                    "tested at least every 7 days (runbooks 001, 003).",
            );
        for (const d of drills) {
            const schedule = d.props.spec?.schedule;
            const gap = typeof schedule === "string" ? longestGapHours(schedule) : undefined;
            if (gap === undefined || gap > 7 * 24)
                reportViolation(
                    `CronJob ${metadata(d.props).name}: schedule ${JSON.stringify(schedule)} does not run a ` +
                        `restore drill at least every 7 days (backup.restoreDrill.schedule).`,
                    d.resource.urn,
                );
        }
        if (crons.length === 0)
            reportViolation("No backup CronJob in this production stack; enable backup (runbook:backup.enabled).");
        for (const c of crons) {
            const schedule = c.props.spec?.schedule;
            const gap = typeof schedule === "string" ? longestGapHours(schedule) : undefined;
            if (gap === undefined)
                reportViolation(
                    `CronJob ${metadata(c.props).name}: schedule ${JSON.stringify(schedule)} is not a valid cron expression.`,
                    c.resource.urn,
                );
            else if (gap > 24)
                reportViolation(
                    `CronJob ${metadata(c.props).name}: schedule '${schedule}' leaves ${gap} h between ` +
                        `backups; it should run at least daily (backup.schedule).`,
                    c.resource.urn,
                );
        }
        const preDeploy = ofClass(args.resources, k8s.batch.v1.Job).some(
            (j) => metadata(j.props).labels[BACKUP_ROLE_LABEL] === "pre-deploy",
        );
        if (!preDeploy)
            reportViolation(
                "No pre-deploy backup Job in this production stack; set backup.preDeploy: true so every " +
                    "release is preceded by a fresh backup.",
            );
    },
};
