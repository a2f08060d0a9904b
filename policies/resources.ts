// The kinds the policies judge, and reading what any program registered: Kubernetes
// metadata, the environment label, a workload's containers. Built-in Kubernetes kinds are
// the SDK's own classes (CrossGuard matches them by type token, as validateResourceOfType
// does, and types their properties); custom resources and S3 buckets, for which the pack
// loads no SDK, are matched by token and typed here with the fields the policies read.
import * as k8s from "@pulumi/kubernetes";
import type { Resource } from "@pulumi/pulumi";
import type { ResolvedResource } from "@pulumi/pulumi/queryable";
import { validateResourceOfType, type PolicyResource, type ResourceValidationPolicy } from "@pulumi/policy";
import { ENVIRONMENT_LABEL } from "./lib/well-known";
import type { Environment } from "./settings";

/** The metadata fields the policies read, as any kind's typed properties have them. */
interface ObjectMeta {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

/** A kind without an SDK class in the pack: its type token and the properties policies read. */
export interface TokenKind<P> {
    token: string;
    /** Never set: carries the properties' type. */
    readonly props?: P;
}

const kind = <P>(token: string): TokenKind<P> => ({ token });

export interface HTTPRouteProps {
    metadata?: ObjectMeta;
    spec?: { rules?: Array<{ backendRefs?: Array<{ name?: string; weight?: number }> }> };
}
export interface PrometheusRuleProps {
    metadata?: ObjectMeta;
    spec?: { groups?: Array<{ rules?: Array<{ alert?: string }> }> };
}
export interface BucketProps {
    bucket?: string;
    id?: string;
    acl?: string;
}
/** Versioning, encryption and public access block: each names its bucket in `bucket`. */
export interface BucketPartProps {
    bucket?: string;
    versioningConfiguration?: { status?: string };
    rules?: Array<{ applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }>;
    blockPublicAcls?: boolean;
    blockPublicPolicy?: boolean;
    ignorePublicAcls?: boolean;
    restrictPublicBuckets?: boolean;
}

export const HTTPRoute = kind<HTTPRouteProps>("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute");
export const PrometheusRule = kind<PrometheusRuleProps>("kubernetes:monitoring.coreos.com/v1:PrometheusRule");
export const Bucket = kind<BucketProps>("aws:s3/bucket:Bucket");
export const BucketVersioning = kind<BucketPartProps>("aws:s3/bucketVersioning:BucketVersioning");
export const BucketEncryption = kind<BucketPartProps>(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
);
export const BucketPublicAccessBlock = kind<BucketPartProps>("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");

/** A registered resource of a token kind, with its properties typed; the others are left out. */
export interface Typed<P> {
    resource: PolicyResource;
    props: P;
}
export function ofKind<P>(resources: PolicyResource[], k: TokenKind<P>): Typed<P>[] {
    return resources.filter((r) => r.type === k.token).map((r) => ({ resource: r, props: r.props as P }));
}

/**
 * The resources of an SDK kind with their properties typed by it (as `asType` types them),
 * for stack policies; `resource` is the registered resource, for its URN and name.
 */
export function ofClass<R extends Resource>(
    resources: PolicyResource[],
    cls: { new (...rest: any[]): R },
): Array<{ resource: PolicyResource; props: ResolvedResource<R> }> {
    const out: Array<{ resource: PolicyResource; props: ResolvedResource<R> }> = [];
    for (const r of resources) {
        const props = r.asType(cls);
        if (props !== undefined) out.push({ resource: r, props });
    }
    return out;
}

interface Meta {
    name?: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

export const metadata = (props: { metadata?: ObjectMeta } | undefined): Meta => ({
    name: props?.metadata?.name,
    namespace: props?.metadata?.namespace,
    labels: props?.metadata?.labels ?? {},
    annotations: props?.metadata?.annotations ?? {},
});

/** `Kind namespace/name` for messages. */
export function describe(type: string, props: { metadata?: ObjectMeta } | undefined, fallback: string): string {
    const m = metadata(props);
    const kindName = type.split(":").pop();
    return `${kindName} ${m.namespace ? `${m.namespace}/` : ""}${m.name ?? fallback}`;
}

export function environmentOf(props: { metadata?: ObjectMeta } | undefined): Environment | undefined {
    const e = metadata(props).labels[ENVIRONMENT_LABEL];
    return e === "production" || e === "staging" ? e : undefined;
}

/** The stack's environment: from its resources' labels. */
export function stackEnvironmentFromLabels(resources: PolicyResource[]): Environment | undefined {
    for (const r of resources) {
        const e = environmentOf(r.props);
        if (e) return e;
    }
    return undefined;
}

interface Step {
    type: string;
    props: Record<string, any>;
    provider?: { type: string; props: Record<string, any> };
}

/** A Kubernetes provider that writes YAML to a directory instead of talking to a cluster. */
const rendersOnly = (p: { type: string; props: Record<string, any> }) =>
    p.type === "pulumi:providers:kubernetes" &&
    typeof p.props?.renderYamlToDirectory === "string" &&
    p.props.renderYamlToDirectory !== "";

/** The engine's built-in provider (stack references): it reads other stacks' state, no more. */
const BUILTIN_PROVIDER = "pulumi:providers:pulumi";
const staysInside = (p: { type: string; props: Record<string, any> }) => p.type === BUILTIN_PROVIDER || rendersOnly(p);

/**
 * Whether a resource's step can change anything outside the stack's state: a provider and
 * the resources it manages can, unless it only renders YAML or is the engine's own; the
 * stack and components cannot.
 */
export function reachesOutside(r: Step): boolean {
    if (r.type.startsWith("pulumi:providers:")) return !staysInside(r);
    return r.provider !== undefined && !staysInside(r.provider);
}

/**
 * Whether a resource is managed by a provider that writes somewhere: a cluster, or YAML
 * rendered for one. The stack, components, providers themselves and the engine's own
 * (stack references) are not: their registration changes nothing outside the state.
 */
export function touchesProvider(r: Step): boolean {
    return !r.type.startsWith("pulumi:providers:") && r.provider !== undefined && r.provider.type !== BUILTIN_PROVIDER;
}

/** What the policies read of a container and a pod spec; the SDK's typed properties are checked against it. */
export interface Container {
    name?: string;
    image?: string;
    readinessProbe?: unknown;
    livenessProbe?: unknown;
    resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}
export interface PodSpec {
    containers?: Container[];
    initContainers?: Container[];
}
type ReportViolation = (message: string, urn?: string) => void;
type Validation = NonNullable<Extract<ResourceValidationPolicy["validateResource"], (...a: any[]) => any>>;

type WithTemplate = { spec?: { template?: { spec?: PodSpec } } } | undefined;
type WithJobTemplate = { spec?: { jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } } | undefined;
/** Where the kinds that run pods keep their pod spec: Deployment and Job in a template, CronJob one deeper. */
const templatePod = (p: WithTemplate) => p?.spec?.template?.spec;
const jobTemplatePod = (p: WithJobTemplate) => p?.spec?.jobTemplate?.spec?.template?.spec;

/** The pod spec of a resource that runs pods (Deployment, Job, CronJob); undefined for any other kind. */
export function podSpecOf(r: Pick<PolicyResource, "asType">): PodSpec | undefined {
    return (
        templatePod(r.asType(k8s.apps.v1.Deployment)) ??
        templatePod(r.asType(k8s.batch.v1.Job)) ??
        jobTemplatePod(r.asType(k8s.batch.v1.CronJob))
    );
}

/** A pod spec's containers, its init containers too where asked. */
export function containersOf(pod: PodSpec | undefined, includeInit = false): Container[] {
    if (!pod) return [];
    return [...(pod.containers ?? []), ...(includeInit ? (pod.initContainers ?? []) : [])];
}

type WithMetadata = { metadata?: ObjectMeta };

/**
 * One check of a pod spec, as validations of each kind that runs pods (validateResourceOfType
 * for Deployment, Job and CronJob): `what` names the resource in messages.
 */
export function forEachPodSpec(
    check: (pod: PodSpec, what: string, props: WithMetadata, report: ReportViolation) => void,
): Validation[] {
    const run = (
        pod: PodSpec | undefined,
        props: WithMetadata,
        args: { type: string; name: string },
        report: ReportViolation,
    ) => {
        if (pod) check(pod, describe(args.type, props, args.name), props, report);
    };
    return [
        validateResourceOfType(k8s.apps.v1.Deployment, (d, args, report) => run(templatePod(d), d, args, report)),
        validateResourceOfType(k8s.batch.v1.Job, (j, args, report) => run(templatePod(j), j, args, report)),
        validateResourceOfType(k8s.batch.v1.CronJob, (c, args, report) => run(jobTemplatePod(c), c, args, report)),
    ];
}
