import { DateTime } from "luxon";
import { approvalProblems, DEFAULT_APPROVAL_RULES, hotfixProblems } from "../../policies/lib/approvals";
import { decide } from "../../policies/lib/deploy-gate";
import { releaseAnnotations, releaseFromAnnotations, type ReleaseRecord } from "../../policies/lib/release-record";
import { enforceDeployGate, reportHotfixDeploys } from "../../policies/enforce-deploy-gate";
import {
    gatePolicy,
    guardrailEnforcement,
    parseGateConfig,
    PolicyConfigError,
    resolveMode,
    resolveNow,
    stackEnvironment,
} from "../../policies/settings";
import { policyResource, runResourcePolicy, runStackPolicy } from "./util";

const rules = DEFAULT_APPROVAL_RULES.production;
const approved: ReleaseRecord = {
    version: "1.42.0",
    operator: "dana",
    strategy: "blueGreen",
    approvals: [
        { name: "lee", role: "governance-sentinel" },
        { name: "sam", role: "service-owner" },
    ],
};
const hotfix: ReleaseRecord = {
    ...approved,
    approvals: [
        { name: "kim", role: "governance-board" },
        { name: "ola", role: "governance-board" },
    ],
    hotfix: { postmortem: "PM-2026-117" },
};
const utc = (s: string) => DateTime.fromISO(s, { zone: "UTC" });
const prodPolicy = gatePolicy(parseGateConfig({}), "production");

describe("approval rules", () => {
    test("Governance Sentinel + Service Owner, two people, not the operator: passes", () => {
        expect(approvalProblems(approved, rules)).toEqual([]);
    });

    test("self-approval does not count", () => {
        expect(approvalProblems({ ...approved, operator: "Lee" }, rules)).toEqual([
            "lee cannot approve their own deploy (they are the operator)",
            "needs 1 governance-sentinel approval from different people, has 0",
        ]);
    });

    test("one person cannot fill both roles", () => {
        const r = {
            ...approved,
            approvals: [
                { name: "lee", role: "governance-sentinel" },
                { name: "lee", role: "service-owner" },
            ],
        };
        expect(approvalProblems(r, rules)).toEqual([
            "lee approved more than once (as governance-sentinel and service-owner); each approval must come from a different person",
            "needs 1 service-owner approval from different people, has 0",
        ]);
    });

    test("a missing role", () => {
        expect(approvalProblems({ ...approved, approvals: [approved.approvals[0]] }, rules)).toEqual([
            "needs 1 service-owner approval from different people, has 0",
        ]);
    });

    test("N-of-M from config: two reviewers", () => {
        const two = { ...rules, required: [{ role: "reviewer", count: 2 }] };
        expect(approvalProblems({ ...approved, approvals: [{ name: "a", role: "reviewer" }] }, two)).toEqual([
            "needs 2 reviewer approvals from different people, has 1",
        ]);
    });

    test("no operator: self-approval cannot be ruled out", () => {
        expect(approvalProblems({ ...approved, operator: undefined }, rules)).toEqual([
            "the release names no operator (release.operator or RUNBOOK_RELEASE_OPERATOR), so self-approval cannot be ruled out",
        ]);
    });

    test("hotfix: two board members and a postmortem", () => {
        expect(hotfixProblems(hotfix, rules)).toEqual([]);
        expect(hotfixProblems({ ...hotfix, approvals: [hotfix.approvals[0]] }, rules)).toEqual([
            "hotfix needs 2 governance-board approvals from different people, has 1",
        ]);
        expect(hotfixProblems({ ...hotfix, hotfix: {} }, rules)).toEqual([
            "hotfix needs a postmortem reference (release.hotfix.postmortem or RUNBOOK_HOTFIX_POSTMORTEM)",
        ]);
        expect(hotfixProblems({ ...hotfix, operator: "kim" }, rules)).toEqual([
            "kim cannot approve their own deploy (they are the operator)",
            "hotfix needs 2 governance-board approvals from different people, has 1",
        ]);
    });
});

describe("decide", () => {
    test("in the window with approvals: allowed", () => {
        const r = decide({
            environment: "production",
            at: utc("2026-11-26T15:55:00Z"),
            policy: prodPolicy,
            release: approved,
        });
        expect(r.allowed).toBe(true);
        expect(r.summary).toBe(
            "production deploy allowed at Thu 2026-11-26 15:55 UTC: inside allow window 'business-hours' (Mon–Thu 10:00–16:00) Thu 2026-11-26 10:00–Thu 2026-11-26 16:00 UTC",
        );
    });

    test("in a freeze: blocked with the freeze and the next window", () => {
        const r = decide({
            environment: "production",
            at: utc("2026-12-24T11:00:00Z"),
            policy: prodPolicy,
            release: approved,
        });
        expect(r.allowed).toBe(false);
        expect(r.summary).toBe(
            "production deploy blocked at Thu 2026-12-24 11:00 UTC: deploys are closed: inside deny window 'christmas' (Dec 24–26 freeze) Thu 2026-12-24 00:00–Sun 2026-12-27 00:00 UTC; next window opens Mon 2026-12-28 10:00 UTC (until Mon 2026-12-28 16:00 UTC)",
        );
    });

    test("a hotfix with two board approvals and a postmortem goes through a freeze, and says so", () => {
        const r = decide({
            environment: "production",
            at: utc("2026-12-24T11:00:00Z"),
            policy: prodPolicy,
            release: hotfix,
        });
        expect(r).toMatchObject({ allowed: true, viaHotfix: true });
        expect(r.summary).toBe(
            "production deploy allowed at Thu 2026-12-24 11:00 UTC as a hotfix (postmortem PM-2026-117; approved by kim (governance-board), ola (governance-board)) although inside deny window 'christmas' (Dec 24–26 freeze) Thu 2026-12-24 00:00–Sun 2026-12-27 00:00 UTC",
        );
    });

    test("a hotfix's reason is stamped on the workloads, read back by the pack, and named in its report", () => {
        const withReason = { ...hotfix, hotfix: { ...hotfix.hotfix, reason: "payment outage" } };
        const a = releaseAnnotations(withReason);
        expect(a["runbook.dev/hotfix-reason"]).toBe("payment outage");
        const back = releaseFromAnnotations(a);
        expect(back?.hotfix).toEqual({ postmortem: "PM-2026-117", reason: "payment outage" });
        const r = decide({
            environment: "production",
            at: utc("2026-12-24T11:00:00Z"),
            policy: prodPolicy,
            release: back,
        });
        expect(r.summary).toContain("as a hotfix (because payment outage; postmortem PM-2026-117;");
    });

    test("a hotfix with one board member is blocked, naming what is missing", () => {
        const r = decide({
            environment: "production",
            at: utc("2026-11-27T09:00:00Z"),
            policy: prodPolicy,
            release: { ...hotfix, approvals: [hotfix.approvals[0]] },
        });
        expect(r.allowed).toBe(false);
        expect(r.problems).toEqual([
            "deploys are closed: inside deny window 'black-friday' (Black Friday through Cyber Monday) Fri 2026-11-27 00:00–Tue 2026-12-01 00:00 UTC",
            "needs 1 governance-sentinel approval from different people, has 0",
            "needs 1 service-owner approval from different people, has 0",
            "hotfix needs 2 governance-board approvals from different people, has 1",
        ]);
    });

    test("in the window without approvals: blocked, and no next window is given", () => {
        const r = decide({
            environment: "production",
            at: utc("2026-11-23T12:00:00Z"),
            policy: prodPolicy,
            release: { ...approved, approvals: [] },
        });
        expect(r.summary).toBe(
            "production deploy blocked at Mon 2026-11-23 12:00 UTC: needs 1 governance-sentinel approval from different people, has 0; needs 1 service-owner approval from different people, has 0",
        );
    });

    test("staging: any time, no approvals", () => {
        const r = decide({
            environment: "staging",
            at: utc("2026-12-25T03:00:00Z"),
            policy: gatePolicy(parseGateConfig({}), "staging"),
            release: { ...approved, approvals: [], operator: undefined },
        });
        expect(r.allowed).toBe(true);
    });

    test("ad-hoc freezes and zones come from policy config", () => {
        const cfg = parseGateConfig({
            environments: {
                production: {
                    timeZone: "Europe/Berlin",
                    deny: [{ name: "launch", start: "2026-11-24", end: "2026-11-25", reason: "product launch" }],
                },
            },
        });
        const p = gatePolicy(cfg, "production");
        const r = decide({ environment: "production", at: utc("2026-11-24T10:00:00Z"), policy: p, release: approved });
        expect(r.summary).toBe(
            "production deploy blocked at Tue 2026-11-24 11:00 Europe/Berlin: deploys are closed: inside deny window 'launch' (product launch) Tue 2026-11-24 00:00–Wed 2026-11-25 00:00 Europe/Berlin; next window opens Wed 2026-11-25 10:00 Europe/Berlin (until Wed 2026-11-25 16:00 Europe/Berlin)",
        );
    });
});

describe("policy settings", () => {
    test("a bad policy config names every problem", () => {
        expect(() =>
            parseGateConfig({
                environments: {
                    production: {
                        deny: [{ name: "x", start: "tomorrow", end: "2027-01-01" }],
                        timeZone: "Nowhere/City",
                    },
                },
                now: "noon",
            }),
        ).toThrow(
            new PolicyConfigError([
                'enforce-deploy-gate.environments.production.timeZone: expected an IANA time zone such as Europe/Berlin, got "Nowhere/City"',
                'enforce-deploy-gate.environments.production.deny[0].start: expected an ISO 8601 date or date-time, got "tomorrow"',
                'enforce-deploy-gate.now: expected an ISO 8601 instant with offset, got "noon"',
            ]),
        );
        expect(() => parseGateConfig({ enviroments: {} })).toThrow(
            /enforce-deploy-gate: Unrecognized key: "enviroments"/,
        );
    });

    test("the clock: RUNBOOK_NOW (where the caller allows it), else config, else now", () => {
        const cfg = parseGateConfig({ now: "2026-12-24T12:00:00+01:00" });
        expect(resolveNow(cfg, {}).toUTC().toISO()).toBe("2026-12-24T11:00:00.000Z");
        expect(resolveNow(cfg, { RUNBOOK_NOW: "2026-11-26T15:55:00Z" }).toUTC().toISO()).toBe(
            "2026-11-26T15:55:00.000Z",
        );
        expect(resolveNow(cfg, { RUNBOOK_NOW: "2026-11-26T15:55:00Z" }, false).toUTC().toISO()).toBe(
            "2026-12-24T11:00:00.000Z",
        );
        expect(Math.abs(resolveNow(parseGateConfig({}), {}).toMillis() - Date.now())).toBeLessThan(60000);
        expect(() => resolveNow(cfg, { RUNBOOK_NOW: "2026-11-26 15:55" })).toThrow(
            'RUNBOOK_NOW: expected an ISO 8601 instant with offset, got "2026-11-26 15:55"',
        );
    });

    test("mode, environment and enforcement", () => {
        expect(resolveMode({})).toBe("deploy");
        expect(resolveMode({ RUNBOOK_DEPLOY_MODE: "pull-request", PULUMI_DRY_RUN: "true" })).toBe("pull-request");
        // An update is a deploy whatever the shell says; so is a run whose engine does not say.
        expect(resolveMode({ RUNBOOK_DEPLOY_MODE: "pull-request", PULUMI_DRY_RUN: "false" })).toBe("deploy");
        expect(resolveMode({ RUNBOOK_DEPLOY_MODE: "pull-request" })).toBe("deploy");
        expect(() => resolveMode({ RUNBOOK_DEPLOY_MODE: "pr" })).toThrow(
            'RUNBOOK_DEPLOY_MODE: expected one of deploy, pull-request, got "pr"',
        );
        expect(stackEnvironment({ PULUMI_CONFIG: JSON.stringify({ "runbook:environment": "production" }) })).toBe(
            "production",
        );
        expect(stackEnvironment({})).toBeUndefined();
        expect([
            guardrailEnforcement("production"),
            guardrailEnforcement("staging"),
            guardrailEnforcement(undefined),
        ]).toEqual(["mandatory", "advisory", "mandatory"]);
    });
});

/** A policy config in which production counts typed approvals, as it did before signatures. */
const UNSIGNED = { environments: { production: { approvals: { signed: false } } } };

describe("the enforce-deploy-gate policy", () => {
    const cluster = { type: "pulumi:providers:kubernetes", props: { kubeconfig: ".cluster/kubeconfig" } };
    const STACK_TYPE = "runbook:stack:RunbookStack";
    const labels = (environment: string) => ({ "runbook.dev/environment": environment });
    /** A Deployment carrying the release record, on the cluster, under the stack component. */
    const workload = (release: ReleaseRecord, environment = "production") => ({
        type: "kubernetes:apps/v1:Deployment",
        name: "api-green",
        urn: `urn:pulumi:test::runbook::${STACK_TYPE}$runbook:app:AppService$kubernetes:apps/v1:Deployment::api-green`,
        props: {
            metadata: { name: "api-green", labels: labels(environment), annotations: releaseAnnotations(release) },
        },
        provider: cluster,
    });
    /** A Service without a release record of its own, under component `parent` (a qualified type). */
    const service = (parent = STACK_TYPE, environment = "production") => ({
        type: "kubernetes:core/v1:Service",
        name: "api",
        urn: `urn:pulumi:test::runbook::${parent}$kubernetes:core/v1:Service::api`,
        props: { metadata: { name: "api", labels: labels(environment) } },
        provider: cluster,
    });
    /** The stack component declaring `release` for everything under it (what RunbookStack registers). */
    const declaration = (release: ReleaseRecord, type = STACK_TYPE) => ({
        type,
        name: "production",
        urn: `urn:pulumi:test::runbook::${type}::production`,
        props: { runbookRelease: releaseAnnotations(release) },
    });
    const FREEZE = "2026-12-24T11:00:00Z";
    /** The gate's clock inside the freeze, set where an update takes it: in the policy config. */
    const F = { ...UNSIGNED, now: FREEZE };
    const WINDOW = "2026-11-26T15:55:00Z";
    const messages = async (...a: Parameters<typeof runResourcePolicy>) =>
        (await runResourcePolicy(...a)).map((v) => v.message);

    test("deploy mode is mandatory and blocks a step inside a freeze", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        expect(policy.enforcementLevel).toBe("mandatory");
        expect(await messages(policy, workload(approved), { now: FREEZE })).toEqual([
            expect.stringMatching(
                /^production deploy blocked at Thu 2026-12-24 11:00 UTC: deploys are closed: inside deny window 'christmas'/,
            ),
        ]);
    });

    test("pull-request mode is advisory and says when the next window opens", async () => {
        const policy = enforceDeployGate({ mode: "pull-request", env: {} });
        expect(policy.enforcementLevel).toBe("advisory");
        expect(await messages(policy, workload(approved), { now: FREEZE })).toEqual([
            expect.stringMatching(
                /^\[pull-request preview\] would be blocked if deployed now: .*; next window opens Mon 2026-12-28 10:00 UTC \(until Mon 2026-12-28 16:00 UTC\)$/,
            ),
        ]);
    });

    test("in the window with approvals there is nothing to report (where typed approvals count)", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        expect(await runResourcePolicy(policy, workload(approved), { ...UNSIGNED, now: WINDOW })).toEqual([]);
    });

    test("production counts only signed approvals by default: typed ones are named as not counting", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: { PULUMI_STACK: "production" } });
        expect(await messages(policy, workload(approved), { now: WINDOW })).toEqual([
            "production deploy blocked at Thu 2026-11-26 15:55 UTC: needs 1 governance-sentinel approval from different people, has 0; needs 1 service-owner approval from different people, has 0; unsigned approvals do not count here (lee (governance-sentinel), sam (service-owner)): approvals must be signed (npm run approve)",
        ]);
    });

    test("the clock and windows come from the policy config", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        const config = {
            now: "2026-11-23T12:00:00Z",
            environments: {
                production: {
                    deny: [
                        {
                            name: "demo",
                            start: "2026-11-23T11:00:00Z",
                            end: "2026-11-23T13:00:00Z",
                            reason: "executive demo",
                        },
                    ],
                },
            },
        };
        expect(await messages(policy, workload(approved), config)).toEqual([
            expect.stringContaining("inside deny window 'demo' (executive demo)"),
        ]);
    });

    test("a step without a record of its own is judged by the release its component declared", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        // Before any declaration: no record, so no hotfix and no rollback can let it through.
        expect(await messages(policy, service(), F)).toEqual([expect.stringContaining("'christmas'")]);
        // The component is not judged (it reaches nothing); it declares the hotfix.
        expect(await runResourcePolicy(policy, declaration(hotfix), F)).toEqual([]);
        expect(await runResourcePolicy(policy, service(), F)).toEqual([]);
        // What a resource under it carries itself (the backup Job's version alone) does not replace it.
        const job = {
            ...service(),
            type: "kubernetes:batch/v1:Job",
            props: {
                metadata: {
                    labels: labels("production"),
                    annotations: { "runbook.dev/release-version": "1.42.0" },
                },
            },
        };
        expect(await runResourcePolicy(policy, job, F)).toEqual([]);
        // A resource outside that component does not get its declaration.
        expect(await messages(policy, service("other:index:Thing"), F)).toEqual([
            expect.stringContaining("'christmas'"),
        ]);
    });

    test("a rollback declared by the component lets every step of it through a freeze", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        const rollback = { ...approved, approvals: [], rollback: { reason: "5xx", by: "kim", at: FREEZE } };
        await runResourcePolicy(policy, declaration(rollback), F);
        expect(await runResourcePolicy(policy, service(), F)).toEqual([]);
    });

    test("under two declarations a step must pass both", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        await runResourcePolicy(policy, declaration(hotfix), F);
        const inner = `${STACK_TYPE}$runbook:app:AppService`;
        await runResourcePolicy(policy, declaration(approved, inner), F);
        expect(await messages(policy, service(inner), F)).toEqual([expect.stringContaining("'christmas'")]);
    });

    test("the stack, components and providers are never judged, even in a freeze", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        const labelled = { metadata: { labels: labels("production") } };
        expect(await runResourcePolicy(policy, { type: "pulumi:pulumi:Stack", props: labelled }, F)).toEqual([]);
        expect(await runResourcePolicy(policy, { type: STACK_TYPE, props: labelled }, F)).toEqual([]);
        expect(await runResourcePolicy(policy, { ...cluster, props: { ...cluster.props, ...labelled } }, F)).toEqual(
            [],
        );
        const ref = { type: "pulumi:providers:pulumi", props: {} };
        expect(
            await runResourcePolicy(
                policy,
                { type: "pulumi:pulumi:StackReference", props: labelled, provider: ref },
                F,
            ),
        ).toEqual([]);
    });

    test("an unlabelled step takes the environment of the labelled ones before it", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        const bare = { ...service(), props: { metadata: { name: "api" } } };
        expect(await runResourcePolicy(policy, bare, F)).toEqual([]);
        await runResourcePolicy(policy, workload(approved), F);
        expect(await messages(policy, bare, F)).toEqual([expect.stringContaining("'christmas'")]);
    });

    test("a preview names each verdict once; an update refuses every step", async () => {
        const preview = enforceDeployGate({ mode: "deploy", env: { RUNBOOK_NOW: FREEZE, PULUMI_DRY_RUN: "true" } });
        expect(await messages(preview, service(), UNSIGNED)).toHaveLength(1);
        expect(await messages(preview, service(), UNSIGNED)).toEqual([]);
        const update = enforceDeployGate({ mode: "deploy", env: { PULUMI_DRY_RUN: "false" } });
        const freeze = { ...UNSIGNED, now: FREEZE };
        expect(await messages(update, service(), freeze)).toHaveLength(1);
        expect(await messages(update, service(), freeze)).toHaveLength(1);
    });

    test("a preview on the real clock judges the plan at one instant: seconds later, still one message", async () => {
        jest.useFakeTimers({ now: new Date("2026-12-24T11:00:00.900Z") });
        try {
            const preview = enforceDeployGate({ mode: "deploy", env: { PULUMI_DRY_RUN: "true" } });
            expect(await messages(preview, service(), UNSIGNED)).toEqual([
                expect.stringMatching(/^production deploy blocked at Thu 2026-12-24 11:00 UTC: /),
            ]);
            jest.setSystemTime(new Date("2026-12-24T11:01:30Z"));
            expect(await messages(preview, service(), UNSIGNED)).toEqual([]);
        } finally {
            jest.useRealTimers();
        }
    });

    test("a hotfix inside a freeze passes the gate, and report-hotfix-deploys records it on its own", async () => {
        const gate = enforceDeployGate({ mode: "deploy", env: {} });
        expect(await runResourcePolicy(gate, workload(hotfix), F)).toEqual([]);
        // The report reads the release record alone: it needs neither the gate's config nor its run.
        const withReason = { ...hotfix, hotfix: { postmortem: "PM-2026-117", reason: "checkout down" } };
        const w = workload(withReason);
        expect(
            (await runStackPolicy(reportHotfixDeploys, [policyResource(w.type, w.name, w.props)])).map(
                (x) => x.message,
            ),
        ).toEqual([
            "hotfix release 1.42.0: postmortem PM-2026-117, because checkout down; approvals: kim (governance-board), ola (governance-board). Review it after the fact; it crosses a closed window or a freeze only with the hotfix approvals the gate requires.",
        ]);
    });

    test("report-hotfix-deploys names signed approvals by count and a rollback by who and why", async () => {
        const asStack = (r: ReleaseRecord) => {
            const d = declaration(r);
            return [policyResource(d.type, d.name, d.props)];
        };
        const signed = {
            ...hotfix,
            approvals: [],
            signedApprovals: [
                { statement: "s1", signature: "g1" },
                { statement: "s2", signature: "g2" },
            ],
        };
        expect((await runStackPolicy(reportHotfixDeploys, asStack(signed))).map((x) => x.message)).toEqual([
            expect.stringContaining(
                "approvals: 2 signatures attached (enforce-deploy-gate counts those that verify for this release).",
            ),
        ]);
        const rollback = {
            ...approved,
            rollback: { reason: "errors after 1.42", by: "oncall-kim", at: "2026-12-24T11:00:00Z" },
        };
        expect((await runStackPolicy(reportHotfixDeploys, asStack(rollback))).map((x) => x.message)).toEqual([
            "rollback to what was live before, by oncall-kim at 2026-12-24T11:00:00Z: errors after 1.42 (release 1.42.0)",
        ]);
    });

    test("a normal deploy is not reported as a hotfix", async () => {
        const w = workload(approved);
        expect(await runStackPolicy(reportHotfixDeploys, [policyResource(w.type, w.name, w.props)])).toEqual([]);
    });

    test("in an update that reaches a cluster the shell's clock does not count; the config's does", async () => {
        const env = { RUNBOOK_NOW: WINDOW, PULUMI_DRY_RUN: "false" };
        const freeze = { ...UNSIGNED, now: FREEZE };
        expect(await messages(enforceDeployGate({ mode: "deploy", env }), workload(approved), freeze)).toEqual([
            expect.stringContaining("inside deny window 'christmas'"),
        ]);
        // The same run as a preview, or on a stack that only renders YAML, keeps the shell's clock.
        const preview = enforceDeployGate({ mode: "deploy", env: { ...env, PULUMI_DRY_RUN: "true" } });
        expect(await runResourcePolicy(preview, workload(approved), freeze)).toEqual([]);
        const rendering = { ...workload(approved), provider: { ...cluster, props: { renderYamlToDirectory: "r/x" } } };
        expect(await runResourcePolicy(enforceDeployGate({ mode: "deploy", env }), rendering, freeze)).toEqual([]);
        // Rendering is judged too: by the shell's clock, here inside the freeze.
        const inFreeze = enforceDeployGate({ mode: "deploy", env: { ...env, RUNBOOK_NOW: FREEZE } });
        expect(await messages(inFreeze, rendering, UNSIGNED)).toEqual([expect.stringContaining("'christmas'")]);
    });

    test("staging resources pass at any time", async () => {
        const policy = enforceDeployGate({ mode: "deploy", env: {} });
        expect(await runResourcePolicy(policy, workload({ ...approved, approvals: [] }, "staging"), F)).toEqual([]);
    });
});
