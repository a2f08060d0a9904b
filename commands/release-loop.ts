// What `npm run release` does step by step, apart from how it reaches the world: its clock,
// the metrics it reads, the deploy gate it asks and the engine that applies a step are
// arguments (commands/release.ts passes the real ones; test/commands/release-loop uses fakes).
import type { DateTime } from "luxon";
import type { AlertsConfig, ServiceConfig } from "../config/types";
import { rollbackRecordValues, serviceKey } from "../config/stack-file";
import { describeReading, judge, type GateAction, type Reading } from "../lib/analysis";
import { podSeries, seriesLabel, type ReleaseTraffic, type ServiceAlertTarget, type Trigger } from "../lib/promql";
import { VERSION_LABEL, versionLabelValue } from "../components/labels";
import { COLOR_LABEL } from "../policies/lib/well-known";
import { routerOf, type RouterConfig } from "../policies/routers";

/** Everything a release touches outside itself. */
export interface ReleaseWorld {
    /** Milliseconds since the epoch, and a wait: real time, or a test's. */
    now(): number;
    sleep(ms: number): Promise<void>;
    /** One reading of a trigger (Prometheus, for real). */
    read(trigger: Trigger): Promise<Reading>;
    /** The deploy gate's answer for a step about to start. */
    gate(): GateAction;
    /** Sets these stack config values and runs the update; false when it failed (the stack file is back as it was). */
    apply(values: Record<string, string>, message: string): Promise<boolean>;
    /** What the release says as it goes (stderr), and its result (stdout). */
    log(line: string): void;
    result(line: string): void;
    /** The at-instant of a rollback record, now. */
    instant(): DateTime;
}

export interface ReleaseTiming {
    /** How long each canary step (or a blue/green switch) is watched; the config's when undefined. */
    stepSeconds?: number;
    intervalSeconds: number;
    graceSeconds: number;
    /** analysis.postSwitchMinutes in seconds. */
    postSwitchSeconds: number;
}

/**
 * The triggers on one side of a service's traffic (releaseTriggers with the stack's
 * thresholds), as a function of how long ago the release began: no window reaches further.
 */
export type TriggersOn = (traffic: ReleaseTraffic) => (sinceSeconds: number) => Trigger[];

/** Pod labels as the series labels the ServiceMonitor copies them to (podTargetLabels). */
const asSeries = (podLabels: Record<string, string>) =>
    Object.fromEntries(Object.entries(podLabels).map(([k, v]) => [seriesLabel(k), v]));

/**
 * The series of one image's pods: their version label (servingLabels). Without it, a window
 * still holding the requests of pods that ran another image on the same track or colour (a
 * canary aborted a minute ago, the colour's previous image) would be read as this release's.
 */
const ofImage = (image: string) => ({ [VERSION_LABEL]: versionLabelValue(image) });

/** Where a release reads a service's requests: its alert target, the stack's metric names, its Services' port. */
export interface TrafficSource {
    target: ServiceAlertTarget;
    alerts: AlertsConfig;
    port: number;
}

/** The series of the pods `podLabels` select that run `image` (their own metrics, as the ServiceMonitor labels them). */
const podsOfImage = (src: TrafficSource, podLabels: Record<string, string>, image: string) =>
    podSeries(
        src.target,
        src.alerts,
        asSeries({ ...podLabels, ...ofImage(image) }),
        `its pods, version ${versionLabelValue(image)}`,
    );

/** A canary's own requests, against the stable track's at the same time, where its router counts them. */
export const canaryTraffic = (
    router: RouterConfig,
    images: { canary: string; stable: string },
    src: TrafficSource,
): ReleaseTraffic => {
    const selection = routerOf(router).analysis(router, {
        app: src.target.app,
        namespace: src.target.namespace,
        port: src.port,
        pods: (side, podLabels) => podsOfImage(src, podLabels, images[side]),
    });
    return {
        measured: selection.canary,
        measuredName: "canary track",
        baseline: selection.baseline,
        baselineName: "stable track",
    };
};

/** The requests of the colour a blue/green switch went to, running `image`; the other colour no longer serves, so there is no baseline. */
export const colorTraffic = (color: string, image: string, src: TrafficSource): ReleaseTraffic => ({
    measured: podsOfImage(src, { [COLOR_LABEL]: color }, image),
    measuredName: color,
});

const mmss = (s: number) =>
    `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

/** Asks the gate until it lets the next step go; false when it never will. */
async function passGate(w: ReleaseWorld, what: string): Promise<boolean> {
    for (;;) {
        const action = w.gate();
        if (action.kind === "go") return true;
        if (action.kind === "stop") {
            w.log(`${what}: blocked: ${action.why}`);
            return false;
        }
        w.log(`${what}: paused: ${action.why}; resumes ${action.until.toUTC().toISO()}`);
        await w.sleep(Math.max(1000, Math.min(action.until.toMillis() - w.now(), 600_000)));
    }
}

/** Watches the triggers for `seconds`; the first failing verdict, or undefined when it held. */
async function watch(
    w: ReleaseWorld,
    label: string,
    triggers: (sinceSeconds: number) => Trigger[],
    releaseStart: number,
    seconds: number,
    t: ReleaseTiming,
): Promise<string | undefined> {
    const t0 = w.now();
    for (;;) {
        const elapsed = (w.now() - t0) / 1000;
        const current = triggers((w.now() - releaseStart) / 1000);
        const readings = await Promise.all(current.map((x) => w.read(x)));
        w.log(`${label} ${mmss(elapsed)}/${mmss(seconds)} ${readings.map(describeReading).join(" · ")}`);
        const verdict = judge(readings, elapsed, Math.min(t.graceSeconds, seconds));
        if (verdict.kind === "fail") return verdict.why;
        if (elapsed >= seconds) return undefined;
        await w.sleep(Math.min(t.intervalSeconds * 1000, Math.max(0, seconds * 1000 - (w.now() - t0))));
    }
}

/** The release record of a switch back: the gate lets it through like `npm run rollback`. */
const rollbackRecord = (w: ReleaseWorld, reason: string) =>
    rollbackRecordValues({
        reason,
        by: "npm run release",
        at: w.instant().toUTC().toISO({ suppressMilliseconds: true }) as string,
    });

/** Each remaining step of the canary's plan, watched; promotes at 100, aborts to 0 on a failed watch. Exit code. */
export async function releaseCanary(
    w: ReleaseWorld,
    s: ServiceConfig,
    src: TrafficSource,
    triggersOn: TriggersOn,
    t: ReleaseTiming,
): Promise<number> {
    const start = w.now();
    const c = s.canary as NonNullable<ServiceConfig["canary"]>;
    const triggers = triggersOn(canaryTraffic(c.router, { canary: c.image, stable: s.image }, src));
    const steps = c.weight > 0 && c.weight < 100 ? c.steps.filter((x) => x > c.weight) : c.steps;
    const stepSeconds = t.stepSeconds ?? c.stepMinutes * 60;
    const weightKey = serviceKey(s.name, "canary", "weight");
    w.log(`${s.name}: canary ${c.image} over ${s.image}, steps ${steps.join(" → ")}, ${stepSeconds} s each`);
    for (const step of steps) {
        if (!(await passGate(w, `${s.name} step ${step} %`))) return 1;
        if (step >= 100) {
            // Promotion: the stable track takes the canary image; the canary track goes to 0.
            const promoted = { [serviceKey(s.name, "image")]: c.image, [weightKey]: "0" };
            if (!(await w.apply(promoted, `release ${s.name}: step 100 %, ${c.image} promoted`))) return 1;
            w.result(`released ${s.name}: ${c.image} promoted after ${steps.filter((x) => x < 100).join(", ")} %`);
            return 0;
        }
        if (!(await w.apply({ [weightKey]: String(step) }, `release ${s.name}: step ${step} % of ${c.image}`)))
            return 1;
        const failed = await watch(w, `${s.name} ${step} %`, triggers, start, stepSeconds, t);
        if (failed !== undefined) {
            w.log(`${s.name}: aborting at ${step} %: ${failed}`);
            const ok = await w.apply(
                { [weightKey]: "0", ...rollbackRecord(w, `release analysis at ${step} %: ${failed}`) },
                `release ${s.name}: aborted at ${step} % (${failed})`,
            );
            w.result(
                `aborted ${s.name} at ${step} %: ${failed}${ok ? "; canary weight is 0" : "; the abort update FAILED"}`,
            );
            return 1;
        }
    }
    return 0;
}

/** Switches to the idle colour and watches it; switches back, recorded as a rollback, on a failed watch. Exit code. */
export async function releaseBlueGreen(
    w: ReleaseWorld,
    s: ServiceConfig,
    src: TrafficSource,
    triggersOn: TriggersOn,
    t: ReleaseTiming,
): Promise<number> {
    const start = w.now();
    const bg = s.blueGreen as NonNullable<ServiceConfig["blueGreen"]>;
    const from = bg.activeColor;
    const to = from === "blue" ? "green" : "blue";
    const triggers = triggersOn(colorTraffic(to, bg.images[to], src));
    const seconds = t.stepSeconds ?? t.postSwitchSeconds;
    if (!(await passGate(w, `${s.name} switch to ${to}`))) return 1;
    const key = serviceKey(s.name, "blueGreen", "activeColor");
    if (!(await w.apply({ [key]: to }, `release ${s.name}: switch ${from} → ${to} (${bg.images[to]})`))) return 1;
    const failed = await watch(w, `${s.name} on ${to}`, triggers, start, seconds, t);
    if (failed === undefined) {
        w.result(`released ${s.name}: ${to} (${bg.images[to]}) live, watched ${seconds} s`);
        return 0;
    }
    w.log(`${s.name}: switching back to ${from}: ${failed}`);
    const reason = `release analysis: ${failed}`;
    const ok = await w.apply(
        { [key]: from, ...rollbackRecord(w, reason) },
        `rollback ${s.name}: ${to} → ${from} by npm run release: ${reason}`,
    );
    w.result(`switched ${s.name} back to ${from}: ${failed}${ok ? "" : "; the switch back FAILED"}`);
    return 1;
}
