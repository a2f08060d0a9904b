// Every check a component makes on its config, as pure functions over the resolved config.
// `npm run validate` (through parseStackConfig) and the components call the same functions,
// so validate rejects what preview or the API server would reject for reasons in the config.
import { CronExpressionParser } from "cron-parser";
import type { ServiceConfig } from "../config/types";
import { podsForWeight, replicaSplit, WEIGHT_TOLERANCE } from "./traffic";

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

/** Names the program derives from a service name, longest first; each must be a DNS-1035 label. */
export function derivedNames(s: Pick<ServiceConfig, "name" | "strategy" | "blueGreen">): string[] {
    const names = [s.name, `${s.name}-metrics`];
    if (s.strategy === "canary") names.push(`${s.name}-canary`, `${s.name}-stable`);
    if (s.strategy === "blueGreen") {
        names.push(`${s.name}-preview`, `${s.name}-green`, `${s.name}-blue`);
        // The smoke Job's name carries colour and an 8-character digest; its pods get it as a label.
        if (s.blueGreen?.smokeTest.enabled) names.push(`${s.name}-smoke-green-00000000`);
    }
    return names.sort((a, b) => b.length - a.length);
}

/** Every problem of one resolved service, paths relative to `runbook:`. */
export function serviceProblems(s: ServiceConfig): Problem[] {
    const out: Problem[] = [];
    const at = (path: PropertyKey[], message: string) => out.push({ path: ["services", s.name, ...path], message });

    if (!/^[a-z]/.test(s.name))
        at(
            [],
            `expected a service name starting with a letter (its Services need DNS-1035 names), got ${JSON.stringify(s.name)}`,
        );
    const longest = derivedNames(s)[0];
    if (longest.length > 63)
        at(
            [],
            `expected a name of at most ${63 - (longest.length - s.name.length)} characters (the longest name derived from it, '${longest}', must fit 63), got ${s.name.length}`,
        );

    for (const r of ["cpu", "memory"] as const) {
        const req = quantityValue(s.resources.requests[r]);
        const lim = quantityValue(s.resources.limits[r]);
        if (req !== undefined && lim !== undefined && req > lim)
            at(
                ["resources", "requests", r],
                `expected at most the limit (${s.resources.limits[r]}), got ${s.resources.requests[r]}`,
            );
    }
    for (const kind of ["liveness", "startup"] as const) {
        const p = s.probes[kind];
        if (p?.successThreshold !== undefined && p.successThreshold !== 1)
            at(
                ["probes", kind, "successThreshold"],
                `expected 1 (the API server allows no other value for a ${kind} probe), got ${p.successThreshold}`,
            );
    }

    const bg = s.blueGreen;
    // Not when maxReplicas is below minReplicas: that is reported already, and fixing it fixes this.
    if (bg && bg.idleReplicas > s.autoscaling.maxReplicas && s.autoscaling.maxReplicas >= s.autoscaling.minReplicas)
        at(
            ["blueGreen", "idleReplicas"],
            `expected at most autoscaling.maxReplicas (${s.autoscaling.maxReplicas}), got ${bg.idleReplicas}`,
        );

    const c = s.canary;
    if (c && c.router.type === "replicas") {
        const pods = s.autoscaling.minReplicas;
        if (pods < 2)
            at(
                ["autoscaling", "minReplicas"],
                `expected at least 2 to split traffic by replicas (one stable pod, one canary pod), got ${pods}`,
            );
        else
            c.steps.forEach((w, i) => {
                if (w >= 100) return;
                const split = replicaSplit(w, pods);
                if (Math.abs(split.percent - w) <= WEIGHT_TOLERANCE) return;
                const need = podsForWeight(w);
                at(
                    ["canary", "steps", i],
                    `expected a weight the replica router can honour within ${WEIGHT_TOLERANCE} percentage point with ${pods} pods (autoscaling.minReplicas), got ${w}: ` +
                        `${pods} pods give ${+split.percent.toFixed(1)} % (${split.canary} of ${pods}); ${w} % needs ${need.exact} pods (${need.within} come within ${WEIGHT_TOLERANCE} point), ` +
                        "or set canary.router to gatewayApi or nginx",
                );
            });
    }
    return out;
}
