// A canary stepped through its plan on the live local cluster with the Gateway API router:
// the HTTPRoute's weights and the Deployments are read back from the API server.
import { Kubectl } from "../../commands/kube";
import { Workspace, toolchainReady } from "./engine";
import { kubectl, liveStack, removeStack } from "./cluster";

jest.setTimeout(300_000);

const STACK = "canary";
const NS = "e2e-canary";
let ws: Workspace;
let k: Kubectl;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("live-canary");
    liveStack(ws, STACK, NS, (c) => {
        c["runbook:services"] = {
            web: {
                strategy: "canary",
                image: "ghcr.io/acme/shop-web:2.7.0",
                port: 3000,
                canary: {
                    image: "ghcr.io/acme/shop-web:2.8.0",
                    weight: 5,
                    router: { type: "gatewayApi", gateway: { name: "shop-gateway", namespace: NS } },
                },
            },
        };
    });
});

afterAll(() => removeStack(ws, STACK, NS));

function step(weight: number, extra: Record<string, string> = {}): void {
    for (const [key, value] of Object.entries({ ...extra, "services.web.canary.weight": String(weight) }))
        expect(ws.pulumi(["config", "set", "--path", `runbook:${key}`, value, "--stack", STACK]).code).toBe(0);
    const r = ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"]);
    expect(r.all).not.toMatch(/mandatory|error:/);
    expect(r.code).toBe(0);
}

/** The HTTPRoute's backend weights and what each Deployment runs, from the API server. */
function live() {
    const route = k.get(["httproute.gateway.networking.k8s.io", "web", "-n", NS]);
    const weights = Object.fromEntries(route.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight]));
    const deployment = (name: string) => {
        const d = k.get(["deployment", name, "-n", NS]);
        return {
            image: d.spec.template.spec.containers[0].image,
            replicas: d.spec.replicas,
            ready: d.status.readyReplicas ?? 0,
        };
    };
    return { weights, stable: deployment("web-stable"), canary: deployment("web-canary") };
}

test("5 → 25 → 100: the route's weights follow each step and 100 promotes the canary image to stable", () => {
    step(5);
    expect(live()).toEqual({
        weights: { web: 95, "web-canary": 5 },
        stable: { image: "ghcr.io/acme/shop-web:2.7.0", replicas: 2, ready: 2 },
        canary: { image: "ghcr.io/acme/shop-web:2.8.0", replicas: 1, ready: 1 },
    });
    step(25);
    expect(live().weights).toEqual({ web: 75, "web-canary": 25 });
    step(100);
    expect(live()).toEqual({
        weights: { web: 100, "web-canary": 0 },
        stable: { image: "ghcr.io/acme/shop-web:2.8.0", replicas: 2, ready: 2 },
        canary: { image: "ghcr.io/acme/shop-web:2.8.0", replicas: 0, ready: 0 },
    });
});

test("0 aborts the next canary: all traffic and pods back on stable, which keeps its image", () => {
    step(5, {
        "services.web.image": "ghcr.io/acme/shop-web:2.8.0",
        "services.web.canary.image": "ghcr.io/acme/shop-web:2.9.0",
    });
    expect(live().weights).toEqual({ web: 95, "web-canary": 5 });
    expect(live().canary).toEqual({ image: "ghcr.io/acme/shop-web:2.9.0", replicas: 1, ready: 1 });
    step(0);
    expect(live()).toEqual({
        weights: { web: 100, "web-canary": 0 },
        stable: { image: "ghcr.io/acme/shop-web:2.8.0", replicas: 2, ready: 2 },
        canary: { image: "ghcr.io/acme/shop-web:2.9.0", replicas: 0, ready: 0 },
    });
});
