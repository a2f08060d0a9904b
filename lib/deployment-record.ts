// What a stack records about each deployment (the stack output `deployment`), and what the
// program decides from the last one: when the colour switched away from is scaled down
// (blueGreen.scaleDownAfter), and whether this update is a rollback — nothing changed but
// going back to what was live, which the deploy gate lets through a freeze; and, once a
// rollback went through, that no later update puts back what it rolled back (the stack file
// a CI job deploys may not have the rollback in it yet).
import * as crypto from "node:crypto";
import type { DateTime } from "luxon";
import type { Color, StackConfig } from "../config/types";

export interface ServiceRecord {
    strategy: string;
    /** Hash of the service's settings, switches left out. */
    fingerprint: string;
    activeColor?: Color;
    /** Pods the idle colour runs (0 once scaled down). */
    idleReplicas?: number;
    /** When the live colour last changed (ISO 8601). */
    switchedAt?: string;
    /** The canary weight asked. */
    canaryWeight?: number;
    /** The last rollback of this service, kept while what it rolled back is still in the config. */
    rolledBack?: RolledBack;
}

/** What a rollback took out of service: a colour with its image, or a canary's image. */
export interface RolledBack {
    /** `green`, `blue`, or `canary` (its weight went to 0). */
    from: string;
    image: string;
    /** For people: "green → blue", "canary 25 % → 0 %". */
    switched: string;
    by: string;
    at: string;
    reason: string;
}

export interface DeploymentRecord {
    /** Hash of the stack settings outside the services (release and analysis left out). */
    fingerprint: string;
    services: Record<string, ServiceRecord>;
}

export interface RollbackRecord {
    reason: string;
    by: string;
    at: string;
}

export interface RolloutDecision {
    record: DeploymentRecord;
    /** Replicas of the idle colour, per blue/green service. */
    idleReplicas: Record<string, number>;
    /** The colour live before this update, per blue/green service deployed before. */
    liveBefore: Record<string, Color>;
    rollback?: RollbackRecord;
    /** What this update switches back, e.g. "api: green → blue" (empty once it has). */
    switches: string[];
    /** Why `release.rollback` cannot be honoured; empty when it can (or is not set). */
    problems: string[];
    /** Services this update would put back what a rollback took out of service, and why not. */
    undoes: string[];
}

const hash = (v: unknown) => crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);

/** The settings of a service with what a switch changes (live colour, canary weight) left out. */
export function serviceFingerprint(s: StackConfig["services"][number]): string {
    // A blue/green service's `image` is the live colour's: it changes with the switch.
    const { blueGreen, canary, image, ...rest } = s;
    return hash({
        ...rest,
        ...(blueGreen ? {} : { image }),
        ...(blueGreen ? { blueGreen: { ...blueGreen, activeColor: undefined } } : {}),
        ...(canary ? { canary: { ...canary, weight: undefined } } : {}),
    });
}

export function stackFingerprint(cfg: StackConfig): string {
    // Services are fingerprinted one by one; the release record and analysis settings deploy nothing.
    return hash({ ...cfg, services: undefined, release: undefined, analysis: undefined });
}

/**
 * Decides the idle colours' replicas and whether this update is the rollback that
 * `release.rollback` says it is, from the config, the last recorded deployment and `now`.
 */
export function decideRollout(
    cfg: StackConfig,
    previous: DeploymentRecord | undefined,
    now: DateTime,
): RolloutDecision {
    const nowIso = now.toUTC().toISO() as string;
    const services: Record<string, ServiceRecord> = {};
    const idleReplicas: Record<string, number> = {};
    const liveBefore: Record<string, Color> = {};
    const switches: string[] = [];
    const problems: string[] = [];
    const undoes: string[] = [];
    const fingerprint = stackFingerprint(cfg);
    const rollback = cfg.release.rollback;
    if (rollback && previous === undefined)
        problems.push("nothing was deployed before, so there is nothing to go back to");
    if (rollback && previous !== undefined && previous.fingerprint !== fingerprint)
        problems.push("settings outside the services changed since the last deployment");

    for (const s of cfg.services) {
        const prev = previous?.services[s.name];
        const rec: ServiceRecord = { strategy: s.strategy, fingerprint: serviceFingerprint(s) };
        if (rollback && prev !== undefined && (prev.fingerprint !== rec.fingerprint || prev.strategy !== s.strategy))
            problems.push(
                `services.${s.name} changed since the last deployment (image, sizing or other settings), not ` +
                    `only which colour or weight is live`,
            );
        if (rollback && previous !== undefined && prev === undefined)
            problems.push(`services.${s.name} was not deployed before`);
        const bg = s.blueGreen;
        if (bg) {
            const switched = prev?.activeColor !== undefined && prev.activeColor !== bg.activeColor;
            rec.activeColor = bg.activeColor;
            rec.switchedAt = switched || prev?.switchedAt === undefined ? nowIso : prev.switchedAt;
            const idleSince = now.toMillis() - Date.parse(rec.switchedAt);
            const expired = bg.scaleDownAfterSeconds !== undefined && idleSince >= bg.scaleDownAfterSeconds * 1000;
            rec.idleReplicas = expired ? 0 : bg.idleReplicas;
            idleReplicas[s.name] = rec.idleReplicas;
            if (prev?.activeColor !== undefined) liveBefore[s.name] = prev.activeColor;
            if (switched && rollback) {
                switches.push(`${s.name}: ${prev.activeColor} → ${bg.activeColor}`);
                const from = prev.activeColor as Color;
                rec.rolledBack = { from, image: bg.images[from], switched: `${from} → ${bg.activeColor}`, ...rollback };
                if ((prev.idleReplicas ?? 0) === 0)
                    problems.push(
                        `services.${s.name}: ${bg.activeColor} has run no pods since it was scaled down, so it cannot take traffic back`,
                    );
            }
        }
        const c = s.canary;
        if (c) {
            rec.canaryWeight = c.weight;
            if (rollback && prev?.canaryWeight !== undefined && prev.canaryWeight !== c.weight) {
                if (c.weight === 0 && prev.canaryWeight > 0 && prev.canaryWeight < 100) {
                    switches.push(`${s.name}: canary ${prev.canaryWeight} % → 0 %`);
                    rec.rolledBack = {
                        from: "canary",
                        image: c.image,
                        switched: `canary ${prev.canaryWeight} % → 0 %`,
                        ...rollback,
                    };
                } else
                    problems.push(
                        `services.${s.name}.canary.weight went from ${prev.canaryWeight} to ${c.weight}; a ` +
                            `rollback only aborts a canary (weight 0)`,
                    );
            }
        }
        if (rec.rolledBack === undefined) carryRollback(s, prev?.rolledBack, rec, undoes);
        services[s.name] = rec;
    }
    const decision = { record: { fingerprint, services }, idleReplicas, liveBefore, switches, problems, undoes };
    if (!rollback || problems.length > 0) return decision;
    return { ...decision, rollback: { reason: rollback.reason, by: rollback.by, at: rollback.at } };
}

type Service = StackConfig["services"][number];

/** Keeps an earlier rollback in `rec` while the config still holds what it rolled back; notes an update that would undo it. */
function carryRollback(s: Service, earlier: RolledBack | undefined, rec: ServiceRecord, undoes: string[]): void {
    if (earlier === undefined || !stillConfigured(s, earlier)) return;
    rec.rolledBack = earlier;
    if (putsBack(s, earlier)) undoes.push(undoProblem(s.name, earlier));
}

/** Whether the config still holds what `r` rolled back: the same image on that colour, or as the canary. */
function stillConfigured(s: Service, r: RolledBack): boolean {
    if (r.from === "canary") return s.canary?.image === r.image;
    return s.blueGreen?.images[r.from as Color] === r.image;
}

/** Whether this config would put it back in service: that colour live again, or the canary given traffic. */
function putsBack(s: Service, r: RolledBack): boolean {
    if (r.from === "canary") return (s.canary?.weight ?? 0) > 0;
    return s.blueGreen?.activeColor === r.from;
}

function undoProblem(service: string, r: RolledBack): string {
    const what = r.from === "canary" ? `the canary ${r.image} traffic again` : `traffic back to ${r.from} (${r.image})`;
    return (
        `services.${service}: this would give ${what}, which ${r.by} rolled back at ${r.at} (${r.switched}: ${r.reason}). ` +
        `Commit the rollback to the stack file (what \`npm run rollback\` wrote), or release a fixed image as a new release.`
    );
}

/** The DIY backends' organization: what the engine reports, or assumes, where there is no other. */
export const DIY_ORGANIZATION = "organization";

/**
 * The stack reference name of the running stack, where its last deployment record is read:
 * `<organization>/<project>/<stack>` with the organization the engine reports (a Pulumi
 * Cloud organization), or the DIY backends' `organization` where it reports none.
 */
export function selfStackName(organization: string | undefined, project: string, stack: string): string {
    return `${organization || DIY_ORGANIZATION}/${project}/${stack}`;
}
