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

/**
 * `isType`/`asType` as the SDK's server answers them: a class matches by the type token it
 * carries (`__pulumiType`, which validateResourceOfType also reads), else by `isInstance`.
 */
function isTypeOf(type: string, cls: any): boolean {
    const token = cls?.__pulumiType;
    if (typeof token === "string" && token !== "") return token === type;
    return typeof cls?.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

function typeChecks(type: string, props: Record<string, any>) {
    return {
        isType: (cls: any) => isTypeOf(type, cls),
        asType: (cls: any) => (isTypeOf(type, cls) ? props : undefined),
    };
}

/** As methods over the object's own type and props, so a test's `{ ...r, type, props }` copy answers for itself. */
const resourceTypeChecks = {
    isType(this: { type: string }, cls: any): boolean {
        return isTypeOf(this.type, cls);
    },
    asType(this: { type: string; props: Record<string, any> }, cls: any) {
        return isTypeOf(this.type, cls) ? this.props : undefined;
    },
};

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::runbook::${type}::${name}`;
}

export async function runResourcePolicy(
    policy: ResourceValidationPolicy,
    r: {
        type: string;
        name?: string;
        /** Defaults to a top-level resource's URN; a child's names its parents' types (`A$B$type`). */
        urn?: string;
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
        urn: r.urn ?? urnOf(r.type, name),
        name,
        opts: options(),
        provider: r.provider && { ...r.provider, urn: urnOf(r.provider.type, "provider"), name: "provider" },
        stackTags: new Map<string, string>(),
        ...typeChecks(r.type, r.props),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    const v0 = policy.validateResource;
    const validate = v0 === undefined ? [] : Array.isArray(v0) ? v0 : [v0];
    // Each validation on its own, as the server runs them: one that does not apply (another
    // kind's validateResourceOfType) does not stop the others.
    for (const v of validate) {
        try {
            await v(args as any, (message: string, urn?: string) => violations.push({ message, urn }));
        } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
        }
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
    const out: PolicyResource[] = registered.map((r) =>
        policyResource(r.type, r.name, JSON.parse(JSON.stringify(r.inputs))),
    );
    for (const r of out) {
        const bucket = out.find((b) => b.type === "aws:s3/bucket:Bucket" && r.props.bucket === `${b.name}-id`);
        if (bucket) r.propertyDependencies = { bucket: [bucket] };
    }
    return out;
}

/** A resource as a stack policy sees it, with `isType`/`asType` over its own type and props. */
export function policyResource(type: string, name: string, props: Record<string, any>): PolicyResource {
    return {
        type,
        props,
        urn: urnOf(type, name),
        name,
        opts: options() as any,
        dependencies: [],
        propertyDependencies: {},
        ...resourceTypeChecks,
    } as unknown as PolicyResource;
}

/** A deep copy, so each case changes one field of the baseline. */
export function clone(resources: PolicyResource[]): PolicyResource[] {
    const copies = resources.map((r) => {
        const c = policyResource(r.type, r.name, JSON.parse(JSON.stringify(r.props)));
        return { ...c, urn: r.urn, propertyDependencies: r.propertyDependencies };
    });
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
