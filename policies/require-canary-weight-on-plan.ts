import type { StackValidationPolicy } from "@pulumi/policy";
import { CANARY_WEIGHT_ANNOTATION, WEIGHT_TOLERANCE } from "../lib/traffic";
import { describe, metadata, T } from "./resources";

export interface CanaryPlanConfig {
    steps: number[];
}

export const requireCanaryWeightOnPlan: StackValidationPolicy = {
    name: "require-canary-weight-on-plan",
    description:
        "Canary traffic weights are within 0..100 and on the step plan (default 5, 25, 100), so nobody jumps a canary to a weight no one reviewed.",
    configSchema: {
        properties: {
            steps: { type: "array", items: { type: "integer", minimum: 1, maximum: 100 }, default: [5, 25, 100] },
        },
    },
    validateStack: (args, reportViolation) => {
        const steps = args.getConfig<Partial<CanaryPlanConfig>>().steps ?? [5, 25, 100];
        const allowed = [0, ...steps, 100];
        // `tolerance`: how far a replica split may miss its step (whole pods); routers are exact.
        const check = (what: string, weight: unknown, urn: string, tolerance = 0) => {
            if (typeof weight !== "number" || Number.isNaN(weight) || weight < 0 || weight > 100)
                reportViolation(
                    `${what}: canary weight ${JSON.stringify(weight)} is not a number 0..100; set services.<name>.canary.weight.`,
                    urn,
                );
            else if (!allowed.some((step) => Math.abs(step - weight) <= tolerance))
                reportViolation(
                    `${what}: canary weight ${weight} is not on the plan [${steps.join(", ")}] (0 aborts, 100 promotes); step to the next planned weight.`,
                    urn,
                );
        };
        for (const r of args.resources) {
            const what = describe(r.type, r.props, r.name);
            if (r.type === T.httpRoute) {
                for (const rule of r.props?.spec?.rules ?? []) {
                    const refs: Array<{ name?: string; weight?: number }> = rule.backendRefs ?? [];
                    const total = refs.reduce((a, b) => a + (b.weight ?? 1), 0);
                    if (refs.length > 1 && total !== 100)
                        reportViolation(`${what}: backend weights add up to ${total}, not 100.`, r.urn);
                    const canary = refs.find((b) => b.name?.endsWith("-canary"));
                    if (canary) check(what, canary.weight ?? 1, r.urn);
                }
            } else if (
                r.type === T.ingress &&
                metadata(r.props).annotations["nginx.ingress.kubernetes.io/canary"] === "true"
            ) {
                const w = metadata(r.props).annotations["nginx.ingress.kubernetes.io/canary-weight"];
                check(what, w === undefined ? undefined : Number(w), r.urn);
            } else if (
                r.type === T.deployment &&
                metadata(r.props).annotations[CANARY_WEIGHT_ANNOTATION] !== undefined
            ) {
                check(what, Number(metadata(r.props).annotations[CANARY_WEIGHT_ANNOTATION]), r.urn, WEIGHT_TOLERANCE);
            }
        }
    },
};
