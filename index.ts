import * as pulumi from "@pulumi/pulumi";
import { DateTime } from "luxon";
import { RunbookStack } from "./components/runbook-stack";
import { parseStackConfig } from "./config/load";
import { applyReleaseEnv, rawFromPulumiConfig } from "./config/sources";
import { CONFIG_NAMESPACE } from "./config/schema";
import type { DeploymentRecord } from "./lib/deployment-record";
import { strategyState } from "./lib/release";
import { readSignatureFile } from "./lib/signature-file";

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

async function main() {
    // The last successful deployment of this very stack, read from its state by the engine:
    // when the idle colour was switched away from, and what a rollback may go back to.
    const self = new pulumi.StackReference(`organization/${pulumi.getProject()}/${pulumi.getStack()}`);
    const previous = (await self.getOutputDetails("deployment")).value as DeploymentRecord | undefined;

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

export = main();
