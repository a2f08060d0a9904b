import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AutoscalingConfig } from "../config/types";

export interface AutoscalerArgs {
    namespace: pulumi.Input<string>;
    /** metadata.name of the HPA. */
    name: string;
    /** Deployment the HPA scales (for blue/green: the live colour). */
    targetDeployment: string;
    autoscaling: AutoscalingConfig;
    labels: Record<string, string>;
}

/** An autoscaling/v2 HPA with the runbook 004 bounds per stack (staging 2–5, production 5–20). */
export class Autoscaler extends pulumi.ComponentResource {
    public readonly hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler;

    constructor(name: string, args: AutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:scale:Autoscaler", name, {}, opts);
        const a = args.autoscaling;
        if (a.minReplicas < 1)
            throw new pulumi.ResourceError(`'minReplicas' must be at least 1, got ${a.minReplicas}`, this);
        if (a.maxReplicas < a.minReplicas)
            throw new pulumi.ResourceError(
                `'maxReplicas' must be at least minReplicas (${a.minReplicas}), got ${a.maxReplicas}`,
                this,
            );
        const metrics: k8s.types.input.autoscaling.v2.MetricSpec[] = [
            {
                type: "Resource",
                resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.targetCpuUtilization } },
            },
        ];
        if (a.targetMemoryUtilization !== undefined)
            metrics.push({
                type: "Resource",
                resource: {
                    name: "memory",
                    target: { type: "Utilization", averageUtilization: a.targetMemoryUtilization },
                },
            });
        this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            `${name}-hpa`,
            {
                metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
                spec: {
                    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: args.targetDeployment },
                    minReplicas: a.minReplicas,
                    maxReplicas: a.maxReplicas,
                    metrics,
                    behavior: { scaleDown: { stabilizationWindowSeconds: a.scaleDownStabilizationSeconds } },
                },
            },
            { parent: this },
        );
        this.registerOutputs({ hpa: this.hpa.metadata.name });
    }
}
