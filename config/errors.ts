// How a problem with the stack configuration is told: the config path in the form users
// type (runbook:services.api.port), what was expected, what was given; zod's issues are
// turned into that form here, and only here.
import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import { describeValue } from "../components/checks";
import { CONFIG_NAMESPACE, stackConfigSchema } from "./schema";

export { describeValue };

/** A bad stack configuration: every problem, one per line, each with its config path. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Turns a config path into the `--path` form users type: runbook:services.api.port. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
    let out = "";
    for (const p of path) {
        if (typeof p === "number") out += `[${p}]`;
        else out += out === "" ? String(p) : `.${String(p)}`;
    }
    return `${CONFIG_NAMESPACE}:${out}`;
}

/** Known keys of the (possibly wrapped) schema found at `path`, for typo suggestions. */
function keysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
    let nodes: z.ZodType[] = [schema];
    const unwrap = (n: z.ZodType): z.ZodType[] => {
        const def = (n as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
        switch (def.type) {
            case "optional":
            case "default":
            case "prefault":
            case "nullable":
            case "readonly":
            case "catch":
                return unwrap(def.innerType as z.ZodType);
            case "pipe":
                return unwrap(def.in as z.ZodType);
            case "union":
                return (def.options as z.ZodType[]).flatMap(unwrap);
            default:
                return [n];
        }
    };
    for (const key of path) {
        const next: z.ZodType[] = [];
        for (const n of nodes.flatMap(unwrap)) {
            const def = (n as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
            if (def.type === "object" && typeof key === "string") {
                const child = (def.shape as Record<string, z.ZodType>)[key];
                if (child) next.push(child);
            } else if (def.type === "record") next.push(def.valueType as z.ZodType);
            else if (def.type === "array") next.push(def.element as z.ZodType);
        }
        nodes = next;
    }
    const keys = new Set<string>();
    for (const n of nodes.flatMap(unwrap)) {
        const def = (n as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
        if (def.type === "object") Object.keys(def.shape as object).forEach((k) => keys.add(k));
    }
    return [...keys].sort();
}

function unknownKeyMessage(path: ReadonlyArray<PropertyKey>, key: string): string {
    const known = keysAt(stackConfigSchema, path);
    const guess = known.length > 0 ? closest(key, known) : undefined;
    const near = guess !== undefined && distance(key, guess) <= Math.max(2, Math.floor(key.length / 3));
    const hint = near ? `did you mean '${guess}'?` : `known keys: ${known.join(", ")}`;
    return `${formatPath([...path, key])}: unknown key, ${hint}`;
}

/** One zod issue as messages in our form; unknown keys get the closest known key. */
export function issueMessages(issue: z.core.$ZodIssue): string[] {
    if (issue.code === "unrecognized_keys") return issue.keys.map((k) => unknownKeyMessage(issue.path, k));
    if (issue.code === "invalid_union" && issue.errors.length > 0 && issue.message.startsWith("Invalid")) {
        // A union with no message of ours: report what each branch wanted.
        return issue.errors
            .flat()
            .flatMap((i) => issueMessages({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue));
    }
    let given = (issue as { input?: unknown }).input;
    // Discriminators are reported at their own path with their parent as input.
    const last = issue.path[issue.path.length - 1];
    if (
        given !== null &&
        typeof given === "object" &&
        !Array.isArray(given) &&
        typeof last === "string" &&
        last in given
    )
        given = (given as Record<string, unknown>)[last];
    let message = issue.message;
    if (issue.code === "invalid_key" && issue.issues[0]) message = issue.issues[0].message;
    else if (issue.code === "invalid_type" && !message.startsWith("expected"))
        message = `expected ${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
    if (!message.startsWith("expected")) message = `expected ${message}`;
    return [`${formatPath(issue.path)}: ${message}, got ${describeValue(given)}`];
}
