// The one way the commands (and the tests, and the benchmarks) reach the Pulumi engine: the
// project's root and toolchain, the backend a command uses by default, and the stack through
// Pulumi's Automation API — the same CLI, engine and policy pack as `pulumi up`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as Automation from "@pulumi/pulumi/automation";
import type { StackConfig } from "../config/types";
import {
    previewFacts,
    type EngineEvent as SummaryEvent,
    type PreviewFacts,
    type StrategyState,
} from "../lib/preview-summary";
import { UsageError } from "./errors";

/** The project's checkout: where its stacks, pack and toolchain are. */
export const ROOT = path.resolve(__dirname, "..");

/** Where scripts/toolchain.sh installs the Pulumi CLI and its plugins. */
export const TOOLCHAIN_BIN = path.join(ROOT, ".toolchain", "bin");

/** The stack `scripts/up.sh` creates: its config holds no secrets of value, under the empty passphrase. */
export const LOCAL_STACK = "local";

/** The CLI environment: this project's toolchain first on PATH. */
export function pulumiEnv(env: NodeJS.ProcessEnv, toolchainBin = TOOLCHAIN_BIN): NodeJS.ProcessEnv {
    // The program is type-checked by the test command (`tsc --noEmit`); the engine runs it
    // transpile-only, which saves the ~9 s a type-check adds to every preview and update.
    return {
        ...env,
        PATH: fs.existsSync(toolchainBin) ? `${toolchainBin}:${env.PATH ?? ""}` : env.PATH,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
}

/**
 * The environment every command runs the engine with, for stack `stack` of the project in
 * `dir`: the project's toolchain first on PATH; the caller's backend, else the project's
 * own file backend (as up.sh); for the local stack, the empty passphrase up.sh gives it
 * unless the caller sets one. Another stack's passphrase is the caller's to give.
 */
export function commandEnv(dir: string, stack: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const passphraseGiven =
        env.PULUMI_CONFIG_PASSPHRASE !== undefined || env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined;
    return pulumiEnv({
        ...env,
        PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL ?? `file://${path.join(dir, ".pulumi-state")}`,
        ...(stack === LOCAL_STACK && !passphraseGiven ? { PULUMI_CONFIG_PASSPHRASE: "" } : {}),
    });
}

/**
 * The stack's config as the engine hands it to the program and the pack (secrets in plain
 * text). Synchronous, as the deploy gate that reads it is: the one engine call made with the
 * CLI directly.
 */
export function resolvedStackConfig(dir: string, stack: string, env: NodeJS.ProcessEnv): Record<string, string> {
    const r = spawnSync("pulumi", ["config", "--json", "--show-secrets", "--stack", stack, "--non-interactive"], {
        cwd: dir,
        env: commandEnv(dir, stack, env),
        encoding: "utf8",
    });
    if (r.error || r.status !== 0)
        throw new UsageError(`pulumi config --stack ${stack} failed: ${(r.stderr || r.error?.message || "").trim()}`);
    const parsed = JSON.parse(r.stdout) as Record<string, { value?: string }>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v.value ?? ""]));
}

/** A stack of the project in `dir` through the Automation API, in the environment of commandEnv. */
export interface EngineStack {
    dir: string;
    stackName: string;
    stack: Automation.Stack;
    env: NodeJS.ProcessEnv;
}

/** An opened stack with its parsed config: what release and rollback work on. */
export interface Opened extends EngineStack {
    config: StackConfig;
}

/** An Automation API handle on stack `name` of the project in `dir` (`extraEnv` over commandEnv's). */
export async function selectStack(
    dir: string,
    name: string,
    env: NodeJS.ProcessEnv,
    extraEnv: Record<string, string> = {},
): Promise<EngineStack> {
    const runEnv = { ...commandEnv(dir, name, env), ...extraEnv };
    const envVars = Object.fromEntries(Object.entries(runEnv).filter((e): e is [string, string] => e[1] !== undefined));
    // The Automation API finds `pulumi` on this process's PATH.
    process.env.PATH = runEnv.PATH;
    // Loaded when a command first needs the engine: a rollback restores traffic before that.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof Automation;
    const stack = await LocalWorkspace.selectStack({ stackName: name, workDir: dir }, { workDir: dir, envVars });
    return { dir, stackName: name, stack, env: runEnv };
}

/** The engine the commands run (`pulumi version`), for the records they write. */
export const engineVersion = (s: EngineStack): string =>
    `pulumi v${(s.stack.workspace as Automation.LocalWorkspace).pulumiVersion.replace(/^v/, "")}`;

/** The policy pack of the project in `dir`, with a policy config file when one is given. */
const packs = (dir: string, policyConfig?: string) => ({
    policyPacks: [path.join(dir, "policies")],
    ...(policyConfig ? { policyPackConfigs: [path.resolve(policyConfig)] } : {}),
});

/** What one engine run did: whether it succeeded, its engine events read as facts, its output. */
export interface EngineRun {
    operation: "preview" | "update";
    ok: boolean;
    facts: PreviewFacts;
    output: string;
    /** The engine's own duration of an update (`Duration:` of `pulumi up`); the wall time for a preview or a failure. */
    seconds: number;
    /** With the CLI's and plugins' start-up. */
    wallSeconds: number;
    error?: string;
}

/** Runs one preview or update, streaming its output to stderr, and keeps its engine events. */
async function engineRun(
    operation: EngineRun["operation"],
    run: (hooks: RunHooks) => Promise<unknown>,
): Promise<EngineRun> {
    const events: Automation.EngineEvent[] = [];
    let output = "";
    let engineSeconds: number | undefined;
    const hooks: RunHooks = {
        onOutput: (s) => {
            output += s;
            process.stderr.write(s);
        },
        onEvent: (e) => {
            events.push(e);
            if (e.summaryEvent) engineSeconds = e.summaryEvent.durationSeconds;
        },
    };
    const t0 = Date.now();
    let error: string | undefined;
    try {
        await run(hooks);
    } catch (e) {
        error = (e as Error).message;
    }
    const wallSeconds = (Date.now() - t0) / 1000;
    return {
        operation,
        ok: error === undefined,
        facts: previewFacts(events as SummaryEvent[]),
        output,
        seconds: error === undefined ? (engineSeconds ?? wallSeconds) : wallSeconds,
        wallSeconds,
        error,
    };
}

interface RunHooks {
    onOutput(s: string): void;
    onEvent(e: Automation.EngineEvent): void;
}

/** `pulumi preview --diff` with the project's policy pack. */
export function preview(s: EngineStack, policyConfig?: string): Promise<EngineRun> {
    return engineRun("preview", (hooks) => s.stack.preview({ diff: true, ...packs(s.dir, policyConfig), ...hooks }));
}

/**
 * `pulumi up` with the policy pack, recorded in the stack's history under `message`. The
 * Automation API runs no preview first; `previewThenUp` is what a deploy does.
 */
export async function up(s: EngineStack, message: string, policyConfig?: string): Promise<EngineRun> {
    const update = (hooks: RunHooks) => s.stack.up({ message, ...packs(s.dir, policyConfig), ...hooks });
    const run = await engineRun("update", update);
    if (run.ok || !isLanguageHostRace(run.error ?? "")) return run;
    // The engine may have applied every step before the host crashed; the state records
    // what it did, so a second update converges instead of guessing.
    process.stderr.write(
        "[engine] the Node.js language host crashed after the program ran (a known race in its " +
            "v3.68 release); running the update once more\n",
    );
    return engineRun("update", update);
}

/**
 * A preview, then the update only when the preview passed: what `pulumi up` does in a
 * terminal, and what CI's deploy does. The facts are both runs' (a violation once).
 */
export async function previewThenUp(s: EngineStack, message: string, policyConfig?: string): Promise<EngineRun> {
    const first = await preview(s, policyConfig);
    if (!first.ok) return first;
    const second = await up(s, message, policyConfig);
    const once = <T>(xs: T[]) => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];
    return {
        ...second,
        output: first.output + second.output,
        facts: {
            changes: second.facts.changes,
            policies: once([...first.facts.policies, ...second.facts.policies]),
            errors: once([...first.facts.errors, ...second.facts.errors]),
        },
    };
}

/** The stack's last deployed strategy state (before this change), or undefined if never deployed. */
export async function deployedState(s: EngineStack): Promise<StrategyState | undefined> {
    let outputs;
    try {
        outputs = await s.stack.outputs();
    } catch {
        return undefined;
    }
    const activeColors = outputs.activeColors?.value as StrategyState["activeColors"] | undefined;
    const canaryWeights = outputs.canaryWeights?.value as StrategyState["canaryWeights"] | undefined;
    if (activeColors === undefined && canaryWeights === undefined) return undefined;
    return { activeColors: activeColors ?? {}, canaryWeights: canaryWeights ?? {} };
}

/**
 * The Node.js language host of the CLI this project builds (v3.68) can panic with "send on
 * closed channel" while forwarding the program's last output, after the program has
 * finished; the update then fails although the program's resources were registered (fixed
 * upstream in later releases, pulumi/pulumi#13689). Nothing else is retried.
 */
export function isLanguageHostRace(message: string): boolean {
    return /panic: send on closed channel/.test(message) && /pulumi-language-nodejs/.test(message);
}
