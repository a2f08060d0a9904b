// Every default of the stack config, written once, each with where it comes from: a
// runbook, cited by its system and section (e.g. "NovaCron runbook, Step 1"), or "ours"
// where no runbook gives a value. The schema (config/schema.ts) and the resolver
// (config/resolve.ts) take their defaults from here; docs/configuration.md
// lists them.
import type { ProbeConfig } from "./schema";

export type Environment = "staging" | "production";

export interface EnvironmentDefaults {
    /** HPA bounds (Mykadoo runbook, Environments: Environment Configuration). */
    minReplicas: number;
    maxReplicas: number;
    /**
     * Requests = limits per pod (Mykadoo runbook, Environments: Environment Configuration);
     * equal values give the Guaranteed QoS class.
     */
    cpu: string;
    memory: string;
    /** A PodDisruptionBudget keeps this many pods through voluntary disruptions (ours). */
    podDisruptionBudget: { maxUnavailable: number } | undefined;
    /**
     * Canary traffic steps, percent (NovaCron runbook, Step 4: Traffic Switch; DOC-0020
     * runbook, Deployment Checklist: Production Deployment).
     */
    canarySteps: number[];
}

export const ENVIRONMENT_DEFAULTS: Readonly<Record<Environment, EnvironmentDefaults>> = {
    staging: {
        minReplicas: 2,
        maxReplicas: 5,
        cpu: "500m",
        memory: "512Mi",
        podDisruptionBudget: undefined,
        canarySteps: [5, 25, 100],
    },
    production: {
        minReplicas: 5,
        maxReplicas: 20,
        cpu: "2000m",
        memory: "2Gi",
        podDisruptionBudget: { maxUnavailable: 1 },
        canarySteps: [5, 25, 100],
    },
};

/** Target CPU utilisation of the HPA, percent (MCP RAG Demo runbook, Step 8: "CPU Usage should be < 70%"). */
export const DEFAULT_TARGET_CPU = 70;
/** Scale-down stabilisation, seconds (ours: the Kubernetes default, made explicit). */
export const DEFAULT_SCALE_DOWN_STABILIZATION = 300;
/** The health endpoint every runbook service exposes (Mykadoo runbook, Health Checks: Endpoints). */
export const DEFAULT_HEALTH_PATH = "/api/health";

type ResolvedProbeDefaults = Required<Pick<ProbeConfig, "initialDelaySeconds" | "periodSeconds" | "failureThreshold">>;

/**
 * Probe timings (Mykadoo runbook, Health Checks: Kubernetes Probes); startup probes give
 * slow starts 30 × 10 s (ours).
 */
export const PROBE_DEFAULTS: Readonly<Record<"liveness" | "readiness" | "startup", ResolvedProbeDefaults>> = {
    liveness: { initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 3 },
    readiness: { initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
    startup: { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 30 },
};

/** The container port the runbooks' services listen on (Mykadoo runbook, Health Checks: Kubernetes Probes). */
export const DEFAULT_CONTAINER_PORT = 3000;
/** Pods of a component's serving Deployment when its args name none: the staging minimum. */
export const DEFAULT_REPLICAS = ENVIRONMENT_DEFAULTS.staging.minReplicas;
/** The Service's port (ours: plain HTTP inside the cluster). */
export const DEFAULT_SERVICE_PORT = 80;
/** Rollout deadline, seconds (NovaCron runbook, Step 2: `kubectl rollout status --timeout=600s`). */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
/** Rolling updates add pods before taking any away (ours: no capacity lost mid-rollout). */
export const ROLLING_DEFAULTS = { maxSurge: "25%", maxUnavailable: 0 } as const;

/** Smoke tests against the idle colour before the switch (NovaCron runbook, Step 3: Green Environment Validation). */
export const SMOKE_TEST_DEFAULTS = {
    enabled: true,
    /** ours: a pinned curl image. */
    image: "curlimages/curl:8.11.1",
    /** ours: the smoke Job's deadline, seconds. */
    timeoutSeconds: 300,
} as const;

/** Canary steps when a component's args name none (the same in every environment). */
export const DEFAULT_CANARY_STEPS: readonly number[] = ENVIRONMENT_DEFAULTS.staging.canarySteps;

/** Minutes each canary step is watched (Mahavishnu runbook, Deployment Procedures: Canary Deployment: "Monitor for 30 minutes"). */
export const DEFAULT_CANARY_STEP_MINUTES = 30;

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

/** Days within which a restore must have been tested (NovaCron runbook, Pre-Deployment Checklist: 5. Backup Verification). */
export const RESTORE_DRILL_MAX_AGE_DAYS = 7;

export const ALERT_DEFAULTS = {
    /** ours: where each alert's runbook_url points. */
    runbookBaseUrl: "https://runbooks.example.com/deploy",
    /** Roll back above 1 % errors (MCP RAG Demo runbook, Rollback Procedures: When to Rollback). */
    errorRateCritical: 0.01,
    /** Normal below 0.5 % (MCP RAG Demo runbook, Appendix: Decision Matrix). */
    errorRateWarning: 0.005,
    /** For 5 minutes (Mahavishnu runbook, Rollback Procedures: Rollback Triggers). */
    errorRateFor: "5m",
    /** p95 < 500 ms (MCP RAG Demo runbook, Step 8: Monitor for 30 Minutes). */
    latencyP95Seconds: 0.5,
    /** p99 > 10 s for 5 minutes (Mahavishnu runbook, Rollback Procedures: Rollback Triggers). */
    latencyP99Seconds: 10,
    latencyFor: "5m",
    /** More than 3 restarts in 5 minutes (MCP RAG Demo runbook, Appendix: Decision Matrix). */
    restartsMax: 3,
    restartsWindow: "5m",
    /** Memory above 90 % (Mahavishnu runbook, Rollback Procedures: Rollback Triggers; MCP RAG Demo runbook, Appendix: Decision Matrix). */
    memoryRatio: 0.9,
    /** A backup taken within the last 24 hours (DOC-0020 runbook, Prerequisites). */
    backupMaxAgeHours: 24,
    /** ours: the Prometheus client libraries' default metric names. */
    requestsMetric: "http_requests_total",
    durationMetric: "http_request_duration_seconds",
} as const;

/** How `npm run release` watches a step (ours). */
export const ANALYSIS_DEFAULTS = {
    intervalSeconds: 30,
    noDataGraceSeconds: 300,
    postSwitchMinutes: 15,
    /** ours: fewer requests than this in a window are no data, never a pass. */
    minRequests: 50,
    /** Response time > 2× baseline (MCP RAG Demo runbook, Appendix: Decision Matrix; NovaCron runbook, When to Rollback). */
    latencyRatio: 2,
} as const;
