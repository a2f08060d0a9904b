// Every default of the stack config, written once, each with where it comes from: a
// runbook, cited by its system and section (e.g. "NovaCron runbook, Step 1"), or "ours"
// where no runbook gives a value. The components' own defaults are written next to their
// args (components/*-args.ts) and taken from there; the environments', the alerts' and the
// analysis' are here. The schema (config/schema.ts) and the resolver (config/resolve.ts)
// take their defaults from here; docs/configuration.md lists them.
import { DEFAULT_SCALE_DOWN_STABILIZATION, DEFAULT_TARGET_CPU } from "../components/autoscaler-args";
import { BACKUP_DEFAULTS } from "../components/backup-job-args";
import { SMOKE_TEST_DEFAULTS } from "../components/blue-green-args";
import { DEFAULT_CANARY_STEPS } from "../components/canary-args";
import {
    DEFAULT_CONTAINER_PORT,
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_HEALTH_PATH,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_REPLICAS,
    DEFAULT_SERVICE_PORT,
    DEFAULT_SIZE,
    PROBE_DEFAULTS,
    ROLLING_DEFAULTS,
} from "../components/workload-args";

// The components' own defaults (each next to its args), which the stack config takes too.
export {
    BACKUP_DEFAULTS,
    DEFAULT_CANARY_STEPS,
    DEFAULT_CONTAINER_PORT,
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_HEALTH_PATH,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_REPLICAS,
    DEFAULT_SCALE_DOWN_STABILIZATION,
    DEFAULT_SERVICE_PORT,
    DEFAULT_TARGET_CPU,
    PROBE_DEFAULTS,
    ROLLING_DEFAULTS,
    SMOKE_TEST_DEFAULTS,
};

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
        minReplicas: DEFAULT_REPLICAS,
        maxReplicas: 5,
        cpu: DEFAULT_SIZE.cpu,
        memory: DEFAULT_SIZE.memory,
        podDisruptionBudget: undefined,
        canarySteps: [...DEFAULT_CANARY_STEPS],
    },
    production: {
        minReplicas: 5,
        maxReplicas: 20,
        cpu: "2000m",
        memory: "2Gi",
        podDisruptionBudget: { maxUnavailable: 1 },
        canarySteps: [...DEFAULT_CANARY_STEPS],
    },
};

/** Minutes each canary step is watched (Mahavishnu runbook, Deployment Procedures: Canary Deployment: "Monitor for 30 minutes"). */
export const DEFAULT_CANARY_STEP_MINUTES = 30;

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
