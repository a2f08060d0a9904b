// Release operations on the live local cluster, side by side in one run (not timed tests):
// each as `pulumi up` wall time and the engine's own update duration, next to `kubectl`
// doing the same switch by hand (the runbooks' manual way, and the floor); `npm run rollback`
// (time to traffic restored, watched on the API server, and to converged) next to an empty
// program's `pulumi up`; a whole `npm run release` of a canary with shortened steps
// (against a real Prometheus scraping a healthy metrics target); abort to stable: a bad
// canary on the real node behind the cluster's Gateway, under load, next to Flagger's
// budget at the same interval; and the time to get the cluster's binaries, from the
// per-version cache and rebuilt with Go's build cache.
//   npx tsx bench/live.ts          (after `bash scripts/setup.sh`; starts the cluster if needed, and stops it after)
//   BENCH_COLD=1 npx tsx bench/live.ts   also rebuilds the cluster parts with empty Go caches (~10 min)
//   npx tsx bench/live.ts abort          only abort to stable
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../commands/engine";
import { stackConfigOrThrow } from "../commands/stack";
import { loadWhile } from "../lib/load";
import { gatewayHost, kubectl, liveStack, realNodeStack, removeStack } from "../test/e2e/cluster";
import { Workspace } from "../test/e2e/engine";
import { GATEWAY_SCRAPE_JOB, MetricsTarget, ServiceMonitorDiscovery, startPrometheus } from "../test/e2e/prometheus";

const NS = "bench-live";
const STACK = "bench";

interface Row {
    what: string;
    wallMs: number;
    updateS?: number;
    manualMs?: number;
}

function timed<T>(f: () => T): [T, number] {
    const t0 = process.hrtime.bigint();
    const v = f();
    return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

function up(ws: Workspace, what: string, config: Record<string, string>): Row {
    for (const [key, value] of Object.entries(config)) {
        const r = ws.pulumi(["config", "set", "--path", `runbook:${key}`, value, "--stack", STACK]);
        if (r.code !== 0) throw new Error(r.all);
    }
    const [r, ms] = timed(() =>
        ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"]),
    );
    if (r.code !== 0) throw new Error(`${what} failed:\n${r.all}`);
    // The engine's own figure: from the start of the update to its end, without start-up.
    const d = /Duration: (?:(\d+)m)?(\d+)s/.exec(r.stdout);
    const updateS = d ? Number(d[1] ?? 0) * 60 + Number(d[2]) : undefined;
    return { what, wallMs: ms, updateS };
}

/** One of the project's commands (scripts/NAME.ts) on the bench stack. */
const command = (ws: Workspace, name: string, args: string[]) =>
    ws.script(name, ["--stack", STACK, "--dir", ws.dir, ...args]);

/** The sum of the engine's update seconds each update of a release ("in N s (update; …)") or rollback ("(update N s)") reports. */
const appliedSeconds = (text: string) =>
    [...text.matchAll(/in ([0-9.]+) s \(update;|\(update ([0-9.]+) s\)/g)].reduce(
        (a, m) => a + Number(m[1] ?? m[2]),
        0,
    );

/**
 * A watch on Service `name`'s colour selector: `seen` resolves with the instant (hrtime)
 * the API server first reports it selecting `color`.
 */
function watchSelector(name: string, color: string): { seen: Promise<bigint>; stop(): void } {
    const k = kubectl();
    const child = spawn(k.binary, [
        "--kubeconfig",
        k.kubeconfig,
        "get",
        "service",
        name,
        "-n",
        NS,
        "--watch",
        "-o",
        'jsonpath={.spec.selector.runbook\\.dev/color}{"\\n"}',
    ]);
    const seen = new Promise<bigint>((resolve, reject) => {
        let buffered = "";
        child.stdout.on("data", (d: Buffer) => {
            const at = process.hrtime.bigint();
            buffered += d.toString();
            if (buffered.split("\n").includes(color)) resolve(at);
        });
        child.on("close", (code) => reject(new Error(`the watch on Service ${name} ended (${code})`)));
    });
    return { seen, stop: () => child.kill() };
}

/** `pulumi up` of a program with no resources on the same machine: the engine's floor. */
function emptyProgramUp(ws: Workspace): Row {
    const dir = path.join(ws.dir, "empty-program");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: empty\nruntime: nodejs\nmain: index.js\n");
    fs.writeFileSync(path.join(dir, "index.js"), "module.exports = {};\n");
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const init = ws.pulumi(["stack", "init", "empty"], {}, dir);
    if (init.code !== 0) throw new Error(init.all);
    const [r, ms] = timed(() => ws.pulumi(["up", "--stack", "empty", "--yes", "--skip-preview"], {}, dir));
    if (r.code !== 0) throw new Error(`empty program: ${r.all}`);
    ws.pulumi(["stack", "rm", "empty", "--yes", "--force"], {}, dir);
    return { what: "`pulumi up` of an empty program (the engine's floor)", wallMs: ms };
}

function manual(args: string[]): number {
    const k = kubectl();
    const [, ms] = timed(() => k.run(args));
    return ms;
}

function build(env: Record<string, string>): number {
    const [r, ms] = timed(() =>
        spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), "build"], {
            encoding: "utf8",
            env: { ...process.env, ...env },
        }),
    );
    if (r.status !== 0) throw new Error(r.stderr);
    return ms;
}

/**
 * A bad canary (10 % of its requests fail) released on the real node behind the cluster's
 * Gateway, under steady load, with the stack's documented analysis settings (interval,
 * windows, minimum requests): from its first failing request to its last answer (the
 * Gateway stopped sending it traffic), and the failed requests users saw meanwhile; next
 * to Flagger's budget at the same interval (a rollback after `threshold` failed checks,
 * one per interval), the failed requests that budget lets through at the canary's measured
 * rate and error ratio.
 */
async function abortToStable(): Promise<string[]> {
    const ns = "bench-abort";
    const stack = "abort";
    const rps = 100;
    const flaggerThreshold = 5;
    const ws = new Workspace("bench-abort");
    realNodeStack(ws, stack, ns, (c) => {
        const w = c["runbook:services"].web;
        w.canary.weight = 0;
        w.canary.image = "ghcr.io/acme/shop-web:2.10.0";
    });
    const k = kubectl();
    try {
        const u = ws.pulumi(["up", "--stack", stack, "--yes", "--skip-preview", "--policy-pack", "policies"]);
        if (u.code !== 0) throw new Error(u.all);
        const discovery = await ServiceMonitorDiscovery.start(k, ns, path.join(ws.dir, ".prometheus", "targets"));
        // The pods, and the Gateway whose backend series the local stack's release reads.
        const prom = await startPrometheus(
            path.join(ws.dir, ".prometheus"),
            [],
            [...discovery.jobs, GATEWAY_SCRAPE_JOB],
        );
        const interval = stackConfigOrThrow(ws.dir, stack, process.env).analysis.intervalSeconds;
        try {
            // 5 s more after the release: any answer the canary still gives after the abort is counted.
            const { result: rel, load: r } = await loadWhile(
                { url: "http://127.0.0.1:18080/version", host: gatewayHost(ns), rps, seconds: 600 },
                () =>
                    ws.script("release", [
                        "--stack",
                        stack,
                        "--dir",
                        ws.dir,
                        "--service",
                        "web",
                        "--prometheus",
                        prom.url,
                    ]),
                5000,
            );
            if (rel.code !== 1) throw new Error(`the bad canary was not aborted:\n${rel.stdout}${rel.stderr}`);
            const bad = r.byVersion.get("2.10.0");
            if (!bad?.firstErrorAt) throw new Error("the bad canary answered no failing request");
            const exposedS = (bad.lastAt - bad.firstErrorAt) / 1000;
            const canaryRps = bad.requests / ((bad.lastAt - bad.firstAt) / 1000);
            const errorRatio = bad.errors / bad.requests;
            const budgetS = interval * flaggerThreshold;
            return [
                `abort to stable: a canary failing 10 % of its requests at 5 %, ${rps} requests a second through the Gateway, ` +
                    `analysis every ${interval} s (the documented default):`,
                "",
                "| | first failing request → last canary answer, s | failed requests users saw |",
                "|---|---:|---:|",
                `| \`npm run release\` (measured) | ${exposedS.toFixed(1)} | ${bad.errors} (of ${bad.requests} canary requests) |`,
                `| Flagger's budget at the same interval (${interval} s × threshold ${flaggerThreshold}) | ${budgetS} | ` +
                    `~${Math.round(budgetS * canaryRps * errorRatio)} (at the measured ${canaryRps.toFixed(1)} canary requests/s, ` +
                    `${(100 * errorRatio).toFixed(1)} % failing) |`,
                "",
                `    ${rel.stdout.trim()}`,
            ];
        } finally {
            discovery.stop();
            await prom.stop();
        }
    } finally {
        removeStack(ws, stack, ns);
    }
}

/** Whether the project's local cluster is up (as test/e2e/global-setup.ts asks). */
const clusterRunning = () =>
    spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), "kubeconfig"], { encoding: "utf8" }).status === 0;

async function main(): Promise<void> {
    // The bench starts the cluster on first use; it stops it again only if it started it.
    const wasRunning = clusterRunning();
    try {
        if (process.argv[2] === "abort") console.log((await abortToStable()).join("\n"));
        else await bench();
    } finally {
        if (!wasRunning) spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), "down"], { stdio: "inherit" });
    }
}

async function bench(): Promise<void> {
    const rows: Row[] = [];
    /** What the commands themselves printed, below the table. */
    const reported: string[] = [];
    const ws = new Workspace("bench-live");
    liveStack(ws, STACK, NS, (c) => {
        c["runbook:services"].web.canary.weight = 5;
        c["runbook:alerts"] = { ...(c["runbook:alerts"] ?? {}), errorRateFor: "20s", latencyFor: "20s" };
    });
    const healthy = new MetricsTarget(
        () => 0,
        () => 0.08,
    );
    const prom = await startPrometheus(path.join(ws.dir, ".prometheus"), [
        { port: await healthy.start(), labels: { namespace: NS, service: "web-metrics" } },
    ]);
    try {
        rows.push(up(ws, "first release of the local stack", {}));
        // The runbooks' manual switch, on a Service of its own (the stack's are Pulumi's):
        // the same selector change, made by `kubectl patch`.
        const api = kubectl().get(["service", "api", "-n", NS]);
        kubectl().apply({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "bench-manual", namespace: NS },
            spec: { selector: api.spec.selector, ports: api.spec.ports },
        });
        // And the canary's HTTPRoute, for a host of its own (one route per host on the Gateway).
        const route = kubectl().get(["httproute", "web", "-n", NS]);
        kubectl().apply({
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: { name: "bench-manual", namespace: NS },
            spec: { ...route.spec, hostnames: ["bench-manual.local.example"] },
        });
        const selector = (color: string) => [
            "patch",
            "service",
            "bench-manual",
            "-n",
            NS,
            "--type",
            "merge",
            "-p",
            JSON.stringify({ spec: { selector: { "runbook.dev/color": color } } }),
        ];
        rows.push({
            ...up(ws, "blue/green colour flip (blue → green)", { "services.api.blueGreen.activeColor": "green" }),
            manualMs: manual(selector("green")),
        });
        rows.push({
            ...up(ws, "plain `pulumi up` flip back (green → blue)", { "services.api.blueGreen.activeColor": "blue" }),
            manualMs: manual(selector("blue")),
        });
        up(ws, "flip to green again", { "services.api.blueGreen.activeColor": "green" });
        // The rollback timed from outside: from its start to the moment the API server's
        // Service selects blue (a watch), and to the command's end (converged).
        const watch = watchSelector("api", "blue");
        const t0 = process.hrtime.bigint();
        const rb = await command(ws, "rollback", ["--service", "api", "--reason", "bench", "--by", "bench"]);
        const restoredMs = Number((await watch.seen) - t0) / 1e6;
        watch.stop();
        if (rb.code !== 0) throw new Error(`rollback failed:\n${rb.stdout}${rb.stderr}`);
        const patchMs = manual(selector("green"));
        rows.push({
            what: "`npm run rollback` (green → blue): traffic restored (Service selector seen by a watch)",
            wallMs: restoredMs,
            manualMs: patchMs,
        });
        rows.push({
            what: "`npm run rollback` (green → blue): converged (update, read back, command ends)",
            wallMs: rb.ms,
            updateS: appliedSeconds(rb.stdout),
            manualMs: patchMs,
        });
        rows.push(emptyProgramUp(ws));
        reported.push(rb.stdout.trim());
        // The next release is not a rollback: its record goes, as `npm run release` does.
        const rm = ws.pulumi(["config", "rm", "--path", "runbook:release.rollback", "--stack", STACK]);
        if (rm.code !== 0) throw new Error(rm.all);
        const weights = [
            {
                ...route.spec.rules[0],
                backendRefs: route.spec.rules[0].backendRefs.map((b: { name: string; weight?: number }) => ({
                    ...b,
                    weight: b.name === "web-canary" ? 25 : 75,
                })),
            },
        ];
        rows.push({
            ...up(ws, "canary step 5 → 25 (HTTPRoute backend weights)", { "services.web.canary.weight": "25" }),
            manualMs: manual([
                "patch",
                "httproute",
                "bench-manual",
                "-n",
                NS,
                "--type",
                "merge",
                "-p",
                JSON.stringify({ spec: { rules: weights } }),
            ]),
        });
        // A whole release: weight back to 0 with a new canary image, then 5 → 25 → 100
        // (promotion), each step watched for 10 s.
        up(ws, "canary back to 0 with a new image", {
            "services.web.canary.weight": "0",
            "services.web.canary.image": "ghcr.io/acme/shop-web:2.9.0",
        });
        const stepSeconds = 10;
        const rel = await command(ws, "release", [
            "--service",
            "web",
            "--prometheus",
            prom.url,
            "--step-seconds",
            String(stepSeconds),
            "--interval-seconds",
            "2",
            "--grace-seconds",
            "10",
        ]);
        if (rel.code !== 0) throw new Error(`release failed:\n${rel.stdout}${rel.stderr}`);
        rows.push({
            what: `\`npm run release\` of a canary, 5 → 25 → 100, steps watched ${stepSeconds} s (3 updates)`,
            wallMs: rel.ms,
            updateS: appliedSeconds(rel.stderr),
        });
    } finally {
        await prom.stop();
        await healthy.stop();
        removeStack(ws, STACK, NS);
    }
    const abort = await abortToStable();

    const builds: [string, number][] = [];
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cluster-"));
    const bin = path.join(ROOT, ".cluster", "bin");
    const saved = path.join(scratch, "bin");
    fs.renameSync(bin, saved);
    try {
        builds.push(["cluster binaries from the per-version cache", build({})]);
        fs.rmSync(bin, { recursive: true, force: true });
        builds.push([
            "cluster binaries rebuilt, Go build cache warm",
            build({ RUNBOOK_CLUSTER_CACHE: path.join(scratch, "cache") }),
        ]);
        if (process.env.BENCH_COLD === "1") {
            fs.rmSync(bin, { recursive: true, force: true });
            const env = {
                RUNBOOK_CLUSTER_CACHE: path.join(scratch, "cold-cache"),
                GOCACHE: path.join(scratch, "gocache"),
                GOMODCACHE: path.join(scratch, "gomodcache"),
            };
            builds.push(["cluster binaries built cold (empty Go caches)", build(env)]);
            spawnSync("chmod", ["-R", "u+w", path.join(scratch, "gomodcache")]);
        }
    } finally {
        fs.rmSync(bin, { recursive: true, force: true });
        fs.renameSync(saved, bin);
        fs.rmSync(scratch, { recursive: true, force: true });
    }

    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    console.log(
        `machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node.js ` +
            `${process.version}, ${os.platform()} ${os.release()}`,
    );
    console.log("one run each; update = the engine's own Duration (without CLI and plugin start-up)\n");
    console.log("| operation | wall s | update s | kubectl by hand s |");
    console.log("|---|---:|---:|---:|");
    for (const r of rows)
        console.log(
            `| ${r.what} | ${(r.wallMs / 1000).toFixed(1)} | ` +
                `${r.updateS === undefined ? "–" : +r.updateS.toFixed(1)} | ` +
                `${r.manualMs === undefined ? "–" : (r.manualMs / 1000).toFixed(2)} |`,
        );
    for (const line of reported) console.log(`\n    ${line}`);
    console.log(`\n${abort.join("\n")}`);
    console.log("\n| build | s |");
    console.log("|---|---:|");
    for (const [what, ms] of builds) console.log(`| ${what} | ${(ms / 1000).toFixed(0)} |`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
