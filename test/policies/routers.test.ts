// The router contract: every registered router reads back, from the cluster and from a plan,
// the weight its own objects carry; its abort write sends the canary nothing; its settings
// parse with their defaults.
import { ROUTER_TYPES, routerOf, routerSchema, type Router, type RouterConfig } from "../../policies/routers";
import { podsForWeight } from "../../policies/routers/replicas";

const configs: Record<string, RouterConfig> = {
    gatewayApi: routerSchema.parse({ type: "gatewayApi", gateway: { name: "shop-gateway" } }),
    nginx: routerSchema.parse({ type: "nginx", host: "shop.example.com" }),
    replicas: routerSchema.parse({ type: "replicas" }),
};

const ctx = (weight: number) => ({
    app: "api",
    port: 80,
    weight,
    labels: (component: string) => ({ "app.kubernetes.io/component": component }),
    planAnnotations: { "runbook.dev/canary-steps": "[5,25,100]" },
});

/** What kubectl would list after the router's objects were applied (kinds as the router reads them). */
function listed(router: Router<RouterConfig>, weight: number) {
    const objects = router.objects(configs[router.type] as never, ctx(weight));
    const byKind: Record<string, any[]> = {};
    for (const kind of router.liveKinds) byKind[kind] = [];
    for (const o of objects) byKind[router.liveKinds[0]].push({ ...o, metadata: { ...o.metadata } });
    return { objects, byKind };
}

describe("the router registry", () => {
    test("one module per router, each registered once, and the schema knows each", () => {
        expect(ROUTER_TYPES).toEqual(["gatewayApi", "nginx", "replicas"]);
        for (const type of ROUTER_TYPES) expect(routerOf({ type }).type).toBe(type);
    });

    test("settings get their defaults; a wrong type names every router", () => {
        expect(configs.gatewayApi).toEqual({
            type: "gatewayApi",
            gateway: { name: "shop-gateway" },
            hostnames: [],
            metrics: "pods",
        });
        expect(configs.nginx).toEqual({
            type: "nginx",
            host: "shop.example.com",
            ingressClassName: "nginx",
            path: "/",
        });
        const bad = routerSchema.safeParse({ type: "istio" });
        expect(bad.success).toBe(false);
        expect(bad.error?.issues[0].message).toBe("expected one of 'gatewayApi', 'nginx', 'replicas'");
    });
});

describe.each(["gatewayApi", "nginx"] as const)("the %s router", (type) => {
    const router = routerOf({ type });

    test.each([5, 25, 60])(
        "reads back the weight %i it wrote, from the cluster and from a plan with its steps",
        (weight) => {
            const { objects, byKind } = listed(router, weight);
            expect(router.liveWeight(byKind, "api")?.percent).toBe(weight);
            const planned = router.plannedWeights(
                objects.map((o) => ({
                    type: `kubernetes:${o.apiVersion}:${o.kind}`,
                    name: o.metadata.name,
                    urn: `urn:${o.metadata.name}`,
                    props: o,
                })),
            );
            const carrying = planned.filter((p) => p.carriesWeight);
            expect(carrying.map((p) => p.weight)).toEqual([weight]);
            expect(planned.flatMap((p) => p.problems)).toEqual([]);
            // The pack checks the weight against the plan the object itself declares.
            expect(carrying[0].resource.props.metadata.annotations["runbook.dev/canary-steps"]).toBe("[5,25,100]");
        },
    );

    test("its abort write, applied to what it wrote, sends the canary 0 %", () => {
        const { objects, byKind } = listed(router, 25);
        const ref = router.weightObject("api");
        const live = objects.find((o) => o.metadata.name === ref.name);
        expect(live).toBeDefined();
        const write = router.abortWrite("api", "shop", live as never);
        expect(write.manifest.metadata).toMatchObject({ name: ref.name, namespace: "shop" });
        // Server-side apply merges the written fields into the live object.
        const merged = {
            ...live,
            metadata: {
                ...live?.metadata,
                annotations: { ...live?.metadata.annotations, ...write.manifest.metadata.annotations },
            },
            spec: { ...live?.spec, ...(write.manifest.spec as object) },
        };
        const after = Object.fromEntries(
            Object.entries(byKind).map(([k, list]) => [
                k,
                list.map((o) => (o.metadata.name === ref.name ? merged : o)),
            ]),
        );
        expect(router.liveWeight(after, "api")?.percent).toBe(0);
    });
});

describe("the replica router", () => {
    const router = routerOf({ type: "replicas" });
    const deployment = (track: string, ready: number) => ({
        metadata: { name: `api-${track}`, labels: { "app.kubernetes.io/name": "api", "runbook.dev/track": track } },
        status: { readyReplicas: ready },
    });

    test("creates no object of its own and reads the split from ready pods", () => {
        expect(router.objects(configs.replicas as never, ctx(25))).toEqual([]);
        const w = router.liveWeight({ deployments: [deployment("stable", 3), deployment("canary", 1)] }, "api");
        expect(w).toEqual({ percent: 25, source: "ready pods: 1 canary of 4" });
    });

    test("aborts by scaling the canary's Deployment to 0", () => {
        expect(router.weightObject("api")).toEqual({ kind: "deployment", name: "api-canary" });
        expect(router.abortWrite("api", "shop", {}).manifest).toEqual({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "api-canary", namespace: "shop" },
            spec: { replicas: 0 },
        });
    });

    test("names the steps whole pods cannot honour, and the pods they need", () => {
        expect(router.problems({ steps: [25, 50, 100], replicas: 4 })).toEqual([]);
        const [p] = router.problems({ steps: [5, 25, 100], replicas: 4 });
        expect(p.path).toEqual(["canary", "steps", 0]);
        expect(p.message).toContain("4 pods give 25 % (1 of 4); 5 % needs 20 pods (17 come within 1 point)");
        expect(router.problems({ steps: [50, 100], replicas: 1 })[0].path).toEqual(["replicas"]);
    });

    test("pods a weight needs: exactly, and within one point", () => {
        expect(podsForWeight(5)).toEqual({ exact: 20, within: 17 });
        expect(podsForWeight(25)).toEqual({ exact: 4, within: 4 });
        expect(podsForWeight(50)).toEqual({ exact: 2, within: 2 });
        expect(podsForWeight(10)).toEqual({ exact: 10, within: 10 });
        expect(podsForWeight(33)).toEqual({ exact: 100, within: 3 });
    });
});

test("every router tells the canary's requests from the stable track's", () => {
    const ctx = {
        app: "web",
        namespace: "shop",
        port: 80,
        pods: (side: string, labels: Record<string, string>) => ({
            requests: "http_requests_total",
            duration: "http_request_duration_seconds",
            code: "code",
            labels: { ...labels, side },
            where: side,
        }),
    };
    const configs = [
        { type: "gatewayApi", gateway: { name: "g" } },
        { type: "gatewayApi", gateway: { name: "g" }, metrics: "traefik" },
        { type: "nginx", host: "shop.example" },
        { type: "replicas" },
    ];
    for (const input of configs) {
        const config = routerSchema.parse(input);
        const { canary, baseline } = routerOf(config).analysis(config, ctx);
        expect(Object.keys(canary.labels).length).toBeGreaterThan(0);
        expect(canary.labels).not.toEqual(baseline.labels);
        expect(canary.requests).toBe(baseline.requests);
    }
});
