import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appSelector, imageVersion, recommendedLabels, TRACK_LABEL } from "../lib/labels";
import { CANARY_WEIGHT_ANNOTATION, canaryPlanOf, effectiveWeight, type CanaryPlan } from "../lib/traffic";
import { deploymentArgs, serviceArgs, TAKE_BACK_DRIFT, type StrategyArgs } from "./workload";

export type CanaryReleaseArgs = StrategyArgs;

type Track = "stable" | "canary";

/**
 * The canary runbook (000: 10→50→100, 001/003: 5→25→100): stable and canary Deployments and
 * a traffic weight set per `pulumi up`. The split is done by a Gateway API HTTPRoute
 * (weighted backendRefs), NGINX Ingress canary annotations, or — with no router — by the
 * ratio of replicas behind one Service. Weight 100 promotes the canary image to stable;
 * weight 0 aborts.
 */
export class CanaryRelease extends pulumi.ComponentResource {
    public readonly stable: k8s.apps.v1.Deployment;
    public readonly canary: k8s.apps.v1.Deployment;
    /** The Service clients use (with a router: the stable track's Service). */
    public readonly service: k8s.core.v1.Service;
    public readonly canaryService?: k8s.core.v1.Service;
    public readonly route?: k8s.apiextensions.CustomResource;
    public readonly ingresses: k8s.networking.v1.Ingress[] = [];
    public readonly plan: CanaryPlan;
    public readonly stableDeploymentName: string;

    constructor(name: string, args: CanaryReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:deploy:CanaryRelease", name, {}, opts);
        const s = args.service;
        const c = s.canary;
        if (!c) throw new pulumi.ResourceError(`'canary' must be set for service '${s.name}' (strategy canary)`, this);
        if (c.weight !== 0 && !c.steps.includes(c.weight))
            throw new pulumi.ResourceError(
                `'canary.weight' must be 0 or a step of [${c.steps.join(", ")}], got ${c.weight}`,
                this,
            );
        const routed = c.router.type !== "replicas";
        this.plan = canaryPlanOf(s);

        const selectorOf = (t: Track) => ({ ...appSelector(s.name, args.environment), [TRACK_LABEL]: t });
        const deployment = (t: Track, image: string, replicas: number) =>
            new k8s.apps.v1.Deployment(
                `${name}-${t}`,
                deploymentArgs({
                    service: s,
                    namespace: args.namespace,
                    name: `${s.name}-${t}`,
                    image,
                    replicas,
                    labels: {
                        ...recommendedLabels({
                            app: s.name,
                            partOf: args.partOf,
                            environment: args.environment,
                            version: imageVersion(image),
                            component: "server",
                        }),
                        [TRACK_LABEL]: t,
                    },
                    selector: selectorOf(t),
                    annotations: {
                        ...args.annotations,
                        [CANARY_WEIGHT_ANNOTATION]: String(
                            effectiveWeight(c.weight, s.autoscaling.minReplicas, routed),
                        ),
                    },
                }),
                { parent: this, dependsOn: args.dependsOn },
            );
        this.stable = deployment("stable", this.plan.stableImage, this.plan.stableReplicas);
        this.canary = deployment("canary", c.image, this.plan.canaryReplicas);
        this.stableDeploymentName = `${s.name}-stable`;

        const svcLabels = (component: string) =>
            recommendedLabels({ app: s.name, partOf: args.partOf, environment: args.environment, component });
        if (!routed) {
            this.service = new k8s.core.v1.Service(
                `${name}-svc`,
                serviceArgs({
                    name: s.name,
                    namespace: args.namespace,
                    labels: svcLabels("server"),
                    selector: appSelector(s.name, args.environment),
                    service: s,
                }),
                { parent: this },
            );
        } else {
            this.service = new k8s.core.v1.Service(
                `${name}-svc`,
                serviceArgs({
                    name: s.name,
                    namespace: args.namespace,
                    labels: svcLabels("server"),
                    selector: selectorOf("stable"),
                    service: s,
                }),
                { parent: this },
            );
            this.canaryService = new k8s.core.v1.Service(
                `${name}-canary-svc`,
                serviceArgs({
                    name: `${s.name}-canary`,
                    namespace: args.namespace,
                    labels: svcLabels("canary"),
                    selector: selectorOf("canary"),
                    service: s,
                }),
                { parent: this },
            );
        }

        const weight = this.plan.canaryWeight;
        const router = c.router;
        if (router.type === "gatewayApi") {
            this.route = new k8s.apiextensions.CustomResource(
                `${name}-route`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: {
                        name: s.name,
                        namespace: args.namespace,
                        labels: svcLabels("route"),
                        annotations: { ...TAKE_BACK_DRIFT },
                    },
                    spec: {
                        parentRefs: [
                            {
                                name: router.gateway.name,
                                ...(router.gateway.namespace !== undefined
                                    ? { namespace: router.gateway.namespace }
                                    : {}),
                                ...(router.gateway.sectionName !== undefined
                                    ? { sectionName: router.gateway.sectionName }
                                    : {}),
                            },
                        ],
                        ...(router.hostnames.length > 0 ? { hostnames: router.hostnames } : {}),
                        rules: [
                            {
                                backendRefs: [
                                    { name: s.name, port: s.servicePort, weight: 100 - weight },
                                    { name: `${s.name}-canary`, port: s.servicePort, weight },
                                ],
                            },
                        ],
                    },
                },
                { parent: this, dependsOn: [this.service, this.canaryService as k8s.core.v1.Service, this.canary] },
            );
        } else if (router.type === "nginx") {
            const ingress = (
                suffix: string,
                backend: string,
                annotations: Record<string, string>,
                deps: pulumi.Resource[],
            ) =>
                new k8s.networking.v1.Ingress(
                    `${name}-${suffix}`,
                    {
                        metadata: {
                            name: suffix === "ingress" ? s.name : `${s.name}-canary`,
                            namespace: args.namespace,
                            labels: svcLabels("ingress"),
                            annotations: { ...annotations, ...TAKE_BACK_DRIFT },
                        },
                        spec: {
                            ingressClassName: router.ingressClassName,
                            rules: [
                                {
                                    host: router.host,
                                    http: {
                                        paths: [
                                            {
                                                path: router.path,
                                                pathType: "Prefix",
                                                backend: {
                                                    service: { name: backend, port: { number: s.servicePort } },
                                                },
                                            },
                                        ],
                                    },
                                },
                            ],
                        },
                    },
                    { parent: this, dependsOn: deps },
                );
            this.ingresses.push(ingress("ingress", s.name, {}, [this.service]));
            this.ingresses.push(
                ingress(
                    "canary-ingress",
                    `${s.name}-canary`,
                    {
                        "nginx.ingress.kubernetes.io/canary": "true",
                        "nginx.ingress.kubernetes.io/canary-weight": String(weight),
                    },
                    [this.canaryService as k8s.core.v1.Service, this.canary],
                ),
            );
        }

        this.registerOutputs({ weight, phase: this.plan.phase, service: this.service.metadata.name });
    }
}
