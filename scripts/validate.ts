// npm run --silent validate -- --stack <name> [--dir <project dir>]
// Parses Pulumi.<name>.yaml through the program's schema without running Pulumi.
// Exit codes: 0 valid, 1 invalid (every problem printed), 2 unusable arguments.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { applyReleaseEnv, ConfigError, parseStackConfig } from "../config/load";
import { knownStacks, rawFromStackFile, StackFileError, stackFilePath } from "../config/stack-file";

function usage(message: string): never {
    process.stderr.write(`validate: ${message}\nusage: npm run --silent validate -- --stack <name> [--dir <project dir>]\n`);
    process.exit(2);
}

function main(): void {
    let args;
    try {
        args = parseArgs({ options: { stack: { type: "string" }, dir: { type: "string" } }, strict: true });
    } catch (e) {
        usage((e as Error).message);
    }
    const dir = path.resolve(args.values.dir ?? path.join(__dirname, ".."));
    const stack = args.values.stack;
    if (!stack) usage("--stack is required");
    const file = stackFilePath(dir, stack);
    if (!fs.existsSync(file)) usage(`unknown stack '${stack}': ${path.basename(file)} not found (known: ${knownStacks(dir).join(", ") || "none"})`);
    try {
        const raw = rawFromStackFile(file);
        const cfg = parseStackConfig({ ...raw, values: applyReleaseEnv(raw.values, process.env) });
        process.stdout.write(
            `${path.basename(file)}: valid (${cfg.environment}, ${cfg.services.length} service(s): ` +
                `${cfg.services.map((s) => `${s.name}/${s.strategy}`).join(", ")})\n`,
        );
    } catch (e) {
        if (e instanceof ConfigError) {
            process.stdout.write(`${path.basename(file)}: ${e.message}\n`);
            process.exit(1);
        }
        if (e instanceof StackFileError) usage(e.message);
        throw e;
    }
}

main();
