// Runs policies on fake args the way @pulumi/policy's server does, and collects violations.
// Fake args carry every field the SDK's types require; the baseline fixture is what the
// program itself registers for a stack file (through Pulumi's mocks).
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { type Registered } from "../util/mocks";

export interface Violation {
    message: string;
    urn?: string;
}

const options = () => ({
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
});

class NotApplicable extends Error {}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::runbook::${type}::${name}`;
}

export async function runResourcePolicy(
    policy: ResourceValidationPolicy,
    r: {
        type: string;
        name?: string;
        props: Record<string, any>;
        provider?: { type: string; props: Record<string, any> };
    },
    config: object = {},
): Promise<Violation[]> {
    const violations: Violation[] = [];
    const name = r.name ?? "r";
    const args = {
        type: r.type,
        props: r.props,
        urn: urnOf(r.type, name),
        name,
        opts: options(),
        provider: r.provider && { ...r.provider, urn: urnOf(r.provider.type, "provider"), name: "provider" },
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    const v0 = policy.validateResource;
    const validate = v0 === undefined ? [] : Array.isArray(v0) ? v0 : [v0];
    try {
        for (const v of validate)
            await v(args as any, (message: string, urn?: string) => violations.push({ message, urn }));
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
    }
    return violations;
}

export async function runStackPolicy(
    policy: StackValidationPolicy,
    resources: PolicyResource[],
    config: object = {},
): Promise<Violation[]> {
    const violations: Violation[] = [];
    const args = {
        resources,
        stackTags: new Map<string, string>(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    try {
        await policy.validateStack(args as any, (message: string, urn?: string) => violations.push({ message, urn }));
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
    }
    return violations;
}

/** PolicyResources from what the program registered; `bucket` references become dependencies as the engine records them. */
export function policyResources(registered: Registered[]): PolicyResource[] {
    const out: PolicyResource[] = registered.map((r) => ({
        type: r.type,
        props: JSON.parse(JSON.stringify(r.inputs)),
        urn: urnOf(r.type, r.name),
        name: r.name,
        opts: options() as any,
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    })) as unknown as PolicyResource[];
    for (const r of out) {
        const bucket = out.find((b) => b.type === "aws:s3/bucket:Bucket" && r.props.bucket === `${b.name}-id`);
        if (bucket) r.propertyDependencies = { bucket: [bucket] };
    }
    return out;
}

/** A deep copy, so each case changes one field of the baseline. */
export function clone(resources: PolicyResource[]): PolicyResource[] {
    const copies = resources.map((r) => ({ ...r, props: JSON.parse(JSON.stringify(r.props)) }));
    for (const c of copies) {
        const deps = c.propertyDependencies?.bucket;
        if (deps)
            c.propertyDependencies = { bucket: deps.map((d) => copies.find((x) => x.urn === d.urn) as PolicyResource) };
    }
    return copies;
}

export function find(resources: PolicyResource[], name: string): PolicyResource {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
}
