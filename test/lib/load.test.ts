// The load generator against servers of this test on loopback: what it counts per version,
// and that it stays within its bounds.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { entryOf, gatewayTarget, parseLoadArgs } from "../../commands/load";
import { allowedTarget, formatLoad, loadWhile, NO_ANSWER, runLoad, UNNAMED } from "../../lib/load";
import { stackConfig } from "../util/stack";

/** A server on 127.0.0.1 answering with `answer(n)` for its n-th request (from 0). */
async function serve(
    answer: (n: number, res: http.ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void>; seen: () => number }> {
    let n = 0;
    const server = http.createServer((_req, res) => answer(n++, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}/version`,
        seen: () => n,
        close: () => new Promise((r) => server.close(() => r())),
    };
}

const versioned =
    (version: string, status = 200) =>
    (res: http.ServerResponse) => {
        res.writeHead(status, { "X-App-Version": version });
        res.end(status === 200 ? `${version}\n` : "injected fault\n");
    };

test("counts requests and 5xx per answering version, within rps × seconds", async () => {
    // Every 4th request answered by the canary, and every other of those a 500.
    const s = await serve((n, res) =>
        n % 4 === 3 ? versioned("1.43.0", n % 8 === 7 ? 500 : 200)(res) : versioned("1.42.0")(res),
    );
    try {
        const before = Date.now();
        const r = await runLoad({ url: s.url, rps: 40, seconds: 1 });
        expect(r.sent).toBe(40);
        expect(s.seen()).toBe(40);
        expect(r.byVersion.get("1.42.0")).toMatchObject({ requests: 30, errors: 0 });
        expect(r.byVersion.get("1.42.0")!.firstErrorAt).toBeUndefined();
        const canary = r.byVersion.get("1.43.0")!;
        expect(canary).toMatchObject({ requests: 10, errors: 5 });
        // When each version first and last answered, and first failed: in order, within the run.
        expect(before).toBeLessThanOrEqual(canary.firstAt);
        expect(canary.firstAt).toBeLessThan(canary.firstErrorAt!);
        expect(canary.firstErrorAt).toBeLessThan(canary.lastAt);
        expect(canary.lastAt).toBeLessThanOrEqual(Date.now());
        expect(formatLoad(r)).toEqual(["1.42.0 requests=30 errors=0", "1.43.0 requests=10 errors=5"]);
    } finally {
        await s.close();
    }
});

test("an aborted load sends no more requests, and still counts the answers of those it sent", async () => {
    const s = await serve((_n, res) => versioned("1.42.0")(res));
    try {
        const stop = new AbortController();
        setTimeout(() => stop.abort(), 450);
        const r = await runLoad({ url: s.url, rps: 20, seconds: 10, signal: stop.signal });
        // 20 a second for 0.45 s: the requests due at 0, 50, …, 400 ms.
        expect(r.sent).toBeGreaterThanOrEqual(8);
        expect(r.sent).toBeLessThanOrEqual(10);
        expect(s.seen()).toBe(r.sent);
        expect(r.byVersion.get("1.42.0")?.requests).toBe(r.sent);
    } finally {
        await s.close();
    }
});

test("load while work runs: it stops when the work ends (and lingers if asked), or when the work throws", async () => {
    const s = await serve((_n, res) => versioned("1.42.0")(res));
    const wait = (ms: number) => () => new Promise<string>((r) => setTimeout(() => r("done"), ms));
    try {
        // 20 a second: 300 ms of work, then 300 ms more of the linger.
        const { result, load } = await loadWhile({ url: s.url, rps: 20, seconds: 10 }, wait(300), 300);
        expect(result).toBe("done");
        expect(load.sent).toBeGreaterThanOrEqual(11);
        expect(load.sent).toBeLessThanOrEqual(14);
        expect(load.byVersion.get("1.42.0")?.requests).toBe(load.sent);
        const before = s.seen();
        const failing = async () => {
            await wait(200)();
            throw new Error("the work failed");
        };
        await expect(loadWhile({ url: s.url, rps: 20, seconds: 10 }, failing)).rejects.toThrow("the work failed");
        await wait(300)();
        // About 0.2 s of requests, and none after the work threw.
        expect(s.seen() - before).toBeLessThanOrEqual(6);
    } finally {
        await s.close();
    }
});

test("an answer without a version, and a request without an answer, are counted apart", async () => {
    const s = await serve((n, res) => {
        if (n === 0) {
            res.writeHead(404);
            res.end();
        } else res.socket?.destroy();
    });
    try {
        const r = await runLoad({ url: s.url, rps: 4, seconds: 1 });
        expect(formatLoad(r)).toEqual([`${UNNAMED} requests=1 errors=0`, `${NO_ANSWER} requests=3 errors=3`]);
    } finally {
        await s.close();
    }
});

test("a server slower than the schedule gets no more than one second's requests at once", async () => {
    const held: http.ServerResponse[] = [];
    const s = await serve((_n, res) => held.push(res));
    try {
        const done = runLoad({ url: s.url, rps: 10, seconds: 2, timeoutMs: 60_000 });
        await new Promise((r) => setTimeout(r, 2100));
        // 10 in flight, nothing answered: the other 10 of the 20 planned were not sent.
        expect(s.seen()).toBe(10);
        for (const res of held) versioned("1.42.0")(res);
        const r = await done;
        expect([r.sent, r.skipped]).toEqual([10, 10]);
        expect(formatLoad(r)).toEqual([
            "1.42.0 requests=10 errors=0",
            "(not sent) requests=10: as many requests as one second's were still unanswered",
        ]);
    } finally {
        await s.close();
    }
});

test("load goes only to loopback and the local cluster's own range", () => {
    for (const a of ["127.0.0.1", "198.18.16.12", "198.18.17.40"]) expect([a, allowedTarget(a)]).toEqual([a, true]);
    for (const a of ["198.18.18.1", "10.96.0.1", "8.8.8.8", "198.18.17", "::1", "localhost"])
        expect([a, allowedTarget(a)]).toEqual([a, false]);
});

test("bad arguments are named together, with the bounds", () => {
    expect(() => parseLoadArgs(["--seconds", "0", "--rps", "5000", "--path", "version"])).toThrow(
        "--stack: required (the stack's name, as in Pulumi.<stack>.yaml); " +
            "--service: required (a service of the stack's runbook:services); " +
            '--seconds: expected an integer 1..600, got "0"; ' +
            '--rps: expected an integer 1..200, got "5000"; ' +
            "--path: expected a path starting with '/', got \"version\"",
    );
    expect(parseLoadArgs(["--stack", "local", "--service", "api", "--seconds", "30"])).toEqual({
        stack: "local",
        service: "api",
        seconds: 30,
        rps: 10,
        path: "/version",
        kubeconfig: undefined,
        dir: undefined,
    });
});

test("where load goes: the way clients come; a canary whose weights nothing here routes is refused", () => {
    const local = stackConfig("local");
    const api = local.services.find((s) => s.name === "api")!;
    const web = local.services.find((s) => s.name === "web")!;
    expect(entryOf(api)).toEqual({ kind: "service", name: "api" });
    // The local stack's canary goes through the cluster's Gateway, for the route's host.
    expect(entryOf(web)).toEqual({
        kind: "gateway",
        name: "local",
        namespace: "runbook-gateway",
        sectionName: undefined,
        host: "shop.local.example",
    });
    const nginx = {
        ...web,
        canary: { ...web.canary!, router: { type: "nginx" as const, host: "x", ingressClassName: "nginx", path: "/" } },
    };
    expect(() => entryOf(nginx)).toThrow(
        /canary behind the NGINX router: its weights are stored in the canary Ingress/,
    );
    const replicas = { ...web, canary: { ...web.canary!, router: { type: "replicas" as const } } };
    expect(entryOf(replicas)).toEqual({ kind: "service", name: "web" });
});

test("a Gateway's target: the address its status gives, its HTTP listener's port, the listener's or route's host", () => {
    const gateway = {
        metadata: { name: "local", namespace: "gw" },
        spec: {
            listeners: [
                { name: "tls", protocol: "HTTPS", port: 18443 },
                { name: "http", protocol: "HTTP", port: 18080 },
                { name: "admin", protocol: "HTTP", port: 18090, hostname: "admin.example" },
            ],
        },
        status: { addresses: [{ type: "IPAddress", value: "127.0.0.1" }] },
    };
    const entry = { kind: "gateway" as const, name: "local", host: "shop.example" };
    expect(gatewayTarget(gateway, entry)).toEqual({ address: "127.0.0.1", port: 18080, host: "shop.example" });
    expect(gatewayTarget(gateway, { ...entry, sectionName: "admin" })).toEqual({
        address: "127.0.0.1",
        port: 18090,
        host: "admin.example",
    });
    expect(() => gatewayTarget(gateway, { ...entry, sectionName: "web" })).toThrow(
        "Gateway gw/local has no listener web",
    );
    expect(() => gatewayTarget({ ...gateway, status: {} }, entry)).toThrow(
        "Gateway gw/local has no address in its status: is its controller running and the Gateway programmed?",
    );
});
