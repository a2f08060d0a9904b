// The release digest an approval signs: what is deployed (stack, version, commit, every
// image) and a hash of the stack's config, so an approval given to one release, stack or
// config cannot be reused for another. The approver signs a short statement that carries
// these fields, the digest over them, the role they approve as and when they signed.
import { createHash } from "node:crypto";
import * as canonicalizeModule from "canonicalize";
import { decodeConfigValue } from "./config-value";

type Canonicalize = (value: unknown) => string | undefined;
// canonicalize is CommonJS (module.exports = function). The program is compiled with
// esModuleInterop, the policy pack (by Pulumi's policy runner) without: find it either way.
const canonicalize = ((canonicalizeModule as unknown as { default?: Canonicalize }).default ??
    canonicalizeModule) as unknown as Canonicalize;

export const STATEMENT_HEADER = "runbook-as-code release approval v1";

/**
 * What moves during a release without a new approval: the release record itself (bound
 * through version and commit; it also carries the operator and a rollback note) and each
 * service's progress, the canary weight and the live colour. Left out of the config hash.
 */
const RELEASE_KEY = "runbook:release";
const SERVICES_KEY = "runbook:services";
const PROGRESS_PATHS = [
    ["canary", "weight"],
    ["blueGreen", "activeColor"],
] as const;

export interface ReleaseSubject {
    stack: string;
    version: string;
    commit: string;
    /** Every image reference the release may run, sorted and without repeats. */
    images: string[];
    /** sha256 of the stack's config (see configHash). */
    config: string;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/**
 * sha256 of the stack's config as the engine hands it to programs and policy packs
 * (`PULUMI_CONFIG`: every namespace, secrets in plain text, structured values as JSON),
 * less what a release moves through by itself, canonicalized (RFC 8785) so that key
 * order and spacing do not count.
 */
export function configHash(config: Record<string, string>): string {
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) if (k !== RELEASE_KEY) values[k] = decodeConfigValue(v);
    const services = values[SERVICES_KEY];
    if (services !== null && typeof services === "object" && !Array.isArray(services)) {
        const copy = JSON.parse(JSON.stringify(services)) as Record<
            string,
            Record<string, Record<string, unknown> | undefined> | undefined
        >;
        for (const s of Object.values(copy))
            for (const [section, key] of PROGRESS_PATHS)
                if (s?.[section] && typeof s[section] === "object") delete s[section]![key];
        values[SERVICES_KEY] = copy;
    }
    return sha256(canonicalize(values) as string);
}

/** The digest of a release: sha256 over its fields, canonicalized. */
export function releaseDigest(s: ReleaseSubject): string {
    return sha256(
        canonicalize({
            stack: s.stack,
            version: s.version,
            commit: s.commit,
            images: [...s.images].sort(),
            config: s.config,
        }) as string,
    );
}

export interface Statement {
    subject: ReleaseSubject;
    digest: string;
    role: string;
    signedAt: string;
}

/** The text an approver signs (one field per line, readable before signing). */
export function statementText(subject: ReleaseSubject, role: string, signedAt: string): string {
    return [
        STATEMENT_HEADER,
        `stack: ${subject.stack}`,
        `version: ${subject.version}`,
        `commit: ${subject.commit}`,
        ...[...subject.images].sort().map((i) => `image: ${i}`),
        `config: ${subject.config}`,
        `digest: ${releaseDigest(subject)}`,
        `role: ${role}`,
        `signed-at: ${signedAt}`,
        "",
    ].join("\n");
}

/** Reads a statement back; throws with what is wrong when it is not one. */
export function parseStatement(text: string): Statement {
    const lines = text.split("\n");
    if (lines[0] !== STATEMENT_HEADER)
        throw new Error(`not a release approval statement: the first line must be "${STATEMENT_HEADER}"`);
    const fields = new Map<string, string>();
    const images: string[] = [];
    for (const line of lines.slice(1)) {
        if (line === "") continue;
        const i = line.indexOf(": ");
        if (i < 0) throw new Error(`statement line ${JSON.stringify(line.slice(0, 80))}: expected "field: value"`);
        const [k, v] = [line.slice(0, i), line.slice(i + 2)];
        if (k === "image") images.push(v);
        else if (fields.has(k)) throw new Error(`statement: field ${k} appears twice`);
        else fields.set(k, v);
    }
    const need = ["stack", "version", "commit", "config", "digest", "role", "signed-at"];
    const missing = need.filter((k) => !fields.has(k));
    if (missing.length > 0) throw new Error(`statement: missing ${missing.join(", ")}`);
    const unknown = [...fields.keys()].filter((k) => !need.includes(k));
    if (unknown.length > 0) throw new Error(`statement: unknown field ${unknown.join(", ")}`);
    const subject: ReleaseSubject = {
        stack: fields.get("stack")!,
        version: fields.get("version")!,
        commit: fields.get("commit")!,
        images: images.sort(),
        config: fields.get("config")!,
    };
    const digest = fields.get("digest")!;
    if (digest !== releaseDigest(subject))
        throw new Error("statement: its digest does not match its fields (edited after it was made)");
    return { subject, digest, role: fields.get("role")!, signedAt: fields.get("signed-at")! };
}
