import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appSelector } from "./labels";
import { CANARY_STEPS_ANNOTATION, CANARY_WEIGHT_ANNOTATION, TRACK_LABEL } from "../policies/lib/well-known";
import { canaryPlan, effectiveWeight, type CanaryPlan } from "./traffic";
import {
    checkedImage,
    deploymentArgs,
    REPLICAS_FROM_AUTOSCALER,
    serviceArgs,
    SKIP_SERVICE_AWAIT,
    servingLabels,
    TAKE_BACK_DRIFT,
    throwProblems,
    rolloutTimeouts,
    workloadLabels,
} from "./workload";
import { routerOf, type CanaryPart, type RouterObject } from "../policies/routers";
import { canaryProblems, DEFAULT_CANARY_STEPS, parsedRouter, type CanaryReleaseArgs, type Track } from "./canary-args";
import { resolveWorkloadArgs } from "./workload-args";

/**
 * The canary runbook (000: 10→50→100, 001/003: 5→25→100): stable and canary Deployments and
 * a traffic weight set per `pulumi up`. The split is done by a Gateway API HTTPRoute
 * (weighted backendRefs), NGINX Ingress canary annotations, or — with no router — by the
 * ratio of replicas behind one Service. Weight 100 promotes the canary image to stable;
 * weight 0 aborts.
 */
type Workload = ReturnType<typeof resolveWorkloadArgs>;

/** What the builders of one CanaryRelease share. */
interface Context {
    name: string;
    w: Workload;
    /** Whether a router splits by weight (two Services) or the pods do (one). */
    routed: boolean;
    /** The canary-steps annotation. */
    plan: Record<string, string>;
    /** The share of requests the canary gets, on both Deployments. */
    shareAsked: number;
}

const trackSelector = (w: Workload, t: Track) => ({ ...appSelector(w.name, w.environment), [TRACK_LABEL]: t });

export class CanaryRelease extends pulumi.ComponentResource {
    public readonly stable: k8s.apps.v1.Deployment;
    public readonly canary: k8s.apps.v1.Deployment;
    /** The Service clients use (with a router: the stable track's Service). */
    public readonly service: k8s.core.v1.Service;
    public readonly canaryService?: k8s.core.v1.Service;
    public readonly route?: k8s.apiextensions.CustomResource;
    public readonly ingresses: k8s.networking.v1.Ingress[];
    public readonly plan: CanaryPlan<pulumi.Input<string>>;
    public readonly stableDeploymentName: string;

    constructor(name: string, args: CanaryReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:deploy:CanaryRelease", name, {}, opts);
        throwProblems(canaryProblems(args), this);
        const w = resolveWorkloadArgs(args);
        const routerConfig = parsedRouter(args.canary.router).config;
        const router = routerOf(routerConfig);
        const steps = args.canary.steps ?? DEFAULT_CANARY_STEPS;
        this.plan = canaryPlan({
            stableImage: checkedImage(args.image, ["image"], this),
            canaryImage: checkedImage(args.canary.image, ["canary", "image"], this),
            weight: args.canary.weight,
            steps,
            replicas: w.replicas,
            routed: router.weighted,
        });
        const ctx: Context = {
            name,
            w,
            routed: router.weighted,
            // The reviewed plan, on every object that carries a weight: what the policy pack checks the weight against.
            plan: { [CANARY_STEPS_ANNOTATION]: JSON.stringify(steps) },
            shareAsked: effectiveWeight(args.canary.weight, w.replicas, router.weighted),
        };
        this.stable = this.track(ctx, "stable", this.plan.stableImage, this.plan.stableReplicas);
        this.stableDeploymentName = `${w.name}-stable`;
        this.service = this.clientService(ctx);
        const canaryImage = checkedImage(args.canary.image, ["canary", "image"], this);
        const routerObjects = (canary?: k8s.apps.v1.Deployment) => {
            const parts = { service: this.service, canaryService: this.canaryService, canary };
            return router
                .objects(routerConfig, {
                    app: w.name,
                    port: w.servicePort,
                    weight: this.plan.canaryWeight,
                    labels: (component) => workloadLabels(w, component),
                    planAnnotations: ctx.plan,
                })
                .map((o) => this.routerObject(ctx, o, parts, canary ? [] : [this.stable]));
        };
        // Requests move before pods do. Given a share, the canary's pods are ready, and in its
        // Service's endpoints, before the router sends it. Taken to 0 (an abort, a promotion),
        // the router stops sending first, after the stable track runs what it is to run, and
        // only then do the canary's pods go: scaled away first, they would fail the share
        // still routed to them.
        let objects: (k8s.networking.v1.Ingress | k8s.apiextensions.CustomResource)[];
        if (this.plan.canaryReplicas > 0) {
            this.canary = this.track(ctx, "canary", canaryImage, this.plan.canaryReplicas);
            this.canaryService = ctx.routed ? this.trackService(ctx, "canary", this.canary) : undefined;
            objects = routerObjects(this.canary);
        } else {
            this.canaryService = ctx.routed ? this.trackService(ctx, "canary") : undefined;
            objects = routerObjects();
            this.canary = this.track(ctx, "canary", canaryImage, 0, objects);
        }
        this.ingresses = objects.filter((r) => r instanceof k8s.networking.v1.Ingress);
        this.route = objects.find((r) => r instanceof k8s.apiextensions.CustomResource);
        this.registerOutputs({
            weight: this.plan.canaryWeight,
            phase: this.plan.phase,
            service: this.service.metadata.name,
        });
    }

    /** One track's Deployment: its pods carry the track label, its annotations the share and the plan. */
    private track(
        ctx: Context,
        t: Track,
        image: pulumi.Input<string>,
        replicas: number,
        after: pulumi.Resource[] = [],
    ): k8s.apps.v1.Deployment {
        const { w } = ctx;
        return new k8s.apps.v1.Deployment(
            `${ctx.name}-${t}`,
            deploymentArgs({
                workload: w,
                name: `${w.name}-${t}`,
                image,
                replicas,
                labels: { ...servingLabels(w, image), [TRACK_LABEL]: t },
                selector: trackSelector(w, t),
                annotations: {
                    ...w.annotations,
                    [CANARY_WEIGHT_ANNOTATION]: String(ctx.shareAsked),
                    ...ctx.plan,
                },
            }),
            {
                // The stable track is the autoscaler's; the canary's count follows the weight.
                ...(w.autoscaled && t === "stable" ? REPLICAS_FROM_AUTOSCALER : {}),
                parent: this,
                dependsOn: [...(w.dependsOn ?? []), ...after],
                customTimeouts: rolloutTimeouts(w, replicas),
            },
        );
    }

    /** The Service clients use: both tracks' pods without a router, the stable track's with one. */
    private clientService(ctx: Context): k8s.core.v1.Service {
        const { w } = ctx;
        return new k8s.core.v1.Service(
            `${ctx.name}-svc`,
            serviceArgs({
                name: w.name,
                namespace: w.namespace,
                labels: workloadLabels(w, "server"),
                selector: ctx.routed ? trackSelector(w, "stable") : appSelector(w.name, w.environment),
                servicePort: w.servicePort,
            }),
            { parent: this },
        );
    }

    /**
     * The Service of one track alone, which a router sends the track's share to. With `pods`
     * (the track's Deployment, when it has replicas) it is written after them and awaited: the
     * provider's Service await returns once its endpoints have settled (10 s after their last
     * change, no pod not ready), so a Gateway routing by the endpoints knows the pods before
     * the router gives them a share. Without pods there is nothing to await (`skipAwait`),
     * and that annotation going away is the change that makes the first step's update wait.
     */
    private trackService(ctx: Context, t: Track, pods?: k8s.apps.v1.Deployment): k8s.core.v1.Service {
        const { w } = ctx;
        return new k8s.core.v1.Service(
            `${ctx.name}-${t}-svc`,
            serviceArgs({
                name: `${w.name}-${t}`,
                namespace: w.namespace,
                labels: workloadLabels(w, t),
                selector: trackSelector(w, t),
                servicePort: w.servicePort,
                annotations: pods ? {} : { ...SKIP_SERVICE_AWAIT },
            }),
            { parent: this, dependsOn: pods ? [pods] : [] },
        );
    }

    /** One object of the router's (policies/routers) as a resource of this component, after the parts it needs and `after`. */
    private routerObject(
        ctx: Context,
        o: RouterObject,
        parts: Record<CanaryPart, pulumi.Resource | undefined>,
        after: pulumi.Resource[],
    ): k8s.networking.v1.Ingress | k8s.apiextensions.CustomResource {
        const args = {
            metadata: {
                ...o.metadata,
                namespace: ctx.w.namespace,
                annotations: { ...o.metadata.annotations, ...TAKE_BACK_DRIFT },
            },
            spec: o.spec,
        };
        const ropts = {
            parent: this,
            dependsOn: [
                ...o.dependsOn.map((d) => parts[d]).filter((r): r is pulumi.Resource => r !== undefined),
                ...after,
            ],
        };
        const resourceName = `${ctx.name}-${o.resourceSuffix}`;
        return o.kind === "Ingress"
            ? new k8s.networking.v1.Ingress(resourceName, args as k8s.networking.v1.IngressArgs, ropts)
            : new k8s.apiextensions.CustomResource(
                  resourceName,
                  { apiVersion: o.apiVersion, kind: o.kind, ...args },
                  ropts,
              );
    }
}
