import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, describe, T } from "./resources";

export const requireProbes: ResourceValidationPolicy = {
    name: "require-probes",
    description:
        "Every container of a Deployment has a readiness and a liveness probe, so rollouts wait for healthy pods and hung pods restart (runbook 004).",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.deployment) return;
        for (const c of containersOf(args.type, args.props)) {
            const missing = [
                c.readinessProbe ? undefined : "readinessProbe",
                c.livenessProbe ? undefined : "livenessProbe",
            ].filter(Boolean);
            if (missing.length > 0)
                reportViolation(
                    `${describe(args.type, args.props, args.name)}: container '${c.name}' has no ${missing.join(" and no ")}; add them (services.<name>.probes, default GET /api/health).`,
                );
        }
    },
};
