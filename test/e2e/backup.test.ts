// The scripts the program's Jobs run, exactly as it renders them (a real `pulumi up` of a
// render-only stack): the backup CronJob's dump with the real pg_dump against a real
// PostgreSQL server (Debian's) on loopback — a dump that restores to the same rows, and the
// failures that must exit non-zero and leave nothing the upload step would take; its upload,
// and the restore CronJob's and restore drill's fetch and restore, with Debian's AWS CLI
// against a real S3-compatible server (versitygw) — and a blue/green smoke test with the
// real curl against a local HTTP server.
import { spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { freePort } from "./processes";
import { postgresBin, startPostgres, type RunningPostgres } from "./postgres";
import { startS3, type RunningS3 } from "./s3";
import { expectOk, renderedLocalStack, Workspace, toolchainReady } from "./engine";

jest.setTimeout(180_000);

const RENDER = "rendered/backup";
let ws: Workspace;
let pg: RunningPostgres;
let dumpScript: string;
let smokeScript: string;
type Container = { name: string; command: string[]; env: { name: string; value?: string; valueFrom?: unknown }[] };
let upload: Container;
let fetch: Container;
let restore: Container;
let drillRestore: Container;

beforeAll(async () => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    ws = new Workspace("backup");
    ws.writeStackFile("local", renderedLocalStack(RENDER));
    ws.initStack("local");
    expectOk(ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview"]));
    const [cronJob] = ws.objects(RENDER, "CronJob");
    dumpScript = cronJob.spec.jobTemplate.spec.template.spec.initContainers.find(
        (c: { name: string }) => c.name === "dump",
    ).command[2];
    const smoke = ws
        .objects(RENDER, "Job")
        .find((j) => j.metadata.labels["app.kubernetes.io/component"] === "smoke-test");
    smokeScript = smoke.spec.template.spec.containers[0].args[0];
    upload = cronJob.spec.jobTemplate.spec.template.spec.containers.find((c: Container) => c.name === "upload");
    const cronJobs = ws.objects(RENDER, "CronJob");
    const restorePod = cronJobs.find((c) => c.metadata.name === "shop-restore").spec.jobTemplate.spec.template.spec;
    const drillPod = cronJobs.find((c) => c.metadata.name === "shop-restore-drill").spec.jobTemplate.spec.template.spec;
    [fetch, restore, drillRestore] = [restorePod.initContainers[0], restorePod.containers[0], drillPod.containers[0]];
    expect(drillPod.initContainers[0].command).toEqual(fetch.command);
    pg = await startPostgres(path.join(ws.dir, "postgres"));
    pg.sql("postgres", "CREATE ROLE backup LOGIN PASSWORD 'hunter2'");
    pg.sql("postgres", "CREATE DATABASE shop OWNER backup");
    pg.sql(
        "shop",
        "CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total numeric(10,2) NOT NULL, note text)",
    );
    pg.sql(
        "shop",
        "INSERT INTO orders (customer, total, note) SELECT 'customer-' || i, i * 1.25, md5(i::text) || repeat('x', 200) FROM generate_series(1, 5000) AS i",
    );
    pg.sql("shop", "ALTER TABLE orders OWNER TO backup");
});

afterAll(async () => {
    await pg?.stop();
    expect(spawnSync("pgrep", ["-f", `postgres -D ${path.join(ws.dir, "postgres")}`]).status).toBe(1);
});

/** Runs the rendered dump script as the dump container would, with its /backup at `dir`. */
function dump(databaseUrl: string, dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    // In Debian's dash, the strictest /bin/sh an image may have (no pipefail before 0.5.13).
    const r = spawnSync("sh", ["-c", dumpScript], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: `${postgresBin()}:/usr/bin:/bin`, DATABASE_URL: databaseUrl, BACKUP_DIR: dir },
        encoding: "utf8",
        timeout: 60_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, files: fs.readdirSync(dir).sort() };
}

const checksum = (db: string) =>
    pg.sql(
        db,
        "SELECT count(*) || ':' || md5(string_agg(id || customer || total || note, ',' ORDER BY id)) FROM orders",
    );

test("the dump lands under a timestamped name and restores to the same rows", () => {
    const dir = path.join(ws.dir, "ok");
    const r = dump(pg.url("backup", "hunter2", "shop"), dir);
    expect(r.code).toBe(0);
    const name = fs.readFileSync(path.join(dir, "NAME"), "utf8").trim();
    expect(name).toMatch(/^\d{8}T\d{6}Z\.sql\.gz$/);
    expect(r.files).toEqual([name, "NAME"]);
    expect(r.out).toMatch(new RegExp(`dumped \\d+ bytes to ${dir}/${name.replace(/\./g, "\\.")}`));

    pg.sql("postgres", "CREATE DATABASE shop_restored OWNER backup");
    const restore = spawnSync(
        "bash",
        [
            "-c",
            `set -o pipefail; gunzip -c '${path.join(dir, name)}' | psql -v ON_ERROR_STOP=1 -q '${pg.url("backup", "hunter2", "shop_restored")}'`,
        ],
        {
            stdio: ["ignore", "pipe", "pipe"],
            env: { PATH: `${postgresBin()}:/usr/bin:/bin` },
            encoding: "utf8",
        },
    );
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
    const r = dump(
        pg.url("backup", "hunter2", "shop").replace(`:${pg.port}/`, ":1/"),
        path.join(ws.dir, "unreachable"),
    );
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

describe("upload to S3, restore and restore drill (versitygw, Debian's AWS CLI)", () => {
    let s3: RunningS3;
    let bucket: string;
    let prefix: string;
    const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

    beforeAll(async () => {
        const value = (name: string) => upload.env.find((e) => e.name === name)?.value as string;
        [bucket, prefix] = [value("BUCKET"), value("PREFIX")];
        s3 = await startS3(path.join(ws.dir, "s3"));
        const made = s3.aws([
            "s3api",
            "create-bucket",
            "--bucket",
            bucket,
            "--create-bucket-configuration",
            `LocationConstraint=${s3.env.AWS_REGION}`,
        ]);
        expect(made.err).toBe("");
        pg.sql("postgres", "CREATE DATABASE shop_drill OWNER backup");
        pg.sql("postgres", "CREATE DATABASE shop_target OWNER backup");
    });

    afterAll(async () => {
        await s3?.stop();
        expect(spawnSync("pgrep", ["-f", `versitygw .*${path.join(ws.dir, "s3")}`]).status).toBe(1);
    });

    /**
     * Runs a rendered container's script as its pod would: the env values of the manifest,
     * `extra` for what the cluster would provide (secrets, the emptyDir), and the test
     * server's endpoint and credentials (the pod's come from IRSA and backup.bucket.endpoint).
     */
    function run(c: Container, dir: string, extra: Record<string, string> = {}) {
        fs.mkdirSync(dir, { recursive: true });
        const values = Object.fromEntries(
            c.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]),
        );
        const r = spawnSync("sh", ["-c", c.command[2]], {
            stdio: ["ignore", "pipe", "pipe"],
            env: {
                PATH: `${postgresBin()}:/usr/bin:/bin`,
                HOME: dir,
                ...s3.env,
                S3_ENDPOINT_URL: s3.endpoint,
                ...values,
                BACKUP_DIR: dir,
                ...extra,
            },
            encoding: "utf8",
            timeout: 150_000,
        });
        return { code: r.status, out: `${r.stdout}${r.stderr}`, files: fs.readdirSync(dir).sort() };
    }
    const target = (db: string) => ({ TARGET_DATABASE_URL: pg.url("backup", "hunter2", db) });
    const keys = (p: string) =>
        s3
            .aws([
                "s3api",
                "list-objects-v2",
                "--bucket",
                bucket,
                "--prefix",
                `${p}/`,
                "--query",
                "Contents[].Key",
                "--output",
                "text",
            ])
            .out.trim();
    /** A dump made by the rendered dump script, then `edit`ed (SQL appended), as the upload step finds it. */
    function dumpTo(dir: string, appendSql?: string): string {
        expect(dump(pg.url("backup", "hunter2", "shop"), dir).code).toBe(0);
        const name = fs.readFileSync(path.join(dir, "NAME"), "utf8").trim();
        if (appendSql !== undefined) {
            const file = path.join(dir, name);
            fs.writeFileSync(
                file,
                zlib.gzipSync(Buffer.concat([zlib.gunzipSync(fs.readFileSync(file)), Buffer.from(`${appendSql}\n`)])),
            );
        }
        return name;
    }

    test("a dump is uploaded under <prefix>/<timestamp>.sql.gz with its sha256; the drill restores the newest into the scratch database, every count matching", () => {
        const dir = path.join(ws.dir, "s3-ok");
        const name = dumpTo(dir);
        const up = run(upload, dir);
        expect(up.out).toMatch(
            new RegExp(
                `^uploaded s3://${bucket}/${prefix}/${name.replace(/\./g, "\\.")} \\(\\d+ bytes, sha256 ${sha256(path.join(dir, name))}\\)\n$`,
            ),
        );
        expect(up.code).toBe(0);
        const head = JSON.parse(s3.aws(["s3api", "head-object", "--bucket", bucket, "--key", `${prefix}/${name}`]).out);
        expect(head.Metadata).toEqual({ sha256: sha256(path.join(dir, name)) });

        // Whatever the scratch database held is replaced.
        pg.sql("shop_drill", "CREATE TABLE leftover (x int); ALTER TABLE leftover OWNER TO backup");
        const rdir = path.join(ws.dir, "s3-drill");
        const fetched = run(fetch, rdir);
        expect(fetched.out).toContain(`fetched s3://${bucket}/${prefix}/${name}`);
        expect(fetched.code).toBe(0);
        const drilled = run(drillRestore, rdir, target("shop_drill"));
        expect(drilled.out).toContain(
            `restored ${prefix}/${name}\nrestore drill of ${prefix}/${name}: 1 tables, 5000 rows, every count matches the dump\n`,
        );
        // What the restore replaced is in its log.
        expect(drilled.out).toContain("NOTICE:  drop cascades to table leftover");
        expect(drilled.code).toBe(0);
        expect(checksum("shop_drill")).toBe(checksum("shop"));
        expect(pg.sql("shop_drill", "SELECT count(*) FROM pg_tables WHERE tablename = 'leftover'")).toBe("0");
    });

    test("the newest dump is fetched unless a key is named", () => {
        const older = `${prefix}/20200101T000000Z.sql.gz`;
        const dir = path.join(ws.dir, "s3-older");
        const name = dumpTo(dir);
        fs.renameSync(path.join(dir, name), path.join(dir, "20200101T000000Z.sql.gz"));
        fs.writeFileSync(path.join(dir, "NAME"), "20200101T000000Z.sql.gz\n");
        expect(run(upload, dir).code).toBe(0);
        const newest = keys(prefix).split(/\s+/).sort().pop();
        expect(newest).not.toBe(older);
        expect(fs.readFileSync(path.join(ws.dir, "s3-drill", "KEY"), "utf8").trim()).toBe(newest);
        const named = run(fetch, path.join(ws.dir, "s3-named"), { DUMP_KEY: older });
        expect(named.code).toBe(0);
        expect(fs.readFileSync(path.join(ws.dir, "s3-named", "KEY"), "utf8").trim()).toBe(older);
    });

    test("a restore is one transaction: a dump failing at its end leaves the target as it was", () => {
        pg.sql(
            "shop_target",
            "CREATE TABLE keep (note text); INSERT INTO keep VALUES ('before the restore'); ALTER TABLE keep OWNER TO backup",
        );
        const dir = path.join(ws.dir, "s3-fails-late");
        const name = dumpTo(dir, "SELECT 1/0;");
        expect(run(upload, dir).code).toBe(0);
        const rdir = path.join(ws.dir, "s3-fails-late-restore");
        expect(run(fetch, rdir, { DUMP_KEY: `${prefix}/${name}` }).code).toBe(0);
        const r = run(restore, rdir, target("shop_target"));
        expect(r.out).toContain("division by zero");
        expect(r.code).not.toBe(0);
        expect(pg.sql("shop_target", "SELECT note FROM keep")).toBe("before the restore");
        expect(pg.sql("shop_target", "SELECT count(*) FROM pg_tables WHERE tablename = 'orders'")).toBe("0");
    });

    test("the drill fails when the restored rows differ from the dump's", () => {
        const dir = path.join(ws.dir, "s3-short");
        const name = dumpTo(dir, "DELETE FROM public.orders WHERE id <= 10;");
        expect(run(upload, dir).code).toBe(0);
        const rdir = path.join(ws.dir, "s3-short-drill");
        expect(run(fetch, rdir, { DUMP_KEY: `${prefix}/${name}` }).code).toBe(0);
        const r = run(drillRestore, rdir, target("shop_drill"));
        expect(r.out).toContain("row count of public.orders: 4990 restored, 5000 in the dump");
        expect(r.out).toContain(`restore drill of ${prefix}/${name} FAILED`);
        expect(r.code).not.toBe(0);
    });

    describe("an upload that fails exits non-zero and leaves no object", () => {
        test("a missing bucket", () => {
            const dir = path.join(ws.dir, "s3-no-bucket");
            dumpTo(dir);
            const r = run(upload, dir, { BUCKET: "no-such-bucket" });
            expect(r.out).toContain("NoSuchBucket");
            expect(r.code).not.toBe(0);
            expect(s3.aws(["s3api", "list-buckets", "--query", "Buckets[].Name", "--output", "text"]).out.trim()).toBe(
                bucket,
            );
        });

        test("wrong credentials", () => {
            const dir = path.join(ws.dir, "s3-denied");
            dumpTo(dir);
            const r = run(upload, dir, { PREFIX: "denied", AWS_SECRET_ACCESS_KEY: "not-the-secret" });
            expect(r.out).toMatch(/SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/);
            expect(r.code).not.toBe(0);
            expect(keys("denied")).toBe("None");
        });

        test("an unreachable endpoint", async () => {
            const dir = path.join(ws.dir, "s3-unreachable");
            dumpTo(dir);
            const r = run(upload, dir, {
                PREFIX: "unreachable",
                S3_ENDPOINT_URL: `http://127.0.0.1:${await freePort()}`,
            });
            expect(r.out).toContain("Could not connect to the endpoint URL");
            expect(r.code).not.toBe(0);
            expect(keys("unreachable")).toBe("None");
        });

        test("a connection cut in the middle of the body (every try)", async () => {
            const dir = path.join(ws.dir, "s3-cut");
            const name = dumpTo(dir);
            expect(fs.statSync(path.join(dir, name)).size).toBeGreaterThan(64 * 1024);
            // Passes the first 16 KiB a client sends on to the server, then drops both ends.
            const server = net.createServer((client) => {
                const upstream = net.connect(Number(new URL(s3.endpoint).port), "127.0.0.1");
                let sent = 0;
                client.on("data", (d: Buffer) => {
                    if (sent + d.length > 16 * 1024) {
                        upstream.write(d.subarray(0, 16 * 1024 - sent));
                        client.destroy();
                        upstream.destroy();
                    } else upstream.write(d);
                    sent += d.length;
                });
                upstream.on("data", (d: Buffer) => client.write(d));
                upstream.on("error", () => client.destroy());
                client.on("error", () => upstream.destroy());
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
                const child = spawn("sh", ["-c", upload.command[2]], {
                    stdio: ["ignore", "pipe", "pipe"],
                    env: {
                        PATH: "/usr/bin:/bin",
                        HOME: dir,
                        ...s3.env,
                        BUCKET: bucket,
                        PREFIX: "cut",
                        S3_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
                        BACKUP_DIR: dir,
                    },
                });
                let out = "";
                child.stdout.on("data", (d: Buffer) => (out += d));
                child.stderr.on("data", (d: Buffer) => (out += d));
                child.on("close", (code: number | null) => resolve({ code, out }));
            });
            await new Promise((res) => server.close(res));
            expect(r.out).toMatch(/upload failed: .*\/[0-9T]+Z\.sql\.gz to s3:\/\/.*/);
            expect(r.code).not.toBe(0);
            expect(keys("cut")).toBe("None");
        });
    });

    describe("a restore refuses what is not a complete dump, and restores nothing", () => {
        test("no dump under the prefix", () => {
            const r = run(fetch, path.join(ws.dir, "s3-empty"), { PREFIX: "empty" });
            expect(r.out).toBe(`no dump under s3://${bucket}/empty/: nothing restored\n`);
            expect(r.code).not.toBe(0);
            expect(r.files).toEqual([]);
        });

        test("a partial object put by another client (no sha256 of a whole dump) is refused", () => {
            const dir = path.join(ws.dir, "s3-partial");
            const name = dumpTo(dir);
            const half = path.join(dir, "half");
            fs.writeFileSync(half, fs.readFileSync(path.join(dir, name)).subarray(0, 4096));
            expect(
                s3.aws(["s3", "cp", "--only-show-errors", half, `s3://${bucket}/partial/29991231T235959Z.sql.gz`]).code,
            ).toBe(0);
            const r = run(fetch, path.join(ws.dir, "s3-partial-fetch"), { PREFIX: "partial" });
            expect(r.out).toMatch(
                /^s3:\/\/\S+\/partial\/29991231T235959Z\.sql\.gz is not a complete dump \(sha256 [0-9a-f]{64}, recorded at upload: None\): nothing restored\n$/,
            );
            expect(r.code).not.toBe(0);
            expect(r.files).toEqual([]);
        });

        test("a full disk while fetching", () => {
            if (process.getuid?.() !== 0)
                throw new Error("this case mounts a tiny tmpfs and needs root (CI runs as root)");
            const dir = path.join(ws.dir, "s3-full");
            fs.mkdirSync(dir);
            expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]).status).toBe(0);
            try {
                const r = run(fetch, dir);
                expect(r.out).toMatch(/No space left on device|Errno 28/);
                expect(r.code).not.toBe(0);
                expect(r.files).not.toContain("KEY");
            } finally {
                spawnSync("umount", [dir]);
            }
        });
    });
});

describe("the smoke test", () => {
    // The script asks the colour's in-cluster Service; curl reaches it through http_proxy,
    // which points at a server here, so the script runs as rendered.
    async function proxy(
        answer: (res: http.ServerResponse, url: string) => void,
    ): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
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
            const child = spawn("sh", ["-c", smokeScript], {
                stdio: ["ignore", "pipe", "pipe"],
                env: { PATH: "/usr/bin:/bin", http_proxy: `http://127.0.0.1:${proxyPort}` },
            });
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
        expect(p.seen).toEqual([
            expect.stringMatching(/^http:\/\/api-(blue|green)\.shop-local\.svc\.cluster\.local(:\d+)?\/api\/health$/),
            expect.stringMatching(/\/api\/health\/db$/),
        ]);
        expect(r.out).toMatch(/^ok {3}\/api\/health 204\nok {3}\/api\/health\/db 204\n$/);
    });

    test("a 500 fails, naming the endpoint", async () => {
        const p = await proxy((res) => res.writeHead(500).end("boom"));
        const r = await run(p.port);
        await p.close();
        expect(r.code).toBe(1);
        // curl retries a 500 and then reports it (with -o /dev/null, Debian's curl 7.88 lost it
        // to "Failed to truncate file" and said 000, as if nothing had answered).
        expect(r.out).toContain("FAIL /api/health 500\n");
        expect(r.out).not.toContain("truncate");
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
