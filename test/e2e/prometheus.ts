// A real Prometheus server (Debian's build, unpacked by scripts/promtool.sh) on loopback,
// scraping metrics targets the test controls (request counters and a latency histogram
// advanced at a steady rate, with the error ratio and latency given by callbacks), or the
// real pods of a stack as its ServiceMonitors describe them. Started and stopped by the tests.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { seriesLabel } from "../../lib/promql";
import { TOOLCHAIN_BIN } from "./engine";
import { freePort, stopProcess } from "./processes";

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class MetricsTarget {
    /** Series are served only while true: false stands for a service Prometheus sees nothing of. */
    serving = true;
    private server?: http.Server;
    private last = Date.now();
    private ok = 0;
    private errors = 0;
    private readonly buckets = BUCKETS.map(() => 0);
    private count = 0;
    private sum = 0;

    constructor(
        private readonly errorRatio: () => number,
        private readonly latencySeconds: () => number,
        private readonly requestsPerSecond: number | (() => number) = 50,
        /** The series' names and labels: an app's own by default, or e.g. a Gateway's of one backend. */
        private readonly series: SeriesNames = {
            requests: "http_requests_total",
            duration: "http_request_duration_seconds",
        },
    ) {}

    async start(): Promise<number> {
        this.server = http.createServer((_req, res) => {
            this.advance();
            res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
            res.end(this.serving ? this.exposition() : "");
        });
        await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
        return (this.server.address() as AddressInfo).port;
    }

    stop(): Promise<void> {
        this.server?.closeAllConnections();
        return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
    }

    private advance(): void {
        const now = Date.now();
        const rps = typeof this.requestsPerSecond === "number" ? this.requestsPerSecond : this.requestsPerSecond();
        const n = (rps * (now - this.last)) / 1000;
        this.last = now;
        const bad = n * this.errorRatio();
        this.errors += bad;
        this.ok += n - bad;
        const latency = this.latencySeconds();
        BUCKETS.forEach((le, i) => {
            if (latency <= le) this.buckets[i] += n;
        });
        this.count += n;
        this.sum += n * latency;
    }

    private exposition(): string {
        const { requests, duration, labels = {} } = this.series;
        const own = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
        const l = (...extra: string[]) => ([...own, ...extra].length > 0 ? `{${[...own, ...extra].join(",")}}` : "");
        const lines = [
            `# TYPE ${requests} counter`,
            `${requests}${l('code="200"')} ${this.ok}`,
            `${requests}${l('code="500"')} ${this.errors}`,
            `# TYPE ${duration} histogram`,
            ...BUCKETS.map((le, i) => `${duration}_bucket${l(`le="${le}"`)} ${this.buckets[i]}`),
            `${duration}_bucket${l('le="+Inf"')} ${this.count}`,
            `${duration}_sum${l()} ${this.sum}`,
            `${duration}_count${l()} ${this.count}`,
        ];
        return `${lines.join("\n")}\n`;
    }
}

/** The metric names a MetricsTarget serves, and labels of its own on every series. */
export interface SeriesNames {
    requests: string;
    duration: string;
    labels?: Record<string, string>;
}

export interface RunningPrometheus {
    url: string;
    stop: () => Promise<void>;
}

export interface ScrapeTarget {
    port: number;
    /** Put on every series scraped from this target (e.g. namespace and service). */
    labels: Record<string, string>;
}

/** One scrape target as file-based discovery reads it. */
interface TargetGroup {
    targets: string[];
    labels: Record<string, string>;
}

/**
 * The local cluster's Gateway (Traefik's metrics on its loopback entry point), scraped as a
 * job with no `service` target label, so its series keep Traefik's own `service` label.
 */
export const GATEWAY_SCRAPE_JOB = {
    job_name: "traefik",
    scrape_interval: "1s",
    static_configs: [{ targets: ["127.0.0.1:18081"] }],
};

/**
 * What prometheus-operator's config makes Prometheus scrape for a namespace's
 * ServiceMonitors: for each monitor endpoint, every endpoint of the Services its selector
 * matches, on the endpoint's named port and path, labelled namespace, service, pod,
 * endpoint, job and the monitor's podTargetLabels (runbook.dev/track as runbook_dev_track).
 * Debian's Prometheus is built without Kubernetes discovery, so this reads the API server
 * (one kubectl call a second, asynchronous so load and releases keep their pace) and hands
 * the targets to Prometheus through file-based discovery. Only the scrape interval is the
 * test's: every second, so a change shows in a release's short windows.
 */
export class ServiceMonitorDiscovery {
    private timer?: NodeJS.Timeout;
    private readonly files = new Map<
        string,
        { path: string; port: string; selector: Record<string, string>; podLabels: string[] }
    >();

    private constructor(
        private readonly kubectl: { binary: string; kubeconfig: string },
        private readonly namespace: string,
        private readonly dir: string,
        monitors: any[],
    ) {
        fs.mkdirSync(dir, { recursive: true });
        for (const m of monitors)
            (m.spec.endpoints as any[]).forEach((ep, i) =>
                this.files.set(`serviceMonitor/${namespace}/${m.metadata.name}/${i}`, {
                    path: path.join(dir, `${m.metadata.name}-${i}.json`),
                    port: ep.port,
                    selector: m.spec.selector?.matchLabels ?? {},
                    podLabels: m.spec.podTargetLabels ?? [],
                }),
            );
        this.jobs = monitors.flatMap((m) =>
            (m.spec.endpoints as any[]).map((ep, i) => {
                const job = `serviceMonitor/${namespace}/${m.metadata.name}/${i}`;
                return {
                    job_name: job,
                    scrape_interval: "1s",
                    metrics_path: ep.path ?? "/metrics",
                    file_sd_configs: [{ files: [this.files.get(job)!.path], refresh_interval: "1s" }],
                };
            }),
        );
    }

    /** The scrape jobs, one per monitor endpoint, for startPrometheus. */
    readonly jobs: object[];

    /** Discovers the namespace's ServiceMonitors and keeps their targets current until stop(). */
    static async start(
        kubectl: { binary: string; kubeconfig: string },
        namespace: string,
        dir: string,
    ): Promise<ServiceMonitorDiscovery> {
        const monitors = (await ServiceMonitorDiscovery.get(kubectl, ["servicemonitors", "-n", namespace])).items;
        const d = new ServiceMonitorDiscovery(kubectl, namespace, dir, monitors);
        await d.refresh();
        const tick = () => {
            d.timer = setTimeout(() => d.refresh().finally(() => d.timer && tick()), 1000);
        };
        tick();
        return d;
    }

    stop(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
    }

    private static get(kubectl: { binary: string; kubeconfig: string }, args: string[]): Promise<any> {
        return new Promise((resolve, reject) =>
            execFile(
                kubectl.binary,
                ["--kubeconfig", kubectl.kubeconfig, "get", ...args, "-o", "json"],
                { maxBuffer: 64 * 2 ** 20 },
                (err, out) => (err ? reject(err) : resolve(JSON.parse(out))),
            ),
        );
    }

    private async refresh(): Promise<void> {
        let all: any[];
        try {
            all = (
                await ServiceMonitorDiscovery.get(this.kubectl, ["services,endpointslices,pods", "-n", this.namespace])
            ).items;
        } catch {
            return; // the next second's read
        }
        const pods = new Map(all.filter((o) => o.kind === "Pod").map((p) => [p.metadata.name, p]));
        for (const f of this.files.values()) {
            const groups: TargetGroup[] = [];
            const services = all.filter(
                (o) =>
                    o.kind === "Service" && Object.entries(f.selector).every(([k, v]) => o.metadata.labels?.[k] === v),
            );
            for (const svc of services)
                for (const slice of all.filter(
                    (o) =>
                        o.kind === "EndpointSlice" &&
                        o.metadata.labels?.["kubernetes.io/service-name"] === svc.metadata.name,
                )) {
                    const port = (slice.ports ?? []).find((p: any) => p.name === f.port)?.port;
                    if (port === undefined) continue;
                    for (const ep of slice.endpoints ?? []) {
                        const pod = ep.targetRef?.kind === "Pod" ? pods.get(ep.targetRef.name) : undefined;
                        const labels: Record<string, string> = {
                            namespace: this.namespace,
                            service: svc.metadata.name,
                            endpoint: f.port,
                            job: svc.metadata.name,
                        };
                        if (pod) {
                            labels.pod = pod.metadata.name;
                            for (const l of f.podLabels)
                                if (pod.metadata.labels?.[l] !== undefined)
                                    labels[seriesLabel(l)] = pod.metadata.labels[l];
                        }
                        groups.push({ targets: ep.addresses.map((a: string) => `${a}:${port}`), labels });
                    }
                }
            // Written whole, then renamed: Prometheus never reads half a file.
            fs.writeFileSync(`${f.path}.tmp`, JSON.stringify(groups));
            fs.renameSync(`${f.path}.tmp`, f.path);
        }
    }
}

/**
 * Prometheus on loopback scraping each target every second, and the jobs given (such as a
 * ServiceMonitorDiscovery's).
 */
export async function startPrometheus(
    dir: string,
    targets: ScrapeTarget[],
    jobs: object[] = [],
): Promise<RunningPrometheus> {
    fs.mkdirSync(dir, { recursive: true });
    const config = path.join(dir, "prometheus.yml");
    fs.writeFileSync(
        config,
        JSON.stringify({
            global: { scrape_interval: "1s", evaluation_interval: "1s" },
            scrape_configs: [
                ...(targets.length > 0
                    ? [
                          {
                              job_name: "release-e2e",
                              static_configs: targets.map((t) => ({
                                  targets: [`127.0.0.1:${t.port}`],
                                  labels: t.labels,
                              })),
                          },
                      ]
                    : []),
                ...jobs,
            ],
        }),
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const out = fs.openSync(path.join(dir, "prometheus.log"), "w");
    const child: ChildProcess = spawn(
        path.join(TOOLCHAIN_BIN, "prometheus"),
        [
            `--config.file=${config}`,
            `--storage.tsdb.path=${path.join(dir, "data")}`,
            `--web.listen-address=127.0.0.1:${port}`,
            "--log.level=warn",
        ],
        { stdio: ["ignore", out, out] },
    );
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const stop = () => stopProcess(child, exited, () => child.kill("SIGTERM"), 10_000);
    const until = Date.now() + 30_000;
    for (;;) {
        try {
            const res = await fetch(`${url}/-/ready`);
            if (res.ok) break;
        } catch {
            // not listening yet
        }
        if (child.exitCode !== null || Date.now() > until) {
            await stop();
            throw new Error(
                `prometheus did not become ready:\n${fs.readFileSync(path.join(dir, "prometheus.log"), "utf8").slice(-2000)}`,
            );
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    return { url, stop };
}
