// npm run --silent rollback -- --stack S --service NAME [--reason TEXT] [--by NAME]
//     [--policy-config FILE] [--dir DIR]
// Emergency rollback: switches a blue/green service back to the other colour, or aborts a
// canary (weight 0). Only to a colour that still runs pods and was tested with the image it
// runs (its smoke Job passed), so no smoke Job runs again. Once those checks pass, traffic
// is restored first, by a server-side apply of the Service's selector or the canary's weight
// (field manager runbook-rollback); then the stack converges through the Automation API: the
// stack file is updated (activeColor or weight, and release.rollback with who and why), and
// an update brings state and cluster into agreement. The program honours release.rollback
// only while the update does nothing but go back, and the deploy gate then lets it through
// windows and freezes; the next update refuses to undo it.
// Exit codes: 0 rolled back, 1 refused or failed, 2 unusable input.
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { DateTime } from "luxon";
import { rollbackRecordValues, serviceKey } from "../config/stack-file";
import type { ServiceConfig } from "../config/types";
import { smokeJobName } from "../components/labels";
import { COLOR_LABEL } from "../policies/lib/well-known";
import { ROOT, up } from "./engine";
import { RefusedError, UsageError } from "./errors";
import { stackKubectl, type Kubectl } from "./kube";
import { trafficApi } from "./kube-api";
import {
    ROLLBACK_FIELD_MANAGER,
    TrafficError,
    trafficObject,
    trafficWrites,
    type TrafficWrite,
} from "./restore-traffic";
import { drillRefusalFor, openStack, stackConfigOrThrow } from "./stack";

export interface RollbackTarget {
    /** The config key (with --path) and value that switch back. */
    key: string;
    value: string;
    /** For people: "green → blue", "canary 25 % → 0 %". */
    describe: string;
}

/** What rolling back `s` means, or why there is nothing to roll back. */
export function rollbackTarget(s: ServiceConfig): RollbackTarget {
    if (s.blueGreen) {
        const from = s.blueGreen.activeColor;
        const to = from === "blue" ? "green" : "blue";
        return { key: serviceKey(s.name, "blueGreen", "activeColor"), value: to, describe: `${from} → ${to}` };
    }
    if (s.canary) {
        if (s.canary.weight === 0 || s.canary.weight >= 100)
            throw new RefusedError(
                `${s.name} has no canary taking traffic (weight ${s.canary.weight}); nothing to abort`,
            );
        return {
            key: serviceKey(s.name, "canary", "weight"),
            value: "0",
            describe: `canary ${s.canary.weight} % → 0 %`,
        };
    }
    throw new UsageError(`${s.name} is a rolling deployment; roll it back by deploying the previous image`);
}

/** The objects checkCanGoBack reads: the Deployment to go back to and (blue/green) its smoke Job. */
export function goBackObjects(s: ServiceConfig): { kind: string; name: string }[] {
    const bg = s.blueGreen;
    if (!bg) return [{ kind: "deployment", name: `${s.name}-stable` }];
    const color = bg.activeColor === "blue" ? "green" : "blue";
    return [
        { kind: "deployment", name: `${s.name}-${color}` },
        ...(bg.smokeTest.enabled
            ? [{ kind: "job", name: smokeJobName(s.name, color, bg.images[color], s.healthEndpoints) }]
            : []),
    ];
}

/** What checkCanGoBack reads of a Deployment and a Job. */
interface LiveWorkload {
    spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } };
    status?: { readyReplicas?: number; conditions?: { type: string; status: string }[] };
}

/** Refuses (RefusedError) unless what the rollback goes back to runs ready pods that were tested. */
export function checkCanGoBack(
    live: (kind: string, name: string) => LiveWorkload | undefined,
    namespace: string,
    s: ServiceConfig,
): string {
    const bg = s.blueGreen;
    const [deployment, smokeJob] = goBackObjects(s);
    const name = deployment.name;
    const d = live("deployment", name);
    if (!d) throw new RefusedError(`Deployment ${namespace}/${name} does not exist in the cluster`);
    const ready = d.status?.readyReplicas ?? 0;
    if (ready < 1)
        throw new RefusedError(
            `Deployment ${namespace}/${name} has no ready pods (spec.replicas ${d.spec?.replicas ?? 0}); a ` +
                `rollback to it would take all traffic to nothing`,
        );
    const image: string | undefined = d.spec?.template?.spec?.containers?.[0]?.image;
    if (bg) {
        const color = bg.activeColor === "blue" ? "green" : "blue";
        if (image !== bg.images[color])
            throw new RefusedError(
                `Deployment ${namespace}/${name} runs ${image}, not ${bg.images[color]} as the stack says; run pulumi up --refresh first`,
            );
        if (smokeJob) {
            const jobName = smokeJob.name;
            const job = live("job", jobName);
            const passed = (job?.status?.conditions ?? []).some(
                (c: { type: string; status: string }) => c.type === "Complete" && c.status === "True",
            );
            if (!passed)
                throw new RefusedError(
                    `${color} was never tested with ${image} (smoke Job ${jobName} has not completed)`,
                );
        }
    }
    return `${name}: ${ready} ready pod(s) of ${image}`;
}

/** Seconds since this process started: what "since the command started" means in the output. */
const sinceStart = () => performance.now() / 1000;

/**
 * One read of everything the checks and the switch need, then one write: each round trip is
 * traffic's wait, so both go straight to the API server where they can.
 */
async function restoreTraffic(
    kubectl: Kubectl,
    ns: string,
    stack: string,
    s: ServiceConfig,
    target: RollbackTarget,
): Promise<{ writes: TrafficWrite[]; via: string }> {
    const api = trafficApi(kubectl);
    try {
        const live = await api.findAll(ns, [...goBackObjects(s), trafficObject(s)]);
        process.stderr.write(`[rollback] ${stack}/${s.name}: ${target.describe} — ${checkCanGoBack(live, ns, s)}\n`);
        // Traffic first: the checks passed, so what it goes back to is ready and tested.
        const writes = trafficWrites(s, ns, target.value, live);
        await api.apply(
            writes.map((w) => w.manifest),
            ROLLBACK_FIELD_MANAGER,
        );
        return { writes, via: api.via };
    } catch (e) {
        if (e instanceof TrafficError) throw new RefusedError(e.message);
        throw e;
    } finally {
        api.close();
    }
}

/** The update that records the rollback in the stack file and converges state and cluster on it. */
async function converge(
    dir: string,
    stack: string,
    s: ServiceConfig,
    target: RollbackTarget,
    who: { reason: string; by: string },
    policyConfig: string | undefined,
): Promise<{ ok: boolean; seconds: number; error?: string }> {
    try {
        const opened = await openStack(dir, stack, process.env);
        const at = DateTime.utc().toISO({ suppressMilliseconds: true }) as string;
        const values = { [target.key]: target.value, ...rollbackRecordValues({ ...who, at }) };
        await opened.stack.setAllConfig(
            Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value }])),
            true,
        );
        return await up(opened, `rollback ${s.name}: ${target.describe} by ${who.by}: ${who.reason}`, policyConfig);
    } catch (e) {
        return { ok: false, seconds: 0, error: (e as Error).message };
    }
}

/** Whether the API server's Service selects `color`, said either way. */
function activeColorIs(kubectl: Kubectl, ns: string, service: string, color: string): boolean {
    const svc = kubectl.find("service", service, ns);
    const selected = svc?.spec?.selector?.[COLOR_LABEL];
    if (selected !== color) {
        process.stderr.write(
            `[rollback] the update finished but Service ${ns}/${service} selects ${selected}, not ${color}\n`,
        );
        return false;
    }
    const endpoints = kubectl
        .list("endpointslices", ns, `kubernetes.io/service-name=${service}`)
        .flatMap((e: { endpoints?: { conditions?: { ready?: boolean } }[] }) => e.endpoints ?? [])
        .filter((e: { conditions?: { ready?: boolean } }) => e.conditions?.ready !== false);
    process.stderr.write(
        `[rollback] Service ${ns}/${service} selects ${selected} (${endpoints.length} ready endpoint(s))\n`,
    );
    return true;
}

export async function run(argv: string[]): Promise<number> {
    const { values: o } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string" },
            service: { type: "string" },
            reason: { type: "string" },
            by: { type: "string" },
            "policy-config": { type: "string" },
            dir: { type: "string" },
        },
        strict: true,
    });
    if (!o.stack) throw new UsageError("--stack is required");
    if (!o.service) throw new UsageError("--service is required");
    const dir = path.resolve(o.dir ?? ROOT);
    // The stack file alone, read before the engine starts: traffic must not wait for it.
    const config = stackConfigOrThrow(dir, o.stack, process.env);
    const drill = drillRefusalFor(config, process.env);
    if (drill) throw new UsageError(drill);
    const s = config.services.find((x) => x.name === o.service);
    if (!s)
        throw new UsageError(
            `no service '${o.service}' in stack ${o.stack}; it has ${config.services.map((x) => x.name).join(", ")}`,
        );
    const target = rollbackTarget(s);
    const ns = config.namespace.name;
    const kubectl = stackKubectl({ dir, config });
    const by = o.by ?? config.release.operator ?? os.userInfo().username;
    const reason = o.reason ?? "emergency rollback";
    const { writes, via } = await restoreTraffic(kubectl, ns, o.stack, s, target);
    const restoredAfter = sinceStart();
    process.stderr.write(
        `[rollback] traffic restored ${restoredAfter.toFixed(2)} s after the command started: ` +
            `${writes.map((w) => w.describe).join("; ")} (field manager ${ROLLBACK_FIELD_MANAGER}, through ${via})\n`,
    );

    // Then the stack converges through the engine: stack file, state and cluster agree.
    const converged = await converge(dir, o.stack, s, target, { reason, by }, o["policy-config"]);
    if (!converged.ok) {
        // Traffic stays where the rollback put it; the stack file says so too, for whoever
        // converges the stack next. Putting either back would send traffic to what failed.
        process.stderr.write(
            `[rollback] traffic is restored (${writes.map((w) => w.describe).join("; ")}), but the stack did not converge: ` +
                `the stack file ${path.join(dir, `Pulumi.${o.stack}.yaml`)} says ` +
                `${target.describe.split(" → ")[1]} with release.rollback; ` +
                `fix what the engine says below and run pulumi up on it (do not run the rollback again: it ` +
                `would switch once more).\n${converged.error ?? ""}\n`,
        );
        return 1;
    }
    const convergedAfter = sinceStart();
    // Proof from the API server, not from Pulumi's output.
    if (s.blueGreen && !activeColorIs(kubectl, ns, s.name, target.value)) return 1;
    process.stdout.write(
        `rolled back ${s.name}: ${target.describe}, by ${by}: ${reason}; traffic restored in ${restoredAfter.toFixed(2)} s, ` +
            `converged in ${convergedAfter.toFixed(1)} s (update ${converged.seconds.toFixed(0)} s)\n`,
    );
    return 0;
}
