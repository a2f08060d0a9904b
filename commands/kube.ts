// kubectl, as the scripts and the live-cluster tests use it: JSON in, JSON out, always with
// an explicit kubeconfig (never the ambient one).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackConfig } from "../config/types";
import { ROOT } from "./engine";
import { UsageError } from "./errors";

/** The kubectl built with the local cluster; a real cluster's users have their own on PATH. */
const LOCAL_KUBECTL = path.join(ROOT, ".cluster", "bin", "kubectl");

export class KubectlError extends Error {}

/**
 * Whether `asked`, a kind as kubectl takes it (`deployment`, `ingress`,
 * `httproutes.gateway.networking.k8s.io`), names objects of `kind` (`Deployment`, `HTTPRoute`).
 */
export function isKind(asked: string, kind: string): boolean {
    const a = asked.split(".")[0].toLowerCase();
    const k = kind.toLowerCase();
    return a === k || a === `${k}s` || a === `${k}es`;
}

export class Kubectl {
    readonly binary: string;

    constructor(
        readonly kubeconfig: string,
        readonly context?: string,
    ) {
        this.binary = fs.existsSync(LOCAL_KUBECTL) ? LOCAL_KUBECTL : "kubectl";
    }

    /** Runs kubectl; throws with its stderr when it exits non-zero. */
    run(args: string[], input?: string): string {
        const r = spawnSync(
            this.binary,
            ["--kubeconfig", this.kubeconfig, ...(this.context ? ["--context", this.context] : []), ...args],
            { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 },
        );
        if (r.error) throw new KubectlError(`kubectl ${args.join(" ")}: ${r.error.message}`);
        if (r.status !== 0) throw new KubectlError(`kubectl ${args.join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
        return r.stdout;
    }

    /** `kubectl get -o json`: the object, or the `items` of a list. */
    get<T = any>(args: string[]): T {
        return JSON.parse(this.run(["get", ...args, "-o", "json"])) as T;
    }

    list<T = any>(kind: string, namespace: string, selector?: string): T[] {
        return this.get<{ items: T[] }>([kind, "-n", namespace, ...(selector ? ["-l", selector] : [])]).items;
    }

    /** The object, or undefined when the API server says it does not exist. */
    find<T = any>(kind: string, name: string, namespace?: string): T | undefined {
        const out = this.run([
            "get",
            kind,
            name,
            ...(namespace ? ["-n", namespace] : []),
            "-o",
            "json",
            "--ignore-not-found",
        ]);
        return out.trim() === "" ? undefined : (JSON.parse(out) as T);
    }

    /**
     * Several objects of one namespace in one call (one kubectl start-up instead of one
     * each); the reader answers undefined for those the API server does not have. Kinds
     * as kubectl takes them: `deployment`, `ingress`, `httproutes.gateway.networking.k8s.io`.
     */
    findAll(namespace: string, refs: { kind: string; name: string }[]): (kind: string, name: string) => any {
        const out = this.run([
            "get",
            ...refs.map((r) => `${r.kind}/${r.name}`),
            "-n",
            namespace,
            "-o",
            "json",
            "--ignore-not-found",
        ]);
        const parsed = out.trim() === "" ? { items: [] } : JSON.parse(out);
        const items: any[] = parsed.kind === "List" ? parsed.items : [parsed];
        return (kind, name) => items.find((o) => o.metadata?.name === name && isKind(kind, String(o.kind)));
    }

    apply(manifest: object): void {
        this.run(["apply", "--server-side", "-f", "-"], JSON.stringify(manifest));
    }

    server(): string {
        return this.run(["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"]).trim();
    }
}

/** kubectl for a stack's cluster: its kubeconfig (relative to the project in `dir`) and context. */
export function stackKubectl(o: { dir: string; config: StackConfig }): Kubectl {
    const k = o.config.kubernetes;
    if (k.renderYamlToDirectory !== undefined)
        throw new UsageError(
            "this stack renders YAML (kubernetes.renderYamlToDirectory); releases and rollbacks need a cluster",
        );
    const kubeconfig =
        k.kubeconfig !== undefined
            ? path.resolve(o.dir, k.kubeconfig)
            : (process.env.KUBECONFIG ?? path.join(process.env.HOME ?? "", ".kube", "config"));
    return new Kubectl(kubeconfig, k.context);
}
