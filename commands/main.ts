// The one entry point of the project's commands: `npm run --silent <command> -- [args]`
// starts `node .build/main.js <command> [args]` (scripts/fresh-bundle.cjs keeps the bundle
// fresh). It owns what every command shares: `--help` (the usage each command's source opens
// with), and how an outcome becomes an exit code —
//   0 done; 1 refused (RefusedError: "refused: …") or failed (one line saying what and what
//   to do; RUNBOOK_DEBUG=1 prints the stack); 2 unusable arguments or input (UsageError).
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./engine";
import { failureLine, isUsage, RefusedError } from "./errors";

/** A command: its arguments in, its exit code out. */
export type Command = (argv: string[]) => number | Promise<number>;

/**
 * Each command's module, loaded only when it runs (esbuild keeps a dynamic import lazy): a
 * rollback does not wait for the modules of the others.
 */
export const COMMANDS: Record<string, { source: string; load: () => Promise<{ run: Command }> }> = {
    release: { source: "release.ts", load: () => import("./release.js") },
    rollback: { source: "rollback.ts", load: () => import("./rollback.js") },
    status: { source: "status.ts", load: () => import("./status.js") },
    approve: { source: "approve.ts", load: () => import("./approve.js") },
    window: { source: "window.ts", load: () => import("./window.js") },
    validate: { source: "validate.ts", load: () => import("./validate.js") },
    load: { source: "load.ts", load: () => import("./load.js") },
    "ci:preview": { source: "ci-preview.ts", load: () => import("./ci-preview.js") },
    "ci:deploy": { source: "ci-deploy.ts", load: () => import("./ci-deploy.js") },
};

/** A command's usage: the leading `//` lines of its source, the one place it is written. */
export function usageOf(name: string): string {
    const lines: string[] = [];
    // From the source, not __filename: the commands run bundled.
    const source = path.join(ROOT, "commands", COMMANDS[name].source);
    for (const line of fs.readFileSync(source, "utf8").split("\n")) {
        if (!line.startsWith("//")) break;
        lines.push(line.replace(/^\/\/ ?/, ""));
    }
    return `${lines.join("\n")}\n`;
}

/** Runs command `name` with `argv` and answers its exit code; what it prints goes to stdout and stderr. */
export async function runCommand(name: string, argv: string[]): Promise<number> {
    const command = COMMANDS[name];
    if (!command) {
        process.stderr.write(
            `runbook: no command ${JSON.stringify(name)}; one of ${Object.keys(COMMANDS).join(", ")}\n`,
        );
        return 2;
    }
    if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(usageOf(name));
        return 0;
    }
    try {
        return await (await command.load()).run(argv);
    } catch (e) {
        if (e instanceof RefusedError) {
            process.stderr.write(`${name}: refused: ${e.message}\n`);
            return 1;
        }
        if (isUsage(e)) {
            process.stderr.write(`${name}: ${(e as Error).message}\n`);
            return 2;
        }
        if (process.env.RUNBOOK_DEBUG) process.stderr.write(`${name}: ${(e as Error).stack ?? String(e)}\n`);
        else process.stderr.write(`${name}: failed: ${failureLine(e)}\n`);
        return 1;
    }
}

// Exits once the command is done: the Automation API can leave handles open (gRPC, event-log
// tailers) that would keep the process alive. stdout is flushed first when it is a pipe.
if (require.main === module)
    void runCommand(process.argv[2] ?? "", process.argv.slice(3)).then((code) => {
        process.exitCode = code;
        if (process.stdout.writableNeedDrain) process.stdout.once("drain", () => process.exit(code));
        else process.exit(code);
    });
