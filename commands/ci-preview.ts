// The pull-request entry point, per stack:
//   npm run --silent ci:preview -- --stack <name> --out <summary.md> [--policy-config FILE] [--dir DIR]
// validate the stack config → ask the deploy gate → `pulumi preview --diff` with the policy
// pack in pull-request mode → a Markdown summary. Exits 1 only for what must block a merge
// (invalid config, mandatory policy violations, a failed preview); 2 on unusable arguments.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { markdownSummary } from "../lib/preview-summary";
import { strategyState } from "../lib/release";
import { deployedState, preview, ROOT, selectStack } from "./engine";
import { UsageError } from "./errors";
import { gateVerdict, stackConfigOrProblems } from "./stack";

export async function run(argv: string[]): Promise<number> {
    const { values: o } = parseArgs({
        args: argv,
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
    const engine = await selectStack(dir, stack, process.env, { RUNBOOK_DEPLOY_MODE: "pull-request" });
    const before = await deployedState(engine);
    const previewed = await preview(engine, o["policy-config"]);

    const blocking: string[] = [];
    const mandatory = previewed.facts.policies.filter((p) => p.level === "mandatory");
    if (mandatory.length > 0)
        blocking.push(`${mandatory.length} mandatory policy violation${mandatory.length === 1 ? "" : "s"}`);
    if (!previewed.ok && mandatory.length === 0) blocking.push("pulumi preview failed");
    write(
        markdownSummary({
            stack,
            environment: config.environment,
            facts: previewed.facts,
            before,
            after: strategyState(config),
            window: { allowed: gate.result.allowed, summary: gate.result.summary, next: gate.next },
            blocking,
        }),
    );
    return blocking.length === 0 ? 0 : 1;
}
