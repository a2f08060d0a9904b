// Deploy windows and freezes: allow and deny windows, each recurring (an RFC 5545 RRULE or
// a five-field cron, plus a duration) or absolute (start/end), each in an IANA time zone.
// Deny wins over allow; a calendar with no allow window is open except for its deny windows.
// Windows are half-open: [start, end).
//
// Recurrences are expanded in wall-clock time of the window's zone and only then turned
// into instants, so "10:00 every Monday in Europe/Berlin" is 10:00 local on both sides of
// a DST change. Durations follow Luxon: days and larger are calendar days (P3D from
// Dec 24 00:00 ends Dec 27 00:00 local), hours and smaller are elapsed time.
import { CronExpressionParser } from "cron-parser";
import { DateTime, Duration, IANAZone } from "luxon";
import { RRule } from "rrule";

export interface RecurringWindow {
    name: string;
    /** RFC 5545 recurrence rule, without DTSTART (e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=10). */
    rrule?: string;
    /** Five-field cron expression (minute hour day-of-month month day-of-week). */
    cron?: string;
    /** ISO 8601 duration of each occurrence (PT6H, P3D). */
    duration: string;
    timeZone: string;
    reason?: string;
}

export interface AbsoluteWindow {
    name: string;
    /** ISO 8601 date or date-time; without an offset it is read in `timeZone`. */
    start: string;
    /** Exclusive end, same format. */
    end: string;
    timeZone: string;
    reason?: string;
}

export type Window = RecurringWindow | AbsoluteWindow;

export interface Calendar {
    allow: Window[];
    deny: Window[];
}

export interface Interval {
    window: Window;
    start: DateTime;
    end: DateTime;
}

export interface Verdict {
    open: boolean;
    /** Allow windows containing the instant. */
    allowedBy: Interval[];
    /** Deny windows containing the instant (any one closes the calendar). */
    deniedBy: Interval[];
    reason: string;
}

export class CalendarError extends Error {}

const isAbsolute = (w: Window): w is AbsoluteWindow => "start" in w;

/** Problems with a window definition, with `path` as prefix; empty when it is usable. */
/** An ISO 8601 instant with an explicit offset or Z; undefined otherwise. */
export function parseInstant(s: string): DateTime | undefined {
    if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s.trim())) return undefined;
    const t = DateTime.fromISO(s.trim(), { setZone: true });
    return t.isValid ? t : undefined;
}

export function windowProblems(w: Window, path: string): string[] {
    const problems: string[] = [];
    if (!IANAZone.isValidZone(w.timeZone))
        problems.push(
            `${path}.timeZone: expected an IANA time zone such as Europe/Berlin, got ${JSON.stringify(w.timeZone)}`,
        );
    if (isAbsolute(w)) {
        const zone = IANAZone.isValidZone(w.timeZone) ? w.timeZone : "UTC";
        const s = DateTime.fromISO(w.start, { zone });
        const e = DateTime.fromISO(w.end, { zone });
        if (!s.isValid)
            problems.push(`${path}.start: expected an ISO 8601 date or date-time, got ${JSON.stringify(w.start)}`);
        if (!e.isValid)
            problems.push(`${path}.end: expected an ISO 8601 date or date-time, got ${JSON.stringify(w.end)}`);
        if (s.isValid && e.isValid && e <= s)
            problems.push(`${path}.end: expected a time after start (${w.start}), got ${JSON.stringify(w.end)}`);
        return problems;
    }
    if ((w.rrule === undefined) === (w.cron === undefined))
        problems.push(`${path}: expected exactly one of rrule or cron`);
    if (w.rrule !== undefined) {
        try {
            const opts = RRule.parseString(w.rrule);
            if (opts.freq === undefined) throw new Error("FREQ is missing");
            if (/DTSTART|UNTIL=\d+T\d+Z/.test(w.rrule))
                throw new Error("DTSTART and UTC UNTIL are not allowed: times are wall-clock times of timeZone");
        } catch (e) {
            problems.push(
                `${path}.rrule: expected an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=MO;BYHOUR=10, got ` +
                    `${JSON.stringify(w.rrule)} (${(e as Error).message})`,
            );
        }
    }
    if (w.cron !== undefined) {
        try {
            if (w.cron.trim().split(/\s+/).length !== 5) throw new Error("five fields expected");
            CronExpressionParser.parse(w.cron, { tz: "UTC" });
        } catch (e) {
            problems.push(
                `${path}.cron: expected a five-field cron expression, got ${JSON.stringify(w.cron)} (${(e as Error).message})`,
            );
        }
    }
    const d = Duration.fromISO(w.duration);
    if (!d.isValid || d.toMillis() <= 0)
        problems.push(
            `${path}.duration: expected a positive ISO 8601 duration such as PT6H or P3D, got ${JSON.stringify(w.duration)}`,
        );
    return problems;
}

function checked(w: Window): void {
    const problems = windowProblems(w, `window '${w.name}'`);
    if (problems.length > 0) throw new CalendarError(problems.join("\n"));
}

/** Wall-clock time of `t` in `zone`, as a Date whose UTC fields are those wall fields. */
function floating(t: DateTime): Date {
    return new Date(Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second));
}

function fromFloating(d: Date, zone: string): DateTime {
    return DateTime.fromObject(
        {
            year: d.getUTCFullYear(),
            month: d.getUTCMonth() + 1,
            day: d.getUTCDate(),
            hour: d.getUTCHours(),
            minute: d.getUTCMinutes(),
            second: d.getUTCSeconds(),
        },
        { zone },
    );
}

/** Occurrence starts of a recurring window with wall-clock start in [from, to]. */
function recurrenceStarts(w: RecurringWindow, from: Date, to: Date): Date[] {
    if (w.rrule !== undefined) {
        // DTSTART far enough back that every rule (yearly, monthly…) is anchored before `from`.
        const dtstart = new Date(Date.UTC(from.getUTCFullYear() - 1, 0, 1));
        const rule = new RRule({ ...RRule.parseString(w.rrule), dtstart });
        return rule.between(from, to, true);
    }
    const it = CronExpressionParser.parse(w.cron as string, {
        currentDate: new Date(from.getTime() - 1000),
        endDate: to,
        tz: "UTC",
    });
    const out: Date[] = [];
    while (it.hasNext()) out.push(it.next().toDate());
    return out;
}

/** Every occurrence of `w` that overlaps [from, to). */
export function intervals(w: Window, from: DateTime, to: DateTime): Interval[] {
    checked(w);
    if (isAbsolute(w)) {
        const start = DateTime.fromISO(w.start, { zone: w.timeZone });
        const end = DateTime.fromISO(w.end, { zone: w.timeZone });
        return start < to && end > from ? [{ window: w, start, end }] : [];
    }
    const duration = Duration.fromISO(w.duration);
    const zoneFrom = from.setZone(w.timeZone).minus(duration).minus({ days: 1 });
    const zoneTo = to.setZone(w.timeZone).plus({ days: 1 });
    const out: Interval[] = [];
    for (const d of recurrenceStarts(w, floating(zoneFrom), floating(zoneTo))) {
        const start = fromFloating(d, w.timeZone);
        const end = start.plus(duration);
        if (start < to && end > from) out.push({ window: w, start, end });
    }
    return out;
}

const containing = (ws: Window[], t: DateTime) => ws.flatMap((w) => intervals(w, t, t.plus({ milliseconds: 1 })));

export function describeInterval(i: Interval): string {
    const zone = i.window.timeZone;
    const fmt = (d: DateTime) => d.setZone(zone).toFormat("ccc yyyy-MM-dd HH:mm");
    return `'${i.window.name}'${i.window.reason ? ` (${i.window.reason})` : ""} ${fmt(i.start)}–${fmt(i.end)} ${zone}`;
}

/** Whether deploys are allowed at `t`, and why. */
export function evaluate(cal: Calendar, t: DateTime): Verdict {
    const deniedBy = containing(cal.deny, t);
    const allowedBy = containing(cal.allow, t);
    if (deniedBy.length > 0)
        return {
            open: false,
            allowedBy,
            deniedBy,
            reason: `inside deny window ${deniedBy.map(describeInterval).join(", ")}`,
        };
    if (cal.allow.length === 0)
        return {
            open: true,
            allowedBy,
            deniedBy,
            reason: "no allow windows are configured and no deny window applies",
        };
    if (allowedBy.length > 0)
        return {
            open: true,
            allowedBy,
            deniedBy,
            reason: `inside allow window ${allowedBy.map(describeInterval).join(", ")}`,
        };
    return {
        open: false,
        allowedBy,
        deniedBy,
        reason: `outside every allow window (${cal.allow.map((w) => `'${w.name}'`).join(", ")})`,
    };
}

export interface OpenPeriod {
    start: DateTime;
    /** When it closes again; undefined when it stays open past the search horizon. */
    end?: DateTime;
}

/**
 * The first instant at or after `t` when the calendar is open, and when that open period
 * ends. Openness only changes at window boundaries, so only those are examined.
 */
export function nextOpen(cal: Calendar, t: DateTime, horizonDays = 400): OpenPeriod | undefined {
    const horizon = t.plus({ days: horizonDays });
    const all = [...cal.allow, ...cal.deny];
    const edges = new Map<number, DateTime>([[t.toMillis(), t]]);
    for (const w of all) {
        for (const i of intervals(w, t, horizon)) {
            for (const e of [i.start, i.end]) if (e >= t && e < horizon) edges.set(e.toMillis(), e);
        }
    }
    const sorted = [...edges.values()].sort((a, b) => a.toMillis() - b.toMillis());
    const at = sorted.findIndex((e) => evaluate(cal, e).open);
    if (at < 0) return undefined;
    const end = sorted.slice(at + 1).find((e) => !evaluate(cal, e).open);
    return { start: sorted[at], end };
}

/** The runbooks' freezes as windows, in `timeZone` [003]. */
export function defaultFreezes(timeZone: string): Window[] {
    return [
        {
            name: "christmas",
            rrule: "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24",
            duration: "P3D",
            timeZone,
            reason: "Dec 24–26 freeze",
        },
        {
            name: "new-year",
            rrule: "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31",
            duration: "P3D",
            timeZone,
            reason: "Dec 31–Jan 2 freeze",
        },
        {
            // The day after the fourth Thursday of November is the Friday between the 23rd and 29th.
            name: "black-friday",
            rrule: "FREQ=YEARLY;BYMONTH=11;BYDAY=FR;BYMONTHDAY=23,24,25,26,27,28,29",
            duration: "P4D",
            timeZone,
            reason: "Black Friday through Cyber Monday",
        },
        {
            name: "monthly-maintenance",
            rrule: "FREQ=MONTHLY;BYDAY=1TU;BYHOUR=2;BYMINUTE=0;BYSECOND=0",
            duration: "PT2H",
            timeZone: "UTC",
            reason: "first-Tuesday maintenance 02:00–04:00 UTC",
        },
    ];
}

/** Production's allow window [000]: Mon–Thu 10:00–16:00. */
export function businessHours(timeZone: string): Window {
    return {
        name: "business-hours",
        rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH;BYHOUR=10;BYMINUTE=0;BYSECOND=0",
        duration: "PT6H",
        timeZone,
        reason: "Mon–Thu 10:00–16:00",
    };
}
