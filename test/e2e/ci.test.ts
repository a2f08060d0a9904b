// The CI entry points through the real engine: the pull-request summary of a colour flip,
// a broken config, a preview inside a freeze, and a deploy refused inside a freeze.
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../util/stack";
import { liveStack, removeStack } from "./cluster";
import { productionLikeStack, Workspace, toolchainReady } from "./engine";

jest.setTimeout(300_000);

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const FREEZE = "2026-12-24T11:00:00Z";
let ws: Workspace;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    ws = new Workspace("ci");
    // The pull-request previews run against a stack deployed on the live local cluster.
    liveStack(ws, "local", "e2e-ci");
    const r = ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview"]);
    if (r.code !== 0) throw new Error(r.all);
});

afterAll(() => removeStack(ws, "local", "e2e-ci"));

const ciPreview = (stack: string, env: Record<string, string> = {}) => {
    const out = path.join(ws.dir, `summary-${stack}.md`);
    const r = ws.exec(
        TSX,
        [path.join(ROOT, "commands", "main.ts"), "ci:preview", "--stack", stack, "--out", out, "--dir", ws.dir],
        env,
    );
    return { ...r, summary: fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "" };
};

/** `npm run ci:deploy` of `stack`, its record in `record`, as the deploy workflow runs it. */
const ciDeploy = (stack: string, record: string, env: Record<string, string>, extra: string[] = []) =>
    ws.exec(
        TSX,
        [
            path.join(ROOT, "commands", "main.ts"),
            "ci:deploy",
            "--stack",
            stack,
            "--record",
            record,
            "--dir",
            ws.dir,
            ...extra,
        ],
        env,
    );

test("a pull request that flips activeColor: the summary names the Service selector change", () => {
    expect(
        ws.pulumi([
            "config",
            "set",
            "--path",
            "runbook:services.api.blueGreen.activeColor",
            "green",
            "--stack",
            "local",
        ]).code,
    ).toBe(0);
    const r = ciPreview("local");
    expect(r.code).toBe(0);
    expect(r.summary).toContain("**Merge:** nothing here blocks it.");
    expect(r.summary).toContain(
        '- update `kubernetes:core/v1:Service` `local-api-bg-active`: `spec.selector["runbook.dev/color"]`',
    );
    expect(r.summary).toContain("| `kubernetes:core/v1:Service` | 0 | 2 | 0 | 0 |");
    // Green runs the image its smoke Job already passed with: no Job changes.
    expect(r.summary).not.toContain("kubernetes:batch/v1:Job");
    expect(r.summary).toContain("| api | active blue | active green |");
    expect(r.summary).toContain("**Deploy now:** allowed — staging deploy allowed");
});

test("a pull request that breaks the config fails with the config errors, before any preview", () => {
    ws.writeStackFile(
        "broken",
        fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8").replace("weight: 25", "weight: 150"),
    );
    const r = ciPreview("broken");
    expect(r.code).toBe(1);
    expect(r.summary).toContain("**Merge:** blocked — the stack configuration is invalid");
    expect(r.summary).toContain("- `runbook:services.web.canary.weight: expected an integer 0..100, got 150`");
    expect(r.all).not.toContain("Previewing update");
});

describe("production-like stack inside the Christmas freeze", () => {
    beforeAll(() => {
        ws.writeStackFile("e2e-prod", productionLikeStack({ renderYamlToDirectory: "rendered/e2e-prod" }, "shop-e2e"));
        ws.initStack("e2e-prod");
    });

    test("the pull-request preview passes, with the gate's advisory and the next window", () => {
        const r = ciPreview("e2e-prod", { RUNBOOK_NOW: FREEZE });
        expect(r.code).toBe(0);
        expect(r.summary).toContain("**Merge:** nothing here blocks it.");
        expect(r.summary).toContain(
            "**Deploy now:** would be blocked — production deploy blocked at Thu 2026-12-24 11:00 UTC: deploys are closed: inside deny window 'christmas'",
        );
        expect(r.summary).toContain("**Next window:** Mon 2026-12-28 10:00 UTC – Mon 2026-12-28 16:00 UTC");
        expect(r.summary).toMatch(
            /\| advisory \| `enforce-deploy-gate` \| `[^`]+` \| \[pull-request preview\] would be blocked if deployed now: /,
        );
        expect(r.summary).toContain("| api | not deployed | active green |");
    });

    test("the deploy entry point refuses before pulumi up and records the refusal", () => {
        const record = path.join(ws.dir, "record.json");
        const r = ciDeploy("e2e-prod", record, { RUNBOOK_NOW: FREEZE });
        expect(r.code).toBe(1);
        expect(r.all).toContain("not deployed: pulumi up was not run");
        const rec = JSON.parse(fs.readFileSync(record, "utf8"));
        expect(rec).toMatchObject({
            stack: "e2e-prod",
            environment: "production",
            version: "1.42.0",
            commit: "3f9c2ab7e1d4",
            operator: "dana",
            strategy: "mixed",
            approvals: [
                { name: "lee", role: "governance-sentinel" },
                { name: "sam", role: "service-owner" },
            ],
            result: "refused",
            nextWindow: "Mon 2026-12-28 10:00 UTC – Mon 2026-12-28 16:00 UTC",
        });
        expect(rec.reason).toMatch(
            /^production deploy blocked at Thu 2026-12-24 11:00 UTC: deploys are closed: inside deny window 'christmas'/,
        );
        expect(Date.parse(rec.timestamp)).not.toBeNaN();
        // Nothing was deployed: the stack has no resources and nothing was rendered.
        const exported = JSON.parse(ws.pulumi(["stack", "export", "--stack", "e2e-prod"]).stdout);
        expect(exported.deployment?.resources ?? []).toEqual([]);
        expect(ws.manifests("rendered/e2e-prod").size).toBe(0);
    });

    test("the deploy entry point refuses RUNBOOK_NOW for a stack that applies to a cluster", () => {
        ws.writeStackFile("e2e-prod-cluster", productionLikeStack({ kubeconfig: "does-not-matter" }, "shop-e2e"));
        const record = path.join(ws.dir, "record-drill.json");
        const r = ciDeploy("e2e-prod-cluster", record, { RUNBOOK_NOW: "2026-11-26T15:55:00Z" });
        expect(r.code).toBe(1);
        expect(r.all).toContain("ci-deploy: RUNBOOK_NOW=2026-11-26T15:55:00Z is set in the environment");
        expect(r.all).toContain("not deployed: pulumi up was not run");
        expect(JSON.parse(fs.readFileSync(record, "utf8"))).toMatchObject({
            stack: "e2e-prod-cluster",
            result: "refused",
            reason: expect.stringContaining("Unset RUNBOOK_NOW"),
        });
    });

    test("in the window with signed approvals the deploy entry point runs pulumi up and records success", () => {
        // As the deploy workflow: the approvers' signatures are in approvals/<stack>.yaml,
        // their keys and roles in the platform team's policy config.
        const signers = ws.approvers({ lee: ["governance-sentinel"], sam: ["service-owner"] });
        const policyConfig = path.join(ws.dir, "policy-signers.json");
        fs.writeFileSync(policyConfig, JSON.stringify({ "enforce-deploy-gate": { signers } }));
        const record = path.join(ws.dir, "record-ok.json");
        const deploy = () =>
            ciDeploy("e2e-prod", record, { RUNBOOK_NOW: "2026-11-26T15:55:00Z" }, ["--policy-config", policyConfig]);
        const unsigned = deploy();
        expect(unsigned.code).toBe(1);
        expect(unsigned.all).toContain(
            "unsigned approvals do not count here (lee (governance-sentinel), sam (service-owner))",
        );
        expect(ws.sign("e2e-prod", "lee", "governance-sentinel", "2026-11-26T09:00:00Z").code).toBe(0);
        expect(ws.sign("e2e-prod", "sam", "service-owner", "2026-11-26T09:00:00Z").code).toBe(0);
        const r = deploy();
        expect(r.code).toBe(0);
        const rec = JSON.parse(fs.readFileSync(record, "utf8"));
        expect(rec).toMatchObject({ stack: "e2e-prod", result: "succeeded", policy: [] });
        // Which engine ran the update.
        expect(rec.engine).toMatch(/^pulumi v3\.\d+\.\d+$/);
        expect(ws.objects("rendered/e2e-prod", "Deployment").length).toBe(4);
    });
});
