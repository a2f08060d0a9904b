// Approvals that prove themselves: each is a statement (release-digest.ts) signed with
// the approver's SSH key. Only the ones that verify against the platform team's signers,
// for a role the signer holds, for this very release and config, recent enough and not
// made by the operator count; every other one is named with the reason it does not.
import type { DateTime } from "luxon";
import { parseInstant } from "./calendar";
import type { Approval, ReleaseRecord } from "./release-record";
import { parseStatement, type ReleaseSubject, type Statement } from "./release-digest";
import { allowedSignersLine, sshVerify } from "./ssh-signature";

/** A signature file entry: the statement as signed and its armored SSH signature. */
export interface SignedApproval {
    statement: string;
    signature: string;
}

/** From the policy config: whose key it is, and which approval roles that person holds. */
export interface Signer {
    principal: string;
    key: string;
    roles: string[];
}

export interface SignatureRules {
    signers: Signer[];
    /** How old an approval may be, in hours. */
    maxAgeHours: number;
}

/** What the release is, as whoever verifies sees it (the pack: from the engine and the resources). */
export interface ReleaseUnderReview {
    stack: string;
    version: string;
    commit?: string;
    /** Images the release runs; each must be named by the statement. */
    images: string[];
    config: string;
    operator?: string;
    /** Fingerprints of keys the operator holds (their own ~/.ssh and agent). */
    operatorKeys: string[];
}

export interface SignedVerdict {
    approvals: Approval[];
    rejected: string[];
}

/** Signatures may be made this far ahead of the verifier's clock (clock skew). */
const FUTURE_SKEW_MINUTES = 5;

function replayProblem(s: ReleaseSubject, r: ReleaseUnderReview): string | undefined {
    if (s.stack !== r.stack) return `replayed: it approves stack ${s.stack}, this is ${r.stack}`;
    if (s.version !== r.version) return `replayed: it approves version ${s.version}, this release is ${r.version}`;
    if (s.commit !== (r.commit ?? ""))
        return `replayed: it approves commit ${s.commit}, this release is ${r.commit ?? "(none)"}`;
    if (s.config !== r.config)
        return `replayed: the stack's config changed since it was signed (config ${s.config.slice(0, 12)}…, now ${r.config.slice(0, 12)}…)`;
    const unnamed = r.images.filter((i) => !s.images.includes(i));
    if (unnamed.length > 0) return `replayed: this release runs ${unnamed.join(", ")}, which it does not approve`;
    return undefined;
}

function ageProblem(st: Statement, at: DateTime, maxAgeHours: number): string | undefined {
    const signed = parseInstant(st.signedAt);
    if (!signed) return `malformed: signed-at ${JSON.stringify(st.signedAt)} is not an ISO 8601 instant with offset`;
    const hours = at.diff(signed, "hours").hours;
    if (hours < -FUTURE_SKEW_MINUTES / 60)
        return `rejected: signed at ${st.signedAt}, in the future of the gate's clock (${at.toUTC().toISO()})`;
    if (hours > maxAgeHours)
        return `expired: signed at ${st.signedAt}, ${Math.floor(hours)} h before the gate's clock; approvals count for ${maxAgeHours} h`;
    return undefined;
}

/** Verifies every signed approval; returns the ones that count and why each other one does not. */
export function verifySignedApprovals(
    entries: SignedApproval[],
    release: ReleaseUnderReview,
    rules: SignatureRules,
    at: DateTime,
): SignedVerdict {
    const approvals: Approval[] = [];
    const rejected: string[] = [];
    const allowed = rules.signers.map((s) => allowedSignersLine(s.principal, s.key)).join("\n") + "\n";
    entries.forEach((e, i) => {
        let st: Statement;
        try {
            st = parseStatement(e.statement);
        } catch (err) {
            rejected.push(`signed approval ${i + 1}: malformed: ${(err as Error).message}`);
            return;
        }
        const label = (who: string) => `signed approval ${i + 1} (${who} as ${st.role})`;
        const check = sshVerify(allowed, e.signature, e.statement);
        const who = check.principal;
        if (who === undefined) {
            const f = check.failure ?? { reason: "altered", detail: "" };
            const why =
                f.reason === "malformed"
                    ? `malformed: the signature cannot be read (${f.detail})`
                    : f.reason === "altered"
                      ? `forged: the signature does not match the statement (${f.detail})`
                      : `forged: ${f.detail}`;
            rejected.push(`${label("unknown signer")}: ${why}`);
            return;
        }
        const signer = rules.signers.find((s) => s.principal === who);
        const problem =
            (signer && !signer.roles.includes(st.role)
                ? `rejected: ${who} holds ${signer.roles.join(", ") || "no role"} in the policy config, not ${st.role}`
                : undefined) ??
            replayProblem(st.subject, release) ??
            ageProblem(st, at, rules.maxAgeHours) ??
            (release.operator !== undefined && who.toLowerCase() === release.operator.trim().toLowerCase()
                ? `self-made: ${who} is the operator of this release`
                : undefined) ??
            (check.fingerprint !== undefined && release.operatorKeys.includes(check.fingerprint)
                ? `self-made: signed with a key the operator holds (${check.fingerprint})`
                : undefined);
        if (problem) rejected.push(`${label(who)}: ${problem}`);
        else approvals.push({ name: who, role: st.role });
    });
    return { approvals, rejected };
}

/**
 * The release as the gate judges it where approvals must be signed: its approvals are the
 * signed ones that verify; typed ones and rejected signatures become notes saying why
 * they do not count.
 */
export function releaseForGate(
    release: ReleaseRecord,
    rules: SignatureRules,
    view: Pick<ReleaseUnderReview, "stack" | "images" | "config" | "operatorKeys">,
    at: DateTime,
): { release: ReleaseRecord; notes: string[] } {
    const verdict = verifySignedApprovals(
        release.signedApprovals ?? [],
        { ...view, version: release.version, commit: release.commit, operator: release.operator },
        rules,
        at,
    );
    const typed = release.approvals.map((a) => `${a.name} (${a.role})`);
    const notes = [
        ...(typed.length > 0
            ? [`unsigned approvals do not count here (${typed.join(", ")}): approvals must be signed (npm run approve)`]
            : []),
        ...verdict.rejected,
    ];
    return { release: { ...release, approvals: verdict.approvals }, notes };
}
