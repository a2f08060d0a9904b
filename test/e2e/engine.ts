// Runs the real Pulumi CLI (built by scripts/toolchain.sh) on a copy of the project in
// .e2e/, with a local file backend, so end-to-end tests never touch the work tree's state.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { pulumiEnv, ROOT, TOOLCHAIN_BIN } from "../../commands/engine";

const PROJECT_FILES = [
    "Pulumi.yaml",
    "package.json",
    "tsconfig.json",
    "index.ts",
    "components",
    "program",
    "config",
    "lib",
    "policies",
    "Pulumi.local.yaml",
    "Pulumi.production.yaml",
    "Pulumi.staging.yaml",
];
export { TOOLCHAIN_BIN };

export interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    /** stdout and stderr together, for messages that may go to either. */
    all: string;
}

export class Workspace {
    readonly dir: string;
    private readonly env: NodeJS.ProcessEnv;

    /** `toolchainBin`: where pulumi and its plugins are (the benchmarks compare engines). */
    constructor(name: string, opts: { toolchainBin?: string } = {}) {
        const parent = path.join(ROOT, ".e2e");
        // Earlier runs' copies are kept until the next run, to look into after a failure. Only
        // this name's (NAME-PID): "real-node" must not take "real-node-backup-PID" of a suite
        // running beside it.
        if (fs.existsSync(parent))
            for (const d of fs.readdirSync(parent))
                if (d.startsWith(`${name}-`) && /^\d+$/.test(d.slice(name.length + 1)))
                    fs.rmSync(path.join(parent, d), { recursive: true, force: true });
        this.dir = path.join(parent, `${name}-${process.pid}`);
        fs.mkdirSync(this.dir, { recursive: true });
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(this.dir, f), { recursive: true });
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(this.dir, "node_modules"));
        // Where the project's commands look by default (commandEnv), as in a checkout after up.sh.
        fs.mkdirSync(path.join(this.dir, ".pulumi-state"));
        const clean = Object.fromEntries(
            Object.entries(process.env).filter(([k]) => !k.startsWith("RUNBOOK_") && !k.startsWith("PULUMI_")),
        );
        // The commands' own engine environment (toolchain first, transpile-only), with this
        // workspace's home and backend.
        this.env = pulumiEnv(
            {
                ...clean,
                PULUMI_HOME: path.join(this.dir, ".pulumi-home"),
                PULUMI_BACKEND_URL: `file://${path.join(this.dir, ".pulumi-state")}`,
                // The local stack file carries the salt of the empty passphrase: it holds no secrets.
                PULUMI_CONFIG_PASSPHRASE: "",
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
                NO_COLOR: "1",
            },
            opts.toolchainBin ?? TOOLCHAIN_BIN,
        );
    }

    /** The environment every pulumi run of this workspace gets. */
    environment(env: Record<string, string> = {}): NodeJS.ProcessEnv {
        return { ...this.env, ...env };
    }

    /**
     * Processes still running with this workspace's PULUMI_HOME in their environment: what a
     * killed `pulumi up` leaves behind (its plugins run in process groups of their own).
     */
    leftovers(): number[] {
        const mark = `PULUMI_HOME=${this.env.PULUMI_HOME}`;
        const pids: number[] = [];
        for (const entry of fs.readdirSync("/proc")) {
            const pid = Number(entry);
            if (!Number.isInteger(pid) || pid === process.pid) continue;
            try {
                if (fs.readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(mark)) pids.push(pid);
            } catch {
                // gone meanwhile, or not ours to read
            }
        }
        return pids;
    }

    /** Kills the leftovers; the pids it killed. */
    reap(): number[] {
        const pids = this.leftovers();
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // exited meanwhile
            }
        }
        return pids;
    }

    writeStackFile(stack: string, yamlText: string): void {
        fs.writeFileSync(path.join(this.dir, `Pulumi.${stack}.yaml`), yamlText);
    }

    pulumi(args: string[], env: Record<string, string> = {}, cwd: string = this.dir): Run {
        const r = spawnSync("pulumi", [...args, "--non-interactive", "--color", "never"], {
            cwd,
            env: { ...this.env, ...env },
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
    }

    /** Any command, with this workspace's Pulumi environment (backend, toolchain on PATH). */
    exec(command: string, args: string[], env: Record<string, string> = {}, cwd: string = ROOT): Run {
        const r = spawnSync(command, args, {
            cwd,
            env: { ...this.env, ...env },
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
    }

    /**
     * A package of this repository's as `npm publish` would upload it (`npm pack`, prepack
     * included; `args` picks a workspace, e.g. `-w policies`), written to `dest`: the tarball's path.
     */
    pack(args: string[], dest: string): string {
        const packed = this.exec("npm", ["pack", ...args, "--json", "--pack-destination", dest], {}, ROOT);
        expectOk(packed);
        return path.join(dest, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);
    }

    /** `npm install` in `dir` from npm's cache, which the project's own `npm ci` filled; install scripts are not needed. */
    installFromCache(dir: string): void {
        expectOk(
            this.exec("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {}, dir),
        );
    }

    /**
     * One of the project's commands as users run it (`npm run --silent NAME -- ARGS`) with
     * this workspace's environment, run asynchronously so that servers in this process (a
     * metrics target) keep answering.
     */
    script(name: string, args: string[]): Promise<Run & { ms: number }> {
        return this.spawned("npm", ["run", "--silent", name, "--", ...args], ROOT);
    }

    /** `pulumi ARGS` run asynchronously, for a test that acts on the cluster while the engine works. */
    pulumiAsync(args: string[], cwd: string = this.dir): Promise<Run & { ms: number }> {
        return this.spawned("pulumi", [...args, "--non-interactive", "--color", "never"], cwd);
    }

    private spawned(command: string, args: string[], cwd: string): Promise<Run & { ms: number }> {
        const t0 = process.hrtime.bigint();
        return new Promise((resolve) => {
            const child = spawn(command, args, { cwd, env: this.env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (code) =>
                resolve({
                    code,
                    stdout,
                    stderr,
                    all: `${stdout}\n${stderr}`,
                    ms: Number(process.hrtime.bigint() - t0) / 1e6,
                }),
            );
        });
    }

    /**
     * Approvers with real SSH keys made here (ssh-keygen), and the policy config's `signers`
     * entry that names their keys and roles.
     */
    approvers(roles: Record<string, string[]>): { principal: string; key: string; roles: string[] }[] {
        return Object.entries(roles).map(([principal, r]) => {
            const key = path.join(this.dir, "keys", principal);
            if (!fs.existsSync(key)) {
                fs.mkdirSync(path.dirname(key), { recursive: true });
                const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", key], {
                    encoding: "utf8",
                });
                if (made.status !== 0) throw new Error(`ssh-keygen: ${made.stderr}`);
            }
            return { principal, key: fs.readFileSync(`${key}.pub`, "utf8").trim(), roles: r };
        });
    }

    /** `npm run approve -- sign` by an approver made by `approvers`, for this workspace's stack. */
    sign(stack: string, principal: string, role: string, signedAt: string, env: Record<string, string> = {}): Run {
        const args = [
            "sign",
            "--stack",
            stack,
            "--role",
            role,
            "--key",
            path.join(this.dir, "keys", principal),
            "--signed-at",
            signedAt,
            "--dir",
            this.dir,
        ];
        return this.exec(
            path.join(ROOT, "node_modules", ".bin", "tsx"),
            [path.join(ROOT, "commands", "main.ts"), "approve", ...args],
            env,
        );
    }

    /** A pulumi run under GNU time: wall time and the peak RSS of its largest process. */
    timed(args: string[], cwd: string = this.dir): Run & { ms: number; maxRssKiB: number } {
        const report = path.join(this.dir, ".time");
        const t0 = process.hrtime.bigint();
        const r = spawnSync(
            "/usr/bin/time",
            ["-f", "%M", "-o", report, "pulumi", ...args, "--non-interactive", "--color", "never"],
            { cwd, env: this.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
        );
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const maxRssKiB = Number(fs.readFileSync(report, "utf8").trim().split("\n").pop());
        return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}`, ms, maxRssKiB };
    }

    initStack(stack: string, cwd?: string, env: Record<string, string> = {}): void {
        const r = this.pulumi(["stack", "init", stack], env, cwd);
        if (r.code !== 0) throw new Error(`stack init ${stack} failed:\n${r.all}`);
    }

    /** Every rendered manifest under the stack's render directory: relative path → text. */
    manifests(renderDir: string): Map<string, string> {
        const root = path.join(this.dir, renderDir);
        const out = new Map<string, string>();
        const walk = (d: string) => {
            for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                const p = path.join(d, e.name);
                if (e.isDirectory()) walk(p);
                else if (e.name.endsWith(".yaml")) out.set(path.relative(root, p), fs.readFileSync(p, "utf8"));
            }
        };
        if (fs.existsSync(root)) walk(root);
        return out;
    }

    /** Rendered objects of one kind. */
    objects(renderDir: string, kind: string): any[] {
        return [...this.manifests(renderDir).values()]
            .flatMap((t) => parseAllDocuments(t).map((d) => d.toJS()))
            .filter((o) => o?.kind === kind);
    }
}

/** Fails with the end of the run's output when it did not exit `code`. */
export function expectExit(r: Run, code: number): void {
    if (r.code !== code) throw new Error(`exit ${r.code}, expected ${code}:\n${r.all.slice(-6000)}`);
}

/** Fails with the end of the run's output when it did not exit 0. */
export const expectOk = (r: Run): void => expectExit(r, 0);

/** One policy result as the engine's progress display lists it under "Policies:". */
export interface PolicyReport {
    /** `name@vVERSION` */
    pack: string;
    level: string;
    policy: string;
    /** `type: name` of the resource, or of the stack for a stack policy. */
    resource: string;
}

/**
 * The policy results in a run's output. Under "Policies:" the engine prints a line per pack
 * (`❌ runbook-guardrails@v0.2.0 (local: policies)`) and, under it, one per result:
 * `- [mandatory]  enforce-deploy-gate  (kubernetes:apps/v1:Deployment: api)`.
 */
export function policyReports(output: string): PolicyReport[] {
    const out: PolicyReport[] = [];
    let pack = "";
    for (const line of output.split("\n")) {
        const header = /^\s+\S+\s+(\S+@v\d\S*)\s+\(/.exec(line);
        if (header) pack = header[1];
        const m = /^\s+- \[(\w+)\]\s+(\S+)(?:\s+\((.*)\))?\s*$/.exec(line);
        if (m) out.push({ pack, level: m[1], policy: m[2], resource: m[3] ?? "" });
    }
    return out;
}

export function toolchainReady(): boolean {
    return [
        "pulumi",
        "pulumi-language-nodejs",
        "pulumi-language-nodejs-v3.68",
        "pulumi-resource-kubernetes",
        "promtool",
    ].every((b) => fs.existsSync(path.join(TOOLCHAIN_BIN, b)));
}

/**
 * Pulumi.local.yaml as the suites on KWOK's node take it, the one place that decides it:
 * without what puts the local stack on the real node (`runbook:scheduling`, the local
 * toolbox images, its small sizes, no pre-deploy backup). Those suites prove order, drift,
 * interrupts and policies on simulated pods, where a Job completes by itself and any image
 * "runs"; the suites about what pods do take the file as it is, on the real node.
 */
export function localStackOnKwok(): { config: Record<string, any>; [key: string]: unknown } {
    const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8"));
    const c = doc.config as Record<string, any>;
    delete c["runbook:scheduling"];
    for (const key of ["preDeploy", "dumpImage", "uploadImage"]) delete c["runbook:backup"][key];
    for (const s of Object.values(c["runbook:services"] as Record<string, any>)) {
        delete s.resources;
        if (s.blueGreen) delete s.blueGreen.smokeTest;
    }
    return doc;
}

/** Pulumi.local.yaml (as on KWOK) writing its manifests to `renderDir` instead of applying them. */
export function renderedLocalStack(renderDir: string): string {
    const doc = localStackOnKwok();
    doc.config["runbook:kubernetes"] = { renderYamlToDirectory: renderDir };
    return stringify(doc);
}

/**
 * Pulumi.production.yaml in namespace `namespace`, applied to `kubernetes` (a kubeconfig, or
 * `renderYamlToDirectory`), without AWS, with a Gateway API canary for `web`.
 */
export function productionLikeStack(kubernetes: Record<string, string>, namespace: string): string {
    const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.production.yaml"), "utf8"));
    const c = doc.config;
    c["runbook:kubernetes"] = kubernetes;
    c["runbook:namespace"] = { name: namespace, create: true };
    c["runbook:aws"] = { enabled: false };
    c["runbook:backup"].bucket = { name: "acme-shop-e2e-backups", region: "eu-west-1", prefix: "shop-e2e" };
    c["runbook:backup"].iam = { roleArn: "arn:aws:iam::123456789012:role/shop-e2e-backup" };
    c["runbook:services"].web = {
        strategy: "canary",
        image: "ghcr.io/acme/shop-web:2.7.0",
        port: 3000,
        metrics: { port: 3000 },
        canary: {
            image: "ghcr.io/acme/shop-web:2.8.0",
            weight: 25,
            router: { type: "gatewayApi", gateway: { name: "shop-gateway", namespace: "gateway-system" } },
        },
    };
    return stringify(doc);
}
