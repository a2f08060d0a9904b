import * as crypto from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Color } from "../config/load";
import { smokeTestScript } from "../lib/backup-script";
import { appSelector, COLOR_LABEL, imageVersion, recommendedLabels } from "../lib/labels";
import { deploymentArgs, serviceArgs, type StrategyArgs } from "./workload";

export type BlueGreenDeploymentArgs = StrategyArgs;

const COLORS: readonly Color[] = ["blue", "green"];

/**
 * The blue/green runbook (000, 001, 002) as one update:
 * pre-deploy backup → the colour to go live is rolled out and ready → a smoke-test Job
 * checks its health endpoints through the preview Service → the active Service's selector
 * switches. The other colour keeps `idleReplicas` pods for rollback; rollback is flipping
 * `activeColor` back.
 */
export class BlueGreenDeployment extends pulumi.ComponentResource {
    public readonly deployments: Record<Color, k8s.apps.v1.Deployment>;
    public readonly activeService: k8s.core.v1.Service;
    public readonly previewService: k8s.core.v1.Service;
    public readonly smokeTest?: k8s.batch.v1.Job;
    public readonly activeColor: Color;
    /** Name of the Deployment that serves live traffic (the HPA's target). */
    public readonly activeDeploymentName: string;

    constructor(name: string, args: BlueGreenDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:deploy:BlueGreenDeployment", name, {}, opts);
        const s = args.service;
        const bg = s.blueGreen;
        if (!bg) throw new pulumi.ResourceError(`'blueGreen' must be set for service '${s.name}' (strategy blueGreen)`, this);
        if (bg.idleReplicas > s.autoscaling.maxReplicas)
            throw new pulumi.ResourceError(`'blueGreen.idleReplicas' must be at most autoscaling.maxReplicas (${s.autoscaling.maxReplicas}), got ${bg.idleReplicas}`, this);
        this.activeColor = bg.activeColor;
        const target = bg.activeColor;
        const selectorOf = (c: Color) => ({ ...appSelector(s.name, args.environment), [COLOR_LABEL]: c });

        const deployments = {} as Record<Color, k8s.apps.v1.Deployment>;
        for (const color of COLORS) {
            const image = bg.images[color];
            const labels = { ...recommendedLabels({ app: s.name, partOf: args.partOf, environment: args.environment, version: imageVersion(image), component: "server" }), [COLOR_LABEL]: color };
            deployments[color] = new k8s.apps.v1.Deployment(
                `${name}-${color}`,
                deploymentArgs({
                    service: s,
                    namespace: args.namespace,
                    name: `${s.name}-${color}`,
                    image,
                    replicas: color === target ? s.autoscaling.minReplicas : bg.idleReplicas,
                    labels,
                    selector: selectorOf(color),
                    annotations: args.annotations,
                }),
                // Only the colour going live waits for the backup; the idle one is left as it is.
                { parent: this, dependsOn: color === target ? args.dependsOn : undefined },
            );
        }
        this.deployments = deployments;
        this.activeDeploymentName = `${s.name}-${target}`;

        const svcLabels = (component: string) => recommendedLabels({ app: s.name, partOf: args.partOf, environment: args.environment, component });
        // The preview Service always points at the newest release, the colour going live.
        this.previewService = new k8s.core.v1.Service(
            `${name}-preview`,
            serviceArgs({ name: `${s.name}-preview`, namespace: args.namespace, labels: svcLabels("preview"), selector: selectorOf(target), service: s }),
            { parent: this },
        );

        const switchAfter: pulumi.Resource[] = [deployments[target]];
        if (bg.smokeTest.enabled) {
            // The Job's name changes with what it tests, so each release runs a fresh one.
            const digest = crypto.createHash("sha256").update(`${target}|${bg.images[target]}|${s.healthEndpoints.join(",")}`).digest("hex").slice(0, 8);
            const url = pulumi.interpolate`http://${s.name}-preview.${args.namespace}.svc.cluster.local:${s.servicePort}`;
            this.smokeTest = new k8s.batch.v1.Job(
                `${name}-smoke`,
                {
                    metadata: {
                        name: `${s.name}-smoke-${digest}`,
                        namespace: args.namespace,
                        labels: { ...svcLabels("smoke-test"), [COLOR_LABEL]: target },
                    },
                    spec: {
                        backoffLimit: 0,
                        activeDeadlineSeconds: bg.smokeTest.timeoutSeconds,
                        ttlSecondsAfterFinished: 86400,
                        template: {
                            metadata: { labels: { ...svcLabels("smoke-test"), [COLOR_LABEL]: target } },
                            spec: {
                                restartPolicy: "Never",
                                containers: [
                                    {
                                        name: "smoke-test",
                                        image: bg.smokeTest.image,
                                        command: ["/bin/sh", "-c"],
                                        args: [url.apply((u) => smokeTestScript(u, s.healthEndpoints))],
                                        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
                                    },
                                ],
                            },
                        },
                    },
                },
                { parent: this, dependsOn: [deployments[target], this.previewService] },
            );
            switchAfter.push(this.smokeTest);
        }

        // Last: the switch. Nothing here deletes the colour switched away from.
        this.activeService = new k8s.core.v1.Service(
            `${name}-active`,
            serviceArgs({ name: s.name, namespace: args.namespace, labels: svcLabels("server"), selector: selectorOf(target), service: s }),
            { parent: this, dependsOn: switchAfter },
        );

        this.registerOutputs({
            activeColor: this.activeColor,
            activeService: this.activeService.metadata.name,
            previewService: this.previewService.metadata.name,
        });
    }
}
