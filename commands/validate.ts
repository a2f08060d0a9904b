// npm run --silent validate -- --stack <name> [--dir <project dir>]
// Parses Pulumi.<name>.yaml through the program's schema without running Pulumi.
// Exit codes: 0 valid, 1 invalid (every problem printed), 2 unusable arguments.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors";
import { parseStackConfig } from "../config/load";
import { readStack, StackFileError, stackFilePath, UnknownStackError } from "../config/stack-file";
import { ROOT } from "./engine";
import { UsageError } from "./errors";

function usage(message: string): never {
    throw new UsageError(`${message}\nusage: npm run --silent validate -- --stack <name> [--dir <project dir>]`);
}

export function run(argv: string[]): number {
    let args;
    try {
        args = parseArgs({ args: argv, options: { stack: { type: "string" }, dir: { type: "string" } }, strict: true });
    } catch (e) {
        usage((e as Error).message);
    }
    const dir = path.resolve(args.values.dir ?? ROOT);
    const stack = args.values.stack;
    if (!stack) usage("--stack is required");
    const file = path.basename(stackFilePath(dir, stack));
    try {
        const cfg = parseStackConfig(readStack(dir, stack, process.env));
        process.stdout.write(
            `${file}: valid (${cfg.environment}, ${cfg.services.length} service(s): ` +
                `${cfg.services.map((s) => `${s.name}/${s.strategy}`).join(", ")})\n`,
        );
    } catch (e) {
        if (e instanceof ConfigError) {
            process.stdout.write(`${file}: ${e.message}\n`);
            return 1;
        }
        if (e instanceof UnknownStackError) usage(e.message);
        if (e instanceof StackFileError) usage(e.message);
        throw e;
    }
    return 0;
}
