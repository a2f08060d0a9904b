// The one schema of what a stack may set under the `runbook:` namespace of
// Pulumi.<stack>.yaml. Everything else (index.ts, `npm run validate`, the tests and the
// docs/configuration.md) goes through it.
//
// Messages are written as "expected …"; the formatter in ./load.ts adds the config path
// and ", got <value>".
import { z } from "zod";
import { dnsLabel, httpPath } from "../policies/lib/fields";
import { DEFAULT_ROUTER, routerSchema } from "../policies/routers";
import { cronProblem, IMAGE_EXPECTATION, isPinnedImage } from "../components/checks";
import {
    ALERT_DEFAULTS,
    ANALYSIS_DEFAULTS,
    BACKUP_DEFAULTS,
    DEFAULT_CANARY_STEP_MINUTES,
    DEFAULT_CONTAINER_PORT,
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_SERVICE_PORT,
    ROLLING_DEFAULTS,
    SMOKE_TEST_DEFAULTS,
} from "./defaults";

export const CONFIG_NAMESPACE = "runbook";

const int = (min: number, max: number) =>
    z
        .number({ error: `expected an integer ${min}..${max}` })
        .int({ error: `expected an integer ${min}..${max}` })
        .min(min, { error: `expected an integer ${min}..${max}` })
        .max(max, { error: `expected an integer ${min}..${max}` });

const ratio = z
    .number({ error: "expected a number 0..1 (a fraction, 0.01 = 1 %)" })
    .min(0, { error: "expected a number 0..1 (a fraction, 0.01 = 1 %)" })
    .max(1, { error: "expected a number 0..1 (a fraction, 0.01 = 1 %)" });

const positive = z.number({ error: "expected a positive number" }).positive({ error: "expected a positive number" });

const enumOf = <T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: `expected one of ${values.map((v) => `'${v}'`).join(", ")}` });

/** A Kubernetes quantity such as 500m, 2, 512Mi or 2Gi. */
const quantity = z
    .string({ error: "expected a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi" })
    .regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, {
        error: "expected a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi",
    });

const image = z.string({ error: IMAGE_EXPECTATION }).refine((s) => isPinnedImage(s), { error: IMAGE_EXPECTATION });

/** Five-field cron expression (minute hour day-of-month month day-of-week), parsed by cron-parser. */
const cron = z.string({ error: "expected a five-field cron expression such as '0 2 * * *'" }).superRefine((s, ctx) => {
    const problem = cronProblem(s);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: s });
});

const duration = z
    .string({ error: "expected a Prometheus duration such as 30s, 5m or 1h" })
    .regex(/^([0-9]+(ms|s|m|h|d|w|y))+$/, { error: "expected a Prometheus duration such as 30s, 5m or 1h" });

export const probeSchema = z.strictObject({
    type: enumOf(["http", "tcp", "exec", "grpc"] as const).optional(),
    path: httpPath.optional(),
    port: int(1, 65535).optional(),
    command: z
        .array(z.string(), { error: "expected a list of strings" })
        .min(1, { error: "expected at least one argument" })
        .optional(),
    initialDelaySeconds: int(0, 3600).optional(),
    periodSeconds: int(1, 3600).optional(),
    timeoutSeconds: int(1, 3600).optional(),
    failureThreshold: int(1, 100).optional(),
    successThreshold: int(1, 100).optional(),
});
export type ProbeConfig = z.infer<typeof probeSchema>;

const resourcesSchema = z.strictObject({
    cpu: quantity.optional(),
    memory: quantity.optional(),
});

const autoscalingSchema = z.strictObject({
    minReplicas: int(1, 1000).optional(),
    maxReplicas: int(1, 1000).optional(),
    targetCpuUtilization: int(1, 100).optional(),
    targetMemoryUtilization: int(1, 100).optional(),
    scaleDownStabilizationSeconds: int(0, 3600).optional(),
});

const smokeTestSchema = z.strictObject({
    enabled: z.boolean({ error: "expected true or false" }).default(SMOKE_TEST_DEFAULTS.enabled),
    image: image.default(SMOKE_TEST_DEFAULTS.image),
    timeoutSeconds: int(10, 3600).default(SMOKE_TEST_DEFAULTS.timeoutSeconds),
});

const blueGreenSchema = z.strictObject({
    activeColor: enumOf(["blue", "green"] as const),
    blue: z.strictObject({ image }),
    green: z.strictObject({ image }),
    /** Replicas of the colour that is not live; `0` once the rollback period is over. */
    idleReplicas: int(0, 1000).optional(),
    /**
     * How long the colour switched away from keeps `idleReplicas` for a rollback (runbook 001:
     * 24h); the first `pulumi up` or release after that scales it to 0. Unset: kept.
     */
    scaleDownAfter: duration.optional(),
    smokeTest: smokeTestSchema.default(() => ({ ...SMOKE_TEST_DEFAULTS })),
});

const canarySchema = z.strictObject({
    image,
    weight: int(0, 100),
    steps: z.array(int(1, 100), { error: "expected a list of integers 1..100" }).optional(),
    router: routerSchema.default(DEFAULT_ROUTER),
    /** Minutes to watch each step before the next (runbooks 000/001/003: 15–30). */
    stepMinutes: int(1, 1440).default(DEFAULT_CANARY_STEP_MINUTES),
});

const rollingSchema = z.strictObject({
    maxSurge: z
        .union([int(0, 1000), z.string().regex(/^[0-9]+%$/)], {
            error: "expected an integer or a percentage such as '25%'",
        })
        .default(ROLLING_DEFAULTS.maxSurge),
    maxUnavailable: z
        .union([int(0, 1000), z.string().regex(/^[0-9]+%$/)], {
            error: "expected an integer or a percentage such as '25%'",
        })
        .default(ROLLING_DEFAULTS.maxUnavailable),
});

export const STRATEGIES = ["blueGreen", "canary", "rolling"] as const;

export const serviceSchema = z.strictObject({
    /** Stable image (rolling, canary) — blue/green takes its images from `blueGreen`. */
    image: image.optional(),
    strategy: enumOf(STRATEGIES),
    port: int(1, 65535).default(DEFAULT_CONTAINER_PORT),
    servicePort: int(1, 65535).default(DEFAULT_SERVICE_PORT),
    /** Port and path Prometheus scrapes; a ServiceMonitor is created when set. */
    metrics: z.strictObject({ port: int(1, 65535).optional(), path: httpPath.default("/metrics") }).optional(),
    /** Endpoints the smoke test checks through the preview Service (any non-2xx fails). */
    healthEndpoints: z
        .array(httpPath, { error: "expected a list of HTTP paths" })
        .min(1, { error: "expected at least one health endpoint" })
        .optional(),
    probes: z
        .strictObject({
            liveness: probeSchema.optional(),
            readiness: probeSchema.optional(),
            startup: probeSchema.optional(),
        })
        .default({}),
    resources: z
        .strictObject({ requests: resourcesSchema.default({}), limits: resourcesSchema.default({}) })
        .default({ requests: {}, limits: {} }),
    autoscaling: autoscalingSchema.default({}),
    env: z
        .record(
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" }),
            z.string({ error: "expected a string" }),
        )
        .default({}),
    rollout: rollingSchema.default(() => ({ ...ROLLING_DEFAULTS })),
    progressDeadlineSeconds: int(60, 7200).default(DEFAULT_PROGRESS_DEADLINE_SECONDS),
    drainSeconds: int(0, 300).default(DEFAULT_DRAIN_SECONDS),
    blueGreen: blueGreenSchema.optional(),
    canary: canarySchema.optional(),
});
export type ServiceInput = z.infer<typeof serviceSchema>;

const secretRef = z.strictObject({ name: dnsLabel, key: z.string({ error: "expected a Secret key" }).min(1) });

export const backupSchema = z.strictObject({
    enabled: z.boolean({ error: "expected true or false" }).default(true),
    schedule: cron.default(BACKUP_DEFAULTS.schedule),
    /** Days a backup object is kept before the bucket's lifecycle rule expires it. */
    retentionDays: int(1, 3650).default(BACKUP_DEFAULTS.retentionDays),
    preDeploy: z.boolean({ error: "expected true or false" }).default(BACKUP_DEFAULTS.preDeploy),
    /** Runbook 001 waits 600 s for the pre-deploy backup. */
    deadlineSeconds: int(60, 86400).default(BACKUP_DEFAULTS.deadlineSeconds),
    backoffLimit: int(0, 10).default(BACKUP_DEFAULTS.backoffLimit),
    dumpImage: image.default(BACKUP_DEFAULTS.dumpImage),
    uploadImage: image.default(BACKUP_DEFAULTS.uploadImage),
    /** Database URL from an existing Kubernetes Secret; or set the Pulumi secret runbook:databaseUrl. */
    databaseSecret: secretRef.optional(),
    bucket: z
        .strictObject({
            /** Name an existing bucket, or leave out to create one with @pulumi/aws. */
            name: z
                .string()
                .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "expected an S3 bucket name" })
                .optional(),
            prefix: z.string().default(BACKUP_DEFAULTS.bucketPrefix),
            region: z
                .string()
                .regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, { error: "expected an AWS region such as eu-west-1" })
                .default(BACKUP_DEFAULTS.bucketRegion),
            /** An S3-compatible store's endpoint (MinIO, Ceph, versitygw) instead of AWS's own. */
            endpoint: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
            /** A Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: an S3-compatible store's keys (on AWS, prefer `iam`). */
            credentialsSecret: dnsLabel.optional(),
        })
        .default(() => ({ prefix: BACKUP_DEFAULTS.bucketPrefix, region: BACKUP_DEFAULTS.bucketRegion })),
    /** Runbook 001's `kubectl create job --from=cronjob/<partOf>-restore`: what it restores, where. */
    restore: z
        .strictObject({
            /** Database the restore replaces schema `public` of; unset = the backed-up database. */
            databaseSecret: secretRef.optional(),
            /** Object key (under the bucket) of the dump to restore; unset = the newest dump. */
            dumpKey: z.string().min(1).optional(),
            /** Runbook 001 waits 1800 s for the restore. */
            deadlineSeconds: int(60, 86400).default(BACKUP_DEFAULTS.restoreDeadlineSeconds),
        })
        .default(() => ({ deadlineSeconds: BACKUP_DEFAULTS.restoreDeadlineSeconds })),
    /** Restores the newest dump into a scratch database on a schedule and compares row counts [001, 003]. */
    restoreDrill: z
        .strictObject({
            /** The scratch database (never the backed-up one): its schema `public` is replaced each run. */
            databaseSecret: secretRef,
            schedule: cron.default(BACKUP_DEFAULTS.restoreDrillSchedule),
        })
        .optional(),
    /** IAM role the backup ServiceAccount assumes (IRSA); created when `oidcProviderArn` is set. */
    iam: z
        .strictObject({
            roleArn: z.string().startsWith("arn:", { error: "expected an ARN" }).optional(),
            oidcProviderArn: z.string().startsWith("arn:", { error: "expected an ARN" }).optional(),
        })
        .default({}),
});

export const alertsSchema = z.strictObject({
    enabled: z.boolean({ error: "expected true or false" }).default(true),
    runbookBaseUrl: z.url({ error: "expected an absolute URL" }).default(ALERT_DEFAULTS.runbookBaseUrl),
    errorRateCritical: ratio.default(ALERT_DEFAULTS.errorRateCritical),
    errorRateWarning: ratio.default(ALERT_DEFAULTS.errorRateWarning),
    errorRateFor: duration.default(ALERT_DEFAULTS.errorRateFor),
    latencyP95Seconds: positive.default(ALERT_DEFAULTS.latencyP95Seconds),
    latencyP99Seconds: positive.default(ALERT_DEFAULTS.latencyP99Seconds),
    latencyFor: duration.default(ALERT_DEFAULTS.latencyFor),
    restartsMax: int(0, 1000).default(ALERT_DEFAULTS.restartsMax),
    restartsWindow: duration.default(ALERT_DEFAULTS.restartsWindow),
    memoryRatio: ratio.default(ALERT_DEFAULTS.memoryRatio),
    backupMaxAgeHours: int(1, 720).default(ALERT_DEFAULTS.backupMaxAgeHours),
    /** Metric names the services expose (Prometheus client defaults). */
    requestsMetric: z
        .string()
        .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
        .default(ALERT_DEFAULTS.requestsMetric),
    durationMetric: z
        .string()
        .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
        .default(ALERT_DEFAULTS.durationMetric),
    /** Extra labels put on every alert (routing in Alertmanager). */
    labels: z.record(z.string(), z.string()).default({}),
});

export const APPROVAL_ROLES = ["governance-sentinel", "service-owner", "governance-board", "reviewer"] as const;

export const releaseSchema = z.strictObject({
    version: z.string({ error: "expected a release version" }).min(1, { error: "expected a release version" }),
    commit: z
        .string()
        .regex(/^[0-9a-f]{7,40}$/, { error: "expected a git commit hash (7–40 hex digits)" })
        .optional(),
    operator: z.string().min(1, { error: "expected the name of who runs the deploy" }).optional(),
    approvals: z
        .array(z.strictObject({ name: z.string().min(1, { error: "expected a name" }), role: enumOf(APPROVAL_ROLES) }))
        .default([]),
    hotfix: z
        .strictObject({
            postmortem: z.string().min(1, { error: "expected a postmortem reference" }).optional(),
            reason: z.string().optional(),
        })
        .optional(),
    /**
     * Written by `npm run rollback`: who rolled back and why. The program honours it only while
     * the update does nothing but switch back to what was live before (see docs/releases.md, Rollback).
     */
    rollback: z
        .strictObject({
            reason: z
                .string({ error: "expected why the release was rolled back" })
                .min(1, { error: "expected why the release was rolled back" }),
            by: z.string({ error: "expected who rolled back" }).min(1, { error: "expected who rolled back" }),
            at: z.iso.datetime({ offset: true, error: "expected an ISO 8601 instant" }),
        })
        .optional(),
});

/** How `npm run release` watches a step: the Prometheus it asks and how long it waits for data. */
export const analysisSchema = z.strictObject({
    /** Base URL of the Prometheus that scrapes the services (the HTTP API is under /api/v1). */
    prometheusUrl: z
        .url({ protocol: /^https?$/, error: "expected an http(s) URL such as http://prometheus.monitoring:9090" })
        .optional(),
    /** Seconds between two queries while a step is watched. */
    intervalSeconds: int(1, 3600).default(ANALYSIS_DEFAULTS.intervalSeconds),
    /** A query with no data fails the step once the step has run this long (never a pass). */
    noDataGraceSeconds: int(0, 86400).default(ANALYSIS_DEFAULTS.noDataGraceSeconds),
    /** Minutes a blue/green switch is watched before the release is called done. */
    postSwitchMinutes: int(1, 1440).default(ANALYSIS_DEFAULTS.postSwitchMinutes),
    /** Requests the new version (and its baseline) must have had in a trigger's window before its value counts. */
    minRequests: int(1, 1_000_000).default(ANALYSIS_DEFAULTS.minRequests),
    /** Triggers relative to the stable track at the same time (canaries only). */
    baseline: z
        .strictObject({
            /** Canary error rate minus stable's above this (0.02 = 2 points) fails the step. */
            errorRateIncrease: ratio.optional(),
            /** Canary p95 latency above this many times stable's fails the step. */
            latencyRatio: z
                .number({ error: "expected a factor such as 2" })
                .gt(1, { error: "expected a factor above 1" })
                .max(100, { error: "expected a factor of at most 100" })
                .optional(),
        })
        .default({ latencyRatio: ANALYSIS_DEFAULTS.latencyRatio }),
});

/** A label key (optional DNS-subdomain prefix and a name), as Kubernetes validates it. */
const labelKey = z
    .string({ error: "expected a label key such as runbook.local/node" })
    .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
        {
            error: "expected a label key such as runbook.local/node",
        },
    );
const labelValue = z
    .string({ error: "expected a label value (up to 63 of A-Z, a-z, 0-9, '-', '_', '.')" })
    .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, {
        error: "expected a label value (up to 63 of A-Z, a-z, 0-9, '-', '_', '.')",
    });

/** Where every pod of the stack runs: its Deployments', smoke tests' and backups'. */
export const schedulingSchema = z.strictObject({
    /** Labels a node must carry (`spec.nodeSelector`). */
    nodeSelector: z.record(labelKey, labelValue, { error: "expected a map of label key to value" }).default({}),
    /** Taints the pods tolerate (`spec.tolerations`). */
    tolerations: z
        .array(
            z.strictObject({
                key: labelKey.optional(),
                operator: enumOf(["Equal", "Exists"] as const).default("Equal"),
                value: labelValue.optional(),
                effect: enumOf(["NoSchedule", "PreferNoSchedule", "NoExecute"] as const).optional(),
            }),
            { error: "expected a list of tolerations" },
        )
        .default([]),
});

/** The `runbook:*` keys of a stack, before environment defaults are applied. */
export const stackConfigSchema = z.strictObject({
    environment: enumOf(["staging", "production"] as const),
    /** `app.kubernetes.io/part-of` on everything. */
    partOf: dnsLabel.default("shop"),
    kubernetes: z
        .strictObject({
            context: z.string().min(1).optional(),
            kubeconfig: z.string().min(1).optional(),
            renderYamlToDirectory: z.string().min(1).optional(),
        })
        .refine(
            (k) => (k.context !== undefined || k.kubeconfig !== undefined) !== (k.renderYamlToDirectory !== undefined),
            {
                error: "expected either a cluster (context and/or kubeconfig) or renderYamlToDirectory, not both and not neither",
            },
        ),
    namespace: z.strictObject({ name: dnsLabel, create: z.boolean({ error: "expected true or false" }).default(true) }),
    services: z
        .record(dnsLabel, serviceSchema, { error: "expected a map of service name to service settings" })
        .refine((s) => Object.keys(s).length > 0, { error: "expected at least one service" }),
    backup: backupSchema.default(backupSchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    release: releaseSchema,
    analysis: analysisSchema.default(analysisSchema.parse({})),
    scheduling: schedulingSchema.default({ nodeSelector: {}, tolerations: [] }),
    /** Switches every AWS resource off (the embedded default has no AWS provider). */
    aws: z
        .strictObject({ enabled: z.boolean({ error: "expected true or false" }).default(true) })
        .default({ enabled: true }),
    /** Set as a Pulumi secret only: `pulumi config set --secret runbook:databaseUrl …`. */
    databaseUrl: z.string().min(1).optional(),
});
export type StackConfigInput = z.infer<typeof stackConfigSchema>;

/** Keys whose value may only come from a Pulumi secret (`secure:` in the stack file). */
export const SECRET_KEYS = ["databaseUrl"] as const;
