// The Deployment shape shared by every strategy: one place for probes, resources,
// labels and the rollout settings.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    DEFAULT_CONTAINER_PORT,
    DEFAULT_HEALTH_PATH,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_REPLICAS,
    DEFAULT_SERVICE_PORT,
    ENVIRONMENT_DEFAULTS,
    PROBE_DEFAULTS,
    ROLLING_DEFAULTS,
} from "../config/defaults";
import { quantityValue, type Problem } from "../lib/checks";
import { imageVersion, recommendedLabels } from "../lib/labels";
import { httpProbe } from "../lib/probes";

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
     * Annotations stamped on the Deployments (release records), never on their pod templates.
     * @default {}
     */
    annotations?: Record<string, string>;
    /** What must finish before the rollout (a pre-deploy backup Job). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

type Resolved<T> = Required<Omit<T, "metricsPort" | "dependsOn">> & Pick<WorkloadArgs, "metricsPort" | "dependsOn">;
export type ResolvedWorkloadArgs = Resolved<WorkloadArgs> & {
    probes: { liveness: Probe; readiness: Probe; startup?: Probe };
    rollout: { maxSurge: number | string; maxUnavailable: number | string };
};

/** `args` with every documented default applied. */
export function resolveWorkloadArgs(a: WorkloadArgs): ResolvedWorkloadArgs {
    const port = a.port ?? DEFAULT_CONTAINER_PORT;
    const size = ENVIRONMENT_DEFAULTS.staging;
    const healthProbe = (kind: "liveness" | "readiness") =>
        httpProbe(DEFAULT_HEALTH_PATH, { port, ...PROBE_DEFAULTS[kind] });
    return {
        name: a.name,
        namespace: a.namespace,
        environment: a.environment,
        partOf: a.partOf ?? a.name,
        replicas: a.replicas ?? DEFAULT_REPLICAS,
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
        annotations: a.annotations ?? {},
        dependsOn: a.dependsOn,
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
            message: `expected a name of at most ${63 - (longest.length - a.name.length)} characters (the longest name derived from it, '${longest}', must fit 63), got ${a.name.length}`,
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
    return out;
}

/** Throws every problem as one ResourceError of `component`, each line naming its field. */
export function throwProblems(problems: Problem[], component: pulumi.Resource): void {
    if (problems.length === 0) return;
    const field = (path: PropertyKey[]) =>
        path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
    throw new pulumi.ResourceError(problems.map((p) => `'${field(p.path)}': ${p.message}`).join("\n"), component);
}

/** The recommended labels of one of the workload's objects; with `image`, its version too. */
export function workloadLabels(w: ResolvedWorkloadArgs, component: string, image?: string): Record<string, string> {
    return recommendedLabels({
        app: w.name,
        partOf: w.partOf,
        environment: w.environment,
        component,
        version: image === undefined ? undefined : imageVersion(image),
    });
}

export interface DeploymentSpec {
    workload: ResolvedWorkloadArgs;
    /** metadata.name of the Deployment. */
    name: string;
    image: string;
    replicas: number;
    /** Labels on the Deployment and its pods (include the selector). */
    labels: Record<string, string>;
    /** Immutable selector labels. */
    selector: Record<string, string>;
    annotations: Record<string, string>;
}

export function deploymentArgs(a: DeploymentSpec): k8s.apps.v1.DeploymentArgs {
    const w = a.workload;
    const ports: k8s.types.input.core.v1.ContainerPort[] = [{ name: "http", containerPort: w.port }];
    if (w.metricsPort !== undefined && w.metricsPort !== w.port)
        ports.push({ name: "metrics", containerPort: w.metricsPort });
    return {
        metadata: { name: a.name, namespace: w.namespace, labels: a.labels, annotations: a.annotations },
        spec: {
            replicas: a.replicas,
            selector: { matchLabels: a.selector },
            progressDeadlineSeconds: w.progressDeadlineSeconds,
            strategy: {
                type: "RollingUpdate",
                rollingUpdate: { maxSurge: w.rollout.maxSurge, maxUnavailable: w.rollout.maxUnavailable },
            },
            template: {
                // Release annotations stay off the pod template: a new approval must not restart pods.
                metadata: { labels: a.labels },
                spec: {
                    containers: [
                        {
                            name: w.name,
                            image: a.image,
                            ports,
                            env: Object.entries(w.env).map(([name, value]) => ({ name, value })),
                            resources: { requests: w.resources.requests, limits: w.resources.limits },
                            livenessProbe: w.probes.liveness,
                            readinessProbe: w.probes.readiness,
                            ...(w.probes.startup ? { startupProbe: w.probes.startup } : {}),
                        },
                    ],
                },
            },
        },
    };
}

/**
 * On the objects the runbooks change by hand (Service selectors, canary weights): Pulumi's
 * server-side apply takes their fields back from whoever patched them, so
 * `pulumi up --refresh` repairs that drift instead of stopping at a field-manager conflict.
 */
export const TAKE_BACK_DRIFT = { "pulumi.com/patchForce": "true" } as const;

/**
 * On the Services a blue/green switch changes (active, preview): the provider's Service await
 * sleeps 10 s after the last Endpoints event on every update, which would be the floor of a
 * rollback. Readiness is ensured before the switch instead: the active Service depends on
 * the colour's Deployment being ready and its smoke Job passing, and `npm run rollback` only
 * switches to a colour with ready pods and checks the endpoints afterwards.
 */
export const SWITCH_WITHOUT_SETTLE = { "pulumi.com/skipAwait": "true" } as const;

/**
 * On the Jobs an update waits for (pre-deploy backup, smoke tests): a Job that failed is
 * deleted and run afresh by the next `pulumi up`, instead of being awaited again as failed.
 */
export const RERUN_IF_FAILED = { "pulumi.com/replaceUnready": "true" } as const;

export function serviceArgs(a: {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    selector: Record<string, string>;
    servicePort: number;
    annotations?: Record<string, string>;
}): k8s.core.v1.ServiceArgs {
    return {
        metadata: {
            name: a.name,
            namespace: a.namespace,
            labels: a.labels,
            annotations: { ...a.annotations, ...TAKE_BACK_DRIFT },
        },
        spec: {
            type: "ClusterIP",
            selector: a.selector,
            ports: [{ name: "http", port: a.servicePort, targetPort: "http", protocol: "TCP" }],
        },
    };
}
