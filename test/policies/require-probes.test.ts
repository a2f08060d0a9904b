// The require-probes policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requireProbes } from "../../policies/require-probes";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, runResourcePolicy } from "./util";

let production: PolicyResource[];
beforeAll(async () => ({ production } = await baseline()));

describe("require-probes", () => {
    testCompliantBaseline(requireProbes);

    test("a container without a readiness probe", async () => {
        const d = clone(production).find((r) => r.name === "prod-api-bg-green")!;
        delete d.props.spec.template.spec.containers[0].readinessProbe;
        expect(await runResourcePolicy(requireProbes, d)).toEqual([
            {
                message:
                    "Deployment shop-production/api-green: container 'api' has no readinessProbe; add them (services.<name>.probes, default GET /api/health).",
                urn: undefined,
            },
        ]);
    });
});
