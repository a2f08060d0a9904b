import { alertsSchema, analysisSchema } from "../../config/schema";
import { gatewayApiRouter, gatewayApiSchema } from "../../policies/routers/gateway-api";
import {
    backupAlertRules,
    checkPromQL,
    podSeries,
    promDuration,
    PromQLError,
    releaseTriggers,
    rolloutTriggers,
    seriesLabel,
    serviceAlertRules,
} from "../../lib/promql";

const alerts = alertsSchema.parse({});
const target = {
    app: "api",
    namespace: "shop",
    metricsService: "api-metrics",
    podPattern: "api-.*",
    hpa: "api",
    environment: "production",
};

describe("checkPromQL", () => {
    test("accepts valid PromQL", () => {
        expect(() => checkPromQL("ok", 'sum(rate(http_requests_total{code=~"5.."}[5m])) > 0.01')).not.toThrow();
    });

    test("names the rule and points at the first error", () => {
        expect(() => checkPromQL("Broken", "sum(rate(x[5m])) >")).toThrow(
            new PromQLError("alert 'Broken': invalid PromQL at character 19:\nsum(rate(x[5m])) >\n                  ^"),
        );
        expect(() => checkPromQL("Unbalanced", "sum(rate(x[5m])")).toThrow(PromQLError);
    });
});

describe("serviceAlertRules", () => {
    const rules = serviceAlertRules(target, alerts);
    const byAlert = Object.fromEntries(rules.map((r) => [r.alert, r]));

    test("error rate: critical above 1 % for 5 min, warning between 0.5 % and 1 %", () => {
        const ratio =
            '(sum(rate(http_requests_total{namespace="shop",service="api-metrics",code=~"5.."}[5m])) / sum(rate(http_requests_total{namespace="shop",service="api-metrics"}[5m])))';
        expect(byAlert.ErrorRateCritical).toMatchObject({
            expr: `${ratio} > 0.01`,
            for: "5m",
            labels: { severity: "critical" },
        });
        expect(byAlert.ErrorRateWarning).toMatchObject({
            expr: `${ratio} > 0.005 and ${ratio} <= 0.01`,
            for: "5m",
            labels: { severity: "warning" },
        });
        expect(byAlert.ErrorRateCritical.annotations.summary).toBe("Error rate above 1 %: roll back now");
    });

    test("latency: p95 above 500 ms and p99 above 10 s", () => {
        expect(byAlert.LatencyP95High.expr).toBe(
            'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",service="api-metrics"}[5m]))) > 0.5',
        );
        expect(byAlert.LatencyP99High.expr).toBe(
            'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",service="api-metrics"}[5m]))) > 10',
        );
    });

    test("restarts above 3 in 5 min, memory above 90 %, readiness, HPA at max", () => {
        expect(byAlert.PodRestartsHigh.expr).toBe(
            'sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace="shop",pod=~"api-.*"}[5m])) > 3',
        );
        expect(byAlert.MemoryHigh.expr).toContain("> 0.9");
        expect(byAlert.ReadinessFailing.expr).toBe(
            'sum by (pod) (kube_pod_status_ready{namespace="shop",pod=~"api-.*",condition="false"}) > 0',
        );
        expect(byAlert.AutoscalerAtMax.expr).toBe(
            'kube_horizontalpodautoscaler_status_current_replicas{namespace="shop",horizontalpodautoscaler="api"} >= kube_horizontalpodautoscaler_spec_max_replicas{namespace="shop",horizontalpodautoscaler="api"}',
        );
    });

    test("thresholds come from config", () => {
        const custom = serviceAlertRules(target, { ...alerts, errorRateCritical: 0.05, latencyP95Seconds: 0.3 });
        expect(custom.find((r) => r.alert === "ErrorRateCritical")?.expr).toMatch(/ > 0\.05$/);
        expect(custom.find((r) => r.alert === "LatencyP95High")?.annotations.summary).toBe("p95 latency above 300 ms");
    });

    test("a metric name that breaks the grammar fails when the rules are built", () => {
        expect(() => serviceAlertRules(target, { ...alerts, requestsMetric: "http requests" })).toThrow(
            /alert 'ErrorRateCritical': invalid PromQL/,
        );
    });
});

describe("backupAlertRules", () => {
    test("failed backup jobs and backups older than 24 h", () => {
        const rules = backupAlertRules(
            {
                namespace: "shop",
                cronJob: "shop-backup",
                restoreDrillCronJob: "shop-restore-drill",
                environment: "production",
            },
            alerts,
        );
        const drill = '{namespace="shop",cronjob="shop-restore-drill"}';
        expect(rules.map((r) => [r.alert, r.expr])).toEqual([
            ["BackupJobFailed", 'sum(kube_job_status_failed{namespace="shop",job_name=~"shop-backup-.*"}) > 0'],
            [
                "BackupTooOld",
                'time() - max(kube_cronjob_status_last_successful_time{namespace="shop",cronjob="shop-backup"}) > 86400',
            ],
            [
                "RestoreDrillOverdue",
                `(time() - max(kube_cronjob_status_last_successful_time${drill}) > 604800) or (time() - max(kube_cronjob_created${drill}) > 604800 unless max(kube_cronjob_status_last_successful_time${drill})) or absent(kube_cronjob_created${drill})`,
            ],
        ]);
    });

    test("promDuration", () => {
        expect([promDuration(86400), promDuration(300), promDuration(45)]).toEqual(["24h", "5m", "45s"]);
    });
});

describe("releaseTriggers: what `npm run release` measures", () => {
    const analysis = analysisSchema.parse({});
    const canary = {
        measured: podSeries(target, alerts, { runbook_dev_track: "canary" }),
        measuredName: "canary track",
        baseline: podSeries(target, alerts, { runbook_dev_track: "stable" }),
        baselineName: "stable track",
    };
    const sel = (track: string, extra = "") =>
        `{namespace="shop",service="api-metrics",runbook_dev_track="${track}"${extra}}`;

    test("the canary's own error rate, 0 when it has no 5xx series yet, counted once it had the minimum of requests", () => {
        const [errors] = releaseTriggers(alerts, analysis, canary);
        expect(errors).toEqual({
            alert: "ErrorRateCritical",
            query: `((sum(rate(http_requests_total${sel("canary", ',code=~"5.."')}[5m])) or vector(0)) / sum(rate(http_requests_total${sel("canary")}[5m])))`,
            threshold: 0.01,
            for: "5m",
            unit: "ratio",
            minRequests: [
                { query: `sum(increase(http_requests_total${sel("canary")}[5m]))`, min: 50, who: "canary track" },
            ],
        });
    });

    test("latency of the canary's own requests, and p95 against the stable track's at the same time (2× by default)", () => {
        const byAlert = Object.fromEntries(releaseTriggers(alerts, analysis, canary).map((t) => [t.alert, t]));
        expect(Object.keys(byAlert)).toEqual([
            "ErrorRateCritical",
            "LatencyP95High",
            "LatencyP99High",
            "LatencyP95AboveBaseline",
        ]);
        const p95 = (track: string) =>
            `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket${sel(track)}[5m])))`;
        expect(byAlert.LatencyP95High.query).toBe(p95("canary"));
        expect(byAlert.LatencyP95AboveBaseline).toMatchObject({
            query: `(${p95("canary")} / ${p95("stable")})`,
            threshold: 2,
            unit: "factor",
        });
        // A relative reading needs requests on both sides.
        expect(byAlert.LatencyP95AboveBaseline.minRequests?.map((m) => m.who)).toEqual([
            "canary track",
            "stable track",
        ]);
    });

    test("an error-rate increase over the stable track when the stack asks for one", () => {
        const withIncrease = analysisSchema.parse({ baseline: { errorRateIncrease: 0.02 } });
        const t = releaseTriggers(alerts, withIncrease, canary).find((x) => x.alert === "ErrorRateAboveBaseline");
        expect(t).toMatchObject({ threshold: 0.02, unit: "points", for: "5m" });
        expect(t?.query).toMatch(
            /^\(\(\(sum\(rate\(.*runbook_dev_track="canary".*\) - \(\(sum\(rate\(.*runbook_dev_track="stable".*\)$/,
        );
        // Setting baseline replaces the default: no latency ratio unless asked.
        expect(releaseTriggers(alerts, withIncrease, canary).map((x) => x.alert)).not.toContain(
            "LatencyP95AboveBaseline",
        );
    });

    test("a blue/green colour has no baseline running beside it: absolute triggers only", () => {
        const green = { measured: podSeries(target, alerts, { runbook_dev_color: "green" }), measuredName: "green" };
        const triggers = releaseTriggers(
            alerts,
            analysisSchema.parse({ baseline: { errorRateIncrease: 0.02 } }),
            green,
        );
        expect(triggers.map((t) => t.alert)).toEqual(["ErrorRateCritical", "LatencyP95High", "LatencyP99High"]);
        expect(triggers.every((t) => t.query.includes('runbook_dev_color="green"'))).toBe(true);
    });

    test("no window reaches back before the release began: shorter windows until the configured ones fit", () => {
        const windows = (since: number) =>
            releaseTriggers(alerts, analysis, canary, since).map((t) => [
                t.for,
                /\[(\w+)\]/.exec(t.query)?.[1],
                ...(t.minRequests ?? []).map((m) => /\[(\w+)\]/.exec(m.query)?.[1]),
            ]);
        expect(windows(42.7)).toEqual([
            ["42s", "42s", "42s"],
            ["42s", "42s", "42s"],
            ["42s", "42s", "42s"],
            ["42s", "42s", "42s", "42s"],
        ]);
        expect(windows(90).every((w) => w.every((x) => x === "90s"))).toBe(true);
        expect(windows(300).every((w) => w.every((x) => x === "5m"))).toBe(true);
        expect(windows(7200)).toEqual(windows(Infinity));
        expect(windows(0.2)[0]).toEqual(["1s", "1s", "1s"]);
    });

    test("a Gateway API canary with `metrics: traefik`: Traefik's series of each backend, no pod label", () => {
        const router = gatewayApiSchema.parse({ type: "gatewayApi", gateway: { name: "public" }, metrics: "traefik" });
        const selection = gatewayApiRouter.analysis(router, {
            app: "web",
            namespace: "shop",
            port: 8080,
            pods: () => {
                throw new Error("not the pods' series");
            },
        });
        const [errors, p95] = releaseTriggers(alerts, analysis, {
            measured: selection.canary,
            measuredName: "canary track",
            baseline: selection.baseline,
            baselineName: "stable track",
        });
        const canaryBackend = '{service="shop-web-canary-http-8080@kubernetesgateway"}';
        expect(errors.query).toBe(
            `((sum(rate(traefik_service_requests_total{service="shop-web-canary-http-8080@kubernetesgateway",code=~"5.."}[5m])) or vector(0)) / ` +
                `sum(rate(traefik_service_requests_total${canaryBackend}[5m])))`,
        );
        expect(p95.query).toBe(
            `histogram_quantile(0.95, sum by (le) (rate(traefik_service_request_duration_seconds_bucket${canaryBackend}[5m])))`,
        );
        expect(selection.baseline.labels).toEqual({ service: "shop-web-http-8080@kubernetesgateway" });
        // The default reads the pods, whatever implementation the Gateway is.
        const pods = gatewayApiSchema.parse({ type: "gatewayApi", gateway: { name: "public" } });
        expect(pods.metrics).toBe("pods");
    });

    test("the alert rules keep measuring the whole service", () => {
        const whole = rolloutTriggers(target, alerts);
        expect(whole.some((t) => /runbook_dev_/.test(t.query))).toBe(false);
    });

    test("a pod label becomes the series label Prometheus gives it", () => {
        expect(seriesLabel("runbook.dev/track")).toBe("runbook_dev_track");
    });
});
