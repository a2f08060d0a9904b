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
import { engineVersion, previewThenUp, ROOT, selectStack } from "./engine";
import { UsageError } from "./errors";
import { drillRefusalFor, gateVerdict, stackConfigOrProblems } from "./stack";

export async function run(argv: string[]): Promise<number> {
    const { values: o } = parseArgs({
        args: argv,
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
    const engine = await selectStack(dir, stack, process.env, { RUNBOOK_DEPLOY_MODE: "deploy" });
    const deployed = await previewThenUp(engine, `deploy ${release.version}`, o["policy-config"]);
    const violations = deployed.facts.policies.map((p) => ({
        level: p.level,
        policy: p.policy,
        resource: p.resource ?? null,
        message: p.message,
    }));
    const why = gate.result.viaHotfix ? `hotfix: ${gate.result.summary}` : gate.result.summary;
    write({
        ...base,
        engine: engineVersion(engine),
        result: deployed.ok ? "succeeded" : "failed",
        reason: deployed.ok ? why : `pulumi ${deployed.operation} failed`,
        finished: new Date().toISOString(),
        policy: violations,
    });
    return deployed.ok ? 0 : 1;
}
