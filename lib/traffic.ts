// Canary traffic maths, free of Pulumi so it is tested directly.

export interface CanaryPlan {
    /** Image the stable Deployment runs: the canary image once promoted at 100. */
    stableImage: string;
    canaryReplicas: number;
    stableReplicas: number;
    /** Percent of requests routed to the canary (0 once promoted or aborted). */
    canaryWeight: number;
    phase: "aborted" | "progressing" | "promoted";
    /** The next step of the plan, when there is one. */
    nextStep?: number;
}

/**
 * What a canary at `weight` looks like. 0 aborts (all traffic and replicas on stable),
 * 100 promotes the canary image to stable. With a router, the canary gets enough pods
 * for its share (at least one); with the replica fallback, pods are the only lever, so
 * the split of `replicas` follows the weight as closely as whole pods allow.
 */
export function canaryPlan(args: {
    stableImage: string;
    canaryImage: string;
    weight: number;
    steps: number[];
    replicas: number;
    routed: boolean;
}): CanaryPlan {
    const { weight, steps, replicas } = args;
    if (weight <= 0) return { stableImage: args.stableImage, canaryReplicas: 0, stableReplicas: replicas, canaryWeight: 0, phase: "aborted", nextStep: steps[0] };
    if (weight >= 100) return { stableImage: args.canaryImage, canaryReplicas: 0, stableReplicas: replicas, canaryWeight: 0, phase: "promoted" };
    const nextStep = steps.find((s) => s > weight);
    if (args.routed) {
        return {
            stableImage: args.stableImage,
            canaryReplicas: Math.max(1, Math.ceil((replicas * weight) / 100)),
            stableReplicas: replicas,
            canaryWeight: weight,
            phase: "progressing",
            nextStep,
        };
    }
    const canaryReplicas = Math.min(replicas - 1, Math.max(1, Math.round((replicas * weight) / 100)));
    return {
        stableImage: args.stableImage,
        canaryReplicas,
        stableReplicas: replicas - canaryReplicas,
        canaryWeight: Math.round((canaryReplicas / replicas) * 100),
        phase: "progressing",
        nextStep,
    };
}
