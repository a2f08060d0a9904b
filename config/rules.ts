// The rules that span fields of a schema-checked stack config (the schema checks each field
// alone; the components' own checks run in config/component-args.ts). Each returns its
// problems with their config paths; parseStackConfig reports them all at once.
import { describeValue, formatPath } from "./errors";
import type { StackConfigInput } from "./schema";

type At = (path: PropertyKey[], message: string) => void;

/** Checks that span fields; each returns problems with their paths. */
export function crossFieldProblems(cfg: StackConfigInput, hasDatabaseUrl: boolean): string[] {
    const problems: string[] = [];
    const at: At = (path, msg) => problems.push(`${formatPath(path)}: ${msg}`);
    for (const [name, s] of Object.entries(cfg.services)) {
        const base = ["services", name];
        const atService: At = (path, msg) => at([...base, ...path], msg);
        strategyProblems(s, atService);
        probeProblems(s, atService);
    }
    alertProblems(cfg.alerts, at);
    backupProblems(cfg, hasDatabaseUrl, at);
    return problems;
}

type ServiceInput = StackConfigInput["services"][string];

/** Each strategy has its own settings and takes its image from them. */
function strategyProblems(s: ServiceInput, at: At): void {
    if (s.strategy === "blueGreen" && !s.blueGreen)
        at(
            ["blueGreen"],
            "expected blue/green settings (activeColor, blue.image, green.image) for strategy 'blueGreen', got nothing",
        );
    if (s.strategy !== "blueGreen" && s.blueGreen)
        at(["blueGreen"], `expected no blue/green settings for strategy '${s.strategy}', got an object`);
    if (s.strategy === "canary" && !s.canary)
        at(["canary"], "expected canary settings (image, weight) for strategy 'canary', got nothing");
    if (s.strategy !== "canary" && s.canary)
        at(["canary"], `expected no canary settings for strategy '${s.strategy}', got an object`);
    if (s.strategy !== "blueGreen" && s.image === undefined)
        at(["image"], `expected an image reference with a tag or digest for strategy '${s.strategy}', got nothing`);
    if (s.strategy === "blueGreen" && s.image !== undefined)
        at(
            ["image"],
            "expected no image for strategy 'blueGreen' (set blueGreen.blue.image and blueGreen.green.image), got " +
                describeValue(s.image),
        );
}

/** An exec probe has a command; no other probe type has one. */
function probeProblems(s: ServiceInput, at: At): void {
    for (const kind of ["liveness", "readiness", "startup"] as const) {
        const p = s.probes[kind];
        if (p?.type === "exec" && !p.command)
            at(["probes", kind, "command"], "expected a command for an exec probe, got nothing");
        if (p?.command && p.type !== undefined && p.type !== "exec")
            at(
                ["probes", kind, "command"],
                `expected no command for a ${p.type} probe, got ${describeValue(p.command)}`,
            );
    }
}

function alertProblems(alerts: StackConfigInput["alerts"], at: At): void {
    if (alerts.errorRateWarning >= alerts.errorRateCritical)
        at(
            ["alerts", "errorRateWarning"],
            `expected less than errorRateCritical (${alerts.errorRateCritical}), got ${alerts.errorRateWarning}`,
        );
}

/** Where the dump comes from and goes to, and that a drill never replaces a real database. */
function backupProblems(cfg: StackConfigInput, hasDatabaseUrl: boolean, at: At): void {
    const backup = cfg.backup;
    if (!backup.enabled) return;
    if (!backup.databaseSecret && !hasDatabaseUrl)
        at(
            ["backup", "databaseSecret"],
            "expected a Secret reference {name, key} holding the database URL (or the Pulumi secret runbook:databaseUrl), got nothing",
        );
    if (backup.databaseSecret && hasDatabaseUrl)
        at(["databaseUrl"], "expected either backup.databaseSecret or databaseUrl, not both");
    if (!cfg.aws.enabled && backup.bucket.name === undefined)
        at(
            ["backup", "bucket", "name"],
            "expected the name of an existing bucket when aws.enabled is false (no bucket can be created), got nothing",
        );
    if (backup.iam.roleArn !== undefined && backup.iam.oidcProviderArn !== undefined)
        at(["backup", "iam"], "expected either roleArn (existing role) or oidcProviderArn (create a role), not both");
    if (cfg.aws.enabled && backup.iam.roleArn === undefined && backup.iam.oidcProviderArn === undefined)
        at(
            ["backup", "iam"],
            "expected roleArn or oidcProviderArn so the backup ServiceAccount can write to the bucket, got nothing",
        );
    const drill = backup.restoreDrill?.databaseSecret;
    const same = (a?: { name: string; key: string }) =>
        a !== undefined && drill !== undefined && a.name === drill.name && a.key === drill.key;
    if (same(backup.databaseSecret) || same(backup.restore.databaseSecret))
        at(
            ["backup", "restoreDrill", "databaseSecret"],
            `expected a scratch database's URL, not the database that is backed up or restored ` +
                `(${drill?.name}/${drill?.key}): each drill replaces its schema public`,
        );
}
