// The errors every command may end with, and how the entry point (commands/main.ts) turns
// them into an exit code and one line on stderr.
import { PolicyConfigError } from "../policies/settings";

/** The arguments or the input cannot be used: exit 2, nothing was changed. */
export class UsageError extends Error {}

/** The command was understood and said no (a rollback that cannot go back, an approval that does not match): exit 1. */
export class RefusedError extends Error {}

/** Bad arguments or input: node's own argument errors and the policy config's count as such. */
export const isUsage = (e: unknown): boolean =>
    e instanceof UsageError ||
    e instanceof PolicyConfigError ||
    (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true;

const FIXES: [RegExp, string][] = [
    [
        /passphrase must be set|incorrect passphrase/,
        "the stack's secrets need its passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) and run again",
    ],
    [
        /no stack named|stack '[^']*' not found/i,
        "the stack does not exist in this backend: `bash scripts/up.sh` creates the local one; set PULUMI_BACKEND_URL for a shared one",
    ],
    [
        /currently locked|update is already in progress/i,
        "another update of this stack holds its lock: wait for it; if it was killed, `bash scripts/up.sh` " +
            "(local) or `pulumi cancel` clears it",
    ],
    [
        /ECONNREFUSED|Unable to connect to the server|connection refused|no such host/i,
        "the cluster does not answer: `npm run --silent cluster -- up` starts the local one",
    ],
    [
        /PULUMI_ACCESS_TOKEN|pulumi login/i,
        "no backend: set PULUMI_BACKEND_URL (the project's own: file://<dir>/.pulumi-state)",
    ],
];

/**
 * What failed and what to do, in one line, for an error no command expected: the engine's
 * own `error:` line where it gave one (the Automation API wraps the CLI's whole output),
 * with the fix for the failures a newcomer meets first.
 */
export function failureLine(e: unknown): string {
    const message = e instanceof Error ? e.message : String(e);
    const known = FIXES.find(([re]) => re.test(message));
    const engineLine = /(?:^|\s)error: (.+)$/m.exec(message)?.[1];
    const first = (engineLine ?? message.split("\n").find((l) => l.trim() !== "") ?? "unknown error").trim();
    const what = first.length > 300 ? `${first.slice(0, 297)}...` : first;
    return known ? `${what}; ${known[1]}` : `${what} (RUNBOOK_DEBUG=1 shows the details)`;
}
