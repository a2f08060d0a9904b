// The policy pack under the real engine on a production-like stack applied to the live local
// cluster: the freeze, a closed window and missing approvals block `pulumi up` before
// anything reaches the API server, with or without `--skip-preview`, the
// window with approvals lets it through, a pull-request preview passes with the advisory
// and the next window, and a hotfix goes through a freeze saying so. Production counts
// only approvals signed with keys the policy config names (made here). The gate's clock is the
// policy config's (`enforce-deploy-gate.now`): the shell's RUNBOOK_NOW and
// RUNBOOK_DEPLOY_MODE stop an update before anything reaches the API server.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Kubectl } from "../../commands/kube";
import { clusterKubeconfig, kubectl, removeStack } from "./cluster";
import { expectOk, policyReports, productionLikeStack, Workspace, toolchainReady } from "./engine";
import { ROOT } from "../util/stack";

jest.setTimeout(300_000);

const STACK = "e2e-prod";
const NS = "e2e-production";
const FREEZE = "2026-12-24T11:00:00Z";
const WINDOW = "2026-11-26T15:55:00Z";
/** When the approvers signed: the morning of the window's day (the gate counts 72 h). */
const SIGNED_AT = "2026-11-26T09:00:00Z";
let ws: Workspace;
let k: Kubectl;
let signers: ReturnType<Workspace["approvers"]>;
/** The pack as the engine names it in its messages: its own package's name and version. */
const PACK = (() => {
    const p = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "package.json"), "utf8"));
    return `runbook-guardrails@v${p.version}`;
})();
/** The levels at which the pack reported `policy` in a run's output. */
const levels = (output: string, policy: string) =>
    policyReports(output)
        .filter((r) => r.pack === PACK && r.policy === policy)
        .map((r) => r.level);

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("policy");
    ws.writeStackFile(STACK, productionLikeStack({ kubeconfig: clusterKubeconfig() }, NS));
    ws.initStack(STACK);
    signers = ws.approvers({
        lee: ["governance-sentinel"],
        sam: ["service-owner"],
        kim: ["governance-board"],
        ola: ["governance-board"],
    });
});

afterAll(() => removeStack(ws, STACK, NS));

/** Nothing of the stack reached the API server: not even its namespace. */
const nothingApplied = () => {
    expect(k.find("namespace", NS)).toBeUndefined();
    expect(
        k.get<{ items: unknown[] }>(["deployments,services,jobs", "-A", "-l", "runbook.dev/environment=production"])
            .items,
    ).toEqual([]);
};
const deployment = (name: string) => k.get(["deployment", name, "-n", NS]);

/** The policy config a platform team would hand to a drill: the gate's clock set to `at`. */
const clock = (at: string) => {
    const file = path.join(ws.dir, `policy-config-${at.replace(/:/g, "")}.json`);
    fs.writeFileSync(file, JSON.stringify({ "enforce-deploy-gate": { now: at, signers } }));
    return file;
};
const up = (at: string, env: Record<string, string> = {}, ...flags: string[]) =>
    ws.pulumi(
        ["up", "--stack", STACK, "--yes", "--policy-pack", "policies", "--policy-pack-config", clock(at), ...flags],
        env,
    );

test.each([[[]], [["--skip-preview"]]])(
    "inside the Christmas freeze, pulumi up %j is blocked by the gate before anything reaches the API server",
    (flags: string[]) => {
        const r = up(FREEZE, {}, ...flags);
        expect(r.code).not.toBe(0);
        expect(levels(r.stdout, "enforce-deploy-gate")).toContain("mandatory");
        expect(r.stdout).toContain(
            "production deploy blocked at Thu 2026-12-24 11:00 UTC: deploys are closed: inside deny window 'christmas' (Dec 24–26 freeze)",
        );
        expect(r.stdout).toContain("next window opens Mon 2026-12-28 10:00 UTC (until Mon 2026-12-28 16:00 UTC)");
        nothingApplied();
    },
);

test("outside the window (Thursday evening), pulumi up --skip-preview changes nothing and names the window", () => {
    const r = up("2026-11-26T18:30:00Z", {}, "--skip-preview");
    expect(r.code).not.toBe(0);
    expect(levels(r.stdout, "enforce-deploy-gate")).toContain("mandatory");
    expect(r.stdout).toContain(
        "production deploy blocked at Thu 2026-11-26 18:30 UTC: deploys are closed: outside every allow window ('business-hours')",
    );
    nothingApplied();
});

test("a pull-request preview inside the freeze passes, with the advisory and the next window", () => {
    const r = ws.pulumi(["preview", "--stack", STACK, "--policy-pack", "policies"], {
        RUNBOOK_NOW: FREEZE,
        RUNBOOK_DEPLOY_MODE: "pull-request",
    });
    expect(r.code).toBe(0);
    expect(levels(r.stdout, "enforce-deploy-gate")).toContain("advisory");
    expect(r.stdout).toContain(
        "[pull-request preview] would be blocked if deployed now: production deploy blocked at Thu 2026-12-24 11:00 UTC",
    );
    expect(r.stdout).toContain("next window opens Mon 2026-12-28 10:00 UTC");
    expect(r.stdout).not.toContain("[mandatory]");
});

test("typed approvals and one signed by a key no signer holds do not count: pulumi up --skip-preview in the window is blocked", () => {
    ws.approvers({ eve: ["service-owner"] });
    expectOk(ws.sign(STACK, "eve", "service-owner", SIGNED_AT));
    const r = up(WINDOW, {}, "--skip-preview");
    expect(r.code).not.toBe(0);
    expect(levels(r.stdout, "enforce-deploy-gate")).toContain("mandatory");
    expect(r.stdout).toContain(
        "production deploy blocked at Thu 2026-11-26 15:55 UTC: needs 1 governance-sentinel approval from different people, has 0",
    );
    expect(r.stdout).toContain("unsigned approvals do not count here (lee (governance-sentinel), sam (service-owner))");
    expect(r.stdout).toMatch(
        /signed approval 1 \(unknown signer as service-owner\): forged: made by key SHA256:\S+, which no allowed signer holds/,
    );
    nothingApplied();
    // The approvals every later case has: the Governance Sentinel's and the Service Owner's.
    fs.rmSync(path.join(ws.dir, "approvals"), { recursive: true });
    expectOk(ws.sign(STACK, "lee", "governance-sentinel", SIGNED_AT));
    expectOk(ws.sign(STACK, "sam", "service-owner", SIGNED_AT));
});

test("RUNBOOK_NOW set to a time in the window does not move a real deploy out of the freeze", () => {
    const r = up(FREEZE, { RUNBOOK_NOW: WINDOW });
    expect(r.code).not.toBe(0);
    expect(levels(r.stdout, "refuse-drill-settings-in-updates")).toContain("mandatory");
    expect(r.stdout).toContain(
        `RUNBOOK_NOW=${WINDOW} is set in the environment: the settable clock and pull-request mode are for previews and drills only`,
    );
    nothingApplied();
});

test("skipping the preview and claiming to be one in the shell does not help either", () => {
    const r = up(FREEZE, { RUNBOOK_NOW: WINDOW, PULUMI_DRY_RUN: "true" }, "--skip-preview");
    expect(r.code).not.toBe(0);
    expect(levels(r.stdout, "refuse-drill-settings-in-updates")).toContain("mandatory");
    nothingApplied();
});

test("RUNBOOK_DEPLOY_MODE=pull-request does not turn the gate of a real deploy advisory", () => {
    const r = up(FREEZE, { RUNBOOK_DEPLOY_MODE: "pull-request" });
    expect(r.code).not.toBe(0);
    expect(levels(r.stdout, "refuse-drill-settings-in-updates")).toContain("mandatory");
    expect(r.stdout).toContain("RUNBOOK_DEPLOY_MODE=pull-request is set in the environment");
    nothingApplied();
});

test("in the window with signed approvals, pulumi up passes and the API server holds the release", () => {
    const r = up(WINDOW);
    expect(r.stdout).not.toMatch(/\[mandatory\]|\[advisory\]/);
    expect(r.code).toBe(0);
    const route = k.get(["httproute.gateway.networking.k8s.io", "web", "-n", NS]);
    expect(route.spec.rules[0].backendRefs.map((b: { weight: number }) => b.weight)).toEqual([75, 25]);
    expect(
        k
            .list("poddisruptionbudgets", NS)
            .map((p) => p.metadata.name)
            .sort(),
    ).toEqual(["api", "web"]);
    expect(k.list("prometheusrules.monitoring.coreos.com", NS)).toHaveLength(3);
    const signed = JSON.parse(deployment("api-green").metadata.annotations["runbook.dev/signed-approvals"]) as {
        statement: string;
    }[];
    expect(signed.map((a) => /^role: (.*)$/m.exec(a.statement)?.[1])).toEqual(["governance-sentinel", "service-owner"]);
    expect(deployment("api-green").status.readyReplicas).toBe(5);
});

test("a hotfix with two signed Governance Board approvals and a postmortem goes through the freeze and is recorded", () => {
    const hotfix = {
        RUNBOOK_RELEASE_VERSION: "1.42.1",
        RUNBOOK_RELEASE_APPROVALS: "",
        RUNBOOK_HOTFIX_POSTMORTEM: "PM-2026-117",
    };
    expectOk(ws.sign(STACK, "kim", "governance-board", "2026-12-24T10:30:00Z", hotfix));
    expectOk(ws.sign(STACK, "ola", "governance-board", "2026-12-24T10:30:00Z", hotfix));
    const r = up(FREEZE, hotfix);
    expect(r.stdout).not.toContain("[mandatory]");
    expect(r.code).toBe(0);
    // Reported by the preview and again by the update, advisory both times.
    expect(new Set(levels(r.stdout, "report-hotfix-deploys"))).toEqual(new Set(["advisory"]));
    // Every signature in the file is attached (the window test's too); the gate counted kim's and ola's.
    expect(r.stdout).toMatch(
        /hotfix release 1\.42\.1: postmortem PM-2026-117; approvals: \d+ signatures attached \(enforce-deploy-gate counts those that verify for this release\)\./,
    );
    expect(deployment("api-green").metadata.annotations).toMatchObject({
        "runbook.dev/hotfix": "true",
        "runbook.dev/hotfix-postmortem": "PM-2026-117",
        "runbook.dev/release-version": "1.42.1",
    });
});
