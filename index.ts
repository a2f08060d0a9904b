import * as pulumi from "@pulumi/pulumi";
import { RunbookStack } from "./components/runbook-stack";
import { applyReleaseEnv, parseStackConfig, rawFromPulumiConfig } from "./config/load";
import { CONFIG_NAMESPACE } from "./config/schema";

// Parse once, before any resource is registered: bad config stops here with every problem.
const raw = rawFromPulumiConfig(pulumi.runtime.allConfig(), JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]") as string[]);
const config = parseStackConfig({ ...raw, values: applyReleaseEnv(raw.values, process.env) });
const databaseUrl = config.hasDatabaseUrl ? new pulumi.Config(CONFIG_NAMESPACE).requireSecret("databaseUrl") : undefined;

const stack = new RunbookStack(pulumi.getStack(), { config, databaseUrl });

export const activeColors = Object.fromEntries(stack.services.filter((s) => s.blueGreen).map((s) => [s.serviceName, s.blueGreen!.activeColor]));
export const canaryWeights = Object.fromEntries(stack.services.filter((s) => s.canary).map((s) => [s.serviceName, s.canary!.plan.canaryWeight]));
export const serviceNames = stack.services.map((s) => s.serviceName);
export const backupSchedule = stack.backup?.schedule ?? null;
export const release = stack.release;
