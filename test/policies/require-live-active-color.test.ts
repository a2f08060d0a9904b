// The require-live-active-color policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requireLiveActiveColor } from "../../policies/require-live-active-color";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runStackPolicy } from "./util";

let production: PolicyResource[];
beforeAll(async () => ({ production } = await baseline()));

describe("require-live-active-color", () => {
    testCompliantBaseline(requireLiveActiveColor);

    test("the active Service selects a colour scaled to 0", async () => {
        const rs = clone(production);
        find(rs, "prod-api-bg-green").props.spec.replicas = 0;
        expect((await runStackPolicy(requireLiveActiveColor, rs)).map((v) => v.message)).toEqual([
            "Service shop-production/api-preview selects colour 'green' but Deployment shop-production/api-green has 0 replicas; scale it up before switching (blueGreen.idleReplicas).",
            "Service shop-production/api selects colour 'green' but Deployment shop-production/api-green has 0 replicas; scale it up before switching (blueGreen.idleReplicas).",
        ]);
    });

    test("the active Service selects a colour with no Deployment", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-web-bg-green");
        expect((await runStackPolicy(requireLiveActiveColor, rs)).map((v) => v.message)).toContain(
            "Service shop-production/web selects colour 'green' but no Deployment in shop-production has those pod labels; deploy that colour before switching activeColor.",
        );
    });
});
