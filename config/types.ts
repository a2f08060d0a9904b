// The resolved stack configuration: what parseStackConfig returns once the schema has
// passed, every default is applied and the cross-field rules hold. The program maps it onto
// the components' args (program/runbook-stack.ts); scripts read it for the release.
import type { Environment } from "./defaults";
import type { RouterConfig } from "../policies/routers";
import type { ServiceInput, StackConfigInput } from "./schema";

export type { Color } from "../components/labels";
import type { Color } from "../components/labels";
export type Strategy = ServiceInput["strategy"];
export type ProbeType = "http" | "tcp" | "exec" | "grpc";

export interface ResolvedProbe {
    type: ProbeType;
    path?: string;
    port?: number;
    command?: string[];
    initialDelaySeconds: number;
    periodSeconds: number;
    failureThreshold: number;
    timeoutSeconds?: number;
    successThreshold?: number;
}

export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export interface AutoscalingConfig {
    minReplicas: number;
    maxReplicas: number;
    targetCpuUtilization: number;
    targetMemoryUtilization?: number;
    scaleDownStabilizationSeconds: number;
}

export interface BlueGreenConfig {
    activeColor: Color;
    images: Record<Color, string>;
    /** Replicas kept on the colour that is not live (rollback capacity). */
    idleReplicas: number;
    /** The colour live before this update: set by the program from the last deployment, never by config. */
    liveBefore?: Color;
    /** Seconds after a switch before the colour switched away from is scaled to 0; unset: never. */
    scaleDownAfterSeconds?: number;
    smokeTest: { enabled: boolean; image: string; timeoutSeconds: number };
}

export interface CanaryConfig {
    image: string;
    weight: number;
    steps: number[];
    router: RouterConfig;
    stepMinutes: number;
}

/** One service, every default applied: what the components take. */
export interface ServiceConfig {
    name: string;
    strategy: Strategy;
    /** The stable image (for blue/green: the live colour's image). */
    image: string;
    port: number;
    servicePort: number;
    metrics?: { port: number; path: string };
    healthEndpoints: string[];
    probes: { liveness: ResolvedProbe; readiness: ResolvedProbe; startup?: ResolvedProbe };
    resources: Resources;
    autoscaling: AutoscalingConfig;
    env: Record<string, string>;
    rollout: { maxSurge: number | string; maxUnavailable: number | string };
    progressDeadlineSeconds: number;
    drainSeconds: number;
    podDisruptionBudget?: { maxUnavailable: number };
    blueGreen?: BlueGreenConfig;
    canary?: CanaryConfig;
}

export type BackupConfig = StackConfigInput["backup"];
export type AlertsConfig = StackConfigInput["alerts"];
export type ReleaseConfig = StackConfigInput["release"];
export type AnalysisConfig = StackConfigInput["analysis"];

export interface StackConfig {
    environment: Environment;
    partOf: string;
    kubernetes: StackConfigInput["kubernetes"];
    namespace: StackConfigInput["namespace"];
    /** Sorted by name, so resource order does not depend on how the file is written. */
    services: ServiceConfig[];
    backup: BackupConfig;
    alerts: AlertsConfig;
    release: ReleaseConfig;
    analysis: AnalysisConfig;
    /** Where every pod of the stack runs. */
    scheduling: StackConfigInput["scheduling"];
    aws: { enabled: boolean };
    /** Whether `runbook:databaseUrl` is set (its value stays a Pulumi secret, never here). */
    hasDatabaseUrl: boolean;
}

export interface RawConfig {
    /** `runbook:*` keys without the namespace, values decoded from JSON where structured. */
    values: Record<string, unknown>;
    /** Keys given as Pulumi secrets. */
    secretKeys: ReadonlySet<string>;
}
