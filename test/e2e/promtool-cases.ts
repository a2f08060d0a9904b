// promtool unit tests for the rendered rollback-trigger alerts: for each alert, input
// series that put it just above its threshold (it must fire, with exactly the labels and
// annotations of the rule) and just below (it must stay silent).
import type { AlertsConfig } from "../../config/types";

interface Rule {
    alert: string;
    expr: string;
    for?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

interface Case {
    alert: string;
    above: Record<string, string>;
    below: Record<string, string>;
    /** Labels the expression adds to the alert (e.g. pod). */
    extraLabels?: Record<string, string>;
    /** Which branch of the expression the case drives, when it has several. */
    branch?: string;
    /** When to evaluate, if not at the file's common time (an alert with a long `for`). */
    evalTime?: string;
}

const sel = (name: string, labels: Record<string, string>) =>
    `${name}{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`;
/** A counter growing by `perMinute` each minute for 30 minutes. */
const counter = (perMinute: number) => `0+${perMinute}x30`;
const gauge = (value: number) => `${value}x30`;

export function serviceCases(a: { namespace: string; app: string; hpa: string }, t: AlertsConfig): Case[] {
    const ns = a.namespace;
    const svc = `${a.app}-metrics`;
    const pod = `${a.app}-green-7d9f8c6b5-x2k4q`;
    const http = (code: string) => sel(t.requestsMetric, { namespace: ns, service: svc, code });
    // Error ratio r with 1000 requests a minute: 5xx = 1000 r, 2xx = 1000 (1 - r).
    const errorSeries = (r: number) => ({ [http("500")]: counter(1000 * r), [http("200")]: counter(1000 * (1 - r)) });
    const bucket = (le: string) => sel(`${t.durationMetric}_bucket`, { namespace: ns, service: svc, le });
    const histogram = (cumulative: Record<string, number>) =>
        Object.fromEntries(Object.entries(cumulative).map(([le, n]) => [bucket(le), counter(n)]));
    const p95 = t.latencyP95Seconds;
    const p99 = t.latencyP99Seconds;
    const restarts = sel("kube_pod_container_status_restarts_total", { namespace: ns, pod, container: a.app });
    const memory = sel("container_memory_working_set_bytes", { namespace: ns, pod, container: a.app });
    const limit = sel("kube_pod_container_resource_limits", {
        namespace: ns,
        pod,
        container: a.app,
        resource: "memory",
    });
    const ready = sel("kube_pod_status_ready", { namespace: ns, pod, condition: "false" });
    const hpa = (m: string) => sel(m, { namespace: ns, horizontalpodautoscaler: a.hpa });
    // increase() over the restart window, from a counter growing at x per minute.
    const windowMinutes = parseInt(t.restartsWindow, 10);
    return [
        {
            alert: "ErrorRateCritical",
            above: errorSeries(t.errorRateCritical * 1.1),
            below: errorSeries(t.errorRateCritical * 0.9),
        },
        {
            alert: "ErrorRateWarning",
            above: errorSeries(t.errorRateWarning * 1.1),
            below: errorSeries(t.errorRateWarning * 0.9),
        },
        {
            // 100 requests a minute; the bucket at the threshold holds 94 (p95 just above it) or 96 (just below).
            alert: "LatencyP95High",
            above: histogram({ [String(p95 / 2)]: 50, [String(p95)]: 94, [String(p95 * 2)]: 100, "+Inf": 100 }),
            below: histogram({ [String(p95 / 2)]: 50, [String(p95)]: 96, [String(p95 * 2)]: 100, "+Inf": 100 }),
        },
        {
            alert: "LatencyP99High",
            above: histogram({ [String(p99 / 2)]: 90, [String(p99)]: 98, [String(p99 * 2)]: 100, "+Inf": 100 }),
            below: histogram({ [String(p99 / 2)]: 90, [String(p99)]: 100, [String(p99 * 2)]: 100, "+Inf": 100 }),
        },
        {
            alert: "PodRestartsHigh",
            above: { [restarts]: counter((t.restartsMax + 1) / windowMinutes) },
            below: { [restarts]: counter((t.restartsMax - 0.5) / windowMinutes) },
            extraLabels: { pod },
        },
        {
            alert: "MemoryHigh",
            above: { [memory]: gauge(Math.round(1e9 * (t.memoryRatio + 0.01))), [limit]: gauge(1e9) },
            below: { [memory]: gauge(Math.round(1e9 * (t.memoryRatio - 0.01))), [limit]: gauge(1e9) },
            extraLabels: { pod },
        },
        { alert: "ReadinessFailing", above: { [ready]: gauge(1) }, below: { [ready]: gauge(0) }, extraLabels: { pod } },
        {
            alert: "AutoscalerAtMax",
            above: {
                [hpa("kube_horizontalpodautoscaler_status_current_replicas")]: gauge(20),
                [hpa("kube_horizontalpodautoscaler_spec_max_replicas")]: gauge(20),
            },
            below: {
                [hpa("kube_horizontalpodautoscaler_status_current_replicas")]: gauge(19),
                [hpa("kube_horizontalpodautoscaler_spec_max_replicas")]: gauge(20),
            },
            extraLabels: { namespace: ns, horizontalpodautoscaler: a.hpa },
        },
    ];
}

export function backupCases(
    a: { namespace: string; cronJob: string; restoreDrillCronJob: string },
    t: AlertsConfig,
    evalSeconds: number,
): Case[] {
    const failed = sel("kube_job_status_failed", { namespace: a.namespace, job_name: `${a.cronJob}-29391840` });
    const last = sel("kube_cronjob_status_last_successful_time", { namespace: a.namespace, cronjob: a.cronJob });
    const maxAge = t.backupMaxAgeHours * 3600;
    // The drill alert waits 30 minutes (`for`): its cases are evaluated at 45 m, over series
    // an hour long, so its condition must hold from 15 m (900 s) on: "7 days before 15 m" is
    // 900 − 604800, and a value 1 s later starts the condition a minute late.
    const drill = { namespace: a.namespace, cronjob: a.restoreDrillCronJob };
    const drillLast = sel("kube_cronjob_status_last_successful_time", drill);
    const drillCreated = sel("kube_cronjob_created", drill);
    const hour = (value: number) => `${value}x60`;
    const weekAgo = 900 - 7 * 86400;
    const drillCase = (
        branch: string,
        above: Record<string, string>,
        below: Record<string, string>,
        extraLabels?: Record<string, string>,
    ): Case => ({
        alert: "RestoreDrillOverdue",
        branch,
        evalTime: "45m",
        above,
        below,
        ...(extraLabels ? { extraLabels } : {}),
    });
    return [
        { alert: "BackupJobFailed", above: { [failed]: gauge(1) }, below: { [failed]: gauge(0) } },
        // At eval time time() is evalSeconds; the last success is maxAge + 1 s (or − 1 s) before it.
        {
            alert: "BackupTooOld",
            above: { [last]: gauge(evalSeconds - maxAge - 1) },
            below: { [last]: gauge(evalSeconds - maxAge + 1) },
        },
        drillCase(
            "last drill succeeded 7 days ago",
            { [drillCreated]: hour(weekAgo - 86400), [drillLast]: hour(weekAgo - 1) },
            { [drillCreated]: hour(weekAgo - 86400), [drillLast]: hour(weekAgo + 1) },
        ),
        drillCase(
            "no drill succeeded since the CronJob was created 7 days ago",
            { [drillCreated]: hour(weekAgo - 1) },
            { [drillCreated]: hour(weekAgo + 1) },
        ),
        // No drill CronJob at all: absent() names the series it looked for.
        drillCase(
            "there is no drill CronJob",
            { [last]: hour(2700) },
            { [last]: hour(2700), [drillCreated]: hour(2700) },
            drill,
        ),
    ];
}

/** A promtool test file: one test group per case and side. */
export function promtoolTests(ruleFile: string, rules: Rule[], cases: Case[], evalTime: string): object {
    const tests = cases.flatMap((c) => {
        const rule = rules.find((r) => r.alert === c.alert);
        if (!rule) throw new Error(`no rendered rule ${c.alert}`);
        const series = (s: Record<string, string>) => Object.entries(s).map(([series, values]) => ({ series, values }));
        const at = c.evalTime ?? evalTime;
        const what = c.branch ? `${c.alert} (${c.branch})` : c.alert;
        return [
            {
                name: `${what} fires just above its threshold`,
                interval: "1m",
                input_series: series(c.above),
                alert_rule_test: [
                    {
                        eval_time: at,
                        alertname: c.alert,
                        exp_alerts: [
                            {
                                exp_labels: { ...rule.labels, ...(c.extraLabels ?? {}) },
                                exp_annotations: rule.annotations,
                            },
                        ],
                    },
                ],
            },
            {
                name: `${what} stays silent just below its threshold`,
                interval: "1m",
                input_series: series(c.below),
                alert_rule_test: [{ eval_time: at, alertname: c.alert, exp_alerts: [] }],
            },
        ];
    });
    return { rule_files: [ruleFile], evaluation_interval: "1m", tests };
}
