// npm run --silent rollback -- --stack S --service NAME [--reason TEXT] [--by NAME]
//     [--policy-config FILE] [--dir DIR]
// Emergency rollback: switches a blue/green service back to the other colour, or aborts a
// canary (weight 0), through the Automation API. Only to a colour that still runs pods and
// was tested with the image it runs (its smoke Job passed), so no smoke Job runs again. The
// stack file is updated (activeColor or weight, and release.rollback with who and why), so
// config and cluster agree; the program honours release.rollback only while the update does
// nothing but go back, and the deploy gate then lets it through windows and freezes.
// Exit codes: 0 rolled back, 1 refused or failed (nothing changed), 2 unusable input.
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DateTime } from "luxon";
import type { ServiceConfig } from "../config/types";
import { smokeJobName } from "../lib/labels";
import { COLOR_LABEL } from "../policies/lib/well-known";
import { openStack, restoreStackFile, ROOT, serviceKey, stackKubectl, up, type Opened } from "./automation";
import { printedHelp, runMainAsync, UsageError } from "./ci-common";
import type { Kubectl } from "./kube";

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

export class RefusedError extends Error {}

/** Refuses (RefusedError) unless what the rollback goes back to runs ready pods that were tested. */
export function checkCanGoBack(kubectl: Kubectl, namespace: string, s: ServiceConfig): string {
    const bg = s.blueGreen;
    const name = bg ? `${s.name}-${bg.activeColor === "blue" ? "green" : "blue"}` : `${s.name}-stable`;
    const d = kubectl.find("deployment", name, namespace);
    if (!d) throw new RefusedError(`Deployment ${namespace}/${name} does not exist in the cluster`);
    const ready = d.status?.readyReplicas ?? 0;
    if (ready < 1)
        throw new RefusedError(
            `Deployment ${namespace}/${name} has no ready pods (spec.replicas ${d.spec?.replicas ?? 0}); a rollback to it would take all traffic to nothing`,
        );
    const image: string | undefined = d.spec?.template?.spec?.containers?.[0]?.image;
    if (bg) {
        const color = bg.activeColor === "blue" ? "green" : "blue";
        if (image !== bg.images[color])
            throw new RefusedError(
                `Deployment ${namespace}/${name} runs ${image}, not ${bg.images[color]} as the stack says; run pulumi up --refresh first`,
            );
        if (bg.smokeTest.enabled) {
            const jobName = smokeJobName(s.name, color, bg.images[color], s.healthEndpoints);
            const job = kubectl.find("job", jobName, namespace);
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

async function main(argv: string[]): Promise<number> {
    if (printedHelp(__filename, argv)) return 0;
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
    const opened: Opened = await openStack(path.resolve(o.dir ?? ROOT), o.stack, process.env);
    const s = opened.config.services.find((x) => x.name === o.service);
    if (!s)
        throw new UsageError(
            `no service '${o.service}' in stack ${o.stack}; it has ${opened.config.services.map((x) => x.name).join(", ")}`,
        );
    const target = rollbackTarget(s);
    const ns = opened.config.namespace.name;
    const kubectl = stackKubectl(opened);
    const by = o.by ?? opened.config.release.operator ?? os.userInfo().username;
    const reason = o.reason ?? "emergency rollback";
    process.stderr.write(`[rollback] ${o.stack}/${s.name}: ${target.describe} — ${checkCanGoBack(kubectl, ns, s)}\n`);

    const at = DateTime.utc().toISO({ suppressMilliseconds: true }) as string;
    await opened.stack.setAllConfig(
        {
            [target.key]: { value: target.value },
            "runbook:release.rollback.reason": { value: reason },
            "runbook:release.rollback.by": { value: by },
            "runbook:release.rollback.at": { value: at },
        },
        true,
    );
    const r = await up(opened, `rollback ${s.name}: ${target.describe} by ${by}: ${reason}`, o["policy-config"]);
    if (!r.ok) {
        restoreStackFile(opened);
        process.stderr.write(
            `[rollback] FAILED after ${r.seconds.toFixed(1)} s; the stack file is back as it was.\n${r.error ?? ""}\n`,
        );
        return 1;
    }
    // Proof from the API server, not from Pulumi's output.
    if (s.blueGreen) {
        const svc = kubectl.find("service", s.name, ns);
        const selected = svc?.spec?.selector?.[COLOR_LABEL];
        if (selected !== target.value) {
            process.stderr.write(
                `[rollback] the update finished but Service ${ns}/${s.name} selects ${selected}, not ${target.value}\n`,
            );
            return 1;
        }
        const endpoints = kubectl
            .list("endpointslices", ns, `kubernetes.io/service-name=${s.name}`)
            .flatMap((e: { endpoints?: { conditions?: { ready?: boolean } }[] }) => e.endpoints ?? [])
            .filter((e) => e.conditions?.ready !== false);
        process.stderr.write(
            `[rollback] Service ${ns}/${s.name} selects ${selected} (${endpoints.length} ready endpoint(s))\n`,
        );
    }
    process.stdout.write(
        `rolled back ${s.name}: ${target.describe} in ${r.seconds.toFixed(0)} s (update; ${r.wallSeconds.toFixed(1)} s with start-up), by ${by}: ${reason}\n`,
    );
    return 0;
}

if (require.main === module) runMainAsync("rollback", () => main(process.argv.slice(2)), RefusedError);
