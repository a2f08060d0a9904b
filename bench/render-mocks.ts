// One in-process render of the program with Pulumi's mocks, N services; prints JSON
// {services, resources, ms, maxRssMiB}. Run in a fresh process per N (bench/run.ts does).
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config/load";
import { rawFromStackFile } from "../config/stack-file";
import { ROOT } from "../commands/engine";
import { servicesConfig } from "./services";

async function main(): Promise<void> {
    const n = Number(process.argv[2]);
    let resources = 0;
    pulumi.runtime.setMocks(
        {
            newResource: (a) => {
                resources++;
                return { id: `${a.name}-id`, state: a.inputs };
            },
            call: (a) => {
                throw new Error(`unexpected call ${a.token}`);
            },
        },
        "runbook",
        "bench",
        false,
    );
    // Loaded after the mocks are set, as the program would be.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RunbookStack } = require("../program/runbook-stack") as typeof import("../program/runbook-stack");
    const raw = rawFromStackFile(path.join(ROOT, "Pulumi.local.yaml"));
    const config = parseStackConfig({ ...raw, values: { ...raw.values, services: servicesConfig(n) } });
    const t0 = process.hrtime.bigint();
    new RunbookStack("bench", { config });
    // Wait until every registration has reached the mocks.
    let last = -1;
    while (last !== resources) {
        last = resources;
        await new Promise((r) => setTimeout(r, 20));
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 - 20;
    console.log(JSON.stringify({ services: n, resources, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
