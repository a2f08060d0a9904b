// The require-rollback-alerts policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requireRollbackAlerts } from "../../policies/require-rollback-alerts";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runStackPolicy } from "./util";

let production: PolicyResource[];
beforeAll(async () => ({ production } = await baseline()));

describe("require-rollback-alerts", () => {
    testCompliantBaseline(requireRollbackAlerts);

    test("a production app without its PrometheusRule", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-web-alerts-rule");
        expect((await runStackPolicy(requireRollbackAlerts, rs)).map((v) => v.message)).toEqual([
            "Production app 'web' has no PrometheusRule alert ErrorRateCritical, ErrorRateWarning, LatencyP95High, PodRestartsHigh, MemoryHigh, ReadinessFailing; add them (the runbook program: keep runbook:alerts.enabled true).",
        ]);
    });

    test("one alert missing from the rule", async () => {
        const rs = clone(production);
        const rule = find(rs, "prod-api-alerts-rule").props.spec.groups[0];
        rule.rules = rule.rules.filter((r: { alert: string }) => r.alert !== "LatencyP95High");
        expect((await runStackPolicy(requireRollbackAlerts, rs)).map((v) => v.message)).toEqual([
            "Production app 'api' has no PrometheusRule alert LatencyP95High; add them (the runbook program: keep runbook:alerts.enabled true).",
        ]);
    });
});
