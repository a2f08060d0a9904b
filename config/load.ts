// Parses a stack's `runbook:*` configuration through the schema, applies the environment
// defaults, runs the checks that span fields, and reports every problem at once.
import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import { durationSeconds, serviceProblems } from "../lib/checks";
import { decodeConfigValue } from "../lib/config-value";
import {
    DEFAULT_HEALTH_PATH,
    DEFAULT_SCALE_DOWN_STABILIZATION,
    DEFAULT_TARGET_CPU,
    ENVIRONMENT_DEFAULTS,
    PROBE_DEFAULTS,
    type Environment,
} from "./defaults";
import {
    CONFIG_NAMESPACE,
    SECRET_KEYS,
    stackConfigSchema,
    type ProbeConfig,
    type RouterConfig,
    type ServiceInput,
    type StackConfigInput,
} from "./schema";

export type Color = "blue" | "green";
export type Strategy = ServiceInput["strategy"];
export type ProbeType = "http" | "tcp" | "exec" | "grpc";

export interface ResolvedProbe {
    type: ProbeType;
    path?: string;
    port?: number;
    command?: string[];
    initialDelaySeconds: number;
    periodSeconds: number;
    failureThreshold: number;
    timeoutSeconds?: number;
    successThreshold?: number;
}

export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export interface AutoscalingConfig {
    minReplicas: number;
    maxReplicas: number;
    targetCpuUtilization: number;
    targetMemoryUtilization?: number;
    scaleDownStabilizationSeconds: number;
}

export interface BlueGreenConfig {
    activeColor: Color;
    images: Record<Color, string>;
    /** Replicas kept on the colour that is not live (rollback capacity). */
    idleReplicas: number;
    /** Seconds after a switch before the colour switched away from is scaled to 0; unset: never. */
    scaleDownAfterSeconds?: number;
    smokeTest: { enabled: boolean; image: string; timeoutSeconds: number };
}

export interface CanaryConfig {
    image: string;
    weight: number;
    steps: number[];
    router: RouterConfig;
    stepMinutes: number;
}

/** One service, every default applied: what the components take. */
export interface ServiceConfig {
    name: string;
    strategy: Strategy;
    /** The stable image (for blue/green: the live colour's image). */
    image: string;
    port: number;
    servicePort: number;
    metrics?: { port: number; path: string };
    healthEndpoints: string[];
    probes: { liveness: ResolvedProbe; readiness: ResolvedProbe; startup?: ResolvedProbe };
    resources: Resources;
    autoscaling: AutoscalingConfig;
    env: Record<string, string>;
    rollout: { maxSurge: number | string; maxUnavailable: number | string };
    progressDeadlineSeconds: number;
    podDisruptionBudget?: { maxUnavailable: number };
    blueGreen?: BlueGreenConfig;
    canary?: CanaryConfig;
}

export type BackupConfig = StackConfigInput["backup"];
export type AlertsConfig = StackConfigInput["alerts"];
export type ReleaseConfig = StackConfigInput["release"];
export type AnalysisConfig = StackConfigInput["analysis"];

export interface StackConfig {
    environment: Environment;
    partOf: string;
    kubernetes: StackConfigInput["kubernetes"];
    namespace: StackConfigInput["namespace"];
    /** Sorted by name, so resource order does not depend on how the file is written. */
    services: ServiceConfig[];
    backup: BackupConfig;
    alerts: AlertsConfig;
    release: ReleaseConfig;
    analysis: AnalysisConfig;
    aws: { enabled: boolean };
    /** Whether `runbook:databaseUrl` is set (its value stays a Pulumi secret, never here). */
    hasDatabaseUrl: boolean;
}

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

export interface RawConfig {
    /** `runbook:*` keys without the namespace, values decoded from JSON where structured. */
    values: Record<string, unknown>;
    /** Keys given as Pulumi secrets. */
    secretKeys: ReadonlySet<string>;
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

export function describeValue(v: unknown): string {
    if (v === undefined) return "nothing";
    if (v === null) return "null";
    if (Array.isArray(v)) return v.length === 0 ? "an empty list" : `a list (${truncate(JSON.stringify(v))})`;
    if (typeof v === "object") return `an object (${truncate(JSON.stringify(v))})`;
    return truncate(JSON.stringify(v));
}

function truncate(s: string): string {
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
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

function issueMessages(issue: z.core.$ZodIssue): string[] {
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

function resolveProbe(
    kind: "liveness" | "readiness" | "startup",
    given: ProbeConfig | undefined,
    port: number,
    path: string,
): ResolvedProbe {
    const d = PROBE_DEFAULTS[kind];
    const type = given?.type ?? (given?.command ? "exec" : "http");
    return {
        type,
        path: type === "http" ? (given?.path ?? path) : undefined,
        port: type === "exec" ? undefined : (given?.port ?? port),
        command: type === "exec" ? given?.command : undefined,
        initialDelaySeconds: given?.initialDelaySeconds ?? d.initialDelaySeconds,
        periodSeconds: given?.periodSeconds ?? d.periodSeconds,
        failureThreshold: given?.failureThreshold ?? d.failureThreshold,
        timeoutSeconds: given?.timeoutSeconds,
        successThreshold: given?.successThreshold,
    };
}

/** Checks that span fields; each returns problems with their paths. */
function crossFieldProblems(cfg: StackConfigInput, hasDatabaseUrl: boolean): string[] {
    const problems: string[] = [];
    const at = (path: PropertyKey[], msg: string) => problems.push(`${formatPath(path)}: ${msg}`);
    const defaults = ENVIRONMENT_DEFAULTS[cfg.environment];

    for (const [name, s] of Object.entries(cfg.services)) {
        const base = ["services", name];
        if (s.strategy === "blueGreen" && !s.blueGreen)
            at(
                [...base, "blueGreen"],
                "expected blue/green settings (activeColor, blue.image, green.image) for strategy 'blueGreen', got nothing",
            );
        if (s.strategy !== "blueGreen" && s.blueGreen)
            at([...base, "blueGreen"], `expected no blue/green settings for strategy '${s.strategy}', got an object`);
        if (s.strategy === "canary" && !s.canary)
            at([...base, "canary"], "expected canary settings (image, weight) for strategy 'canary', got nothing");
        if (s.strategy !== "canary" && s.canary)
            at([...base, "canary"], `expected no canary settings for strategy '${s.strategy}', got an object`);
        if (s.strategy !== "blueGreen" && s.image === undefined)
            at(
                [...base, "image"],
                `expected an image reference with a tag or digest for strategy '${s.strategy}', got nothing`,
            );
        if (s.strategy === "blueGreen" && s.image !== undefined)
            at(
                [...base, "image"],
                "expected no image for strategy 'blueGreen' (set blueGreen.blue.image and blueGreen.green.image), got " +
                    describeValue(s.image),
            );

        const min = s.autoscaling.minReplicas ?? defaults.minReplicas;
        const max = s.autoscaling.maxReplicas ?? defaults.maxReplicas;
        if (max < min)
            at([...base, "autoscaling", "maxReplicas"], `expected at least minReplicas (${min}), got ${max}`);

        if (s.canary) {
            const steps = s.canary.steps ?? defaults.canarySteps;
            const increasing = steps.every((w, i) => i === 0 || w > steps[i - 1]);
            if (!increasing || steps[steps.length - 1] !== 100)
                at(
                    [...base, "canary", "steps"],
                    `expected strictly increasing weights ending at 100, got ${describeValue(steps)}`,
                );
            else if (s.canary.weight !== 0 && !steps.includes(s.canary.weight))
                at(
                    [...base, "canary", "weight"],
                    `expected 0 (abort) or a step of the plan [${steps.join(", ")}], got ${s.canary.weight}`,
                );
        }
        const probes = s.probes;
        for (const kind of ["liveness", "readiness", "startup"] as const) {
            const p = probes[kind];
            if (p?.type === "exec" && !p.command)
                at([...base, "probes", kind, "command"], "expected a command for an exec probe, got nothing");
            if (p?.command && p.type !== undefined && p.type !== "exec")
                at(
                    [...base, "probes", kind, "command"],
                    `expected no command for a ${p.type} probe, got ${describeValue(p.command)}`,
                );
        }
    }
    if (cfg.alerts.errorRateWarning >= cfg.alerts.errorRateCritical)
        at(
            ["alerts", "errorRateWarning"],
            `expected less than errorRateCritical (${cfg.alerts.errorRateCritical}), got ${cfg.alerts.errorRateWarning}`,
        );
    if (cfg.backup.enabled) {
        if (!cfg.backup.databaseSecret && !hasDatabaseUrl)
            at(
                ["backup", "databaseSecret"],
                "expected a Secret reference {name, key} holding the database URL (or the Pulumi secret runbook:databaseUrl), got nothing",
            );
        if (cfg.backup.databaseSecret && hasDatabaseUrl)
            at(["databaseUrl"], "expected either backup.databaseSecret or databaseUrl, not both");
        if (!cfg.aws.enabled && cfg.backup.bucket.name === undefined)
            at(
                ["backup", "bucket", "name"],
                "expected the name of an existing bucket when aws.enabled is false (no bucket can be created), got nothing",
            );
        if (cfg.backup.iam.roleArn !== undefined && cfg.backup.iam.oidcProviderArn !== undefined)
            at(
                ["backup", "iam"],
                "expected either roleArn (existing role) or oidcProviderArn (create a role), not both",
            );
        if (cfg.aws.enabled && cfg.backup.iam.roleArn === undefined && cfg.backup.iam.oidcProviderArn === undefined)
            at(
                ["backup", "iam"],
                "expected roleArn or oidcProviderArn so the backup ServiceAccount can write to the bucket, got nothing",
            );
        const drill = cfg.backup.restoreDrill?.databaseSecret;
        const same = (a?: { name: string; key: string }) =>
            a !== undefined && drill !== undefined && a.name === drill.name && a.key === drill.key;
        if (same(cfg.backup.databaseSecret) || same(cfg.backup.restore.databaseSecret))
            at(
                ["backup", "restoreDrill", "databaseSecret"],
                `expected a scratch database's URL, not the database that is backed up or restored (${drill?.name}/${drill?.key}): each drill replaces its schema public`,
            );
    }
    return problems;
}

function resolveService(name: string, s: ServiceInput, env: Environment): ServiceConfig {
    const d = ENVIRONMENT_DEFAULTS[env];
    const healthPath = s.probes.readiness?.path ?? s.probes.liveness?.path ?? DEFAULT_HEALTH_PATH;
    const blueGreen: BlueGreenConfig | undefined = s.blueGreen && {
        activeColor: s.blueGreen.activeColor,
        images: { blue: s.blueGreen.blue.image, green: s.blueGreen.green.image },
        idleReplicas: s.blueGreen.idleReplicas ?? s.autoscaling.minReplicas ?? d.minReplicas,
        ...(s.blueGreen.scaleDownAfter !== undefined
            ? { scaleDownAfterSeconds: durationSeconds(s.blueGreen.scaleDownAfter) }
            : {}),
        smokeTest: s.blueGreen.smokeTest,
    };
    return {
        name,
        strategy: s.strategy,
        image: blueGreen ? blueGreen.images[blueGreen.activeColor] : (s.image as string),
        port: s.port,
        servicePort: s.servicePort,
        metrics: s.metrics && { port: s.metrics.port ?? s.port, path: s.metrics.path },
        healthEndpoints: s.healthEndpoints ?? [healthPath],
        probes: {
            liveness: resolveProbe("liveness", s.probes.liveness, s.port, healthPath),
            readiness: resolveProbe("readiness", s.probes.readiness, s.port, healthPath),
            startup: s.probes.startup && resolveProbe("startup", s.probes.startup, s.port, healthPath),
        },
        resources: {
            requests: { cpu: s.resources.requests.cpu ?? d.cpu, memory: s.resources.requests.memory ?? d.memory },
            limits: { cpu: s.resources.limits.cpu ?? d.cpu, memory: s.resources.limits.memory ?? d.memory },
        },
        autoscaling: {
            minReplicas: s.autoscaling.minReplicas ?? d.minReplicas,
            maxReplicas: s.autoscaling.maxReplicas ?? d.maxReplicas,
            targetCpuUtilization: s.autoscaling.targetCpuUtilization ?? DEFAULT_TARGET_CPU,
            targetMemoryUtilization: s.autoscaling.targetMemoryUtilization,
            scaleDownStabilizationSeconds:
                s.autoscaling.scaleDownStabilizationSeconds ?? DEFAULT_SCALE_DOWN_STABILIZATION,
        },
        env: s.env,
        rollout: s.rollout,
        progressDeadlineSeconds: s.progressDeadlineSeconds,
        podDisruptionBudget: d.podDisruptionBudget,
        blueGreen,
        canary: s.canary && { ...s.canary, steps: s.canary.steps ?? d.canarySteps },
    };
}

/**
 * Parses the `runbook:*` values of one stack. Throws one ConfigError listing every
 * problem (config path, what was expected, what was given); returns the resolved config.
 */
export function parseStackConfig(raw: RawConfig): StackConfig {
    const problems: string[] = [];
    for (const key of SECRET_KEYS) {
        if (raw.values[key] !== undefined && !raw.secretKeys.has(key))
            problems.push(
                `${formatPath([key])}: expected a Pulumi secret (pulumi config set --secret ${CONFIG_NAMESPACE}:${key} …), got a plain-text value`,
            );
    }
    const parsed = stackConfigSchema.safeParse(raw.values, { reportInput: true });
    if (!parsed.success) throw new ConfigError([...problems, ...parsed.error.issues.flatMap(issueMessages)]);
    const cfg = parsed.data;
    problems.push(...crossFieldProblems(cfg, raw.values.databaseUrl !== undefined));
    const services = Object.keys(cfg.services)
        .sort()
        .map((name) => resolveService(name, cfg.services[name], cfg.environment));
    // The checks the components make, on what they would be given (defaults applied).
    problems.push(...services.flatMap(serviceProblems).map((p) => `${formatPath(p.path)}: ${p.message}`));
    if (problems.length > 0) throw new ConfigError(problems);

    return {
        environment: cfg.environment,
        partOf: cfg.partOf,
        kubernetes: cfg.kubernetes,
        namespace: cfg.namespace,
        services,
        backup: cfg.backup,
        alerts: cfg.alerts,
        release: cfg.release,
        analysis: cfg.analysis,
        aws: cfg.aws,
        hasDatabaseUrl: raw.values.databaseUrl !== undefined,
    };
}

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
