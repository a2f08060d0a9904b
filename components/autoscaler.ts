import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SCALE_DOWN_STABILIZATION, DEFAULT_TARGET_CPU } from "../config/defaults";
import type { Problem } from "../lib/checks";
import { throwProblems } from "./workload";

export interface AutoscalerArgs {
    namespace: pulumi.Input<string>;
    /** metadata.name of the HPA. */
    name: string;
    /** Deployment the HPA scales (for blue/green: the live colour's). */
    targetDeployment: pulumi.Input<string>;
    /** At least 1. */
    minReplicas: number;
    /** At least `minReplicas`. */
    maxReplicas: number;
    /**
     * Average CPU utilisation the HPA keeps, percent of requests.
     * @default 70 (MCP RAG Demo runbook, Step 8: "CPU Usage should be < 70%")
     */
    targetCpuUtilization?: number;
    /** Average memory utilisation the HPA keeps, percent of requests; unset: CPU only. */
    targetMemoryUtilization?: number;
    /**
     * Seconds of lower recommendations before the HPA scales down.
     * @default 300
     */
    scaleDownStabilizationSeconds?: number;
    /** @default {} */
    labels?: Record<string, string>;
}

/** Every problem of the args, paths relative to them (what the constructor throws). */
export function autoscalerProblems(a: AutoscalerArgs): Problem[] {
    const out: Problem[] = [];
    if (!(a.minReplicas >= 1))
        out.push({ path: ["minReplicas"], message: `expected at least 1, got ${a.minReplicas}` });
    else if (a.maxReplicas < a.minReplicas)
        out.push({
            path: ["maxReplicas"],
            message: `expected at least minReplicas (${a.minReplicas}), got ${a.maxReplicas}`,
        });
    return out;
}

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
            { parent: this },
        );
        this.registerOutputs({ hpa: this.hpa.metadata.name });
    }
}
