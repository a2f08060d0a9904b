// What is running in a stack's namespace, as the API server tells it: Deployments and ready
// replicas, the colour each Service selects, canary weights, the backup CronJobs and the
// last Jobs.
//   npm run --silent status -- --stack local [--kubeconfig FILE]
import * as path from "node:path";
import { parseArgs } from "node:util";
import { APP_LABEL, COLOR_LABEL, TRACK_LABEL } from "../policies/lib/well-known";
import { ROUTERS, type LiveObjects } from "../policies/routers";
import { ROOT } from "./engine";
import { UsageError } from "./errors";
import { Kubectl } from "./kube";
import { stackConfigOrThrow } from "./stack";

export interface Snapshot {
    namespace: string;
    server: string;
    deployments: any[];
    services: any[];
    /** What the canary routers read their weights from, by kind (policies/routers). */
    routerObjects: LiveObjects;
    cronJobs: any[];
    jobs: any[];
}

export function readSnapshot(kubectl: Kubectl, namespace: string): Snapshot {
    const list = (kind: string) => kubectl.list(kind, namespace);
    const deployments = list("deployments");
    const routerKinds = [...new Set(ROUTERS.flatMap((r) => r.liveKinds))].filter((k) => k !== "deployments");
    return {
        namespace,
        server: kubectl.server(),
        deployments,
        services: list("services"),
        routerObjects: { deployments, ...Object.fromEntries(routerKinds.map((kind) => [kind, list(kind)])) },
        cronJobs: list("cronjobs"),
        jobs: list("jobs"),
    };
}

function table(rows: string[][]): string[] {
    if (rows.length === 0) return ["  (none)"];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")}`);
}

function jobState(job: any): string {
    const c = (job.status?.conditions ?? []).find(
        (x: any) => x.status === "True" && (x.type === "Complete" || x.type === "Failed"),
    );
    if (c)
        return c.type === "Complete"
            ? `Complete ${job.status.completionTime ?? c.lastTransitionTime}`
            : `Failed ${c.lastTransitionTime} (${c.reason ?? "no reason"})`;
    return `Running since ${job.status?.startTime ?? job.metadata.creationTimestamp}`;
}

/** Canary weight of each app with a canary track, from the first router that splits its traffic. */
function canaryWeights(s: Snapshot): string[][] {
    const apps = new Set(
        s.deployments
            .filter((d) => d.metadata.labels?.[TRACK_LABEL] === "canary")
            .map((d) => d.metadata.labels[APP_LABEL]),
    );
    return [...apps].sort().flatMap((app) => {
        for (const router of ROUTERS) {
            const w = router.liveWeight(s.routerObjects, app);
            if (w) return [[app, `${w.percent}%`, w.source]];
        }
        return [];
    });
}

export function formatStatus(s: Snapshot): string {
    const out = [
        `What is running in namespace ${s.namespace} (asked of ${s.server}):`,
        "",
        "Deployments (ready/desired, image)",
    ];
    out.push(
        ...table(
            s.deployments
                .map((d) => [
                    d.metadata.name,
                    `${d.status?.readyReplicas ?? 0}/${d.spec.replicas}`,
                    d.spec.template.spec.containers.map((c: any) => c.image).join(","),
                ])
                .sort((a, b) => a[0].localeCompare(b[0])),
        ),
    );
    out.push("", "Services (what each selects)");
    out.push(
        ...table(
            s.services
                .filter((v) => v.spec.selector)
                .map((v) => {
                    const sel = v.spec.selector;
                    const what = sel[COLOR_LABEL]
                        ? `colour ${sel[COLOR_LABEL]}`
                        : sel[TRACK_LABEL]
                          ? `track ${sel[TRACK_LABEL]}`
                          : "every pod of the app";
                    return [v.metadata.name, what];
                })
                .sort((a, b) => a[0].localeCompare(b[0])),
        ),
    );
    out.push("", "Canary weights");
    out.push(...table(canaryWeights(s)));
    out.push("", "Backup CronJobs");
    out.push(
        ...table(
            s.cronJobs.map((c) => [
                c.metadata.name,
                c.spec.suspend
                    ? "on demand (suspended)"
                    : `${c.spec.schedule} (${c.spec.timeZone ?? "controller time zone"})`,
                `last scheduled: ${c.status?.lastScheduleTime ?? "never"}`,
            ]),
        ),
    );
    out.push("", "Last Jobs");
    const jobs = [...s.jobs]
        .sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
        .slice(0, 5);
    out.push(...table(jobs.map((j) => [j.metadata.name, jobState(j)])));
    return out.join("\n");
}

export function run(argv: string[]): number {
    const { values } = parseArgs({
        args: argv,
        options: { stack: { type: "string" }, kubeconfig: { type: "string" } },
        strict: true,
    });
    if (!values.stack)
        throw new UsageError(
            "--stack is required (usage: npm run --silent status -- --stack NAME [--kubeconfig FILE])",
        );
    const config = stackConfigOrThrow(ROOT, values.stack, process.env);
    const kubeconfig = values.kubeconfig ?? config.kubernetes.kubeconfig;
    if (!kubeconfig)
        throw new UsageError(
            `stack '${values.stack}' names no kubeconfig (runbook:kubernetes.kubeconfig); pass --kubeconfig FILE`,
        );
    const kubectl = new Kubectl(path.resolve(ROOT, kubeconfig));
    console.log(formatStatus(readSnapshot(kubectl, config.namespace.name)));
    return 0;
}
