// Turns the Pulumi engine's events (the Automation API's, or an `--event-log` file of JSON
// lines) into what a reviewer of a pull request needs: changes per resource type, changed
// properties, policy results. Pure functions: the CI commands feed them, tests call them directly.

export interface EngineEvent {
    resourcePreEvent?: {
        metadata: {
            op: string;
            urn: string;
            type: string;
            diffs?: string[];
            detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }>;
        };
    };
    policyEvent?: {
        resourceUrn?: string;
        message: string;
        policyName: string;
        policyPackName: string;
        enforcementLevel: string;
    };
    diagnosticEvent?: { urn?: string; message: string; severity: string };
    summaryEvent?: { resourceChanges?: Record<string, number> };
}

export interface Change {
    op: "create" | "update" | "replace" | "delete";
    type: string;
    name: string;
    /** Changed properties (update, replace). */
    properties: string[];
}

export interface PolicyResult {
    level: string;
    policy: string;
    resource?: string;
    message: string;
}

export interface PreviewFacts {
    changes: Change[];
    policies: PolicyResult[];
    errors: string[];
}

export function parseEventLog(text: string): EngineEvent[] {
    return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as EngineEvent);
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** Engine step ops as a reviewer counts them: a replacement's create/delete halves are not separate. */
const OPS: Record<string, Change["op"] | undefined> = {
    create: "create",
    update: "update",
    replace: "replace",
    delete: "delete",
};

export function previewFacts(events: EngineEvent[]): PreviewFacts {
    const changes: Change[] = [];
    const policies: PolicyResult[] = [];
    const errors: string[] = [];
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata;
        if (m) {
            const op = OPS[m.op];
            if (op && !m.type.startsWith("pulumi:pulumi:Stack") && !m.type.startsWith("pulumi:providers:"))
                changes.push({
                    op,
                    type: m.type,
                    name: nameOf(m.urn),
                    properties:
                        Object.keys(m.detailedDiff ?? {}).length > 0
                            ? Object.keys(m.detailedDiff ?? {}).sort()
                            : (m.diffs ?? []),
                });
        }
        const p = e.policyEvent;
        if (p) {
            // Engines of this generation send "<policy description>\n<violation message>".
            const lines = p.message.trim().split("\n");
            const message = lines.length > 1 ? lines.slice(1).join("\n").trim() : lines[0];
            const onStack = p.resourceUrn === undefined || p.resourceUrn.includes("::pulumi:pulumi:Stack::");
            policies.push({
                level: p.enforcementLevel,
                policy: p.policyName,
                resource: onStack ? undefined : nameOf(p.resourceUrn as string),
                message,
            });
        }
        const d = e.diagnosticEvent;
        if (d && d.severity === "error") errors.push(d.message.trim());
    }
    return { changes, policies, errors };
}

export interface StrategyState {
    activeColors: Record<string, string>;
    canaryWeights: Record<string, number>;
}

export interface SummaryInput {
    stack: string;
    environment: string;
    facts?: PreviewFacts;
    before?: StrategyState;
    after?: StrategyState;
    /** `window` verdict line, and whether a deploy would be allowed now. */
    window?: { allowed: boolean; summary: string; next?: string };
    configProblems?: string[];
    blocking: string[];
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, "<br>");

/** The Markdown summary CI posts on the pull request. */
export function markdownSummary(s: SummaryInput): string {
    const out: string[] = [`## \`${s.stack}\` (${s.environment})`, ""];
    out.push(
        s.blocking.length === 0
            ? "**Merge:** nothing here blocks it."
            : `**Merge:** blocked — ${s.blocking.map(cell).join("; ")}`,
        "",
    );
    if (s.configProblems && s.configProblems.length > 0) {
        out.push("### Invalid stack configuration", "", ...s.configProblems.map((p) => `- \`${p}\``), "");
        return out.join("\n");
    }
    if (s.window)
        out.push(
            `**Deploy now:** ${s.window.allowed ? "allowed" : "would be blocked"} — ${cell(s.window.summary)}`,
            ...(s.window.next ? ["", `**Next window:** ${s.window.next}`] : []),
            "",
        );

    const f = s.facts;
    if (f) {
        out.push("### Changes", "");
        if (f.changes.length === 0) out.push("No resource changes.", "");
        else {
            const byType = new Map<string, Record<Change["op"], number>>();
            for (const c of f.changes) {
                const row = byType.get(c.type) ?? { create: 0, update: 0, replace: 0, delete: 0 };
                row[c.op]++;
                byType.set(c.type, row);
            }
            out.push("| type | create | update | replace | delete |", "|---|---:|---:|---:|---:|");
            for (const [type, r] of [...byType].sort())
                out.push(`| \`${type}\` | ${r.create} | ${r.update} | ${r.replace} | ${r.delete} |`);
            out.push("");
            const detailed = f.changes.filter((c) => c.op === "update" || c.op === "replace");
            if (detailed.length > 0) {
                out.push("Changed properties:", "");
                for (const c of detailed)
                    out.push(
                        `- ${c.op} \`${c.type}\` \`${c.name}\`: ` +
                            `${c.properties.length > 0 ? c.properties.map((p) => `\`${p}\``).join(", ") : "(no property detail)"}`,
                    );
                out.push("");
            }
        }
    }

    const services = new Set([
        ...Object.keys(s.before?.activeColors ?? {}),
        ...Object.keys(s.after?.activeColors ?? {}),
        ...Object.keys(s.before?.canaryWeights ?? {}),
        ...Object.keys(s.after?.canaryWeights ?? {}),
    ]);
    if (services.size > 0) {
        out.push("### Blue/green and canary", "", "| service | before | after |", "|---|---|---|");
        const show = (st: StrategyState | undefined, svc: string) =>
            st === undefined
                ? "not deployed"
                : st.activeColors[svc] !== undefined
                  ? `active ${st.activeColors[svc]}`
                  : st.canaryWeights[svc] !== undefined
                    ? `canary ${st.canaryWeights[svc]} %`
                    : "—";
        for (const svc of [...services].sort()) out.push(`| ${svc} | ${show(s.before, svc)} | ${show(s.after, svc)} |`);
        out.push("");
    }

    if (f) {
        out.push("### Policy pack", "");
        if (f.policies.length === 0) out.push("No violations and no advisories.", "");
        else {
            out.push("| level | policy | resource | message |", "|---|---|---|---|");
            for (const p of f.policies)
                out.push(
                    `| ${p.level} | \`${p.policy}\` | ${p.resource ? `\`${p.resource}\`` : "stack"} | ${cell(p.message)} |`,
                );
            out.push("");
        }
        if (f.errors.length > 0) out.push("### Errors", "", ...f.errors.map((e) => `- ${cell(e)}`), "");
    }
    return out.join("\n");
}
