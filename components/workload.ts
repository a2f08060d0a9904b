// The Deployment shape shared by every strategy: one place for probes, resources,
// labels and the rollout settings.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ServiceConfig } from "../config/types";
import { toProbe } from "../lib/probes";

/** What every deployment strategy component takes (blue/green, canary, rolling). */
export interface StrategyArgs {
    service: ServiceConfig;
    namespace: pulumi.Input<string>;
    environment: string;
    partOf: string;
    /** Release annotations stamped on the Deployments. */
    annotations: Record<string, string>;
    /** What must finish before the rollout (the pre-deploy backup Job). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface WorkloadArgs {
    service: ServiceConfig;
    namespace: pulumi.Input<string>;
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

export function deploymentArgs(a: WorkloadArgs): k8s.apps.v1.DeploymentArgs {
    const s = a.service;
    const ports: k8s.types.input.core.v1.ContainerPort[] = [{ name: "http", containerPort: s.port }];
    if (s.metrics && s.metrics.port !== s.port) ports.push({ name: "metrics", containerPort: s.metrics.port });
    return {
        metadata: { name: a.name, namespace: a.namespace, labels: a.labels, annotations: a.annotations },
        spec: {
            replicas: a.replicas,
            selector: { matchLabels: a.selector },
            progressDeadlineSeconds: s.progressDeadlineSeconds,
            strategy: {
                type: "RollingUpdate",
                rollingUpdate: { maxSurge: s.rollout.maxSurge, maxUnavailable: s.rollout.maxUnavailable },
            },
            template: {
                // Release annotations stay off the pod template: a new approval must not restart pods.
                metadata: { labels: a.labels },
                spec: {
                    containers: [
                        {
                            name: s.name,
                            image: a.image,
                            ports,
                            env: Object.entries(s.env).map(([name, value]) => ({ name, value })),
                            resources: { requests: s.resources.requests, limits: s.resources.limits },
                            livenessProbe: toProbe(s.probes.liveness),
                            readinessProbe: toProbe(s.probes.readiness),
                            ...(s.probes.startup ? { startupProbe: toProbe(s.probes.startup) } : {}),
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
    service: ServiceConfig;
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
            ports: [{ name: "http", port: a.service.servicePort, targetPort: "http", protocol: "TCP" }],
        },
    };
}
