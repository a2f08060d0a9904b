// The blue/green runbook on the live local cluster, through the real engine, provider and
// policy pack. Every assertion reads the API server: the order in which it stored objects
// (etcd revisions, from a watch), selectors, pods, Job status.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import type { Kubectl } from "../../commands/kube";
import { formatStatus, readSnapshot } from "../../commands/status";
import { stackConfig } from "../util/stack";
import { expectOk, Workspace, toolchainReady, TOOLCHAIN_BIN } from "./engine";
import { eventually, failPods, kubectl, liveStack, removeStack, Watch, type WatchEvent } from "./cluster";
import { backupCases, promtoolTests, serviceCases } from "./promtool-cases";

jest.setTimeout(300_000);

const STACK = "bg";
const NS = "e2e-blue-green";
const DATABASE_URL = "postgres://backup:hunter2@db/shop";
let ws: Workspace;
let k: Kubectl;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("live-bg");
    liveStack(ws, STACK, NS, (c) => {
        // A failing backup should fail at once, not after two retries with back-off.
        c["runbook:backup"].backoffLimit = 0;
        // The database URL as a Pulumi secret (set below): the stack creates the Secret.
        delete c["runbook:backup"].databaseSecret;
    });
    expect(ws.pulumi(["config", "set", "--secret", "runbook:databaseUrl", DATABASE_URL, "--stack", STACK]).code).toBe(
        0,
    );
    expect(fs.readFileSync(path.join(ws.dir, `Pulumi.${STACK}.yaml`), "utf8")).not.toContain("hunter2");
});

afterAll(() => removeStack(ws, STACK, NS));

const up = (...extra: string[]) =>
    ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview", "--policy-pack", "policies", ...extra]);
const setConfig = (key: string, value: string) =>
    expect(ws.pulumi(["config", "set", "--path", `runbook:${key}`, value, "--stack", STACK]).code).toBe(0);
const selectorColor = (service: string) => k.get(["service", service, "-n", NS]).spec.selector["runbook.dev/color"];

function completedAt(events: WatchEvent[], kind: string, namePrefix: string): WatchEvent {
    const e = events.find(
        (x) =>
            x.kind === kind &&
            x.name.startsWith(namePrefix) &&
            (x.object.status?.conditions ?? []).some((c: any) => c.type === "Complete" && c.status === "True"),
    );
    if (!e) throw new Error(`the API server never stored a completed ${kind} ${namePrefix}*`);
    return e;
}

function firstSeen(
    events: WatchEvent[],
    kind: string,
    name: string,
    pred: (o: any) => boolean = () => true,
): WatchEvent {
    const e = events.find((x) => x.kind === kind && x.name === name && x.type !== "DELETED" && pred(x.object));
    if (!e) throw new Error(`the API server never stored ${kind} ${name} in the expected state`);
    return e;
}

/** Spec (or uid, for pods) of every object of the namespace: what a change could touch. */
function snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    const items = k.get<{ items: any[] }>([
        "deployments,replicasets,services,horizontalpodautoscalers,jobs,cronjobs,ingresses,httproutes.gateway.networking.k8s.io," +
            "secrets,serviceaccounts,prometheusrules,servicemonitors",
        "-n",
        NS,
    ]).items;
    for (const o of items) {
        if (o.kind === "Secret" && o.type === "kubernetes.io/service-account-token") continue;
        out.set(`${o.kind}/${o.metadata.name}`, JSON.stringify(o.spec ?? o.data ?? o.metadata.uid));
    }
    for (const p of k.list("pods", NS)) out.set(`Pod/${p.metadata.name}`, p.metadata.uid);
    return out;
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
    return [...new Set([...before.keys(), ...after.keys()])]
        .filter((key) => before.get(key) !== after.get(key))
        .filter((key) => !key.startsWith("Pod/shop-backup") && !key.startsWith("Pod/api-smoke"))
        .map(
            (key) =>
                key.replace(/-[0-9a-f]{8}$/, "-<hash>") +
                (before.has(key) ? (after.has(key) ? "" : " (deleted)") : " (new)"),
        )
        .sort();
}

const apiPods = () => new Set(k.list("pods", NS, "app.kubernetes.io/name=api").map((p) => p.metadata.uid));

test("a first release: backup Job completed before the live colour's Deployment, smoke Job before the active Service", async () => {
    const watch = new Watch(NS, ["jobs", "deployments", "services"]);
    const r = up();
    const events = await watch.stop();
    expect(r.all).not.toMatch(/mandatory|error:/);
    expect(r.code).toBe(0);

    const backup = completedAt(events, "Job", "shop-backup-predeploy-");
    const blue = firstSeen(events, "Deployment", "api-blue");
    expect(backup.revision).toBeLessThan(blue.revision);
    expect(Date.parse(backup.object.status.completionTime)).toBeLessThanOrEqual(
        Date.parse(blue.object.metadata.creationTimestamp),
    );

    const smoke = completedAt(events, "Job", "api-smoke-blue-");
    const active = firstSeen(events, "Service", "api");
    expect(smoke.revision).toBeLessThan(active.revision);
    const blueReady = firstSeen(
        events,
        "Deployment",
        "api-blue",
        (d) => (d.status?.readyReplicas ?? 0) >= d.spec.replicas,
    );
    expect(blueReady.revision).toBeLessThan(smoke.revision);

    // What runs now, as the API server holds it.
    expect(selectorColor("api")).toBe("blue");
    expect(selectorColor("api-preview")).toBe("blue");
    for (const color of ["blue", "green"]) {
        const d = k.get(["deployment", `api-${color}`, "-n", NS]);
        expect(d.status.readyReplicas).toBe(2);
    }
    // The canary's route, accepted by the cluster's Gateway (Traefik writes its status).
    const accepted = (p: any) =>
        p.controllerName === "traefik.io/gateway-controller" &&
        p.conditions?.some((c: any) => c.type === "Accepted" && c.status === "True");
    await eventually("the Gateway to accept HTTPRoute web", () =>
        (k.get(["httproute", "web", "-n", NS]).status?.parents ?? []).some(accepted) ? true : undefined,
    );
    expect(
        k
            .list("prometheusrules.monitoring.coreos.com", NS)
            .map((p) => p.metadata.name)
            .sort(),
    ).toEqual(["api-rollback-triggers", "shop-backup", "web-rollback-triggers"]);

    // The summary scripts/up.sh prints says the same.
    const summary = formatStatus(readSnapshot(k, NS));
    expect(summary).toMatch(/\n {2}api-blue\s+2\/2\s+ghcr\.io\/acme\/shop-api:1\.41\.2\n/);
    expect(summary).toMatch(/\n {2}api\s+colour blue\n/);
    expect(summary).toMatch(/\n {2}web\s+25%\s+HTTPRoute web backendRefs\n/);
    expect(summary).toMatch(/\n {2}shop-backup-predeploy-[0-9a-f]{8}\s+Complete \d{4}-/);
});

test("the database URL set as a Pulumi secret is in the backup's Secret and never in the state in plain text", () => {
    const secret = k.get(["secret", "shop-backup-db", "-n", NS]);
    expect(Buffer.from(secret.data.url, "base64").toString()).toBe(DATABASE_URL);
    const state = ws.pulumi(["stack", "export", "--stack", STACK]).stdout;
    expect(state).toContain("shop-backup-db");
    expect(state).not.toContain("hunter2");
});

const rulesObjects = () => k.list("prometheusrules.monitoring.coreos.com", NS);

describe("alert rules under promtool, as the API server holds them", () => {
    const promtool = path.join(TOOLCHAIN_BIN, "promtool");
    let dir: string;
    let rules: any[];

    beforeAll(() => {
        dir = path.join(ws.dir, "promtool");
        fs.mkdirSync(dir, { recursive: true });
        const groups = rulesObjects().flatMap((r: any) => r.spec.groups);
        rules = groups.flatMap((g: any) => g.rules);
        fs.writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups }));
    });

    test("promtool check rules accepts every rule the API server holds", () => {
        const r = spawnSync(promtool, ["check", "rules", path.join(dir, "rules.yaml")], { encoding: "utf8" });
        expect(r.stdout + r.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
        expect(rules.length).toBe(19);
        expect(r.status).toBe(0);
    });

    function testFile(ruleFile: string, name: string): string {
        const cfg = stackConfig("local");
        const ns = NS;
        const apiRules = rulesObjects().find((r: any) => r.metadata.name === "api-rollback-triggers").spec.groups[0]
            .rules;
        const backupRules = rulesObjects().find((r: any) => r.metadata.name === "shop-backup").spec.groups[0].rules;
        const cases = [...serviceCases({ namespace: ns, app: "api", hpa: "api" }, cfg.alerts)];
        const service = promtoolTests(ruleFile, apiRules, cases, "15m") as { tests: object[] };
        const backup = promtoolTests(
            ruleFile,
            backupRules,
            backupCases(
                { namespace: ns, cronJob: "shop-backup", restoreDrillCronJob: "shop-restore-drill" },
                cfg.alerts,
                15 * 60,
            ),
            "15m",
        ) as { tests: object[] };
        const file = path.join(dir, name);
        fs.writeFileSync(
            file,
            stringify({
                rule_files: [ruleFile],
                evaluation_interval: "1m",
                tests: [...service.tests, ...backup.tests],
            }),
        );
        return file;
    }

    test("promtool test rules: each rollback trigger fires just above its threshold and not just below", () => {
        const file = testFile("rules.yaml", "tests.yaml");
        const r = spawnSync(promtool, ["test", "rules", file], { encoding: "utf8", cwd: dir });
        expect(r.stdout + r.stderr).toContain("SUCCESS");
        expect(r.status).toBe(0);
        const names = (parse(fs.readFileSync(file, "utf8")).tests as { name: string }[]).map((t) => t.name);
        expect(names).toHaveLength(26);
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

test("a colour flip changes only the selectors and the HPA target; both Deployments keep their pods", () => {
    const before = snapshot();
    const pods = apiPods();
    setConfig("services.api.blueGreen.activeColor", "green");
    const r = up();
    expect(r.code).toBe(0);
    expect(selectorColor("api")).toBe("green");
    expect(selectorColor("api-preview")).toBe("green");
    // Green runs the image its smoke Job passed with at the first release: no new Job.
    expect(changed(before, snapshot())).toEqual(["HorizontalPodAutoscaler/api", "Service/api", "Service/api-preview"]);
    expect(apiPods()).toEqual(pods);
});

test("the flip back (rollback) restores the selectors; both Deployments still keep their pods", () => {
    const pods = apiPods();
    setConfig("services.api.blueGreen.activeColor", "blue");
    const r = up();
    expect(r.code).toBe(0);
    expect(selectorColor("api")).toBe("blue");
    expect(selectorColor("api-preview")).toBe("blue");
    expect(apiPods()).toEqual(pods);
    expect(k.get(["deployment", "api-green", "-n", NS]).status.readyReplicas).toBe(2);
});

test("drift: a selector patched behind Pulumi's back is found by preview --refresh and put back by up --refresh", () => {
    k.run([
        "patch",
        "service",
        "api",
        "-n",
        NS,
        "--type",
        "merge",
        "-p",
        JSON.stringify({ spec: { selector: { "runbook.dev/color": "green" } } }),
    ]);
    expect(selectorColor("api")).toBe("green");
    const preview = ws.pulumi(["preview", "--stack", STACK, "--refresh", "--diff"]);
    expectOk(preview);
    expect(preview.stdout).toMatch(/~ kubernetes:core\/v1:Service: \(update\)\s+\[id=e2e-blue-green\/api\]/);
    expect(preview.stdout).toContain('~ runbook.dev/color: "green" => "blue"');
    expect(preview.stdout).toMatch(/~ 1 to update/);
    expect(selectorColor("api")).toBe("green");
    const r = up("--refresh");
    expect(r.code).toBe(0);
    expect(selectorColor("api")).toBe("blue");
});

test("a failing smoke test of a new release fails the update, leaves traffic on the old colour and deletes nothing; a rerun completes the switch", () => {
    const before = snapshot();
    const stage = failPods("e2e-smoke-fails", NS, { "app.kubernetes.io/component": "smoke-test" });
    try {
        setConfig("services.api.blueGreen.green.image", "ghcr.io/acme/shop-api:1.42.1");
        setConfig("services.api.blueGreen.activeColor", "green");
        const r = up();
        expect(r.code).not.toBe(0);
        expect(selectorColor("api")).toBe("blue");
        // Green's Job for the new image failed; the one that passed for the old image is kept.
        const state = (j: any) =>
            (j.status.conditions ?? []).find(
                (c: any) => c.status === "True" && (c.type === "Complete" || c.type === "Failed"),
            )?.type;
        const green = k.list("jobs", NS, "app.kubernetes.io/component=smoke-test,runbook.dev/color=green");
        expect(green.map(state).sort()).toEqual(["Complete", "Failed"]);
        // Blue's pods were never touched; green rolled to the new image (it is not live).
        expect(k.get(["deployment", "api-blue", "-n", NS]).status.readyReplicas).toBe(2);
        expect(k.get(["deployment", "api-green", "-n", NS]).spec.template.spec.containers[0].image).toBe(
            "ghcr.io/acme/shop-api:1.42.1",
        );
        // Nothing is gone but pods, and green's ReplicaSet of its old image: green's rollout to
        // the new one finished, and the controller keeps no old ReplicaSet (revisionHistoryLimit 0).
        const lost = [...before.keys()].filter(
            (key) =>
                !key.startsWith("Job/api-smoke") &&
                !key.startsWith("Pod/") &&
                !key.startsWith("ReplicaSet/api-green-") &&
                !snapshot().has(key),
        );
        expect(lost).toEqual([]);
    } finally {
        stage.remove();
    }
    const rerun = up();
    expectOk(rerun);
    expect(selectorColor("api")).toBe("green");
});

test("a failing pre-deploy backup stops the release: the colour going live is not rolled and traffic stays; a rerun completes it", () => {
    const blueBefore = k.get(["deployment", "api-blue", "-n", NS]);
    // The pre-deploy Job's pods carry the backup labels (the CronJob's would too, but it is
    // not due during the test).
    const stage = failPods("e2e-backup-fails", NS, { "app.kubernetes.io/component": "backup" });
    try {
        setConfig("release.version", "1.43.0");
        setConfig("services.api.blueGreen.blue.image", "ghcr.io/acme/shop-api:1.43.0");
        setConfig("services.api.blueGreen.activeColor", "blue");
        const r = up();
        expect(r.code).not.toBe(0);
        const backup = k
            .list("jobs", NS, "runbook.dev/backup=pre-deploy")
            .find((j) => j.metadata.annotations["runbook.dev/release-version"] === "1.43.0");
        expect(backup.status.conditions.find((c: any) => c.type === "Failed").status).toBe("True");
        const blueAfter = k.get(["deployment", "api-blue", "-n", NS]);
        expect(blueAfter.spec.template.spec.containers[0].image).toBe("ghcr.io/acme/shop-api:1.41.2");
        expect(blueAfter.status.readyReplicas).toBe(2);
        expect(blueAfter.metadata.generation).toBe(blueBefore.metadata.generation);
        expect(selectorColor("api")).toBe("green");
    } finally {
        stage.remove();
    }
    // The failed backup Job is run afresh, not awaited again as failed.
    expectOk(up());
    expect(selectorColor("api")).toBe("blue");
    expect(k.get(["deployment", "api-blue", "-n", NS]).spec.template.spec.containers[0].image).toBe(
        "ghcr.io/acme/shop-api:1.43.0",
    );
});
