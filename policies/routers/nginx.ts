// The NGINX Ingress router: the app's Ingress to the stable Service, and a second Ingress to
// the canary Service whose `canary-weight` annotation ingress-nginx reads as the split.
import { z } from "zod";
import { httpPath } from "../lib/fields";
import { canaryServiceName, podTraffic, type Router, type RouteContext, type RouterObject } from "./router";

export const CANARY_ANNOTATION = "nginx.ingress.kubernetes.io/canary";
export const CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight";

export const nginxSchema = z.strictObject({
    /** NGINX Ingress with its canary annotations. */
    type: z.literal("nginx"),
    host: z.string({ error: "expected a host name" }).min(1, { error: "expected a host name" }),
    ingressClassName: z.string().default("nginx"),
    path: httpPath.default("/"),
});
export type NginxRouterConfig = z.output<typeof nginxSchema>;

const INGRESS_TOKEN = "kubernetes:networking.k8s.io/v1:Ingress";

function ingress(
    config: NginxRouterConfig,
    ctx: RouteContext,
    o: { suffix: string; name: string; backend: string; annotations: Record<string, string> },
    dependsOn: RouterObject["dependsOn"],
): RouterObject {
    return {
        resourceSuffix: o.suffix,
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: o.name, labels: ctx.labels("ingress"), annotations: o.annotations },
        spec: {
            ingressClassName: config.ingressClassName,
            rules: [
                {
                    host: config.host,
                    http: {
                        paths: [
                            {
                                path: config.path,
                                pathType: "Prefix",
                                backend: { service: { name: o.backend, port: { number: ctx.port } } },
                            },
                        ],
                    },
                },
            ],
        },
        dependsOn,
    };
}

export const nginxRouter: Router<NginxRouterConfig> = {
    type: "nginx",
    schema: nginxSchema,
    weighted: true,
    problems: () => [],
    objects: (config, ctx) => {
        const canary = canaryServiceName(ctx.app);
        return [
            ingress(config, ctx, { suffix: "ingress", name: ctx.app, backend: ctx.app, annotations: {} }, ["service"]),
            ingress(
                config,
                ctx,
                {
                    suffix: "canary-ingress",
                    name: canary,
                    backend: canary,
                    annotations: {
                        [CANARY_ANNOTATION]: "true",
                        [CANARY_WEIGHT]: String(ctx.weight),
                        ...ctx.planAnnotations,
                    },
                },
                ["canaryService", "canary"],
            ),
        ];
    },
    weightObject: (app) => ({ kind: "ingress", name: canaryServiceName(app) }),
    abortWrite: (app, namespace) => {
        const name = canaryServiceName(app);
        return {
            describe: `Ingress ${namespace}/${name} canary-weight 0`,
            manifest: {
                apiVersion: "networking.k8s.io/v1",
                kind: "Ingress",
                metadata: { name, namespace, annotations: { [CANARY_WEIGHT]: "0" } },
            },
        };
    },
    liveKinds: ["ingresses"],
    liveWeight: (objects, app) => {
        const found = (objects.ingresses ?? []).find(
            (i) => i.metadata.annotations?.[CANARY_ANNOTATION] === "true" && i.metadata.name === canaryServiceName(app),
        );
        if (!found) return undefined;
        return {
            percent: Number(found.metadata.annotations[CANARY_WEIGHT] ?? "0"),
            source: `Ingress ${found.metadata.name} canary-weight`,
        };
    },
    plannedWeights: (resources) =>
        resources
            .filter((r) => r.type === INGRESS_TOKEN && r.props?.metadata?.annotations?.[CANARY_ANNOTATION] === "true")
            .map((resource) => {
                const w = resource.props.metadata.annotations[CANARY_WEIGHT];
                const weight = w === undefined ? undefined : Number(w);
                return { resource, carriesWeight: true, weight, tolerance: 0, problems: [] };
            }),
    // The canary's pods tell its requests apart. ingress-nginx counts each Ingress's requests
    // too, but no ingress-nginx runs where its labels could be checked (docs/releases.md).
    analysis: (_config, ctx) => podTraffic(ctx),
};
