// What every strategy's workload takes, its defaults and its checks, with no Pulumi runtime:
// the config parser and the commands run these checks without loading the SDKs.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { quantityValue, type Problem } from "./checks";
import { httpProbe } from "./probes";
import { schedulingProblems, type PodScheduling } from "./scheduling";

// The defaults every strategy's workload takes; the program's stack config takes its own from these.

/** The health endpoint every runbook service exposes (Mykadoo runbook, Health Checks: Endpoints). */
export const DEFAULT_HEALTH_PATH = "/api/health";

/** Probe timings a default probe is given. */
export interface ProbeTimingDefaults {
    initialDelaySeconds: number;
    periodSeconds: number;
    failureThreshold: number;
}

/**
 * Probe timings (Mykadoo runbook, Health Checks: Kubernetes Probes); startup probes give
 * slow starts 30 × 10 s (ours).
 */
export const PROBE_DEFAULTS: Readonly<Record<"liveness" | "readiness" | "startup", ProbeTimingDefaults>> = {
    liveness: { initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 3 },
    readiness: { initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
    startup: { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 30 },
};

/** The container port the runbooks' services listen on (Mykadoo runbook, Health Checks: Kubernetes Probes). */
export const DEFAULT_CONTAINER_PORT = 3000;
/** Pods of a component's serving Deployment when its args name none (Mykadoo runbook, Environments: staging's minimum). */
export const DEFAULT_REPLICAS = 2;
/**
 * Per pod when args name none, requested and limited (Mykadoo runbook, Environments:
 * staging's size); equal values give the Guaranteed QoS class.
 */
export const DEFAULT_SIZE = { cpu: "500m", memory: "512Mi" } as const;
/** The Service's port (ours: plain HTTP inside the cluster). */
export const DEFAULT_SERVICE_PORT = 80;
/** Rollout deadline, seconds (NovaCron runbook, Step 2: `kubectl rollout status --timeout=600s`). */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
/**
 * Seconds a stopping pod keeps serving before its container is told to stop (ours). A pod
 * leaves its Services' endpoints and the Gateway's backends as it starts to stop, but they
 * learn of it a moment later; a container that stops at once fails what they still send
 * it (measured: 1.5 % of requests through the Gateway during a canary's promotion, none with it).
 */
export const DEFAULT_DRAIN_SECONDS = 5;
/** Rolling updates add pods before taking any away (ours: no capacity lost mid-rollout). */
export const ROLLING_DEFAULTS = { maxSurge: "25%", maxUnavailable: 0 } as const;

type Probe = k8s.types.input.core.v1.Probe;

export interface ContainerResources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** What every deployment strategy component takes (blue/green, canary, rolling). */
export interface WorkloadArgs {
    /** The app's name (a DNS-1035 label): its Deployments, Services and container are named after it. */
    name: string;
    namespace: pulumi.Input<string>;
    /** The `runbook.dev/environment` label, by which the policy pack picks its rules (e.g. "production"). */
    environment: string;
    /**
     * `app.kubernetes.io/part-of`.
     * @default the app's name
     */
    partOf?: string;
    /**
     * Pods of the Deployment that serves traffic (an HPA may change it later).
     * @default 2
     */
    replicas?: number;
    /**
     * An autoscaler (an HPA) owns the serving Deployment's replica count: `replicas` sizes it
     * when it is created (or, blue/green, when its colour goes live), and later updates leave
     * the count where the autoscaler put it instead of resetting it (or, under server-side
     * apply, failing on the HPA's field-manager conflict).
     * @default false
     */
    autoscaled?: boolean;
    /**
     * The container's port (named `http`; the Services target it).
     * @default 3000
     */
    port?: number;
    /**
     * The Services' port.
     * @default 80
     */
    servicePort?: number;
    /** A second container port, named `metrics`, when Prometheus scrapes another port than `port`. */
    metricsPort?: number;
    /**
     * Kubernetes probes; build them with `httpProbe`, `tcpProbe`, `execProbe` or `grpcProbe`.
     * @default liveness and readiness: HTTP GET /api/health on `port` with the Mykadoo runbook's timings
     */
    probes?: { liveness?: Probe; readiness?: Probe; startup?: Probe };
    /**
     * Per pod; requests equal to limits give the Guaranteed QoS class.
     * @default 500m CPU and 512Mi memory, requested and limited (the Mykadoo runbook's staging size)
     */
    resources?: ContainerResources;
    /**
     * Environment variables of the container.
     * @default {}
     */
    env?: Record<string, string>;
    /**
     * The Deployment's rolling update.
     * @default { maxSurge: "25%", maxUnavailable: 0 }
     */
    rollout?: { maxSurge?: number | string; maxUnavailable?: number | string };
    /**
     * Seconds before a rollout that makes no progress is reported failed.
     * @default 600
     */
    progressDeadlineSeconds?: number;
    /**
     * Seconds a stopping pod keeps serving before its container gets SIGTERM (a preStop
     * sleep, Kubernetes >= 1.30), so that Services and Gateways stop sending to it first. The
     * container keeps its 30 s to shut down after it. 0: no delay.
     * @default 5
     */
    drainSeconds?: number;
    /**
     * Annotations stamped on the Deployments (release records), never on their pod templates.
     * @default {}
     */
    annotations?: Record<string, string>;
    /** What must finish before the rollout (a pre-deploy backup Job). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
    /**
     * Where the pods run (the serving Deployments' and the smoke-test Jobs').
     * @default {} (wherever the scheduler puts them)
     */
    scheduling?: PodScheduling;
}

type Resolved<T> = Required<Omit<T, "metricsPort" | "dependsOn">> & Pick<WorkloadArgs, "metricsPort" | "dependsOn">;
export type ResolvedWorkloadArgs = Resolved<WorkloadArgs> & {
    probes: { liveness: Probe; readiness: Probe; startup?: Probe };
    rollout: { maxSurge: number | string; maxUnavailable: number | string };
};

/** `args` with every documented default applied. */
export function resolveWorkloadArgs(a: WorkloadArgs): ResolvedWorkloadArgs {
    const port = a.port ?? DEFAULT_CONTAINER_PORT;
    const size = DEFAULT_SIZE;
    const healthProbe = (kind: "liveness" | "readiness") =>
        httpProbe(DEFAULT_HEALTH_PATH, { port, ...PROBE_DEFAULTS[kind] });
    return {
        name: a.name,
        namespace: a.namespace,
        environment: a.environment,
        partOf: a.partOf ?? a.name,
        replicas: a.replicas ?? DEFAULT_REPLICAS,
        autoscaled: a.autoscaled ?? false,
        port,
        servicePort: a.servicePort ?? DEFAULT_SERVICE_PORT,
        metricsPort: a.metricsPort,
        probes: {
            liveness: a.probes?.liveness ?? healthProbe("liveness"),
            readiness: a.probes?.readiness ?? healthProbe("readiness"),
            ...(a.probes?.startup ? { startup: a.probes.startup } : {}),
        },
        resources: a.resources ?? {
            requests: { cpu: size.cpu, memory: size.memory },
            limits: { cpu: size.cpu, memory: size.memory },
        },
        env: a.env ?? {},
        rollout: {
            maxSurge: a.rollout?.maxSurge ?? ROLLING_DEFAULTS.maxSurge,
            maxUnavailable: a.rollout?.maxUnavailable ?? ROLLING_DEFAULTS.maxUnavailable,
        },
        progressDeadlineSeconds: a.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
        drainSeconds: a.drainSeconds ?? DEFAULT_DRAIN_SECONDS,
        annotations: a.annotations ?? {},
        dependsOn: a.dependsOn,
        scheduling: a.scheduling ?? {},
    };
}

/**
 * The checks every strategy makes on its workload: a name its objects can carry (the
 * longest of `derivedNames` within 63), requests within limits, and the probe fields the
 * API server would refuse. Paths are relative to the args.
 */
export function workloadProblems(a: WorkloadArgs, derivedNames: string[]): Problem[] {
    const out: Problem[] = [];
    if (!/^[a-z]/.test(a.name))
        out.push({
            path: ["name"],
            message: `expected a service name starting with a letter (its Services need DNS-1035 names), got ${JSON.stringify(a.name)}`,
        });
    const longest = [...derivedNames].sort((x, y) => y.length - x.length)[0] ?? a.name;
    if (longest.length > 63)
        out.push({
            path: ["name"],
            message:
                `expected a name of at most ${63 - (longest.length - a.name.length)} characters (the ` +
                `longest name derived from it, '${longest}', must fit 63), got ${a.name.length}`,
        });
    for (const r of ["cpu", "memory"] as const) {
        const req = a.resources && quantityValue(a.resources.requests[r]);
        const lim = a.resources && quantityValue(a.resources.limits[r]);
        if (req !== undefined && lim !== undefined && req > lim)
            out.push({
                path: ["resources", "requests", r],
                message: `expected at most the limit (${a.resources?.limits[r]}), got ${a.resources?.requests[r]}`,
            });
    }
    for (const kind of ["liveness", "startup"] as const) {
        const threshold = a.probes?.[kind]?.successThreshold;
        if (typeof threshold === "number" && threshold !== 1)
            out.push({
                path: ["probes", kind, "successThreshold"],
                message: `expected 1 (the API server allows no other value for a ${kind} probe), got ${threshold}`,
            });
    }
    out.push(...schedulingProblems(a.scheduling, ["scheduling"]));
    return out;
}
