// Servers the tests start (Prometheus, PostgreSQL): a free loopback port, and stopping one
// for sure.
import type { ChildProcess } from "node:child_process";
import type { AddressInfo } from "node:net";
import * as net from "node:net";

export async function freePort(host = "127.0.0.1"): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, host, r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
}

/**
 * Asks a child to stop (`ask`: a signal or the server's own stop command), waits up to
 * `graceMs` for it to exit, then kills it. `exited` resolves when it has exited.
 */
export async function stopProcess(
    child: ChildProcess,
    exited: Promise<void>,
    ask: () => void,
    graceMs: number,
): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) ask();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
    }
}
