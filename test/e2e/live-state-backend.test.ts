// The stack's state in an S3-compatible bucket (versitygw on loopback), as a team shares it:
// `pulumi up` on the live cluster with PULUMI_BACKEND_URL=s3://…?endpoint=…; a second
// `pulumi up` of the same stack while the first runs fails on the first's lock, naming it;
// the first completes, and the API server holds exactly what the state in the bucket says.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { Kubectl } from "../../commands/kube";
import { expectOk, Workspace, toolchainReady } from "./engine";
import { eventually, kubectl, liveStack, objectsInCluster, objectsInState, removeStack } from "./cluster";
import { startS3, type RunningS3 } from "./s3";

jest.setTimeout(400_000);

const STACK = "shared";
const NS = "e2e-shared-state";
const BUCKET = "acme-pulumi-state";
let ws: Workspace;
let k: Kubectl;
let s3: RunningS3;
/** The backend and its credentials, as each team member's shell (or CI) would have them. */
let env: Record<string, string>;

beforeAll(async () => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("live-state-backend");
    s3 = await startS3(path.join(ws.dir, "s3"));
    expect(
        s3.aws([
            "s3api",
            "create-bucket",
            "--bucket",
            BUCKET,
            "--create-bucket-configuration",
            `LocationConstraint=${s3.env.AWS_REGION}`,
        ]).code,
    ).toBe(0);
    const host = new URL(s3.endpoint).host;
    env = {
        ...s3.env,
        PULUMI_BACKEND_URL: `s3://${BUCKET}?endpoint=${host}&disableSSL=true&s3ForcePathStyle=true&region=${s3.env.AWS_REGION}`,
    };
    liveStack(ws, STACK, NS, () => {}, env);
});

afterAll(async () => {
    if (ws && env) removeStack(ws, STACK, NS, env);
    await s3?.stop();
});

const keys = (prefix: string) =>
    JSON.parse(
        s3.aws([
            "s3api",
            "list-objects-v2",
            "--bucket",
            BUCKET,
            "--prefix",
            prefix,
            "--query",
            "Contents[].Key || `[]`",
            "--output",
            "json",
        ]).out,
    ) as string[];

test("pulumi up keeps the stack's state and history in the bucket, and nothing on disk", () => {
    expectOk(ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"], env));
    // The checkpoint, and the CLI's copy of the one before it.
    expect(keys(".pulumi/stacks/")).toEqual([
        ".pulumi/stacks/runbook/shared.json",
        ".pulumi/stacks/runbook/shared.json.bak",
    ]);
    expect(keys(".pulumi/history/").length).toBeGreaterThan(0);
    expect(keys(".pulumi/locks/")).toEqual([]);
    // The workspace's own file backend stayed empty.
    expect(ws.pulumi(["stack", "ls"]).stdout).not.toContain(STACK);
    expect(objectsInCluster(NS)).toEqual(objectsInState(ws, STACK, NS, env));
});

test("two pulumi up of the stack at once: the second fails on the lock, naming it; the first completes and nothing is lost", async () => {
    expectOk(ws.pulumi(["config", "set", "--stack", STACK, "--path", "runbook:release.version", "1.42.1"], env));
    const first = spawn(
        "pulumi",
        ["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies", "--non-interactive"],
        { cwd: ws.dir, env: ws.environment(env) },
    );
    let firstOut = "";
    first.stdout.on("data", (d: Buffer) => (firstOut += d));
    first.stderr.on("data", (d: Buffer) => (firstOut += d));
    const firstDone = new Promise<number | null>((resolve) => first.on("close", (code) => resolve(code)));
    // The first holds the stack's lock object in the bucket while it updates.
    const [lock] = await eventually(
        "the first update's lock in the bucket",
        () => keys(".pulumi/locks/")[0] && keys(".pulumi/locks/"),
        60_000,
    );

    const second = ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"], env);
    expect(second.code).not.toBe(0);
    expect(second.all).toContain(
        "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
    );
    expect(second.all).toContain(`s3://${BUCKET}`);
    expect(second.all).toContain(lock);
    expect(second.all).toMatch(new RegExp(`created by .*\\(pid ${first.pid}\\)`));

    const code = await firstDone;
    if (code !== 0) throw new Error(`the first update failed:\n${firstOut.slice(-4000)}`);
    expect(keys(".pulumi/locks/")).toEqual([]);
    // Every object the state in the bucket holds is in the API server, and no other.
    expect(objectsInCluster(NS)).toEqual(objectsInState(ws, STACK, NS, env));
    // The first update's work is there: the pre-deploy backup Job of release 1.42.1 replaced 1.42.0's.
    const releases = k
        .list("jobs", NS, "runbook.dev/backup=pre-deploy")
        .map(
            (j: { metadata: { annotations: Record<string, string> } }) =>
                j.metadata.annotations["runbook.dev/release-version"],
        );
    expect(releases).toEqual(["1.42.1"]);
    expectOk(ws.pulumi(["preview", "--stack", STACK, "--expect-no-changes", "--policy-pack", "policies"], env));
    const history = JSON.parse(ws.pulumi(["stack", "history", "--stack", STACK, "--json"], env).stdout) as {
        result: string;
    }[];
    expect(history.map((h) => h.result)).toEqual(["succeeded", "succeeded"]);
});
