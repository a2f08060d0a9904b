// Puts a stack of a file backend back in order after an interrupted `pulumi up` (killed, the
// machine rebooted), so the next run converges instead of stopping:
//  - its lock, when provably stale: taken on this host by a process that no longer exists
//    (any other lock — another host, a live process — is left alone and reported);
//  - then, with no update running, what a write cut short leaves beside the checkpoint: an
//    empty attributes file (the engine then fails with "failed to load checkpoint: EOF")
//    and temporary files. The checkpoint itself is written by rename, so it stays whole.
//   PULUMI_BACKEND_URL=file://DIR npx tsx scripts/recover-state.ts --stack NAME [--dir PROJECT]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";

interface Lock {
    pid: number;
    hostname: string;
    timestamp: string;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Lock files of `stack` under a file backend's `.pulumi/locks` (project-scoped or not). */
export function lockFiles(backendDir: string, project: string, stack: string): string[] {
    const roots = [
        path.join(backendDir, ".pulumi", "locks", "organization", project, stack),
        path.join(backendDir, ".pulumi", "locks", stack),
    ];
    return roots
        .filter((d) => fs.existsSync(d))
        .flatMap((d) =>
            fs
                .readdirSync(d)
                .filter((f) => f.endsWith(".json"))
                .map((f) => path.join(d, f)),
        );
}

/** Removes stale locks and, when no update holds the stack, half-written sidecar files. */
export function recoverStack(backendDir: string, project: string, stack: string): string[] {
    const out: string[] = [];
    let held = false;
    for (const file of lockFiles(backendDir, project, stack)) {
        const lock = JSON.parse(fs.readFileSync(file, "utf8")) as Lock;
        if (lock.hostname === os.hostname() && !alive(lock.pid)) {
            fs.rmSync(file);
            fs.rmSync(`${file}.attrs`, { force: true });
            out.push(
                `removed the lock of stack '${stack}' left by pid ${lock.pid} at ${lock.timestamp} (that ` +
                    `process is gone: an interrupted update)`,
            );
        } else {
            out.push(
                `stack '${stack}' is locked by pid ${lock.pid} on ${lock.hostname} since ${lock.timestamp}; left alone`,
            );
            held = true;
        }
    }
    if (held) return out;
    for (const dir of [
        path.join(backendDir, ".pulumi", "stacks", project),
        path.join(backendDir, ".pulumi", "stacks"),
    ]) {
        if (!fs.existsSync(dir)) continue;
        for (const f of fs.readdirSync(dir).filter((n) => n.startsWith(`${stack}.json`))) {
            const file = path.join(dir, f);
            const cutShort =
                (f.endsWith(".attrs") && fs.statSync(file).size === 0) || /\.json\.[0-9a-f]+\.tmp$/.test(f);
            if (!cutShort) continue;
            fs.rmSync(file);
            out.push(`removed ${f}, left half-written by an interrupted update`);
        }
    }
    return out;
}

function main(): void {
    const { values } = parseArgs({
        options: { stack: { type: "string" }, dir: { type: "string", default: path.resolve(__dirname, "..") } },
    });
    const url = process.env.PULUMI_BACKEND_URL ?? "";
    if (!values.stack || !url.startsWith("file://")) {
        console.error(
            "usage: PULUMI_BACKEND_URL=file://DIR npx tsx scripts/recover-state.ts --stack NAME [--dir PROJECT]",
        );
        process.exit(2);
    }
    const project = (parse(fs.readFileSync(path.join(values.dir, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    for (const line of recoverStack(url.slice("file://".length), project, values.stack))
        console.error(`[recover-state] ${line}`);
}

if (require.main === module) main();
