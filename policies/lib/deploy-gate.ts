// The one decision behind the policy pack's gate and `npm run window`: may this release be
// deployed to this environment at this instant, and if not, when?
import type { DateTime } from "luxon";
import { approvalProblems, hotfixProblems, type ApprovalRules } from "./approvals";
import { evaluate, nextOpen, type Calendar, type OpenPeriod, type Verdict } from "./calendar";
import type { ReleaseRecord } from "./release-record";
import type { SignatureRules } from "./signed-approvals";

export interface GatePolicy {
    calendar: Calendar;
    approvals: ApprovalRules;
    /** Zone the messages show times in. */
    timeZone: string;
    /** Set when approvals count only signed (signed-approvals.ts). */
    signatures?: SignatureRules;
}

export interface GateResult {
    allowed: boolean;
    /** Allowed only through the hotfix path. */
    viaHotfix: boolean;
    /** Allowed as a rollback to what was live before (windows, freezes and approvals do not apply). */
    viaRollback?: boolean;
    verdict: Verdict;
    next?: OpenPeriod;
    /** Every rule the release fails (empty when allowed). */
    problems: string[];
    /** One line for people: the verdict, why, and the next window when closed. */
    summary: string;
}

export function formatInstant(t: DateTime, zone: string): string {
    return `${t.setZone(zone).toFormat("ccc yyyy-MM-dd HH:mm")} ${zone}`;
}

/**
 * `notes`: why approvals given did not count (signatures rejected), added to the problems
 * when the release is blocked.
 */
export function decide(args: {
    environment: string;
    at: DateTime;
    policy: GatePolicy;
    release?: ReleaseRecord;
    notes?: string[];
}): GateResult {
    const { at, policy, release } = args;
    const verdict = evaluate(policy.calendar, at);
    const when = formatInstant(at, policy.timeZone);
    const next = verdict.open ? undefined : nextOpen(policy.calendar, at);
    const until = next?.end ? ` (until ${formatInstant(next.end, policy.timeZone)})` : "";
    const nextText = next
        ? `; next window opens ${formatInstant(next.start, policy.timeZone)}${until}`
        : "; no window opens in the next 400 days";
    const normal = release
        ? approvalProblems(release, policy.approvals)
        : policy.approvals.required.length > 0
          ? [
                "no release record: none on the resource, and no component above it declares one " +
                    "(runbook.dev/release-* annotations, or a runbookRelease input)",
            ]
          : [];
    const hotfix = release?.hotfix ? hotfixProblems(release, policy.approvals) : undefined;
    const hotfixNote = () =>
        `as a hotfix (${release?.hotfix?.reason ? `because ${release.hotfix.reason}; ` : ""}postmortem ` +
        `${release?.hotfix?.postmortem ?? "none"}; approved by ${release?.approvals.map((a) => `${a.name} (${a.role})`).join(", ")})`;

    // The runbooks' first response to a bad release, not a deploy: the program stamps the
    // rollback record only on an update that changes nothing but going back (deployment-record.ts).
    if (release?.rollback !== undefined) {
        const r = release.rollback;
        const closed =
            verdict.open && normal.length === 0
                ? ""
                : ` although ${[...(verdict.open ? [] : [`deploys are closed: ${verdict.reason}`]), ...normal].join("; ")}`;
        return {
            allowed: true,
            viaHotfix: false,
            viaRollback: true,
            verdict,
            next,
            problems: [],
            summary: `${args.environment} rollback allowed at ${when} (by ${r.by} at ${r.at}: ${r.reason})${closed}`,
        };
    }
    if (verdict.open && normal.length === 0)
        return {
            allowed: true,
            viaHotfix: false,
            verdict,
            problems: [],
            summary: `${args.environment} deploy allowed at ${when}: ${verdict.reason}`,
        };
    if (hotfix !== undefined && hotfix.length === 0)
        return {
            allowed: true,
            viaHotfix: true,
            verdict,
            next,
            problems: [],
            summary: `${args.environment} deploy allowed at ${when} ${hotfixNote()}${verdict.open ? "" : ` although ${verdict.reason}`}`,
        };
    const problems = [
        ...(verdict.open ? [] : [`deploys are closed: ${verdict.reason}`]),
        ...normal,
        ...(hotfix ?? []),
        ...(args.notes ?? []),
    ];
    return {
        allowed: false,
        viaHotfix: false,
        verdict,
        next,
        problems,
        summary: `${args.environment} deploy blocked at ${when}: ${problems.join("; ")}${verdict.open ? "" : nextText}`,
    };
}
