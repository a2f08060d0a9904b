// The require-pdb-in-production policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requirePdbInProduction } from "../../policies/require-pdb-in-production";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, runStackPolicy } from "./util";

let production: PolicyResource[];
beforeAll(async () => ({ production } = await baseline()));

describe("require-pdb-in-production", () => {
    testCompliantBaseline(requirePdbInProduction);

    test("a production Deployment without a PodDisruptionBudget", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-web-pdb");
        expect((await runStackPolicy(requirePdbInProduction, rs)).map((v) => v.message)).toEqual([
            "Deployment shop-production/web-blue has no PodDisruptionBudget selecting its pods; give every production Deployment one (the runbook components do: AppService).",
            "Deployment shop-production/web-green has no PodDisruptionBudget selecting its pods; give every production Deployment one (the runbook components do: AppService).",
        ]);
    });
});
