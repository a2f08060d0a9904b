// `npm run release` on the live local cluster against a real Prometheus that scrapes one
// metrics target per track and per colour, labelled as the ServiceMonitor labels the pods'
// series; each gets the share of requests the API server says is routed to it (the canary's
// weight, the colour the Service selects). Assertions read the API server.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { Kubectl } from "../../commands/kube";
import { kubectl, liveStack, removeStack } from "./cluster";
import { expectOk, toolchainReady, Workspace, type Run } from "./engine";
import { MetricsTarget, startPrometheus, type RunningPrometheus } from "./prometheus";

jest.setTimeout(600_000);

const NS = "e2e-release";
const STACK = "rel";
let ws: Workspace;
let k: Kubectl;
let prom: RunningPrometheus;
/** web's stable and canary tracks, api's blue and green: each exports only its own requests. */
const targets: Record<string, MetricsTarget> = {};
/** What the cluster runs, polled from the API server while the test runs. */
const live = { canaryWeight: 0, color: "blue" };
let poll: NodeJS.Timeout | undefined;
/** The share of its own requests the canary fails; green's latency in seconds. */
const behaviour = { canaryErrors: 0, greenLatency: 0.08 };
/** Requests per second each service gets, split as the cluster routes them. */
const RPS = 400;

function kubectlJson(args: string[]): Promise<any> {
    return new Promise((resolve) =>
        execFile(k.binary, ["--kubeconfig", k.kubeconfig, ...args, "-o", "json"], (err, out) =>
            resolve(err ? undefined : JSON.parse(out)),
        ),
    );
}

beforeAll(async () => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("live-release");
    const share = () => live.canaryWeight / 100;
    targets["web-stable"] = new MetricsTarget(
        () => 0,
        () => 0.08,
        () => RPS * (1 - share()),
    );
    targets["web-canary"] = new MetricsTarget(
        () => behaviour.canaryErrors,
        () => 0.08,
        () => RPS * share(),
    );
    targets["api-blue"] = new MetricsTarget(
        () => 0,
        () => 0.08,
        () => (live.color === "blue" ? RPS : 0),
    );
    targets["api-green"] = new MetricsTarget(
        () => 0,
        () => behaviour.greenLatency,
        () => (live.color === "green" ? RPS : 0),
    );
    poll = setInterval(async () => {
        const ing = await kubectlJson(["get", "ingress", "web-canary", "-n", NS]);
        live.canaryWeight = Number(ing?.metadata?.annotations?.["nginx.ingress.kubernetes.io/canary-weight"] ?? 0);
        const svc = await kubectlJson(["get", "service", "api", "-n", NS]);
        live.color = svc?.spec?.selector?.["runbook.dev/color"] ?? "blue";
    }, 500);
    // Labelled as the ServiceMonitor labels the pods' series: runbook.dev/track and /color.
    prom = await startPrometheus(path.join(ws.dir, ".prometheus"), [
        ...(await Promise.all(
            (["stable", "canary"] as const).map(async (track) => ({
                port: await targets[`web-${track}`].start(),
                labels: { namespace: NS, service: "web-metrics", runbook_dev_track: track },
            })),
        )),
        ...(await Promise.all(
            (["blue", "green"] as const).map(async (color) => ({
                port: await targets[`api-${color}`].start(),
                labels: { namespace: NS, service: "api-metrics", runbook_dev_color: color },
            })),
        )),
    ]);
    // One stack for every case, in the live cluster from the start; short windows so a
    // change of behaviour shows in the triggers within seconds.
    liveStack(ws, STACK, NS, (c) => {
        const w = c["runbook:services"].web;
        w.canary.weight = 0;
        w.canary.steps = [5, 25, 100];
        c["runbook:alerts"] = { ...(c["runbook:alerts"] ?? {}), errorRateFor: "20s", latencyFor: "20s" };
    });
    expectOk(ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"]));
});

afterAll(async () => {
    if (poll) clearInterval(poll);
    await prom?.stop();
    await Promise.all(Object.values(targets).map((t) => t.stop()));
    removeStack(ws, STACK, NS);
});

/** The release command, run asynchronously so the metrics target keeps answering scrapes. */
const release = (stack: string, ...extra: string[]): Promise<Run> =>
    ws.script("release", ["--stack", stack, "--dir", ws.dir, "--prometheus", prom.url, ...extra]);
const fast = ["--step-seconds", "6", "--interval-seconds", "2", "--grace-seconds", "5"];
const history = (stack: string) =>
    JSON.parse(ws.pulumi(["stack", "history", "--stack", stack, "--json"]).stdout).map((u: any) => u.message as string);
const setCanaryImage = (image: string) =>
    ws.pulumi(["config", "set", "--path", "runbook:services.web.canary.image", image, "--stack", STACK]).code;
const stackFile = (stack: string) => parse(fs.readFileSync(path.join(ws.dir, `Pulumi.${stack}.yaml`), "utf8")).config;

describe("canary", () => {
    test("a healthy canary walks 5 → 25 → 100 and is promoted", async () => {
        const canaryImage = stackFile(STACK)["runbook:services"].web.canary.image;
        const r = await release(STACK, "--service", "web", ...fast);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`released web: ${canaryImage} promoted after 5, 25 %`);
        expect(r.stderr).toMatch(/web 5 % 00:0\d\/00:06 ErrorRateCritical 0 % ≤ 1 %/);
        const stable = k.get(["deployment", "web-stable", "-n", NS]);
        expect(stable.spec.template.spec.containers[0].image).toBe(canaryImage);
        expect(k.get(["deployment", "web-canary", "-n", NS]).spec.replicas).toBe(0);
        expect(
            k.get(["ingress", "web-canary", "-n", NS]).metadata.annotations[
                "nginx.ingress.kubernetes.io/canary-weight"
            ],
        ).toBe("0");
        const h = history(STACK);
        for (const step of ["step 5 %", "step 25 %", "step 100 %"])
            expect(h.some((m: string) => m.includes(`release web: ${step}`))).toBe(true);
    });

    test("a canary whose image fails 10 % of its requests is aborted at its first 5 % step", async () => {
        // Across the service that is 0.5 % of requests, under the 1 % trigger: measured on the
        // whole service, this canary was promoted.
        const stableImage = stackFile(STACK)["runbook:services"].web.image;
        expect(setCanaryImage("ghcr.io/acme/shop-web:2.9.0")).toBe(0);
        behaviour.canaryErrors = 0.1;
        try {
            const r = await release(STACK, "--service", "web", ...fast);
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(
                "watching ErrorRateCritical, LatencyP95High, LatencyP99High, LatencyP95AboveBaseline on the canary track's requests (baseline: the stable track), at least 50 each",
            );
            expect(r.stdout).toMatch(
                // The window still holds the previous release's clean canary requests, so the
                // first reading above 1 % may be under 10 % (test/e2e/analysis reads it whole).
                /^aborted web at 5 %: breach: ErrorRateCritical [0-9.]+ % > 1 %; canary weight is 0$/m,
            );
        } finally {
            behaviour.canaryErrors = 0;
        }
        expect(
            k.get(["ingress", "web-canary", "-n", NS]).metadata.annotations[
                "nginx.ingress.kubernetes.io/canary-weight"
            ],
        ).toBe("0");
        expect(k.get(["deployment", "web-canary", "-n", NS]).spec.replicas).toBe(0);
        expect(k.get(["deployment", "web-stable", "-n", NS]).spec.template.spec.containers[0].image).toBe(stableImage);
        expect(stackFile(STACK)["runbook:services"].web.canary.weight).toBe(0);
    });

    test("the image that was just aborted cannot be released again: it needs a new release", async () => {
        const r = await release(STACK, "--service", "web", ...fast);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
            /services\.web: this would give the canary ghcr\.io\/acme\/shop-web:2\.9\.0 traffic again, which npm run release rolled back at \S+ \(canary 5 % → 0 %: release analysis at 5 %: breach: ErrorRateCritical /,
        );
        expect(r.stderr).toContain("the stack file is back as it was");
        expect(stackFile(STACK)["runbook:services"].web.canary).toMatchObject({
            image: "ghcr.io/acme/shop-web:2.9.0",
            weight: 0,
        });
    });

    test("a canary that exports no requests aborts after the grace period, never passes", async () => {
        expect(setCanaryImage("ghcr.io/acme/shop-web:2.9.1")).toBe(0);
        targets["web-canary"].serving = false;
        try {
            const r = await release(STACK, "--service", "web", ...fast);
            expect(r.stderr).not.toMatch(/^release: /m);
            expect(r.code).toBe(1);
            expect(r.stdout).toMatch(
                /^aborted web at 5 %: no data after [0-9]+ s \(grace 5 s\): ErrorRateCritical no data \(canary track had 0 requests in 20s, fewer than the 50 a reading needs\)/m,
            );
        } finally {
            targets["web-canary"].serving = true;
        }
        expect(
            k.get(["ingress", "web-canary", "-n", NS]).metadata.annotations[
                "nginx.ingress.kubernetes.io/canary-weight"
            ],
        ).toBe("0");
    });
});

describe("blue/green", () => {
    test("a switch whose p95 latency rises above 500 ms switches back", async () => {
        expect(k.get(["service", "api", "-n", NS]).spec.selector["runbook.dev/color"]).toBe("blue");
        const greenImage = stackFile(STACK)["runbook:services"].api.blueGreen.green.image;
        behaviour.greenLatency = 0.9;
        let r: Run;
        try {
            r = await release(
                STACK,
                "--service",
                "api",
                "--step-seconds",
                "40",
                "--interval-seconds",
                "2",
                "--grace-seconds",
                "10",
            );
        } finally {
            behaviour.greenLatency = 0.08;
        }
        expect(r.stderr).toContain(`release api: switch blue → green (${greenImage}): applied`);
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/^switched api back to blue: breach: LatencyP95High [0-9]+ ms > 500 ms$/m);
        // What the cluster serves, and what the next `pulumi up` would apply, are blue again.
        expect(k.get(["service", "api", "-n", NS]).spec.selector["runbook.dev/color"]).toBe("blue");
        expect(stackFile(STACK)["runbook:services"].api.blueGreen.activeColor).toBe("blue");
        expect(history(STACK)[0]).toMatch(
            /^rollback api: green → blue by npm run release: release analysis: breach: LatencyP95High/,
        );
        expectOk(ws.pulumi(["preview", "--stack", STACK, "--expect-no-changes", "--policy-pack", "policies"]));
    });
});
