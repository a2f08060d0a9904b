import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appSelector, imageVersion, recommendedLabels } from "../lib/labels";
import { deploymentArgs, serviceArgs, type StrategyArgs } from "./workload";

export type RollingDeploymentArgs = StrategyArgs;

/**
 * The plain rolling update of runbooks 000, 003 and 004: one Deployment (maxSurge,
 * maxUnavailable, a progress deadline of 10 minutes by default) behind one Service.
 */
export class RollingDeployment extends pulumi.ComponentResource {
    public readonly deployment: k8s.apps.v1.Deployment;
    public readonly service: k8s.core.v1.Service;
    public readonly deploymentName: string;

    constructor(name: string, args: RollingDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:deploy:RollingDeployment", name, {}, opts);
        const s = args.service;
        const selector = appSelector(s.name, args.environment);
        this.deploymentName = s.name;
        this.deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            deploymentArgs({
                service: s,
                namespace: args.namespace,
                name: s.name,
                image: s.image,
                replicas: s.autoscaling.minReplicas,
                labels: recommendedLabels({
                    app: s.name,
                    partOf: args.partOf,
                    environment: args.environment,
                    version: imageVersion(s.image),
                    component: "server",
                }),
                selector,
                annotations: args.annotations,
            }),
            { parent: this, dependsOn: args.dependsOn },
        );
        this.service = new k8s.core.v1.Service(
            `${name}-svc`,
            serviceArgs({
                name: s.name,
                namespace: args.namespace,
                labels: recommendedLabels({
                    app: s.name,
                    partOf: args.partOf,
                    environment: args.environment,
                    component: "server",
                }),
                selector,
                service: s,
            }),
            { parent: this },
        );
        this.registerOutputs({ service: this.service.metadata.name });
    }
}
