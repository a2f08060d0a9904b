// What `npm run release` and `npm run rollback` share: the stack through Pulumi's Automation
// API (the same CLI, engine and policy pack as `pulumi up`), its config and its cluster.
import * as path from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import type { StackConfig } from "../config/types";
import { commandEnv, drillRefusalFor, stackConfigOrThrow, UsageError } from "./ci-common";

export const ROOT = path.resolve(__dirname, "..");

export interface Opened {
    dir: string;
    stackName: string;
    config: StackConfig;
    stack: Stack;
    env: NodeJS.ProcessEnv;
}

/**
 * The stack `name` of the project in `dir`, its parsed config (a bad one is a UsageError
 * listing every problem, before anything changes) and an Automation API handle on it, in
 * the environment of commandEnv (backend, toolchain, the local stack's passphrase).
 */
export async function openStack(dir: string, name: string, env: NodeJS.ProcessEnv): Promise<Opened> {
    const config = stackConfigOrThrow(dir, name, env);
    const drill = drillRefusalFor(config, env);
    if (drill) throw new UsageError(drill);
    const runEnv = commandEnv(dir, name, env);
    const envVars = Object.fromEntries(Object.entries(runEnv).filter((e): e is [string, string] => e[1] !== undefined));
    // The Automation API finds `pulumi` on this process's PATH.
    process.env.PATH = runEnv.PATH;
    const stack = await LocalWorkspace.selectStack({ stackName: name, workDir: dir }, { workDir: dir, envVars });
    return { dir, stackName: name, config, stack, env: runEnv };
}

/**
 * `pulumi up` with the policy pack, output streamed, recorded in the stack's history under
 * `message`. No preview first: the deploy gate judges each step before the engine runs it,
 * and a program that refuses (a rollback it would undo) registers nothing. `seconds` is the
 * update's own duration as the engine reports it (`Duration:` of `pulumi up`);
 * `wallSeconds` adds the CLI's and plugins' start-up.
 */
export async function up(
    o: Opened,
    message: string,
    policyConfig?: string,
): Promise<{ ok: boolean; seconds: number; wallSeconds: number; error?: string }> {
    const packs = {
        policyPacks: [path.join(o.dir, "policies")],
        ...(policyConfig ? { policyPackConfigs: [path.resolve(policyConfig)] } : {}),
    };
    const t0 = Date.now();
    // The engine's own duration of the update (what `pulumi up` prints as "Duration:"),
    // from its summary event.
    let engineSeconds: number | undefined;
    const update = () =>
        o.stack.up({
            message,
            ...packs,
            onOutput: (s) => process.stderr.write(s),
            onEvent: (e) => {
                if (e.summaryEvent) engineSeconds = e.summaryEvent.durationSeconds;
            },
        });
    try {
        try {
            await update();
        } catch (e) {
            if (!isLanguageHostRace((e as Error).message)) throw e;
            // The engine may have applied every step before the host crashed; the state
            // records what it did, so a second update converges instead of guessing.
            process.stderr.write(
                "[automation] the Node.js language host crashed after the program ran (a known race in this " +
                    "CLI version); running the update once more\n",
            );
            await update();
        }
        const wallSeconds = (Date.now() - t0) / 1000;
        return { ok: true, seconds: engineSeconds ?? wallSeconds, wallSeconds };
    } catch (e) {
        const wallSeconds = (Date.now() - t0) / 1000;
        return { ok: false, seconds: wallSeconds, wallSeconds, error: (e as Error).message };
    }
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
