// The deny-unpinned-images policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { denyUnpinnedImages, imageProblem } from "../../policies/deny-unpinned-images";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runResourcePolicy } from "./util";

let production: PolicyResource[];
beforeAll(async () => ({ production } = await baseline()));

describe("deny-unpinned-images", () => {
    testCompliantBaseline(denyUnpinnedImages);

    test.each([
        ["ghcr.io/acme/api", false, "has no tag, so it means 'latest'"],
        ["ghcr.io/acme/api:latest", false, "uses the 'latest' tag"],
        [
            "ghcr.io/acme/api:main",
            true,
            "uses the moving tag 'main'; production needs a digest or a release tag such as 1.2.3",
        ],
        ["ghcr.io/acme/api:main", false, undefined],
        ["ghcr.io/acme/api:1.42.0", true, undefined],
        ["registry:5000/acme/api:v2.0.1-rc.1", true, undefined],
        ["postgres:16.6-alpine", true, undefined],
        ["postgres:16", true, "uses the moving tag '16'; production needs a digest or a release tag such as 1.2.3"],
        [`ghcr.io/acme/api@sha256:${"a".repeat(64)}`, true, undefined],
    ])("%s (production %s)", (image, prod, problem) => {
        expect(imageProblem(image, prod)).toBe(problem);
    });

    test("a production Deployment on a moving tag", async () => {
        const d = find(clone(production), "prod-web-bg-green");
        d.props.spec.template.spec.containers[0].image = "ghcr.io/acme/shop-web:stable";
        expect((await runResourcePolicy(denyUnpinnedImages, d)).map((v) => v.message)).toEqual([
            "Deployment shop-production/web-green: container 'web' image 'ghcr.io/acme/shop-web:stable' uses the moving tag 'stable'; production needs a digest or a release tag such as 1.2.3; pin it.",
        ]);
    });
});
