import * as k8s from "@pulumi/kubernetes";
import { validateResourceOfType, type ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, describe } from "./resources";

export const requireProbes: ResourceValidationPolicy = {
    name: "require-probes",
    description:
        "Every container of a Deployment has a readiness and a liveness probe, so rollouts wait for healthy " +
        "pods and hung pods restart (runbook 004).",
    validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (deployment, args, reportViolation) => {
        for (const c of containersOf(deployment.spec?.template?.spec)) {
            const missing = [
                c.readinessProbe ? undefined : "readinessProbe",
                c.livenessProbe ? undefined : "livenessProbe",
            ].filter(Boolean);
            if (missing.length > 0)
                reportViolation(
                    `${describe(args.type, deployment, args.name)}: container '${c.name}' has no ` +
                        `${missing.join(" and no ")}; add them (services.<name>.probes, default GET /api/health).`,
                );
        }
    }),
};
