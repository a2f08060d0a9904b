// The policy pack as a platform team gets it: `npm pack -w policies`, the tarball installed
// into a directory outside this repository (so nothing resolves from our node_modules), and
// run by the real engine on a program that is not ours — plain k8s.apps.v1.Deployments, a
// PodDisruptionBudget and a hand-written HTTPRoute, written here without any of our
// components — previewed against the live local cluster. It reports what it should, and
// nothing about the objects that follow the rules.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterKubeconfig, kubectl } from "./cluster";
import { policyReports, toolchainReady, Workspace, type Run } from "./engine";

jest.setTimeout(600_000);

const STACK = "foreign";
const NS = "e2e-foreign";
let ws: Workspace;
let outside: string;
let pack: string;
let program: string;
let env: Record<string, string>;
let preview: Run;

/** The program's objects as the engine names them in a policy report. */
const OBJECTS = [
    `kubernetes:core/v1:Namespace: ${NS}`,
    "kubernetes:apps/v1:Deployment: checkout",
    "kubernetes:apps/v1:Deployment: cart",
    "kubernetes:policy/v1:PodDisruptionBudget: cart",
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute: checkout-route",
];

/** A program another team wrote: nothing of ours, only the well-known labels and annotations. */
const PROGRAM = `import * as k8s from "@pulumi/kubernetes";

const provider = new k8s.Provider("cluster", { kubeconfig: process.env.KUBECONFIG });
const opts = { provider };
const ns = "${NS}";
const labels = (app: string) => ({ "app.kubernetes.io/name": app, "runbook.dev/environment": "production" });

// Its own namespace: the first object an update would create.
new k8s.core.v1.Namespace("${NS}", { metadata: { name: ns, labels: { "runbook.dev/environment": "production" } } }, opts);

// Breaks four rules: no probes, no resources, a moving tag, no disruption budget.
new k8s.apps.v1.Deployment("checkout", {
    metadata: { name: "checkout", namespace: ns, labels: labels("checkout") },
    spec: {
        replicas: 2,
        selector: { matchLabels: { app: "checkout" } },
        template: {
            metadata: { labels: { app: "checkout" } },
            spec: { containers: [{ name: "checkout", image: "ghcr.io/acme/checkout:latest" }] },
        },
    },
}, opts);

// Follows them: probes, requests and limits, a release tag, a PodDisruptionBudget.
const probe = { httpGet: { path: "/healthz", port: 8080 } };
new k8s.apps.v1.Deployment("cart", {
    metadata: { name: "cart", namespace: ns, labels: labels("cart") },
    spec: {
        replicas: 2,
        selector: { matchLabels: { app: "cart" } },
        template: {
            metadata: { labels: { app: "cart" } },
            spec: {
                containers: [{
                    name: "cart",
                    image: "ghcr.io/acme/cart:3.1.4",
                    readinessProbe: probe,
                    livenessProbe: probe,
                    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                }],
            },
        },
    },
}, opts);
new k8s.policy.v1.PodDisruptionBudget("cart", {
    metadata: { name: "cart", namespace: ns },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "cart" } } },
}, opts);

// A canary by hand at 30 %, on a plan of 10 → 50 → 100.
new k8s.apiextensions.CustomResource("checkout-route", {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "checkout", namespace: ns, annotations: { "runbook.dev/canary-steps": "[10,50,100]" } },
    spec: {
        parentRefs: [{ name: "public" }],
        rules: [{ backendRefs: [
            { name: "checkout", port: 80, weight: 70 },
            { name: "checkout-canary", port: 80, weight: 30 },
        ] }],
    },
}, opts);
`;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    ws = new Workspace("foreign");
    env = { KUBECONFIG: clusterKubeconfig() };

    // The pack's tarball, as `npm publish -w policies` would upload it, installed where
    // Node.js cannot fall back to this repository's node_modules.
    outside = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-guardrails-"));
    const tarball = ws.pack(["-w", "policies"], outside);
    fs.writeFileSync(
        path.join(outside, "package.json"),
        JSON.stringify({
            name: "platform-guardrails",
            private: true,
            dependencies: { "runbook-guardrails": `file:${tarball}` },
        }),
    );
    ws.installFromCache(outside);
    pack = path.join(outside, "node_modules", "runbook-guardrails");

    program = path.join(ws.dir, "their-program");
    fs.mkdirSync(program);
    fs.writeFileSync(path.join(program, "Pulumi.yaml"), "name: their-program\nruntime: nodejs\nmain: index.ts\n");
    fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: "their-program", private: true }));
    fs.writeFileSync(path.join(program, "index.ts"), PROGRAM);
    ws.initStack(STACK, program, env);
    preview = ws.pulumi(["preview", "--stack", STACK, "--policy-pack", pack], env, program);
});

afterAll(() => {
    kubectl().run(["delete", "namespace", NS, "--ignore-not-found", "--wait=false"]);
    ws?.pulumi(["stack", "rm", STACK, "--yes", "--force"], env, program);
    if (outside) fs.rmSync(outside, { recursive: true, force: true });
});

test("the installed pack is its built JavaScript and manifest, none of the program", () => {
    for (const f of ["pack.js", "dist/index.js", "dist/lib/well-known.js", "PulumiPolicy.yaml", "package.json"])
        expect(fs.existsSync(path.join(pack, f))).toBe(true);
    // No sources: what runs is what `npm pack` built (ts-node would not compile them under node_modules).
    for (const f of ["index.ts", "lib", "components", "scripts", "test", "Pulumi.production.yaml"])
        expect(fs.existsSync(path.join(pack, f))).toBe(false);
    expect(fs.existsSync(path.join(outside, "node_modules", "@pulumi", "policy"))).toBe(true);
});

test("the preview fails on the mandatory violations, one for each rule the checkout Deployment breaks", () => {
    expect(preview.code).not.toBe(0);
    const out = preview.stdout;
    expect(out).toContain(`Deployment ${NS}/checkout: container 'checkout' has no readinessProbe and no livenessProbe`);
    expect(out).toContain(
        `Deployment ${NS}/checkout: container 'checkout' has no resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory`,
    );
    expect(out).toContain(
        `Deployment ${NS}/checkout: container 'checkout' image 'ghcr.io/acme/checkout:latest' uses the 'latest' tag`,
    );
    expect(out).toContain(`Deployment ${NS}/checkout has no PodDisruptionBudget selecting its pods`);
    expect(out).toContain(
        "Production app 'checkout' has no PrometheusRule alert ErrorRateCritical, ErrorRateWarning, LatencyP95High, PodRestartsHigh, MemoryHigh, ReadinessFailing",
    );
    expect(out).toContain("Production app 'cart' has no PrometheusRule alert");
});

test("the hand-written HTTPRoute is held to the plan it declares", () => {
    expect(preview.stdout).toContain(
        `HTTPRoute ${NS}/checkout: canary weight 30 is not on the plan [10, 50, 100] (0 aborts, 100 promotes)`,
    );
});

test("the gate judges a production stack it did not write: no release record, no approvals", () => {
    expect(
        policyReports(preview.stdout)
            .filter((r) => r.policy === "enforce-deploy-gate")
            .map((r) => r.level),
    ).toContain("mandatory");
    expect(preview.stdout).toMatch(/production deploy blocked at .*no release record: none on the resource/);
});

test("a production stack without backups is told which it lacks", () => {
    expect(preview.stdout).toContain("No backup CronJob in this production stack");
    expect(preview.stdout).toContain("No pre-deploy backup Job in this production stack");
    expect(preview.stdout).toContain("No restore drill CronJob in this production stack");
});

test("exactly these policies report, each on the resource it should", () => {
    const reported = policyReports(preview.stdout)
        .map((r) => `${r.policy} ${r.resource}`)
        .sort();
    // The gate names each verdict once per preview, on whichever of the program's objects
    // the engine analysed first: they register in parallel, so which one is not fixed.
    const gate = reported.filter((r) => r.startsWith("enforce-deploy-gate "));
    expect(gate).toHaveLength(1);
    expect(OBJECTS).toContain(gate[0].slice("enforce-deploy-gate ".length));
    expect([...new Set(reported.filter((r) => !gate.includes(r)))]).toEqual([
        "deny-unpinned-images kubernetes:apps/v1:Deployment: checkout",
        "require-backups-in-production pulumi:pulumi:Stack: their-program-foreign",
        "require-canary-weight-on-plan kubernetes:gateway.networking.k8s.io/v1:HTTPRoute: checkout-route",
        "require-pdb-in-production kubernetes:apps/v1:Deployment: checkout",
        "require-probes kubernetes:apps/v1:Deployment: checkout",
        "require-resource-limits kubernetes:apps/v1:Deployment: checkout",
        "require-rollback-alerts pulumi:pulumi:Stack: their-program-foreign",
    ]);
});

test("nothing is reported about the Deployment that follows the rules", () => {
    expect(preview.stdout).not.toMatch(new RegExp(`Deployment ${NS}/cart[: ]`));
});

test("pulumi up --skip-preview of it changes nothing: the gate refuses its first step", () => {
    const r = ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", pack], env, program);
    expect(r.code).not.toBe(0);
    const refused = policyReports(r.stdout)
        .filter((x) => x.level === "mandatory" && x.policy === "enforce-deploy-gate")
        .map((x) => x.resource);
    expect(refused.length).toBeGreaterThan(0);
    for (const object of refused) expect(OBJECTS).toContain(object);
    // Every other object lives in the namespace, so none of them can exist without it.
    expect(kubectl().find("namespace", NS)).toBeUndefined();
});
