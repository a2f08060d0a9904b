// The require-canary-weight-on-plan policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requireCanaryWeightOnPlan } from "../../policies/require-canary-weight-on-plan";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runStackPolicy } from "./util";

let staging: PolicyResource[];
beforeAll(async () => ({ staging } = await baseline()));

describe("require-canary-weight-on-plan", () => {
    testCompliantBaseline(requireCanaryWeightOnPlan);

    test("an HTTPRoute weight off the plan", async () => {
        const rs = clone(staging);
        const refs = find(rs, "stg-api-canary-route").props.spec.rules[0].backendRefs;
        refs[0].weight = 70;
        refs[1].weight = 30;
        expect((await runStackPolicy(requireCanaryWeightOnPlan, rs)).map((v) => v.message)).toEqual([
            "HTTPRoute shop-staging/api: canary weight 30 is not on the plan [5, 25, 100] (0 aborts, 100 promotes); step to the next planned weight.",
        ]);
    });

    test("weights that do not add up to 100; each object's own plan wins over the config's", async () => {
        const rs = clone(staging);
        find(rs, "stg-api-canary-route").props.spec.rules[0].backendRefs[0].weight = 80;
        // Every canary object declares its service's plan (api 5/25/100, web 25/50/100): the config's steps do not apply.
        expect(
            (await runStackPolicy(requireCanaryWeightOnPlan, rs, { steps: [10, 50, 100] })).map((v) => v.message),
        ).toEqual(["HTTPRoute shop-staging/api: backend weights add up to 105, not 100."]);
    });

    test("a service's own plan: web at 50 is on its plan 25 → 50 → 100, off the default one", async () => {
        const rs = clone(staging);
        for (const n of ["stg-web-canary-stable", "stg-web-canary-canary"])
            find(rs, n).props.metadata.annotations["runbook.dev/canary-weight"] = "50";
        expect(await runStackPolicy(requireCanaryWeightOnPlan, rs)).toEqual([]);
        for (const n of ["stg-web-canary-stable", "stg-web-canary-canary"])
            delete find(rs, n).props.metadata.annotations["runbook.dev/canary-steps"];
        expect((await runStackPolicy(requireCanaryWeightOnPlan, rs)).map((v) => v.message)).toEqual([
            "Deployment shop-staging/web-stable: canary weight 50 is not on the plan [5, 25, 100] (0 aborts, 100 promotes); step to the next planned weight.",
            "Deployment shop-staging/web-canary: canary weight 50 is not on the plan [5, 25, 100] (0 aborts, 100 promotes); step to the next planned weight.",
        ]);
    });

    test("an object that declares no plan is held to the config's steps; a malformed plan is named", async () => {
        const rs = clone(staging);
        const route = find(rs, "stg-api-canary-route");
        delete route.props.metadata.annotations["runbook.dev/canary-steps"];
        expect(
            (await runStackPolicy(requireCanaryWeightOnPlan, [route], { steps: [10, 50, 100] })).map((v) => v.message),
        ).toEqual([
            "HTTPRoute shop-staging/api: canary weight 25 is not on the plan [10, 50, 100] (0 aborts, 100 promotes); step to the next planned weight.",
        ]);
        route.props.metadata.annotations["runbook.dev/canary-steps"] = "[25, 5, 100]";
        expect((await runStackPolicy(requireCanaryWeightOnPlan, [route])).map((v) => v.message)).toEqual([
            'HTTPRoute shop-staging/api: annotation runbook.dev/canary-steps is "[25, 5, 100]", not a rising JSON array of whole percentages 1..100.',
        ]);
    });

    test("an NGINX canary weight outside 0..100", async () => {
        const ingress = {
            ...find(clone(staging), "stg-api-canary-route"),
            type: "kubernetes:networking.k8s.io/v1:Ingress",
            props: {
                metadata: {
                    name: "api-canary",
                    namespace: "shop-staging",
                    annotations: {
                        "nginx.ingress.kubernetes.io/canary": "true",
                        "nginx.ingress.kubernetes.io/canary-weight": "150",
                    },
                },
            },
        } as PolicyResource;
        expect((await runStackPolicy(requireCanaryWeightOnPlan, [ingress])).map((v) => v.message)).toEqual([
            "Ingress shop-staging/api-canary: canary weight 150 is not a number 0..100; set services.<name>.canary.weight.",
        ]);
    });
});
