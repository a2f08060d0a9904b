// Reading what the program registered: Kubernetes metadata, the environment label, the
// containers of a workload. Shared by the policies; imports nothing from the pack.
import type { PolicyResource } from "@pulumi/policy";
import { ENVIRONMENT_LABEL } from "../lib/labels";
import type { Environment } from "./settings";

export const T = {
    deployment: "kubernetes:apps/v1:Deployment",
    service: "kubernetes:core/v1:Service",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    cronJob: "kubernetes:batch/v1:CronJob",
    job: "kubernetes:batch/v1:Job",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    bucket: "aws:s3/bucket:Bucket",
    bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
    bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
} as const;

type Props = Record<string, any>;

export const metadata = (
    props: Props,
): { name?: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> } => ({
    name: props?.metadata?.name,
    namespace: props?.metadata?.namespace,
    labels: props?.metadata?.labels ?? {},
    annotations: props?.metadata?.annotations ?? {},
});

/** `Kind namespace/name` for messages. */
export function describe(type: string, props: Props, fallbackName: string): string {
    const m = metadata(props);
    const kind = type.split(":").pop();
    return `${kind} ${m.namespace ? `${m.namespace}/` : ""}${m.name ?? fallbackName}`;
}

export function environmentOf(props: Props): Environment | undefined {
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
    props: Props;
    provider?: { type: string; props: Props };
}

/** A Kubernetes provider that writes YAML to a directory instead of talking to a cluster. */
const rendersOnly = (p: { type: string; props: Props }) =>
    p.type === "pulumi:providers:kubernetes" &&
    typeof p.props?.renderYamlToDirectory === "string" &&
    p.props.renderYamlToDirectory !== "";

/** The engine's built-in provider (stack references): it reads other stacks' state, no more. */
const BUILTIN_PROVIDER = "pulumi:providers:pulumi";
const staysInside = (p: { type: string; props: Props }) => p.type === BUILTIN_PROVIDER || rendersOnly(p);

/**
 * Whether a resource's step can change anything outside the stack's state: a provider and
 * the resources it manages can, unless it only renders YAML or is the engine's own; the
 * stack and components cannot.
 */
export function reachesOutside(r: Step): boolean {
    if (r.type.startsWith("pulumi:providers:")) return !staysInside(r);
    return r.provider !== undefined && !staysInside(r.provider);
}

export interface Container {
    name?: string;
    image?: string;
    readinessProbe?: unknown;
    livenessProbe?: unknown;
    resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

/** Containers (init containers included where asked) of a Deployment, Job or CronJob. */
export function containersOf(type: string, props: Props, includeInit = false): Container[] {
    const pod =
        type === T.cronJob
            ? props?.spec?.jobTemplate?.spec?.template?.spec
            : type === T.deployment || type === T.job
              ? props?.spec?.template?.spec
              : undefined;
    if (!pod) return [];
    return [...(pod.containers ?? []), ...(includeInit ? (pod.initContainers ?? []) : [])];
}
