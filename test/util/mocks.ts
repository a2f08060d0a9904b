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

/** Waits until every registration has gone through the mocks. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
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
