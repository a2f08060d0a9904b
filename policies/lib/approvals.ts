// Approval rules [003]: production needs a Governance Sentinel and a Service Owner, two
// different people, neither of them the operator; a hotfix needs two Governance Board
// members and a postmortem reference.
import type { Approval, ReleaseRecord } from "./release-record";

export interface RoleRequirement {
    role: string;
    count: number;
}

export interface ApprovalRules {
    required: RoleRequirement[];
    hotfix: { role: string; count: number; requirePostmortem: boolean };
}

export const DEFAULT_APPROVAL_RULES: Readonly<Record<"staging" | "production", ApprovalRules>> = {
    staging: { required: [], hotfix: { role: "governance-board", count: 2, requirePostmortem: true } },
    production: {
        required: [
            { role: "governance-sentinel", count: 1 },
            { role: "service-owner", count: 1 },
        ],
        hotfix: { role: "governance-board", count: 2, requirePostmortem: true },
    },
};

/** Approvals that count: one per person (the first role they gave), never the operator's. */
function countable(release: ReleaseRecord, problems: string[]): Approval[] {
    const seen = new Map<string, Approval>();
    const operator = release.operator?.trim().toLowerCase();
    for (const a of release.approvals) {
        const who = a.name.trim().toLowerCase();
        if (operator !== undefined && who === operator) {
            problems.push(`${a.name} cannot approve their own deploy (they are the operator)`);
            continue;
        }
        const earlier = seen.get(who);
        if (earlier) {
            problems.push(
                `${a.name} approved more than once (as ${earlier.role} and ${a.role}); each approval must come from a different person`,
            );
            continue;
        }
        seen.set(who, a);
    }
    return [...seen.values()];
}

function missing(approvals: Approval[], req: RoleRequirement): string | undefined {
    const have = approvals.filter((a) => a.role === req.role).length;
    return have < req.count
        ? `needs ${req.count} ${req.role} approval${req.count === 1 ? "" : "s"} from different people, has ${have}`
        : undefined;
}

/** Problems with the normal approvals of a release; empty when they satisfy the rules. */
export function approvalProblems(release: ReleaseRecord, rules: ApprovalRules): string[] {
    if (rules.required.length === 0) return [];
    const problems: string[] = [];
    if (release.operator === undefined || release.operator.trim() === "")
        problems.push(
            "the release names no operator (release.operator or RUNBOOK_RELEASE_OPERATOR), so self-approval cannot be ruled out",
        );
    const approvals = countable(release, problems);
    for (const req of rules.required) {
        const m = missing(approvals, req);
        if (m) problems.push(m);
    }
    return problems;
}

/** Problems with a release taking the hotfix path; empty when it may go through. */
export function hotfixProblems(release: ReleaseRecord, rules: ApprovalRules): string[] {
    const problems: string[] = [];
    if (!release.hotfix) return ["the release is not marked as a hotfix (release.hotfix)"];
    if (release.operator === undefined || release.operator.trim() === "")
        problems.push(
            "the release names no operator (release.operator or RUNBOOK_RELEASE_OPERATOR), so self-approval cannot be ruled out",
        );
    const approvals = countable(release, problems);
    const m = missing(approvals, { role: rules.hotfix.role, count: rules.hotfix.count });
    if (m) problems.push(`hotfix ${m}`);
    if (rules.hotfix.requirePostmortem && !release.hotfix.postmortem?.trim())
        problems.push("hotfix needs a postmortem reference (release.hotfix.postmortem or RUNBOOK_HOTFIX_POSTMORTEM)");
    return problems;
}
