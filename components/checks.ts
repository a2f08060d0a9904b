// Checks on plain values that the schema and the components share (durations, quantities,
// cron schedules, image references). Each component's own checks live beside it
// (e.g. canaryProblems in components/canary-release.ts).
import { CronExpressionParser } from "cron-parser";

/** A problem at a config path below `runbook:` (the caller formats the path). */
export interface Problem {
    path: PropertyKey[];
    message: string;
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** Seconds in a Prometheus duration such as 90s, 1h30m or 24h; undefined when malformed. */
export function durationSeconds(text: string): number | undefined {
    if (!/^([0-9]+(ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
    let total = 0;
    for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * UNITS[m[2]];
    return total;
}

const SUFFIX: Record<string, number> = {
    m: 1e-3,
    "": 1,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
};

/** A Kubernetes quantity (500m, 2, 512Mi) as a number of base units; undefined when malformed. */
export function quantityValue(text: string): number | undefined {
    const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
    return m ? Number(m[1]) * SUFFIX[m[2] ?? ""] : undefined;
}

/** Why a five-field cron schedule is not one the CronJob controller runs; undefined when fine. */
export function cronProblem(schedule: string): string | undefined {
    const fields = schedule.trim().split(/\s+/);
    if (fields.length !== 5)
        return `expected a five-field cron expression (minute hour day-of-month month day-of-week) such as '0 2 * * *'`;
    try {
        CronExpressionParser.parse(schedule.trim(), { strict: false });
        return undefined;
    } catch (e) {
        return `expected a cron expression the CronJob controller can run (${(e as Error).message.replace(/\s+/g, " ")})`;
    }
}

/** Image reference with an explicit tag or digest: a bare name would deploy `latest`. */
const IMAGE_COMPONENT = "[a-z0-9]+(?:[._-][a-z0-9]+)*";
const IMAGE_PATTERN = new RegExp(
    `^${IMAGE_COMPONENT}(?::[0-9]+)?(?:/${IMAGE_COMPONENT})*` + // registry[:port]/path
        "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$", // :tag, @digest
);
export const IMAGE_EXPECTATION =
    "expected an image reference with a tag or digest (repo/name:1.2.3 or repo/name@sha256:…)";

export function isPinnedImage(image: string): boolean {
    return IMAGE_PATTERN.test(image) && (/@sha256:/.test(image) || /:[^/]+$/.test(image));
}

/**
 * The image at `path`, unless it is pinned to a tag or digest. An image that is another
 * resource's output is not known yet: the component checks it once it is (checkedImage).
 */
export function imageProblems(path: PropertyKey[], image: unknown): Problem[] {
    if (image !== null && typeof image === "object") return [];
    return typeof image === "string" && isPinnedImage(image)
        ? []
        : [{ path, message: `${IMAGE_EXPECTATION}, got ${describeValue(image)}` }];
}

/** A value as a message tells what was given: nothing, a list (…), an object (…), or its JSON. */
export function describeValue(v: unknown): string {
    if (v === undefined) return "nothing";
    if (v === null) return "null";
    if (Array.isArray(v)) return v.length === 0 ? "an empty list" : `a list (${truncate(JSON.stringify(v))})`;
    if (typeof v === "object") return `an object (${truncate(JSON.stringify(v))})`;
    return truncate(JSON.stringify(v));
}

function truncate(s: string): string {
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
