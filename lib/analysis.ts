// How `npm run release` judges a step: each rollback trigger's query asked of Prometheus and
// compared with the alert rule's own threshold. No data is never a pass: it is a failure
// once the step has run longer than the grace period.
import type { DateTime } from "luxon";
import type { GateResult } from "../policies/lib/deploy-gate";
import type { Trigger } from "./promql";

export type Reading =
    { trigger: Trigger; status: "ok" | "breach"; value: number } | { trigger: Trigger; status: "nodata"; why: string };

/** The value of an instant-vector or scalar answer of the Prometheus HTTP API, if it has one. */
export function sampleOf(body: unknown): number | undefined {
    const data = (body as { data?: { resultType?: string; result?: unknown } })?.data;
    let raw: unknown;
    if (data?.resultType === "scalar") raw = (data.result as unknown[])?.[1];
    else if (data?.resultType === "vector" && Array.isArray(data.result) && data.result.length > 0)
        raw = (data.result[0] as { value?: unknown[] }).value?.[1];
    const v = typeof raw === "string" ? Number(raw) : NaN;
    // 0/0 (no requests in the window) is NaN: no data, not a pass.
    return Number.isFinite(v) ? v : undefined;
}

/**
 * One instant query of the Prometheus HTTP API v1 at `baseUrl`, now or at `atSeconds` (Unix
 * time): its value, or why there is none.
 */
export async function instant(
    baseUrl: string,
    query: string,
    fetchImpl: typeof fetch = fetch,
    atSeconds?: number,
): Promise<{ value: number } | { why: string }> {
    const at = atSeconds === undefined ? "" : `&time=${atSeconds}`;
    const url = `${baseUrl.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(query)}${at}`;
    let body: unknown;
    try {
        const res = await fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
        body = await res.json();
        if (!res.ok) return { why: `Prometheus answered ${res.status}: ${(body as { error?: string })?.error ?? ""}` };
    } catch (e) {
        return { why: `Prometheus unreachable: ${(e as Error).message}` };
    }
    const value = sampleOf(body);
    return value === undefined ? { why: "empty result" } : { value };
}

/**
 * Asks Prometheus (`baseUrl`, HTTP API v1) for one trigger's query, now: no data unless each
 * side it measures had the requests it needs in the window first.
 */
export async function readTrigger(
    baseUrl: string,
    trigger: Trigger,
    fetchImpl: typeof fetch = fetch,
): Promise<Reading> {
    for (const need of trigger.minRequests ?? []) {
        const r = await instant(baseUrl, need.query, fetchImpl);
        const seen = "value" in r ? r.value : 0;
        if ("why" in r && r.why !== "empty result") return { trigger, status: "nodata", why: r.why };
        if (seen < need.min)
            return {
                trigger,
                status: "nodata",
                why: `${need.who} had ${Math.round(seen)} requests in ${trigger.for}, fewer than the ${need.min} a reading needs`,
            };
    }
    const r = await instant(baseUrl, trigger.query, fetchImpl);
    if ("why" in r) return { trigger, status: "nodata", why: r.why };
    return { trigger, status: r.value > trigger.threshold ? "breach" : "ok", value: r.value };
}

export function formatValue(t: Trigger, v: number): string {
    switch (t.unit) {
        case "ratio":
            return `${+(v * 100).toFixed(3)} %`;
        case "seconds":
            return `${Math.round(v * 1000)} ms`;
        case "points":
            return `${v >= 0 ? "+" : ""}${+(v * 100).toFixed(3)} points`;
        case "factor":
            return `${+v.toFixed(2)} ×`;
    }
}

/** One reading for people: "ErrorRateCritical 2.1 % > 1 %", "LatencyP95High no data (empty result)". */
export function describeReading(r: Reading): string {
    if (r.status === "nodata") return `${r.trigger.alert} no data (${r.why})`;
    return (
        `${r.trigger.alert} ${formatValue(r.trigger, r.value)} ${r.status === "breach" ? ">" : "≤"} ` +
        `${formatValue(r.trigger, r.trigger.threshold)}`
    );
}

export type StepVerdict = { kind: "continue" } | { kind: "fail"; why: string };

/** A breach fails the step at once; no data fails it once the step is older than the grace. */
export function judge(readings: Reading[], elapsedSeconds: number, graceSeconds: number): StepVerdict {
    const breach = readings.find((r) => r.status === "breach");
    if (breach) return { kind: "fail", why: `breach: ${describeReading(breach)}` };
    const missing = readings.filter((r) => r.status === "nodata");
    if (missing.length > 0 && elapsedSeconds >= graceSeconds)
        return {
            kind: "fail",
            why: `no data after ${Math.round(elapsedSeconds)} s (grace ${graceSeconds} s): ${missing.map(describeReading).join("; ")}`,
        };
    return { kind: "continue" };
}

export type GateAction =
    { kind: "go" } | { kind: "wait"; until: DateTime; why: string } | { kind: "stop"; why: string };

/**
 * Before each step: go when the gate allows it; wait for the next window when only the
 * clock is against it (a window closing mid-release pauses it); stop when waiting cannot help.
 */
export function gateAction(result: GateResult): GateAction {
    if (result.allowed) return { kind: "go" };
    const onlyClosed = result.problems.every((p) => p.startsWith("deploys are closed"));
    if (onlyClosed && result.next) return { kind: "wait", until: result.next.start, why: result.summary };
    return { kind: "stop", why: result.summary };
}
