// What a stack records about each deployment (the stack output `deployment`), and what the
// program decides from the last one: when the colour switched away from is scaled down
// (blueGreen.scaleDownAfter), and whether this update is a rollback — nothing changed but
// going back to what was live, which the deploy gate lets through a freeze.
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
    rollback?: RollbackRecord;
    /** What this update switches back, e.g. "api: green → blue" (empty once it has). */
    switches: string[];
    /** Why `release.rollback` cannot be honoured; empty when it can (or is not set). */
    problems: string[];
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
    const switches: string[] = [];
    const problems: string[] = [];
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
                `services.${s.name} changed since the last deployment (image, sizing or other settings), not only which colour or weight is live`,
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
            if (switched && rollback) {
                switches.push(`${s.name}: ${prev.activeColor} → ${bg.activeColor}`);
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
                if (c.weight === 0 && prev.canaryWeight > 0 && prev.canaryWeight < 100)
                    switches.push(`${s.name}: canary ${prev.canaryWeight} % → 0 %`);
                else
                    problems.push(
                        `services.${s.name}.canary.weight went from ${prev.canaryWeight} to ${c.weight}; a rollback only aborts a canary (weight 0)`,
                    );
            }
        }
        services[s.name] = rec;
    }
    const record = { fingerprint, services };
    if (!rollback || problems.length > 0) return { record, idleReplicas, switches, problems };
    return {
        record,
        idleReplicas,
        switches,
        problems,
        rollback: { reason: rollback.reason, by: rollback.by, at: rollback.at },
    };
}
