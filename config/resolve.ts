// Applies the defaults (config/defaults.ts) to one service of a schema-checked stack
// config: what the components are given.
import { durationSeconds } from "../components/checks";
import {
    DEFAULT_HEALTH_PATH,
    DEFAULT_SCALE_DOWN_STABILIZATION,
    DEFAULT_TARGET_CPU,
    ENVIRONMENT_DEFAULTS,
    PROBE_DEFAULTS,
    type Environment,
} from "./defaults";
import type { ProbeConfig, ServiceInput } from "./schema";
import type { BlueGreenConfig, ResolvedProbe, ServiceConfig } from "./types";

function resolveProbe(
    kind: "liveness" | "readiness" | "startup",
    given: ProbeConfig | undefined,
    port: number,
    path: string,
): ResolvedProbe {
    const d = PROBE_DEFAULTS[kind];
    const type = given?.type ?? (given?.command ? "exec" : "http");
    return {
        type,
        path: type === "http" ? (given?.path ?? path) : undefined,
        port: type === "exec" ? undefined : (given?.port ?? port),
        command: type === "exec" ? given?.command : undefined,
        initialDelaySeconds: given?.initialDelaySeconds ?? d.initialDelaySeconds,
        periodSeconds: given?.periodSeconds ?? d.periodSeconds,
        failureThreshold: given?.failureThreshold ?? d.failureThreshold,
        timeoutSeconds: given?.timeoutSeconds,
        successThreshold: given?.successThreshold,
    };
}

export function resolveService(name: string, s: ServiceInput, env: Environment): ServiceConfig {
    const d = ENVIRONMENT_DEFAULTS[env];
    const healthPath = s.probes.readiness?.path ?? s.probes.liveness?.path ?? DEFAULT_HEALTH_PATH;
    const blueGreen: BlueGreenConfig | undefined = s.blueGreen && {
        activeColor: s.blueGreen.activeColor,
        images: { blue: s.blueGreen.blue.image, green: s.blueGreen.green.image },
        idleReplicas: s.blueGreen.idleReplicas ?? s.autoscaling.minReplicas ?? d.minReplicas,
        ...(s.blueGreen.scaleDownAfter !== undefined
            ? { scaleDownAfterSeconds: durationSeconds(s.blueGreen.scaleDownAfter) }
            : {}),
        smokeTest: s.blueGreen.smokeTest,
    };
    return {
        name,
        strategy: s.strategy,
        image: blueGreen ? blueGreen.images[blueGreen.activeColor] : (s.image as string),
        port: s.port,
        servicePort: s.servicePort,
        metrics: s.metrics && { port: s.metrics.port ?? s.port, path: s.metrics.path },
        healthEndpoints: s.healthEndpoints ?? [healthPath],
        probes: {
            liveness: resolveProbe("liveness", s.probes.liveness, s.port, healthPath),
            readiness: resolveProbe("readiness", s.probes.readiness, s.port, healthPath),
            startup: s.probes.startup && resolveProbe("startup", s.probes.startup, s.port, healthPath),
        },
        resources: {
            requests: { cpu: s.resources.requests.cpu ?? d.cpu, memory: s.resources.requests.memory ?? d.memory },
            limits: { cpu: s.resources.limits.cpu ?? d.cpu, memory: s.resources.limits.memory ?? d.memory },
        },
        autoscaling: {
            minReplicas: s.autoscaling.minReplicas ?? d.minReplicas,
            maxReplicas: s.autoscaling.maxReplicas ?? d.maxReplicas,
            targetCpuUtilization: s.autoscaling.targetCpuUtilization ?? DEFAULT_TARGET_CPU,
            targetMemoryUtilization: s.autoscaling.targetMemoryUtilization,
            scaleDownStabilizationSeconds:
                s.autoscaling.scaleDownStabilizationSeconds ?? DEFAULT_SCALE_DOWN_STABILIZATION,
        },
        env: s.env,
        rollout: s.rollout,
        progressDeadlineSeconds: s.progressDeadlineSeconds,
        drainSeconds: s.drainSeconds,
        podDisruptionBudget: d.podDisruptionBudget,
        blueGreen,
        canary: s.canary && { ...s.canary, steps: s.canary.steps ?? d.canarySteps },
    };
}
