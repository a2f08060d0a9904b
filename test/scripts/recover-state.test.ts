// scripts/recover-state.ts on a file backend laid out as the Pulumi CLI writes it.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recoverStack } from "../../scripts/recover-state";

let backend: string;
const locks = () => path.join(backend, ".pulumi", "locks", "organization", "runbook", "local");
const stacks = () => path.join(backend, ".pulumi", "stacks", "runbook");

/** A pid that existed and is gone: a finished child process's. */
function deadPid(): number {
    const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    return Number(r.stdout);
}

function lock(pid: number, hostname = os.hostname()): string {
    const file = path.join(locks(), `${pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ pid, username: "ci", hostname, timestamp: "2026-11-23T20:12:13Z" }));
    fs.writeFileSync(`${file}.attrs`, "{}");
    return file;
}

beforeEach(() => {
    backend = fs.mkdtempSync(path.join(os.tmpdir(), "recover-state-"));
    fs.mkdirSync(locks(), { recursive: true });
    fs.mkdirSync(stacks(), { recursive: true });
    fs.writeFileSync(path.join(stacks(), "local.json"), '{"version": 3}');
    // What a checkpoint write cut short leaves: the sidecar truncated, a temporary file.
    fs.writeFileSync(path.join(stacks(), "local.json.attrs"), "");
    fs.writeFileSync(path.join(stacks(), "local.json.18eac5bce0f81431.tmp"), '{"version": 3, "partial');
});

afterEach(() => fs.rmSync(backend, { recursive: true, force: true }));

test("a lock whose process is gone is removed, then what the cut-short write left; the checkpoint stays", () => {
    const file = lock(deadPid());
    const said = recoverStack(backend, "runbook", "local");
    expect(said[0]).toMatch(
        /^removed the lock of stack 'local' left by pid \d+ at 2026-11-23T20:12:13Z \(that process is gone/,
    );
    expect(said.slice(1).sort()).toEqual([
        "removed local.json.18eac5bce0f81431.tmp, left half-written by an interrupted update",
        "removed local.json.attrs, left half-written by an interrupted update",
    ]);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(`${file}.attrs`)).toBe(false);
    expect(fs.readdirSync(stacks())).toEqual(["local.json"]);
});

test("a lock held by a live process, or taken on another host, is left alone and so is every file", () => {
    const live = lock(process.pid);
    const other = lock(deadPid(), "another-host");
    const said = recoverStack(backend, "runbook", "local");
    expect(said).toHaveLength(2);
    for (const line of said)
        expect(line).toMatch(/^stack 'local' is locked by pid \d+ on .* since 2026-11-23T20:12:13Z; left alone$/);
    expect(fs.existsSync(live) && fs.existsSync(other)).toBe(true);
    expect(fs.readdirSync(stacks()).sort()).toEqual([
        "local.json",
        "local.json.18eac5bce0f81431.tmp",
        "local.json.attrs",
    ]);
});

test("with no lock at all, a sidecar that is not empty is kept", () => {
    fs.writeFileSync(path.join(stacks(), "local.json.attrs"), '{"user.content_type": "application/json"}');
    fs.rmSync(path.join(stacks(), "local.json.18eac5bce0f81431.tmp"));
    expect(recoverStack(backend, "runbook", "local")).toEqual([]);
    expect(fs.readdirSync(stacks()).sort()).toEqual(["local.json", "local.json.attrs"]);
});
