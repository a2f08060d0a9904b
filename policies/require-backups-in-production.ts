import type { StackValidationPolicy } from "@pulumi/policy";
import { CronExpressionParser } from "cron-parser";
import { environmentOf, metadata, stackEnvironmentFromLabels, T } from "./resources";

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
    description: "A production stack has a backup CronJob that runs at least daily and a pre-deploy backup Job (runbooks 001, 002, 003).",
    validateStack: (args, reportViolation) => {
        if (stackEnvironmentFromLabels(args.resources) !== "production") return;
        const isBackup = (labels: Record<string, string>) => labels["app.kubernetes.io/component"] === "backup";
        const crons = args.resources.filter((r) => r.type === T.cronJob && isBackup(metadata(r.props).labels) && environmentOf(r.props) === "production");
        if (crons.length === 0) reportViolation("No backup CronJob in this production stack; enable backup (runbook:backup.enabled).");
        for (const c of crons) {
            const schedule = c.props?.spec?.schedule;
            const gap = typeof schedule === "string" ? longestGapHours(schedule) : undefined;
            if (gap === undefined) reportViolation(`CronJob ${metadata(c.props).name}: schedule ${JSON.stringify(schedule)} is not a valid cron expression.`, c.urn);
            else if (gap > 24) reportViolation(`CronJob ${metadata(c.props).name}: schedule '${schedule}' leaves ${gap} h between backups; it should run at least daily (backup.schedule).`, c.urn);
        }
        const preDeploy = args.resources.some((r) => r.type === T.job && metadata(r.props).labels["runbook.dev/backup"] === "pre-deploy");
        if (!preDeploy) reportViolation("No pre-deploy backup Job in this production stack; set backup.preDeploy: true so every release is preceded by a fresh backup.");
    },
};
