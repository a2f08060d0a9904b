import * as k8s from "@pulumi/kubernetes";
import type { StackValidationPolicy } from "@pulumi/policy";
import { CANARY_STEPS_ANNOTATION, CANARY_WEIGHT_ANNOTATION, WEIGHT_TOLERANCE } from "./lib/well-known";
import { describe, HTTPRoute, metadata, ofClass, ofKind } from "./resources";

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
        "Canary traffic weights are within 0..100 and on the object's reviewed step plan (its runbook.dev/canary-steps annotation; else the config's steps, default 5, 25, 100), so nobody jumps a canary to a weight no one reviewed.",
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
                    `${what}: canary weight ${weight} is not on the plan [${steps.join(", ")}] (0 aborts, 100 promotes); step to the next planned weight.`,
                    urn,
                );
        };
        for (const route of ofKind(args.resources, HTTPRoute)) {
            const what = describe(route.resource.type, route.props, route.resource.name);
            for (const rule of route.props.spec?.rules ?? []) {
                const refs = rule.backendRefs ?? [];
                const total = refs.reduce((a, b) => a + (b.weight ?? 1), 0);
                if (refs.length > 1 && total !== 100)
                    reportViolation(`${what}: backend weights add up to ${total}, not 100.`, route.resource.urn);
                // The canary's backend is the Service named <app>-canary (docs/policy-pack.md: well-known labels and annotations).
                const canary = refs.find((b) => b.name?.endsWith("-canary"));
                if (canary) check(what, metadata(route.props).annotations, canary.weight ?? 1, route.resource.urn);
            }
        }
        for (const ingress of ofClass(args.resources, k8s.networking.v1.Ingress)) {
            const a = metadata(ingress.props).annotations;
            if (a["nginx.ingress.kubernetes.io/canary"] !== "true") continue;
            const w = a["nginx.ingress.kubernetes.io/canary-weight"];
            const what = describe(ingress.resource.type, ingress.props, ingress.resource.name);
            check(what, a, w === undefined ? undefined : Number(w), ingress.resource.urn);
        }
        for (const d of ofClass(args.resources, k8s.apps.v1.Deployment)) {
            const a = metadata(d.props).annotations;
            if (a[CANARY_WEIGHT_ANNOTATION] === undefined) continue;
            const what = describe(d.resource.type, d.props, d.resource.name);
            check(what, a, Number(a[CANARY_WEIGHT_ANNOTATION]), d.resource.urn, WEIGHT_TOLERANCE);
        }
    },
};
