import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appSelector } from "../lib/labels";
import {
    CANARY_STEPS_ANNOTATION,
    CANARY_WEIGHT_ANNOTATION,
    TRACK_LABEL,
    WEIGHT_TOLERANCE,
} from "../policies/lib/well-known";
import { DEFAULT_CANARY_STEPS, DEFAULT_REPLICAS } from "../config/defaults";
import { describeValue, imageProblems, type Problem } from "../lib/checks";
import { canaryPlan, effectiveWeight, podsForWeight, replicaSplit, type CanaryPlan } from "../lib/traffic";
import {
    deploymentArgs,
    resolveWorkloadArgs,
    serviceArgs,
    TAKE_BACK_DRIFT,
    throwProblems,
    workloadProblems,
    workloadLabels,
    type WorkloadArgs,
} from "./workload";

/** How traffic is split between the stable and the canary track. */
export type CanaryRouter =
    | {
          /** A Gateway API HTTPRoute with weighted backendRefs. */
          type: "gatewayApi";
          gateway: { name: string; namespace?: string; sectionName?: string };
          /** @default [] (every host the Gateway serves) */
          hostnames?: string[];
      }
    | {
          /** NGINX Ingress with its canary annotations. */
          type: "nginx";
          host: string;
          /** @default "nginx" */
          ingressClassName?: string;
          /** @default "/" */
          path?: string;
      }
    | {
          /** No router: one Service over both tracks, split by the ratio of their pods. */
          type: "replicas";
      };

export interface CanaryReleaseArgs extends WorkloadArgs {
    /** The stable track's image, with a tag or digest. */
    image: string;
    canary: {
        /** The image under test. */
        image: string;
        /** Percent of traffic on the canary: 0 aborts, 100 promotes the canary image to stable. */
        weight: number;
        /**
         * The plan's steps, strictly increasing, ending at 100.
         * @default [5, 25, 100] (NovaCron runbook, Step 4: Traffic Switch)
         */
        steps?: number[];
        /** @default { type: "replicas" } */
        router?: CanaryRouter;
    };
}

type Track = "stable" | "canary";

/** Names of the Kubernetes objects a CanaryRelease of `name` creates. */
export function canaryNames(name: string): string[] {
    return [name, `${name}-canary`, `${name}-stable`];
}

/**
 * Every problem of the args, paths relative to them (what the constructor throws): the
 * workload's, the images, the plan (steps climbing to 100, the weight one of them or 0),
 * and — without a router — whether the pods can honour each step.
 */
export function canaryProblems(args: CanaryReleaseArgs, extraNames: string[] = []): Problem[] {
    const out = [...workloadProblems(args, [...canaryNames(args.name), ...extraNames])];
    out.push(...imageProblems(["image"], args.image), ...imageProblems(["canary", "image"], args.canary.image));
    const c = args.canary;
    const steps = c.steps ?? DEFAULT_CANARY_STEPS;
    const increasing = steps.every((w, i) => i === 0 || w > steps[i - 1]);
    if (steps.length === 0 || !increasing || steps[steps.length - 1] !== 100) {
        out.push({
            path: ["canary", "steps"],
            message: `expected strictly increasing weights ending at 100, got ${describeValue(steps)}`,
        });
        return out;
    }
    if (c.weight !== 0 && !steps.includes(c.weight))
        out.push({
            path: ["canary", "weight"],
            message: `expected 0 (abort) or a step of the plan [${steps.join(", ")}], got ${c.weight}`,
        });
    if ((c.router?.type ?? "replicas") === "replicas")
        out.push(...replicaRouterProblems(steps, args.replicas ?? DEFAULT_REPLICAS));
    return out;
}

/** Without a router, pods are the only lever: each step must be honoured within WEIGHT_TOLERANCE. */
function replicaRouterProblems(steps: readonly number[], pods: number): Problem[] {
    if (pods < 2)
        return [
            {
                path: ["replicas"],
                message: `expected at least 2 to split traffic by replicas (one stable pod, one canary pod), got ${pods}`,
            },
        ];
    const out: Problem[] = [];
    steps.forEach((w, i) => {
        if (w >= 100) return;
        const split = replicaSplit(w, pods);
        if (Math.abs(split.percent - w) <= WEIGHT_TOLERANCE) return;
        const need = podsForWeight(w);
        out.push({
            path: ["canary", "steps", i],
            message:
                `expected a weight the replica router can honour within ${WEIGHT_TOLERANCE} percentage point with ${pods} pods, got ${w}: ` +
                `${pods} pods give ${+split.percent.toFixed(1)} % (${split.canary} of ${pods}); ${w} % needs ${need.exact} pods (${need.within} come within ${WEIGHT_TOLERANCE} point), ` +
                "or set canary.router to gatewayApi or nginx",
        });
    });
    return out;
}

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
        throwProblems(canaryProblems(args), this);
        const w = resolveWorkloadArgs(args);
        const c = args.canary;
        const router = c.router ?? { type: "replicas" };
        const routed = router.type !== "replicas";
        const steps = c.steps ?? DEFAULT_CANARY_STEPS;
        // The reviewed plan, on every object that carries a weight: what the policy pack checks the weight against.
        const plan = { [CANARY_STEPS_ANNOTATION]: JSON.stringify(steps) };
        this.plan = canaryPlan({
            stableImage: args.image,
            canaryImage: c.image,
            weight: c.weight,
            steps,
            replicas: w.replicas,
            routed,
        });

        const selectorOf = (t: Track) => ({ ...appSelector(w.name, w.environment), [TRACK_LABEL]: t });
        const deployment = (t: Track, image: string, replicas: number) =>
            new k8s.apps.v1.Deployment(
                `${name}-${t}`,
                deploymentArgs({
                    workload: w,
                    name: `${w.name}-${t}`,
                    image,
                    replicas,
                    labels: { ...workloadLabels(w, "server", image), [TRACK_LABEL]: t },
                    selector: selectorOf(t),
                    annotations: {
                        ...w.annotations,
                        [CANARY_WEIGHT_ANNOTATION]: String(effectiveWeight(c.weight, w.replicas, routed)),
                        ...plan,
                    },
                }),
                { parent: this, dependsOn: w.dependsOn },
            );
        this.stable = deployment("stable", this.plan.stableImage, this.plan.stableReplicas);
        this.canary = deployment("canary", c.image, this.plan.canaryReplicas);
        this.stableDeploymentName = `${w.name}-stable`;

        const svcLabels = (component: string) => workloadLabels(w, component);
        if (!routed) {
            this.service = new k8s.core.v1.Service(
                `${name}-svc`,
                serviceArgs({
                    name: w.name,
                    namespace: w.namespace,
                    labels: svcLabels("server"),
                    selector: appSelector(w.name, w.environment),
                    servicePort: w.servicePort,
                }),
                { parent: this },
            );
        } else {
            this.service = new k8s.core.v1.Service(
                `${name}-svc`,
                serviceArgs({
                    name: w.name,
                    namespace: w.namespace,
                    labels: svcLabels("server"),
                    selector: selectorOf("stable"),
                    servicePort: w.servicePort,
                }),
                { parent: this },
            );
            this.canaryService = new k8s.core.v1.Service(
                `${name}-canary-svc`,
                serviceArgs({
                    name: `${w.name}-canary`,
                    namespace: w.namespace,
                    labels: svcLabels("canary"),
                    selector: selectorOf("canary"),
                    servicePort: w.servicePort,
                }),
                { parent: this },
            );
        }

        const weight = this.plan.canaryWeight;
        if (router.type === "gatewayApi") {
            this.route = new k8s.apiextensions.CustomResource(
                `${name}-route`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: {
                        name: w.name,
                        namespace: w.namespace,
                        labels: svcLabels("route"),
                        annotations: { ...plan, ...TAKE_BACK_DRIFT },
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
                        ...((router.hostnames ?? []).length > 0 ? { hostnames: router.hostnames } : {}),
                        rules: [
                            {
                                backendRefs: [
                                    { name: w.name, port: w.servicePort, weight: 100 - weight },
                                    { name: `${w.name}-canary`, port: w.servicePort, weight },
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
                            name: suffix === "ingress" ? w.name : `${w.name}-canary`,
                            namespace: w.namespace,
                            labels: svcLabels("ingress"),
                            annotations: { ...annotations, ...TAKE_BACK_DRIFT },
                        },
                        spec: {
                            ingressClassName: router.ingressClassName ?? "nginx",
                            rules: [
                                {
                                    host: router.host,
                                    http: {
                                        paths: [
                                            {
                                                path: router.path ?? "/",
                                                pathType: "Prefix",
                                                backend: {
                                                    service: { name: backend, port: { number: w.servicePort } },
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
            this.ingresses.push(ingress("ingress", w.name, {}, [this.service]));
            this.ingresses.push(
                ingress(
                    "canary-ingress",
                    `${w.name}-canary`,
                    {
                        "nginx.ingress.kubernetes.io/canary": "true",
                        "nginx.ingress.kubernetes.io/canary-weight": String(weight),
                        ...plan,
                    },
                    [this.canaryService as k8s.core.v1.Service, this.canary],
                ),
            );
        }

        this.registerOutputs({ weight, phase: this.plan.phase, service: this.service.metadata.name });
    }
}
