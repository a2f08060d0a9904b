import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, describe, T } from "./resources";

export const requireResourceLimits: ResourceValidationPolicy = {
    name: "require-resource-limits",
    description:
        "Every container of a workload sets CPU and memory requests and limits, so the scheduler and the HPA have figures to work with (runbook 004).",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.deployment && args.type !== T.job && args.type !== T.cronJob) return;
        for (const c of containersOf(args.type, args.props, true)) {
            const missing: string[] = [];
            for (const kind of ["requests", "limits"] as const)
                for (const r of ["cpu", "memory"])
                    if (c.resources?.[kind]?.[r] === undefined) missing.push(`${kind}.${r}`);
            if (missing.length > 0)
                reportViolation(
                    `${describe(args.type, args.props, args.name)}: container '${c.name}' has no resources.${missing.join(", resources.")}; set them (services.<name>.resources).`,
                );
        }
    },
};
