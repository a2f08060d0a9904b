// The require-backups-in-production policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { longestGapHours, requireBackupsInProduction } from "../../policies/require-backups-in-production";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runStackPolicy } from "./util";

let production: PolicyResource[];
let staging: PolicyResource[];
beforeAll(async () => ({ production, staging } = await baseline()));

describe("require-backups-in-production", () => {
    testCompliantBaseline(requireBackupsInProduction);

    test("no pre-deploy Job, and a weekly schedule", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-backup-predeploy");
        find(rs, "prod-backup-cron").props.spec.schedule = "0 2 * * 0";
        expect((await runStackPolicy(requireBackupsInProduction, rs)).map((v) => v.message)).toEqual([
            "CronJob shop-backup: schedule '0 2 * * 0' leaves 168 h between backups; it should run at least daily (backup.schedule).",
            "No pre-deploy backup Job in this production stack; set backup.preDeploy: true so every release is preceded by a fresh backup.",
        ]);
    });

    test("no backup CronJob at all", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-backup-cron");
        expect((await runStackPolicy(requireBackupsInProduction, rs)).map((v) => v.message)).toEqual([
            "No backup CronJob in this production stack; enable backup (runbook:backup.enabled).",
        ]);
    });

    test("no restore drill, or one that runs less than weekly", async () => {
        const none = clone(production).filter((r) => r.name !== "prod-backup-restore-drill");
        expect((await runStackPolicy(requireBackupsInProduction, none)).map((v) => v.message)).toEqual([
            "No restore drill CronJob in this production stack; set backup.restoreDrill so a restore is tested at least every 7 days (runbooks 001, 003).",
        ]);
        const monthly = clone(production);
        find(monthly, "prod-backup-restore-drill").props.spec.schedule = "0 4 1 * *";
        expect((await runStackPolicy(requireBackupsInProduction, monthly)).map((v) => v.message)).toEqual([
            `CronJob shop-restore-drill: schedule "0 4 1 * *" does not run a restore drill at least every 7 days (backup.restoreDrill.schedule).`,
        ]);
    });

    test("the restore CronJob, suspended and yearly, is not judged as a backup", async () => {
        expect(find(clone(production), "prod-backup-restore").props.spec).toMatchObject({
            suspend: true,
            schedule: "0 0 1 1 *",
        });
        expect(await runStackPolicy(requireBackupsInProduction, clone(production))).toEqual([]);
    });

    test("staging needs none", async () => {
        const rs = clone(staging).filter((r) => r.name !== "stg-backup-cron" && r.name !== "stg-backup-predeploy");
        expect(await runStackPolicy(requireBackupsInProduction, rs)).toEqual([]);
    });

    test("longest gap of a schedule", () => {
        expect([
            longestGapHours("0 2 * * *"),
            longestGapHours("0 */6 * * *"),
            longestGapHours("0 2 * * 1-5"),
            longestGapHours("nope"),
        ]).toEqual([24, 6, 72, undefined]);
    });
});
