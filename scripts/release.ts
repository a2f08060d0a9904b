// npm run --silent release -- --stack S [--service NAME] [--prometheus URL]
//     [--step-seconds N] [--interval-seconds N] [--grace-seconds N] [--policy-config FILE] [--dir DIR]
// Progressive delivery through the Automation API (same engine, same policy pack):
//  - canary: each remaining step of canary.steps is applied with `pulumi up` (the gate judges each step), then
//    watched for canary.stepMinutes (--step-seconds shortens it for drills and tests), asking
//    Prometheus the service's rollback-trigger queries with the alert rules' own thresholds.
//    A breach, or no data past the grace period, aborts (weight 0, pulumi up, exit 1); the
//    last step promotes (the stable image becomes the canary image).
//  - blue/green: switches to the idle colour, watches analysis.postSwitchMinutes, and on a
//    breach switches back as `npm run rollback` does.
// The deploy gate is asked before every step: a closed window pauses the release until the
// next one opens. Every update is in `pulumi stack history` with what was measured.
// Exit codes: 0 released, 1 aborted or failed, 2 unusable input.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DateTime } from "luxon";
import type { ServiceConfig } from "../config/types";
import { serviceKey, stackFilePath } from "../config/stack-file";
import { describeReading, gateAction, judge, readTrigger, type Reading } from "../lib/analysis";
import { alertTarget, rolloutTriggers, type Trigger } from "../lib/promql";
import { openStack, ROOT, up, type Opened } from "./automation";
import { gateVerdict, printedHelp, runMainAsync, UsageError } from "./ci-common";

interface Options {
    prometheus: string;
    stepSeconds?: number;
    intervalSeconds: number;
    graceSeconds: number;
    policyConfig?: string;
}

const log = (line: string) => process.stderr.write(`[release] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clock = (s: number) =>
    `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

/** Asks the gate until it lets the next step go; false when it never will. */
async function passGate(o: Opened, opts: Options, what: string): Promise<boolean> {
    for (;;) {
        const action = gateAction(
            gateVerdict({ dir: o.dir, stack: o.stackName, config: o.config }, opts.policyConfig, o.env).result,
        );
        if (action.kind === "go") return true;
        if (action.kind === "stop") {
            log(`${what}: blocked: ${action.why}`);
            return false;
        }
        log(`${what}: paused: ${action.why}; resumes ${action.until.toUTC().toISO()}`);
        await sleep(Math.max(1000, Math.min(action.until.toMillis() - Date.now(), 600_000)));
    }
}

/** Watches the triggers for `seconds`; the first failing verdict, or undefined when it held. */
async function watch(label: string, triggers: Trigger[], seconds: number, opts: Options): Promise<string | undefined> {
    const t0 = Date.now();
    for (;;) {
        const elapsed = (Date.now() - t0) / 1000;
        const readings: Reading[] = await Promise.all(triggers.map((t) => readTrigger(opts.prometheus, t)));
        log(`${label} ${clock(elapsed)}/${clock(seconds)} ${readings.map(describeReading).join(" · ")}`);
        const verdict = judge(readings, elapsed, Math.min(opts.graceSeconds, seconds));
        if (verdict.kind === "fail") return verdict.why;
        if (elapsed >= seconds) return undefined;
        await sleep(Math.min(opts.intervalSeconds * 1000, Math.max(0, seconds * 1000 - (Date.now() - t0))));
    }
}

/** Sets config and runs the update; a failed update puts the stack file back as it was. */
async function setAndUp(o: Opened, values: Record<string, string>, message: string, opts: Options): Promise<boolean> {
    const before = fs.readFileSync(stackFilePath(o.dir, o.stackName), "utf8");
    await o.stack.setAllConfig(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])), true);
    const r = await up(o, message, opts.policyConfig);
    if (!r.ok) {
        fs.writeFileSync(stackFilePath(o.dir, o.stackName), before);
        log(`FAILED (${message}), the stack file is back as it was: ${r.error ?? ""}`);
    } else
        log(`${message}: applied in ${r.seconds.toFixed(0)} s (update; ${r.wallSeconds.toFixed(1)} s with start-up)`);
    return r.ok;
}

/** The release record of a switch back: the gate lets it through like `npm run rollback`. */
const rollbackRecord = (reason: string) => ({
    "runbook:release.rollback.reason": reason,
    "runbook:release.rollback.by": "npm run release",
    "runbook:release.rollback.at": DateTime.utc().toISO({ suppressMilliseconds: true }) as string,
});

async function releaseCanary(o: Opened, s: ServiceConfig, triggers: Trigger[], opts: Options): Promise<number> {
    const c = s.canary as NonNullable<ServiceConfig["canary"]>;
    if (c.image === s.image)
        throw new UsageError(
            `${s.name}: canary.image is the stable image (${s.image}); set the new image in canary.image first`,
        );
    const steps = c.weight > 0 && c.weight < 100 ? c.steps.filter((w) => w > c.weight) : c.steps;
    const stepSeconds = opts.stepSeconds ?? c.stepMinutes * 60;
    log(`${s.name}: canary ${c.image} over ${s.image}, steps ${steps.join(" → ")}, ${stepSeconds} s each`);
    for (const step of steps) {
        if (!(await passGate(o, opts, `${s.name} step ${step} %`))) return 1;
        if (step >= 100) {
            // Promotion: the stable track takes the canary image; the canary track goes to 0.
            const ok = await setAndUp(
                o,
                { [serviceKey(s.name, "image")]: c.image, [serviceKey(s.name, "canary", "weight")]: "0" },
                `release ${s.name}: step 100 %, ${c.image} promoted`,
                opts,
            );
            if (!ok) return 1;
            process.stdout.write(
                `released ${s.name}: ${c.image} promoted after ${steps.filter((w) => w < 100).join(", ")} %\n`,
            );
            return 0;
        }
        if (
            !(await setAndUp(
                o,
                { [serviceKey(s.name, "canary", "weight")]: String(step) },
                `release ${s.name}: step ${step} % of ${c.image}`,
                opts,
            ))
        )
            return 1;
        const failed = await watch(`${s.name} ${step} %`, triggers, stepSeconds, opts);
        if (failed !== undefined) {
            log(`${s.name}: aborting at ${step} %: ${failed}`);
            const ok = await setAndUp(
                o,
                {
                    [serviceKey(s.name, "canary", "weight")]: "0",
                    ...rollbackRecord(`release analysis at ${step} %: ${failed}`),
                },
                `release ${s.name}: aborted at ${step} % (${failed})`,
                opts,
            );
            process.stdout.write(
                `aborted ${s.name} at ${step} %: ${failed}${ok ? "; canary weight is 0" : "; the abort update FAILED"}\n`,
            );
            return 1;
        }
    }
    return 0;
}

async function releaseBlueGreen(o: Opened, s: ServiceConfig, triggers: Trigger[], opts: Options): Promise<number> {
    const bg = s.blueGreen as NonNullable<ServiceConfig["blueGreen"]>;
    const from = bg.activeColor;
    const to = from === "blue" ? "green" : "blue";
    const seconds = opts.stepSeconds ?? o.config.analysis.postSwitchMinutes * 60;
    if (!(await passGate(o, opts, `${s.name} switch to ${to}`))) return 1;
    const key = serviceKey(s.name, "blueGreen", "activeColor");
    if (!(await setAndUp(o, { [key]: to }, `release ${s.name}: switch ${from} → ${to} (${bg.images[to]})`, opts)))
        return 1;
    const failed = await watch(`${s.name} on ${to}`, triggers, seconds, opts);
    if (failed === undefined) {
        process.stdout.write(`released ${s.name}: ${to} (${bg.images[to]}) live, watched ${seconds} s\n`);
        return 0;
    }
    log(`${s.name}: switching back to ${from}: ${failed}`);
    const reason = `release analysis: ${failed}`;
    const ok = await setAndUp(
        o,
        { [key]: from, ...rollbackRecord(reason) },
        `rollback ${s.name}: ${to} → ${from} by npm run release: ${reason}`,
        opts,
    );
    process.stdout.write(`switched ${s.name} back to ${from}: ${failed}${ok ? "" : "; the switch back FAILED"}\n`);
    return 1;
}

async function main(argv: string[]): Promise<number> {
    if (printedHelp("release", argv)) return 0;
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
    const opts: Options = {
        prometheus,
        stepSeconds: seconds("step-seconds", a["step-seconds"]),
        intervalSeconds: seconds("interval-seconds", a["interval-seconds"]) ?? o.config.analysis.intervalSeconds,
        graceSeconds: seconds("grace-seconds", a["grace-seconds"]) ?? o.config.analysis.noDataGraceSeconds,
        policyConfig: a["policy-config"],
    };
    const triggers = rolloutTriggers(
        alertTarget(s.name, o.config.namespace.name, o.config.environment),
        o.config.alerts,
    );
    log(`${a.stack}/${s.name}: watching ${triggers.map((t) => t.alert).join(", ")} on ${prometheus}`);
    // A release is not a rollback: a record left by one would fail the program's check.
    if (o.config.release.rollback) await o.stack.removeConfig("runbook:release.rollback", true);
    return s.canary ? await releaseCanary(o, s, triggers, opts) : await releaseBlueGreen(o, s, triggers, opts);
}

if (require.main === module) runMainAsync("release", () => main(process.argv.slice(2)));
