// BackupJob from a few args of its own, as another program would use it: no stack config,
// the documented defaults, an existing bucket given as another resource's output, and every
// problem its checks report before anything is created.
import * as pulumi from "@pulumi/pulumi";
import { byName, construct, installMocks, ofType, promiseOf, registered, reset } from "../util/mocks";

installMocks();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require("../../components/index") as typeof import("../../components/index");

const minimal = {
    namespace: "apps",
    name: "shop-backup",
    release: { version: "1.4.0" },
    databaseSecret: { name: "shop-db", key: "url" },
    bucket: { name: pulumi.output("acme-backups") },
};

describe("BackupJob with its own args", () => {
    let backup: InstanceType<typeof lib.BackupJob>;
    beforeAll(async () => {
        reset();
        backup = await construct((opts) => new lib.BackupJob("b", minimal, opts));
    });

    test("the backup CronJob, the pre-deploy Job, the suspended restore CronJob; no AWS resources", () => {
        expect(ofType("kubernetes:batch/v1:CronJob").map((c) => c.inputs.metadata.name)).toEqual([
            "shop-backup",
            "shop-backup-restore",
        ]);
        expect(ofType("kubernetes:batch/v1:Job").map((j) => j.inputs.metadata.name)).toEqual([
            expect.stringMatching(/^shop-backup-predeploy-[0-9a-f]{8}$/),
        ]);
        expect(registered.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
        expect(byName("b-restore").inputs.spec.suspend).toBe(true);
    });

    test("the documented defaults: nightly at 02:00, 600 s, 2 retries, pinned images, prefix backups in eu-west-1", () => {
        const cron = byName("b-cron").inputs.spec;
        expect(cron.schedule).toBe("0 2 * * *");
        const job = cron.jobTemplate.spec;
        expect(job.activeDeadlineSeconds).toBe(600);
        expect(job.backoffLimit).toBe(2);
        const pod = job.template.spec;
        expect(pod.initContainers[0].image).toBe(lib.BACKUP_DEFAULTS.dumpImage);
        expect(pod.containers[0].image).toBe(lib.BACKUP_DEFAULTS.uploadImage);
        const env = Object.fromEntries(
            pod.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]),
        );
        expect(env).toMatchObject({ BUCKET: "acme-backups", PREFIX: "backups", AWS_REGION: "eu-west-1" });
        expect(byName("b-restore").inputs.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(1800);
    });

    test("the bucket given as an output is the component's bucketName", async () => {
        expect(await promiseOf(backup.bucketName)).toBe("acme-backups");
    });
});

describe("BackupJob on an S3-compatible store", () => {
    beforeAll(async () => {
        reset();
        await construct(
            (opts) =>
                new lib.BackupJob(
                    "s",
                    {
                        ...minimal,
                        bucket: { name: "b", endpoint: "http://s3.internal:7070", credentialsSecret: "store-keys" },
                    },
                    opts,
                ),
        );
    });

    test("its endpoint and the keys of the named Secret reach every pod that talks to the store", () => {
        const keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].map((key) => ({
            name: key,
            valueFrom: { secretKeyRef: { name: "store-keys", key } },
        }));
        const upload = byName("s-cron").inputs.spec.jobTemplate.spec.template.spec.containers[0];
        const fetch = byName("s-restore").inputs.spec.jobTemplate.spec.template.spec.initContainers[0];
        for (const c of [upload, fetch]) {
            expect(c.env).toContainEqual({ name: "S3_ENDPOINT_URL", value: "http://s3.internal:7070" });
            for (const k of keys) expect(c.env).toContainEqual(k);
        }
        // The database's step never sees the store's keys.
        const dump = byName("s-cron").inputs.spec.jobTemplate.spec.template.spec.initContainers[0];
        expect(dump.env.map((e: { name: string }) => e.name)).toEqual(["DATABASE_URL"]);
    });
});

describe("backupJobProblems: every problem, before anything is created", () => {
    test("each bad field at its path", () => {
        const problems = lib.backupJobProblems({
            namespace: "apps",
            name: "Shop_Backup",
            release: { version: "1" },
            bucket: {},
            schedule: "every night",
            retentionDays: 0,
            dumpImage: "postgres",
            restoreDrill: { databaseSecret: { name: "scratch", key: "url" }, schedule: "0 4 * *" },
        });
        expect(problems.map((p) => p.path.join("."))).toEqual([
            "name",
            "databaseSecret",
            "bucket.name",
            "schedule",
            "restoreDrill.schedule",
            "retentionDays",
            "dumpImage",
        ]);
        expect(problems[0].message).toBe(`expected a DNS label (a-z, 0-9, '-'), got "Shop_Backup"`);
        expect(problems[5].message).toBe("expected a whole number from 1 to 3650, got 0");
    });

    test("a name whose pre-deploy Job would not fit 63 characters", () => {
        const [p] = lib.backupJobProblems({ ...minimal, name: "b".repeat(45) });
        expect(p).toEqual({
            path: ["name"],
            message: "expected at most 44 characters ('" + "b".repeat(45) + "-predeploy-00000000' must fit 63), got 45",
        });
    });

    test("the constructor throws them all as one ResourceError", () => {
        reset();
        const build = () => new lib.BackupJob("bad", { ...minimal, schedule: "nightly", backoffLimit: 11 });
        expect(build).toThrow(pulumi.ResourceError);
        expect(build).toThrow(
            /'schedule': expected a five-field cron expression[^\n]*\n'backoffLimit': expected a whole number from 0 to 10, got 11/,
        );
        expect(registered).toEqual([]);
    });
});
