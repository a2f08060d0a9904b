import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appSelector } from "./labels";
import { rollingProblems, type RollingDeploymentArgs } from "./rolling-args";
import {
    checkedImage,
    deploymentArgs,
    REPLICAS_FROM_AUTOSCALER,
    rolloutTimeouts,
    serviceArgs,
    servingLabels,
    throwProblems,
    workloadLabels,
} from "./workload";
import { resolveWorkloadArgs } from "./workload-args";

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
                image: checkedImage(args.image, ["image"], this),
                replicas: w.replicas,
                labels: servingLabels(w, args.image),
                selector,
                annotations: w.annotations,
            }),
            {
                ...(w.autoscaled ? REPLICAS_FROM_AUTOSCALER : {}),
                parent: this,
                dependsOn: w.dependsOn,
                customTimeouts: rolloutTimeouts(w, w.replicas),
            },
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
