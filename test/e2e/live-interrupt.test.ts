// A `pulumi up` killed in the middle (SIGTERM, then SIGKILL, as a cancelled CI job is) and
// run again: it converges, the state keeps no pending operation, and the API server holds
// exactly the objects the state describes.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "../util/stack";
import { Kubectl } from "../../commands/kube";
import { expectOk, Workspace, toolchainReady } from "./engine";
import { eventually, kubectl, liveStack, objectsInCluster, objectsInState, removeStack } from "./cluster";

jest.setTimeout(300_000);

const STACK = "interrupt";
const NS = "e2e-interrupt";
let ws: Workspace;
let k: Kubectl;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("live-interrupt");
    liveStack(ws, STACK, NS);
});

afterAll(() => removeStack(ws, STACK, NS));

test("killed while the pre-deploy backup runs, then run again: converges with no pending operation and nothing lost or doubled", async () => {
    const child = spawn(
        "pulumi",
        ["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies", "--non-interactive"],
        {
            cwd: ws.dir,
            env: ws.environment(),
            detached: true,
            stdio: "ignore",
        },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
        // Mid-update: the namespace and the backup's objects exist, the services do not yet.
        await eventually(
            "the pre-deploy Job to exist",
            () => k.list("jobs", NS, "runbook.dev/backup=pre-deploy")[0],
            120_000,
        );
        // Killed outright (a runner's timeout, the OOM killer): since v3.2xx the CLI answers
        // SIGTERM by cancelling the update and releasing its lock itself, so only SIGKILL
        // leaves the stale lock this test is about.
        process.kill(-(child.pid as number), "SIGKILL");
    } finally {
        try {
            process.kill(-(child.pid as number), "SIGKILL");
        } catch {
            // the group has already exited
        }
    }
    await exited;
    // The plugins the killed CLI started run in process groups of their own, so killing its
    // group leaves them running; a cancelled CI job's runner kills them with the job.
    // Killed here the same way, found by the workspace's PULUMI_HOME, and checked gone.
    ws.reap();
    await eventually(
        "the killed run's plugins to exit",
        () => (ws.leftovers().length === 0 ? true : undefined),
        10_000,
    );

    // What scripts/up.sh does before every update: the killed run's lock is provably stale,
    // and a checkpoint write cut short may have left an empty attributes file.
    const unlock = ws.exec(path.join(ROOT, "node_modules", ".bin", "tsx"), [
        path.join(ROOT, "scripts", "recover-state.ts"),
        "--stack",
        STACK,
        "--dir",
        ws.dir,
    ]);
    expectOk(unlock);
    expect(unlock.stderr).toMatch(/removed the lock of stack 'interrupt' left by pid \d+ .*that process is gone/);

    // Then, as scripts/up.sh: a refresh that drops the creates the killed run left pending,
    // and the update.
    expectOk(ws.pulumi(["refresh", "--stack", STACK, "--yes", "--skip-preview", "--clear-pending-creates"]));
    expectOk(ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies"]));
    const state = JSON.parse(ws.pulumi(["stack", "export", "--stack", STACK]).stdout);
    expect(state.deployment.pending_operations ?? []).toEqual([]);
    const objects = objectsInCluster(NS);
    expect(objects).toEqual(objectsInState(ws, STACK, NS));
    expect(objects.filter((o) => o.startsWith("Deployment/"))).toEqual([
        "Deployment/api-blue",
        "Deployment/api-green",
        "Deployment/web-canary",
        "Deployment/web-stable",
    ]);
    expect(objects.filter((o) => o.startsWith("Job/shop-backup-predeploy-"))).toHaveLength(1);
    expect(k.get(["service", "api", "-n", NS]).spec.selector["runbook.dev/color"]).toBe("blue");

    expectOk(ws.pulumi(["preview", "--stack", STACK, "--refresh", "--expect-no-changes"]));
    // Runs that end normally stop their plugins themselves.
    await eventually(
        "every process of the workspace to exit",
        () => (ws.leftovers().length === 0 ? true : undefined),
        10_000,
    );
});
