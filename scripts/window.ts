// npm run --silent window -- --stack <name> [--at <ISO-8601 with offset>] [--json]
//     [--policy-config FILE] [--operator NAME] [--approvals name:role,...]
//     [--hotfix --postmortem REF]
// May this stack's release be deployed at that moment (default: now), and if not, when?
// Same calendar, approval rules and policy config as the policy pack's deploy gate.
// Exit codes: 0 allowed, 1 denied, 2 unusable input.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors";
import { parseStackConfig } from "../config/load";
import { readStack, StackFileError, UnknownStackError } from "../config/stack-file";
import { CalendarError } from "../lib/calendar";
import { decide, formatInstant } from "../lib/deploy-gate";
import { gateRelease } from "./ci-common";
import {
    gatePolicy,
    parseGateConfig,
    parseInstant,
    PolicyConfigError,
    readGateConfigFile,
    resolveNow,
} from "../policies/settings";

function unusable(message: string): never {
    process.stderr.write(`window: ${message}\n`);
    process.exit(2);
}

function main(): void {
    let args;
    try {
        args = parseArgs({
            options: {
                stack: { type: "string" },
                at: { type: "string" },
                json: { type: "boolean", default: false },
                "policy-config": { type: "string" },
                operator: { type: "string" },
                approvals: { type: "string" },
                hotfix: { type: "boolean", default: false },
                postmortem: { type: "string" },
                dir: { type: "string" },
            },
            strict: true,
        });
    } catch (e) {
        unusable((e as Error).message);
    }
    const o = args.values;
    const dir = path.resolve(o.dir ?? path.join(__dirname, ".."));
    if (!o.stack) unusable("--stack is required");
    const stack = o.stack;

    let gateConfig;
    try {
        gateConfig = o["policy-config"] ? readGateConfigFile(o["policy-config"]) : parseGateConfig({});
    } catch (e) {
        if (e instanceof PolicyConfigError) unusable(e.problems.length === 1 ? e.problems[0] : e.message);
        throw e;
    }

    let at;
    if (o.at !== undefined) {
        at = parseInstant(o.at);
        if (!at)
            unusable(
                `--at: expected an ISO 8601 instant with offset such as 2026-11-26T15:55:00+01:00, got ${JSON.stringify(o.at)}`,
            );
    } else {
        try {
            at = resolveNow(gateConfig, process.env);
        } catch (e) {
            unusable((e as Error).message);
        }
    }

    const env: NodeJS.ProcessEnv = { ...process.env };
    if (o.operator) env.RUNBOOK_RELEASE_OPERATOR = o.operator;
    if (o.approvals !== undefined) env.RUNBOOK_RELEASE_APPROVALS = o.approvals;
    if (o.postmortem) env.RUNBOOK_HOTFIX_POSTMORTEM = o.postmortem;
    let cfg;
    try {
        const raw = readStack(dir, stack, env);
        const values = raw.values;
        if (o.hotfix && values.release && typeof values.release === "object")
            values.release = {
                ...(values.release as object),
                hotfix: { ...((values.release as { hotfix?: object }).hotfix ?? {}) },
            };
        cfg = parseStackConfig(raw);
    } catch (e) {
        if (e instanceof ConfigError || e instanceof StackFileError || e instanceof UnknownStackError)
            unusable(e.message);
        throw e;
    }

    let result;
    try {
        const policy = gatePolicy(gateConfig, cfg.environment);
        const { release, notes } = gateRelease({ dir, stack, config: cfg }, policy, at, env);
        result = decide({ environment: cfg.environment, at, policy, release, notes });
        if (o.json) {
            const iso = (t?: { toISO(): string | null }) => (t ? t.toISO() : null);
            process.stdout.write(
                JSON.stringify(
                    {
                        stack,
                        environment: cfg.environment,
                        at: at.toISO(),
                        allowed: result.allowed,
                        viaHotfix: result.viaHotfix,
                        reason: result.verdict.reason,
                        problems: result.problems,
                        nextWindow: result.next ? { start: iso(result.next.start), end: iso(result.next.end) } : null,
                        summary: result.summary,
                    },
                    null,
                    2,
                ) + "\n",
            );
        } else {
            process.stdout.write(`${result.allowed ? "ALLOWED" : "DENIED"}: ${result.summary}\n`);
            if (!result.allowed) for (const p of result.problems) process.stdout.write(`  - ${p}\n`);
            if (result.next)
                process.stdout.write(
                    `next window: ${formatInstant(result.next.start, policy.timeZone)}${result.next.end ? ` – ${formatInstant(result.next.end, policy.timeZone)}` : ""}\n`,
                );
        }
    } catch (e) {
        if (e instanceof CalendarError) unusable(e.message);
        throw e;
    }
    process.exit(result.allowed ? 0 : 1);
}

main();
