// Bounded load on one service of a stack, sent the way its clients reach it, counted per
// answering version: to try a release on the local cluster, or give its analysis requests to
// judge. It stops by itself after --seconds and never sends more than --rps a second.
//   npm run --silent load -- --stack local --service api --seconds 30 [--rps 10] [--path /version]
//                            [--kubeconfig FILE] [--dir DIR]
// Prints one line per version that answered (the X-App-Version header of each answer):
//   <version> requests=<n> errors=<n>      errors: 5xx answers and requests with no answer
// Where it sends: a blue/green service's active Service, a rolling service's Service, a
// canary of the replica router its Service (both tracks' pods, in the ratio of their counts),
// a canary of the Gateway API router its Gateway (the address in the Gateway's status, its
// HTTP listener's port, the route's first hostname as Host), which splits by the HTTPRoute's
// weights. Only to loopback or the local cluster's own addresses. A canary behind NGINX is
// refused: no ingress-nginx runs here to route its weights. --dir: where the stack files are
// (default: this checkout).
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { ServiceConfig } from "../config/types";
import { allowedTarget, formatLoad, runLoad } from "../lib/load";
import { ROOT } from "./engine";
import { RefusedError, UsageError } from "./errors";
import { Kubectl } from "./kube";
import { stackConfigOrThrow } from "./stack";

export const MAX_SECONDS = 600;
export const MAX_RPS = 200;

export interface LoadArgs {
    stack: string;
    service: string;
    seconds: number;
    rps: number;
    path: string;
    kubeconfig?: string;
    dir?: string;
}

/** The arguments, or a UsageError naming every problem with them. */
export function parseLoadArgs(argv: string[]): LoadArgs {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string" },
            service: { type: "string" },
            seconds: { type: "string" },
            rps: { type: "string" },
            path: { type: "string" },
            kubeconfig: { type: "string" },
            dir: { type: "string" },
        },
        strict: true,
    });
    const problems: string[] = [];
    const bounded = (flag: string, given: string | undefined, fallback: number | undefined, max: number) => {
        if (given === undefined) {
            if (fallback === undefined) problems.push(`--${flag}: required (an integer 1..${max})`);
            return fallback ?? 0;
        }
        const n = Number(given);
        if (!/^\d+$/.test(given) || n < 1 || n > max)
            problems.push(`--${flag}: expected an integer 1..${max}, got ${JSON.stringify(given)}`);
        return n;
    };
    if (!values.stack) problems.push("--stack: required (the stack's name, as in Pulumi.<stack>.yaml)");
    if (!values.service) problems.push("--service: required (a service of the stack's runbook:services)");
    const seconds = bounded("seconds", values.seconds, undefined, MAX_SECONDS);
    const rps = bounded("rps", values.rps, 10, MAX_RPS);
    const p = values.path ?? "/version";
    if (!p.startsWith("/")) problems.push(`--path: expected a path starting with '/', got ${JSON.stringify(p)}`);
    if (problems.length > 0)
        throw new UsageError(
            `${problems.join("; ")} (usage: npm run --silent load -- --stack S --service NAME --seconds N [--rps R])`,
        );
    return {
        stack: values.stack!,
        service: values.service!,
        seconds,
        rps,
        path: p,
        kubeconfig: values.kubeconfig,
        dir: values.dir,
    };
}

/** Where load for one service goes: the way its clients reach it. */
export type Entry =
    | { kind: "service"; name: string }
    | { kind: "gateway"; name: string; namespace?: string; sectionName?: string; host?: string };

/** The way clients of `s` reach it, or why load cannot be sent that way. */
export function entryOf(s: ServiceConfig): Entry {
    const router = s.strategy === "canary" ? s.canary?.router : undefined;
    if (router?.type === "nginx")
        throw new RefusedError(
            `service '${s.name}' is a canary behind the NGINX router: its weights are stored in the ` +
                "canary Ingress, and no ingress-nginx runs on this cluster to route them (the Gateway API " +
                "router's weights are routed by the cluster's Gateway)",
        );
    if (router?.type === "gatewayApi")
        return {
            kind: "gateway",
            name: router.gateway.name,
            namespace: router.gateway.namespace,
            sectionName: router.gateway.sectionName,
            host: router.hostnames[0],
        };
    // Blue/green: the active Service; rolling, and a canary of the replica router: the one Service.
    return { kind: "service", name: s.name };
}

/** What load reads of a Gateway: its listeners, and the addresses its controller gave it. */
export interface GatewayObject {
    metadata?: { namespace?: string };
    spec?: { listeners?: { name: string; protocol: string; port: number; hostname?: string }[] };
    status?: { addresses?: { type?: string; value: string }[] };
}

/** The address, port and Host header of a Gateway's HTTP listener, as its status and spec say. */
export function gatewayTarget(
    gateway: GatewayObject,
    entry: Extract<Entry, { kind: "gateway" }>,
): { address: string; port: number; host?: string } {
    const where = `Gateway ${gateway.metadata?.namespace}/${entry.name}`;
    const listeners = gateway.spec?.listeners ?? [];
    const listener = listeners.find((l) =>
        entry.sectionName !== undefined ? l.name === entry.sectionName : l.protocol === "HTTP",
    );
    if (!listener)
        throw new RefusedError(
            `${where} has no ${entry.sectionName !== undefined ? `listener ${entry.sectionName}` : "HTTP listener"}`,
        );
    const address = (gateway.status?.addresses ?? []).find((a) => (a.type ?? "IPAddress") === "IPAddress")?.value;
    if (!address)
        throw new RefusedError(
            `${where} has no address in its status: is its controller running and the Gateway programmed?`,
        );
    // A listener's own hostname is the one it serves; otherwise the route's first.
    return { address, port: Number(listener.port), host: listener.hostname ?? entry.host };
}

export async function run(argv: string[]): Promise<number> {
    const a = parseLoadArgs(argv);
    const dir = path.resolve(a.dir ?? ROOT);
    const config = stackConfigOrThrow(dir, a.stack, process.env);
    const service = config.services.find((s) => s.name === a.service);
    if (!service)
        throw new UsageError(
            `--service: stack '${a.stack}' has no service ${JSON.stringify(a.service)}; ` +
                `it has ${config.services.map((s) => s.name).join(", ")}`,
        );
    const entry = entryOf(service);
    const kubeconfig = a.kubeconfig ?? config.kubernetes.kubeconfig;
    if (!kubeconfig)
        throw new UsageError(
            `stack '${a.stack}' names no kubeconfig (runbook:kubernetes.kubeconfig); pass --kubeconfig FILE`,
        );
    const k = new Kubectl(path.resolve(dir, kubeconfig));
    const ns = config.namespace.name;
    let target: { address: string; port: number; host?: string; describe: string };
    if (entry.kind === "gateway") {
        const gwNs = entry.namespace ?? ns;
        const t = gatewayTarget(k.get<GatewayObject>(["gateway", entry.name, "-n", gwNs]), entry);
        target = { ...t, describe: `Gateway ${gwNs}/${entry.name}${t.host ? ` for ${t.host}` : ""}` };
    } else {
        const svc = k.get(["service", entry.name, "-n", ns]);
        target = { address: svc.spec.clusterIP, port: svc.spec.ports[0].port, describe: `Service ${ns}/${entry.name}` };
    }
    if (!allowedTarget(target.address))
        throw new RefusedError(
            `${target.describe} has address ${target.address}: load goes only to loopback ` +
                "or the local cluster's own addresses (198.18.16.0/23)",
        );
    process.stderr.write(
        `load: ${a.rps} GET ${a.path} a second for ${a.seconds} s to ${target.describe} (${target.address}:${target.port})\n`,
    );
    const result = await runLoad({
        url: `http://${target.address}:${target.port}${a.path}`,
        host: target.host,
        rps: a.rps,
        seconds: a.seconds,
    });
    for (const line of formatLoad(result)) console.log(line);
    return 0;
}
