// Where a stack's raw `runbook:*` values come from besides its stack file
// (config/stack-file.ts): Pulumi's config map inside the program, and the CI variables
// that fill in the release record.
import { decodeConfigValue } from "../lib/config-value";
import { CONFIG_NAMESPACE } from "./schema";
import type { RawConfig } from "./types";

/**
 * CI variables that fill in the release record without editing the stack file:
 * RUNBOOK_RELEASE_VERSION, RUNBOOK_RELEASE_COMMIT, RUNBOOK_RELEASE_OPERATOR,
 * RUNBOOK_RELEASE_APPROVALS ("name:role,name:role"), RUNBOOK_HOTFIX_POSTMORTEM.
 */
export function applyReleaseEnv(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
    const given = values.release;
    // A release of the wrong type is left for the schema to report.
    if (given !== undefined && (given === null || typeof given !== "object" || Array.isArray(given))) return values;
    const release: Record<string, unknown> = { ...(given as object | undefined) };
    let changed = false;
    const set = (key: string, v: unknown) => {
        release[key] = v;
        changed = true;
    };
    if (env.RUNBOOK_RELEASE_VERSION) set("version", env.RUNBOOK_RELEASE_VERSION);
    if (env.RUNBOOK_RELEASE_COMMIT) set("commit", env.RUNBOOK_RELEASE_COMMIT);
    if (env.RUNBOOK_RELEASE_OPERATOR) set("operator", env.RUNBOOK_RELEASE_OPERATOR);
    if (env.RUNBOOK_RELEASE_APPROVALS !== undefined)
        set(
            "approvals",
            env.RUNBOOK_RELEASE_APPROVALS.split(",")
                .map((s) => s.trim())
                .filter((s) => s !== "")
                .map((s) => {
                    const i = s.lastIndexOf(":");
                    return i < 0 ? { name: s, role: "" } : { name: s.slice(0, i), role: s.slice(i + 1) };
                }),
        );
    if (env.RUNBOOK_HOTFIX_POSTMORTEM)
        set("hotfix", { ...(release.hotfix as object | undefined), postmortem: env.RUNBOOK_HOTFIX_POSTMORTEM });
    return changed ? { ...values, release } : values;
}

/**
 * Decodes Pulumi's flat config map ("runbook:key" → string, structured values as JSON)
 * into RawConfig. Keys of other namespaces (kubernetes:, aws:) are not ours to judge.
 */
export function rawFromPulumiConfig(all: Record<string, string>, secretKeys: Iterable<string>): RawConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) {
        if (!k.startsWith(prefix)) continue;
        values[k.slice(prefix.length)] = decodeConfigValue(v);
    }
    const secrets = new Set<string>();
    for (const k of secretKeys) if (k.startsWith(prefix)) secrets.add(k.slice(prefix.length));
    return { values, secretKeys: secrets };
}
