// The shared fixture of the policy tests: what the program registers for
// Pulumi.production.yaml and Pulumi.staging.yaml (the compliant baseline), through Pulumi's
// mocks, as the resources CrossGuard hands a policy. Each test changes a clone of it.
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { construct, installMocks, registered, reset } from "../util/mocks";
import { stackConfig } from "../util/stack";
import { policyResources, runResourcePolicy, runStackPolicy } from "./util";

installMocks();
// Imported after the mocks are set, as the program would be.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RunbookStack } = require("../../program/runbook-stack") as typeof import("../../program/runbook-stack");

async function resourcesOf(stack: "production" | "staging"): Promise<PolicyResource[]> {
    reset();
    await construct(
        (opts) => new RunbookStack(stack === "production" ? "prod" : "stg", { config: stackConfig(stack) }, opts),
    );
    return policyResources(registered);
}

export interface Baseline {
    production: PolicyResource[];
    staging: PolicyResource[];
}

let built: Promise<Baseline> | undefined;

/** The baseline, built on first use in a test file; tests change clones of it. */
export function baseline(): Promise<Baseline> {
    built ??= (async () => {
        const production = await resourcesOf("production");
        return { production, staging: await resourcesOf("staging") };
    })();
    return built;
}

/** The test that `policy` reports nothing on the baseline: on any of its resources, or on either stack. */
export function testCompliantBaseline(policy: ResourceValidationPolicy | StackValidationPolicy): void {
    test("no violation on the production or staging baseline", async () => {
        const { production, staging } = await baseline();
        if ("validateStack" in policy) {
            expect(await runStackPolicy(policy, production)).toEqual([]);
            expect(await runStackPolicy(policy, staging)).toEqual([]);
        } else for (const r of [...production, ...staging]) expect(await runResourcePolicy(policy, r)).toEqual([]);
    });
}
