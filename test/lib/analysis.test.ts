// lib/analysis.ts: how a release reads and judges its triggers, against a Prometheus HTTP API
// answered by a table (test/e2e/analysis runs the same queries on a real Prometheus).
import { DateTime } from "luxon";
import { describeReading, formatValue, gateAction, judge, readTrigger, type Reading } from "../../lib/analysis";
import type { Trigger } from "../../lib/promql";

const errors: Trigger = {
    alert: "ErrorRateCritical",
    query: "canary_error_ratio",
    threshold: 0.01,
    for: "5m",
    unit: "ratio",
    minRequests: [{ query: "canary_requests", min: 50, who: "canary track" }],
};
const latencyVsBaseline: Trigger = {
    alert: "LatencyP95AboveBaseline",
    query: "p95_ratio",
    threshold: 2,
    for: "5m",
    unit: "factor",
    minRequests: [
        { query: "canary_requests", min: 50, who: "canary track" },
        { query: "stable_requests", min: 50, who: "stable track" },
    ],
};

/** A Prometheus whose instant queries answer from `values` (a missing query: an empty vector). */
function prometheus(values: Record<string, number | "error">): { fetch: typeof fetch; asked: string[] } {
    const asked: string[] = [];
    const fake = async (url: string | URL | Request) => {
        const query = new URL(String(url)).searchParams.get("query") as string;
        asked.push(query);
        const v = values[query];
        if (v === "error") return new Response(JSON.stringify({ status: "error", error: "bad_data" }), { status: 400 });
        const result = v === undefined ? [] : [{ metric: {}, value: [0, String(v)] }];
        return new Response(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
    };
    return { fetch: fake as typeof fetch, asked };
}

describe("readTrigger", () => {
    test("a canary failing 10 % of its requests breaches, once it had enough requests", async () => {
        const p = prometheus({ canary_requests: 150, canary_error_ratio: 0.1 });
        const r = await readTrigger("http://prom", errors, p.fetch);
        expect(r).toEqual({ trigger: errors, status: "breach", value: 0.1 });
        expect(describeReading(r)).toBe("ErrorRateCritical 10 % > 1 %");
        expect(p.asked).toEqual(["canary_requests", "canary_error_ratio"]);
    });

    test("a quiet canary is no data, whatever its error rate reads", async () => {
        const p = prometheus({ canary_requests: 12, canary_error_ratio: 0 });
        const r = await readTrigger("http://prom", errors, p.fetch);
        expect(r.status).toBe("nodata");
        expect(describeReading(r)).toBe(
            "ErrorRateCritical no data (canary track had 12 requests in 5m, fewer than the 50 a reading needs)",
        );
        // The value is not even asked for.
        expect(p.asked).toEqual(["canary_requests"]);
    });

    test("no series of requests at all is 0 requests", async () => {
        const r = await readTrigger("http://prom", errors, prometheus({ canary_error_ratio: 0 }).fetch);
        expect(describeReading(r)).toBe(
            "ErrorRateCritical no data (canary track had 0 requests in 5m, fewer than the 50 a reading needs)",
        );
    });

    test("a relative trigger needs requests on both sides", async () => {
        const quietStable = prometheus({ canary_requests: 100, stable_requests: 3, p95_ratio: 5 });
        expect(describeReading(await readTrigger("http://prom", latencyVsBaseline, quietStable.fetch))).toBe(
            "LatencyP95AboveBaseline no data (stable track had 3 requests in 5m, fewer than the 50 a reading needs)",
        );
        const both = prometheus({ canary_requests: 100, stable_requests: 900, p95_ratio: 2.5 });
        expect(describeReading(await readTrigger("http://prom", latencyVsBaseline, both.fetch))).toBe(
            "LatencyP95AboveBaseline 2.5 × > 2 ×",
        );
    });

    test("Prometheus refusing a query, or not answering, is no data with its reason", async () => {
        const refused = await readTrigger("http://prom", errors, prometheus({ canary_requests: "error" }).fetch);
        expect(describeReading(refused)).toBe("ErrorRateCritical no data (Prometheus answered 400: bad_data)");
        const down = (async () => {
            throw new Error("connect ECONNREFUSED 127.0.0.1:9");
        }) as typeof fetch;
        expect(describeReading(await readTrigger("http://prom", errors, down))).toBe(
            "ErrorRateCritical no data (Prometheus unreachable: connect ECONNREFUSED 127.0.0.1:9)",
        );
    });

    test("below its threshold is ok", async () => {
        const r = await readTrigger(
            "http://prom",
            errors,
            prometheus({ canary_requests: 500, canary_error_ratio: 0.004 }).fetch,
        );
        expect(describeReading(r)).toBe("ErrorRateCritical 0.4 % ≤ 1 %");
    });
});

describe("formatValue", () => {
    test.each([
        ["ratio", 0.0123, "1.23 %"],
        ["seconds", 0.3404, "340 ms"],
        ["points", 0.025, "+2.5 points"],
        ["points", -0.01, "-1 points"],
        ["factor", 2.345, "2.35 ×"],
    ] as const)("%s %d reads %s", (unit, v, text) => {
        expect(formatValue({ ...errors, unit }, v)).toBe(text);
    });
});

describe("judge", () => {
    const ok: Reading = { trigger: errors, status: "ok", value: 0 };
    const breach: Reading = { trigger: errors, status: "breach", value: 0.1 };
    const nodata: Reading = { trigger: latencyVsBaseline, status: "nodata", why: "empty result" };

    test("a breach fails the step at once, even inside the grace period", () => {
        expect(judge([ok, breach], 1, 300)).toEqual({ kind: "fail", why: "breach: ErrorRateCritical 10 % > 1 %" });
    });

    test("no data waits out the grace period, then fails: never a pass", () => {
        expect(judge([ok, nodata], 299, 300)).toEqual({ kind: "continue" });
        expect(judge([ok, nodata], 300, 300)).toEqual({
            kind: "fail",
            why: "no data after 300 s (grace 300 s): LatencyP95AboveBaseline no data (empty result)",
        });
    });

    test("all ok continues", () => {
        expect(judge([ok], 1000, 300)).toEqual({ kind: "continue" });
    });
});

describe("gateAction", () => {
    const next = { start: DateTime.fromISO("2026-12-07T10:00:00Z") };
    test("go when allowed; wait when only the window is closed; stop otherwise", () => {
        expect(gateAction({ allowed: true, problems: [], summary: "" } as never)).toEqual({ kind: "go" });
        expect(
            gateAction({
                allowed: false,
                problems: ["deploys are closed until Monday"],
                summary: "closed",
                next,
            } as never),
        ).toEqual({ kind: "wait", until: next.start, why: "closed" });
        expect(
            gateAction({
                allowed: false,
                problems: ["deploys are closed until Monday", "missing approval: service-owner"],
                summary: "closed; approvals",
                next,
            } as never),
        ).toEqual({ kind: "stop", why: "closed; approvals" });
        expect(gateAction({ allowed: false, problems: ["in a freeze"], summary: "freeze" } as never)).toEqual({
            kind: "stop",
            why: "freeze",
        });
    });
});
