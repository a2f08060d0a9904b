import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, T } from "./resources";

export const requireHpaBounds: ResourceValidationPolicy = {
    name: "require-hpa-bounds",
    description:
        "A HorizontalPodAutoscaler keeps at least 2 replicas and its maximum is not below its minimum (runbook 004: staging 2–5, production 5–20).",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.hpa) return;
        const min = args.props?.spec?.minReplicas ?? 1;
        const max = args.props?.spec?.maxReplicas;
        const what = describe(args.type, args.props, args.name);
        if (min < 2)
            reportViolation(
                `${what}: minReplicas is ${min}; it should be at least 2 so one pod can fail (autoscaling.minReplicas).`,
            );
        if (typeof max === "number" && max < min)
            reportViolation(`${what}: maxReplicas ${max} is below minReplicas ${min}; raise autoscaling.maxReplicas.`);
    },
};
