// The live local cluster, for end-to-end tests: its kubeconfig, kubectl, stacks that apply
// to it in a namespace of their own, kwok Stages that make chosen pods fail, and a watch
// that records the order in which the API server saw objects change.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { Kubectl } from "../../commands/kube";
import { ROOT } from "../util/stack";
import { localStackOnKwok, type Workspace } from "./engine";

let kubeconfigPath: string | undefined;

/**
 * The kubeconfig of the local cluster, brought up on first use (`cluster -- up` is
 * idempotent and locked, so parallel workers share one cluster; the global teardown
 * stops it when the tests started it).
 */
export function clusterKubeconfig(): string {
    if (kubeconfigPath === undefined) {
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), "up"], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`npm run --silent cluster -- up failed:\n${r.stderr}`);
        kubeconfigPath = r.stdout.trim().split("\n").pop() as string;
    }
    return kubeconfigPath;
}

export function kubectl(): Kubectl {
    return new Kubectl(clusterKubeconfig());
}

/**
 * Pulumi.local.yaml applied to the local cluster in namespace `namespace`, its pods on
 * KWOK's node (localStackOnKwok), with `edit` applied to its config map. Written as
 * Pulumi.<stack>.yaml in the workspace.
 */
export function liveStack(
    ws: Workspace,
    stack: string,
    namespace: string,
    edit: (config: Record<string, any>) => void = () => {},
    env: Record<string, string> = {},
): void {
    writeLiveStack(ws, stack, namespace, localStackOnKwok(), edit, env);
}

/** Pulumi.local.yaml as it is, its pods on the real node, applied in `namespace`. */
export function realNodeStack(
    ws: Workspace,
    stack: string,
    namespace: string,
    edit: (config: Record<string, any>) => void = () => {},
): void {
    writeLiveStack(ws, stack, namespace, parse(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")), edit);
}

/** The host a test stack's Gateway API routes serve: one per namespace. */
export const gatewayHost = (namespace: string): string => `${namespace}.shop.local.example`;

function writeLiveStack(
    ws: Workspace,
    stack: string,
    namespace: string,
    doc: { config: Record<string, any> },
    edit: (config: Record<string, any>) => void,
    env: Record<string, string> = {},
): void {
    const c = doc.config;
    c["runbook:kubernetes"] = { kubeconfig: clusterKubeconfig() };
    c["runbook:namespace"] = { name: namespace, create: true };
    // Every stack's routes attach to the cluster's one Gateway: each serves a host of its own,
    // or the oldest route for a shared host would take every stack's requests.
    for (const s of Object.values((c["runbook:services"] ?? {}) as Record<string, any>))
        if (s.canary?.router?.type === "gatewayApi") s.canary.router.hostnames = [gatewayHost(namespace)];
    edit(c);
    ws.writeStackFile(stack, stringify(doc));
    ws.initStack(stack, undefined, env);
}

/** Deletes what a test stack created (namespace first, so a broken state cannot keep it). */
export function removeStack(ws: Workspace, stack: string, namespace: string, env: Record<string, string> = {}): void {
    const k = kubectl();
    k.run(["delete", "namespace", namespace, "--ignore-not-found", "--wait=false"]);
    ws.pulumi(["stack", "rm", stack, "--yes", "--force"], env);
}

const KINDS =
    "deployments,services,horizontalpodautoscalers,jobs,cronjobs,ingresses,httproutes.gateway.networking.k8s.io," +
    "serviceaccounts,prometheusrules,servicemonitors";

/** kind/name of every Kubernetes object a stack's state holds in `namespace`. */
export function objectsInState(
    ws: Workspace,
    stack: string,
    namespace: string,
    env: Record<string, string> = {},
): string[] {
    const state = JSON.parse(ws.pulumi(["stack", "export", "--stack", stack], env).stdout);
    return (state.deployment.resources as any[])
        .filter(
            (r) =>
                r.type.startsWith("kubernetes:") &&
                r.type !== "kubernetes:core/v1:Namespace" &&
                !r.type.startsWith("pulumi:providers:") &&
                r.outputs?.metadata?.namespace === namespace,
        )
        .map((r) => `${r.outputs.kind}/${r.outputs.metadata.name}`)
        .sort();
}

/** kind/name of every object Pulumi manages in `namespace`, as the API server lists them. */
export function objectsInCluster(namespace: string): string[] {
    return kubectl()
        .get<{ items: any[] }>([KINDS, "-n", namespace, "-l", "app.kubernetes.io/managed-by=pulumi"])
        .items.map((o) => `${o.kind}/${o.metadata.name}`)
        .sort();
}

/**
 * A kwok Stage that fails the matching pods of one namespace once they run (exit code 1),
 * as a broken smoke test or a failing pg_dump would. Its weight beats kwok's pod-complete.
 */
export function failPods(name: string, namespace: string, labels: Record<string, string>): { remove: () => void } {
    const k = kubectl();
    k.apply({
        apiVersion: "kwok.x-k8s.io/v1alpha1",
        kind: "Stage",
        metadata: { name },
        spec: {
            resourceRef: { apiGroup: "v1", kind: "Pod" },
            selector: {
                matchExpressions: [
                    { key: ".metadata.namespace", operator: "In", values: [namespace] },
                    ...Object.entries(labels).map(([key, value]) => ({
                        key: `.metadata.labels["${key}"]`,
                        operator: "In",
                        values: [value],
                    })),
                    { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
                    { key: ".status.phase", operator: "In", values: ["Running"] },
                ],
            },
            weight: 10000,
            next: {
                statusTemplate: [
                    "{{ $now := Now }}",
                    "phase: Failed",
                    "conditions:",
                    '- {type: Ready, status: "False", lastTransitionTime: {{ $now | Quote }}}',
                    '- {type: ContainersReady, status: "False", lastTransitionTime: {{ $now | Quote }}}',
                    "containerStatuses:",
                    "{{ range .spec.containers }}",
                    "- name: {{ .name | Quote }}",
                    "  image: {{ .image | Quote }}",
                    "  ready: false",
                    "  restartCount: 0",
                    "  state: {terminated: {exitCode: 1, reason: Error, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}",
                    "{{ end }}",
                ].join("\n"),
            },
        },
    });
    return { remove: () => k.run(["delete", "stage.kwok.x-k8s.io", name, "--ignore-not-found"]) };
}

export interface WatchEvent {
    type: string;
    kind: string;
    name: string;
    /** etcd's revision when the API server stored this version: one order across every kind. */
    revision: number;
    object: any;
}

/** `kubectl get --watch` of some kinds in a namespace, while something else runs. */
export class Watch {
    private readonly procs: { kind: string; proc: ChildProcess; out: string[] }[] = [];

    constructor(namespace: string, kinds: string[]) {
        const k = kubectl();
        for (const kind of kinds) {
            const out: string[] = [];
            const proc = spawn(
                k.binary,
                [
                    "--kubeconfig",
                    k.kubeconfig,
                    "get",
                    kind,
                    "-n",
                    namespace,
                    "--watch",
                    "--output-watch-events",
                    "-o",
                    "json",
                ],
                { stdio: ["ignore", "pipe", "ignore"] },
            );
            proc.stdout?.setEncoding("utf8").on("data", (d: string) => out.push(d));
            this.procs.push({ kind, proc, out });
        }
    }

    /** Stops watching; every event seen, in the API server's order. */
    async stop(): Promise<WatchEvent[]> {
        await new Promise((r) => setTimeout(r, 1000));
        const events: WatchEvent[] = [];
        for (const { proc, out } of this.procs) {
            proc.kill("SIGKILL");
            // kubectl prints one indented JSON document per event.
            for (const doc of out
                .join("")
                .split(/\n(?=\{)/)
                .filter((d) => d.trim())) {
                const e = JSON.parse(doc);
                events.push({
                    type: e.type,
                    kind: e.object.kind,
                    name: e.object.metadata.name,
                    revision: Number(e.object.metadata.resourceVersion),
                    object: e.object,
                });
            }
        }
        return events.sort((a, b) => a.revision - b.revision);
    }
}

/** Polls until `check` returns a value other than undefined, or throws after `ms`. */
export async function eventually<T>(what: string, check: () => T | undefined, ms = 60_000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
        const v = check();
        if (v !== undefined) return v;
        if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** The local cluster's controller-manager process (kwokctl's pid file, scripts/cluster.sh). */
const controllerManagerPid = (): number =>
    Number(
        fs.readFileSync(
            path.join(ROOT, ".cluster", "kwok", "clusters", "runbook", "pids", "kube-controller-manager.pid"),
            "utf8",
        ),
    );

/**
 * Runs `work` with the cluster's controller-manager stopped (SIGSTOP) until `resume()` says
 * so, or `capMs` at most: what a loaded machine does to the controllers, on purpose, so a
 * watcher sees the API server's state before any controller acted on a change. The cap stays
 * under the controller-manager's leader-election renew deadline (10 s), and it is always
 * resumed, whatever `work` does; the other suites' controllers wait as long.
 */
export async function withControllersStopped<T>(
    resume: () => boolean,
    work: () => Promise<T>,
    capMs = 8000,
): Promise<T> {
    const pid = controllerManagerPid();
    const until = Date.now() + capMs;
    process.kill(pid, "SIGSTOP");
    let stopped = true;
    const cont = () => {
        if (stopped) process.kill(pid, "SIGCONT");
        stopped = false;
    };
    const poll = setInterval(() => {
        if (Date.now() > until || resume()) cont();
    }, 100);
    try {
        return await work();
    } finally {
        clearInterval(poll);
        cont();
    }
}
