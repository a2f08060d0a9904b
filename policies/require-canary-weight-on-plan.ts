import type { StackValidationPolicy } from "@pulumi/policy";
import { CANARY_STEPS_ANNOTATION } from "./lib/well-known";
import { describe, metadata } from "./resources";
import { ROUTERS } from "./routers";

export interface CanaryPlanConfig {
    steps: number[];
}

/** The plan when an object declares none: 5 → 25 → 100 (NovaCron runbook, gradual switch; DOC-0020, canary). */
export const DEFAULT_STEPS = [5, 25, 100];

/**
 * The steps an object declares in its canary-steps annotation (a JSON array of 1..100),
 * or a problem with it; undefined when it declares none.
 */
export function declaredSteps(annotations: Record<string, string>): number[] | string | undefined {
    const raw = annotations[CANARY_STEPS_ANNOTATION];
    if (raw === undefined) return undefined;
    let steps: unknown;
    try {
        steps = JSON.parse(raw);
    } catch {
        steps = undefined;
    }
    const ok =
        Array.isArray(steps) &&
        steps.length > 0 &&
        steps.every((s, i) => Number.isInteger(s) && s >= 1 && s <= 100 && (i === 0 || s > steps[i - 1]));
    return ok
        ? (steps as number[])
        : `annotation ${CANARY_STEPS_ANNOTATION} is ${JSON.stringify(raw)}, not a rising JSON array of whole percentages 1..100`;
}

export const requireCanaryWeightOnPlan: StackValidationPolicy = {
    name: "require-canary-weight-on-plan",
    description:
        "Canary traffic weights are within 0..100 and on the object's reviewed step plan (its " +
        "runbook.dev/canary-steps annotation; else the config's steps, default 5, 25, 100), " +
        "so nobody jumps a canary to a weight no one reviewed.",
    configSchema: {
        properties: {
            steps: { type: "array", items: { type: "integer", minimum: 1, maximum: 100 }, default: DEFAULT_STEPS },
        },
    },
    validateStack: (args, reportViolation) => {
        const fallback = args.getConfig<Partial<CanaryPlanConfig>>().steps ?? DEFAULT_STEPS;
        // `tolerance`: how far a replica split may miss its step (whole pods); routers are exact.
        const check = (
            what: string,
            annotations: Record<string, string>,
            weight: unknown,
            urn: string,
            tolerance = 0,
        ) => {
            const declared = declaredSteps(annotations);
            if (typeof declared === "string") return reportViolation(`${what}: ${declared}.`, urn);
            const steps = declared ?? fallback;
            const allowed = [0, ...steps, 100];
            if (typeof weight !== "number" || Number.isNaN(weight) || weight < 0 || weight > 100)
                reportViolation(
                    `${what}: canary weight ${JSON.stringify(weight)} is not a number 0..100; set services.<name>.canary.weight.`,
                    urn,
                );
            else if (!allowed.some((step) => Math.abs(step - weight) <= tolerance))
                reportViolation(
                    `${what}: canary weight ${weight} is not on the plan [${steps.join(", ")}] (0 aborts, 100 ` +
                        `promotes); step to the next planned weight.`,
                    urn,
                );
        };
        // Each router says which planned objects carry a weight (policies/routers).
        for (const router of ROUTERS)
            for (const p of router.plannedWeights(args.resources)) {
                const what = describe(p.resource.type, p.resource.props, p.resource.name);
                for (const problem of p.problems) reportViolation(`${what}: ${problem}.`, p.resource.urn);
                if (p.carriesWeight)
                    check(what, metadata(p.resource.props).annotations, p.weight, p.resource.urn, p.tolerance);
            }
    },
};
