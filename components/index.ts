// The library's entry point: the components any Pulumi program can use with its own few
// typed fields, their exported checks and defaults, and the probe builders. (The program of
// this repository, program/ and index.ts, builds them from stack files through
// config/component-args.ts; nothing here imports the program.)
export { AlertRules, type AlertRulesArgs } from "./alert-rules";
export { checkPromQL, PromQLError, type AlertRule } from "./promql";
export { Autoscaler } from "./autoscaler";
export {
    autoscalerProblems,
    DEFAULT_SCALE_DOWN_STABILIZATION,
    DEFAULT_TARGET_CPU,
    type AutoscalerArgs,
} from "./autoscaler-args";
export { BackupJob } from "./backup-job";
export {
    BACKUP_DEFAULTS,
    backupJobProblems,
    type BackupBucket,
    type BackupJobArgs,
    type SecretKeyRef,
} from "./backup-job-args";
export { BlueGreenDeployment } from "./blue-green-deployment";
export {
    blueGreenNames,
    blueGreenProblems,
    SMOKE_TEST_DEFAULTS,
    type BlueGreenDeploymentArgs,
} from "./blue-green-args";
export { CanaryRelease } from "./canary-release";
export {
    canaryNames,
    canaryProblems,
    DEFAULT_CANARY_STEPS,
    type CanaryReleaseArgs,
    type CanaryRouter,
} from "./canary-args";
export { RollingDeployment } from "./rolling-deployment";
export { rollingNames, rollingProblems, type RollingDeploymentArgs } from "./rolling-args";
export {
    DEFAULT_CONTAINER_PORT,
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_HEALTH_PATH,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_REPLICAS,
    DEFAULT_SERVICE_PORT,
    DEFAULT_SIZE,
    PROBE_DEFAULTS,
    resolveWorkloadArgs,
    ROLLING_DEFAULTS,
    workloadProblems,
    type ContainerResources,
    type WorkloadArgs,
} from "./workload-args";
export { execProbe, grpcProbe, httpProbe, tcpProbe, type ProbeTimings } from "./probes";
export { schedulingProblems, type PodScheduling } from "./scheduling";
export type { Problem } from "./checks";
export type { Color } from "./labels";
export {
    APP_LABEL,
    CANARY_STEPS_ANNOTATION,
    CANARY_WEIGHT_ANNOTATION,
    COLOR_LABEL,
    ENVIRONMENT_LABEL,
    TRACK_LABEL,
} from "../policies/lib/well-known";
