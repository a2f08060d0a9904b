// What a BackupJob takes, its defaults and the checks it makes on it, with no Pulumi runtime:
// the config parser and the commands run these checks without loading the SDKs.
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { cronProblem, describeValue, imageProblems, type Problem } from "./checks";
import { schedulingProblems, type PodScheduling } from "./scheduling";

/** The backup's defaults (runbooks 001 and 002, NovaCron's Step 1 and Pre-Deployment Checklist). */
export const BACKUP_DEFAULTS = {
    /** ours: nightly, outside the deployment window. */
    schedule: "0 2 * * *",
    /** ours: days an object is kept before the bucket's lifecycle rule expires it. */
    retentionDays: 30,
    /** A backup before each deploy (NovaCron runbook, Step 1: Pre-Deployment Backup). */
    preDeploy: true,
    /** Seconds the pre-deploy backup is awaited (NovaCron runbook, Step 1: `--timeout=600s`). */
    deadlineSeconds: 600,
    /** ours. */
    backoffLimit: 2,
    /** ours: pinned images with pg_dump and the AWS CLI. */
    dumpImage: "postgres:16.6-alpine",
    uploadImage: "amazon/aws-cli:2.22.35",
    /** ours. */
    bucketPrefix: "backups",
    bucketRegion: "eu-west-1",
    /** Seconds a restore is awaited (NovaCron runbook, Emergency Rollback Procedure: Database Rollback: `--timeout=1800s`). */
    restoreDeadlineSeconds: 1800,
    /**
     * Weekly, so a restore is always tested within 7 days (NovaCron runbook, Pre-Deployment
     * Checklist: 5. Backup Verification).
     */
    restoreDrillSchedule: "0 4 * * 1",
} as const;

/** A key of a Kubernetes Secret that holds a database URL (postgres://…). */
export interface SecretKeyRef {
    name: pulumi.Input<string>;
    key: string;
}

/** Where the dumps go: an S3 bucket (or an S3-compatible store's). */
export interface BackupBucket {
    /**
     * An existing bucket; left out, the component creates one with @pulumi/aws (versioned,
     * encrypted, public access blocked, expiring after `retentionDays`).
     */
    name?: pulumi.Input<string>;
    /** @default "backups" */
    prefix?: string;
    /** @default "eu-west-1" */
    region?: string;
    /** An S3-compatible store's endpoint (MinIO, Ceph, versitygw) instead of AWS's own. */
    endpoint?: string;
    /**
     * A Secret holding the store's keys as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, for
     * an S3-compatible store; on AWS, the ServiceAccount's IAM role (`iam`) is the better way.
     */
    credentialsSecret?: pulumi.Input<string>;
}

export interface BackupJobArgs {
    namespace: pulumi.Input<string>;
    /** metadata.name of the backup CronJob, the prefix of its Jobs and the ServiceAccount's name. */
    name: string;
    /**
     * metadata.name of the suspended restore CronJob [001]; its drill is `<restoreName>-drill`.
     * @default `${name}-restore`
     */
    restoreName?: string;
    /** @default {} */
    labels?: Record<string, string>;
    /** The release the pre-deploy backup belongs to: a new release runs a new Job. */
    release: { version: string; commit?: string };
    /** The database to dump, from a Kubernetes Secret; or give `databaseUrl`. */
    databaseSecret?: SecretKeyRef;
    /** The database URL as a Pulumi secret (stored in a Secret the component creates), when no `databaseSecret`. */
    databaseUrl?: pulumi.Input<string>;
    /** @default a bucket created here, prefix "backups", region "eu-west-1" */
    bucket?: BackupBucket;
    /** @default "0 2 * * *" */
    schedule?: string;
    /** Days an object is kept before the bucket's lifecycle rule expires it. @default 30 */
    retentionDays?: number;
    /** A backup Job before each release, which the rollout waits for. @default true */
    preDeploy?: boolean;
    /** Seconds a backup Job may run. @default 600 */
    deadlineSeconds?: number;
    /** @default 2 */
    backoffLimit?: number;
    /** An image with pg_dump and psql. @default "postgres:16.6-alpine" */
    dumpImage?: string;
    /** An image with the AWS CLI. @default "amazon/aws-cli:2.22.35" */
    uploadImage?: string;
    /** What `kubectl create job --from=cronjob/<restoreName>` restores, and where [001]. */
    restore?: {
        /** The database whose schema `public` the restore replaces. @default the backed-up one */
        databaseSecret?: SecretKeyRef;
        /** Object key of the dump to restore. @default the newest dump */
        dumpKey?: string;
        /** @default 1800 */
        deadlineSeconds?: number;
    };
    /** Restores the newest dump into a scratch database on a schedule and compares row counts [001, 003]. */
    restoreDrill?: { databaseSecret: SecretKeyRef; /** @default "0 4 * * 1" */ schedule?: string };
    /** The IAM role the ServiceAccount assumes (IRSA): an existing one, or one created for this OIDC provider. */
    iam?: { roleArn?: pulumi.Input<string>; oidcProviderArn?: string };
    /** Provider for the AWS resources; without one, `bucket.name` must name an existing bucket. */
    awsProvider?: aws.Provider;
    /**
     * Where the backup, restore and drill pods run.
     * @default {} (wherever the scheduler puts them)
     */
    scheduling?: PodScheduling;
}

type Resolved = Required<Omit<BackupJobArgs, "databaseSecret" | "databaseUrl" | "restoreDrill" | "awsProvider">>;

/** The args with every default applied. */
export interface ResolvedBackupJobArgs extends Resolved {
    databaseSecret?: SecretKeyRef;
    databaseUrl?: pulumi.Input<string>;
    bucket: BackupBucket & { prefix: string; region: string };
    restore: { databaseSecret?: SecretKeyRef; dumpKey?: string; deadlineSeconds: number };
    restoreDrill?: { databaseSecret: SecretKeyRef; schedule: string };
    iam: { roleArn?: pulumi.Input<string>; oidcProviderArn?: string };
    awsProvider?: aws.Provider;
}

export function resolveBackupJobArgs(a: BackupJobArgs): ResolvedBackupJobArgs {
    const d = BACKUP_DEFAULTS;
    return {
        ...a,
        restoreName: a.restoreName ?? `${a.name}-restore`,
        labels: a.labels ?? {},
        scheduling: a.scheduling ?? {},
        bucket: { ...a.bucket, prefix: a.bucket?.prefix ?? d.bucketPrefix, region: a.bucket?.region ?? d.bucketRegion },
        schedule: a.schedule ?? d.schedule,
        retentionDays: a.retentionDays ?? d.retentionDays,
        preDeploy: a.preDeploy ?? d.preDeploy,
        deadlineSeconds: a.deadlineSeconds ?? d.deadlineSeconds,
        backoffLimit: a.backoffLimit ?? d.backoffLimit,
        dumpImage: a.dumpImage ?? d.dumpImage,
        uploadImage: a.uploadImage ?? d.uploadImage,
        restore: { ...a.restore, deadlineSeconds: a.restore?.deadlineSeconds ?? d.restoreDeadlineSeconds },
        restoreDrill: a.restoreDrill && {
            ...a.restoreDrill,
            schedule: a.restoreDrill.schedule ?? d.restoreDrillSchedule,
        },
        iam: a.iam ?? {},
    };
}

/** A CronJob's name fits 52 characters (its Jobs add 11 within 63). */
const CRONJOB_NAME_MAX = 52;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Every problem of the args, paths relative to them (what the constructor throws). */
export function backupJobProblems(a: BackupJobArgs): Problem[] {
    const r = resolveBackupJobArgs(a);
    const out: Problem[] = [];
    const add = (path: PropertyKey[], message: string | undefined) => {
        if (message !== undefined) out.push({ path, message });
    };
    const whole = (path: PropertyKey[], v: number, min: number, max: number) =>
        add(
            path,
            Number.isInteger(v) && v >= min && v <= max
                ? undefined
                : `expected a whole number from ${min} to ${max}, got ${describeValue(v)}`,
        );
    // The longest object named after each: the pre-deploy Job and the drill CronJob.
    const longest = { name: `${r.name}-predeploy-00000000`, restoreName: `${r.restoreName}-drill` };
    const limit = { name: 63, restoreName: CRONJOB_NAME_MAX };
    for (const key of ["name", "restoreName"] as const) {
        // A restoreName left out is derived from the name: a problem of the name is told once.
        if (key === "restoreName" && a.restoreName === undefined && out.length > 0) continue;
        const given = r[key];
        if (!DNS_LABEL.test(given)) add([key], `expected a DNS label (a-z, 0-9, '-'), got ${describeValue(given)}`);
        else if (longest[key].length > limit[key])
            add(
                [key],
                `expected at most ${limit[key] - (longest[key].length - given.length)} characters ` +
                    `('${longest[key]}' must fit ${limit[key]}), got ${given.length}`,
            );
    }
    if (!a.databaseSecret && a.databaseUrl === undefined)
        add(["databaseSecret"], "expected a Secret holding the database URL, or the secret `databaseUrl`; got neither");
    if (a.bucket?.name === undefined && !a.awsProvider)
        add(
            ["bucket", "name"],
            "expected an existing bucket's name when no awsProvider is given to create one, got nothing",
        );
    add(["schedule"], cronProblem(r.schedule));
    if (r.restoreDrill) add(["restoreDrill", "schedule"], cronProblem(r.restoreDrill.schedule));
    whole(["retentionDays"], r.retentionDays, 1, 3650);
    whole(["deadlineSeconds"], r.deadlineSeconds, 60, 86400);
    whole(["backoffLimit"], r.backoffLimit, 0, 10);
    whole(["restore", "deadlineSeconds"], r.restore.deadlineSeconds, 60, 86400);
    out.push(...imageProblems(["dumpImage"], r.dumpImage), ...imageProblems(["uploadImage"], r.uploadImage));
    out.push(...schedulingProblems(r.scheduling, ["scheduling"]));
    return out;
}
