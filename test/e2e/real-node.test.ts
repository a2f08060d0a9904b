// What the pods do, on the local cluster's real node (real-node-0): containers started by
// containerd and runc, probes asked by the kubelet, Services routed by kube-proxy, names
// resolved by CoreDNS, Jobs that really run curl. The local stack as it is (Pulumi.local.yaml
// puts its pods there), through the real engine, provider and policy pack. Every assertion
// reads the API server or the pods' own answers over HTTP from this machine.
import * as http from "node:http";
import type { Kubectl } from "../../commands/kube";
import { stackConfig } from "../util/stack";
import { expectOk, Workspace, toolchainReady } from "./engine";
import { gatewayHost, kubectl, realNodeStack, removeStack } from "./cluster";

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
        // A rollout that cannot finish is reported in 3 minutes, not thirty: Pulumi waits the
        // deadline once per batch of new pods, and once more (rolloutTimeouts).
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

/**
 * An HTTP GET from this machine: the status and body, or the connection error. A new
 * connection each time unless `agent` keeps them: through a Service's cluster IP, kube-proxy
 * picks a pod per connection, so each request is routed afresh.
 */
function get(url: string, agent: http.Agent | false = false): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { agent, timeout: 5000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within 5 s`)));
        req.on("error", reject);
    });
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

/**
 * Bounded load from this machine: `concurrency` clients asking `url` until `stop()` says so,
 * for at most `seconds`; the requests sent and the non-2xx or failed ones.
 */
async function load(
    url: string,
    o: { seconds: number; concurrency: number; stop: () => boolean },
): Promise<{ requests: number; failed: number }> {
    const until = Date.now() + o.seconds * 1000;
    let requests = 0;
    let failed = 0;
    let stopped = false;
    const checker = setInterval(() => (stopped = stopped || o.stop()), 5000);
    // Kept-alive connections: a bounded number of them, not one per request.
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
    const client = async () => {
        while (!stopped && Date.now() < until) {
            requests++;
            const ok = await get(url, agent).then(
                (r) => r.status < 300,
                () => false,
            );
            if (!ok) failed++;
        }
    };
    try {
        await Promise.all(Array.from({ length: o.concurrency }, client));
    } finally {
        clearInterval(checker);
        agent.destroy();
    }
    return { requests, failed };
}

test("the HPA scales the live colour on the pods' real CPU under load, read through metrics-server", async () => {
    // From the 2 pods staging keeps to at most 3, scaling when the pods use more than half
    // of their 50m CPU request.
    setConfig("services.api.autoscaling.maxReplicas", "3");
    setConfig("services.api.autoscaling.targetCpuUtilization", "50");
    expectOk(up());
    const hpa = () => k.get(["hpa", "api", "-n", NS]);
    // Idle, the pods' CPU is measured (by the kubelet, through metrics-server) and below the target.
    const idle = await until(() => hpa().status.currentMetrics?.[0]?.resource?.current?.averageUtilization, 90);
    expect(idle).toBeLessThan(50);
    const before = hpa().status.currentReplicas as number;
    expect(before).toBe(2);

    const ip = clusterIP("api");
    const scaled = () => hpa().status.desiredReplicas > before;
    const sent = await load(`http://${ip}/version`, { seconds: 150, concurrency: 16, stop: scaled });
    expect(sent.failed).toBe(0);
    // The live colour's Deployment got more replicas because its pods' CPU rose past the target.
    const h = hpa();
    expect(h.status.desiredReplicas).toBeGreaterThan(before);
    expect(h.status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(50);
    const events = k.list("events", NS).filter((e) => e.involvedObject.kind === "HorizontalPodAutoscaler");
    expect(events.map((e) => e.message).join("\n")).toMatch(
        /New size: 3; reason: cpu resource utilization \(percentage of request\) above target/,
    );
    const scaledTo = k.get(["deployment", "api-blue", "-n", NS]).spec.replicas;
    expect(scaledTo).toBe(3);

    // The next deploy (here: a new variable, so a new pod template) rolls out on the HPA's
    // count: Pulumi neither resets it to minReplicas nor fails on the HPA's field manager.
    setConfig("services.api.env.GREETING", "hello");
    expectOk(up());
    const blue = k.get(["deployment", "api-blue", "-n", NS]);
    expect(blue.spec.replicas).toBe(scaledTo);
    expect(blue.spec.template.spec.containers[0].env).toContainEqual({ name: "GREETING", value: "hello" });
});

/** Polls `read` every 2 s until it answers a value (not undefined), for at most `seconds`. */
async function until<T>(read: () => T | undefined, seconds: number): Promise<T> {
    const end = Date.now() + seconds * 1000;
    for (;;) {
        const v = read();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error(`nothing to read within ${seconds} s`);
        await new Promise((r) => setTimeout(r, 2000));
    }
}

/**
 * The pods of `app`'s new pod templates (a ReplicaSet none of `before` belonged to), each not
 * ready, and the kubelet's probe events of them. By template, not by name: an autoscaler
 * scaling the Deployment mid-rollout adds pods to the old ReplicaSet too.
 */
function freshUnready(app: string, before: any[]): string {
    const hash = (p: any) => p.metadata.labels["pod-template-hash"];
    const old = new Set(before.map(hash));
    const fresh = servingPods(app).filter((p) => !old.has(hash(p)));
    expect(fresh.length).toBeGreaterThan(0);
    for (const pod of fresh) expect([pod.metadata.name, ready(pod)]).toEqual([pod.metadata.name, false]);
    return k
        .list("events", NS)
        .filter((e) => fresh.some((p) => p.metadata.name === e.involvedObject.name))
        .map((e) => e.message)
        .join("\n");
}

// Both broken probes in one update (each waits out its rollout deadline): the blue/green
// service's on a path the app does not serve, the canary service's on a port it does not
// listen on.
test("a readiness probe on a wrong path or a wrong port fails pulumi up; the live pods keep serving", async () => {
    const before = { api: servingPods("api"), web: servingPods("web") };
    setConfig("services.api.probes.readiness.path", "/api/ready");
    setConfig("services.web.probes.readiness.port", "3001");
    const r = up();
    expect(r.code).not.toBe(0);
    // Kubernetes gave up on the rollouts, and the update failed once it had (not 10 minutes later).
    expect(r.all).toMatch(/ProgressDeadlineExceeded/);
    // The new pods never became ready: the kubelet's probe got the app's answer, or none.
    expect(freshUnready("api", before.api)).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 404/);
    expect(freshUnready("web", before.web)).toMatch(
        /Readiness probe failed: Get "http:\/\/[\d.]+:3001\/api\/health": dial tcp [\d.]+:3001: connect: connection refused/,
    );
    // Nothing switched and no old pod was taken away (maxUnavailable 0): every request is
    // answered by the versions that served before.
    expect(selectorColor("api")).toBe("blue");
    expect(new Set(await versionsThrough("api", 20))).toEqual(new Set(["1.41.2"]));
    expect(new Set(await versionsThrough("web", 20))).toEqual(new Set(["2.7.0"]));

    removeConfig("services.api.probes.readiness.path");
    removeConfig("services.web.probes.readiness.port");
    expectOk(up());
});

test("the smoke test curls the idle colour for real: a colour whose database check fails is not switched to", async () => {
    setConfig("services.api.blueGreen.green.image", "ghcr.io/acme/shop-api:1.44.0");
    setConfig("services.api.blueGreen.activeColor", "green");
    const r = up();
    if (r.code === 0) {
        const jobs = k.list("jobs", NS, "runbook.dev/color=green").map((j) => j.metadata.name as string);
        const logs = jobs.map((j) => `${j}:\n${k.run(["logs", `job/${j}`, "-n", NS])}`).join("\n");
        throw new Error(`pulumi up switched to green; its smoke Jobs said:\n${logs}\n${r.all.slice(-3000)}`);
    }
    // Green's pods are ready (their readiness endpoint answers); the smoke Job's curl of the
    // database check through green's Service got the app's 503, and the Job failed.
    expect(
        servingPods("api")
            .filter((p) => p.spec.containers[0].image.endsWith(":1.44.0"))
            .every(ready),
    ).toBe(true);
    const job = k.list("jobs", NS, "runbook.dev/color=green").find((j) => (j.status.failed ?? 0) > 0);
    expect(job).toBeDefined();
    // It asked green's own Service, which selects the pods of green's declared image only.
    expect(k.get(["service", "api-green", "-n", NS]).spec.selector["app.kubernetes.io/version"]).toBe("1.44.0");
    const log = k.run(["logs", `job/${job.metadata.name}`, "-n", NS]);
    expect(log).toContain("ok   /api/health 200");
    expect(log).toContain("FAIL /api/health/db 503");
    // Traffic stays on blue, and so does the HPA (it moves only with a switch that happened).
    expect(selectorColor("api")).toBe("blue");
    expect(k.get(["hpa", "api", "-n", NS]).spec.scaleTargetRef.name).toBe("api-blue");
    expect(new Set(await versionsThrough("api", 20))).toEqual(new Set(["1.41.2"]));
});

test("npm run load sends bounded traffic the way clients come, and counts it per answering version", async () => {
    const load = (service: string) =>
        ws.script("load", ["--stack", STACK, "--service", service, "--seconds", "5", "--rps", "20", "--dir", ws.dir]);
    // Blue/green: through the active Service, which still selects blue after the refused switch.
    const api = await load("api");
    expect(api.stderr).toContain(`load: 20 GET /version a second for 5 s to Service ${NS}/api (198.18.17.`);
    expect([api.code, api.stdout.trim().split("\n")]).toEqual([0, ["1.41.2 requests=100 errors=0"]]);
    // The canary: through the cluster's Gateway, which splits by the HTTPRoute's weights (25 %).
    const web = await load("web");
    expect(web.stderr).toContain(
        `load: 20 GET /version a second for 5 s to Gateway runbook-gateway/local for ${gatewayHost(NS)} (127.0.0.1:18080)`,
    );
    expect(web.code).toBe(0);
    const counts = Object.fromEntries(
        web.stdout
            .trim()
            .split("\n")
            .map((l) => l.match(/^(\S+) requests=(\d+) errors=(\d+)$/)!)
            .map((m) => [m[1], { requests: Number(m[2]), errors: Number(m[3]) }]),
    );
    expect(Object.keys(counts).sort()).toEqual(["2.7.0", "2.8.0"]);
    expect(counts["2.7.0"].errors + counts["2.8.0"].errors).toBe(0);
    expect(counts["2.7.0"].requests + counts["2.8.0"].requests).toBe(100);
    expect(Math.abs(counts["2.8.0"].requests - 25)).toBeLessThanOrEqual(2);
});
