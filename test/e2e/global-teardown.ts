// Stops the local cluster when the tests started it; a cluster the user had running stays.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { MARKER } from "./global-setup";
import { ROOT } from "../../commands/engine";

export default function globalTeardown(): void {
    const wasRunning = fs.existsSync(MARKER) && fs.readFileSync(MARKER, "utf8") === "yes";
    if (!wasRunning) spawnSync("bash", [path.join(ROOT, "scripts", "cluster.sh"), "down"], { stdio: "inherit" });
}
