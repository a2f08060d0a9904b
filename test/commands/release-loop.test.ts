// The release loop with a fake clock, metrics, gate and engine: the order of its updates,
// when it aborts, when it waits and what it records — in milliseconds, with no cluster or
// Prometheus (test/e2e/live-release runs the same loop on the live cluster).
import { DateTime } from "luxon";
import type { ServiceConfig } from "../../config/types";
import type { GateAction, Reading } from "../../lib/analysis";
import { alertTarget, type ReleaseTraffic, type Trigger } from "../../lib/promql";
import { releaseBlueGreen, releaseCanary, type ReleaseWorld, type TrafficSource } from "../../commands/release-loop";
import type { GatewayApiRouterConfig } from "../../policies/routers/gateway-api";
import { stackConfig } from "../util/stack";

const local = stackConfig("local");
const web = local.services.find((s) => s.name === "web") as ServiceConfig;
const api = local.services.find((s) => s.name === "api") as ServiceConfig;
const canaryAt = (weight: number): ServiceConfig => ({
    ...web,
    canary: { ...(web.canary as NonNullable<ServiceConfig["canary"]>), weight, steps: [5, 25, 100], stepMinutes: 10 },
});
const src = (s: ServiceConfig): TrafficSource => ({
    target: alertTarget(s.name, local.namespace.name, local.environment),
    alerts: local.alerts,
    port: s.servicePort,
});
/** web at weight 0, its release reading the Gateway API router's `metrics`. */
const readFrom = (metrics: GatewayApiRouterConfig["metrics"]): ServiceConfig => {
    const c = canaryAt(0);
    const router = { ...(c.canary!.router as GatewayApiRouterConfig), metrics };
    return { ...c, canary: { ...c.canary!, router } };
};
/** The traffic a whole healthy release of `s` asks its triggers for. */
async function measuredBy(s: ServiceConfig): Promise<ReleaseTraffic[]> {
    const seen: ReleaseTraffic[] = [];
    await releaseCanary(
        world(ok).w,
        s,
        src(s),
        (traffic) => {
            seen.push(traffic);
            return () => [errors];
        },
        timing,
    );
    return seen;
}
const timing = { intervalSeconds: 60, graceSeconds: 300, postSwitchSeconds: 900 };
const START = Date.parse("2026-12-07T11:00:00Z");

const errors: Trigger = { alert: "ErrorRateCritical", query: "q", threshold: 0.01, for: "5m", unit: "ratio" };

/**
 * A world whose clock moves only when the loop sleeps, whose metrics answer `reading(now,
 * config)` from what was applied so far, whose gate answers `gate(now)`.
 */
function world(
    reading: (at: number, applied: Record<string, string>) => Omit<Reading, "trigger">,
    gate: (at: number) => GateAction = () => ({ kind: "go" }),
    applyOk: (values: Record<string, string>) => boolean = () => true,
) {
    let now = START;
    const applied: Record<string, string> = {};
    const updates: { at: number; values: Record<string, string>; message: string }[] = [];
    const log: string[] = [];
    const result: string[] = [];
    const w: ReleaseWorld = {
        now: () => now,
        sleep: async (ms) => {
            now += ms;
        },
        read: async (trigger) => ({ trigger, ...reading(now, applied) }) as Reading,
        gate: () => gate(now),
        apply: async (values, message) => {
            updates.push({ at: now, values, message });
            const ok = applyOk(values);
            if (ok) Object.assign(applied, values);
            return ok;
        },
        log: (line) => log.push(line),
        result: (line) => result.push(line),
        instant: () => DateTime.fromMillis(now),
    };
    return { w, updates, log, result, minutes: () => (now - START) / 60_000 };
}

const ok = () => ({ status: "ok" as const, value: 0 });
const weightKey = "runbook:services.web.canary.weight";

describe("canary", () => {
    test("a healthy canary: each step applied, watched for stepMinutes, then promoted", async () => {
        const f = world(ok);
        expect(await releaseCanary(f.w, canaryAt(0), src(web), () => () => [errors], timing)).toBe(0);
        expect(f.updates.map((u) => [(u.at - START) / 60_000, u.values])).toEqual([
            [0, { [weightKey]: "5" }],
            [10, { [weightKey]: "25" }],
            [20, { "runbook:services.web.image": "ghcr.io/acme/shop-web:2.8.0", [weightKey]: "0" }],
        ]);
        expect(f.result).toEqual(["released web: ghcr.io/acme/shop-web:2.8.0 promoted after 5, 25 %"]);
        // Read at 0, 1, …, 10 minutes of each step.
        expect(f.log.filter((l) => l.startsWith("web 5 % "))).toHaveLength(11);
    });

    test("measured on the canary's pods of its image, against the stable track's of theirs", async () => {
        const seen = await measuredBy(readFrom("pods"));
        // A canary aborted a minute ago ran on the same track: its requests are not this one's.
        const pods = (track: string, version: string) => ({
            requests: "http_requests_total",
            duration: "http_request_duration_seconds",
            code: "code",
            labels: {
                namespace: "shop-local",
                service: "web-metrics",
                runbook_dev_track: track,
                app_kubernetes_io_version: version,
            },
            where: `its pods, version ${version}`,
        });
        expect(seen).toEqual([
            {
                measured: pods("canary", "2.8.0"),
                measuredName: "canary track",
                baseline: pods("stable", "2.7.0"),
                baselineName: "stable track",
            },
        ]);
    });

    test("with `metrics: traefik`, measured on the Gateway's canary backend against its stable backend", async () => {
        const seen = await measuredBy(readFrom("traefik"));
        expect([seen[0].measured.labels, seen[0].baseline?.labels]).toEqual([
            { service: "shop-local-web-canary-http-80@kubernetesgateway" },
            { service: "shop-local-web-http-80@kubernetesgateway" },
        ]);
        expect(seen[0].measured).toMatchObject({ requests: "traefik_service_requests_total", code: "code" });
    });

    test("no window reaches back before the release began: each reading is asked how long ago that was", async () => {
        const f = world(ok, (at) =>
            // Closed for the first 30 minutes: the release waits before its first step.
            at < START + 30 * 60_000
                ? { kind: "wait", until: DateTime.fromMillis(START + 30 * 60_000), why: "closed" }
                : { kind: "go" },
        );
        const since: number[] = [];
        await releaseCanary(
            f.w,
            canaryAt(0),
            src(web),
            () => (s) => {
                since.push(s);
                return [errors];
            },
            timing,
        );
        // Readings every minute of two 10-minute steps, counted from the release's start.
        expect(since.slice(0, 3)).toEqual([1800, 1860, 1920]);
        expect(since.at(-1)).toBe(1800 + 1200);
        expect(since).toHaveLength(22);
    });

    test("a canary already at 25 % goes on from there", async () => {
        const f = world(ok);
        await releaseCanary(f.w, canaryAt(25), src(web), () => () => [errors], timing);
        expect(f.updates[0].values).toEqual({
            "runbook:services.web.image": "ghcr.io/acme/shop-web:2.8.0",
            [weightKey]: "0",
        });
    });

    test("a breach at 5 % aborts at once: weight 0 with a rollback record, no later step", async () => {
        const f = world((at, applied) =>
            applied[weightKey] === "5" && at - START >= 3 * 60_000 ? { status: "breach", value: 0.1 } : ok(),
        );
        expect(await releaseCanary(f.w, canaryAt(0), src(web), () => () => [errors], timing)).toBe(1);
        expect(f.updates).toHaveLength(2);
        expect(f.updates[1]).toEqual({
            at: START + 3 * 60_000,
            values: {
                [weightKey]: "0",
                "runbook:release.rollback.reason": "release analysis at 5 %: breach: ErrorRateCritical 10 % > 1 %",
                "runbook:release.rollback.by": "npm run release",
                "runbook:release.rollback.at": "2026-12-07T11:03:00Z",
            },
            message: "release web: aborted at 5 % (breach: ErrorRateCritical 10 % > 1 %)",
        });
        expect(f.result).toEqual(["aborted web at 5 %: breach: ErrorRateCritical 10 % > 1 %; canary weight is 0"]);
    });

    test("no data is waited out for the grace period, then aborts: never a pass", async () => {
        const f = world(() => ({ status: "nodata", why: "empty result" }));
        expect(await releaseCanary(f.w, canaryAt(0), src(web), () => () => [errors], timing)).toBe(1);
        expect(f.updates[1].at - START).toBe(5 * 60_000);
        expect(f.result).toEqual([
            "aborted web at 5 %: no data after 300 s (grace 300 s): ErrorRateCritical no data (empty result); canary weight is 0",
        ]);
    });

    test("no data inside the grace period, then data: the step goes on", async () => {
        const f = world((at) => (at - START < 2 * 60_000 ? { status: "nodata", why: "quiet" } : ok()));
        expect(await releaseCanary(f.w, canaryAt(0), src(web), () => () => [errors], timing)).toBe(0);
    });

    test("a closed window pauses the release until it opens; a freeze stops it with nothing applied", async () => {
        const opens = START + 90 * 60_000;
        const paused = world(ok, (at) =>
            at < opens
                ? { kind: "wait", until: DateTime.fromMillis(opens), why: "deploys are closed" }
                : { kind: "go" },
        );
        expect(await releaseCanary(paused.w, canaryAt(0), src(web), () => () => [errors], timing)).toBe(0);
        expect(paused.updates[0].at).toBe(opens);
        expect(paused.log[1]).toBe("web step 5 %: paused: deploys are closed; resumes 2026-12-07T12:30:00.000Z");

        const frozen = world(ok, () => ({ kind: "stop", why: "in the freeze Dec 24–26" }));
        expect(await releaseCanary(frozen.w, canaryAt(0), src(web), () => () => [errors], timing)).toBe(1);
        expect(frozen.updates).toEqual([]);
        expect(frozen.log).toContain("web step 5 %: blocked: in the freeze Dec 24–26");
    });

    test("a step whose update fails stops the release there", async () => {
        const f = world(ok, undefined, (values) => values[weightKey] !== "25");
        expect(await releaseCanary(f.w, canaryAt(0), src(web), () => () => [errors], timing)).toBe(1);
        expect(f.updates.map((u) => u.values[weightKey])).toEqual(["5", "25"]);
        expect(f.result).toEqual([]);
    });
});

describe("blue/green", () => {
    const colorKey = "runbook:services.api.blueGreen.activeColor";

    test("switches to the idle colour, measured on that colour, watched postSwitchMinutes", async () => {
        const measured: string[] = [];
        const f = world(ok);
        const code = await releaseBlueGreen(
            f.w,
            api,
            src(api),
            (traffic) => {
                measured.push(traffic.measuredName, JSON.stringify(traffic.measured.labels), String(traffic.baseline));
                return () => [errors];
            },
            timing,
        );
        expect(code).toBe(0);
        // Green's pods of its image only: not those of an image green ran before.
        expect(measured).toEqual([
            "green",
            '{"namespace":"shop-local","service":"api-metrics","runbook_dev_color":"green","app_kubernetes_io_version":"1.42.0"}',
            "undefined",
        ]);
        expect(f.updates.map((u) => u.values)).toEqual([{ [colorKey]: "green" }]);
        expect(f.minutes()).toBe(15);
        expect(f.result).toEqual(["released api: green (ghcr.io/acme/shop-api:1.42.0) live, watched 900 s"]);
    });

    test("a breach after the switch switches back, recorded as a rollback", async () => {
        const f = world((at, applied) => (applied[colorKey] === "green" ? { status: "breach", value: 0.9 } : ok()));
        expect(
            await releaseBlueGreen(
                f.w,
                api,
                src(api),
                () => () => [{ ...errors, unit: "seconds", threshold: 0.5 }],
                timing,
            ),
        ).toBe(1);
        expect(f.updates[1].values).toMatchObject({
            [colorKey]: "blue",
            "runbook:release.rollback.reason": "release analysis: breach: ErrorRateCritical 900 ms > 500 ms",
        });
        expect(f.updates[1].message).toBe(
            "rollback api: green → blue by npm run release: release analysis: breach: ErrorRateCritical 900 ms > 500 ms",
        );
    });
});
