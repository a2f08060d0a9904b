import { markdownSummary, parseEventLog, previewFacts } from "../../lib/preview-summary";

const urn = (type: string, name: string) => `urn:pulumi:s::runbook::runbook:stack:RunbookStack$${type}::${name}`;
const log = [
    { sequence: 0, preludeEvent: { config: {} } },
    {
        resourcePreEvent: {
            metadata: {
                op: "same",
                urn: urn("kubernetes:apps/v1:Deployment", "a"),
                type: "kubernetes:apps/v1:Deployment",
            },
        },
    },
    {
        resourcePreEvent: {
            metadata: {
                op: "update",
                urn: urn("kubernetes:core/v1:Service", "svc"),
                type: "kubernetes:core/v1:Service",
                diffs: ["spec"],
                detailedDiff: { 'spec.selector["runbook.dev/color"]': { kind: "update" } },
            },
        },
    },
    {
        resourcePreEvent: {
            metadata: {
                op: "create-replacement",
                urn: urn("kubernetes:batch/v1:Job", "job"),
                type: "kubernetes:batch/v1:Job",
            },
        },
    },
    {
        resourcePreEvent: {
            metadata: {
                op: "replace",
                urn: urn("kubernetes:batch/v1:Job", "job"),
                type: "kubernetes:batch/v1:Job",
                diffs: ["metadata"],
            },
        },
    },
    {
        resourcePreEvent: {
            metadata: {
                op: "create",
                urn: urn("kubernetes:core/v1:Service", "new"),
                type: "kubernetes:core/v1:Service",
            },
        },
    },
    {
        resourcePreEvent: {
            metadata: {
                op: "delete",
                urn: urn("kubernetes:core/v1:ConfigMap", "old"),
                type: "kubernetes:core/v1:ConfigMap",
            },
        },
    },
    {
        policyEvent: {
            resourceUrn: urn("kubernetes:apps/v1:Deployment", "a"),
            message: "Every container has probes.\nno probes | fix\n",
            policyName: "require-probes",
            policyPackName: "p",
            enforcementLevel: "mandatory",
        },
    },
    {
        policyEvent: {
            resourceUrn: "urn:pulumi:s::runbook::pulumi:pulumi:Stack::runbook-s",
            message: "gate",
            policyName: "enforce-deploy-gate",
            policyPackName: "p",
            enforcementLevel: "advisory",
        },
    },
    { diagnosticEvent: { message: "boom\n", severity: "error" } },
    { diagnosticEvent: { message: "note", severity: "info" } },
]
    .map((e) => JSON.stringify(e))
    .join("\n");

describe("preview facts from the engine's event log", () => {
    const facts = previewFacts(parseEventLog(log));

    test("changes: sames skipped, a replacement counted once", () => {
        expect(facts.changes).toEqual([
            {
                op: "update",
                type: "kubernetes:core/v1:Service",
                name: "svc",
                properties: ['spec.selector["runbook.dev/color"]'],
            },
            { op: "replace", type: "kubernetes:batch/v1:Job", name: "job", properties: ["metadata"] },
            { op: "create", type: "kubernetes:core/v1:Service", name: "new", properties: [] },
            { op: "delete", type: "kubernetes:core/v1:ConfigMap", name: "old", properties: [] },
        ]);
    });

    test("policy results and errors", () => {
        expect(facts.policies).toEqual([
            { level: "mandatory", policy: "require-probes", resource: "a", message: "no probes | fix" },
            { level: "advisory", policy: "enforce-deploy-gate", resource: undefined, message: "gate" },
        ]);
        expect(facts.errors).toEqual(["boom"]);
    });

    test("the Markdown summary", () => {
        const md = markdownSummary({
            stack: "production",
            environment: "production",
            facts,
            before: { activeColors: { api: "blue" }, canaryWeights: {} },
            after: { activeColors: { api: "green" }, canaryWeights: {} },
            window: { allowed: false, summary: "production deploy blocked", next: "Mon 2026-12-28 10:00 UTC" },
            blocking: ["1 mandatory policy violation"],
        });
        expect(md).toBe(
            [
                "## `production` (production)",
                "",
                "**Merge:** blocked — 1 mandatory policy violation",
                "",
                "**Deploy now:** would be blocked — production deploy blocked",
                "",
                "**Next window:** Mon 2026-12-28 10:00 UTC",
                "",
                "### Changes",
                "",
                "| type | create | update | replace | delete |",
                "|---|---:|---:|---:|---:|",
                "| `kubernetes:batch/v1:Job` | 0 | 0 | 1 | 0 |",
                "| `kubernetes:core/v1:ConfigMap` | 0 | 0 | 0 | 1 |",
                "| `kubernetes:core/v1:Service` | 1 | 1 | 0 | 0 |",
                "",
                "Changed properties:",
                "",
                '- update `kubernetes:core/v1:Service` `svc`: `spec.selector["runbook.dev/color"]`',
                "- replace `kubernetes:batch/v1:Job` `job`: `metadata`",
                "",
                "### Blue/green and canary",
                "",
                "| service | before | after |",
                "|---|---|---|",
                "| api | active blue | active green |",
                "",
                "### Policy pack",
                "",
                "| level | policy | resource | message |",
                "|---|---|---|---|",
                "| mandatory | `require-probes` | `a` | no probes \\| fix |",
                "| advisory | `enforce-deploy-gate` | stack | gate |",
                "",
                "### Errors",
                "",
                "- boom",
                "",
            ].join("\n"),
        );
    });
});
