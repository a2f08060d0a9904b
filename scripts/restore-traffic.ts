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

/**
 * What restores `s`'s traffic to where the rollback goes: the live colour's Service selecting
 * `to` (the whole selector: it is an atomic map), or the canary's share 0 (the HTTPRoute's
 * backend weights, the canary Ingress' weight annotation, or, with no router, no canary pods).
 * Read from `live` where the field is a whole list or map, so nothing else in it changes.
 */
export function trafficWrites(s: ServiceConfig, namespace: string, to: string, live: LiveReader): TrafficWrite[] {
    const meta = (name: string) => ({ name, namespace });
    const need = (kind: string, name: string) => {
        const o = live(kind, name);
        if (o === undefined) throw new TrafficError(`${kind} ${namespace}/${name} does not exist in the cluster`);
        return o;
    };
    if (s.blueGreen) {
        const svc = need("service", s.name);
        return [
            {
                describe: `Service ${namespace}/${s.name} selects ${to}`,
                manifest: {
                    apiVersion: "v1",
                    kind: "Service",
                    metadata: meta(s.name),
                    spec: { selector: { ...(svc.spec?.selector ?? {}), [COLOR_LABEL]: to } },
                },
            },
        ];
    }
    const c = s.canary;
    if (!c) throw new TrafficError(`${s.name} is a rolling deployment: it has no traffic to switch`);
    const canaryName = `${s.name}-canary`;
    switch (c.router.type) {
        case "gatewayApi": {
            const route = need("httproutes.gateway.networking.k8s.io", s.name);
            // Rules are an atomic list: all of them, with only the weights changed.
            const rules = (route.spec?.rules ?? []).map((r) => ({
                ...r,
                backendRefs: (r.backendRefs ?? []).map((b) => ({ ...b, weight: b.name === canaryName ? 0 : 100 })),
            }));
            return [
                {
                    describe: `HTTPRoute ${namespace}/${s.name} sends 0 % to ${canaryName}`,
                    manifest: {
                        apiVersion: "gateway.networking.k8s.io/v1",
                        kind: "HTTPRoute",
                        metadata: meta(s.name),
                        spec: { rules },
                    },
                },
            ];
        }
        case "nginx":
            need("ingress", canaryName);
            return [
                {
                    describe: `Ingress ${namespace}/${canaryName} canary-weight 0`,
                    manifest: {
                        apiVersion: "networking.k8s.io/v1",
                        kind: "Ingress",
                        metadata: {
                            ...meta(canaryName),
                            annotations: { "nginx.ingress.kubernetes.io/canary-weight": "0" },
                        },
                    },
                },
            ];
        case "replicas":
            need("deployment", canaryName);
            return [
                {
                    describe: `Deployment ${namespace}/${canaryName} scaled to 0 (its pods leave the Service)`,
                    manifest: {
                        apiVersion: "apps/v1",
                        kind: "Deployment",
                        metadata: meta(canaryName),
                        spec: { replicas: 0 },
                    },
                },
            ];
    }
}
