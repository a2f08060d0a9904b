// The traffic half of a rollback, written straight to the API server so that it takes effect
// within a second of the command's checks, as the runbooks' `kubectl patch` does: the
// selector of a blue/green service's Service, or a canary's weight 0 as its router writes it.
// Then the rollback converges the stack through the engine, which writes the same values:
// the program's objects carry `pulumi.com/patchForce`, so its field manager takes these
// fields back, and state, stack file and cluster agree again.
import type { ServiceConfig } from "../config/types";
import { COLOR_LABEL } from "../policies/lib/well-known";
import { routerOf, type LiveObject, type ObjectRef, type TrafficWrite } from "../policies/routers";

export type { LiveObject, TrafficWrite };

/** The field manager of the rollback's own writes: `kubectl get -o yaml --show-managed-fields` names it. */
export const ROLLBACK_FIELD_MANAGER = "runbook-rollback";

/** Reads an object from the API server; undefined when it does not exist. */
export type LiveReader = (kind: string, name: string) => LiveObject | undefined;

export class TrafficError extends Error {}

/** The object that carries `s`'s traffic, as kubectl names its kind: what trafficWrites reads and writes. */
export function trafficObject(s: ServiceConfig): ObjectRef {
    if (s.blueGreen) return { kind: "service", name: s.name };
    if (!s.canary) throw new TrafficError(`${s.name} is a rolling deployment: it has no traffic to switch`);
    return routerOf(s.canary.router).weightObject(s.name);
}

/**
 * What restores `s`'s traffic to where the rollback goes: the live colour's Service selecting
 * `to` (the whole selector: it is an atomic map), or the canary's share 0 as its router
 * writes it (policies/routers). Read from `live` where the field is a whole list or map, so
 * nothing else in it changes.
 */
export function trafficWrites(s: ServiceConfig, namespace: string, to: string, live: LiveReader): TrafficWrite[] {
    const { kind, name } = trafficObject(s);
    const o = live(kind, name);
    if (o === undefined) throw new TrafficError(`${kind} ${namespace}/${name} does not exist in the cluster`);
    if (s.canary) return [routerOf(s.canary.router).abortWrite(s.name, namespace, o)];
    return [
        {
            describe: `Service ${namespace}/${name} selects ${to}`,
            manifest: {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name, namespace },
                spec: { selector: { ...(o.spec?.selector ?? {}), [COLOR_LABEL]: to } },
            },
        },
    ];
}
