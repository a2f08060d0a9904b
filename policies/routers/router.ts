// What a canary router is: everything that differs between the ways a canary's traffic can
// be split (Gateway API, NGINX Ingress, the ratio of replicas). One module per router
// implements this interface and is registered in ./index.ts; the component, the config
// schema, the rollback, the status command and the policy pack all ask the registry.
// Nothing here loads a Pulumi SDK: the pack and the commands import it as plain data.
import type { z } from "zod";
import { TRACK_LABEL } from "../lib/well-known";

/** A problem with a canary's settings; `path` is relative to the component's args. */
export interface RouterProblem {
    path: PropertyKey[];
    message: string;
}

/** What a router needs to write its objects for one app. */
export interface RouteContext {
    /** The app: its stable track's Service is named `app`, its canary's `${app}-canary`. */
    app: string;
    /** The port both Services serve. */
    port: number;
    /** Percent of requests for the canary. */
    weight: number;
    /** The labels of the app's objects for a component (`route`, `ingress`). */
    labels: (component: string) => Record<string, string>;
    /** The reviewed step plan, on every object that carries a weight. */
    planAnnotations: Record<string, string>;
}

/** Which of a canary's objects a router's object waits for. */
export type CanaryPart = "service" | "canaryService" | "canary";

/** One Kubernetes object a router creates; the component adds the namespace and makes it a resource. */
export interface RouterObject {
    /** The Pulumi resource name is `${componentName}-${resourceSuffix}`. */
    resourceSuffix: string;
    apiVersion: string;
    kind: "HTTPRoute" | "Ingress";
    metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
    spec: Record<string, unknown>;
    dependsOn: CanaryPart[];
}

/** The object a rollback writes, as kubectl names its kind. */
export interface ObjectRef {
    kind: string;
    name: string;
}

/** What a rollback reads of a live object: a Service's selector, an HTTPRoute's rules. */
export interface LiveObject {
    spec?: {
        selector?: Record<string, string>;
        rules?: { backendRefs?: { name: string; weight?: number; [k: string]: unknown }[]; [k: string]: unknown }[];
    };
}

/** One server-side apply: the fields of one object that carry the traffic, and what they say. */
export interface TrafficWrite {
    /** For people: "Service shop/api selects blue". */
    describe: string;
    manifest: {
        apiVersion: string;
        kind: string;
        metadata: { name: string; namespace: string; annotations?: Record<string, string> };
        [k: string]: unknown;
    };
}

/** The objects of a namespace the status command listed, by the kind kubectl names. */
export type LiveObjects = Record<string, any[]>;

/** A weight read back from the cluster, and where it was read. */
export interface LiveWeight {
    percent: number;
    source: string;
}

/** A resource of a planned update, as CrossGuard gives it to a stack policy. */
export interface PlannedResource {
    type: string;
    name: string;
    urn: string;
    props: any;
}

/** A canary weight an object of the plan carries, for the pack to check against the step plan. */
export interface PlannedWeight {
    resource: PlannedResource;
    /** Whether the object carries a canary's weight; false: it has only `problems` to report. */
    carriesWeight: boolean;
    /** The weight as the object carries it: a number, or whatever else was written. */
    weight: unknown;
    /** How far the weight may miss a step (percentage points). */
    tolerance: number;
    /** Problems of the object itself, beside its weight (backend weights that do not add up). */
    problems: string[];
}

/**
 * One side's requests as Prometheus holds them: a counter of requests and a histogram of
 * their durations in seconds, with the labels that select the side.
 */
export interface RequestSeries {
    requests: string;
    /** The histogram's name, without `_bucket`. */
    duration: string;
    /** The label carrying the HTTP status code. */
    code: string;
    labels: Record<string, string>;
    /** Where they are counted, for people: "the canary track's pods", "Traefik's backend shop-web-canary-http-80". */
    where: string;
}

/** What a router's analysis is given to name the series of one release. */
export interface AnalysisContext {
    app: string;
    namespace: string;
    /** The port both Services serve (a Gateway's backends are named by it). */
    port: number;
    /**
     * The series the app's own pods export (its ServiceMonitor's), of the pods `podLabels`
     * select that run that side's image.
     */
    pods: (side: "canary" | "stable", podLabels: Record<string, string>) => RequestSeries;
}

/** The requests an analysis compares: the canary's own, and the stable track's at the same time. */
export interface TrafficSelection {
    canary: RequestSeries;
    baseline: RequestSeries;
}

export interface Router<C extends { type: string } = { type: string }> {
    type: C["type"];
    /** Its settings under `canary.router`, with their defaults applied on parse. */
    schema: z.ZodType<C>;
    /**
     * Whether requests are split by weight between two Services (true), or spread over one
     * Service by the ratio of the tracks' pods (false).
     */
    weighted: boolean;
    /** What the plan asks that this router cannot honour. */
    problems(plan: { steps: readonly number[]; replicas: number }): RouterProblem[];
    /** The objects that carry the weight. */
    objects(config: C, ctx: RouteContext): RouterObject[];
    /** The object whose fields send the canary its share. */
    weightObject(app: string): ObjectRef;
    /** The server-side apply that sends the canary 0 %, keeping the rest of the live object. */
    abortWrite(app: string, namespace: string, live: LiveObject): TrafficWrite;
    /** The kinds `liveWeight` reads. */
    liveKinds: string[];
    /** The canary's share read back from the cluster; undefined when this router does not split `app`. */
    liveWeight(objects: LiveObjects, app: string): LiveWeight | undefined;
    /** The weights the planned objects of any program carry, for the pack. */
    plannedWeights(resources: PlannedResource[]): PlannedWeight[];
    /** Where the canary's own requests, and the stable track's, are counted in Prometheus. */
    analysis(config: C, ctx: AnalysisContext): TrafficSelection;
}

/** The series of both tracks' own pods: what every router can read. */
export const podTraffic = (ctx: AnalysisContext): TrafficSelection => ({
    canary: ctx.pods("canary", { [TRACK_LABEL]: "canary" }),
    baseline: ctx.pods("stable", { [TRACK_LABEL]: "stable" }),
});

/** The canary's Service (and HTTPRoute backend) name for an app. */
export const canaryServiceName = (app: string): string => `${app}-canary`;

/** The canary's share of backend weights, in percent of their sum (an unset weight is 1). */
export function shareOf(refs: { name?: string; weight?: number }[], isCanary: (name: string) => boolean): number {
    const total = refs.reduce((a, b) => a + (b.weight ?? 1), 0);
    const canary = refs.find((b) => b.name !== undefined && isCanary(b.name));
    return total ? Math.round((100 * (canary?.weight ?? 0)) / total) : 0;
}
