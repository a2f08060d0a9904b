// Bounded load on one service of a stack, sent the way its clients reach it, counted per
// answering version: to try a release on the local cluster, or give its analysis requests to
// judge. It stops by itself after --seconds and never sends more than --rps a second.
//   npm run --silent load -- --stack local --service api --seconds 30 [--rps 10] [--path /version]
//                            [--kubeconfig FILE] [--dir DIR]
// Prints one line per version that answered (the X-App-Version header of each answer):
//   <version> requests=<n> errors=<n>      errors: 5xx answers and requests with no answer
// Where it sends: a blue/green service's active Service, a rolling service's Service, a
// canary of the replica router its Service (both tracks' pods, in the ratio of their counts).
// Only to loopback or the local cluster's own addresses. A canary behind NGINX or the Gateway
// API is refused: this cluster runs no data plane for their weights. --dir: where the stack
// files are (default: this checkout).
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

/** The Service clients of `s` reach it through, or why load cannot be sent the way they reach it. */
export function entryService(s: ServiceConfig): string {
    if (s.strategy === "canary") {
        const router = s.canary?.router.type ?? "replicas";
        if (router === "nginx")
            throw new RefusedError(
                `service '${s.name}' is a canary behind the NGINX router: its weights are stored in the ` +
                    "canary Ingress, and no ingress-nginx runs on this cluster to route them",
            );
        if (router !== "replicas")
            throw new RefusedError(
                `service '${s.name}' is a canary behind the ${router} router: this cluster runs no data ` +
                    "plane that routes its weights",
            );
    }
    // Blue/green: the active Service; rolling, and a canary of the replica router: the one Service.
    return s.name;
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
    const name = entryService(service);
    const kubeconfig = a.kubeconfig ?? config.kubernetes.kubeconfig;
    if (!kubeconfig)
        throw new UsageError(
            `stack '${a.stack}' names no kubeconfig (runbook:kubernetes.kubeconfig); pass --kubeconfig FILE`,
        );
    const svc = new Kubectl(path.resolve(dir, kubeconfig)).get(["service", name, "-n", config.namespace.name]);
    const ip: string = svc.spec.clusterIP;
    const port: number = svc.spec.ports[0].port;
    if (!allowedTarget(ip))
        throw new RefusedError(
            `Service ${config.namespace.name}/${name} has address ${ip}: load goes only to loopback ` +
                "or the local cluster's own addresses (198.18.16.0/23)",
        );
    process.stderr.write(
        `load: ${a.rps} GET ${a.path} a second for ${a.seconds} s to Service ${config.namespace.name}/${name} (${ip}:${port})\n`,
    );
    const result = await runLoad({ url: `http://${ip}:${port}${a.path}`, rps: a.rps, seconds: a.seconds });
    for (const line of formatLoad(result)) console.log(line);
    return 0;
}
