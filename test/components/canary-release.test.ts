// Canary variants through the whole program: Gateway API, NGINX and the replica fallback.
import { parseStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/types";
import { byName, construct, installMocks, ofType, registered, reset } from "../util/mocks";
import { rawValues, stackConfig } from "../util/stack";

installMocks();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RunbookStack } = require("../../program/runbook-stack") as typeof import("../../program/runbook-stack");

async function render(config: StackConfig) {
    reset();
    return construct((opts) => new RunbookStack("stg", { config }, opts));
}

function staging(change: (v: Record<string, any>) => void): StackConfig {
    const values = rawValues("staging");
    change(values);
    return parseStackConfig({ values, secretKeys: new Set() });
}

const spec = (name: string) => byName(name).inputs.spec;
const image = (name: string) => spec(name).template.spec.containers[0].image;

describe("Gateway API router (staging api at 25 %)", () => {
    beforeAll(() => render(stackConfig("staging")));

    test("an HTTPRoute splits 75/25 between the stable and canary Services", () => {
        const route = byName("stg-api-canary-route").inputs;
        expect(route.apiVersion).toBe("gateway.networking.k8s.io/v1");
        expect(route.kind).toBe("HTTPRoute");
        expect(route.spec.parentRefs).toEqual([{ name: "shop-gateway", namespace: "gateway-system" }]);
        expect(route.spec.hostnames).toEqual(["api.staging.shop.acme.example"]);
        expect(route.spec.rules[0].backendRefs).toEqual([
            { name: "api", port: 80, weight: 75 },
            { name: "api-canary", port: 80, weight: 25 },
        ]);
    });

    test("stable and canary run their own images and select their own track", () => {
        expect(image("stg-api-canary-stable")).toBe("ghcr.io/acme/shop-api:1.41.2");
        expect(image("stg-api-canary-canary")).toBe("ghcr.io/acme/shop-api:1.42.0");
        expect(spec("stg-api-canary-svc").selector["runbook.dev/track"]).toBe("stable");
        expect(spec("stg-api-canary-canary-svc").selector["runbook.dev/track"]).toBe("canary");
        expect(spec("stg-api-canary-canary").replicas).toBe(1);
        expect(spec("stg-api-canary-stable").replicas).toBe(2);
    });

    test("the HTTPRoute declares the service's step plan, for the policy pack", () => {
        expect(byName("stg-api-canary-route").inputs.metadata.annotations["runbook.dev/canary-steps"]).toBe(
            "[5,25,100]",
        );
    });

    test("the HPA scales the stable track", () => {
        expect(spec("stg-api-autoscaler-hpa").scaleTargetRef.name).toBe("api-stable");
        expect(ofType("kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(0);
    });
});

describe("replica-ratio fallback (staging web at 5 % of 4 pods)", () => {
    beforeAll(() => render(stackConfig("staging")));

    test("one Service selects both tracks and the weight is carried by pod counts", () => {
        expect(spec("stg-web-canary-svc").selector).toEqual({
            "app.kubernetes.io/name": "web",
            "app.kubernetes.io/instance": "web-staging",
        });
        expect(spec("stg-web-canary-stable").replicas).toBe(3);
        expect(spec("stg-web-canary-canary").replicas).toBe(1);
        expect(registered.find((r) => r.name === "stg-web-canary-route")).toBeUndefined();
    });

    test("both Deployments carry the weight the pods give and web's own plan, 25 → 50 → 100", () => {
        for (const n of ["stg-web-canary-stable", "stg-web-canary-canary"])
            expect(byName(n).inputs.metadata.annotations).toMatchObject({
                "runbook.dev/canary-weight": "25",
                "runbook.dev/canary-steps": "[25,50,100]",
            });
    });
});

describe("NGINX router", () => {
    test("a canary Ingress carries the canary-weight annotation", async () => {
        await render(staging((v) => (v.services.api.canary.router = { type: "nginx", host: "api.staging.example" })));
        const canary = byName("stg-api-canary-canary-ingress").inputs;
        expect(canary.metadata.annotations).toEqual({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": "25",
            "pulumi.com/patchForce": "true",
            "runbook.dev/canary-steps": "[5,25,100]",
        });
        expect(canary.spec.rules[0]).toEqual({
            host: "api.staging.example",
            http: {
                paths: [
                    {
                        path: "/",
                        pathType: "Prefix",
                        backend: { service: { name: "api-canary", port: { number: 80 } } },
                    },
                ],
            },
        });
        const main = byName("stg-api-canary-ingress").inputs;
        expect(main.metadata.annotations).toEqual({ "pulumi.com/patchForce": "true" });
        expect(main.spec.ingressClassName).toBe("nginx");
        expect(main.spec.rules[0].http.paths[0].backend.service.name).toBe("api");
    });
});

describe("promotion and abort", () => {
    test("weight 100 promotes the canary image to stable and sends it all traffic", async () => {
        await render(staging((v) => (v.services.api.canary.weight = 100)));
        expect(image("stg-api-canary-stable")).toBe("ghcr.io/acme/shop-api:1.42.0");
        expect(spec("stg-api-canary-canary").replicas).toBe(0);
        expect(byName("stg-api-canary-route").inputs.spec.rules[0].backendRefs.map((b: any) => b.weight)).toEqual([
            100, 0,
        ]);
    });

    test("weight 0 aborts: stable keeps its image, the canary gets no pods and no traffic", async () => {
        await render(staging((v) => (v.services.api.canary.weight = 0)));
        expect(image("stg-api-canary-stable")).toBe("ghcr.io/acme/shop-api:1.41.2");
        expect(spec("stg-api-canary-canary").replicas).toBe(0);
        expect(byName("stg-api-canary-route").inputs.spec.rules[0].backendRefs.map((b: any) => b.weight)).toEqual([
            100, 0,
        ]);
    });
});
