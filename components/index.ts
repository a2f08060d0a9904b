// The library's entry point: the components any Pulumi program can use with its own few
// typed fields, their exported checks, and the probe builders. (The program of this
// repository, index.ts, builds them from stack files through config/component-args.ts.)
export { AlertRules, type AlertRulesArgs } from "./alert-rules";
export { Autoscaler } from "./autoscaler";
export { autoscalerProblems, type AutoscalerArgs } from "./autoscaler-args";
export { BlueGreenDeployment } from "./blue-green-deployment";
export { blueGreenNames, blueGreenProblems, type BlueGreenDeploymentArgs } from "./blue-green-args";
export { CanaryRelease } from "./canary-release";
export { canaryNames, canaryProblems, type CanaryReleaseArgs, type CanaryRouter } from "./canary-args";
export { RollingDeployment } from "./rolling-deployment";
export { rollingNames, rollingProblems, type RollingDeploymentArgs } from "./rolling-args";
export { resolveWorkloadArgs, workloadProblems, type ContainerResources, type WorkloadArgs } from "./workload-args";
export { execProbe, grpcProbe, httpProbe, tcpProbe, type ProbeTimings } from "../lib/probes";
export type { Problem } from "../lib/checks";
export type { Color } from "../config/types";
export {
    APP_LABEL,
    CANARY_STEPS_ANNOTATION,
    CANARY_WEIGHT_ANNOTATION,
    COLOR_LABEL,
    ENVIRONMENT_LABEL,
    TRACK_LABEL,
} from "../policies/lib/well-known";
