import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    autoscalerProblems,
    DEFAULT_SCALE_DOWN_STABILIZATION,
    DEFAULT_TARGET_CPU,
    type AutoscalerArgs,
} from "./autoscaler-args";
import { throwProblems } from "./workload";

/** An autoscaling/v2 HPA; the Mykadoo runbook's bounds per environment come from the stack config (staging 2–5, production 5–20). */
export class Autoscaler extends pulumi.ComponentResource {
    public readonly hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler;

    constructor(name: string, args: AutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:scale:Autoscaler", name, {}, opts);
        throwProblems(autoscalerProblems(args), this);
        const metrics: k8s.types.input.autoscaling.v2.MetricSpec[] = [
            {
                type: "Resource",
                resource: {
                    name: "cpu",
                    target: {
                        type: "Utilization",
                        averageUtilization: args.targetCpuUtilization ?? DEFAULT_TARGET_CPU,
                    },
                },
            },
        ];
        if (args.targetMemoryUtilization !== undefined)
            metrics.push({
                type: "Resource",
                resource: {
                    name: "memory",
                    target: { type: "Utilization", averageUtilization: args.targetMemoryUtilization },
                },
            });
        this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            `${name}-hpa`,
            {
                metadata: { name: args.name, namespace: args.namespace, labels: args.labels ?? {} },
                spec: {
                    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: args.targetDeployment },
                    minReplicas: args.minReplicas,
                    maxReplicas: args.maxReplicas,
                    metrics,
                    behavior: {
                        scaleDown: {
                            stabilizationWindowSeconds:
                                args.scaleDownStabilizationSeconds ?? DEFAULT_SCALE_DOWN_STABILIZATION,
                        },
                    },
                },
            },
            // What the component waits for (a blue/green switch), the HPA waits for too.
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.registerOutputs({ hpa: this.hpa.metadata.name });
    }
}
