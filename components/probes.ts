// Typed probe builders (cdk8s-plus style): httpProbe("/api/health", { port: 3000 }).
// Timings default to runbook 004's values through config/defaults.ts.
import type * as k8s from "@pulumi/kubernetes";

type Probe = k8s.types.input.core.v1.Probe;

export interface ProbeTimings {
    initialDelaySeconds?: number;
    periodSeconds?: number;
    failureThreshold?: number;
    timeoutSeconds?: number;
    successThreshold?: number;
}

function timings(t: ProbeTimings): ProbeTimings {
    const out: ProbeTimings = {};
    for (const k of [
        "initialDelaySeconds",
        "periodSeconds",
        "timeoutSeconds",
        "failureThreshold",
        "successThreshold",
    ] as const) {
        if (t[k] !== undefined) out[k] = t[k];
    }
    return out;
}

export function httpProbe(path: string, opts: ProbeTimings & { port: number }): Probe {
    return { httpGet: { path, port: opts.port }, ...timings(opts) };
}

export function tcpProbe(opts: ProbeTimings & { port: number }): Probe {
    return { tcpSocket: { port: opts.port }, ...timings(opts) };
}

export function execProbe(command: string[], opts: ProbeTimings = {}): Probe {
    return { exec: { command }, ...timings(opts) };
}

export function grpcProbe(opts: ProbeTimings & { port: number; service?: string }): Probe {
    return {
        grpc: { port: opts.port, ...(opts.service !== undefined ? { service: opts.service } : {}) },
        ...timings(opts),
    };
}
