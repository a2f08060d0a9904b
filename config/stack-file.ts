// Reads Pulumi.<stack>.yaml the way the Pulumi CLI sees it, without running Pulumi, so
// `npm run validate` and the tests judge exactly what `pulumi up` would be given.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { checkLimits, InputLimitError } from "../policies/lib/input-limits";
import { CONFIG_NAMESPACE } from "./schema";
import { applyReleaseOverrides, releaseOverridesFromEnv, type ReleaseOverrides } from "./sources";
import type { RawConfig } from "./types";

export class StackFileError extends Error {}

/** A stack file far bigger than any real one is refused unread. */
export const MAX_STACK_FILE_BYTES = 1024 * 1024;

/** No Pulumi.<stack>.yaml beside Pulumi.yaml. */
export class UnknownStackError extends Error {}

/** A config key of one service, as `pulumi config set --path` takes it: `runbook:services.api.canary.weight`. */
export function serviceKey(service: string, ...rest: string[]): string {
    return [`${CONFIG_NAMESPACE}:services`, service, ...rest].join(".");
}

/**
 * The `release.rollback` record as stack config values (`pulumi config set --path` keys):
 * what `npm run rollback` and a release's automatic abort both write. `at` is an instant.
 */
export function rollbackRecordValues(r: { reason: string; by: string; at: string }): Record<string, string> {
    return {
        [`${CONFIG_NAMESPACE}:release.rollback.reason`]: r.reason,
        [`${CONFIG_NAMESPACE}:release.rollback.by`]: r.by,
        [`${CONFIG_NAMESPACE}:release.rollback.at`]: r.at,
    };
}

export function stackFilePath(projectDir: string, stack: string): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/** Stacks that have a Pulumi.<name>.yaml next to Pulumi.yaml. */
export function knownStacks(projectDir: string): string[] {
    return fs
        .readdirSync(projectDir)
        .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The `runbook:*` values of a stack file; `{secure: …}` values count as secrets. */
export function rawFromStackFile(file: string): RawConfig {
    let doc: unknown;
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
        checkLimits(text, file, { maxBytes: MAX_STACK_FILE_BYTES, maxDepth: 32 });
    } catch (e) {
        throw new StackFileError(e instanceof InputLimitError ? e.message : `${file}: ${(e as Error).message}`);
    }
    try {
        // The parser's own alias limit (100) stops an alias bomb before it expands.
        doc = parseYaml(text);
    } catch (e) {
        throw new StackFileError(`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    const config = (doc as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config))
        throw new StackFileError(`${file}: 'config' must be a map of keys to values`);
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [key, value] of Object.entries(config)) {
        // Keys without a namespace belong to the project, whose name is the namespace.
        const [ns, name] = key.includes(":")
            ? [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)]
            : [CONFIG_NAMESPACE, key];
        if (ns !== CONFIG_NAMESPACE) continue;
        if (isSecure(value)) {
            secretKeys.add(name);
            values[name] = "[secret]";
        } else {
            values[name] = value;
        }
    }
    return { values, secretKeys };
}

function isSecure(v: unknown): boolean {
    return (
        typeof v === "object" &&
        v !== null &&
        !Array.isArray(v) &&
        Object.keys(v).length === 1 &&
        typeof (v as { secure?: unknown }).secure === "string"
    );
}

/**
 * A stack's `runbook:*` values as the program would see them: read from
 * Pulumi.<stack>.yaml, with the RUNBOOK_RELEASE_* variables of `env` applied, then
 * `overrides` (a command's own flags) over them.
 */
export function readStack(
    projectDir: string,
    stack: string,
    env: NodeJS.ProcessEnv,
    overrides: ReleaseOverrides = {},
): RawConfig {
    const file = stackFilePath(projectDir, stack);
    if (!fs.existsSync(file))
        throw new UnknownStackError(
            `unknown stack '${stack}': ${path.basename(file)} not found (known: ${knownStacks(projectDir).join(", ") || "none"})`,
        );
    const raw = rawFromStackFile(file);
    return {
        ...raw,
        values: applyReleaseOverrides(raw.values, { ...releaseOverridesFromEnv(env), ...overrides }),
    };
}
