// What an Autoscaler takes and the checks it makes on it, with no Pulumi runtime: the config
// parser and the commands run these checks without loading the SDKs.
import type * as pulumi from "@pulumi/pulumi";
import type { Problem } from "./checks";

/** Target CPU utilisation of the HPA, percent (MCP RAG Demo runbook, Step 8: "CPU Usage should be < 70%"). */
export const DEFAULT_TARGET_CPU = 70;
/** Scale-down stabilisation, seconds (ours: the Kubernetes default, made explicit). */
export const DEFAULT_SCALE_DOWN_STABILIZATION = 300;

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
