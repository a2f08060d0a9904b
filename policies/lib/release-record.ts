// The release record: who deploys what, approved by whom, as annotations on the workloads
// a program registers. This is the pack's contract with any program it judges: the
// runbook components write it (lib/release.ts builds it from a stack file), and the deploy
// gate reads it back from the resources, so a reviewer of the rendered manifests sees it too.
import type { SignedApproval } from "./signed-approvals";
import { RELEASE_ANNOTATIONS } from "./well-known";

export { RELEASE_ANNOTATIONS };

export interface Approval {
    name: string;
    role: string;
}

export interface ReleaseRecord {
    version: string;
    commit?: string;
    operator?: string;
    strategy: string;
    approvals: Approval[];
    hotfix?: { postmortem?: string; reason?: string };
    /**
     * Set only on an update that does nothing but go back to what was live (the runbook
     * program decides this: its lib/deployment-record.ts).
     */
    rollback?: { reason: string; by: string; at: string };
    /** From approvals/<stack>.yaml: approvals that prove themselves (signed-approvals.ts). */
    signedApprovals?: SignedApproval[];
}

export function releaseAnnotations(r: ReleaseRecord): Record<string, string> {
    const a: Record<string, string> = {
        [RELEASE_ANNOTATIONS.version]: r.version,
        [RELEASE_ANNOTATIONS.strategy]: r.strategy,
        [RELEASE_ANNOTATIONS.approvals]: JSON.stringify(r.approvals),
    };
    if (r.commit !== undefined) a[RELEASE_ANNOTATIONS.commit] = r.commit;
    if (r.operator !== undefined) a[RELEASE_ANNOTATIONS.operator] = r.operator;
    if (r.rollback !== undefined) a[RELEASE_ANNOTATIONS.rollback] = JSON.stringify(r.rollback);
    if (r.signedApprovals !== undefined) a[RELEASE_ANNOTATIONS.signedApprovals] = JSON.stringify(r.signedApprovals);
    if (r.hotfix !== undefined) {
        a[RELEASE_ANNOTATIONS.hotfix] = "true";
        if (r.hotfix.postmortem !== undefined) a[RELEASE_ANNOTATIONS.postmortem] = r.hotfix.postmortem;
        if (r.hotfix.reason !== undefined) a[RELEASE_ANNOTATIONS.hotfixReason] = r.hotfix.reason;
    }
    return a;
}

/**
 * The entries of a JSON array (an annotation's value) that have a string at each of `keys`,
 * reduced to those keys; anything else — not JSON, not an array — reads as none.
 */
function stringRecords<K extends string>(json: string | undefined, keys: K[]): Record<K, string>[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(json ?? "[]");
    } catch {
        return [];
    }
    if (!Array.isArray(parsed)) return [];
    return parsed
        .filter(
            (x): x is Record<K, string> =>
                x !== null &&
                typeof x === "object" &&
                keys.every((k) => typeof (x as Record<string, unknown>)[k] === "string"),
        )
        .map((x) => Object.fromEntries(keys.map((k) => [k, x[k]])) as Record<K, string>);
}

/** Reads a release record back from workload annotations (what the policy pack sees). */
export function releaseFromAnnotations(a: Record<string, unknown> | undefined): ReleaseRecord | undefined {
    const get = (k: string) => (typeof a?.[k] === "string" ? (a[k] as string) : undefined);
    const version = get(RELEASE_ANNOTATIONS.version);
    if (version === undefined) return undefined;
    const approvals = stringRecords(get(RELEASE_ANNOTATIONS.approvals), ["name", "role"]);
    const reason = get(RELEASE_ANNOTATIONS.hotfixReason);
    const hotfix =
        get(RELEASE_ANNOTATIONS.hotfix) === "true"
            ? { postmortem: get(RELEASE_ANNOTATIONS.postmortem), ...(reason !== undefined ? { reason } : {}) }
            : undefined;
    let rollback: ReleaseRecord["rollback"];
    try {
        const r: unknown = JSON.parse(get(RELEASE_ANNOTATIONS.rollback) ?? "null");
        if (r !== null && typeof r === "object") {
            const { reason, by, at } = r as Record<string, unknown>;
            if (typeof reason === "string" && typeof by === "string" && typeof at === "string")
                rollback = { reason, by, at };
        }
    } catch {
        rollback = undefined;
    }
    const signedApprovals = stringRecords(get(RELEASE_ANNOTATIONS.signedApprovals), ["statement", "signature"]);
    return {
        ...(rollback ? { rollback } : {}),
        ...(signedApprovals.length > 0 ? { signedApprovals } : {}),
        version,
        commit: get(RELEASE_ANNOTATIONS.commit),
        operator: get(RELEASE_ANNOTATIONS.operator),
        strategy: get(RELEASE_ANNOTATIONS.strategy) ?? "unknown",
        approvals,
        ...(hotfix ? { hotfix } : {}),
    };
}
