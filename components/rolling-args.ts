// What a RollingDeployment takes and the checks it makes on it, with no Pulumi runtime: the config
// parser and the commands run these checks without loading the SDKs.
import type * as pulumi from "@pulumi/pulumi";
import { imageProblems, type Problem } from "./checks";
import { workloadProblems, type WorkloadArgs } from "./workload-args";

export interface RollingDeploymentArgs extends WorkloadArgs {
    /** The image, with a tag or digest (another resource's output, such as a built image's digest, too). */
    image: pulumi.Input<string>;
}

/** Names of the Kubernetes objects a RollingDeployment of `name` creates. */
export function rollingNames(name: string): string[] {
    return [name];
}

/** Every problem of the args, paths relative to them (what the constructor throws). */
export function rollingProblems(args: RollingDeploymentArgs, extraNames: string[] = []): Problem[] {
    return [
        ...workloadProblems(args, [...rollingNames(args.name), ...extraNames]),
        ...imageProblems(["image"], args.image),
    ];
}
