// `npm run release` on real traffic. The local stack's pods run on the cluster's real node;
// the web canary is split by the cluster's Gateway (Traefik) by its HTTPRoute's weights; the
// requests are the load generator's (lib/load), through the Gateway for web and the active
// Service for api; a real Prometheus scrapes the pods as the stack's ServiceMonitors describe
// them (ServiceMonitorDiscovery), and Traefik's own metrics. Every verdict is the release
// command's reading of those requests; every share is counted from the answers' X-App-Version.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { Kubectl } from "../../commands/kube";
import { canaryTraffic } from "../../commands/release-loop";
import type { GatewayApiRouterConfig } from "../../policies/routers/gateway-api";
import { stackConfigOrThrow } from "../../commands/stack";
import { instant } from "../../lib/analysis";
import { alertTarget, releaseTriggers, rolloutTriggers } from "../../lib/promql";
import { formatLoad, loadWhile, NO_ANSWER, runLoad, UNNAMED, type LoadPlan, type LoadResult } from "../../lib/load";
import { gatewayHost, kubectl, realNodeStack, removeStack } from "./cluster";
import { expectExit, expectOk, toolchainReady, Workspace, type Run } from "./engine";
import { GATEWAY_SCRAPE_JOB, ServiceMonitorDiscovery, startPrometheus, type RunningPrometheus } from "./prometheus";

jest.setTimeout(600_000);

const NS = "e2e-release";
const STACK = "rel";
/** Traefik's entry points (scripts/cluster-node.sh): the Gateway's listener, its metrics and API. */
const GATEWAY = "http://127.0.0.1:18080";
const TRAEFIK_API = "http://127.0.0.1:18081/api";
let ws: Workspace;
let k: Kubectl;
let prom: RunningPrometheus;
let discovery: ServiceMonitorDiscovery | undefined;

beforeAll(async () => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("live-release");
    // Short windows so a change of behaviour shows in the triggers within seconds, and a
    // reading from 20 requests (at 5 % of 100 a second the canary gets 5).
    realNodeStack(ws, STACK, NS, (c) => {
        const w = c["runbook:services"].web;
        w.canary.weight = 0;
        w.canary.steps = [5, 25, 100];
        for (const s of Object.values(c["runbook:services"] as Record<string, any>)) s.progressDeadlineSeconds = 60;
        c["runbook:alerts"] = { ...(c["runbook:alerts"] ?? {}), errorRateFor: "20s", latencyFor: "20s" };
        c["runbook:analysis"] = { minRequests: 20 };
    });
    expectOk(up());
    discovery = await ServiceMonitorDiscovery.start(k, NS, path.join(ws.dir, ".prometheus", "targets"));
    prom = await startPrometheus(path.join(ws.dir, ".prometheus"), [], [...discovery.jobs, GATEWAY_SCRAPE_JOB]);
});

afterAll(async () => {
    discovery?.stop();
    await prom?.stop();
    removeStack(ws, STACK, NS);
});

const up = () => ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"]);
const setConfig = (key: string, value: string) =>
    expect(ws.pulumi(["config", "set", "--path", `runbook:${key}`, value, "--stack", STACK]).code).toBe(0);
const stackFile = () => parse(fs.readFileSync(path.join(ws.dir, `Pulumi.${STACK}.yaml`), "utf8")).config;
const history = () =>
    JSON.parse(ws.pulumi(["stack", "history", "--stack", STACK, "--json"]).stdout).map((u: any) => u.message as string);

/** The release command, run asynchronously so the load and Prometheus keep going. */
const release = (...extra: string[]): Promise<Run> =>
    ws.script("release", ["--stack", STACK, "--dir", ws.dir, "--prometheus", prom.url, ...extra]);
/**
 * Step and grace in seconds. A canary scaled up from 0 shows in its readings only once its pod
 * is ready, routed, discovered and scraped twice: seconds on an idle machine, more beside
 * another suite. A release expected to breach gets a grace no-data cannot reach first; a
 * healthy one a step long enough for a reading (users' grace is 300 s, docs/releases.md).
 */
const timing = (step: number, grace = step) => [
    "--step-seconds",
    String(step),
    "--interval-seconds",
    "2",
    "--grace-seconds",
    String(grace),
];
const healthy = timing(20);
const breach = timing(90);

/** web's requests as its clients send them: to the Gateway, for the stack's host. */
const web = (rps: number, seconds: number): LoadPlan => ({
    url: `${GATEWAY}/version`,
    host: gatewayHost(NS),
    rps,
    seconds,
});
/** api's requests: to its Service's cluster IP, which selects the active colour. */
const api = (rps: number, seconds: number): LoadPlan => ({
    url: `http://${k.get(["service", "api", "-n", NS]).spec.clusterIP}/version`,
    rps,
    seconds,
});

/** The value of `query` at `atMs`, as Prometheus answers it; undefined when it has none. */
async function valueAt(query: string, atMs: number): Promise<number | undefined> {
    const r = await instant(prom.url, query, fetch, atMs / 1000);
    return "value" in r ? r.value : undefined;
}

/** When each of `versions` answered, in seconds from `t0`: `<version> from +a s to +b s`. */
const answered = (r: LoadResult, t0: number, versions = [...r.byVersion.keys()]) =>
    versions
        .filter((v) => r.byVersion.has(v))
        .map((v) => {
            const c = r.byVersion.get(v)!;
            return `${v} from +${((c.firstAt - t0) / 1000).toFixed(1)} s to +${((c.lastAt - t0) / 1000).toFixed(1)} s`;
        });
const counts = (r: LoadResult) => Object.fromEntries([...r.byVersion].map(([v, c]) => [v, c.requests]));
const errors = (r: LoadResult) => [...r.byVersion.values()].reduce((a, c) => a + c.errors, 0);
const routeWeights = () =>
    k
        .get(["httproute", "web", "-n", NS])
        .spec.rules[0].backendRefs.map((b: any) => `${b.name}=${b.weight}`)
        .join(" ");

/**
 * Waits until the Gateway routes `weight` % of web's requests to the canary, as Traefik's
 * own API says (what it routes now, not what the API server holds), to a canary with pods.
 */
async function gatewayRoutes(weight: number): Promise<void> {
    const canary = `${NS}-web-canary-http-80`;
    const until = Date.now() + 30_000;
    for (;;) {
        const services = (await (await fetch(`${TRAEFIK_API}/http/services`)).json()) as any[];
        const split = services.find((x) => x.weighted?.services?.some((b: any) => b.name === canary));
        const w = split?.weighted.services.find((b: any) => b.name === canary)?.weight ?? 0;
        const pods = services.find((x) => x.name === `${canary}@kubernetesgateway`)?.loadBalancer?.servers ?? [];
        if (split && w === weight && (weight === 0 || pods.length > 0)) return;
        if (Date.now() > until)
            throw new Error(`Traefik does not route ${weight} % to ${canary} after 30 s: ${JSON.stringify(split)}`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

describe("canary through the Gateway", () => {
    test("each step's weight is the canary's share of real requests, within ±2 points", async () => {
        for (const weight of [5, 25]) {
            setConfig("services.web.canary.weight", String(weight));
            expectOk(up());
            await gatewayRoutes(weight);
            const r = await runLoad(web(100, 4));
            const c = counts(r);
            expect([Object.keys(c).sort(), errors(r), r.sent]).toEqual([["2.7.0", "2.8.0"], 0, 400]);
            expect(Math.abs((100 * c["2.8.0"]) / r.sent - weight)).toBeLessThanOrEqual(2);
        }
        setConfig("services.web.canary.weight", "0");
        expectOk(up());
        await gatewayRoutes(0);
        expect(counts(await runLoad(web(50, 2)))).toEqual({ "2.7.0": 100 });
    });

    test("a healthy canary walks 5 → 25 → 100 under load and is promoted; no version answers an error", async () => {
        const t0 = Date.now();
        const { result: r, load } = await loadWhile(web(100, 600), () => release("--service", "web", ...healthy));
        expect(r.stdout).toContain("released web: ghcr.io/acme/shop-web:2.8.0 promoted after 5, 25 %");
        expectExit(r, 0);
        // Counted where users' requests go: the Gateway's two backends.
        expect(r.stderr).toContain(
            `on the canary track (Traefik's backend ${NS}-web-canary-http-80) against the stable track (Traefik's backend ${NS}-web-http-80)`,
        );
        // No version answered an error. What the Gateway itself answered (a 502 or 503 with no
        // version, or no answer) is reported with when it happened, not asserted. Before the
        // route waited for the canary Service's endpoints to settle, full CI runs saw about 35,
        // all in the seconds after the 5 % step, while the loaded Gateway did not yet know the
        // canary's pod (docs/releases.md).
        const when = answered(load, t0, [UNNAMED, NO_ANSWER]);
        // Each step's update, as the release reports it: the 5 % step waits for the canary
        // Service's endpoints to settle (about 10 s more than the others).
        const updates = [...r.stderr.matchAll(/step (\d+) %.*?: applied in (\d+) s/g)].map(
            (m) => `${m[1]} % ${m[2]} s`,
        );
        process.stderr.write(
            `healthy canary release (${((Date.now() - t0) / 1000).toFixed(1)} s; updates ${updates.join(", ")}): ` +
                `${formatLoad(load).join("; ")}` +
                `${when.length > 0 ? `; the Gateway's failures: ${when.join(", ")}` : ""}\n`,
        );
        expect(load.byVersion.get("2.7.0")!.errors + load.byVersion.get("2.8.0")!.errors).toBe(0);
        expect(k.get(["deployment", "web-stable", "-n", NS]).spec.template.spec.containers[0].image).toBe(
            "ghcr.io/acme/shop-web:2.8.0",
        );
        // At 100 % every request is the new version's.
        await gatewayRoutes(0);
        expect(counts(await runLoad(web(50, 2)))).toEqual({ "2.8.0": 100 });
        const h = history();
        for (const step of ["step 5 %", "step 25 %", "step 100 %"])
            expect(h.some((m: string) => m.includes(`release web: ${step}`))).toBe(true);
    });

    test("a canary whose image fails 10 % of its requests is aborted at its first 5 % step", async () => {
        // Across the service that is 0.5 % of requests, under the 1 % trigger: measured on the
        // whole service, as the release did before it measured the canary itself, this canary
        // was promoted (shown below on these very requests).
        setConfig("services.web.canary.image", "ghcr.io/acme/shop-web:2.10.0");
        const { result: r, load } = await loadWhile(web(100, 600), () => release("--service", "web", ...breach));
        expectExit(r, 1);
        expect(r.stdout).toMatch(
            /^aborted web at 5 %: breach: ErrorRateCritical [0-9.]+ % > 1 %; canary weight is 0$/m,
        );
        expect(routeWeights()).toBe("web=100 web-canary=0");
        expect(stackFile()["runbook:services"].web.canary.weight).toBe(0);
        expect(k.get(["deployment", "web-canary", "-n", NS]).spec.replicas).toBe(0);
        // The requests users saw fail: the canary's, and only the canary's.
        const bad = load.byVersion.get("2.10.0")!;
        expect(bad.errors).toBeGreaterThan(0);
        expect(load.byVersion.get("2.8.0")!.errors).toBe(0);
        process.stderr.write(
            `bad canary: ${bad.requests} requests, ${bad.errors} failed; ` +
                `${((bad.lastAt - bad.firstErrorAt!) / 1000).toFixed(1)} s from its first failure to its last answer\n`,
        );
        // The same requests, at the canary's last answer, by the whole service's error rate
        // (the alert rule's query, which the release watched before), by the canary's own as
        // the release reads it (the Gateway's canary backend) and as its pods count it.
        const config = stackConfigOrThrow(ws.dir, STACK, process.env);
        const target = alertTarget("web", NS, config.environment);
        const service = config.services.find((x) => x.name === "web")!;
        const router = service.canary!.router as GatewayApiRouterConfig;
        expect(router).toMatchObject({ type: "gatewayApi", metrics: "traefik" });
        const [whole] = rolloutTriggers(target, config.alerts);
        const own = (r: GatewayApiRouterConfig) =>
            releaseTriggers(
                config.alerts,
                config.analysis,
                canaryTraffic(
                    r,
                    { canary: service.canary!.image, stable: service.image },
                    { target, alerts: config.alerts, port: service.servicePort },
                ),
            )[0];
        const wholeRate = await valueAt(whole.query, bad.lastAt);
        const gatewayRate = await valueAt(own(router).query, bad.lastAt);
        const podsRate = await valueAt(own({ ...router, metrics: "pods" }).query, bad.lastAt);
        process.stderr.write(
            `bad canary, error rate at its last answer: whole service ${wholeRate}, ` +
                `canary backend (Gateway) ${gatewayRate}, canary pods ${podsRate}\n`,
        );
        expect(wholeRate).toBeGreaterThan(0);
        expect(wholeRate).toBeLessThan(whole.threshold);
        expect(gatewayRate).toBeGreaterThan(config.alerts.errorRateCritical);
        expect(podsRate).toBeGreaterThan(config.alerts.errorRateCritical);
        expect(counts(await runLoad(web(50, 2)))).toEqual({ "2.8.0": 100 });
    });

    test("the image that was just aborted cannot be released again: it needs a new release", async () => {
        const r = await release("--service", "web", ...breach);
        expectExit(r, 1);
        expect(r.stderr).toMatch(
            /services\.web: this would give the canary ghcr\.io\/acme\/shop-web:2\.10\.0 traffic again, which npm run release rolled back at \S+ \(canary 5 % → 0 %: release analysis at 5 %: breach: ErrorRateCritical /,
        );
        expect(r.stderr).toContain("the stack file is back as it was");
    });

    test("a canary slower than the stable track by more than the baseline factor is aborted", async () => {
        // 400 ms a request: under the 500 ms p95 threshold, far above twice stable's p95.
        setConfig("services.web.canary.image", "ghcr.io/acme/shop-web:2.9.0");
        const { result: r } = await loadWhile(web(100, 600), () => release("--service", "web", ...breach));
        expectExit(r, 1);
        expect(r.stdout).toMatch(
            /^aborted web at 5 %: breach: LatencyP95AboveBaseline [0-9.]+ × > 2 ×; canary weight is 0$/m,
        );
        expect(routeWeights()).toBe("web=100 web-canary=0");
    });

    test("a canary that gets no requests aborts after the grace period, never passes", async () => {
        setConfig("services.web.canary.image", "ghcr.io/acme/shop-web:2.8.1");
        const r = await release("--service", "web", ...timing(10));
        expectExit(r, 1);
        expect(r.stdout).toMatch(
            /^aborted web at 5 %: no data after [0-9]+ s \(grace 10 s\): ErrorRateCritical no data \(canary track had [0-9]+ requests in [0-9]+s, fewer than the 20 a reading needs\)/m,
        );
        expect(routeWeights()).toBe("web=100 web-canary=0");
    });

    test("Prometheus has the Gateway's own series: the route's requests per backend and code", async () => {
        const query = async (q: string) =>
            (
                (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
                    data: { result: { metric: Record<string, string> }[] };
                }
            ).data.result.map((r) => `${r.metric.service} ${r.metric.code}`);
        const series = await query(`traefik_service_requests_total{service=~"${NS}-web.*"}`);
        expect(series).toContain(`${NS}-web-http-80@kubernetesgateway 200`);
        // The bad canary's 500s, as the Gateway counted them.
        expect(series).toContain(`${NS}-web-canary-http-80@kubernetesgateway 500`);
    });
});

describe("blue/green through the active Service", () => {
    test("a switch whose p95 latency rises above 500 ms switches back", async () => {
        expect(k.get(["service", "api", "-n", NS]).spec.selector["runbook.dev/color"]).toBe("blue");
        setConfig("services.api.blueGreen.green.image", "ghcr.io/acme/shop-api:1.45.0");
        const { result: r } = await loadWhile(api(20, 600), () => release("--service", "api", ...breach));
        expect(r.stderr).toContain("release api: switch blue → green (ghcr.io/acme/shop-api:1.45.0): applied");
        expect(r.stdout).toMatch(/^switched api back to blue: breach: LatencyP95High [0-9]+ ms > 500 ms$/m);
        expectExit(r, 1);
        expect(k.get(["service", "api", "-n", NS]).spec.selector["runbook.dev/color"]).toBe("blue");
        expect(stackFile()["runbook:services"].api.blueGreen.activeColor).toBe("blue");
        expect(history()[0]).toMatch(
            /^rollback api: green → blue by npm run release: release analysis: breach: LatencyP95High/,
        );
        expect(counts(await runLoad(api(20, 2)))).toEqual({ "1.41.2": 40 });
    });

    test("no request fails during a healthy switch", async () => {
        setConfig("services.api.blueGreen.green.image", "ghcr.io/acme/shop-api:1.42.0");
        const t0 = Date.now();
        const { result: r, load } = await loadWhile(api(20, 600), () => release("--service", "api", ...timing(30)));
        process.stderr.write(
            `healthy switch (from ${new Date(t0).toISOString()}): ${formatLoad(load).join("; ")}; ` +
                `${answered(load, t0).join(", ")}\n`,
        );
        expectExit(r, 0);
        expect(errors(load)).toBe(0);
        expect(Object.keys(counts(load)).sort()).toEqual(["1.41.2", "1.42.0"]);
        expect(counts(await runLoad(api(20, 2)))).toEqual({ "1.42.0": 40 });
    });
});
