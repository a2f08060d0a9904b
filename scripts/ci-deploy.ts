// The deploy entry point, per stack:
//   npm run --silent ci:deploy -- --stack <name> --record <record.json> [--policy-config FILE] [--dir DIR]
// validate → the deploy gate (windows, freezes, approvals) → `pulumi up` with the policy pack
// in deploy mode → a deployment record as the runbooks log it (timestamp, stack, version,
// commit, operator, strategy, approvals, result). A refused deploy never reaches `pulumi up`
// and is recorded too. Exit 0 deployed, 1 refused or failed, 2 unusable arguments.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { releaseRecord, releaseStrategy } from "../lib/release";
import {
    drillRefusalFor,
    gateVerdict,
    commandEnv,
    engineVersion,
    printedHelp,
    runMain,
    runPulumi,
    stackConfigOrProblems,
    UsageError,
} from "./ci-common";

const ROOT = path.resolve(__dirname, "..");

function main(): number {
    if (printedHelp("ci-deploy", process.argv.slice(2))) return 0;
    const { values: o } = parseArgs({
        options: {
            stack: { type: "string" },
            record: { type: "string" },
            "policy-config": { type: "string" },
            dir: { type: "string" },
        },
        strict: true,
    });
    if (!o.stack || !o.record) throw new UsageError("--stack and --record are required");
    const dir = path.resolve(o.dir ?? ROOT);
    const stack = o.stack;
    const started = new Date().toISOString();
    const write = (rec: Record<string, unknown>) =>
        fs.writeFileSync(o.record as string, JSON.stringify({ timestamp: started, stack, ...rec }, null, 2) + "\n");

    const { config, problems } = stackConfigOrProblems(dir, stack, process.env);
    if (!config) {
        write({ result: "refused", reason: "invalid stack configuration", problems });
        process.stderr.write(`ci-deploy: ${stack}: invalid stack configuration, not deployed\n`);
        return 1;
    }
    const release = releaseRecord(config.release, releaseStrategy(config));
    const base = {
        environment: config.environment,
        version: release.version,
        commit: release.commit ?? null,
        operator: release.operator ?? null,
        strategy: release.strategy,
        approvals: release.approvals,
        hotfix: release.hotfix ?? null,
    };
    const drill = drillRefusalFor(config, process.env);
    if (drill) {
        write({ ...base, result: "refused", reason: drill });
        process.stderr.write(`ci-deploy: ${drill}\nnot deployed: pulumi up was not run\n`);
        return 1;
    }
    const gate = gateVerdict({ dir, stack, config }, o["policy-config"], process.env);
    if (!gate.result.allowed) {
        write({
            ...base,
            result: "refused",
            reason: gate.result.summary,
            problems: gate.result.problems,
            nextWindow: gate.next ?? null,
        });
        process.stderr.write(`ci-deploy: ${gate.result.summary}\nnot deployed: pulumi up was not run\n`);
        return 1;
    }
    const env = { ...commandEnv(dir, stack, process.env), RUNBOOK_DEPLOY_MODE: "deploy" };
    const args = ["up", "--yes", "--stack", stack, "--policy-pack", path.join(dir, "policies")];
    if (o["policy-config"]) args.push("--policy-pack-config", path.resolve(o["policy-config"]));
    const run = runPulumi(dir, args, env);
    const violations = run.facts.policies.map((p) => ({
        level: p.level,
        policy: p.policy,
        resource: p.resource ?? null,
        message: p.message,
    }));
    write({
        ...base,
        engine: engineVersion(env),
        result: run.code === 0 ? "succeeded" : "failed",
        reason:
            run.code === 0
                ? gate.result.viaHotfix
                    ? `hotfix: ${gate.result.summary}`
                    : gate.result.summary
                : `pulumi up exited ${run.code}`,
        finished: new Date().toISOString(),
        policy: violations,
    });
    return run.code === 0 ? 0 : 1;
}

runMain("ci-deploy", main);
