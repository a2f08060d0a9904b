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
import type { ReleaseOverrides } from "../config/sources";
import { CalendarError } from "../policies/lib/calendar";
import { parseInstant, PolicyConfigError } from "../policies/settings";
import { ROOT } from "./engine";
import { UsageError } from "./errors";
import { gateVerdict } from "./stack";

/** The verdict for scripts (--json). */
function printJson(stack: string, environment: string, verdict: ReturnType<typeof gateVerdict>): void {
    const { result } = verdict;
    const iso = (t?: { toISO(): string | null }) => (t ? t.toISO() : null);
    const out = {
        stack,
        environment,
        at: verdict.at.toISO(),
        allowed: result.allowed,
        viaHotfix: result.viaHotfix,
        reason: result.verdict.reason,
        problems: result.problems,
        nextWindow: result.next ? { start: iso(result.next.start), end: iso(result.next.end) } : null,
        summary: result.summary,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}

export function run(argv: string[]): number {
    // Bad flags are node's ERR_PARSE_ARGS errors: the entry point reports them (exit 2).
    const { values: o } = parseArgs({
        args: argv,
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
    const dir = path.resolve(o.dir ?? ROOT);
    if (!o.stack) throw new UsageError("--stack is required");
    const stack = o.stack;

    let at;
    if (o.at !== undefined) {
        at = parseInstant(o.at);
        if (!at)
            throw new UsageError(
                `--at: expected an ISO 8601 instant with offset such as 2026-11-26T15:55:00+01:00, got ${JSON.stringify(o.at)}`,
            );
    }

    // The flags fill in the release as the CI variables do, over them; nothing goes through the environment.
    const overrides: ReleaseOverrides = {
        ...(o.operator ? { operator: o.operator } : {}),
        ...(o.approvals !== undefined ? { approvals: o.approvals } : {}),
        ...(o.hotfix ? { hotfix: true } : {}),
        ...(o.postmortem ? { postmortem: o.postmortem } : {}),
    };
    let cfg;
    try {
        cfg = parseStackConfig(readStack(dir, stack, process.env, overrides));
    } catch (e) {
        if (e instanceof ConfigError || e instanceof StackFileError || e instanceof UnknownStackError)
            throw new UsageError(e.message);
        throw e;
    }

    let verdict;
    try {
        verdict = gateVerdict({ dir, stack, config: cfg }, o["policy-config"], process.env, at);
    } catch (e) {
        // A policy config or gate clock (RUNBOOK_NOW, the config's `now`) that cannot be used.
        if (e instanceof PolicyConfigError) throw new UsageError(e.problems.length === 1 ? e.problems[0] : e.message);
        if (e instanceof CalendarError) throw new UsageError(e.message);
        throw e;
    }
    const { result, next } = verdict;
    if (o.json) printJson(stack, cfg.environment, verdict);
    else {
        process.stdout.write(`${result.allowed ? "ALLOWED" : "DENIED"}: ${result.summary}\n`);
        if (!result.allowed) for (const p of result.problems) process.stdout.write(`  - ${p}\n`);
        if (next) process.stdout.write(`next window: ${next}\n`);
    }
    return result.allowed ? 0 : 1;
}
