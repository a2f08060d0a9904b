// The render-to-directory option (scripts/render.sh): the `local` stack's config with the
// Kubernetes provider writing manifests instead of applying them, through the real engine
// and policy pack; every manifest validated against the Kubernetes and CRD schemas. What
// the manifests do is proven on the live cluster (live-*.test.ts).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../util/stack";
import { renderedLocalStack, Workspace, toolchainReady } from "./engine";

jest.setTimeout(300_000);

const RENDER = "rendered/local";
let ws: Workspace;
let first: Map<string, string>;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error(
            "the Pulumi toolchain and promtool are missing: run `bash scripts/setup.sh` (scripts/test.sh does)",
        );
    ws = new Workspace("render");
    ws.writeStackFile("local", renderedLocalStack(RENDER));
    ws.initStack("local");
});

test("pulumi preview of the embedded default with the policy pack is clean", () => {
    const r = ws.pulumi(["preview", "--stack", "local", "--policy-pack", "policies"]);
    expect(r.all).not.toMatch(/mandatory|advisory|error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\+ 41 to create/);
    // The pack ran and reported nothing.
    expect(r.stdout).toMatch(/Policies:\n\s+✅ runbook-guardrails@v\d\S* \(local: /);
});

test("pulumi up renders every manifest, with the policy pack, and nothing else", () => {
    const r = ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--policy-pack", "policies"]);
    expect(r.all).not.toMatch(/mandatory|advisory|error:/);
    expect(r.code).toBe(0);
    first = ws.manifests(RENDER);
    const kinds = [...first.keys()].map((f) => path.basename(f).split("-")[1]).sort();
    expect(kinds).toEqual([
        "cronjob",
        "cronjob",
        "cronjob",
        "deployment",
        "deployment",
        "deployment",
        "deployment",
        "horizontalpodautoscaler",
        "horizontalpodautoscaler",
        "httproute",
        "job",
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
        "service",
        "service",
        "serviceaccount",
        "servicemonitor",
        "servicemonitor",
    ]);
});

test("every rendered manifest validates against the Kubernetes and CRD schemas", () => {
    const r = spawnSync(
        process.execPath,
        [path.join(ROOT, "test", "e2e", "validate-manifests.mjs"), path.join(ws.dir, RENDER)],
        { encoding: "utf8", cwd: ROOT },
    );
    const report = JSON.parse(r.stdout);
    expect(report.errors).toEqual([]);
    expect(report.checked).toBe(first.size);
    expect(r.status).toBe(0);
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
