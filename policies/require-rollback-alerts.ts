import type { StackValidationPolicy } from "@pulumi/policy";
import { environmentOf, metadata, T } from "./resources";

export const REQUIRED_ALERTS = [
    "ErrorRateCritical",
    "ErrorRateWarning",
    "LatencyP95High",
    "PodRestartsHigh",
    "MemoryHigh",
    "ReadinessFailing",
];

export const requireRollbackAlerts: StackValidationPolicy = {
    name: "require-rollback-alerts",
    description:
        "Each production app has a PrometheusRule with the runbooks' rollback-trigger alerts, so a bad release pages someone.",
    configSchema: { properties: { alerts: { type: "array", items: { type: "string" } } } },
    validateStack: (args, reportViolation) => {
        const required = args.getConfig<{ alerts?: string[] }>().alerts ?? REQUIRED_ALERTS;
        const apps = new Set(
            args.resources
                .filter((r) => r.type === T.deployment && environmentOf(r.props) === "production")
                .map((r) => metadata(r.props).labels["app.kubernetes.io/name"])
                .filter((n): n is string => n !== undefined),
        );
        const rules = args.resources.filter((r) => r.type === T.prometheusRule);
        for (const app of apps) {
            const alerts = new Set(
                rules
                    .filter((r) => metadata(r.props).labels["app.kubernetes.io/name"] === app)
                    .flatMap((r) =>
                        (r.props?.spec?.groups ?? []).flatMap((g: { rules?: Array<{ alert?: string }> }) =>
                            (g.rules ?? []).map((x) => x.alert),
                        ),
                    ),
            );
            const missing = required.filter((a) => !alerts.has(a));
            if (missing.length > 0)
                reportViolation(
                    `Production app '${app}' has no PrometheusRule alert ${missing.join(", ")}; keep runbook:alerts.enabled true.`,
                );
        }
    },
};
