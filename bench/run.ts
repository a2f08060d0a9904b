// Benchmarks, side by side in one run (not timed tests):
//  - `pulumi preview` and `pulumi up` through the real engine of an empty program, of the
//    embedded default (local stack, rendering to a directory) and of a stack with 25
//    services, on the project's engine and, with BENCH_ENGINES, on others (each a directory
//    holding pulumi, its language host and the Kubernetes provider, e.g. an older
//    toolchain from the cache) — each row names the engine that ran;
//  - the in-process render with Pulumi's mocks of 1, 10 and 100 services.
// Prints ms per resource and peak memory, and the machine it ran on.
//   npx tsx bench/run.ts        (after `bash scripts/setup.sh`)
//   BENCH_ENGINES=DIR[:DIR...] npx tsx bench/run.ts
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../commands/engine";
import { renderedLocalStack, TOOLCHAIN_BIN, Workspace } from "../test/e2e/engine";
import { stackFileWith } from "./services";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Row {
    what: string;
    resources: number;
    ms: number;
    maxRssMiB: number;
}

/**
 * Median wall time and peak RSS (largest process of the run, GNU time %M) of `pulumi
 * preview` of a new stack, or of `pulumi up` creating it (each run destroys it again).
 */
function timed(ws: Workspace, op: "preview" | "up", stack: string, cwd?: string): Row {
    const times: number[] = [];
    let rss = 0;
    let resources = 0;
    for (let i = 0; i < RUNS; i++) {
        const args = op === "up" ? ["up", "--yes", "--skip-preview"] : ["preview"];
        const r = ws.timed([...args, "--stack", stack], cwd);
        if (r.code !== 0) throw new Error(`${op} ${stack} failed:\n${r.all}`);
        times.push(r.ms);
        rss = Math.max(rss, r.maxRssKiB / 1024);
        resources = Number(/\+ (\d+) (to create|created)/.exec(r.stdout)?.[1] ?? 0);
        if (op === "up") {
            const d = ws.pulumi(["destroy", "--yes", "--skip-preview", "--stack", stack], {}, cwd);
            if (d.code !== 0) throw new Error(`destroy ${stack} failed:\n${d.all}`);
        }
    }
    times.sort((a, b) => a - b);
    return { what: "", resources, ms: times[Math.floor(times.length / 2)], maxRssMiB: rss };
}

function mocks(n: number): Row {
    const r = spawnSync(
        path.join(ROOT, "node_modules", ".bin", "tsx"),
        [path.join(__dirname, "render-mocks.ts"), String(n)],
        { encoding: "utf8", cwd: ROOT },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    const j = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    return {
        what: `mocks render, ${n} service${n === 1 ? "" : "s"}`,
        resources: j.resources,
        ms: j.ms,
        maxRssMiB: j.maxRssMiB,
    };
}

/** The engine runs of one toolchain directory, in a workspace of its own. */
function engineRows(name: string, bin: string): Row[] {
    const ws = new Workspace(name, { toolchainBin: bin });
    const engine = ws.pulumi(["version"]).stdout.trim();
    const empty = path.join(ws.dir, "empty");
    fs.mkdirSync(empty);
    fs.writeFileSync(
        path.join(empty, "Pulumi.yaml"),
        "name: empty\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
    );
    fs.writeFileSync(path.join(empty, "index.ts"), "export const nothing = 0;\n");
    fs.writeFileSync(path.join(empty, "package.json"), '{"name":"empty","main":"index.ts"}\n');
    fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(empty, "tsconfig.json"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(empty, "node_modules"));
    ws.writeStackFile("bench25", stackFileWith(ROOT, 25, "rendered/bench25"));
    // The local stack's config, rendering: neither preview nor up needs a cluster then.
    ws.writeStackFile("local", renderedLocalStack("rendered/local"));
    ws.initStack("local");
    ws.initStack("bench25");
    ws.initStack("empty", empty);
    const rows: Row[] = [];
    for (const op of ["preview", "up"] as const)
        rows.push(
            { ...timed(ws, op, "empty", empty), what: `${engine}: pulumi ${op}, empty program` },
            { ...timed(ws, op, "local"), what: `${engine}: pulumi ${op}, embedded default (local)` },
            { ...timed(ws, op, "bench25"), what: `${engine}: pulumi ${op}, 25 services` },
        );
    return rows;
}

function main(): void {
    const others = (process.env.BENCH_ENGINES ?? "").split(":").filter((d) => d !== "");
    const rows: Row[] = [
        ...engineRows("bench", TOOLCHAIN_BIN),
        ...others.flatMap((bin, i) => engineRows(`benchengine${i}`, path.resolve(bin))),
        mocks(1),
        mocks(10),
        mocks(100),
    ];
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    console.log(
        `machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node.js ` +
            `${process.version}, ${os.platform()} ${os.release()}`,
    );
    console.log(`engine runs: median of ${RUNS}; peak RSS is the largest single process of the run\n`);
    console.log(`| run | resources | total ms | ms per resource | peak RSS MiB |`);
    console.log(`|---|---:|---:|---:|---:|`);
    for (const r of rows)
        console.log(
            `| ${r.what} | ${r.resources} | ${r.ms.toFixed(0)} | ` +
                `${r.resources ? (r.ms / r.resources).toFixed(1) : "–"} | ${r.maxRssMiB.toFixed(0)} |`,
        );
}

main();
