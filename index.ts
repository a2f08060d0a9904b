import * as pulumi from "@pulumi/pulumi";
import { DateTime } from "luxon";
import { RunbookStack } from "./program/runbook-stack";
import { parseStackConfig } from "./config/load";
import { applyReleaseEnv, rawFromPulumiConfig } from "./config/sources";
import { CONFIG_NAMESPACE } from "./config/schema";
import { selfStackName, type DeploymentRecord } from "./lib/deployment-record";
import { strategyState } from "./lib/release";
import { readSignatureFile } from "./lib/signature-file";

/** The stack outputs of this program: what the next run and `ci:preview` read back. */
const OUTPUTS = ["activeColors", "canaryWeights", "serviceNames", "backupSchedule", "release", "deployment"] as const;

/**
 * The exit code with which the Node.js SDK tells the language host that the program failed
 * and already said why (its own `nodeJSProcessExitedAfterLoggingUserActionableMessage`).
 */
const FAILED_AFTER_REPORTING = 32;

/** The organization the engine runs the stack in; undefined where it reports none (older engines). */
function engineOrganization(): string | undefined {
    try {
        return pulumi.getOrganization();
    } catch {
        return undefined;
    }
}

/** The stack's resources and outputs for this run; throws, before registering anything, when it must not run. */
function deploy(previous: DeploymentRecord | undefined) {
    // Parse once, before any resource is registered: bad config stops here with every problem.
    const raw = rawFromPulumiConfig(
        pulumi.runtime.allConfig(),
        JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]") as string[],
    );
    const config = parseStackConfig({ ...raw, values: applyReleaseEnv(raw.values, process.env) });
    // Read before anything is registered too: a bad signature file stops the run with its problem.
    const signedApprovals = readSignatureFile(process.cwd(), pulumi.getStack());
    const databaseUrl = config.hasDatabaseUrl
        ? new pulumi.Config(CONFIG_NAMESPACE).requireSecret("databaseUrl")
        : undefined;
    const stack = new RunbookStack(pulumi.getStack(), {
        config,
        databaseUrl,
        previous,
        now: DateTime.utc(),
        signedApprovals,
    });
    return {
        // activeColors and canaryWeights: what `ci:preview` compares with the deployed stack.
        ...strategyState(config),
        serviceNames: stack.services.map((s) => s.serviceName),
        backupSchedule: stack.backup?.schedule ?? null,
        release: stack.release,
        /** What the next run reads back (see lib/deployment-record.ts). */
        deployment: stack.rollout.record,
    };
}

async function main() {
    // The last successful deployment of this very stack, read from its state by the engine:
    // when the idle colour was switched away from, what a rollback may go back to, and what
    // one took out of service.
    const self = new pulumi.StackReference(selfStackName(engineOrganization(), pulumi.getProject(), pulumi.getStack()));
    const last = Object.fromEntries(
        await Promise.all(OUTPUTS.map(async (k) => [k, await self.getOutputDetails(k)] as const)),
    );
    try {
        return deploy(last.deployment.value as DeploymentRecord | undefined);
    } catch (e) {
        // A program that throws leaves its stack without outputs, and the next run without the
        // record of the last deployment (a rollback it must not undo among them). So the run
        // fails here instead: the outputs as they were, the reason reported once, nothing
        // registered, and an exit code that makes the engine stop before any delete.
        pulumi.log.error(e instanceof pulumi.RunError || e instanceof Error ? e.message : String(e));
        if (!(e instanceof pulumi.RunError) && e instanceof Error && e.stack) pulumi.log.debug(e.stack);
        process.exitCode = FAILED_AFTER_REPORTING;
        return Object.fromEntries(
            Object.entries(last)
                .filter(([, d]) => d.value !== undefined || d.secretValue !== undefined)
                .map(([k, d]) => [k, d.secretValue !== undefined ? pulumi.secret(d.secretValue) : d.value]),
        );
    }
}

export = main();
