import * as crypto from "node:crypto";
import type * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DUMP_SCRIPT, FETCH_SCRIPT, RESTORE_SCRIPT, UPLOAD_SCRIPT } from "./backup-script";
import { RERUN_IF_FAILED, throwProblems } from "./workload";
import {
    backupJobProblems,
    resolveBackupJobArgs,
    type BackupJobArgs,
    type ResolvedBackupJobArgs,
    type SecretKeyRef,
} from "./backup-job-args";
import { BACKUP_ROLE_LABEL, RELEASE_ANNOTATIONS } from "../policies/lib/well-known";
import { schedulingFields, type PodScheduling } from "./scheduling";

/**
 * @pulumi/aws, loaded only by a BackupJob that creates AWS resources (it is an optional peer
 * dependency: a program whose bucket exists needs neither the package nor its load time).
 */
function awsSdk(): typeof aws {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@pulumi/aws") as typeof aws;
}

const ONE_AT_A_TIME = { concurrencyPolicy: "Forbid", successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 };
/** pg_dump / psql. */
const DATABASE_STEP = { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } };
/** The AWS CLI. */
const S3_STEP = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } };

interface Step {
    name: string;
    image: string;
    script: string;
    env: k8s.types.input.core.v1.EnvVar[];
    resources: k8s.types.input.core.v1.ResourceRequirements;
}

/** A pod of two steps sharing an emptyDir at `mount`: the first (an init container) hands a file to the second. */
function twoStepPod(
    serviceAccountName: pulumi.Input<string>,
    mount: string,
    steps: [Step, Step],
    scheduling: PodScheduling,
): k8s.types.input.core.v1.PodSpec {
    const volume = mount.replace(/^\//, "");
    const container = (s: Step): k8s.types.input.core.v1.Container => ({
        name: s.name,
        image: s.image,
        command: ["/bin/sh", "-c", s.script],
        env: s.env,
        volumeMounts: [{ name: volume, mountPath: mount }],
        resources: s.resources,
    });
    return {
        serviceAccountName,
        restartPolicy: "Never",
        volumes: [{ name: volume, emptyDir: {} }],
        initContainers: [container(steps[0])],
        containers: [container(steps[1])],
        ...schedulingFields(scheduling),
    };
}

/** What the builders of one BackupJob share. */
interface Context {
    name: string;
    args: ResolvedBackupJobArgs;
    serviceAccountName: pulumi.Input<string>;
    /** The database the backup dumps (and an on-demand restore restores into, unless told otherwise). */
    databaseUrl: SecretKeyRef;
    /** Where the dumps go: BUCKET, PREFIX, AWS_REGION, and the endpoint and keys, if set. */
    s3Env: k8s.types.input.core.v1.EnvVar[];
}

/**
 * Runbooks 001 and 002: a scheduled backup CronJob and, before each deploy, a one-off Job
 * from the same pod template that the rollout waits for (600 s by default). The dump is
 * compressed and uploaded to S3 under a timestamped key; the bucket is created here
 * (versioned, encrypted, public access blocked, expiring after `retentionDays`) or named.
 */
export class BackupJob extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;
    public readonly preDeployJob?: k8s.batch.v1.Job;
    public readonly serviceAccount: k8s.core.v1.ServiceAccount;
    public readonly bucketName: pulumi.Output<string>;
    public readonly bucket?: aws.s3.Bucket;
    public readonly role?: aws.iam.Role;
    public readonly databaseSecret?: k8s.core.v1.Secret;
    public readonly schedule: string;
    /** Suspended: a template for `kubectl create job --from=cronjob/<restoreName>` [001]. */
    public readonly restoreCronJob: k8s.batch.v1.CronJob;
    /** Restores the newest dump into a scratch database and compares row counts [001, 003]. */
    public readonly restoreDrillCronJob?: k8s.batch.v1.CronJob;

    constructor(name: string, given: BackupJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:backup:BackupJob", name, {}, opts);
        throwProblems(backupJobProblems(given), this);
        const args = resolveBackupJobArgs(given);
        this.schedule = args.schedule;
        this.bucket = args.bucket.name === undefined ? this.createBucket(name, args) : undefined;
        this.bucketName = this.bucket ? this.bucket.bucket : pulumi.output(args.bucket.name as pulumi.Input<string>);
        this.role = args.iam.oidcProviderArn && args.awsProvider ? this.irsaRole(name, args) : undefined;
        this.serviceAccount = this.backupServiceAccount(name, args, this.role?.arn ?? args.iam.roleArn);
        this.databaseSecret = args.databaseSecret ? undefined : this.urlSecret(name, args);
        const ctx: Context = {
            name,
            args,
            serviceAccountName: this.serviceAccount.metadata.name,
            databaseUrl: args.databaseSecret ?? {
                name: (this.databaseSecret as k8s.core.v1.Secret).metadata.name,
                key: "url",
            },
            s3Env: [
                { name: "BUCKET", value: this.bucketName },
                { name: "PREFIX", value: args.bucket.prefix },
                { name: "AWS_REGION", value: args.bucket.region },
                ...(args.bucket.endpoint !== undefined
                    ? [{ name: "S3_ENDPOINT_URL", value: args.bucket.endpoint }]
                    : []),
                ...(args.bucket.credentialsSecret !== undefined
                    ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].map((key) => ({
                          name: key,
                          valueFrom: { secretKeyRef: { name: args.bucket.credentialsSecret!, key } },
                      }))
                    : []),
            ],
        };
        const jobSpec = this.backupJobSpec(ctx);
        this.cronJob = this.backupCronJob(ctx, jobSpec);
        this.preDeployJob = args.preDeploy ? this.preDeployBackup(ctx, jobSpec) : undefined;
        this.restoreCronJob = this.onDemandRestore(ctx);
        this.restoreDrillCronJob = args.restoreDrill ? this.restoreDrill(ctx, args.restoreDrill) : undefined;
        this.registerOutputs({
            bucketName: this.bucketName,
            schedule: this.schedule,
            cronJob: this.cronJob.metadata.name,
            restoreCronJob: this.restoreCronJob.metadata.name,
        });
    }

    /** The bucket: versioned, encrypted, public access blocked, dumps expiring after retentionDays. */
    private createBucket(name: string, args: ResolvedBackupJobArgs): aws.s3.Bucket {
        const sdk = awsSdk();
        const awsOpts = { parent: this, provider: args.awsProvider };
        const bucket = new sdk.s3.Bucket(`${name}-bucket`, { forceDestroy: false, tags: args.labels }, awsOpts);
        new sdk.s3.BucketVersioning(
            `${name}-versioning`,
            { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
            awsOpts,
        );
        new sdk.s3.BucketServerSideEncryptionConfiguration(
            `${name}-encryption`,
            {
                bucket: bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
            },
            awsOpts,
        );
        new sdk.s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            {
                bucket: bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            awsOpts,
        );
        new sdk.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-backups",
                        status: "Enabled",
                        filter: { prefix: `${args.bucket.prefix}/` },
                        expiration: { days: args.retentionDays },
                        noncurrentVersionExpiration: { noncurrentDays: args.retentionDays },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                    },
                ],
            },
            awsOpts,
        );
        return bucket;
    }

    /** IRSA: a role only this namespace's backup ServiceAccount may assume, allowed the backup prefix. */
    private irsaRole(name: string, args: ResolvedBackupJobArgs): aws.iam.Role {
        const sdk = awsSdk();
        const oidcProviderArn = args.iam.oidcProviderArn as string;
        const issuer = oidcProviderArn.replace(/^arn:[^:]+:iam::[0-9]+:oidc-provider\//, "");
        const role = new sdk.iam.Role(
            `${name}-role`,
            {
                assumeRolePolicy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Federated: oidcProviderArn },
                            Action: "sts:AssumeRoleWithWebIdentity",
                            Condition: {
                                StringEquals: {
                                    [`${issuer}:sub`]: pulumi.interpolate`system:serviceaccount:${args.namespace}:${args.name}`,
                                },
                            },
                        },
                    ],
                }),
                tags: args.labels,
            },
            { parent: this, provider: args.awsProvider },
        );
        new sdk.iam.RolePolicy(
            `${name}-s3`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: ["s3:PutObject", "s3:GetObject"],
                            Resource: pulumi.interpolate`arn:aws:s3:::${this.bucketName}/${args.bucket.prefix}/*`,
                        },
                        // The restore finds the newest dump by listing the prefix.
                        {
                            Effect: "Allow",
                            Action: ["s3:ListBucket"],
                            Resource: pulumi.interpolate`arn:aws:s3:::${this.bucketName}`,
                            Condition: { StringLike: { "s3:prefix": [`${args.bucket.prefix}/*`] } },
                        },
                    ],
                }),
            },
            { parent: this, provider: args.awsProvider },
        );
        return role;
    }

    private backupServiceAccount(
        name: string,
        args: ResolvedBackupJobArgs,
        roleArn: pulumi.Input<string> | undefined,
    ): k8s.core.v1.ServiceAccount {
        return new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: {
                    name: args.name,
                    namespace: args.namespace,
                    labels: args.labels,
                    ...(roleArn !== undefined ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : {}),
                },
            },
            { parent: this },
        );
    }

    /** The database URL given as a Pulumi secret, as a Kubernetes Secret the Jobs read. */
    private urlSecret(name: string, args: ResolvedBackupJobArgs): k8s.core.v1.Secret {
        return new k8s.core.v1.Secret(
            `${name}-db`,
            {
                metadata: { name: `${args.name}-db`, namespace: args.namespace, labels: args.labels },
                type: "Opaque",
                stringData: { url: pulumi.secret(args.databaseUrl as pulumi.Input<string>) },
            },
            { parent: this },
        );
    }

    /** Dump (PostgreSQL's image) into an emptyDir, then upload (the S3 client's image). */
    private backupJobSpec(ctx: Context): k8s.types.input.batch.v1.JobSpec {
        const { args } = ctx;
        const url = ctx.databaseUrl;
        const podSpec = twoStepPod(
            ctx.serviceAccountName,
            "/backup",
            [
                {
                    name: "dump",
                    image: args.dumpImage,
                    script: DUMP_SCRIPT,
                    env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: url.name, key: url.key } } }],
                    resources: DATABASE_STEP,
                },
                { name: "upload", image: args.uploadImage, script: UPLOAD_SCRIPT, env: ctx.s3Env, resources: S3_STEP },
            ],
            args.scheduling,
        );
        return {
            backoffLimit: args.backoffLimit,
            activeDeadlineSeconds: args.deadlineSeconds,
            template: { metadata: { labels: args.labels }, spec: podSpec },
        };
    }

    private backupCronJob(ctx: Context, jobSpec: k8s.types.input.batch.v1.JobSpec): k8s.batch.v1.CronJob {
        const { args } = ctx;
        return new k8s.batch.v1.CronJob(
            `${ctx.name}-cron`,
            {
                metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
                spec: {
                    schedule: args.schedule,
                    timeZone: "Etc/UTC",
                    ...ONE_AT_A_TIME,
                    startingDeadlineSeconds: 3600,
                    jobTemplate: { metadata: { labels: args.labels }, spec: jobSpec },
                },
            },
            { parent: this },
        );
    }

    /** The backup before a release: named by the release, so a new release runs a new Job. */
    private preDeployBackup(ctx: Context, jobSpec: k8s.types.input.batch.v1.JobSpec): k8s.batch.v1.Job {
        const { args } = ctx;
        const id = crypto
            .createHash("sha256")
            .update(`${args.release.version}|${args.release.commit ?? ""}`)
            .digest("hex")
            .slice(0, 8);
        return new k8s.batch.v1.Job(
            `${ctx.name}-predeploy`,
            {
                metadata: {
                    name: `${args.name}-predeploy-${id}`,
                    namespace: args.namespace,
                    labels: { ...args.labels, [BACKUP_ROLE_LABEL]: "pre-deploy" },
                    annotations: { [RELEASE_ANNOTATIONS.version]: args.release.version, ...RERUN_IF_FAILED },
                },
                spec: { ...jobSpec, ttlSecondsAfterFinished: 7 * 86400 },
            },
            // The Job is awaited by the Kubernetes provider; the rollout depends on it.
            {
                parent: this,
                dependsOn: [this.serviceAccount, ...(this.databaseSecret ? [this.databaseSecret] : [])],
                customTimeouts: { create: `${args.deadlineSeconds + 60}s` },
            },
        );
    }

    /**
     * A restore: fetch (the S3 client's image: the newest or the named dump, SHA-256 checked)
     * into an emptyDir, then restore (PostgreSQL's image: one transaction) into `target`;
     * `verify` compares the row counts with the dump's.
     */
    private restoreJobSpec(ctx: Context, target: SecretKeyRef, verify: boolean): k8s.types.input.batch.v1.JobSpec {
        const { args } = ctx;
        const dumpKey =
            args.restore.dumpKey !== undefined && !verify ? [{ name: "DUMP_KEY", value: args.restore.dumpKey }] : [];
        const pod = twoStepPod(
            ctx.serviceAccountName,
            "/restore",
            [
                {
                    name: "fetch",
                    image: args.uploadImage,
                    script: FETCH_SCRIPT,
                    env: [...ctx.s3Env, ...dumpKey],
                    resources: S3_STEP,
                },
                {
                    name: "restore",
                    image: args.dumpImage,
                    script: RESTORE_SCRIPT,
                    env: [
                        {
                            name: "TARGET_DATABASE_URL",
                            valueFrom: { secretKeyRef: { name: target.name, key: target.key } },
                        },
                        ...(verify ? [{ name: "VERIFY_ROW_COUNTS", value: "1" }] : []),
                    ],
                    resources: DATABASE_STEP,
                },
            ],
            args.scheduling,
        );
        return {
            // A restore is not retried on its own: each attempt replaces the schema again.
            backoffLimit: 0,
            activeDeadlineSeconds: args.restore.deadlineSeconds,
            template: { metadata: { labels: args.labels }, spec: pod },
        };
    }

    /** Suspended: the template of `kubectl create job --from=cronjob/<restoreName>` [001]. */
    private onDemandRestore(ctx: Context): k8s.batch.v1.CronJob {
        const { args } = ctx;
        return new k8s.batch.v1.CronJob(
            `${ctx.name}-restore`,
            {
                metadata: {
                    name: args.restoreName,
                    namespace: args.namespace,
                    labels: { ...args.labels, [BACKUP_ROLE_LABEL]: "restore" },
                },
                spec: {
                    // Never runs on its own: it is the template of an on-demand restore.
                    suspend: true,
                    schedule: "0 0 1 1 *",
                    timeZone: "Etc/UTC",
                    ...ONE_AT_A_TIME,
                    jobTemplate: {
                        metadata: { labels: args.labels },
                        spec: this.restoreJobSpec(ctx, args.restore.databaseSecret ?? ctx.databaseUrl, false),
                    },
                },
            },
            { parent: this },
        );
    }

    /** Restores the newest dump into a scratch database on a schedule and checks the rows [001, 003]. */
    private restoreDrill(
        ctx: Context,
        drill: NonNullable<ResolvedBackupJobArgs["restoreDrill"]>,
    ): k8s.batch.v1.CronJob {
        const { args } = ctx;
        return new k8s.batch.v1.CronJob(
            `${ctx.name}-restore-drill`,
            {
                metadata: {
                    name: `${args.restoreName}-drill`,
                    namespace: args.namespace,
                    labels: { ...args.labels, [BACKUP_ROLE_LABEL]: "restore-drill" },
                },
                spec: {
                    schedule: drill.schedule,
                    timeZone: "Etc/UTC",
                    startingDeadlineSeconds: 3600,
                    ...ONE_AT_A_TIME,
                    jobTemplate: {
                        metadata: { labels: args.labels },
                        spec: this.restoreJobSpec(ctx, drill.databaseSecret, true),
                    },
                },
            },
            { parent: this },
        );
    }
}
