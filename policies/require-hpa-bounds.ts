import * as k8s from "@pulumi/kubernetes";
import { validateResourceOfType, type ResourceValidationPolicy } from "@pulumi/policy";
import { describe } from "./resources";

export const requireHpaBounds: ResourceValidationPolicy = {
    name: "require-hpa-bounds",
    description:
        "A HorizontalPodAutoscaler keeps at least 2 replicas and its maximum is not below its minimum (runbook " +
        "004: staging 2–5, production 5–20).",
    validateResource: validateResourceOfType(
        k8s.autoscaling.v2.HorizontalPodAutoscaler,
        (hpa, args, reportViolation) => {
            const min = hpa.spec?.minReplicas ?? 1;
            const max = hpa.spec?.maxReplicas;
            const what = describe(args.type, hpa, args.name);
            if (min < 2)
                reportViolation(
                    `${what}: minReplicas is ${min}; it should be at least 2 so one pod can fail (autoscaling.minReplicas).`,
                );
            if (typeof max === "number" && max < min)
                reportViolation(
                    `${what}: maxReplicas ${max} is below minReplicas ${min}; raise autoscaling.maxReplicas.`,
                );
        },
    ),
};
