import * as k8s from "@pulumi/kubernetes";
import type { StackValidationPolicy } from "@pulumi/policy";
import { APP_LABEL } from "./lib/well-known";
import { environmentOf, metadata, ofClass, ofKind, PrometheusRule } from "./resources";

/**
 * The rollback triggers every production app must alert on, by alert name: error rate above
 * 1 % and 0.5–1 % (NovaCron runbook, immediate rollback triggers; MCP RAG Demo runbook,
 * decision matrix), p95 latency (MCP RAG Demo), restarts and memory (Mahavishnu runbook,
 * Rollback Triggers), failing readiness (Mykadoo runbook, automatic rollback triggers).
 * The platform team can name others in the policy config (`alerts`).
 */
export const DEFAULT_REQUIRED_ALERTS = [
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
        "Each production app (app.kubernetes.io/name of its Deployments) has PrometheusRules with the " +
        "rollback-trigger alerts, so a bad release pages someone.",
    configSchema: {
        properties: { alerts: { type: "array", items: { type: "string" }, default: DEFAULT_REQUIRED_ALERTS } },
    },
    validateStack: (args, reportViolation) => {
        const required = args.getConfig<{ alerts?: string[] }>().alerts ?? DEFAULT_REQUIRED_ALERTS;
        const apps = new Set(
            ofClass(args.resources, k8s.apps.v1.Deployment)
                .filter((d) => environmentOf(d.props) === "production")
                .map((d) => metadata(d.props).labels[APP_LABEL])
                .filter((n): n is string => n !== undefined),
        );
        const rules = ofKind(args.resources, PrometheusRule);
        for (const app of apps) {
            const alerts = new Set(
                rules
                    .filter((r) => metadata(r.props).labels[APP_LABEL] === app)
                    .flatMap((r) => (r.props.spec?.groups ?? []).flatMap((g) => (g.rules ?? []).map((x) => x.alert))),
            );
            const missing = required.filter((a) => !alerts.has(a));
            if (missing.length > 0)
                reportViolation(
                    `Production app '${app}' has no PrometheusRule alert ${missing.join(", ")}; add them (the ` +
                        `runbook program: keep runbook:alerts.enabled true).`,
                );
        }
    },
};
