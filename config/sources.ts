// Where a stack's raw `runbook:*` values come from besides its stack file
// (config/stack-file.ts): Pulumi's config map inside the program, and the CI variables
// that fill in the release record.
import { decodeConfigValue } from "../policies/lib/config-value";
import { CONFIG_NAMESPACE } from "./schema";
import type { RawConfig } from "./types";

/** Release fields given besides the stack file: by CI variables, or by a command's flags. */
export interface ReleaseOverrides {
    version?: string;
    commit?: string;
    operator?: string;
    /** "name:role,name:role" */
    approvals?: string;
    /** Marks the release a hotfix (`release.hotfix`), keeping what the stack file says of it. */
    hotfix?: boolean;
    postmortem?: string;
}

/**
 * The CI variables that fill in the release record without editing the stack file:
 * RUNBOOK_RELEASE_VERSION, RUNBOOK_RELEASE_COMMIT, RUNBOOK_RELEASE_OPERATOR,
 * RUNBOOK_RELEASE_APPROVALS ("name:role,name:role"), RUNBOOK_HOTFIX_POSTMORTEM.
 */
export function releaseOverridesFromEnv(env: NodeJS.ProcessEnv): ReleaseOverrides {
    return {
        ...(env.RUNBOOK_RELEASE_VERSION ? { version: env.RUNBOOK_RELEASE_VERSION } : {}),
        ...(env.RUNBOOK_RELEASE_COMMIT ? { commit: env.RUNBOOK_RELEASE_COMMIT } : {}),
        ...(env.RUNBOOK_RELEASE_OPERATOR ? { operator: env.RUNBOOK_RELEASE_OPERATOR } : {}),
        ...(env.RUNBOOK_RELEASE_APPROVALS !== undefined ? { approvals: env.RUNBOOK_RELEASE_APPROVALS } : {}),
        ...(env.RUNBOOK_HOTFIX_POSTMORTEM ? { postmortem: env.RUNBOOK_HOTFIX_POSTMORTEM } : {}),
    };
}

/** The stack's values with `overrides` applied to its release record. */
export function applyReleaseOverrides(values: Record<string, unknown>, o: ReleaseOverrides): Record<string, unknown> {
    const given = values.release;
    // A release of the wrong type is left for the schema to report.
    if (given !== undefined && (given === null || typeof given !== "object" || Array.isArray(given))) return values;
    const release: Record<string, unknown> = { ...(given as object | undefined) };
    let changed = false;
    const set = (key: string, v: unknown) => {
        release[key] = v;
        changed = true;
    };
    if (o.version) set("version", o.version);
    if (o.commit) set("commit", o.commit);
    if (o.operator) set("operator", o.operator);
    if (o.approvals !== undefined)
        set(
            "approvals",
            o.approvals
                .split(",")
                .map((s) => s.trim())
                .filter((s) => s !== "")
                .map((s) => {
                    const i = s.lastIndexOf(":");
                    return i < 0 ? { name: s, role: "" } : { name: s.slice(0, i), role: s.slice(i + 1) };
                }),
        );
    if (o.hotfix || o.postmortem)
        set("hotfix", {
            ...(release.hotfix as object | undefined),
            ...(o.postmortem ? { postmortem: o.postmortem } : {}),
        });
    return changed ? { ...values, release } : values;
}

/** The stack's values with the CI variables of `env` applied (see releaseOverridesFromEnv). */
export function applyReleaseEnv(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
    return applyReleaseOverrides(values, releaseOverridesFromEnv(env));
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
