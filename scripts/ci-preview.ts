// The pull-request entry point, per stack:
//   npm run --silent ci:preview -- --stack <name> --out <summary.md> [--policy-config FILE] [--dir DIR]
// validate the stack config → ask the deploy gate → `pulumi preview --diff` with the policy
// pack in pull-request mode → a Markdown summary. Exits 1 only for what must block a merge
// (invalid config, mandatory policy violations, a failed preview); 2 on unusable arguments.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { markdownSummary } from "../lib/preview-summary";
import {
    deployedState,
    gateVerdict,
    commandEnv,
    printedHelp,
    runMain,
    runPulumi,
    stackConfigOrProblems,
    UsageError,
} from "./ci-common";
import { strategyState } from "../lib/release";

const ROOT = path.resolve(__dirname, "..");

function main(): number {
    if (printedHelp("ci-preview", process.argv.slice(2))) return 0;
    const { values: o } = parseArgs({
        options: {
            stack: { type: "string" },
            out: { type: "string" },
            "policy-config": { type: "string" },
            dir: { type: "string" },
        },
        strict: true,
    });
    if (!o.stack || !o.out) throw new UsageError("--stack and --out are required");
    const dir = path.resolve(o.dir ?? ROOT);
    const stack = o.stack;
    const write = (md: string) => fs.writeFileSync(o.out as string, md + "\n");

    const { config, problems } = stackConfigOrProblems(dir, stack, process.env);
    if (!config) {
        write(
            markdownSummary({
                stack,
                environment: "unknown",
                configProblems: problems,
                blocking: ["the stack configuration is invalid"],
            }),
        );
        process.stderr.write(
            `ci-preview: ${stack}: invalid stack configuration:\n${(problems ?? []).map((p) => `  - ${p}`).join("\n")}\n`,
        );
        return 1;
    }
    const gate = gateVerdict({ dir, stack, config }, o["policy-config"], process.env);
    const env = { ...commandEnv(dir, stack, process.env), RUNBOOK_DEPLOY_MODE: "pull-request" };
    const before = deployedState(dir, stack, env);
    const args = ["preview", "--stack", stack, "--diff", "--policy-pack", path.join(dir, "policies")];
    if (o["policy-config"]) args.push("--policy-pack-config", path.resolve(o["policy-config"]));
    const run = runPulumi(dir, args, env);

    const blocking: string[] = [];
    const mandatory = run.facts.policies.filter((p) => p.level === "mandatory");
    if (mandatory.length > 0)
        blocking.push(`${mandatory.length} mandatory policy violation${mandatory.length === 1 ? "" : "s"}`);
    if (run.code !== 0 && mandatory.length === 0) blocking.push(`pulumi preview failed (exit ${run.code})`);
    write(
        markdownSummary({
            stack,
            environment: config.environment,
            facts: run.facts,
            before,
            after: strategyState(config),
            window: { allowed: gate.result.allowed, summary: gate.result.summary, next: gate.next },
            blocking,
        }),
    );
    return blocking.length === 0 ? 0 : 1;
}

runMain("ci-preview", main);
