// Stops the local cluster when the tests started it; a cluster the user had running stays.
// `cluster -- down` checks that nothing of the cluster is left on the machine (processes,
// containers, mounts, network namespaces, the bridge, routes, iptables chains) and exits 1
// with the list when something is: that fails the run, as a leak should.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { MARKER } from "./global-setup";
import { ROOT } from "../../commands/engine";

export default function globalTeardown(): void {
    const wasRunning = fs.existsSync(MARKER) && fs.readFileSync(MARKER, "utf8") === "yes";
    if (wasRunning) return;
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), "down"], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm run --silent cluster -- down left parts of the cluster on this machine");
}
