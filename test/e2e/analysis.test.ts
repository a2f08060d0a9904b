// The release analysis against a real Prometheus (Debian's build, on loopback) scraping
// synthetic per-track series, labelled as the ServiceMonitor labels a canary's and the stable
// track's pods: each trigger `npm run release` watches, read by lib/analysis as the command
// reads it. One service per case, all scraped at once; and a Gateway API canary read from
// the Gateway's series of its backends (Traefik's names).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { alertsSchema, analysisSchema } from "../../config/schema";
import { describeReading, readTrigger, type Reading } from "../../lib/analysis";
import { alertTarget, releaseTriggers, rolloutTriggers, type Trigger } from "../../lib/promql";
import { canaryTraffic } from "../../commands/release-loop";
import { imageVersion } from "../../components/labels";
import { gatewayApiSchema } from "../../policies/routers/gateway-api";
import { MetricsTarget, startPrometheus, type RunningPrometheus } from "./prometheus";

jest.setTimeout(180_000);

const NS = "analysis-e2e";
/** Short windows so the series fill them within seconds; thresholds as the runbooks set them. */
const alerts = alertsSchema.parse({ errorRateFor: "15s", latencyFor: "15s" });
const analysis = analysisSchema.parse({ minRequests: 50, baseline: { errorRateIncrease: 0.02, latencyRatio: 2 } });

/** The tracks' images: their pods' series carry the version (app_kubernetes_io_version). */
const IMAGES = { stable: "ghcr.io/acme/shop:1.0.0", canary: "ghcr.io/acme/shop:1.1.0" };

interface Track {
    rps: number;
    errors: number;
    latency: number;
}
/** Each case: a service with a stable and a canary track behaving as given. */
const CASES: Record<string, { stable: Track; canary: Track }> = {
    // The case the whole-service query promotes: 5 % of traffic failing 10 % reads 0.5 %.
    diluted: { stable: { rps: 95, errors: 0, latency: 0.08 }, canary: { rps: 5, errors: 0.1, latency: 0.08 } },
    healthy: { stable: { rps: 95, errors: 0, latency: 0.08 }, canary: { rps: 5, errors: 0, latency: 0.08 } },
    // 1 request in 4 s: under 50 in the window whatever it answers.
    quiet: { stable: { rps: 95, errors: 0, latency: 0.08 }, canary: { rps: 0.25, errors: 0, latency: 0.08 } },
    // Slower than stable by more than 2×, yet under the 500 ms p95 threshold.
    slow: { stable: { rps: 50, errors: 0, latency: 0.08 }, canary: { rps: 50, errors: 0, latency: 0.4 } },
    // 3 % errors against stable's 0.5 %: +2.5 points; the absolute threshold is raised to 5 % below.
    worse: { stable: { rps: 50, errors: 0.005, latency: 0.08 }, canary: { rps: 50, errors: 0.03, latency: 0.08 } },
};

/**
 * A Gateway API canary read from Traefik's series of its two backends (`metrics: traefik`):
 * the canary backend failing while `gatewayCanaryFailing` is set, the stable one healthy.
 */
const GATEWAY_APP = "gw";
let gatewayCanaryFailing = false;
const gatewayRouter = gatewayApiSchema.parse({ type: "gatewayApi", gateway: { name: "g" }, metrics: "traefik" });
const traefikBackend = (service: string) => ({
    requests: "traefik_service_requests_total",
    duration: "traefik_service_request_duration_seconds",
    labels: { service: `${NS}-${service}-http-80@kubernetesgateway` },
});

let prom: RunningPrometheus;
let dir: string;
const targets: MetricsTarget[] = [];

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "analysis-e2e-"));
    const scrape = [];
    for (const [service, tracks] of Object.entries(CASES))
        for (const track of ["stable", "canary"] as const) {
            const t = tracks[track];
            const target = new MetricsTarget(
                () => t.errors,
                () => t.latency,
                t.rps,
            );
            targets.push(target);
            scrape.push({
                port: await target.start(),
                labels: {
                    namespace: NS,
                    service: `${service}-metrics`,
                    runbook_dev_track: track,
                    app_kubernetes_io_version: imageVersion(IMAGES[track]),
                },
            });
        }
    for (const [backend, failing] of [
        [`${GATEWAY_APP}-canary`, () => (gatewayCanaryFailing ? 0.5 : 0)],
        [GATEWAY_APP, () => 0],
    ] as const) {
        const target = new MetricsTarget(failing, () => 0.08, 50, traefikBackend(backend));
        targets.push(target);
        // A job giving no `service` label: Traefik's own reaches Prometheus.
        scrape.push({ port: await target.start(), labels: {} });
    }
    prom = await startPrometheus(dir, scrape);
    // Every window (15 s) full of samples before anything is read: a half-filled one reads
    // whatever its first two scrapes happened to hold.
    await new Promise((r) => setTimeout(r, 18_000));
});

afterAll(async () => {
    await prom?.stop();
    await Promise.all(targets.map((t) => t.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
});

const target = (service: string) => alertTarget(service, NS, "staging");
const canaryTriggers = (service: string, a = alerts) =>
    releaseTriggers(
        a,
        analysis,
        canaryTraffic({ type: "replicas" }, IMAGES, { target: target(service), alerts: a, port: 80 }),
    );
/** The Gateway canary's triggers, on Traefik's backend series, in a release that began `sinceSeconds` ago. */
const gatewayTriggers = (sinceSeconds: number) =>
    releaseTriggers(
        alerts,
        analysis,
        canaryTraffic(gatewayRouter, IMAGES, { target: target(GATEWAY_APP), alerts, port: 80 }),
        sinceSeconds,
    );
const byAlert = async (triggers: Trigger[]) => {
    const readings = await Promise.all(triggers.map((t) => readTrigger(prom.url, t)));
    return Object.fromEntries(readings.map((r) => [r.trigger.alert, r])) as Record<string, Reading>;
};

/** Polls until every reading of `triggers` has a value (or `settled` says the case is read), then returns them. */
async function settled(
    triggers: Trigger[],
    done: (r: Record<string, Reading>) => boolean,
): Promise<Record<string, Reading>> {
    const until = Date.now() + 90_000;
    for (;;) {
        const r = await byAlert(triggers);
        if (done(r) || Date.now() > until) return r;
        await new Promise((res) => setTimeout(res, 1000));
    }
}
const valued = (r: Record<string, Reading>) => Object.values(r).every((x) => x.status !== "nodata");

test("5 % of traffic failing 10 %: the whole service reads 0.5 % and passes; the canary's own requests read 10 % and fail", async () => {
    const whole = await settled(rolloutTriggers(target("diluted"), alerts).slice(0, 1), valued);
    const canary = await settled(canaryTriggers("diluted"), valued);
    const wholeErrors = whole.ErrorRateCritical as Reading & { value: number };
    expect(wholeErrors.status).toBe("ok");
    expect(wholeErrors.value).toBeGreaterThan(0.003);
    expect(wholeErrors.value).toBeLessThan(0.008);
    const errors = canary.ErrorRateCritical as Reading & { value: number };
    expect(errors.status).toBe("breach");
    expect(errors.value).toBeCloseTo(0.1, 2);
    expect(describeReading(errors)).toMatch(/^ErrorRateCritical (9\.\d+|10(\.\d+)?) % > 1 %$/);
});

test("a healthy canary reads ok on every trigger", async () => {
    const r = await settled(canaryTriggers("healthy"), valued);
    expect(Object.values(r).map((x) => [x.trigger.alert, x.status])).toEqual([
        ["ErrorRateCritical", "ok"],
        ["LatencyP95High", "ok"],
        ["LatencyP99High", "ok"],
        ["ErrorRateAboveBaseline", "ok"],
        ["LatencyP95AboveBaseline", "ok"],
    ]);
    expect(describeReading(r.ErrorRateCritical)).toBe("ErrorRateCritical 0 % ≤ 1 %");
});

test("a quiet canary is no data on every trigger, never a pass", async () => {
    // Wait until the stable track alone has filled its window, so the canary's silence is what is read.
    await settled(rolloutTriggers(target("quiet"), alerts).slice(0, 1), valued);
    const r = await byAlert(canaryTriggers("quiet"));
    for (const reading of Object.values(r)) {
        expect(reading.status).toBe("nodata");
        expect(describeReading(reading)).toMatch(
            /no data \(canary track had \d+ requests in 15s, fewer than the 50 a reading needs\)$/,
        );
    }
});

test("a canary slower than twice the stable track fails on the baseline, under the absolute p95 threshold", async () => {
    const r = await settled(canaryTriggers("slow"), valued);
    expect(r.LatencyP95High.status).toBe("ok");
    expect(r.LatencyP95AboveBaseline.status).toBe("breach");
    expect(describeReading(r.LatencyP95AboveBaseline)).toMatch(/^LatencyP95AboveBaseline \d+(\.\d+)? × > 2 ×$/);
});

test("a canary 2.5 points worse than the stable track fails on the increase, under a 5 % absolute threshold", async () => {
    const lenient = alertsSchema.parse({ errorRateFor: "15s", latencyFor: "15s", errorRateCritical: 0.05 });
    const r = await settled(canaryTriggers("worse", lenient), valued);
    expect(r.ErrorRateCritical.status).toBe("ok");
    const increase = r.ErrorRateAboveBaseline as Reading & { value: number };
    expect(increase.status).toBe("breach");
    expect(increase.value).toBeGreaterThan(0.02);
    expect(increase.value).toBeLessThan(0.03);
});

test("a Gateway API canary on Traefik's backend series; a release never reads what its backend served before it began", async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // An earlier canary on the same backend failed half its requests, until 8 s ago.
    gatewayCanaryFailing = true;
    await sleep(10_000);
    gatewayCanaryFailing = false;
    await sleep(8_000);
    // Read over the whole 15 s window, its failures would be this release's.
    const whole = await byAlert(gatewayTriggers(Infinity));
    expect(whole.ErrorRateCritical.status).toBe("breach");
    expect(whole.ErrorRateCritical.trigger.query).toContain(
        `traefik_service_requests_total{service="${NS}-${GATEWAY_APP}-canary-http-80@kubernetesgateway",code=~"5.."}[15s]`,
    );
    // A release that began 5 s ago reads 5 s: none of them.
    const since = await byAlert(gatewayTriggers(5));
    expect(describeReading(since.ErrorRateCritical)).toBe("ErrorRateCritical 0 % ≤ 1 %");
    expect(since.ErrorRateCritical.trigger.for).toBe("5s");
    expect(Object.values(since).map((r) => r.status)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
});
