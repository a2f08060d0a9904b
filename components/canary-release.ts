import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appSelector } from "../lib/labels";
import { CANARY_STEPS_ANNOTATION, CANARY_WEIGHT_ANNOTATION, TRACK_LABEL } from "../policies/lib/well-known";
import { DEFAULT_CANARY_STEPS } from "../config/defaults";
import { canaryPlan, effectiveWeight, type CanaryPlan } from "../lib/traffic";
import { deploymentArgs, serviceArgs, TAKE_BACK_DRIFT, throwProblems, workloadLabels } from "./workload";
import { routerOf, type CanaryPart } from "../policies/routers";
import { canaryProblems, parsedRouter, type CanaryReleaseArgs, type Track } from "./canary-args";
import { resolveWorkloadArgs } from "./workload-args";

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
        const routerConfig = parsedRouter(c.router).config;
        const router = routerOf(routerConfig);
        const routed = router.weighted;
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
        const parts: Record<CanaryPart, pulumi.Resource | undefined> = {
            service: this.service,
            canaryService: this.canaryService,
            canary: this.canary,
        };
        const objects = router.objects(routerConfig, {
            app: w.name,
            port: w.servicePort,
            weight,
            labels: svcLabels,
            planAnnotations: plan,
        });
        for (const o of objects) {
            const args = {
                metadata: {
                    ...o.metadata,
                    namespace: w.namespace,
                    annotations: { ...o.metadata.annotations, ...TAKE_BACK_DRIFT },
                },
                spec: o.spec,
            };
            const ropts = {
                parent: this,
                dependsOn: o.dependsOn.map((d) => parts[d]).filter((r): r is pulumi.Resource => r !== undefined),
            };
            const resourceName = `${name}-${o.resourceSuffix}`;
            if (o.kind === "Ingress")
                this.ingresses.push(
                    new k8s.networking.v1.Ingress(resourceName, args as k8s.networking.v1.IngressArgs, ropts),
                );
            else
                this.route = new k8s.apiextensions.CustomResource(
                    resourceName,
                    { apiVersion: o.apiVersion, kind: o.kind, ...args },
                    ropts,
                );
        }

        this.registerOutputs({ weight, phase: this.plan.phase, service: this.service.metadata.name });
    }
}
