// Pulumi mocks that record every registered resource, and helpers to read them.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

export const registered: Registered[] = [];

export function installMocks(): void {
    pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                // Mocks do not auto-name Kubernetes objects; echo what the program set.
                return {
                    id: `${args.name}-id`,
                    state: {
                        ...args.inputs,
                        ...(args.type === "aws:s3/bucket:Bucket" ? { bucket: `${args.name}-abc123` } : {}),
                        ...(args.type === "aws:iam/role:Role"
                            ? { arn: `arn:aws:iam::123456789012:role/${args.name}` }
                            : {}),
                    },
                };
            },
            call: (args) => {
                throw new Error(`unexpected call to ${args.token}`);
            },
        },
        "runbook",
        "test",
        false,
    );
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

/**
 * Builds a component with a transformation that records every resource it creates (the
 * engine calls transformations synchronously, as each child is constructed), then waits
 * until each of those has been registered through the mocks (its URN resolves). What the
 * component did not create is therefore known to be absent, not merely not yet seen.
 */
export async function construct<T extends pulumi.Resource>(
    make: (opts: pulumi.ComponentResourceOptions) => T,
    opts: pulumi.ComponentResourceOptions = {},
): Promise<T> {
    const created: pulumi.Resource[] = [];
    const record: pulumi.ResourceTransformation = (args) => {
        created.push(args.resource);
        return undefined;
    };
    const value = make({ ...opts, transformations: [record, ...(opts.transformations ?? [])] });
    await Promise.all(created.map((r) => promiseOf(r.urn)));
    return value;
}

export function byName(name: string): Registered {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have: ${registered.map((x) => x.name).join(", ")}`);
    return r;
}

export function ofType(type: string): Registered[] {
    return registered.filter((x) => x.type === type);
}

export function reset(): void {
    registered.length = 0;
}
