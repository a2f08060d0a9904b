// The policy pack's configuration (the JSON given to --policy-pack-config, under the gate
// policy's name), shared with `npm run window`. Parsed with zod so a bad file is reported
// with every problem, like a bad stack config.
import * as fs from "node:fs";
import { DateTime, IANAZone } from "luxon";
import { z } from "zod";
import { DEFAULT_APPROVAL_RULES, type ApprovalRules } from "./lib/approvals";
import {
    businessHours,
    defaultFreezes,
    parseInstant,
    windowProblems,
    type Calendar,
    type Window,
} from "./lib/calendar";

export { parseInstant };
import type { GatePolicy } from "./lib/deploy-gate";
import { checkLimits, InputLimitError } from "./lib/input-limits";
import { PRINCIPAL } from "./lib/ssh-signature";

export const GATE_POLICY = "enforce-deploy-gate";
export const MODES = ["deploy", "pull-request"] as const;
export type Mode = (typeof MODES)[number];
export const ENVIRONMENTS = ["staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const windowSchema = z.union([
    z.strictObject({
        name: z.string().min(1),
        rrule: z.string().optional(),
        cron: z.string().optional(),
        duration: z.string(),
        timeZone: z.string().optional(),
        reason: z.string().optional(),
    }),
    z.strictObject({
        name: z.string().min(1),
        start: z.string(),
        end: z.string(),
        timeZone: z.string().optional(),
        reason: z.string().optional(),
    }),
]);

const environmentSchema = z.strictObject({
    /** Zone of the default windows and of the messages. */
    timeZone: z.string().default("UTC"),
    /** Keep the runbooks' windows (production: Mon–Thu 10–16, holiday freezes, maintenance). */
    useDefaultWindows: z.boolean().default(true),
    allow: z.array(windowSchema).default([]),
    /** Ad-hoc freezes (launches, demos) and other deny windows. */
    deny: z.array(windowSchema).default([]),
    approvals: z
        .strictObject({
            required: z.array(z.strictObject({ role: z.string().min(1), count: z.number().int().min(1) })).optional(),
            hotfix: z
                .strictObject({
                    role: z.string().min(1),
                    count: z.number().int().min(1),
                    requirePostmortem: z.boolean(),
                })
                .optional(),
            /** Only signed approvals count (default: production yes, staging no). */
            signed: z.boolean().optional(),
            /** How long a signed approval counts, in hours. */
            maxAgeHours: z
                .number()
                .positive()
                .max(24 * 90)
                .default(72),
        })
        .default({ maxAgeHours: 72 }),
});

/** The key types of an OpenSSH public key line that ssh-keygen -Y verify accepts. */
const SSH_KEY_TYPES = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp(256|384|521)",
    "sk-ssh-ed25519@openssh\\.com",
    "sk-ecdsa-sha2-nistp256@openssh\\.com",
];

/** Whose key signs approvals, and for which roles: the platform team's allowed signers. */
const signerSchema = z.strictObject({
    principal: z.string().regex(PRINCIPAL, { error: "expected a name of letters, digits and . _ @ + -" }),
    key: z.string().regex(new RegExp(`^(${SSH_KEY_TYPES.join("|")}) [A-Za-z0-9+/=]+( .*)?$`), {
        error: "expected an OpenSSH public key line (ssh-ed25519 AAAA… [comment])",
    }),
    roles: z.array(z.string().min(1)).min(1),
});

export const gateConfigSchema = z.strictObject({
    /** The clock, for drills and tests: an ISO 8601 instant with offset. */
    now: z.string().optional(),
    environments: z.partialRecord(z.enum(ENVIRONMENTS), environmentSchema).default({}),
    signers: z.array(signerSchema).max(500).default([]),
});
export type GateConfig = z.infer<typeof gateConfigSchema>;

/** JSON schema handed to CrossGuard, which checks the file's shape before we do. */
export const GATE_CONFIG_JSON_SCHEMA = {
    properties: {
        now: { type: "string" },
        environments: { type: "object" },
        signers: { type: "array" },
    },
} as const;

export class PolicyConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `Invalid policy config (${problems.length} ` +
                `problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
}

export function parseGateConfig(raw: unknown): GateConfig {
    const parsed = gateConfigSchema.safeParse(raw ?? {});
    if (!parsed.success)
        throw new PolicyConfigError(
            parsed.error.issues.map((i) => `${[GATE_POLICY, ...i.path.map(String)].join(".")}: ${i.message}`),
        );
    const problems: string[] = [];
    for (const [env, e] of Object.entries(parsed.data.environments)) {
        if (!e) continue;
        if (!IANAZone.isValidZone(e.timeZone))
            problems.push(
                `${GATE_POLICY}.environments.${env}.timeZone: expected an IANA time zone such as ` +
                    `Europe/Berlin, got ${JSON.stringify(e.timeZone)}`,
            );
        // A window without a zone of its own inherits the environment's (reported above if bad).
        const zone = IANAZone.isValidZone(e.timeZone) ? e.timeZone : "UTC";
        for (const kind of ["allow", "deny"] as const) {
            e[kind].forEach((w, i) =>
                problems.push(
                    ...windowProblems(
                        { timeZone: zone, ...w } as Window,
                        `${GATE_POLICY}.environments.${env}.${kind}[${i}]`,
                    ),
                ),
            );
        }
    }
    if (parsed.data.now !== undefined && !parseInstant(parsed.data.now))
        problems.push(
            `${GATE_POLICY}.now: expected an ISO 8601 instant with offset, got ${JSON.stringify(parsed.data.now)}`,
        );
    if (problems.length > 0) throw new PolicyConfigError(problems);
    return parsed.data;
}

/** A policy config file far bigger than any real one is refused unread. */
export const MAX_POLICY_CONFIG_BYTES = 1024 * 1024;

/**
 * The gate's part of a policy config file (what --policy-pack-config gives the engine),
 * read for the scripts that judge the gate before the engine runs. Every problem is a
 * PolicyConfigError naming the file: unreadable, too big, too deep, not JSON, wrong shape.
 */
export function readGateConfigFile(file: string): GateConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
        checkLimits(text, `policy config ${file}`, { maxBytes: MAX_POLICY_CONFIG_BYTES, maxDepth: 32 });
    } catch (e) {
        throw new PolicyConfigError([
            e instanceof InputLimitError ? e.message : `policy config ${file}: ${(e as Error).message}`,
        ]);
    }
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new PolicyConfigError([`policy config ${file}: not valid JSON: ${(e as Error).message}`]);
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc))
        throw new PolicyConfigError([
            `policy config ${file}: expected a JSON object of policy names to their settings`,
        ]);
    return parseGateConfig((doc as Record<string, unknown>)[GATE_POLICY] ?? {});
}

/** The windows and approval rules of one environment, defaults filled in. */
export function gatePolicy(config: GateConfig, environment: Environment): GatePolicy {
    const e = environmentSchema.parse(config.environments[environment] ?? {});
    const zone = e.timeZone;
    const withZone = (w: z.infer<typeof windowSchema>): Window => ({ timeZone: zone, ...w }) as Window;
    const calendar: Calendar = {
        allow: [
            ...(e.useDefaultWindows && environment === "production" ? [businessHours(zone)] : []),
            ...e.allow.map(withZone),
        ],
        deny: [
            ...(e.useDefaultWindows && environment === "production" ? defaultFreezes(zone) : []),
            ...e.deny.map(withZone),
        ],
    };
    const d = DEFAULT_APPROVAL_RULES[environment];
    const approvals: ApprovalRules = {
        required: e.approvals.required ?? d.required,
        hotfix: e.approvals.hotfix ?? d.hotfix,
    };
    const signed = e.approvals.signed ?? environment === "production";
    return {
        calendar,
        approvals,
        timeZone: zone,
        ...(signed ? { signatures: { signers: config.signers, maxAgeHours: e.approvals.maxAgeHours } } : {}),
    };
}

/**
 * Whether the engine runs this pack for a preview. The engine sets PULUMI_DRY_RUN for the
 * analyzer after the shell's environment, so the shell cannot fake it; without it (another
 * engine) the run counts as an update, the strict side.
 */
export function isPreview(env: NodeJS.ProcessEnv): boolean {
    return env.PULUMI_DRY_RUN === "true";
}

/**
 * The settings from the shell's environment that weaken the gate: the settable clock and
 * pull-request mode. They are for previews and drills; a `pulumi up` that changes a cluster
 * refuses to start while either is set (see refuseDrillSettingsInUpdates).
 */
export function drillSettings(env: NodeJS.ProcessEnv): string[] {
    const set: string[] = [];
    if (env.RUNBOOK_NOW) set.push(`RUNBOOK_NOW=${env.RUNBOOK_NOW}`);
    if (env.RUNBOOK_DEPLOY_MODE && env.RUNBOOK_DEPLOY_MODE !== "deploy")
        set.push(`RUNBOOK_DEPLOY_MODE=${env.RUNBOOK_DEPLOY_MODE}`);
    return set;
}

/** Why an update that changes a cluster must not run with `drillSettings` set. */
export function drillRefusal(settings: string[]): string {
    return (
        `${settings.join(" and ")} ${settings.length === 1 ? "is" : "are"} set in the environment: the ` +
        `settable clock and pull-request mode ` +
        `are for previews and drills only, never for an update that changes a cluster. Unset ` +
        `${settings.map((s) => s.split("=")[0]).join(" and ")}; ` +
        `a drill on a cluster sets its clock in the policy config (${GATE_POLICY}.now), which the platform team owns.`
    );
}

/**
 * Pull-request previews set RUNBOOK_DEPLOY_MODE=pull-request; anything else (unset) is a
 * deploy, the safe side. An update is always a deploy, whatever the shell says. Read when
 * the pack starts, because it decides enforcement levels.
 */
export function resolveMode(env: NodeJS.ProcessEnv): Mode {
    const given = env.RUNBOOK_DEPLOY_MODE;
    if (given === undefined || given === "") return "deploy";
    if (!(MODES as readonly string[]).includes(given))
        throw new PolicyConfigError([
            `RUNBOOK_DEPLOY_MODE: expected one of ${MODES.join(", ")}, got ${JSON.stringify(given)}`,
        ]);
    return isPreview(env) ? (given as Mode) : "deploy";
}

/**
 * The stack's config as the engine hands it to the pack (PULUMI_CONFIG, set after the
 * shell's environment): "namespace:key" → value; empty when it is not there.
 */
export function engineConfig(env: NodeJS.ProcessEnv): Record<string, string> {
    try {
        const c = JSON.parse(env.PULUMI_CONFIG ?? "{}") as unknown;
        return c !== null && typeof c === "object" && !Array.isArray(c) ? (c as Record<string, string>) : {};
    } catch {
        return {};
    }
}

/** The stack's environment from the engine's config; undefined when it is not there, and the labels decide. */
export function stackEnvironment(env: NodeJS.ProcessEnv): Environment | undefined {
    const e = engineConfig(env)["runbook:environment"];
    return (ENVIRONMENTS as readonly unknown[]).includes(e) ? (e as Environment) : undefined;
}

/**
 * Clock: RUNBOOK_NOW (only where `envClock` allows it: previews and render-only stacks),
 * else the config's `now`, else the real time.
 */
export function resolveNow(config: GateConfig, env: NodeJS.ProcessEnv, envClock = true): DateTime {
    const fromEnv = envClock ? env.RUNBOOK_NOW : undefined;
    const given = fromEnv || config.now;
    if (given === undefined) return DateTime.utc();
    const t = parseInstant(given);
    if (!t)
        throw new PolicyConfigError([
            `${fromEnv ? "RUNBOOK_NOW" : `${GATE_POLICY}.now`}: expected an ISO 8601 instant with offset, got ${JSON.stringify(given)}`,
        ]);
    return t;
}

/** Guardrails block production and advise staging; an unknown stack gets the strict side. */
export function guardrailEnforcement(environment: Environment | undefined): "advisory" | "mandatory" {
    return environment === "staging" ? "advisory" : "mandatory";
}
