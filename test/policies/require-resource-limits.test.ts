// The require-resource-limits policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requireResourceLimits } from "../../policies/require-resource-limits";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runResourcePolicy } from "./util";

let production: PolicyResource[];
beforeAll(async () => ({ production } = await baseline()));

describe("require-resource-limits", () => {
    testCompliantBaseline(requireResourceLimits);

    test("a container without a memory limit", async () => {
        const d = find(clone(production), "prod-api-bg-blue");
        delete d.props.spec.template.spec.containers[0].resources.limits.memory;
        expect((await runResourcePolicy(requireResourceLimits, d)).map((v) => v.message)).toEqual([
            "Deployment shop-production/api-blue: container 'api' has no resources.limits.memory; set them (services.<name>.resources).",
        ]);
    });
});
