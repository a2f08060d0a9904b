// The library's entry point: the components any Pulumi program can use with its own few
// typed fields, their exported checks, and the probe builders. (The program of this
// repository, index.ts, builds them from stack files through config/component-args.ts.)
export { AlertRules, type AlertRulesArgs } from "./alert-rules";
export { Autoscaler, autoscalerProblems, type AutoscalerArgs } from "./autoscaler";
export {
    BlueGreenDeployment,
    blueGreenNames,
    blueGreenProblems,
    type BlueGreenDeploymentArgs,
} from "./blue-green-deployment";
export {
    CanaryRelease,
    canaryNames,
    canaryProblems,
    type CanaryReleaseArgs,
    type CanaryRouter,
} from "./canary-release";
export { RollingDeployment, rollingNames, rollingProblems, type RollingDeploymentArgs } from "./rolling-deployment";
export { resolveWorkloadArgs, workloadProblems, type ContainerResources, type WorkloadArgs } from "./workload";
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
