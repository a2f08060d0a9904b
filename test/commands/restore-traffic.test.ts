// What a rollback writes to the API server before the engine runs: only the fields that carry
// the traffic, with everything else in an atomic field as the cluster has it.
import { TrafficError, trafficWrites, type LiveObject } from "../../commands/restore-traffic";
import { stackConfig } from "../util/stack";

const service = (stack: string, name: string) => {
    const s = stackConfig(stack).services.find((x) => x.name === name);
    if (!s) throw new Error(`no service ${name} in ${stack}`);
    return s;
};

/** A cluster holding exactly `objects`, keyed "kind/name". */
const cluster =
    (objects: Record<string, LiveObject>) =>
    (kind: string, name: string): LiveObject | undefined =>
        objects[`${kind}/${name}`];

test("blue/green: the Service's whole selector, with the colour it goes back to", () => {
    const live = cluster({
        "service/api": {
            spec: {
                selector: {
                    "app.kubernetes.io/name": "api",
                    "runbook.dev/environment": "local",
                    "runbook.dev/color": "green",
                },
            },
        },
    });
    expect(trafficWrites(service("local", "api"), "shop-local", "blue", live)).toEqual([
        {
            describe: "Service shop-local/api selects blue",
            manifest: {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "api", namespace: "shop-local" },
                spec: {
                    selector: {
                        "app.kubernetes.io/name": "api",
                        "runbook.dev/environment": "local",
                        "runbook.dev/color": "blue",
                    },
                },
            },
        },
    ]);
});

test("Gateway API: every rule kept, only the weights changed (the canary's to 0)", () => {
    const live = cluster({
        "httproutes.gateway.networking.k8s.io/api": {
            spec: {
                rules: [
                    {
                        backendRefs: [
                            { name: "api", port: 80, weight: 75 },
                            { name: "api-canary", port: 80, weight: 25 },
                        ],
                    },
                ],
            },
        },
    });
    const [w] = trafficWrites(service("staging", "api"), "shop-staging", "0", live);
    expect(w.describe).toBe("HTTPRoute shop-staging/api sends 0 % to api-canary");
    expect(w.manifest).toEqual({
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: "api", namespace: "shop-staging" },
        spec: {
            rules: [
                {
                    backendRefs: [
                        { name: "api", port: 80, weight: 100 },
                        { name: "api-canary", port: 80, weight: 0 },
                    ],
                },
            ],
        },
    });
});

test("NGINX: the canary Ingress' weight annotation alone", () => {
    const live = cluster({ "ingress/web-canary": {} });
    const web = service("local", "web");
    const nginx = {
        ...web,
        canary: {
            ...web.canary!,
            router: { type: "nginx" as const, host: "shop.local.example", ingressClassName: "nginx", path: "/" },
        },
    };
    expect(trafficWrites(nginx, "shop-local", "0", live)).toEqual([
        {
            describe: "Ingress shop-local/web-canary canary-weight 0",
            manifest: {
                apiVersion: "networking.k8s.io/v1",
                kind: "Ingress",
                metadata: {
                    name: "web-canary",
                    namespace: "shop-local",
                    annotations: { "nginx.ingress.kubernetes.io/canary-weight": "0" },
                },
            },
        },
    ]);
});

test("no router: the canary's pods are scaled away", () => {
    const live = cluster({ "deployment/web-canary": {} });
    const [w] = trafficWrites(service("staging", "web"), "shop-staging", "0", live);
    expect(w.manifest).toEqual({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web-canary", namespace: "shop-staging" },
        spec: { replicas: 0 },
    });
});

test("an object the cluster does not have is named, and nothing is written", () => {
    expect(() => trafficWrites(service("local", "api"), "shop-local", "blue", cluster({}))).toThrow(
        new TrafficError("service shop-local/api does not exist in the cluster"),
    );
    expect(() => trafficWrites(service("staging", "api"), "shop-staging", "0", cluster({}))).toThrow(
        "httproutes.gateway.networking.k8s.io shop-staging/api does not exist in the cluster",
    );
});
