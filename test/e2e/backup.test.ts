// The scripts the program's Jobs run, exactly as it renders them (a real `pulumi up` of a
// render-only stack): the backup CronJob's dump with the real pg_dump against a real
// PostgreSQL server (Debian's) on loopback — a dump that restores to the same rows, and the
// failures that must exit non-zero and leave nothing the upload step would take — and a
// blue/green smoke test with the real curl against a local HTTP server.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { freePort } from "./processes";
import { postgresBin, startPostgres, type RunningPostgres } from "./postgres";
import { expectOk, renderedLocalStack, Workspace, toolchainReady } from "./engine";

jest.setTimeout(180_000);

const RENDER = "rendered/backup";
let ws: Workspace;
let pg: RunningPostgres;
let dumpScript: string;
let smokeScript: string;

beforeAll(async () => {
    if (!toolchainReady()) throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    ws = new Workspace("backup");
    ws.writeStackFile("local", renderedLocalStack(RENDER));
    ws.initStack("local");
    expectOk(ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview"]));
    const [cronJob] = ws.objects(RENDER, "CronJob");
    dumpScript = cronJob.spec.jobTemplate.spec.template.spec.initContainers.find((c: { name: string }) => c.name === "dump").command[2];
    const smoke = ws.objects(RENDER, "Job").find((j) => j.metadata.labels["app.kubernetes.io/component"] === "smoke-test");
    smokeScript = smoke.spec.template.spec.containers[0].args[0];
    pg = await startPostgres(path.join(ws.dir, "postgres"));
    pg.sql("postgres", "CREATE ROLE backup LOGIN PASSWORD 'hunter2'");
    pg.sql("postgres", "CREATE DATABASE shop OWNER backup");
    pg.sql("shop", "CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total numeric(10,2) NOT NULL, note text)");
    pg.sql("shop", "INSERT INTO orders (customer, total, note) SELECT 'customer-' || i, i * 1.25, md5(i::text) || repeat('x', 200) FROM generate_series(1, 5000) AS i");
    pg.sql("shop", "ALTER TABLE orders OWNER TO backup");
});

afterAll(async () => {
    await pg?.stop();
    expect(spawnSync("pgrep", ["-f", `postgres -D ${path.join(ws.dir, "postgres")}`]).status).toBe(1);
});

/** Runs the rendered dump script as the dump container would, with its /backup at `dir`. */
function dump(databaseUrl: string, dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    // The image's shell supports pipefail (busybox ash); bash does here.
    // stdin is /dev/null: bash reads ~/.bashrc when its stdin is a socket (as Node's pipes are).
    const r = spawnSync("bash", ["-c", dumpScript], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: `${postgresBin()}:/usr/bin:/bin`, DATABASE_URL: databaseUrl, BACKUP_DIR: dir }, encoding: "utf8", timeout: 60_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, files: fs.readdirSync(dir).sort() };
}

const checksum = (db: string) => pg.sql(db, "SELECT count(*) || ':' || md5(string_agg(id || customer || total || note, ',' ORDER BY id)) FROM orders");

test("the dump lands under a timestamped name and restores to the same rows", () => {
    const dir = path.join(ws.dir, "ok");
    const r = dump(pg.url("backup", "hunter2", "shop"), dir);
    expect(r.code).toBe(0);
    const name = fs.readFileSync(path.join(dir, "NAME"), "utf8").trim();
    expect(name).toMatch(/^\d{8}T\d{6}Z\.sql\.gz$/);
    expect(r.files).toEqual([name, "NAME"]);
    expect(r.out).toMatch(new RegExp(`dumped \\d+ bytes to ${dir}/${name.replace(/\./g, "\\.")}`));

    pg.sql("postgres", "CREATE DATABASE shop_restored OWNER backup");
    const restore = spawnSync("bash", ["-c", `set -o pipefail; gunzip -c '${path.join(dir, name)}' | psql -v ON_ERROR_STOP=1 -q '${pg.url("backup", "hunter2", "shop_restored")}'`], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: `${postgresBin()}:/usr/bin:/bin` },
        encoding: "utf8",
    });
    expect(restore.stderr).toBe("");
    expect(restore.status).toBe(0);
    expect(checksum("shop_restored")).toBe(checksum("shop"));
    expect(checksum("shop")).toMatch(/^5000:/);
});

test("a wrong password fails with PostgreSQL's message and leaves no NAME for the upload", () => {
    const r = dump(pg.url("backup", "wrong", "shop"), path.join(ws.dir, "wrong-password"));
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('password authentication failed for user "backup"');
    expect(r.files).not.toContain("NAME");
});

test("an unreachable database fails and leaves no NAME", () => {
    const r = dump(pg.url("backup", "hunter2", "shop").replace(`:${pg.port}/`, ":1/"), path.join(ws.dir, "unreachable"));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/connection to server at "127\.0\.0\.1", port 1 failed: Connection refused/);
    expect(r.files).not.toContain("NAME");
});

test("a full disk fails with the write error and leaves no NAME", () => {
    if (process.getuid?.() !== 0) throw new Error("this case mounts a tiny tmpfs and needs root (CI runs as root)");
    const dir = path.join(ws.dir, "full");
    fs.mkdirSync(dir);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]).status).toBe(0);
    try {
        const r = dump(pg.url("backup", "hunter2", "shop"), dir);
        expect(r.code).not.toBe(0);
        expect(r.out).toMatch(/No space left on device/);
        expect(r.files).not.toContain("NAME");
    } finally {
        spawnSync("umount", [dir]);
    }
});

describe("the smoke test", () => {
    // The script asks the colour's in-cluster Service; curl reaches it through http_proxy,
    // which points at a server here, so the script runs as rendered.
    async function proxy(answer: (res: http.ServerResponse, url: string) => void): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
        const seen: string[] = [];
        const server = http.createServer((req, res) => {
            seen.push(req.url ?? "");
            answer(res, req.url ?? "");
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        return {
            port: (server.address() as AddressInfo).port,
            seen,
            close: () => {
                server.closeAllConnections();
                return new Promise((r) => server.close(() => r()));
            },
        };
    }
    const run = (proxyPort: number) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
            const child = spawn("sh", ["-c", smokeScript], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin", http_proxy: `http://127.0.0.1:${proxyPort}` } });
            let out = "";
            child.stdout.on("data", (d: Buffer) => (out += d));
            child.stderr.on("data", (d: Buffer) => (out += d));
            child.on("close", (code: number | null) => resolve({ code, out }));
        });

    test("every health endpoint answering 2xx passes", async () => {
        const p = await proxy((res) => res.writeHead(204).end());
        const r = await run(p.port);
        await p.close();
        expect(r.code).toBe(0);
        expect(p.seen).toEqual([expect.stringMatching(/^http:\/\/api-(blue|green)\.shop-local\.svc\.cluster\.local(:\d+)?\/api\/health$/), expect.stringMatching(/\/api\/health\/db$/)]);
        expect(r.out).toMatch(/^ok {3}\/api\/health 204\nok {3}\/api\/health\/db 204\n$/);
    });

    test("a 500 fails, naming the endpoint", async () => {
        const p = await proxy((res) => res.writeHead(500).end("boom"));
        const r = await run(p.port);
        await p.close();
        expect(r.code).toBe(1);
        // curl retries a 500; Debian's curl 7.88 then fails to truncate -o /dev/null and
        // reports no status (000); the image's curl 8 reports 500. Failing is what counts.
        expect(r.out).toMatch(/FAIL \/api\/health (500|000)\n/);
    });

    test("a refused connection fails", async () => {
        const r = await run(await freePort());
        expect(r.code).toBe(1);
        expect(r.out).toContain("FAIL /api/health 000");
    });

    test("an endpoint that never answers fails once curl's time is up (6 tries of 10 s)", async () => {
        const p = await proxy((res, url) => (url.endsWith("/db") ? res.writeHead(200).end() : undefined));
        const r = await run(p.port);
        await p.close();
        expect(r.code).toBe(1);
        expect(r.out).toContain("FAIL /api/health 000");
        expect(r.out).toContain("ok   /api/health/db 200");
        expect(r.out).toMatch(/Operation timed out/);
    });
});
