// The require-hpa-bounds policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requireHpaBounds } from "../../policies/require-hpa-bounds";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runResourcePolicy } from "./util";

let staging: PolicyResource[];
beforeAll(async () => ({ staging } = await baseline()));

describe("require-hpa-bounds", () => {
    testCompliantBaseline(requireHpaBounds);

    test("min below 2 and max below min", async () => {
        const h = find(clone(staging), "stg-api-autoscaler-hpa");
        h.props.spec.minReplicas = 1;
        expect((await runResourcePolicy(requireHpaBounds, h)).map((v) => v.message)).toEqual([
            "HorizontalPodAutoscaler shop-staging/api: minReplicas is 1; it should be at least 2 so one pod can fail (autoscaling.minReplicas).",
        ]);
        h.props.spec.minReplicas = 4;
        h.props.spec.maxReplicas = 3;
        expect((await runResourcePolicy(requireHpaBounds, h)).map((v) => v.message)).toEqual([
            "HorizontalPodAutoscaler shop-staging/api: maxReplicas 3 is below minReplicas 4; raise autoscaling.maxReplicas.",
        ]);
    });
});
