// Canary traffic maths, free of Pulumi so it is tested directly. One function says what
// share of traffic a canary really gets; the component, the stack outputs and the PR summary
// take the weight from it, and the component writes it where the policy pack reads it.

import { routerOf, type RouterConfig } from "../policies/routers";
import { replicaSplit } from "../policies/routers/replicas";

export interface CanaryPlan<Image = string> {
    /** Image the stable Deployment runs: the canary image once promoted at 100. */
    stableImage: Image;
    canaryReplicas: number;
    stableReplicas: number;
    /** Percent of requests routed to the canary (0 once promoted or aborted). */
    canaryWeight: number;
    phase: "aborted" | "progressing" | "promoted";
    /** The next step of the plan, when there is one. */
    nextStep?: number;
}

/**
 * The share of requests (percent, one decimal) the canary gets when `weight` is asked:
 * exact with a router, whole pods of `replicas` with the replica router. 0 and 100 are
 * themselves (abort, promote).
 */
export function effectiveWeight(weight: number, replicas: number, routed: boolean): number {
    if (routed || weight <= 0 || weight >= 100) return weight;
    return Math.round(replicaSplit(weight, replicas).percent * 10) / 10;
}

/**
 * What a canary at `weight` looks like. 0 aborts (all traffic and replicas on stable),
 * 100 promotes the canary image to stable. With a router, the canary gets enough pods
 * for its share (at least one); with the replica fallback, pods are the only lever, so
 * the split of `replicas` follows the weight as closely as whole pods allow (the config
 * check rejects weights it cannot honour within WEIGHT_TOLERANCE).
 */
export function canaryPlan<Image>(args: {
    stableImage: Image;
    canaryImage: Image;
    weight: number;
    steps: readonly number[];
    replicas: number;
    routed: boolean;
}): CanaryPlan<Image> {
    const { weight, steps, replicas } = args;
    if (weight <= 0)
        return {
            stableImage: args.stableImage,
            canaryReplicas: 0,
            stableReplicas: replicas,
            canaryWeight: 0,
            phase: "aborted",
            nextStep: steps[0],
        };
    if (weight >= 100)
        return {
            stableImage: args.canaryImage,
            canaryReplicas: 0,
            stableReplicas: replicas,
            canaryWeight: 0,
            phase: "promoted",
        };
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
    const split = replicaSplit(weight, replicas);
    return {
        stableImage: args.stableImage,
        canaryReplicas: split.canary,
        stableReplicas: split.stable,
        canaryWeight: effectiveWeight(weight, replicas, false),
        phase: "progressing",
        nextStep,
    };
}

/** The plan of a resolved canary service: what the component deploys and every report shows. */
export function canaryPlanOf(s: {
    image: string;
    autoscaling: { minReplicas: number };
    canary?: { image: string; weight: number; steps: number[]; router: RouterConfig };
}): CanaryPlan {
    const c = s.canary;
    if (!c) throw new Error("canaryPlanOf: the service has no canary settings");
    return canaryPlan({
        stableImage: s.image,
        canaryImage: c.image,
        weight: c.weight,
        steps: c.steps,
        replicas: s.autoscaling.minReplicas,
        routed: routerOf(c.router).weighted,
    });
}
