import { DateTime } from "luxon";
import {
    businessHours,
    CalendarError,
    defaultFreezes,
    evaluate,
    intervals,
    nextOpen,
    windowProblems,
    type Calendar,
    type Window,
} from "../../../policies/lib/calendar";

const utc = (s: string) => DateTime.fromISO(s, { zone: "UTC" });
const production: Calendar = { allow: [businessHours("UTC")], deny: defaultFreezes("UTC") };
const open = (cal: Calendar, s: string) => evaluate(cal, DateTime.fromISO(s, { setZone: true })).open;
const next = (cal: Calendar, s: string) => {
    const n = nextOpen(cal, DateTime.fromISO(s, { setZone: true }));
    return n && [n.start.toUTC().toISO(), n.end?.toUTC().toISO()];
};

describe("production's default windows", () => {
    test.each([
        ["2026-11-23T10:00:00Z", true, "Monday 10:00, the window's first instant"],
        ["2026-11-23T09:59:59Z", false, "Monday just before"],
        ["2026-11-26T15:55:00Z", true, "Thursday 15:55"],
        ["2026-11-26T15:59:59.999Z", true, "Thursday, the last millisecond"],
        ["2026-11-26T16:00:00Z", false, "Thursday 16:00: the end is exclusive"],
        ["2026-11-20T12:00:00Z", false, "a Friday"],
        ["2026-11-22T12:00:00Z", false, "a Sunday"],
    ])("%s → %s (%s)", (at, expected) => {
        expect(open(production, at)).toBe(expected);
    });

    test("Thursday 16:00 before Black Friday: the next window is Tuesday after Cyber Monday, 10:00–16:00", () => {
        expect(next(production, "2026-11-26T16:00:00Z")).toEqual([
            "2026-12-01T10:00:00.000Z",
            "2026-12-01T16:00:00.000Z",
        ]);
    });

    test("an open instant is its own next window, ending at 16:00", () => {
        expect(next(production, "2026-11-23T12:00:00Z")).toEqual([
            "2026-11-23T12:00:00.000Z",
            "2026-11-23T16:00:00.000Z",
        ]);
    });
});

describe("freezes", () => {
    test.each([
        ["2026-12-24T00:00:00Z", "christmas"],
        ["2026-12-26T23:59:59Z", "christmas"],
        ["2026-12-31T00:00:00Z", "new-year"],
        ["2027-01-01T12:00:00Z", "new-year"],
        ["2027-01-02T23:59:59Z", "new-year"],
        ["2026-12-01T02:00:00Z", "monthly-maintenance"],
        ["2026-12-01T03:59:59Z", "monthly-maintenance"],
    ])("%s is inside %s", (at, name) => {
        expect(evaluate(production, utc(at)).deniedBy.map((i) => i.window.name)).toEqual([name]);
    });

    test.each([
        ["2026-12-27T00:00:00Z"],
        ["2027-01-03T00:00:00Z"],
        ["2026-12-01T04:00:00Z"],
        ["2026-12-08T02:30:00Z"],
        ["2026-11-26T23:59:59Z"],
    ])("%s is in no freeze", (at) => {
        expect(evaluate(production, utc(at)).deniedBy).toEqual([]);
    });

    test("Dec 31 → Jan 1 across the year boundary: the next window is Monday Jan 4", () => {
        expect(next(production, "2026-12-31T12:00:00Z")).toEqual([
            "2027-01-04T10:00:00.000Z",
            "2027-01-04T16:00:00.000Z",
        ]);
    });

    test.each([
        [2025, "2025-11-28", "2025-12-02"],
        [2026, "2026-11-27", "2026-12-01"],
        [2027, "2027-11-26", "2027-11-30"],
        [2028, "2028-11-24", "2028-11-28"],
        [2029, "2029-11-23", "2029-11-27"],
        [2030, "2030-11-29", "2030-12-03"],
    ])("Black Friday %i: %s through Cyber Monday (ends %s 00:00)", (year, start, end) => {
        const bf = defaultFreezes("UTC").find((w) => w.name === "black-friday") as Window;
        const found = intervals(bf, utc(`${year}-11-01T00:00:00Z`), utc(`${year}-12-31T00:00:00Z`));
        expect(found.map((i) => [i.start.toISODate(), i.end.toISODate()])).toEqual([[start, end]]);
        // Thanksgiving itself (the day before) is not frozen.
        expect(evaluate(production, utc(`${start}T00:00:00Z`).minus({ days: 1 }).set({ hour: 12 })).deniedBy).toEqual(
            [],
        );
    });
});

describe("time zones and DST", () => {
    const berlin: Calendar = { allow: [businessHours("Europe/Berlin")], deny: [] };

    test("Europe/Berlin business hours are 10:00 local on both sides of the March change", () => {
        expect(open(berlin, "2026-03-26T09:00:00Z")).toBe(true); // Thu 10:00 CET
        expect(open(berlin, "2026-03-26T08:59:59Z")).toBe(false);
        expect(open(berlin, "2026-03-30T08:00:00Z")).toBe(true); // Mon 10:00 CEST
        expect(open(berlin, "2026-03-30T07:59:59Z")).toBe(false);
        expect(open(berlin, "2026-03-30T14:00:00Z")).toBe(false); // 16:00 CEST
    });

    test("Europe/Berlin in October: Thursday 10:00 CEST, Monday 10:00 CET", () => {
        expect(next(berlin, "2026-10-22T00:00:00Z")).toEqual(["2026-10-22T08:00:00.000Z", "2026-10-22T14:00:00.000Z"]);
        expect(next(berlin, "2026-10-24T00:00:00Z")).toEqual(["2026-10-26T09:00:00.000Z", "2026-10-26T15:00:00.000Z"]);
    });

    test("a one-day freeze on the spring-forward day lasts 23 hours; PT24H lasts 24", () => {
        const day: Window = { name: "d", start: "2026-03-29", end: "2026-03-30", timeZone: "Europe/Berlin" };
        const [i] = intervals(day, utc("2026-03-28T00:00:00Z"), utc("2026-03-31T00:00:00Z"));
        expect(i.end.diff(i.start, "hours").hours).toBe(23);
        const rec: Window = {
            name: "r",
            rrule: "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=29",
            duration: "P1D",
            timeZone: "Europe/Berlin",
        };
        const [j] = intervals(rec, utc("2026-03-28T00:00:00Z"), utc("2026-03-31T00:00:00Z"));
        expect([j.start.toUTC().toISO(), j.end.toUTC().toISO()]).toEqual([
            "2026-03-28T23:00:00.000Z",
            "2026-03-29T22:00:00.000Z",
        ]);
        const hours: Window = { ...rec, duration: "PT24H" };
        expect(intervals(hours, utc("2026-03-28T00:00:00Z"), utc("2026-03-31T00:00:00Z"))[0].end.toUTC().toISO()).toBe(
            "2026-03-29T23:00:00.000Z",
        );
    });

    test("America/New_York: a cron window at 09:00 local moves from 14:00Z to 13:00Z in March", () => {
        const ny: Calendar = {
            allow: [{ name: "ny", cron: "0 9 * * 1-5", duration: "PT8H", timeZone: "America/New_York" }],
            deny: [],
        };
        expect(next(ny, "2026-03-06T00:00:00Z")).toEqual(["2026-03-06T14:00:00.000Z", "2026-03-06T22:00:00.000Z"]); // Fri, EST
        expect(next(ny, "2026-03-07T00:00:00Z")).toEqual(["2026-03-09T13:00:00.000Z", "2026-03-09T21:00:00.000Z"]); // Mon, EDT
        expect(next(ny, "2026-11-02T00:00:00Z")).toEqual(["2026-11-02T14:00:00.000Z", "2026-11-02T22:00:00.000Z"]); // Mon, EST again
    });

    test("a recurrence at a wall time that does not exist (02:30 on spring-forward day) starts at 03:30 local", () => {
        const w: Window = { name: "x", cron: "30 2 * * *", duration: "PT1H", timeZone: "America/New_York" };
        const found = intervals(w, utc("2026-03-08T00:00:00Z"), utc("2026-03-09T00:00:00Z"));
        expect(found.map((i) => i.start.toUTC().toISO())).toEqual(["2026-03-08T07:30:00.000Z"]);
    });
});

describe("leap days and edges", () => {
    test("a yearly Feb 29 freeze occurs only in leap years", () => {
        const w: Window = {
            name: "leap",
            rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            duration: "P1D",
            timeZone: "UTC",
        };
        const found = intervals(w, utc("2026-01-01T00:00:00Z"), utc("2033-01-01T00:00:00Z"));
        expect(found.map((i) => i.start.toISODate())).toEqual(["2028-02-29", "2032-02-29"]);
        const cal: Calendar = { allow: [], deny: [w] };
        expect(open(cal, "2028-02-29T23:59:59Z")).toBe(false);
        expect(open(cal, "2028-03-01T00:00:00Z")).toBe(true);
        // Open from Mar 1 on; the next closing (2032) is beyond the 400-day horizon.
        expect(next(cal, "2028-02-29T12:00:00Z")).toEqual(["2028-03-01T00:00:00.000Z", undefined]);
    });

    test("absolute windows: start inclusive, end exclusive, offsets respected", () => {
        const demo: Window = {
            name: "demo",
            start: "2027-02-04T13:00:00",
            end: "2027-02-04T18:00:00",
            timeZone: "America/New_York",
            reason: "executive demo",
        };
        const cal: Calendar = { allow: [], deny: [demo] };
        expect(open(cal, "2027-02-04T17:59:59Z")).toBe(true);
        expect(open(cal, "2027-02-04T18:00:00Z")).toBe(false);
        expect(open(cal, "2027-02-04T22:59:59Z")).toBe(false);
        expect(open(cal, "2027-02-04T23:00:00Z")).toBe(true);
        expect(evaluate(cal, utc("2027-02-04T20:00:00Z")).reason).toBe(
            "inside deny window 'demo' (executive demo) Thu 2027-02-04 13:00–Thu 2027-02-04 18:00 America/New_York",
        );
    });

    test("deny wins over allow; no allow window means open except deny", () => {
        const cal: Calendar = {
            allow: [businessHours("UTC")],
            deny: [{ name: "launch", start: "2026-11-23", end: "2026-11-24", timeZone: "UTC" }],
        };
        expect(open(cal, "2026-11-23T12:00:00Z")).toBe(false);
        expect(next(cal, "2026-11-23T12:00:00Z")).toEqual(["2026-11-24T10:00:00.000Z", "2026-11-24T16:00:00.000Z"]);
        expect(open({ allow: [], deny: [] }, "2026-12-25T12:00:00Z")).toBe(true);
    });
});

describe("window definitions are checked", () => {
    test("every problem is named", () => {
        expect(
            windowProblems(
                { name: "w", rrule: "FREQ=SOMETIMES", cron: "0 1 * * *", duration: "6 hours", timeZone: "Mars/Base" },
                "deny[0]",
            ),
        ).toEqual([
            'deny[0].timeZone: expected an IANA time zone such as Europe/Berlin, got "Mars/Base"',
            "deny[0]: expected exactly one of rrule or cron",
            expect.stringMatching(
                /^deny\[0\]\.rrule: expected an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=MO;BYHOUR=10, got "FREQ=SOMETIMES"/,
            ),
            'deny[0].duration: expected a positive ISO 8601 duration such as PT6H or P3D, got "6 hours"',
        ]);
        expect(windowProblems({ name: "a", start: "2027-01-02", end: "2027-01-01", timeZone: "UTC" }, "x")).toEqual([
            'x.end: expected a time after start (2027-01-02), got "2027-01-01"',
        ]);
        expect(windowProblems({ name: "c", cron: "0 25 * * *", duration: "PT1H", timeZone: "UTC" }, "y")).toEqual([
            expect.stringMatching(/^y\.cron: expected a five-field cron expression, got "0 25 \* \* \*"/),
        ]);
    });

    test("a bad window throws a CalendarError when used", () => {
        expect(() =>
            evaluate(
                { allow: [], deny: [{ name: "bad", start: "soon", end: "later", timeZone: "UTC" }] },
                utc("2026-01-01T00:00:00Z"),
            ),
        ).toThrow(CalendarError);
    });
});
