// PromQL for the runbooks' rollback triggers, built from typed thresholds and checked
// with Prometheus' own grammar (@prometheus-io/lezer-promql) before anything is deployed.
import { RESTORE_DRILL_MAX_AGE_DAYS } from "../config/defaults";
import type { AlertsConfig, AnalysisConfig } from "../config/types";
import { durationSeconds } from "../components/checks";
import { checkPromQL, PromQLError, type AlertRule } from "../components/promql";
import type { RequestSeries } from "../policies/routers/router";

export { checkPromQL, PromQLError, type AlertRule };

function selector(labels: Record<string, string>): string {
    return `{${Object.entries(labels)
        .map(([k, v]) => (v.startsWith("~") ? `${k}=~${JSON.stringify(v.slice(1))}` : `${k}=${JSON.stringify(v)}`))
        .join(",")}}`;
}

/** Seconds as a Prometheus duration (3600 → 1h). */
export function promDuration(seconds: number): string {
    if (seconds % 3600 === 0) return `${seconds / 3600}h`;
    if (seconds % 60 === 0) return `${seconds / 60}m`;
    return `${seconds}s`;
}

export interface ServiceAlertTarget {
    app: string;
    namespace: string;
    /** The Service whose endpoints Prometheus scrapes (label `service`). */
    metricsService: string;
    /** Regex of the app's pod names. */
    podPattern: string;
    /** HPA name, when the service autoscales. */
    hpa?: string;
    environment: string;
}

/** The alert target of a service: what its rules and `npm run release` select on. */
export function alertTarget(service: string, namespace: string, environment: string): ServiceAlertTarget {
    return {
        app: service,
        namespace,
        metricsService: `${service}-metrics`,
        podPattern: `${service}-.*`,
        hpa: service,
        environment,
    };
}

/**
 * A rollback trigger as a measurement and its threshold: the alert fires when `query` is
 * above `threshold` for `for`, and `npm run release` asks Prometheus for `query` and
 * compares it with the same threshold. One source for both.
 */
export interface Trigger {
    alert: string;
    query: string;
    threshold: number;
    for: string;
    /**
     * How a value reads for people: a ratio (1.2 %), seconds (340 ms), a difference of
     * ratios (+2.1 points), or a factor (2.3 ×).
     */
    unit: "ratio" | "seconds" | "points" | "factor";
    /**
     * Requests each side must have had in the trigger's window before its value counts; with
     * fewer, the reading is no data (a quiet canary is never a pass).
     */
    minRequests?: { query: string; min: number; who: string }[];
}

/** The label Prometheus gives a pod label copied onto its series (ServiceMonitor podTargetLabels). */
export function seriesLabel(podLabel: string): string {
    return podLabel.replace(/[^a-zA-Z0-9_]/g, "_");
}

/**
 * A service's requests as its pods count them (the metrics Service's endpoints, the stack's
 * metric names): the whole service, or the pods whose series also carry `labels`.
 */
export function podSeries(
    t: ServiceAlertTarget,
    a: AlertsConfig,
    labels: Record<string, string> = {},
    where = `the pods behind ${t.metricsService}`,
): RequestSeries {
    return {
        requests: a.requestsMetric,
        duration: a.durationMetric,
        code: "code",
        labels: { namespace: t.namespace, service: t.metricsService, ...labels },
        where,
    };
}

/** The queries of one side's requests, over windows of the given length. */
function requestQueries(s: RequestSeries) {
    const sel = (extra: Record<string, string> = {}) => selector({ ...s.labels, ...extra });
    return {
        /**
         * The 5xx share. `zeroWhenNoErrors` (`or vector(0)`): a service with no 5xx series yet
         * reads 0 rather than nothing — what a release needs; an alert has nothing to fire on either way.
         */
        errorRatio: (window: string, zeroWhenNoErrors: boolean) => {
            const errors = `sum(rate(${s.requests}${sel({ [s.code]: "~5.." })}[${window}]))`;
            const all = `sum(rate(${s.requests}${sel()}[${window}]))`;
            return zeroWhenNoErrors ? `((${errors} or vector(0)) / ${all})` : `(${errors} / ${all})`;
        },
        quantile: (q: number, window: string) =>
            `histogram_quantile(${q}, sum by (le) (rate(${s.duration}_bucket${sel()}[${window}])))`,
        requests: (window: string) => `sum(increase(${s.requests}${sel()}[${window}]))`,
    };
}

/** The triggers the alert rules fire on: error rate and latency of the whole service [000, 002, 003]. */
export function rolloutTriggers(t: ServiceAlertTarget, a: AlertsConfig): Trigger[] {
    const q = requestQueries(podSeries(t, a));
    const triggers: Trigger[] = [
        {
            alert: "ErrorRateCritical",
            query: q.errorRatio(a.errorRateFor, false),
            threshold: a.errorRateCritical,
            for: a.errorRateFor,
            unit: "ratio",
        },
        {
            alert: "LatencyP95High",
            query: q.quantile(0.95, a.latencyFor),
            threshold: a.latencyP95Seconds,
            for: a.latencyFor,
            unit: "seconds",
        },
        {
            alert: "LatencyP99High",
            query: q.quantile(0.99, a.latencyFor),
            threshold: a.latencyP99Seconds,
            for: a.latencyFor,
            unit: "seconds",
        },
    ];
    triggers.forEach((x) => checkPromQL(x.alert, x.query));
    return triggers;
}

/** Which of a service's requests a release measures, and what it compares them with. */
export interface ReleaseTraffic {
    /** The new version's own requests: the canary's, the new colour's. */
    measured: RequestSeries;
    /** For people: "canary track", "green". */
    measuredName: string;
    /** The requests the new version is compared with at the same time (the stable track's); none for blue/green. */
    baseline?: RequestSeries;
    baselineName?: string;
}

/**
 * The triggers `npm run release` watches, on the new version's own requests: the alert
 * rules' error rate and latency thresholds [000, 002, 003], and — where there is a baseline
 * running at the same time — the runbooks' relative triggers: error rate more than
 * `errorRateIncrease` above the baseline's [004], p95 more than `latencyRatio` times the
 * baseline's [001, 002]. Each counts only once each side had `minRequests` in its window.
 *
 * `sinceSeconds`: how long ago the release began. No window reaches further back, so the
 * requests a series counted before — an earlier canary's on the same Gateway backend, which
 * carries no version — are never read as this release's.
 */
export function releaseTriggers(
    a: AlertsConfig,
    an: AnalysisConfig,
    r: ReleaseTraffic,
    sinceSeconds = Infinity,
): Trigger[] {
    const window = (d: string) => {
        const full = durationSeconds(d) as number;
        return full <= sinceSeconds ? d : promDuration(Math.max(1, Math.floor(sinceSeconds)));
    };
    const errorsFor = window(a.errorRateFor);
    const latencyFor = window(a.latencyFor);
    const measured = requestQueries(r.measured);
    const enough = (w: string, sides: [RequestSeries, string][]) =>
        sides.map(([s, who]) => ({ query: requestQueries(s).requests(w), min: an.minRequests, who }));
    const self: [RequestSeries, string] = [r.measured, r.measuredName];
    const triggers: Trigger[] = [
        {
            alert: "ErrorRateCritical",
            query: measured.errorRatio(errorsFor, true),
            threshold: a.errorRateCritical,
            for: errorsFor,
            unit: "ratio",
            minRequests: enough(errorsFor, [self]),
        },
        ...(
            [
                ["LatencyP95High", 0.95, a.latencyP95Seconds],
                ["LatencyP99High", 0.99, a.latencyP99Seconds],
            ] as const
        ).map(([alert, quantile, threshold]) => ({
            alert,
            query: measured.quantile(quantile, latencyFor),
            threshold,
            for: latencyFor,
            unit: "seconds" as const,
            minRequests: enough(latencyFor, [self]),
        })),
    ];
    const b = r.baseline;
    if (b !== undefined) {
        const base = requestQueries(b);
        const both: [RequestSeries, string][] = [self, [b, r.baselineName ?? "baseline"]];
        if (an.baseline.errorRateIncrease !== undefined)
            triggers.push({
                alert: "ErrorRateAboveBaseline",
                query: `(${measured.errorRatio(errorsFor, true)} - ${base.errorRatio(errorsFor, true)})`,
                threshold: an.baseline.errorRateIncrease,
                for: errorsFor,
                unit: "points",
                minRequests: enough(errorsFor, both),
            });
        if (an.baseline.latencyRatio !== undefined)
            triggers.push({
                alert: "LatencyP95AboveBaseline",
                query: `(${measured.quantile(0.95, latencyFor)} / ${base.quantile(0.95, latencyFor)})`,
                threshold: an.baseline.latencyRatio,
                for: latencyFor,
                unit: "factor",
                minRequests: enough(latencyFor, both),
            });
    }
    triggers.forEach((x) =>
        [x.query, ...(x.minRequests ?? []).map((m) => m.query)].forEach((e) => checkPromQL(x.alert, e)),
    );
    return triggers;
}

/** The rollback-trigger alerts of one service [000–004]. */
export function serviceAlertRules(t: ServiceAlertTarget, a: AlertsConfig): AlertRule[] {
    const podLabels = { namespace: t.namespace, pod: `~${t.podPattern}` };
    const pods = selector(podLabels);
    const [errorRate, p95, p99] = rolloutTriggers(t, a);
    const ratio = errorRate.query;
    const pct = (x: number) => `${+(x * 100).toFixed(4)} %`;
    const rule = (
        alert: string,
        severity: "critical" | "warning",
        expr: string,
        forDur: string | undefined,
        summary: string,
    ): AlertRule => ({
        alert,
        expr,
        ...(forDur !== undefined ? { for: forDur } : {}),
        labels: { severity, app: t.app, environment: t.environment, ...a.labels },
        annotations: {
            summary,
            description: `${summary} (${t.namespace}/${t.app}).`,
            runbook_url: `${a.runbookBaseUrl.replace(/\/$/, "")}#${alert.toLowerCase()}`,
        },
    });
    const above = (x: Trigger) => `${x.query} > ${x.threshold}`;
    const rules = [
        rule(
            "ErrorRateCritical",
            "critical",
            above(errorRate),
            errorRate.for,
            `Error rate above ${pct(a.errorRateCritical)}: roll back now`,
        ),
        rule(
            "ErrorRateWarning",
            "warning",
            `${ratio} > ${a.errorRateWarning} and ${ratio} <= ${a.errorRateCritical}`,
            a.errorRateFor,
            `Error rate between ${pct(a.errorRateWarning)} and ${pct(a.errorRateCritical)}: watch the release`,
        ),
        rule("LatencyP95High", "critical", above(p95), p95.for, `p95 latency above ${a.latencyP95Seconds * 1000} ms`),
        rule("LatencyP99High", "critical", above(p99), p99.for, `p99 latency above ${a.latencyP99Seconds} s`),
        rule(
            "PodRestartsHigh",
            "critical",
            `sum by (pod) (increase(kube_pod_container_status_restarts_total${pods}[${a.restartsWindow}])) > ${a.restartsMax}`,
            undefined,
            `A pod restarted more than ${a.restartsMax} times in ${a.restartsWindow}`,
        ),
        rule(
            "MemoryHigh",
            "warning",
            `sum by (pod) (container_memory_working_set_bytes${selector({ ...podLabels, container: "~.+" })}) / ` +
                `sum by (pod) (kube_pod_container_resource_limits${selector({ ...podLabels, resource: "memory" })}) > ${a.memoryRatio}`,
            "5m",
            `Memory above ${pct(a.memoryRatio)} of the limit`,
        ),
        rule(
            "ReadinessFailing",
            "critical",
            `sum by (pod) (kube_pod_status_ready${selector({ namespace: t.namespace, pod: `~${t.podPattern}`, condition: "false" })}) > 0`,
            "5m",
            "A pod has been failing its readiness probe for 5 minutes",
        ),
    ];
    if (t.hpa !== undefined) {
        const hpa = selector({ namespace: t.namespace, horizontalpodautoscaler: t.hpa });
        rules.push(
            rule(
                "AutoscalerAtMax",
                "warning",
                `kube_horizontalpodautoscaler_status_current_replicas${hpa} >= kube_horizontalpodautoscaler_spec_max_replicas${hpa}`,
                "15m",
                "The autoscaler has been pinned at its maximum for 15 minutes",
            ),
        );
    }
    rules.forEach((r) => checkPromQL(r.alert, r.expr));
    return rules;
}

/**
 * Alerts on the backup CronJob: a failed run, or no success within the allowed age; and on
 * the restore drill: none succeeded in 7 days — counted from the drill CronJob's creation
 * while it has never succeeded, and at once when there is no drill CronJob [001, 003].
 */
export function backupAlertRules(
    args: { namespace: string; cronJob: string; restoreDrillCronJob: string; environment: string },
    a: AlertsConfig,
): AlertRule[] {
    const maxAge = a.backupMaxAgeHours * 3600;
    const common = (alert: string, severity: string, summary: string, cronJob = args.cronJob) => ({
        labels: { severity, environment: args.environment, ...a.labels },
        annotations: {
            summary,
            description: `${summary} (${args.namespace}/${cronJob}).`,
            runbook_url: `${a.runbookBaseUrl.replace(/\/$/, "")}#${alert.toLowerCase()}`,
        },
    });
    const rules: AlertRule[] = [
        {
            alert: "BackupJobFailed",
            expr: `sum(kube_job_status_failed${selector({ namespace: args.namespace, job_name: `~${args.cronJob}-.*` })}) > 0`,
            ...common("BackupJobFailed", "critical", "A backup job failed"),
        },
        {
            alert: "BackupTooOld",
            expr:
                "time() - max(kube_cronjob_status_last_successful_time" +
                `${selector({ namespace: args.namespace, cronjob: args.cronJob })}) > ${maxAge}`,
            ...common("BackupTooOld", "critical", `No successful backup in ${a.backupMaxAgeHours} h`),
        },
        restoreDrillRule(
            args,
            common(
                "RestoreDrillOverdue",
                "critical",
                `No restore drill succeeded in ${RESTORE_DRILL_MAX_AGE_DAYS} days`,
                args.restoreDrillCronJob,
            ),
        ),
    ];
    rules.forEach((r) => checkPromQL(r.alert, r.expr));
    return rules;
}

function restoreDrillRule(
    args: { namespace: string; restoreDrillCronJob: string },
    common: Omit<AlertRule, "alert" | "expr">,
): AlertRule {
    const drill = selector({ namespace: args.namespace, cronjob: args.restoreDrillCronJob });
    const maxAge = RESTORE_DRILL_MAX_AGE_DAYS * 86400;
    const lastSuccess = `max(kube_cronjob_status_last_successful_time${drill})`;
    return {
        alert: "RestoreDrillOverdue",
        expr: [
            `(time() - ${lastSuccess} > ${maxAge})`,
            `(time() - max(kube_cronjob_created${drill}) > ${maxAge} unless ${lastSuccess})`,
            `absent(kube_cronjob_created${drill})`,
        ].join(" or "),
        // kube-state-metrics needs a scrape or two to list a new CronJob.
        for: "30m",
        ...common,
    };
}
