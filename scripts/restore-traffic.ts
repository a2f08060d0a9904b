// The traffic half of a rollback, written straight to the API server so that it takes effect
// within a second of the command's checks, as the runbooks' `kubectl patch` does: the
// selector of a blue/green service's Service, or a canary's weight 0 on whatever splits its
// traffic. Then the rollback converges the stack through the engine, which writes the same
// values: the program's objects carry `pulumi.com/patchForce`, so its field manager takes
// these fields back, and state, stack file and cluster agree again.
import type { ServiceConfig } from "../config/types";
import { COLOR_LABEL } from "../policies/lib/well-known";

/** The field manager of the rollback's own writes: `kubectl get -o yaml --show-managed-fields` names it. */
export const ROLLBACK_FIELD_MANAGER = "runbook-rollback";

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

/** What the rollback reads of a live object: a Service's selector, an HTTPRoute's rules. */
export interface LiveObject {
    spec?: {
        selector?: Record<string, string>;
        rules?: { backendRefs?: { name: string; weight?: number; [k: string]: unknown }[]; [k: string]: unknown }[];
    };
}

/** Reads an object from the API server; undefined when it does not exist. */
export type LiveReader = (kind: string, name: string) => LiveObject | undefined;

export class TrafficError extends Error {}

/** The object that carries `s`'s traffic, as kubectl names its kind: what trafficWrites reads and writes. */
export function trafficObject(s: ServiceConfig): { kind: string; name: string } {
    if (s.blueGreen) return { kind: "service", name: s.name };
    const c = s.canary;
    if (!c) throw new TrafficError(`${s.name} is a rolling deployment: it has no traffic to switch`);
    const canaryName = `${s.name}-canary`;
    switch (c.router.type) {
        case "gatewayApi":
            return { kind: "httproutes.gateway.networking.k8s.io", name: s.name };
        case "nginx":
            return { kind: "ingress", name: canaryName };
        case "replicas":
            return { kind: "deployment", name: canaryName };
    }
}

/**
 * What restores `s`'s traffic to where the rollback goes: the live colour's Service selecting
 * `to` (the whole selector: it is an atomic map), or the canary's share 0 (the HTTPRoute's
 * backend weights, the canary Ingress' weight annotation, or, with no router, no canary pods).
 * Read from `live` where the field is a whole list or map, so nothing else in it changes.
 */
export function trafficWrites(s: ServiceConfig, namespace: string, to: string, live: LiveReader): TrafficWrite[] {
    const { kind, name } = trafficObject(s);
    const o = live(kind, name);
    if (o === undefined) throw new TrafficError(`${kind} ${namespace}/${name} does not exist in the cluster`);
    const metadata = { name, namespace };
    if (s.blueGreen)
        return [
            {
                describe: `Service ${namespace}/${name} selects ${to}`,
                manifest: {
                    apiVersion: "v1",
                    kind: "Service",
                    metadata,
                    spec: { selector: { ...(o.spec?.selector ?? {}), [COLOR_LABEL]: to } },
                },
            },
        ];
    const canaryName = `${s.name}-canary`;
    switch (s.canary?.router.type) {
        case "gatewayApi": {
            // Rules are an atomic list: all of them, with only the weights changed.
            const rules = (o.spec?.rules ?? []).map((r) => ({
                ...r,
                backendRefs: (r.backendRefs ?? []).map((b) => ({ ...b, weight: b.name === canaryName ? 0 : 100 })),
            }));
            return [
                {
                    describe: `HTTPRoute ${namespace}/${name} sends 0 % to ${canaryName}`,
                    manifest: {
                        apiVersion: "gateway.networking.k8s.io/v1",
                        kind: "HTTPRoute",
                        metadata,
                        spec: { rules },
                    },
                },
            ];
        }
        case "nginx":
            return [
                {
                    describe: `Ingress ${namespace}/${name} canary-weight 0`,
                    manifest: {
                        apiVersion: "networking.k8s.io/v1",
                        kind: "Ingress",
                        metadata: { ...metadata, annotations: { "nginx.ingress.kubernetes.io/canary-weight": "0" } },
                    },
                },
            ];
        default:
            return [
                {
                    describe: `Deployment ${namespace}/${name} scaled to 0 (its pods leave the Service)`,
                    manifest: { apiVersion: "apps/v1", kind: "Deployment", metadata, spec: { replicas: 0 } },
                },
            ];
    }
}
