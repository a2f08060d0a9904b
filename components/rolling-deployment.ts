import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { imageProblems, type Problem } from "../lib/checks";
import { appSelector } from "../lib/labels";
import {
    deploymentArgs,
    resolveWorkloadArgs,
    serviceArgs,
    throwProblems,
    workloadProblems,
    workloadLabels,
    type WorkloadArgs,
} from "./workload";

export interface RollingDeploymentArgs extends WorkloadArgs {
    /** The image, with a tag or digest. */
    image: string;
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

/**
 * The plain rolling update of the Mahavishnu, DOC-0020 and Mykadoo runbooks: one Deployment
 * (maxSurge, maxUnavailable, a progress deadline of 10 minutes by default) behind one Service.
 */
export class RollingDeployment extends pulumi.ComponentResource {
    public readonly deployment: k8s.apps.v1.Deployment;
    public readonly service: k8s.core.v1.Service;
    public readonly deploymentName: string;

    constructor(name: string, args: RollingDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:deploy:RollingDeployment", name, {}, opts);
        throwProblems(rollingProblems(args), this);
        const w = resolveWorkloadArgs(args);
        const selector = appSelector(w.name, w.environment);
        this.deploymentName = w.name;
        this.deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            deploymentArgs({
                workload: w,
                name: w.name,
                image: args.image,
                replicas: w.replicas,
                labels: workloadLabels(w, "server", args.image),
                selector,
                annotations: w.annotations,
            }),
            { parent: this, dependsOn: w.dependsOn },
        );
        this.service = new k8s.core.v1.Service(
            `${name}-svc`,
            serviceArgs({
                name: w.name,
                namespace: w.namespace,
                labels: workloadLabels(w, "server"),
                selector,
                servicePort: w.servicePort,
            }),
            { parent: this },
        );
        this.registerOutputs({ service: this.service.metadata.name });
    }
}
