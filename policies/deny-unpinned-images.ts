import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, environmentOf, forEachPodSpec } from "./resources";

/** A version tag such as 1.42.0, v2.8.0-rc.1 or 16.6-alpine: not a moving name like `main` or `stable`. */
const PINNED_TAG = /^v?\d+(\.\d+){1,2}([-+.][0-9A-Za-z.-]+)?$/;

/** Why an image reference is not acceptable, or undefined when it is. */
export function imageProblem(image: string, production: boolean): string | undefined {
    if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
    const last = image.slice(image.lastIndexOf("/") + 1);
    const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1) : undefined;
    if (tag === undefined) return "has no tag, so it means 'latest'";
    if (tag === "latest") return "uses the 'latest' tag";
    if (production && !PINNED_TAG.test(tag))
        return `uses the moving tag '${tag}'; production needs a digest or a release tag such as 1.2.3`;
    return undefined;
}

export const denyUnpinnedImages: ResourceValidationPolicy = {
    name: "deny-unpinned-images",
    description:
        "Images are pinned: never `latest` or untagged; in production a digest or a release tag, so a rollback " +
        "redeploys exactly what ran before.",
    validateResource: forEachPodSpec((pod, what, props, reportViolation) => {
        const production = environmentOf(props) === "production";
        for (const c of containersOf(pod, true)) {
            if (typeof c.image !== "string") continue;
            const problem = imageProblem(c.image, production);
            if (problem) reportViolation(`${what}: container '${c.name}' image '${c.image}' ${problem}; pin it.`);
        }
    }),
};
