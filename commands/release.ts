// npm run --silent release -- --stack S [--service NAME] [--prometheus URL]
//     [--step-seconds N] [--interval-seconds N] [--grace-seconds N] [--policy-config FILE] [--dir DIR]
// Progressive delivery through the Automation API (same engine, same policy pack):
//  - canary: each remaining step of canary.steps is applied with `pulumi up` (the gate judges each step), then
//    watched for canary.stepMinutes (--step-seconds shortens it for drills and tests), asking
//    Prometheus about the canary track's own requests, with the alert rules' own thresholds
//    and against the stable track's at the same time (analysis.baseline).
//    A breach, or no data past the grace period, aborts (weight 0, pulumi up, exit 1); the
//    last step promotes (the stable image becomes the canary image).
//  - blue/green: switches to the idle colour, watches its own requests for
//    analysis.postSwitchMinutes, and on a breach switches back as `npm run rollback` does.
// The deploy gate is asked before every step: a closed window pauses the release until the
// next one opens. Every update is in `pulumi stack history` with what was measured.
// Exit codes: 0 released, 1 aborted or failed, 2 unusable input.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DateTime } from "luxon";
import { stackFilePath } from "../config/stack-file";
import { gateAction, readTrigger } from "../lib/analysis";
import { alertTarget, releaseTriggers } from "../lib/promql";
import { ROOT, up, type Opened } from "./engine";
import { UsageError } from "./errors";
import { gateVerdict, openStack } from "./stack";
import { releaseBlueGreen, releaseCanary, type ReleaseWorld, type TriggersOn } from "./release-loop";

const log = (line: string) => process.stderr.write(`[release] ${line}\n`);

/** Sets config and runs the update; a failed update puts the stack file back as it was. */
async function setAndUp(
    o: Opened,
    values: Record<string, string>,
    message: string,
    policyConfig?: string,
): Promise<boolean> {
    const before = fs.readFileSync(stackFilePath(o.dir, o.stackName), "utf8");
    await o.stack.setAllConfig(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])), true);
    const r = await up(o, message, policyConfig);
    if (!r.ok) {
        fs.writeFileSync(stackFilePath(o.dir, o.stackName), before);
        log(`FAILED (${message}), the stack file is back as it was: ${r.error ?? ""}`);
    } else
        log(`${message}: applied in ${r.seconds.toFixed(0)} s (update; ${r.wallSeconds.toFixed(1)} s with start-up)`);
    return r.ok;
}

/** The release's world for real: the clock, Prometheus, the deploy gate and the engine of stack `o`. */
function realWorld(o: Opened, prometheus: string, policyConfig?: string): ReleaseWorld {
    return {
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        read: (trigger) => readTrigger(prometheus, trigger),
        gate: () =>
            gateAction(gateVerdict({ dir: o.dir, stack: o.stackName, config: o.config }, policyConfig, o.env).result),
        apply: (values, message) => setAndUp(o, values, message, policyConfig),
        log,
        result: (line) => process.stdout.write(`${line}\n`),
        instant: () => DateTime.utc(),
    };
}

export async function run(argv: string[]): Promise<number> {
    const { values: a } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string" },
            service: { type: "string" },
            prometheus: { type: "string" },
            "step-seconds": { type: "string" },
            "interval-seconds": { type: "string" },
            "grace-seconds": { type: "string" },
            "policy-config": { type: "string" },
            dir: { type: "string" },
        },
        strict: true,
    });
    const seconds = (flag: string, v: string | undefined): number | undefined => {
        if (v === undefined) return undefined;
        if (!/^[0-9]+$/.test(v) || Number(v) < 1)
            throw new UsageError(`--${flag}: expected a whole number of seconds ≥ 1, got ${JSON.stringify(v)}`);
        return Number(v);
    };
    if (!a.stack) throw new UsageError("--stack is required");
    const o = await openStack(path.resolve(a.dir ?? ROOT), a.stack, process.env);
    const candidates = o.config.services.filter((s) => s.canary || s.blueGreen);
    const s = a.service
        ? o.config.services.find((x) => x.name === a.service)
        : candidates.length === 1
          ? candidates[0]
          : undefined;
    if (!s)
        throw new UsageError(
            a.service
                ? `no service '${a.service}' in stack ${a.stack}`
                : `--service is required: ${candidates.map((x) => x.name).join(", ")} can be released`,
        );
    if (!s.canary && !s.blueGreen) throw new UsageError(`${s.name} is a rolling deployment; \`pulumi up\` releases it`);
    const prometheus = a.prometheus ?? o.config.analysis.prometheusUrl;
    if (!prometheus)
        throw new UsageError("no Prometheus to ask: set runbook:analysis.prometheusUrl or pass --prometheus URL");
    const timing = {
        stepSeconds: seconds("step-seconds", a["step-seconds"]),
        intervalSeconds: seconds("interval-seconds", a["interval-seconds"]) ?? o.config.analysis.intervalSeconds,
        graceSeconds: seconds("grace-seconds", a["grace-seconds"]) ?? o.config.analysis.noDataGraceSeconds,
        postSwitchSeconds: o.config.analysis.postSwitchMinutes * 60,
    };
    const src = {
        target: alertTarget(s.name, o.config.namespace.name, o.config.environment),
        alerts: o.config.alerts,
        port: s.servicePort,
    };
    const triggersOn: TriggersOn = (traffic) => {
        const triggersSince = (sinceSeconds: number) =>
            releaseTriggers(o.config.alerts, o.config.analysis, traffic, sinceSeconds);
        const baseline = traffic.baseline ? ` against the ${traffic.baselineName} (${traffic.baseline.where})` : "";
        log(
            `${a.stack}/${s.name}: watching ${triggersSince(Infinity)
                .map((t) => t.alert)
                .join(", ")} on the ${traffic.measuredName} (${traffic.measured.where})${baseline}, ` +
                `at least ${o.config.analysis.minRequests} requests each, on ${prometheus}`,
        );
        return triggersSince;
    };
    // A release is not a rollback: a record left by one would fail the program's check.
    if (o.config.release.rollback) await o.stack.removeConfig("runbook:release.rollback", true);
    const world = realWorld(o, prometheus, a["policy-config"]);
    return s.canary
        ? await releaseCanary(world, s, src, triggersOn, timing)
        : await releaseBlueGreen(world, s, src, triggersOn, timing);
}
