// A real PostgreSQL server (Debian's postgresql package) on loopback, in a scratch directory,
// for the backup and restore tests: initdb, then postgres on a free port with password
// authentication. Started and stopped by the tests; nothing of it outlives them.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, stopProcess } from "./processes";

/** The server binaries of the newest PostgreSQL Debian installed. */
export function postgresBin(): string {
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root)
        ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
        : [];
    if (versions.length === 0)
        throw new Error("PostgreSQL is not installed: run `bash scripts/setup.sh` (it installs Debian's postgresql)");
    return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], "bin");
}

export interface RunningPostgres {
    port: number;
    /** postgres://USER:PASSWORD@HOST:PORT/DB */
    url(user: string, password: string, db: string): string;
    /** Runs SQL as the superuser in `db`; returns psql's unaligned output. */
    sql(db: string, query: string): string;
    stop(): Promise<void>;
}

const SUPERUSER = "runbook";
const SUPERPASS = "runbook-test";

/**
 * initdb refuses to run as root: as root, the cluster belongs to Debian's `postgres` user.
 */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
    return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

/**
 * `host`: the one address it listens on and password logins are allowed from (with its /24):
 * loopback, or the local cluster's node address for pods to reach it.
 */
export async function startPostgres(dir: string, host = "127.0.0.1"): Promise<RunningPostgres> {
    const bin = postgresBin();
    const data = path.join(dir, "data");
    fs.mkdirSync(dir, { recursive: true });
    const pwfile = path.join(dir, "pw");
    fs.writeFileSync(pwfile, SUPERPASS);
    if (process.getuid?.() === 0) spawnSync("chown", ["-R", "postgres:postgres", dir]);
    const [c, a] = asServerUser(path.join(bin, "initdb"), [
        "-D",
        data,
        "-U",
        SUPERUSER,
        "--pwfile",
        pwfile,
        "-A",
        "scram-sha-256",
        "--no-sync",
        "-E",
        "UTF8",
    ]);
    const init = spawnSync(c, a, { encoding: "utf8" });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    if (host !== "127.0.0.1")
        fs.appendFileSync(
            path.join(data, "pg_hba.conf"),
            `host all all ${host.replace(/\.\d+$/, ".0")}/24 scram-sha-256\n`,
        );
    const port = await freePort(host);
    const log = fs.openSync(path.join(dir, "postgres.log"), "w");
    const [sc, sa] = asServerUser(path.join(bin, "postgres"), [
        "-D",
        data,
        "-h",
        host,
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "fsync=off",
    ]);
    const child: ChildProcess = spawn(sc, sa, { stdio: ["ignore", log, log] });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const env = { ...process.env, PGPASSWORD: SUPERPASS };
    // runuser does not pass signals on: pg_ctl stops the server by its data directory.
    const stop = async () => {
        const [pc, pa] = asServerUser(path.join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w", "-t", "15"]);
        await stopProcess(child, exited, () => spawnSync(pc, pa, { stdio: "ignore" }), 20_000);
        if (spawnSync("pgrep", ["-f", `postgres -D ${data}`]).status === 0)
            spawnSync("pkill", ["-KILL", "-f", `postgres -D ${data}`]);
    };
    const until = Date.now() + 30_000;
    while (spawnSync(path.join(bin, "pg_isready"), ["-h", host, "-p", String(port)]).status !== 0) {
        if (child.exitCode !== null || Date.now() > until) {
            await stop();
            throw new Error(
                `postgres did not start:\n${fs.readFileSync(path.join(dir, "postgres.log"), "utf8").slice(-2000)}`,
            );
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    const sql = (db: string, query: string) => {
        const r = spawnSync(
            path.join(bin, "psql"),
            ["-h", host, "-p", String(port), "-U", SUPERUSER, "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", query],
            { env, encoding: "utf8" },
        );
        if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
        return r.stdout.trim();
    };
    return {
        port,
        url: (user, password, db) => `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${db}`,
        sql,
        stop,
    };
}
