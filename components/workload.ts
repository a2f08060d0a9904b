// The Deployment shape shared by every strategy: one place for probes, resources,
// labels and the rollout settings.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { imageProblems, type Problem } from "./checks";
import { recommendedLabels, SERVING_COMPONENT, VERSION_LABEL, versionLabelValue } from "./labels";
import { schedulingFields } from "./scheduling";
import type { ResolvedWorkloadArgs } from "./workload-args";

/** Throws every problem as one ResourceError of `component`, each line naming its field. */
export function throwProblems(problems: Problem[], component: pulumi.Resource): void {
    if (problems.length === 0) return;
    const field = (path: PropertyKey[]) =>
        path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
    throw new pulumi.ResourceError(problems.map((p) => `'${field(p.path)}': ${p.message}`).join("\n"), component);
}

/** The recommended labels of one of the workload's objects. */
export function workloadLabels(w: ResolvedWorkloadArgs, component: string): Record<string, string> {
    return recommendedLabels({ app: w.name, partOf: w.partOf, environment: w.environment, component });
}

/** The labels of a workload's serving Deployment and its pods: with its image's version (once the image is known). */
export function servingLabels(
    w: ResolvedWorkloadArgs,
    image: pulumi.Input<string>,
): Record<string, pulumi.Input<string>> {
    return {
        ...workloadLabels(w, SERVING_COMPONENT),
        [VERSION_LABEL]:
            typeof image === "string" ? versionLabelValue(image) : pulumi.output(image).apply(versionLabelValue),
    };
}

/**
 * An image given as another resource's output, checked once it is known (a plain string was
 * checked with the args): an unpinned one fails the preview or update with the component's
 * ResourceError, as a bad plain string fails its constructor. While the value is unknown (a
 * preview before the other resource exists), the policy pack's deny-unpinned-images checks
 * it again when the update knows it.
 */
export function checkedImage(
    image: pulumi.Input<string>,
    path: PropertyKey[],
    component: pulumi.Resource,
): pulumi.Input<string> {
    return typeof image === "string" ? image : pulumi.output(image).apply(pinnedOrThrow(path, component));
}

/** The check checkedImage applies to a known image: the image, or the component's ResourceError. */
export const pinnedOrThrow =
    (path: PropertyKey[], component: pulumi.Resource) =>
    (image: string): string => {
        throwProblems(imageProblems(path, image), component);
        return image;
    };

export interface DeploymentSpec {
    workload: ResolvedWorkloadArgs;
    /** metadata.name of the Deployment. */
    name: string;
    image: pulumi.Input<string>;
    replicas: number;
    /** Labels on the Deployment and its pods (include the selector). */
    labels: Record<string, pulumi.Input<string>>;
    /** Immutable selector labels. */
    selector: Record<string, string>;
    annotations: Record<string, string>;
}

export function deploymentArgs(a: DeploymentSpec): k8s.apps.v1.DeploymentArgs {
    const w = a.workload;
    const ports: k8s.types.input.core.v1.ContainerPort[] = [{ name: "http", containerPort: w.port }];
    if (w.metricsPort !== undefined && w.metricsPort !== w.port)
        ports.push({ name: "metrics", containerPort: w.metricsPort });
    const drains = w.drainSeconds > 0;
    return {
        metadata: { name: a.name, namespace: w.namespace, labels: a.labels, annotations: a.annotations },
        spec: {
            replicas: a.replicas,
            selector: { matchLabels: a.selector },
            progressDeadlineSeconds: w.progressDeadlineSeconds,
            // No old ReplicaSets: an image the Deployment ran before gets a new one. A reused one
            // keeps the last rollout's "NewReplicaSetAvailable", which the provider's await can
            // take for a finished rollout (docs/releases.md, test/e2e/rollout-await.test.ts).
            revisionHistoryLimit: 0,
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
                            ...(drains ? { lifecycle: { preStop: { sleep: { seconds: w.drainSeconds } } } } : {}),
                        },
                    ],
                    // The drain counts against the grace period: the container keeps Kubernetes' 30 s after it.
                    ...(drains ? { terminationGracePeriodSeconds: 30 + w.drainSeconds } : {}),
                    ...schedulingFields(w.scheduling),
                },
            },
        },
    };
}

/**
 * How long `pulumi up` waits for a Deployment's rollout. The provider reports Kubernetes'
 * ProgressDeadlineExceeded only as a warning and waits its own 10 minutes (pulumi-kubernetes,
 * pkg/await/deployment.go), whatever the deadline says; on a real node a rollout that cannot
 * become ready (a probe on the wrong path) kept an update hanging that long. Here each batch
 * of surged pods may take the progress deadline, and one more for the old pods to go: a
 * rollout Kubernetes gave up on fails the update then, and a long healthy one of many
 * batches is not cut at a flat 10 minutes.
 */
export function rolloutTimeouts(w: ResolvedWorkloadArgs, replicas: number): pulumi.CustomTimeouts {
    const surge = w.rollout.maxSurge;
    const perBatch =
        typeof surge === "number"
            ? surge
            : Math.ceil((replicas * Number.parseFloat(String(surge).replace("%", ""))) / 100);
    const batches = Math.ceil(Math.max(replicas, 1) / Math.max(perBatch, 1)) + 1;
    const t = `${w.progressDeadlineSeconds * batches}s`;
    return { create: t, update: t };
}

/**
 * On the objects the runbooks change by hand (Service selectors, canary weights): Pulumi's
 * server-side apply takes their fields back from whoever patched them, so
 * `pulumi up --refresh` repairs that drift instead of stopping at a field-manager conflict.
 */
export const TAKE_BACK_DRIFT = { "pulumi.com/patchForce": "true" } as const;

/**
 * Resource options of a serving Deployment whose replica count an autoscaler owns: Pulumi
 * leaves `spec.replicas` to it on updates (the provider drops the field from its server-side
 * apply while the HPA's manager holds it).
 */
export const REPLICAS_FROM_AUTOSCALER: pulumi.CustomResourceOptions = { ignoreChanges: ["spec.replicas"] };

/**
 * A Service updated without the provider's await, which sleeps 10 s after the last Endpoints
 * event on every update. On the Services a blue/green switch changes (active, preview) that
 * would be the floor of a rollback: readiness is ensured before the switch instead (the
 * active Service depends on the colour's Deployment being ready and its smoke Job passing,
 * and `npm run rollback` only switches to a colour with ready pods and checks the endpoints
 * afterwards). On a canary track's Service with no pods, there is nothing to await.
 */
export const SKIP_SERVICE_AWAIT = { "pulumi.com/skipAwait": "true" } as const;

/**
 * On the Jobs an update waits for (pre-deploy backup, smoke tests): a Job that failed is
 * deleted and run afresh by the next `pulumi up`, instead of being awaited again as failed.
 */
export const RERUN_IF_FAILED = { "pulumi.com/replaceUnready": "true" } as const;

export function serviceArgs(a: {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    selector: Record<string, pulumi.Input<string>>;
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
