// What the commands know about a stack before the engine runs: its parsed config, the deploy
// gate's verdict on its release (as the policy pack will give it), and the stack opened for
// release and rollback.
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
import {
    drillRefusal,
    drillSettings,
    gatePolicy,
    parseGateConfig,
    readGateConfigFile,
    resolveNow,
} from "../policies/settings";
import { releaseImages, releaseRecord, releaseStrategy } from "../lib/release";
import type { ReleaseRecord } from "../policies/lib/release-record";
import { resolvedStackConfig, selectStack, type Opened } from "./engine";
import { UsageError } from "./errors";

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

export interface StackContext {
    dir: string;
    stack: string;
    config: StackConfig;
}

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

/**
 * The release the gate judges, as the pack will see it: the stack's release record with
 * its signature file, and where the policy counts only signed approvals, the ones that
 * verify (notes say why the others do not).
 */
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

/**
 * The stack `name` of the project in `dir`, its parsed config (a bad one is a UsageError
 * listing every problem, before anything changes) and an Automation API handle on it, in
 * the environment of commandEnv (backend, toolchain, the local stack's passphrase).
 */
export async function openStack(dir: string, name: string, env: NodeJS.ProcessEnv): Promise<Opened> {
    const config = stackConfigOrThrow(dir, name, env);
    const drill = drillRefusalFor(config, env);
    if (drill) throw new UsageError(drill);
    return { ...(await selectStack(dir, name, env)), config };
}
