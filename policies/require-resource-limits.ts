import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, forEachPodSpec } from "./resources";

export const requireResourceLimits: ResourceValidationPolicy = {
    name: "require-resource-limits",
    description:
        "Every container of a workload sets CPU and memory requests and limits, so the scheduler and the HPA " +
        "have figures to work with (runbook 004).",
    validateResource: forEachPodSpec((pod, what, _props, reportViolation) => {
        for (const c of containersOf(pod, true)) {
            const missing: string[] = [];
            for (const kind of ["requests", "limits"] as const)
                for (const r of ["cpu", "memory"])
                    if (c.resources?.[kind]?.[r] === undefined) missing.push(`${kind}.${r}`);
            if (missing.length > 0)
                reportViolation(
                    `${what}: container '${c.name}' has no resources.${missing.join(", resources.")}; set them ` +
                        `(services.<name>.resources).`,
                );
        }
    }),
};
