// The Gateway API router: an HTTPRoute whose two backendRefs, the stable and the canary
// Service, carry the split as weights. Any Gateway API implementation routes it.
import { z } from "zod";
import { dnsLabel } from "../lib/fields";
import {
    canaryServiceName,
    podTraffic,
    shareOf,
    type PlannedResource,
    type PlannedWeight,
    type RequestSeries,
    type Router,
} from "./router";

export const gatewayApiSchema = z.strictObject({
    /** A Gateway API HTTPRoute with weighted backendRefs. */
    type: z.literal("gatewayApi"),
    /** The Gateway the route attaches to (its parentRef). */
    gateway: z.strictObject({
        name: dnsLabel,
        namespace: dnsLabel.optional(),
        sectionName: z.string().optional(),
    }),
    /** Empty: every host the Gateway serves. */
    hostnames: z.array(z.string()).default([]),
    /**
     * Where `npm run release` counts the canary's requests: `pods`, the app's own metrics
     * (any implementation); `traefik`, the Gateway's own series of each backend, which also
     * count what it answered for a pod (a 502 when the pod drops the connection).
     */
    metrics: z
        .enum(["pods", "traefik"], { error: "expected 'pods' (the app's own metrics) or 'traefik'" })
        .default("pods"),
});
export type GatewayApiRouterConfig = z.output<typeof gatewayApiSchema>;

const HTTPROUTE_TOKEN = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
const KUBECTL_KIND = "httproutes.gateway.networking.k8s.io";

/** Every HTTPRoute rule's backend weights add up to 100, and a `-canary` backend's weight is on the plan. */
function plannedWeights(resources: PlannedResource[]): PlannedWeight[] {
    const out: PlannedWeight[] = [];
    for (const resource of resources.filter((r) => r.type === HTTPROUTE_TOKEN)) {
        const rules: { backendRefs?: { name?: string; weight?: number }[] }[] = resource.props?.spec?.rules ?? [];
        for (const rule of rules) {
            const refs = rule.backendRefs ?? [];
            const total = refs.reduce((a, b) => a + (b.weight ?? 1), 0);
            const problems = refs.length > 1 && total !== 100 ? [`backend weights add up to ${total}, not 100`] : [];
            // Any program's canary backend is the Service named <app>-canary (docs/policy-pack.md).
            const canary = refs.find((b) => b.name?.endsWith("-canary"));
            if (canary || problems.length > 0)
                out.push({ resource, carriesWeight: !!canary, weight: canary?.weight ?? 1, tolerance: 0, problems });
        }
    }
    return out;
}

export const gatewayApiRouter: Router<GatewayApiRouterConfig> = {
    type: "gatewayApi",
    schema: gatewayApiSchema,
    weighted: true,
    problems: () => [],
    objects: (config, ctx) => [
        {
            resourceSuffix: "route",
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: { name: ctx.app, labels: ctx.labels("route"), annotations: { ...ctx.planAnnotations } },
            spec: {
                parentRefs: [
                    {
                        name: config.gateway.name,
                        ...(config.gateway.namespace !== undefined ? { namespace: config.gateway.namespace } : {}),
                        ...(config.gateway.sectionName !== undefined
                            ? { sectionName: config.gateway.sectionName }
                            : {}),
                    },
                ],
                ...(config.hostnames.length > 0 ? { hostnames: config.hostnames } : {}),
                rules: [
                    {
                        backendRefs: [
                            { name: ctx.app, port: ctx.port, weight: 100 - ctx.weight },
                            { name: canaryServiceName(ctx.app), port: ctx.port, weight: ctx.weight },
                        ],
                    },
                ],
            },
            dependsOn: ["service", "canaryService", "canary"],
        },
    ],
    weightObject: (app) => ({ kind: KUBECTL_KIND, name: app }),
    abortWrite: (app, namespace, live) => {
        const canary = canaryServiceName(app);
        // Rules are an atomic list: all of them, with only the weights changed.
        const rules = (live.spec?.rules ?? []).map((r) => ({
            ...r,
            backendRefs: (r.backendRefs ?? []).map((b) => ({ ...b, weight: b.name === canary ? 0 : 100 })),
        }));
        return {
            describe: `HTTPRoute ${namespace}/${app} sends 0 % to ${canary}`,
            manifest: {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: app, namespace },
                spec: { rules },
            },
        };
    },
    liveKinds: [KUBECTL_KIND],
    liveWeight: (objects, app) => {
        const route = (objects[KUBECTL_KIND] ?? []).find((r) => r.metadata.name === app);
        if (!route) return undefined;
        const refs = route.spec.rules.flatMap((r: any) => r.backendRefs ?? []);
        return {
            percent: shareOf(refs, (n) => n === canaryServiceName(app)),
            source: `HTTPRoute ${route.metadata.name} backendRefs`,
        };
    },
    plannedWeights,
    analysis: (config, ctx) =>
        config.metrics === "traefik"
            ? {
                  canary: traefikBackend(ctx.namespace, canaryServiceName(ctx.app), ctx.port),
                  baseline: traefikBackend(ctx.namespace, ctx.app, ctx.port),
              }
            : podTraffic(ctx),
};

/**
 * Traefik's series of one HTTPRoute backend (a Service and port): its Kubernetes Gateway
 * provider names it `<namespace>-<service>-http-<port>` with each run of other characters
 * than letters and digits made one `-`, and `@kubernetesgateway`. Its `service` label must
 * be Traefik's own: scraped with honor_labels, or by a job giving no `service` label.
 */
function traefikBackend(namespace: string, service: string, port: number): RequestSeries {
    const name = `${namespace}-${service}-http-${port}`
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean)
        .join("-");
    return {
        requests: "traefik_service_requests_total",
        duration: "traefik_service_request_duration_seconds",
        code: "code",
        labels: { service: `${name}@kubernetesgateway` },
        where: `Traefik's backend ${name}`,
    };
}
