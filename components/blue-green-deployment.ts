import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Color } from "../config/types";
import { smokeTestScript } from "../lib/backup-script";
import { appSelector, COLOR_LABEL, imageVersion, recommendedLabels, smokeJobName } from "../lib/labels";
import { deploymentArgs, RERUN_IF_FAILED, serviceArgs, SWITCH_WITHOUT_SETTLE, type StrategyArgs } from "./workload";

export type BlueGreenDeploymentArgs = StrategyArgs;

const COLORS: readonly Color[] = ["blue", "green"];

/**
 * The blue/green runbook (000, 001, 002) as one update:
 * pre-deploy backup → the colour to go live is rolled out and ready → its smoke-test Job
 * checks its health endpoints through the colour's own Service → the active Service's
 * selector switches. The other colour keeps `idleReplicas` pods for rollback; rollback is
 * flipping `activeColor` back.
 *
 * Each colour has its own smoke-test Job, named after what it tests (colour, image, health
 * endpoints), so a colour is tested once per image: a rollback to a colour that still runs
 * the image it was tested with changes no Job and waits only for the active Service.
 */
export class BlueGreenDeployment extends pulumi.ComponentResource {
    public readonly deployments: Record<Color, k8s.apps.v1.Deployment>;
    public readonly activeService: k8s.core.v1.Service;
    /** Always selects the colour going live, for people to try it. */
    public readonly previewService: k8s.core.v1.Service;
    /** `<service>-blue` and `<service>-green`: each colour's own address, what its smoke test calls. */
    public readonly colorServices: Record<Color, k8s.core.v1.Service>;
    /** The smoke-test Job of each colour that runs pods. */
    public readonly smokeTests: Partial<Record<Color, k8s.batch.v1.Job>> = {};
    public readonly activeColor: Color;
    /** Name of the Deployment that serves live traffic (the HPA's target). */
    public readonly activeDeploymentName: string;

    constructor(name: string, args: BlueGreenDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:deploy:BlueGreenDeployment", name, {}, opts);
        const s = args.service;
        const bg = s.blueGreen;
        if (!bg)
            throw new pulumi.ResourceError(
                `'blueGreen' must be set for service '${s.name}' (strategy blueGreen)`,
                this,
            );
        this.activeColor = bg.activeColor;
        const target = bg.activeColor;
        const selectorOf = (c: Color) => ({ ...appSelector(s.name, args.environment), [COLOR_LABEL]: c });
        const replicasOf = (c: Color) => (c === target ? s.autoscaling.minReplicas : bg.idleReplicas);

        const deployments = {} as Record<Color, k8s.apps.v1.Deployment>;
        for (const color of COLORS) {
            const image = bg.images[color];
            const labels = {
                ...recommendedLabels({
                    app: s.name,
                    partOf: args.partOf,
                    environment: args.environment,
                    version: imageVersion(image),
                    component: "server",
                }),
                [COLOR_LABEL]: color,
            };
            deployments[color] = new k8s.apps.v1.Deployment(
                `${name}-${color}`,
                deploymentArgs({
                    service: s,
                    namespace: args.namespace,
                    name: `${s.name}-${color}`,
                    image,
                    replicas: replicasOf(color),
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

        const svcLabels = (component: string) =>
            recommendedLabels({ app: s.name, partOf: args.partOf, environment: args.environment, component });
        // The preview Service always points at the newest release, the colour going live.
        this.previewService = new k8s.core.v1.Service(
            `${name}-preview`,
            serviceArgs({
                name: `${s.name}-preview`,
                namespace: args.namespace,
                labels: svcLabels("preview"),
                selector: selectorOf(target),
                service: s,
                annotations: { ...SWITCH_WITHOUT_SETTLE },
            }),
            { parent: this },
        );

        const colorServices = {} as Record<Color, k8s.core.v1.Service>;
        for (const color of COLORS) {
            colorServices[color] = new k8s.core.v1.Service(
                `${name}-svc-${color}`,
                serviceArgs({
                    name: `${s.name}-${color}`,
                    namespace: args.namespace,
                    labels: { ...svcLabels("colour"), [COLOR_LABEL]: color },
                    selector: selectorOf(color),
                    service: s,
                }),
                { parent: this },
            );
            // A colour scaled to 0 has nothing to test; it is tested when it runs pods again.
            if (bg.smokeTest.enabled && replicasOf(color) > 0)
                this.smokeTests[color] = this.smokeTest(name, args, color, deployments[color], colorServices[color]);
        }
        this.colorServices = colorServices;

        const switchAfter: pulumi.Resource[] = [deployments[target]];
        const smoke = this.smokeTests[target];
        if (smoke) switchAfter.push(smoke);

        // Last: the switch. Nothing here deletes the colour switched away from.
        this.activeService = new k8s.core.v1.Service(
            `${name}-active`,
            serviceArgs({
                name: s.name,
                namespace: args.namespace,
                labels: svcLabels("server"),
                selector: selectorOf(target),
                service: s,
                annotations: { ...SWITCH_WITHOUT_SETTLE },
            }),
            { parent: this, dependsOn: switchAfter },
        );

        this.registerOutputs({
            activeColor: this.activeColor,
            activeService: this.activeService.metadata.name,
            previewService: this.previewService.metadata.name,
        });
    }

    /** A Job that checks every health endpoint of one colour through its own Service. */
    private smokeTest(
        name: string,
        args: BlueGreenDeploymentArgs,
        color: Color,
        deployment: k8s.apps.v1.Deployment,
        service: k8s.core.v1.Service,
    ): k8s.batch.v1.Job {
        const s = args.service;
        const bg = s.blueGreen as NonNullable<typeof s.blueGreen>;
        // The Job's name changes with what it tests, so a new image is tested by a fresh Job
        // and an unchanged colour keeps the Job that passed.
        const jobName = smokeJobName(s, color);
        const url = pulumi.interpolate`http://${s.name}-${color}.${args.namespace}.svc.cluster.local:${s.servicePort}`;
        const labels = {
            ...recommendedLabels({
                app: s.name,
                partOf: args.partOf,
                environment: args.environment,
                component: "smoke-test",
            }),
            [COLOR_LABEL]: color,
        };
        return new k8s.batch.v1.Job(
            `${name}-smoke-${color}`,
            {
                metadata: { name: jobName, namespace: args.namespace, labels, annotations: { ...RERUN_IF_FAILED } },
                spec: {
                    backoffLimit: 0,
                    activeDeadlineSeconds: bg.smokeTest.timeoutSeconds,
                    ttlSecondsAfterFinished: 86400,
                    template: {
                        metadata: { labels },
                        spec: {
                            restartPolicy: "Never",
                            containers: [
                                {
                                    name: "smoke-test",
                                    image: bg.smokeTest.image,
                                    command: ["/bin/sh", "-c"],
                                    args: [url.apply((u) => smokeTestScript(u, s.healthEndpoints))],
                                    resources: {
                                        requests: { cpu: "50m", memory: "32Mi" },
                                        limits: { cpu: "200m", memory: "64Mi" },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [deployment, service] },
        );
    }
}
