import * as crypto from "node:crypto";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BackupConfig } from "../config/types";
import { DUMP_SCRIPT, FETCH_SCRIPT, RESTORE_SCRIPT, UPLOAD_SCRIPT } from "../lib/backup-script";
import { RERUN_IF_FAILED } from "./workload";
import { RELEASE_ANNOTATIONS } from "../policies/lib/release-record";
import { BACKUP_ROLE_LABEL } from "../policies/lib/well-known";

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
    };
}

export interface BackupJobArgs {
    namespace: pulumi.Input<string>;
    /** metadata.name of the CronJob, and the prefix of its Jobs. */
    name: string;
    /** metadata.name of the (suspended) restore CronJob [001]; its drill is `<restoreName>-drill`. */
    restoreName: string;
    backup: BackupConfig;
    labels: Record<string, string>;
    /** Release the pre-deploy backup belongs to: a new release runs a new Job. */
    release: { version: string; commit?: string };
    /** Database URL as a Pulumi secret, when no Kubernetes Secret is named. */
    databaseUrl?: pulumi.Output<string>;
    /** Provider for AWS resources; when absent the bucket must already exist. */
    awsProvider?: aws.Provider;
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

    constructor(name: string, args: BackupJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:backup:BackupJob", name, {}, opts);
        const b = args.backup;
        if (!b.databaseSecret && !args.databaseUrl)
            throw new pulumi.ResourceError("'backup.databaseSecret' or the secret 'databaseUrl' must be set", this);
        if (!b.bucket.name && !args.awsProvider)
            throw new pulumi.ResourceError(
                "'backup.bucket.name' must name an existing bucket when AWS resources are off",
                this,
            );
        this.schedule = b.schedule;

        let roleArn: pulumi.Input<string> | undefined = b.iam.roleArn;
        if (b.bucket.name) {
            this.bucketName = pulumi.output(b.bucket.name);
        } else {
            const awsOpts = { parent: this, provider: args.awsProvider };
            this.bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: false, tags: args.labels }, awsOpts);
            new aws.s3.BucketVersioning(
                `${name}-versioning`,
                { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } },
                awsOpts,
            );
            new aws.s3.BucketServerSideEncryptionConfiguration(
                `${name}-encryption`,
                {
                    bucket: this.bucket.id,
                    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
                },
                awsOpts,
            );
            new aws.s3.BucketPublicAccessBlock(
                `${name}-public-access`,
                {
                    bucket: this.bucket.id,
                    blockPublicAcls: true,
                    blockPublicPolicy: true,
                    ignorePublicAcls: true,
                    restrictPublicBuckets: true,
                },
                awsOpts,
            );
            new aws.s3.BucketLifecycleConfiguration(
                `${name}-lifecycle`,
                {
                    bucket: this.bucket.id,
                    rules: [
                        {
                            id: "expire-backups",
                            status: "Enabled",
                            filter: { prefix: `${b.bucket.prefix}/` },
                            expiration: { days: b.retentionDays },
                            noncurrentVersionExpiration: { noncurrentDays: b.retentionDays },
                            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                        },
                    ],
                },
                awsOpts,
            );
            this.bucketName = this.bucket.bucket;
        }

        if (b.iam.oidcProviderArn && args.awsProvider) {
            // IRSA: only this namespace's backup ServiceAccount may assume the role.
            const issuer = b.iam.oidcProviderArn.replace(/^arn:[^:]+:iam::[0-9]+:oidc-provider\//, "");
            this.role = new aws.iam.Role(
                `${name}-role`,
                {
                    assumeRolePolicy: pulumi.jsonStringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Federated: b.iam.oidcProviderArn },
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
            new aws.iam.RolePolicy(
                `${name}-s3`,
                {
                    role: this.role.id,
                    policy: pulumi.jsonStringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Action: ["s3:PutObject", "s3:GetObject"],
                                Resource: pulumi.interpolate`arn:aws:s3:::${this.bucketName}/${b.bucket.prefix}/*`,
                            },
                            // The restore finds the newest dump by listing the prefix.
                            {
                                Effect: "Allow",
                                Action: ["s3:ListBucket"],
                                Resource: pulumi.interpolate`arn:aws:s3:::${this.bucketName}`,
                                Condition: { StringLike: { "s3:prefix": [`${b.bucket.prefix}/*`] } },
                            },
                        ],
                    }),
                },
                { parent: this, provider: args.awsProvider },
            );
            roleArn = this.role.arn;
        }

        this.serviceAccount = new k8s.core.v1.ServiceAccount(
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

        let urlRef: { name: pulumi.Input<string>; key: string };
        if (b.databaseSecret) {
            urlRef = b.databaseSecret;
        } else {
            this.databaseSecret = new k8s.core.v1.Secret(
                `${name}-db`,
                {
                    metadata: { name: `${args.name}-db`, namespace: args.namespace, labels: args.labels },
                    type: "Opaque",
                    stringData: { url: pulumi.secret(args.databaseUrl as pulumi.Output<string>) },
                },
                { parent: this },
            );
            urlRef = { name: this.databaseSecret.metadata.name, key: "url" };
        }

        const s3Env: k8s.types.input.core.v1.EnvVar[] = [
            { name: "BUCKET", value: this.bucketName },
            { name: "PREFIX", value: b.bucket.prefix },
            { name: "AWS_REGION", value: b.bucket.region },
            ...(b.bucket.endpoint !== undefined ? [{ name: "S3_ENDPOINT_URL", value: b.bucket.endpoint }] : []),
        ];
        const serviceAccountName = this.serviceAccount.metadata.name;
        const podSpec = twoStepPod(serviceAccountName, "/backup", [
            {
                name: "dump",
                image: b.dumpImage,
                script: DUMP_SCRIPT,
                env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: urlRef.name, key: urlRef.key } } }],
                resources: DATABASE_STEP,
            },
            { name: "upload", image: b.uploadImage, script: UPLOAD_SCRIPT, env: s3Env, resources: S3_STEP },
        ]);
        const jobSpec: k8s.types.input.batch.v1.JobSpec = {
            backoffLimit: b.backoffLimit,
            activeDeadlineSeconds: b.deadlineSeconds,
            template: { metadata: { labels: args.labels }, spec: podSpec },
        };

        this.cronJob = new k8s.batch.v1.CronJob(
            `${name}-cron`,
            {
                metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
                spec: {
                    schedule: b.schedule,
                    timeZone: "Etc/UTC",
                    ...ONE_AT_A_TIME,
                    startingDeadlineSeconds: 3600,
                    jobTemplate: { metadata: { labels: args.labels }, spec: jobSpec },
                },
            },
            { parent: this },
        );

        if (b.preDeploy) {
            const id = crypto
                .createHash("sha256")
                .update(`${args.release.version}|${args.release.commit ?? ""}`)
                .digest("hex")
                .slice(0, 8);
            this.preDeployJob = new k8s.batch.v1.Job(
                `${name}-predeploy`,
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
                    customTimeouts: { create: `${b.deadlineSeconds + 60}s` },
                },
            );
        }

        // Restores: fetch (S3 client's image: newest or named dump, SHA-256 checked) into an
        // emptyDir, then restore (PostgreSQL's image: one transaction).
        const restorePod = (target: { name: pulumi.Input<string>; key: string }, verify: boolean) =>
            twoStepPod(serviceAccountName, "/restore", [
                {
                    name: "fetch",
                    image: b.uploadImage,
                    script: FETCH_SCRIPT,
                    env: [
                        ...s3Env,
                        ...(b.restore.dumpKey !== undefined && !verify
                            ? [{ name: "DUMP_KEY", value: b.restore.dumpKey }]
                            : []),
                    ],
                    resources: S3_STEP,
                },
                {
                    name: "restore",
                    image: b.dumpImage,
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
            ]);
        const restoreJob = (
            target: { name: pulumi.Input<string>; key: string },
            verify: boolean,
        ): k8s.types.input.batch.v1.JobSpec => ({
            // A restore is not retried on its own: each attempt replaces the schema again.
            backoffLimit: 0,
            activeDeadlineSeconds: b.restore.deadlineSeconds,
            template: { metadata: { labels: args.labels }, spec: restorePod(target, verify) },
        });
        this.restoreCronJob = new k8s.batch.v1.CronJob(
            `${name}-restore`,
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
                        spec: restoreJob(b.restore.databaseSecret ?? urlRef, false),
                    },
                },
            },
            { parent: this },
        );
        if (b.restoreDrill) {
            this.restoreDrillCronJob = new k8s.batch.v1.CronJob(
                `${name}-restore-drill`,
                {
                    metadata: {
                        name: `${args.restoreName}-drill`,
                        namespace: args.namespace,
                        labels: { ...args.labels, [BACKUP_ROLE_LABEL]: "restore-drill" },
                    },
                    spec: {
                        schedule: b.restoreDrill.schedule,
                        timeZone: "Etc/UTC",
                        startingDeadlineSeconds: 3600,
                        ...ONE_AT_A_TIME,
                        jobTemplate: {
                            metadata: { labels: args.labels },
                            spec: restoreJob(b.restoreDrill.databaseSecret, true),
                        },
                    },
                },
                { parent: this },
            );
        }

        this.registerOutputs({
            bucketName: this.bucketName,
            schedule: this.schedule,
            cronJob: this.cronJob.metadata.name,
            restoreCronJob: this.restoreCronJob.metadata.name,
        });
    }
}
