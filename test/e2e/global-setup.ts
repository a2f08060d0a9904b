// Notes whether the local cluster was running before the tests, so the teardown stops only
// a cluster that the tests themselves started (test/e2e/cluster.ts starts it on first use).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../../commands/engine";

export const MARKER = path.join(ROOT, ".e2e", "cluster-was-running");

export default function globalSetup(): void {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), "kubeconfig"], { encoding: "utf8" });
    fs.mkdirSync(path.dirname(MARKER), { recursive: true });
    fs.writeFileSync(MARKER, r.status === 0 ? "yes" : "no");
}
