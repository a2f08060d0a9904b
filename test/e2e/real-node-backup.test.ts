// The backups as the cluster runs them, on the local cluster's real node: the pre-deploy
// backup Job's pods run the real pg_dump against a real PostgreSQL and upload with the real
// AWS CLI to a real S3-compatible server (versitygw), both listening on the node's address
// so the pod network reaches them; the rollout waits for that Job; the restore drill
// CronJob, started on demand as runbook 001 does, restores the newest dump into a scratch
// database and compares the row counts. The local stack as it is (Pulumi.local.yaml), with
// the pre-deploy backup on, through the real engine, provider and policy pack.
import * as path from "node:path";
import type { Kubectl } from "../../commands/kube";
import { BACKUP_ROLE_LABEL } from "../../policies/lib/well-known";
import { expectOk, Workspace, toolchainReady } from "./engine";
import { kubectl, realNodeStack, removeStack } from "./cluster";
import { startPostgres, type RunningPostgres } from "./postgres";
import { startS3, REGION, type RunningS3 } from "./s3";

jest.setTimeout(600_000);

const STACK = "real-backup";
const NS = "e2e-real-backup";
/** The real node's address (scripts/cluster-node.sh): pods reach it, nothing off this machine does. */
const NODE_IP = "198.18.16.1";
const BUCKET = "acme-shop-local-backups";
const PASSWORD = "s3cret-backup";
let ws: Workspace;
let k: Kubectl;
let pg: RunningPostgres;
let s3: RunningS3;

/** The Secrets the stack names, as an operator would have created them. */
function secrets(password: string): object[] {
    const secret = (name: string, data: Record<string, string>) => ({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: NS },
        stringData: data,
    });
    return [
        secret("shop-db", {
            url: pg.url("backup", password, "shop"),
            "restore-drill-url": pg.url("drill", "drill-pw", "shop_drill"),
        }),
        secret("shop-s3", {
            AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY,
        }),
    ];
}

beforeAll(async () => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("real-node-backup");
    pg = await startPostgres(path.join(ws.dir, "postgres"), NODE_IP);
    s3 = await startS3(path.join(ws.dir, "s3"), NODE_IP);
    pg.sql("postgres", `CREATE ROLE backup LOGIN PASSWORD '${PASSWORD}'`);
    pg.sql("postgres", "CREATE DATABASE shop OWNER backup");
    pg.sql("postgres", "CREATE ROLE drill LOGIN PASSWORD 'drill-pw'");
    pg.sql("postgres", "CREATE DATABASE shop_drill OWNER drill");
    pg.sql("shop", "CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total numeric(10,2))");
    pg.sql("shop", "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL)");
    pg.sql("shop", "INSERT INTO orders (customer, total) SELECT 'c' || g, g FROM generate_series(1, 250) g");
    pg.sql("shop", "INSERT INTO customers (name) SELECT 'n' || g FROM generate_series(1, 40) g");
    pg.sql("shop", "ALTER TABLE orders OWNER TO backup; ALTER TABLE customers OWNER TO backup");
    expect(s3.aws(["s3api", "create-bucket", "--bucket", BUCKET]).code).toBe(0);
    // The namespace and its Secrets exist before the stack: the Jobs read them when they start.
    k.run(["create", "namespace", NS]);
    for (const s of secrets(PASSWORD)) k.apply(s);
    realNodeStack(ws, STACK, NS, (c) => {
        c["runbook:namespace"] = { name: NS, create: false };
        const backup = c["runbook:backup"];
        backup.preDeploy = true;
        // One try: a failing dump fails the Job (and the update) at once.
        backup.backoffLimit = 0;
        backup.bucket = { name: BUCKET, region: REGION, endpoint: s3.endpoint, credentialsSecret: "shop-s3" };
        // The backup is the point here: the canary service is left out.
        delete c["runbook:services"].web;
    });
});

afterAll(async () => {
    if (ws) removeStack(ws, STACK, NS);
    await s3?.stop();
    await pg?.stop();
});

const up = () => ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"]);
const setConfig = (key: string, value: string) =>
    expect(ws.pulumi(["config", "set", "--path", `runbook:${key}`, value, "--stack", STACK]).code).toBe(0);
const preDeployJobs = () => k.list("jobs", NS, `${BACKUP_ROLE_LABEL}=pre-deploy`);
/** A Job's pod's log: every container's, or one's (a container that never started has none). */
const logs = (job: string, container?: string) =>
    k.run(["logs", `job/${job}`, "-n", NS, ...(container ? ["-c", container] : ["--all-containers", "--prefix"])]);
const dumps = () =>
    s3
        .aws(["s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", "backups/", "--query", "Contents[].Key"])
        .out.trim();
const greenImage = () => k.get(["deployment", "api-green", "-n", NS]).spec.template.spec.containers[0].image as string;

test("the pre-deploy backup Job dumps the real database in a pod and uploads it to S3 before the rollout", () => {
    expectOk(up());
    const [job] = preDeployJobs();
    expect(job.status.succeeded).toBe(1);
    const log = logs(job.metadata.name);
    expect(log).toMatch(/\[pod\/[^\]]+\/dump\] dumped \d+ bytes to \/backup\/\d{8}T\d{6}Z\.sql\.gz/);
    const uploaded =
        /uploaded s3:\/\/acme-shop-local-backups\/(backups\/\d{8}T\d{6}Z\.sql\.gz) \(\d+ bytes, sha256 [0-9a-f]{64}\)/.exec(
            log,
        );
    expect(uploaded).not.toBeNull();
    // The object is in the bucket, as the pod said.
    expect(JSON.parse(dumps())).toEqual([uploaded![1]]);
    // The rollout ran after the Job had finished.
    const done = Date.parse(job.status.completionTime);
    const deployment = k.get(["deployment", "api-blue", "-n", NS]);
    expect(Date.parse(deployment.metadata.creationTimestamp)).toBeGreaterThanOrEqual(done - 1000);
});

test("a wrong database password fails the pre-deploy Job with PostgreSQL's own message, and the rollout does not start", () => {
    const before = greenImage();
    const dumpsBefore = dumps();
    for (const s of secrets("not-the-password")) k.apply(s);
    // A new release: a new pre-deploy backup, and green gets a new image.
    setConfig("release.version", "1.42.1");
    setConfig("services.api.blueGreen.green.image", "ghcr.io/acme/shop-api:1.42.1");
    const r = up();
    expect(r.code).not.toBe(0);
    const failed = preDeployJobs().find((j) => (j.status.failed ?? 0) > 0);
    expect(failed).toBeDefined();
    expect(logs(failed.metadata.name, "dump")).toMatch(/password authentication failed for user "backup"/);
    // Nothing of the release was rolled out, and nothing was uploaded.
    expect(greenImage()).toBe(before);
    expect(dumps()).toBe(dumpsBefore);

    for (const s of secrets(PASSWORD)) k.apply(s);
    expectOk(up());
    expect(greenImage()).toBe("ghcr.io/acme/shop-api:1.42.1");
});

test("the restore drill, started on demand, restores the newest dump into the scratch database and every count matches", () => {
    k.run(["create", "job", "drill-now", "--from=cronjob/shop-restore-drill", "-n", NS]);
    k.run(["wait", "--for=condition=Complete", "job/drill-now", "-n", NS, "--timeout=180s"]);
    const log = logs("drill-now");
    expect(log).toMatch(
        /fetched s3:\/\/acme-shop-local-backups\/backups\/\d{8}T\d{6}Z\.sql\.gz \(\d+ bytes, sha256 verified\)/,
    );
    expect(log).toMatch(
        /restore drill of backups\/\d{8}T\d{6}Z\.sql\.gz: 2 tables, 290 rows, every count matches the dump/,
    );
    // The scratch database holds the rows now, read back by this machine's psql.
    expect(
        pg.sql("shop_drill", "SELECT (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM customers)"),
    ).toBe("250 40");
});
