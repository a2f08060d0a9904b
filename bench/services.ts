// Synthetic stacks of N services for the benchmarks: a third each blue/green, canary
// (Gateway API) and rolling, on top of the embedded default's settings.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";

export function servicesConfig(n: number): Record<string, unknown> {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
        const name = `svc-${String(i).padStart(3, "0")}`;
        const image = `ghcr.io/acme/${name}`;
        services[name] =
            i % 3 === 0
                ? {
                      strategy: "blueGreen",
                      metrics: { port: 9090 },
                      blueGreen: {
                          activeColor: "blue",
                          blue: { image: `${image}:1.0.0` },
                          green: { image: `${image}:1.1.0` },
                      },
                  }
                : i % 3 === 1
                  ? {
                        strategy: "canary",
                        image: `${image}:1.0.0`,
                        canary: {
                            image: `${image}:1.1.0`,
                            weight: 25,
                            router: { type: "gatewayApi", gateway: { name: "gw" } },
                        },
                    }
                  : { strategy: "rolling", image: `${image}:1.0.0` };
    }
    return services;
}

/** The local stack file's text with its services replaced by N synthetic ones. */
export function stackFileWith(root: string, n: number, renderDir: string): string {
    const doc = parse(fs.readFileSync(path.join(root, "Pulumi.local.yaml"), "utf8"));
    delete doc.encryptionsalt;
    doc.config["runbook:services"] = servicesConfig(n);
    doc.config["runbook:kubernetes"] = { renderYamlToDirectory: renderDir };
    return stringify(doc);
}
