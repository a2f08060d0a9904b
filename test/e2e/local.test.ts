// The embedded default (`local` stack) through the real Pulumi engine, Kubernetes provider
// and policy pack: preview, up, schema validation of every manifest, promtool, and the
// blue/green switch and switch back.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ROOT, stackConfig } from "../util/stack";
import { Workspace, toolchainReady, TOOLCHAIN_BIN } from "./engine";
import { backupCases, promtoolTests, serviceCases } from "./promtool-cases";

jest.setTimeout(300_000);

const RENDER = "rendered/local";
let ws: Workspace;
let first: Map<string, string>;

beforeAll(() => {
    if (!toolchainReady()) throw new Error("the Pulumi toolchain and promtool are missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    ws = new Workspace("local");
    ws.initStack("local");
});

test("pulumi preview of the embedded default with the policy pack is clean", () => {
    const r = ws.pulumi(["preview", "--stack", "local", "--policy-pack", "policies"]);
    expect(r.all).not.toMatch(/mandatory|advisory|error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\+ 37 to create/);
    expect(r.stdout).toContain("Policy Packs run:");
});

test("pulumi up renders every manifest, with the policy pack, and nothing else", () => {
    const r = ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--policy-pack", "policies"]);
    expect(r.all).not.toMatch(/mandatory|advisory|error:/);
    expect(r.code).toBe(0);
    first = ws.manifests(RENDER);
    const kinds = [...first.keys()].map((f) => path.basename(f).split("-")[1]).sort();
    expect(kinds).toEqual([
        "cronjob",
        "deployment",
        "deployment",
        "deployment",
        "deployment",
        "horizontalpodautoscaler",
        "horizontalpodautoscaler",
        "ingress",
        "ingress",
        "job",
        "job",
        "namespace",
        "prometheusrule",
        "prometheusrule",
        "prometheusrule",
        "service",
        "service",
        "service",
        "service",
        "service",
        "service",
        "serviceaccount",
        "servicemonitor",
        "servicemonitor",
    ]);
});

test("every rendered manifest validates against the Kubernetes and CRD schemas", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "test", "e2e", "validate-manifests.mjs"), path.join(ws.dir, RENDER)], { encoding: "utf8", cwd: ROOT });
    const report = JSON.parse(r.stdout);
    expect(report.errors).toEqual([]);
    expect(report.checked).toBe(first.size);
    expect(r.status).toBe(0);
});

describe("alert rules under promtool", () => {
    const promtool = path.join(TOOLCHAIN_BIN, "promtool");
    let dir: string;
    let rules: any[];

    beforeAll(() => {
        dir = path.join(ws.dir, "promtool");
        fs.mkdirSync(dir, { recursive: true });
        const groups = ws.objects(RENDER, "PrometheusRule").flatMap((r) => r.spec.groups);
        rules = groups.flatMap((g) => g.rules);
        fs.writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups }));
    });

    test("promtool check rules accepts every rendered rule", () => {
        const r = spawnSync(promtool, ["check", "rules", path.join(dir, "rules.yaml")], { encoding: "utf8" });
        expect(r.stdout + r.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
        expect(rules.length).toBe(18);
        expect(r.status).toBe(0);
    });

    function testFile(ruleFile: string, name: string): string {
        const cfg = stackConfig("local");
        const ns = cfg.namespace.name;
        const apiRules = ws.objects(RENDER, "PrometheusRule").find((r) => r.metadata.name === "api-rollback-triggers").spec.groups[0].rules;
        const backupRules = ws.objects(RENDER, "PrometheusRule").find((r) => r.metadata.name === "shop-backup").spec.groups[0].rules;
        const cases = [...serviceCases({ namespace: ns, app: "api", hpa: "api" }, cfg.alerts)];
        const service = promtoolTests(ruleFile, apiRules, cases, "15m") as { tests: object[] };
        const backup = promtoolTests(ruleFile, backupRules, backupCases({ namespace: ns, cronJob: "shop-backup" }, cfg.alerts, 15 * 60), "15m") as { tests: object[] };
        const file = path.join(dir, name);
        fs.writeFileSync(file, stringify({ rule_files: [ruleFile], evaluation_interval: "1m", tests: [...service.tests, ...backup.tests] }));
        return file;
    }

    test("promtool test rules: each rollback trigger fires just above its threshold and not just below", () => {
        const file = testFile("rules.yaml", "tests.yaml");
        const r = spawnSync(promtool, ["test", "rules", file], { encoding: "utf8", cwd: dir });
        expect(r.stdout + r.stderr).toContain("SUCCESS");
        expect(r.status).toBe(0);
        const names = (parse(fs.readFileSync(file, "utf8")).tests as { name: string }[]).map((t) => t.name);
        expect(names).toHaveLength(20);
    });

    test("the same tests fail against a rule whose threshold was moved (the check can fail)", () => {
        const moved = fs.readFileSync(path.join(dir, "rules.yaml"), "utf8").replace(/ > 0\.01\n/, " > 0.02\n");
        expect(moved).not.toBe(fs.readFileSync(path.join(dir, "rules.yaml"), "utf8"));
        fs.writeFileSync(path.join(dir, "moved.yaml"), moved);
        const file = testFile("moved.yaml", "tests-moved.yaml");
        const r = spawnSync(promtool, ["test", "rules", file], { encoding: "utf8", cwd: dir });
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain("ErrorRateCritical fires just above its threshold");
    });
});

describe("blue/green switch through the real engine", () => {
    test("flipping activeColor changes the Service selectors and what follows the live colour; both Deployments stay", () => {
        expect(ws.pulumi(["config", "set", "--path", "runbook:services.api.blueGreen.activeColor", "green", "--stack", "local"]).code).toBe(0);
        const r = ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--policy-pack", "policies"]);
        expect(r.all).not.toMatch(/mandatory|error:/);
        expect(r.code).toBe(0);
        const second = ws.manifests(RENDER);
        const changed = [...new Set([...first.keys(), ...second.keys()])].filter((f) => first.get(f) !== second.get(f)).sort();
        expect(changed.map((f) => path.basename(f).replace(/-[0-9a-f]{8}\.yaml$/, "-<hash>.yaml"))).toEqual([
            "autoscaling_v2-horizontalpodautoscaler-shop-local-api.yaml",
            "batch_v1-job-shop-local-api-smoke-<hash>.yaml",
            "batch_v1-job-shop-local-api-smoke-<hash>.yaml",
            "v1-service-shop-local-api-preview.yaml",
            "v1-service-shop-local-api.yaml",
        ]);
        const svc = second.get("1-manifest/v1-service-shop-local-api.yaml") as string;
        expect(svc).toContain("runbook.dev/color: green");
        expect(first.get("1-manifest/v1-service-shop-local-api.yaml")).toContain("runbook.dev/color: blue");
        for (const color of ["blue", "green"]) {
            const f = `1-manifest/apps_v1-deployment-shop-local-api-${color}.yaml`;
            expect(second.get(f)).toBe(first.get(f));
        }
    });

    test("switching back restores the first manifests exactly", () => {
        expect(ws.pulumi(["config", "set", "--path", "runbook:services.api.blueGreen.activeColor", "blue", "--stack", "local"]).code).toBe(0);
        const r = ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--policy-pack", "policies"]);
        expect(r.code).toBe(0);
        expect(ws.manifests(RENDER)).toEqual(first);
    });
});

test("a bad stack config fails pulumi preview with the program's full error list", () => {
    const text = fs
        .readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")
        .replace("weight: 25", "weight: 150")
        .replace("runbook:environment: staging", "runbook:environment: prod")
        .replace("healthEndpoints:", "helthEndpoints:");
    ws.writeStackFile("broken", text);
    ws.initStack("broken");
    const r = ws.pulumi(["preview", "--stack", "broken"]);
    expect(r.code).not.toBe(0);
    expect(r.all).toContain("Invalid stack configuration (3 problems):");
    expect(r.all).toContain("- runbook:environment: expected one of 'staging', 'production', got \"prod\"");
    expect(r.all).toContain("- runbook:services.api.helthEndpoints: unknown key, did you mean 'healthEndpoints'?");
    expect(r.all).toContain("- runbook:services.web.canary.weight: expected an integer 0..100, got 150");
    expect(r.all).not.toMatch(/kubernetes:apps\/v1:Deployment .* create/);
});

test("a database URL set as a Pulumi secret reaches the backup's Secret and never the state in plain text", () => {
    const text = fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8").replace(/^encryptionsalt:.*\n/m, "").replaceAll("rendered/local", "rendered/secret");
    ws.writeStackFile("secret", text);
    ws.initStack("secret");
    expect(ws.pulumi(["config", "rm", "--path", "runbook:backup.databaseSecret", "--stack", "secret"]).code).toBe(0);
    expect(ws.pulumi(["config", "set", "--secret", "runbook:databaseUrl", "postgres://backup:hunter2@db/shop", "--stack", "secret"]).code).toBe(0);
    expect(fs.readFileSync(path.join(ws.dir, "Pulumi.secret.yaml"), "utf8")).not.toContain("hunter2");
    const r = ws.pulumi(["up", "--stack", "secret", "--yes", "--skip-preview"]);
    expect(r.code).toBe(0);
    const secret = ws.objects("rendered/secret", "Secret").find((s) => s.metadata.name === "shop-backup-db");
    const value = secret.stringData?.url ?? Buffer.from(secret.data.url, "base64").toString();
    expect(value).toBe("postgres://backup:hunter2@db/shop");
    const state = ws.pulumi(["stack", "export", "--stack", "secret"]).stdout;
    expect(state).toContain("shop-backup-db");
    expect(state).not.toContain("hunter2");
});
