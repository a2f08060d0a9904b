// What the pods do, on the local cluster's real node (real-node-0): containers started by
// containerd and runc, probes asked by the kubelet, Services routed by kube-proxy, names
// resolved by CoreDNS, Jobs that really run curl. The local stack as it is (Pulumi.local.yaml
// puts its pods there), through the real engine, provider and policy pack. Every assertion
// reads the API server or the pods' own answers over HTTP from this machine.
import type { Kubectl } from "../../commands/kube";
import { stackConfig } from "../util/stack";
import { expectOk, Workspace, toolchainReady } from "./engine";
import { kubectl, realNodeStack, removeStack } from "./cluster";

jest.setTimeout(600_000);

const STACK = "real";
const NS = "e2e-real-node";
const NODE = "real-node-0";
/** The node's pod range (scripts/cluster-node.sh). */
const POD_RANGE = /^198\.18\.16\.\d+$/;
let ws: Workspace;
let k: Kubectl;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("real-node");
    realNodeStack(ws, STACK, NS, (c) => {
        // A rollout that cannot finish is reported after a minute, not ten.
        for (const s of Object.values(c["runbook:services"] as Record<string, any>)) s.progressDeadlineSeconds = 60;
    });
});

afterAll(() => removeStack(ws, STACK, NS));

const up = () => ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"]);
const setConfig = (key: string, value: string) =>
    expect(ws.pulumi(["config", "set", "--path", `runbook:${key}`, value, "--stack", STACK]).code).toBe(0);
const removeConfig = (key: string) =>
    expect(ws.pulumi(["config", "rm", "--path", `runbook:${key}`, "--stack", STACK]).code).toBe(0);
const local = stackConfig("local");
const api = local.services.find((s) => s.name === "api")!;

/** An HTTP GET from this machine: the status and body, or the connection error. */
async function get(url: string): Promise<{ status: number; body: string }> {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: (await r.text()).trim() };
}

const ready = (pod: any) => (pod.status.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
const servingPods = (app: string) =>
    k.list("pods", NS, `app.kubernetes.io/name=${app},app.kubernetes.io/component=server`);
const clusterIP = (service: string) => k.get(["service", service, "-n", NS]).spec.clusterIP as string;
const selectorColor = (service: string) => k.get(["service", service, "-n", NS]).spec.selector["runbook.dev/color"];

/**
 * Waits until a Service's cluster IP answers: kube-proxy programs a new Service's rules
 * after its EndpointSlice exists, a moment after `pulumi up` returned (until then the
 * connection is refused).
 */
async function answering(service: string): Promise<void> {
    const ip = clusterIP(service);
    const until = Date.now() + 20_000;
    for (;;) {
        const ok = await get(`http://${ip}/version`).then(
            (r) => r.status === 200,
            () => false,
        );
        if (ok) return;
        if (Date.now() > until) throw new Error(`Service ${service} (${ip}) did not answer within 20 s`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** Versions `n` requests through a Service's cluster IP answered with (kube-proxy's rules, from the host). */
async function versionsThrough(service: string, n: number): Promise<string[]> {
    const ip = clusterIP(service);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
        const r = await get(`http://${ip}/version`);
        out.push(r.status === 200 ? r.body : `HTTP ${r.status}`);
    }
    return out;
}

test("the local stack's pods run on the real node, pass their probes and answer from the host", async () => {
    expectOk(up());
    for (const s of local.services) {
        const pods = servingPods(s.name);
        expect(pods.length).toBeGreaterThan(0);
        for (const pod of pods) {
            expect([pod.metadata.name, pod.spec.nodeName, ready(pod)]).toEqual([pod.metadata.name, NODE, true]);
            expect(pod.status.podIP).toMatch(POD_RANGE);
            const base = `http://${pod.status.podIP}:${s.port}`;
            for (const path of s.healthEndpoints) expect(await get(base + path)).toEqual({ status: 200, body: "ok" });
            // Each pod runs its own image: the version it answers is its image's tag.
            const image: string = pod.spec.containers[0].image;
            expect(await get(`${base}/version`)).toEqual({ status: 200, body: image.split(":").pop() });
        }
    }
    // The active Service routes to the active colour's pods only.
    const blue = api.blueGreen!.images.blue.split(":").pop()!;
    await answering("api");
    expect(new Set(await versionsThrough("api", 20))).toEqual(new Set([blue]));
    // Each colour's smoke test ran curl in a pod, through the colour's Service, by its DNS name.
    for (const color of ["blue", "green"]) {
        const job = k.list("jobs", NS, `runbook.dev/color=${color}`)[0];
        expect(job.status.succeeded).toBe(1);
        const log = k.run(["logs", `job/${job.metadata.name}`, "-n", NS]);
        for (const path of api.healthEndpoints) expect(log).toContain(`ok   ${path} 200`);
    }
});

test("a readiness probe on a path the app does not serve fails pulumi up; the live colour keeps serving", async () => {
    const before = servingPods("api").map((p) => p.metadata.name);
    setConfig("services.api.probes.readiness.path", "/api/ready");
    const r = up();
    expect(r.code).not.toBe(0);
    // Kubernetes gave up on the rollout, and the update failed once it had (not 10 minutes later).
    expect(r.all).toMatch(/ProgressDeadlineExceeded/);
    // The new pods never became ready: the kubelet's probe got the app's 404. (The path is the
    // service's health path, so its liveness probe asks it too and restarts the container.)
    const fresh = servingPods("api").filter((p) => !before.includes(p.metadata.name));
    expect(fresh.length).toBeGreaterThan(0);
    for (const pod of fresh) expect([pod.metadata.name, ready(pod)]).toEqual([pod.metadata.name, false]);
    const events = k.list("events", NS).filter((e) => fresh.some((p) => p.metadata.name === e.involvedObject.name));
    expect(events.map((e) => e.message).join("\n")).toMatch(
        /Readiness probe failed: HTTP probe failed with statuscode: 404/,
    );
    // Nothing switched and no old pod was taken away (maxUnavailable 0): every request answered by blue.
    expect(selectorColor("api")).toBe("blue");
    expect(new Set(await versionsThrough("api", 20))).toEqual(new Set(["1.41.2"]));

    removeConfig("services.api.probes.readiness.path");
    expectOk(up());
});

test("the smoke test curls the idle colour for real: a colour whose database check fails is not switched to", async () => {
    setConfig("services.api.blueGreen.green.image", "ghcr.io/acme/shop-api:1.44.0");
    setConfig("services.api.blueGreen.activeColor", "green");
    const r = up();
    expect(r.code).not.toBe(0);
    // Green's pods are ready (their readiness endpoint answers); the smoke Job's curl of the
    // database check through green's Service got the app's 503, and the Job failed.
    expect(
        servingPods("api")
            .filter((p) => p.spec.containers[0].image.endsWith(":1.44.0"))
            .every(ready),
    ).toBe(true);
    const job = k.list("jobs", NS, "runbook.dev/color=green").find((j) => (j.status.failed ?? 0) > 0);
    expect(job).toBeDefined();
    const log = k.run(["logs", `job/${job.metadata.name}`, "-n", NS]);
    expect(log).toContain("ok   /api/health 200");
    expect(log).toContain("FAIL /api/health/db 503");
    // Traffic stays on blue.
    expect(selectorColor("api")).toBe("blue");
    expect(new Set(await versionsThrough("api", 20))).toEqual(new Set(["1.41.2"]));
});
