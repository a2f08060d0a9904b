// The rollback's reads and its server-side apply straight over HTTPS, with the credentials
// of the stack's kubeconfig: a kubectl start-up costs about 0.12 s a call, a request on an
// open connection a few milliseconds, and the rollback's traffic waits for both calls.
// Kubeconfigs this does not understand (an auth-provider, a proxy, basic auth, a list of
// files) are answered with the reason, and the caller uses kubectl, which knows them all.
// Why not @kubernetes/client-node: 2.x does not load on Node.js 20 (its undici needs
// Node 22's zstd), and loading it takes 0.6 s, more than the two kubectl calls it replaces.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { Kubectl } from "./kube";

/** The kinds the rollback reads and writes, as kubectl names them, with where the API serves them. */
const RESOURCES: Record<string, { apiVersion: string; kind: string; plural: string }> = {
    service: { apiVersion: "v1", kind: "Service", plural: "services" },
    deployment: { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments" },
    job: { apiVersion: "batch/v1", kind: "Job", plural: "jobs" },
    ingress: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", plural: "ingresses" },
    "httproutes.gateway.networking.k8s.io": {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        plural: "httproutes",
    },
};

export class KubeApiError extends Error {}

/** An object for a server-side apply: only the fields its manager owns. */
export interface ApplyManifest {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string; [k: string]: unknown };
    [k: string]: unknown;
}

/** What a request needs: where the API server is and how to prove who we are. */
export interface Credentials {
    server: string;
    ca?: Buffer;
    insecure?: boolean;
    serverName?: string;
    cert?: Buffer;
    key?: Buffer;
    token?: string;
}

/** A kubeconfig's context, cluster or user by name (each list holds `{name, context|cluster|user}`). */
function entry(list: unknown, name: string, field: string): Record<string, any> | undefined {
    if (!Array.isArray(list)) return undefined;
    return (list as Record<string, any>[]).find((e) => e?.name === name)?.[field];
}

/** `{x}-data` (base64) or the file `x` names (relative to the kubeconfig's folder). */
function material(o: Record<string, any>, field: string, dir: string): Buffer | undefined {
    const data = o[`${field}-data`];
    if (typeof data === "string") return Buffer.from(data, "base64");
    const file = o[field];
    return typeof file === "string" ? fs.readFileSync(path.resolve(dir, file)) : undefined;
}

/** Runs a client-go credential plugin once and takes the token or client certificate it returns. */
function execCredentials(exec: Record<string, any>, dir: string): Pick<Credentials, "token" | "cert" | "key"> {
    const command = String(exec.command ?? "");
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const e of (exec.env ?? []) as { name: string; value: string }[]) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
        apiVersion: exec.apiVersion,
        kind: "ExecCredential",
        spec: { interactive: false },
    });
    // A command with a slash is relative to the kubeconfig, as client-go resolves it.
    const binary = command.includes("/") ? path.resolve(dir, command) : command;
    const r = spawnSync(binary, (exec.args ?? []) as string[], { encoding: "utf8", env, timeout: 30_000 });
    if (r.error || r.status !== 0)
        throw new KubeApiError(
            `the kubeconfig's credential plugin ${command} failed: ${r.error?.message ?? r.stderr.trim()}`,
        );
    const status = (JSON.parse(r.stdout) as { status?: Record<string, string> }).status ?? {};
    if (status.token) return { token: status.token };
    if (status.clientCertificateData && status.clientKeyData)
        return { cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData) };
    throw new KubeApiError(`the kubeconfig's credential plugin ${command} returned neither a token nor a certificate`);
}

/**
 * The credentials of `context` (or the current context) in the kubeconfig `file`, or why
 * this client does not handle them (the caller then uses kubectl).
 */
export function credentialsOf(file: string, context?: string): Credentials | { unsupported: string } {
    if (file.includes(path.delimiter)) return { unsupported: "a list of kubeconfig files" };
    const dir = path.dirname(path.resolve(file));
    const config = parseYaml(fs.readFileSync(file, "utf8")) as Record<string, any>;
    const contextName = context ?? config["current-context"];
    const ctx = entry(config.contexts, contextName, "context");
    if (!ctx) throw new KubeApiError(`${file} has no context '${contextName}'`);
    const cluster = entry(config.clusters, ctx.cluster, "cluster");
    if (!cluster) throw new KubeApiError(`${file} has no cluster '${ctx.cluster}' (context ${contextName})`);
    const user = entry(config.users, ctx.user, "user") ?? {};
    if (cluster["proxy-url"]) return { unsupported: "a proxy-url" };
    if (user["auth-provider"]) return { unsupported: "an auth-provider" };
    if (user.username || user.password) return { unsupported: "basic authentication" };
    if (user.as || user["as-groups"]) return { unsupported: "impersonation" };
    const tokenFile = user.tokenFile as string | undefined;
    return {
        server: String(cluster.server).replace(/\/$/, ""),
        ca: material(cluster, "certificate-authority", dir),
        insecure: cluster["insecure-skip-tls-verify"] === true,
        serverName: cluster["tls-server-name"],
        cert: material(user, "client-certificate", dir),
        key: material(user, "client-key", dir),
        token: user.token ?? (tokenFile ? fs.readFileSync(path.resolve(dir, tokenFile), "utf8").trim() : undefined),
        ...(user.exec ? execCredentials(user.exec, dir) : {}),
    };
}

/** The API path of an object of `kind` (as kubectl names it); kinds the rollback does not use are an error. */
export function objectPath(kind: string, namespace: string, name: string): string {
    const r = RESOURCES[kind];
    if (!r) throw new KubeApiError(`no API path known for kind ${kind}`);
    const base = r.apiVersion.includes("/") ? `/apis/${r.apiVersion}` : `/api/${r.apiVersion}`;
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}/${encodeURIComponent(name)}`;
}

/** The kubectl name of the kind a manifest declares, for its API path. */
function kubectlKind(manifest: { apiVersion: string; kind: string }): string {
    const found = Object.entries(RESOURCES).find(
        ([, r]) => r.apiVersion === manifest.apiVersion && r.kind === manifest.kind,
    );
    if (!found) throw new KubeApiError(`no API path known for ${manifest.apiVersion} ${manifest.kind}`);
    return found[0];
}

export class KubeApi {
    private readonly agent: https.Agent;

    constructor(private readonly c: Credentials) {
        this.agent = new https.Agent({
            keepAlive: true,
            ca: c.ca,
            cert: c.cert,
            key: c.key,
            rejectUnauthorized: !c.insecure,
            servername: c.serverName,
        });
    }

    private request(
        method: string,
        urlPath: string,
        body?: string,
        contentType?: string,
    ): Promise<{ status: number; body: string }> {
        const headers: Record<string, string> = { Accept: "application/json" };
        if (this.c.token) headers.Authorization = `Bearer ${this.c.token}`;
        if (contentType) headers["Content-Type"] = contentType;
        return new Promise((resolve, reject) => {
            const req = https.request(
                `${this.c.server}${urlPath}`,
                { method, headers, agent: this.agent, timeout: 10_000 },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (d: string) => (text += d));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
                },
            );
            req.on("timeout", () => req.destroy(new KubeApiError(`${method} ${urlPath}: no answer in 10 s`)));
            req.on("error", (e) =>
                reject(e instanceof KubeApiError ? e : new KubeApiError(`${this.c.server}: ${e.message}`)),
            );
            req.end(body);
        });
    }

    /** The API server's Status message of a failed request, or its status code. */
    private static failure(what: string, r: { status: number; body: string }): KubeApiError {
        let message = `HTTP ${r.status}`;
        try {
            message = (JSON.parse(r.body) as { message?: string }).message ?? message;
        } catch {
            // not a Status object: the code says enough
        }
        return new KubeApiError(`${what}: ${message}`);
    }

    /** Several objects of one namespace, read at once; the reader answers undefined for those that do not exist. */
    async findAll(
        namespace: string,
        refs: { kind: string; name: string }[],
    ): Promise<(kind: string, name: string) => any> {
        const found = await Promise.all(
            refs.map(async (ref) => {
                const r = await this.request("GET", objectPath(ref.kind, namespace, ref.name));
                if (r.status === 404) return undefined;
                if (r.status !== 200) throw KubeApi.failure(`get ${ref.kind} ${namespace}/${ref.name}`, r);
                return { ...ref, object: JSON.parse(r.body) as unknown };
            }),
        );
        return (kind, name) => found.find((f) => f?.kind === kind && f.name === name)?.object;
    }

    /** A server-side apply of each manifest under `fieldManager`, taking its fields from any other manager. */
    async apply(manifests: ApplyManifest[], fieldManager: string): Promise<void> {
        await Promise.all(
            manifests.map(async (m) => {
                const p = objectPath(kubectlKind(m), m.metadata.namespace, m.metadata.name);
                const query = `?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
                const r = await this.request(
                    "PATCH",
                    `${p}${query}`,
                    JSON.stringify(m),
                    "application/apply-patch+yaml",
                );
                if (r.status !== 200 && r.status !== 201)
                    throw KubeApi.failure(`apply ${m.kind} ${m.metadata.namespace}/${m.metadata.name}`, r);
            }),
        );
    }

    /** Closes the kept-alive connections, so the process can exit. */
    close(): void {
        this.agent.destroy();
    }
}

/** Where the rollback reads and writes: the API server directly, or kubectl for what only it knows. */
export interface TrafficApi {
    /** For people: "the API server" or "kubectl (the kubeconfig uses an auth-provider)". */
    via: string;
    findAll(namespace: string, refs: { kind: string; name: string }[]): Promise<(kind: string, name: string) => any>;
    apply(manifests: ApplyManifest[], fieldManager: string): Promise<void>;
    close(): void;
}

/** The API server over HTTPS with `kubectl`'s kubeconfig and context, or kubectl itself where its credentials need it. */
export function trafficApi(kubectl: Kubectl): TrafficApi {
    const c = credentialsOf(kubectl.kubeconfig, kubectl.context);
    if (!("unsupported" in c)) {
        const api = new KubeApi(c);
        return {
            via: "the API server",
            findAll: (ns, refs) => api.findAll(ns, refs),
            apply: (manifests, fieldManager) => api.apply(manifests, fieldManager),
            close: () => api.close(),
        };
    }
    return {
        via: `kubectl (the kubeconfig uses ${c.unsupported})`,
        findAll: async (ns, refs) => kubectl.findAll(ns, refs),
        apply: async (manifests, fieldManager) => {
            // --validate=false: kubectl would first download the API's OpenAPI schema (about
            // 0.07 s) to check fields the rollback copied from the live object itself.
            const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests });
            kubectl.run(
                [
                    "apply",
                    "--server-side",
                    "--force-conflicts",
                    "--validate=false",
                    `--field-manager=${fieldManager}`,
                    "-f",
                    "-",
                ],
                list,
            );
        },
        close: () => undefined,
    };
}
