// `npm run rollback` on the live local cluster: a blue/green service goes back to the colour
// that was live before, inside a freeze, without a smoke Job, and the stack file agrees with
// the cluster afterwards. Assertions read the API server.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { Kubectl } from "../../commands/kube";
import { ROOT } from "../util/stack";
import { eventually, kubectl, liveStack, removeStack } from "./cluster";
import { expectOk, toolchainReady, Workspace } from "./engine";

jest.setTimeout(300_000);

// The stack name scripts/up.sh gives: the rollback runs as a newcomer would run it.
const STACK = "local";
const NS = "e2e-rollback";
let ws: Workspace;
let k: Kubectl;
let freeze: string;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("live-rollback");
    liveStack(ws, STACK, NS, (c) => {
        // Only the blue/green service: the rollback is about it.
        delete c["runbook:services"].web;
    });
    // A freeze around now: every deploy is blocked, a rollback is not.
    const now = Date.now();
    freeze = path.join(ws.dir, "freeze.json");
    fs.writeFileSync(
        freeze,
        JSON.stringify({
            "enforce-deploy-gate": {
                environments: {
                    staging: {
                        deny: [
                            {
                                name: "incident-freeze",
                                start: new Date(now - 3600_000).toISOString().slice(0, 19),
                                end: new Date(now + 3 * 3600_000).toISOString().slice(0, 19),
                                reason: "incident in progress",
                            },
                        ],
                    },
                },
            },
        }),
    );
});

afterAll(() => removeStack(ws, STACK, NS));

const up = (...extra: string[]) => ws.pulumi(["up", "--stack", STACK, "--yes", "--policy-pack", "policies", ...extra]);
/**
 * `npm run --silent rollback` from a fresh shell: none of the PULUMI_* or RUNBOOK_* settings
 * the tests give the engine, only the checkout (its state where up.sh keeps it).
 */
const rollback = (...extra: string[]) => {
    const fresh = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_") && !k.startsWith("RUNBOOK_")),
    );
    const r = spawnSync("npm", ["run", "--silent", "rollback", "--", "--stack", STACK, "--dir", ws.dir, ...extra], {
        cwd: ROOT,
        env: fresh,
        encoding: "utf8",
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
};
const stackFilePath = () => path.join(ws.dir, `Pulumi.${STACK}.yaml`);
const stackFile = () => parse(fs.readFileSync(stackFilePath(), "utf8")).config;
/** The stack file as git has it: green live, written before the on-call engineer rolled back. */
let committed: string;
const selected = () => k.get(["service", "api", "-n", NS]).spec.selector["runbook.dev/color"];
const jobNames = () =>
    k
        .list("jobs", NS)
        .map((j: any) => j.metadata.name)
        .sort();

test("blue, then green live; in a freeze a release is blocked and the rollback to blue goes through", () => {
    expectOk(up());
    expect(selected()).toBe("blue");
    expect(
        ws.pulumi(["config", "set", "--path", "runbook:services.api.blueGreen.activeColor", "green", "--stack", STACK])
            .code,
    ).toBe(0);
    expectOk(up());
    expect(selected()).toBe("green");

    // The freeze blocks a deploy: going back by hand (activeColor alone) is not a recorded rollback.
    expect(
        ws.pulumi(["config", "set", "--path", "runbook:services.api.blueGreen.activeColor", "blue", "--stack", STACK])
            .code,
    ).toBe(0);
    const blocked = up("--policy-pack-config", freeze);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stdout).toContain("deploys are closed: inside deny window 'incident-freeze' (incident in progress)");
    expect(selected()).toBe("green");
    expect(
        ws.pulumi(["config", "set", "--path", "runbook:services.api.blueGreen.activeColor", "green", "--stack", STACK])
            .code,
    ).toBe(0);

    const jobsBefore = jobNames();
    committed = fs.readFileSync(stackFilePath(), "utf8");
    const r = rollback(
        "--service",
        "api",
        "--reason",
        "checkout errors after 1.42",
        "--by",
        "oncall-kim",
        "--policy-config",
        freeze,
    );
    expectOk(r);
    expect(r.stdout).toMatch(
        /^rolled back api: green → blue, by oncall-kim: checkout errors after 1.42; traffic restored in [0-9.]+ s, converged in [0-9.]+ s \(update [0-9]+ s\)$/m,
    );
    // Traffic first, by the rollback's own field manager, then the engine.
    expect(r.stderr).toMatch(
        /^\[rollback\] traffic restored [0-9.]+ s after the command started: Service e2e-rollback\/api selects blue \(field manager runbook-rollback, through the API server\)$/m,
    );
    expect(r.stderr.indexOf("[rollback] traffic restored")).toBeLessThan(r.stderr.indexOf("Updating ("));
    expect(r.all).toContain("rollback to what was live before, by oncall-kim at ");
    expect(r.all).toContain(": checkout errors after 1.42 (release ");

    // The API server: api selects blue, blue's pods serve it, no Job was created.
    expect(selected()).toBe("blue");
    const ready = k.get(["deployment", "api-blue", "-n", NS]).status.readyReplicas;
    expect(ready).toBeGreaterThanOrEqual(1);
    expect(jobNames()).toEqual(jobsBefore);
    const annotations = k.get(["deployment", "api-blue", "-n", NS]).metadata.annotations;
    expect(JSON.parse(annotations["runbook.dev/rollback"])).toMatchObject({
        reason: "checkout errors after 1.42",
        by: "oncall-kim",
    });

    // The stack file says what the cluster runs, and the next update changes nothing.
    const c = stackFile();
    expect(c["runbook:services"].api.blueGreen.activeColor).toBe("blue");
    expect(c["runbook:release"].rollback).toMatchObject({ reason: "checkout errors after 1.42", by: "oncall-kim" });
    expectOk(
        ws.pulumi([
            "preview",
            "--stack",
            STACK,
            "--expect-no-changes",
            "--policy-pack",
            "policies",
            "--policy-pack-config",
            freeze,
        ]),
    );
    // The deployment record: the stack's history names who and why.
    expect(ws.pulumi(["stack", "history", "--stack", STACK, "--json"]).stdout).toContain(
        "rollback api: green → blue by oncall-kim: checkout errors after 1.42",
    );
});

test("the stack file as committed before the rollback cannot switch back: refused before any change, with or without a preview", () => {
    const rolledBack = fs.readFileSync(stackFilePath(), "utf8");
    fs.writeFileSync(stackFilePath(), committed);
    try {
        for (const flags of [[], ["--skip-preview"]]) {
            const r = up(...flags);
            expect(r.code).not.toBe(0);
            expect(r.all).toContain("this update would undo a rollback, so nothing was changed");
            expect(r.all).toMatch(
                /services\.api: this would give traffic back to green \(\S+\), which oncall-kim rolled back at \S+ \(green → blue: checkout errors after 1\.42\)\. Commit the rollback to the stack file/,
            );
            expect(selected()).toBe("blue");
        }
    } finally {
        fs.writeFileSync(stackFilePath(), rolledBack);
    }
    // The rollback, committed, deploys as a no-op outside the freeze too.
    expectOk(ws.pulumi(["preview", "--stack", STACK, "--expect-no-changes", "--policy-pack", "policies"]));
});

test("release.rollback does not carry anything else through the freeze", () => {
    expect(
        ws.pulumi([
            "config",
            "set",
            "--path",
            "runbook:services.api.blueGreen.green.image",
            "ghcr.io/acme/shop-api:9.9.9",
            "--stack",
            STACK,
        ]).code,
    ).toBe(0);
    const r = up("--policy-pack-config", freeze);
    expect(r.code).not.toBe(0);
    expect(r.all).toContain(
        "runbook:release.rollback is set, but this update is not a rollback to what was live before",
    );
    expect(r.all).toContain("services.api changed since the last deployment");
    expect(k.get(["deployment", "api-green", "-n", NS]).spec.template.spec.containers[0].image).not.toBe(
        "ghcr.io/acme/shop-api:9.9.9",
    );
    expect(
        ws.pulumi([
            "config",
            "set",
            "--path",
            "runbook:services.api.blueGreen.green.image",
            stackFileImage(),
            "--stack",
            STACK,
        ]).code,
    ).toBe(0);
});

const stackFileImage = () =>
    parse(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")).config["runbook:services"].api.blueGreen.green
        .image as string;

test("a rollback to a colour with no ready pods is refused and changes nothing", async () => {
    // green is idle now; take its pods away behind Pulumi's back.
    k.run(["scale", "deployment", "api-green", "-n", NS, "--replicas", "0"]);
    await eventually("api-green without ready pods", () =>
        (k.get(["deployment", "api-green", "-n", NS]).status.readyReplicas ?? 0) === 0 ? true : undefined,
    );
    const before = fs.readFileSync(path.join(ws.dir, `Pulumi.${STACK}.yaml`), "utf8");
    const r = rollback("--service", "api", "--reason", "again", "--policy-config", freeze);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
        "rollback: refused: Deployment e2e-rollback/api-green has no ready pods (spec.replicas 0)",
    );
    expect(fs.readFileSync(path.join(ws.dir, `Pulumi.${STACK}.yaml`), "utf8")).toBe(before);
    expect(selected()).toBe("blue");
});

test("the way forward after a rollback: a fixed image on the rolled-back colour is a new release, and takes traffic", () => {
    // What the team commits after the incident: green gets the fix, goes live, the record goes.
    for (const [key, value] of [
        ["runbook:services.api.blueGreen.green.image", "ghcr.io/acme/shop-api:1.42.1"],
        ["runbook:services.api.blueGreen.activeColor", "green"],
    ])
        expect(ws.pulumi(["config", "set", "--path", key, value, "--stack", STACK]).code).toBe(0);
    expect(ws.pulumi(["config", "rm", "--path", "runbook:release.rollback", "--stack", STACK]).code).toBe(0);
    // --refresh: green's pods were scaled away behind Pulumi's back by the test before.
    expectOk(up("--refresh"));
    expect(selected()).toBe("green");
    expect(k.get(["deployment", "api-green", "-n", NS]).spec.template.spec.containers[0].image).toBe(
        "ghcr.io/acme/shop-api:1.42.1",
    );
    // The provider took the selector back from the rollback's field manager: no drift, no conflict.
    expectOk(ws.pulumi(["preview", "--stack", STACK, "--expect-no-changes", "--refresh", "--policy-pack", "policies"]));
});
