// What the pull-request and deploy entry points share: the stack's parsed config, the gate's
// verdict, and running the Pulumi CLI with an event log.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DateTime } from "luxon";
import { ConfigError } from "../config/errors";
import { parseStackConfig } from "../config/load";
import type { StackConfig } from "../config/types";
import { readStack, StackFileError, UnknownStackError } from "../config/stack-file";
import { decide, formatInstant, type GatePolicy, type GateResult } from "../policies/lib/deploy-gate";
import { configHash, type ReleaseSubject } from "../policies/lib/release-digest";
import { readSignatureFile, SignatureFileError } from "../lib/signature-file";
import { releaseForGate, type SignedApproval } from "../policies/lib/signed-approvals";
import { operatorKeyFingerprints } from "../policies/lib/ssh-signature";
import { parseEventLog, previewFacts, type PreviewFacts, type StrategyState } from "../lib/preview-summary";
import {
    drillRefusal,
    drillSettings,
    gatePolicy,
    parseGateConfig,
    PolicyConfigError,
    readGateConfigFile,
    resolveNow,
} from "../policies/settings";
import { releaseImages, releaseRecord, releaseStrategy } from "../lib/release";
import type { ReleaseRecord } from "../policies/lib/release-record";

export class UsageError extends Error {}

export function stackConfigOrProblems(
    dir: string,
    stack: string,
    env: NodeJS.ProcessEnv,
): { config?: StackConfig; problems?: string[] } {
    try {
        return { config: parseStackConfig(readStack(dir, stack, env)) };
    } catch (e) {
        if (e instanceof UnknownStackError) throw new UsageError(e.message);
        if (e instanceof ConfigError) return { problems: e.problems };
        if (e instanceof StackFileError) return { problems: [e.message] };
        throw e;
    }
}

/** The stack's parsed config; a UsageError naming the file and every problem when it has any. */
export function stackConfigOrThrow(dir: string, stack: string, env: NodeJS.ProcessEnv): StackConfig {
    const { config, problems } = stackConfigOrProblems(dir, stack, env);
    if (!config) throw new UsageError(`Pulumi.${stack}.yaml:\n${(problems ?? []).map((p) => `  - ${p}`).join("\n")}`);
    return config;
}

/** The stack `scripts/up.sh` creates: its config holds no secrets of value, under the empty passphrase. */
export const LOCAL_STACK = "local";

/**
 * The environment every command runs the engine with, for stack `stack` of the project in
 * `dir`: the project's toolchain first on PATH; the caller's backend, else the project's
 * own file backend (as up.sh); for the local stack, the empty passphrase up.sh gives it
 * unless the caller sets one. Another stack's passphrase is the caller's to give.
 */
export function commandEnv(dir: string, stack: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const passphraseGiven =
        env.PULUMI_CONFIG_PASSPHRASE !== undefined || env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined;
    return pulumiEnv(path.resolve(__dirname, ".."), {
        ...env,
        PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL ?? `file://${path.join(dir, ".pulumi-state")}`,
        ...(stack === LOCAL_STACK && !passphraseGiven ? { PULUMI_CONFIG_PASSPHRASE: "" } : {}),
    });
}

/** The stack's config as the engine hands it to the program and the pack (secrets in plain text). */
export function resolvedStackConfig(dir: string, stack: string, env: NodeJS.ProcessEnv): Record<string, string> {
    const runEnv = commandEnv(dir, stack, env);
    const r = spawnSync("pulumi", ["config", "--json", "--show-secrets", "--stack", stack, "--non-interactive"], {
        cwd: dir,
        env: runEnv,
        encoding: "utf8",
    });
    if (r.error || r.status !== 0)
        throw new UsageError(`pulumi config --stack ${stack} failed: ${(r.stderr || r.error?.message || "").trim()}`);
    const parsed = JSON.parse(r.stdout) as Record<string, { value?: string }>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v.value ?? ""]));
}

export interface StackContext {
    dir: string;
    stack: string;
    config: StackConfig;
}

/**
 * The release the gate judges, as the pack will see it: the stack's release record with
 * its signature file, and where the policy counts only signed approvals, the ones that
 * verify (notes say why the others do not).
 */
/** What an approval of the stack's release binds, as the pack will see it (its config read through the CLI). */
export function releaseSubject(ctx: StackContext, env: NodeJS.ProcessEnv): ReleaseSubject {
    const { release } = ctx.config;
    return {
        stack: ctx.stack,
        version: release.version,
        commit: release.commit ?? "",
        images: releaseImages(ctx.config),
        config: configHash(resolvedStackConfig(ctx.dir, ctx.stack, env)),
    };
}

export function gateRelease(
    ctx: StackContext,
    policy: GatePolicy,
    at: DateTime,
    env: NodeJS.ProcessEnv,
): { release: ReleaseRecord; notes: string[] } {
    const record = (signed: SignedApproval[]) =>
        releaseRecord(ctx.config.release, releaseStrategy(ctx.config), undefined, signed);
    let release: ReleaseRecord;
    try {
        release = record(readSignatureFile(ctx.dir, ctx.stack));
    } catch (e) {
        if (!(e instanceof SignatureFileError)) throw e;
        return {
            release: { ...record([]), approvals: policy.signatures ? [] : ctx.config.release.approvals },
            notes: [e.message],
        };
    }
    if (!policy.signatures) return { release, notes: [] };
    let subject: ReleaseSubject;
    try {
        subject = releaseSubject(ctx, env);
    } catch (e) {
        return {
            release: { ...release, approvals: [] },
            notes: [`signed approvals could not be checked: ${(e as Error).message}`],
        };
    }
    return releaseForGate(
        release,
        policy.signatures,
        {
            stack: subject.stack,
            images: subject.images,
            config: subject.config,
            operatorKeys: operatorKeyFingerprints(env),
        },
        at,
    );
}

/**
 * The deploy gate's verdict on the stack's release, as the pack will give it: the policy
 * config (a file, or the defaults), at `at` or the gate's own clock. The one implementation
 * behind `npm run window`, `ci:preview` and `ci:deploy`.
 */
export function gateVerdict(
    ctx: StackContext,
    policyConfigFile: string | undefined,
    env: NodeJS.ProcessEnv,
    at?: DateTime,
): { result: GateResult; at: DateTime; next?: string } {
    const gateConfig = policyConfigFile ? readGateConfigFile(policyConfigFile) : parseGateConfig({});
    at ??= resolveNow(gateConfig, env);
    const policy = gatePolicy(gateConfig, ctx.config.environment);
    const { release, notes } = gateRelease(ctx, policy, at, env);
    const result = decide({ environment: ctx.config.environment, at, policy, release, notes });
    const until = result.next?.end ? ` – ${formatInstant(result.next.end, policy.timeZone)}` : "";
    const next = result.next ? `${formatInstant(result.next.start, policy.timeZone)}${until}` : undefined;
    return { result, at, next };
}

/**
 * Why an update of this stack must not start with the environment it was given: the clock or
 * pull-request mode set while the stack applies to a cluster (the pack refuses it as well).
 */
export function drillRefusalFor(config: StackConfig, env: NodeJS.ProcessEnv): string | undefined {
    const settings = config.kubernetes.renderYamlToDirectory === undefined ? drillSettings(env) : [];
    return settings.length > 0 ? drillRefusal(settings) : undefined;
}

/** The CLI environment: this project's toolchain first on PATH. */
export function pulumiEnv(root: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const bin = path.join(root, ".toolchain", "bin");
    // The program is type-checked by the test command (`tsc --noEmit`); the engine runs it
    // transpile-only, which saves the ~9 s a type-check adds to every preview and update.
    return {
        ...env,
        PATH: fs.existsSync(bin) ? `${bin}:${env.PATH ?? ""}` : env.PATH,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
}

export interface PulumiRun {
    code: number | null;
    output: string;
    facts: PreviewFacts;
}

/** Runs `pulumi <args>` in `dir`, streaming its output, and reads its event log. */
/** The engine the commands run (`pulumi version`), for the records they write. */
export function engineVersion(env: NodeJS.ProcessEnv): string {
    const r = spawnSync("pulumi", ["version"], { env, encoding: "utf8" });
    return r.status === 0 ? `pulumi ${r.stdout.trim()}` : "pulumi (version unknown)";
}

export function runPulumi(dir: string, args: string[], env: NodeJS.ProcessEnv): PulumiRun {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-events-")), "events.jsonl");
    // --event-log is the engine's JSON event stream (what the Automation API reads); the CLI
    // offers the flag only with PULUMI_DEBUG_COMMANDS set.
    const r = spawnSync("pulumi", [...args, "--non-interactive", "--color", "never", "--event-log", log], {
        cwd: dir,
        env: { ...env, PULUMI_DEBUG_COMMANDS: "true" },
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    process.stderr.write(r.stdout + r.stderr);
    const events = fs.existsSync(log) ? parseEventLog(fs.readFileSync(log, "utf8")) : [];
    return { code: r.status, output: r.stdout + r.stderr, facts: previewFacts(events) };
}

/** The stack's last deployed outputs (before this change), or undefined if never deployed. */
export function deployedState(dir: string, stack: string, env: NodeJS.ProcessEnv): StrategyState | undefined {
    const r = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack, "--non-interactive"], {
        cwd: dir,
        env,
        encoding: "utf8",
    });
    if (r.status !== 0) return undefined;
    try {
        const o = JSON.parse(r.stdout) as Partial<StrategyState>;
        if (o.activeColors === undefined && o.canaryWeights === undefined) return undefined;
        return { activeColors: o.activeColors ?? {}, canaryWeights: o.canaryWeights ?? {} };
    } catch {
        return undefined;
    }
}

const isUsage = (e: unknown) =>
    e instanceof UsageError ||
    e instanceof PolicyConfigError ||
    (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true;

/**
 * What failed and what to do, in one line, for an error no command expected: the engine's
 * own `error:` line where it gave one (the Automation API wraps the CLI's whole output),
 * with the fix for the failures a newcomer meets first.
 */
export function failureLine(e: unknown): string {
    const message = e instanceof Error ? e.message : String(e);
    const fix: [RegExp, string][] = [
        [
            /passphrase must be set|incorrect passphrase/,
            "the stack's secrets need its passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) and run again",
        ],
        [
            /no stack named|stack '[^']*' not found/i,
            "the stack does not exist in this backend: `bash scripts/up.sh` creates the local one; set PULUMI_BACKEND_URL for a shared one",
        ],
        [
            /currently locked|update is already in progress/i,
            "another update of this stack holds its lock: wait for it; if it was killed, `bash scripts/up.sh` " +
                "(local) or `pulumi cancel` clears it",
        ],
        [
            /ECONNREFUSED|Unable to connect to the server|connection refused|no such host/i,
            "the cluster does not answer: `npm run --silent cluster -- up` starts the local one",
        ],
        [
            /PULUMI_ACCESS_TOKEN|pulumi login/i,
            "no backend: set PULUMI_BACKEND_URL (the project's own: file://<dir>/.pulumi-state)",
        ],
    ];
    const known = fix.find(([re]) => re.test(message));
    const engineLine = /(?:^|\s)error: (.+)$/m.exec(message)?.[1];
    const first = (engineLine ?? message.split("\n").find((l) => l.trim() !== "") ?? "unknown error").trim();
    const what = first.length > 300 ? `${first.slice(0, 297)}...` : first;
    return known ? `${what}; ${known[1]}` : `${what} (RUNBOOK_DEBUG=1 shows the details)`;
}

/** Reports a failure no command expected: one line, or everything with RUNBOOK_DEBUG=1. */
function reportFailure(name: string, e: unknown): void {
    if (process.env.RUNBOOK_DEBUG) process.stderr.write(`${name}: ${(e as Error).stack ?? String(e)}\n`);
    else process.stderr.write(`${name}: failed: ${failureLine(e)}\n`);
}

/**
 * The usage a command's source opens with: its leading `//` comment lines, which stay the
 * one place it is written.
 */
export function usageOf(command: string): string {
    const lines: string[] = [];
    // From the source, not __filename: a command runs bundled (scripts/fresh-bundle.cjs).
    const source = path.resolve(__dirname, "..", "scripts", `${command}.ts`);
    for (const line of fs.readFileSync(source, "utf8").split("\n")) {
        if (!line.startsWith("//")) break;
        lines.push(line.replace(/^\/\/ ?/, ""));
    }
    return `${lines.join("\n")}\n`;
}

/** Prints the usage and answers true when `argv` asks for help (`--help` or `-h`). */
export function printedHelp(command: string, argv: string[]): boolean {
    if (!argv.includes("--help") && !argv.includes("-h")) return false;
    process.stdout.write(usageOf(command));
    return true;
}

/**
 * Runs an async entry point that drives the Automation API, then exits at once (it can leave
 * handles open: gRPC, event-log tailers). Bad arguments exit 2; an error of class `refused`
 * exits 1 with "refused: …"; anything else exits 1 with one line saying what failed.
 */
export function runMainAsync(
    name: string,
    main: () => Promise<number>,
    refused?: new (...args: never[]) => Error,
): void {
    main().then(
        (code) => process.exit(code),
        (e: unknown) => {
            if (refused && e instanceof refused) process.stderr.write(`${name}: refused: ${e.message}\n`);
            else if (isUsage(e)) process.stderr.write(`${name}: ${(e as Error).message}\n`);
            else reportFailure(name, e);
            process.exit(isUsage(e) ? 2 : 1);
        },
    );
}

/** Runs an entry point: its return value is the exit code; bad arguments exit 2 with a message, failures 1. */
export function runMain(name: string, main: () => number): void {
    try {
        process.exitCode = main();
    } catch (e) {
        if (isUsage(e)) {
            process.stderr.write(`${name}: ${(e as Error).message}\n`);
            process.exitCode = 2;
        } else {
            reportFailure(name, e);
            process.exitCode = 1;
        }
    }
}
