// A real Prometheus server (Debian's build, unpacked by scripts/promtool.sh) on loopback,
// scraping a metrics target the test controls: request counters and a latency histogram
// advanced at a steady rate, with the error ratio and latency given by callbacks (which
// may read the live cluster). Started and stopped by the tests.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
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
        const lines = [
            "# TYPE http_requests_total counter",
            `http_requests_total{code="200"} ${this.ok}`,
            `http_requests_total{code="500"} ${this.errors}`,
            "# TYPE http_request_duration_seconds histogram",
            ...BUCKETS.map((le, i) => `http_request_duration_seconds_bucket{le="${le}"} ${this.buckets[i]}`),
            `http_request_duration_seconds_bucket{le="+Inf"} ${this.count}`,
            `http_request_duration_seconds_sum ${this.sum}`,
            `http_request_duration_seconds_count ${this.count}`,
        ];
        return `${lines.join("\n")}\n`;
    }
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

/** Prometheus scraping each target every second on loopback. */
export async function startPrometheus(dir: string, targets: ScrapeTarget[]): Promise<RunningPrometheus> {
    fs.mkdirSync(dir, { recursive: true });
    const config = path.join(dir, "prometheus.yml");
    fs.writeFileSync(
        config,
        JSON.stringify({
            global: { scrape_interval: "1s", evaluation_interval: "1s" },
            scrape_configs: [
                {
                    job_name: "release-e2e",
                    static_configs: targets.map((t) => ({ targets: [`127.0.0.1:${t.port}`], labels: t.labels })),
                },
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
