// Every default that depends on the environment, written once. Sources are the runbooks in
// ../shared/runbooks (file number in brackets); defaults no runbook gives are marked "ours".
import type { ProbeConfig } from "./schema";

export type Environment = "staging" | "production";

export interface EnvironmentDefaults {
    /** HPA bounds [004]. */
    minReplicas: number;
    maxReplicas: number;
    /** Requests = limits per pod [004]; equal values give the Guaranteed QoS class. */
    cpu: string;
    memory: string;
    /** A PodDisruptionBudget keeps this many pods through voluntary disruptions (ours). */
    podDisruptionBudget: { maxUnavailable: number } | undefined;
    /** Canary traffic steps [003, 001]. */
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

/** Target CPU utilisation of the HPA, percent [002: "CPU < 70 % expected"]. */
export const DEFAULT_TARGET_CPU = 70;
/** Scale-down stabilisation, seconds (ours: the Kubernetes default, made explicit). */
export const DEFAULT_SCALE_DOWN_STABILIZATION = 300;
/** The health endpoint every runbook service exposes [004]. */
export const DEFAULT_HEALTH_PATH = "/api/health";

type ResolvedProbeDefaults = Required<Pick<ProbeConfig, "initialDelaySeconds" | "periodSeconds" | "failureThreshold">>;

/** Probe timings [004]; startup probes give slow starts 30 × 10 s (ours). */
export const PROBE_DEFAULTS: Readonly<Record<"liveness" | "readiness" | "startup", ResolvedProbeDefaults>> = {
    liveness: { initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 3 },
    readiness: { initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
    startup: { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 30 },
};
