// Bounded HTTP load, counted per answering version: what `npm run load` sends, and what a
// release needs to have something to judge. Every request opens its own connection, so a
// Service's kube-proxy rules (or a router's weights) choose afresh for each one, as they do
// for clients that do not keep connections alive.
import * as http from "node:http";
import * as net from "node:net";

/** The response header the answering version is read from (the demo app sets it on every answer). */
export const VERSION_HEADER = "x-app-version";

/** What answered without naming a version, and requests that got no answer at all. */
export const UNNAMED = "(no version)";
export const NO_ANSWER = "(no answer)";

export interface LoadPlan {
    /** Where to send GETs: an http:// URL whose host is an address, not a name. */
    url: string;
    /** The Host header, where a router routes by it. */
    host?: string;
    /** Requests per second, started on a fixed schedule. */
    rps: number;
    seconds: number;
    /** Per request, milliseconds. */
    timeoutMs?: number;
    /** Stops the schedule early (the answers of requests already sent are still awaited). */
    signal?: AbortSignal;
}

export interface VersionCount {
    requests: number;
    /** Answers 500–599, and requests with no answer. */
    errors: number;
    /** When its first and last answers came, and its first error (epoch milliseconds). */
    firstAt: number;
    lastAt: number;
    firstErrorAt?: number;
}

export interface LoadResult {
    byVersion: Map<string, VersionCount>;
    /** Requests started: at most rps × seconds. */
    sent: number;
    /** Requests the schedule skipped because as many as rps were still unanswered. */
    skipped: number;
}

/** At most this many requests are in flight at once: one second's worth. */
const inFlightLimit = (rps: number): number => Math.max(1, Math.ceil(rps));

function once(plan: LoadPlan): Promise<{ version: string; status?: number }> {
    return new Promise((resolve) => {
        const req = http.get(
            plan.url,
            { agent: false, timeout: plan.timeoutMs ?? 5000, headers: plan.host ? { host: plan.host } : {} },
            (res) => {
                const header = res.headers[VERSION_HEADER];
                const version = typeof header === "string" && header !== "" ? header : UNNAMED;
                res.resume();
                res.on("end", () => resolve({ version, status: res.statusCode }));
                res.on("error", () => resolve({ version: NO_ANSWER }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve({ version: NO_ANSWER }));
    });
}

/**
 * Sends `plan.rps` GETs a second for `plan.seconds` (or until `plan.signal` aborts), then
 * waits for the last answers. Never more than rps × seconds requests, never more than rps of
 * them unanswered at once.
 */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
    const byVersion = new Map<string, VersionCount>();
    const count = (version: string, error: boolean) => {
        const now = Date.now();
        const c = byVersion.get(version) ?? { requests: 0, errors: 0, firstAt: now, lastAt: now };
        c.requests++;
        c.lastAt = now;
        if (error) {
            c.errors++;
            c.firstErrorAt ??= now;
        }
        byVersion.set(version, c);
    };
    const total = Math.floor(plan.rps * plan.seconds);
    const interval = 1000 / plan.rps;
    const limit = inFlightLimit(plan.rps);
    const start = Date.now();
    const pending = new Set<Promise<void>>();
    let sent = 0;
    let skipped = 0;
    for (let i = 0; i < total && !plan.signal?.aborted; i++) {
        const due = start + i * interval;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (plan.signal?.aborted) break;

        if (pending.size >= limit) {
            skipped++;
            continue;
        }
        sent++;
        const p: Promise<void> = once(plan).then((a) => {
            count(a.version, a.status === undefined || (a.status >= 500 && a.status <= 599));
            pending.delete(p);
        });
        pending.add(p);
    }
    await Promise.all(pending);
    return { byVersion, sent, skipped };
}

/**
 * Runs `work` while `plan` sends its requests, and both results. The requests stop
 * `lingerMs` after the work ends (the answers a change still gives once made are counted),
 * or at once when it throws.
 */
export async function loadWhile<T>(
    plan: Omit<LoadPlan, "signal">,
    work: () => Promise<T>,
    lingerMs = 0,
): Promise<{ result: T; load: LoadResult }> {
    const stop = new AbortController();
    const load = runLoad({ ...plan, signal: stop.signal });
    try {
        const result = await work();
        if (lingerMs > 0) await new Promise((r) => setTimeout(r, lingerMs));
        stop.abort();
        return { result, load: await load };
    } finally {
        stop.abort();
    }
}

/** One line per answering version, `<version> requests=<n> errors=<n>`, versions in order. */
export function formatLoad(r: LoadResult): string[] {
    const named = [...r.byVersion.keys()].filter((v) => v !== UNNAMED && v !== NO_ANSWER).sort();
    const lines = [...named, UNNAMED, NO_ANSWER]
        .filter((v) => r.byVersion.has(v))
        .map((v) => `${v} requests=${r.byVersion.get(v)!.requests} errors=${r.byVersion.get(v)!.errors}`);
    if (r.skipped > 0)
        lines.push(`(not sent) requests=${r.skipped}: as many requests as one second's were still unanswered`);
    return lines;
}

/** The addresses load may go to: loopback, and the local cluster's own range (scripts/cluster-node.sh OWN_RANGE). */
const ALLOWED = new net.BlockList();
ALLOWED.addSubnet("127.0.0.0", 8, "ipv4");
ALLOWED.addSubnet("198.18.16.0", 23, "ipv4");

export function allowedTarget(address: string): boolean {
    return net.isIPv4(address) && ALLOWED.check(address, "ipv4");
}
