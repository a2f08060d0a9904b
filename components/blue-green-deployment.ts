import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { smokeTestScript } from "./backup-script";
import { schedulingFields } from "./scheduling";
import { appSelector, servingSelector, smokeJobName, VERSION_LABEL, type Color } from "./labels";
import { COLOR_LABEL } from "../policies/lib/well-known";
import {
    checkedImage,
    deploymentArgs,
    RERUN_IF_FAILED,
    REPLICAS_FROM_AUTOSCALER,
    serviceArgs,
    servingLabels,
    SKIP_SERVICE_AWAIT,
    TAKE_BACK_DRIFT,
    throwProblems,
    rolloutTimeouts,
    workloadLabels,
} from "./workload";
import { blueGreenProblems, COLORS, SMOKE_TEST_DEFAULTS, type BlueGreenDeploymentArgs } from "./blue-green-args";
import { DEFAULT_HEALTH_PATH, resolveWorkloadArgs, type ResolvedWorkloadArgs } from "./workload-args";

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
        throwProblems(blueGreenProblems(args), this);
        const w = resolveWorkloadArgs(args);
        const smokeTest = { ...SMOKE_TEST_DEFAULTS, ...definedOnly(args.smokeTest) };
        const healthEndpoints = args.healthEndpoints ?? [DEFAULT_HEALTH_PATH];
        this.activeColor = args.activeColor;
        const target = args.activeColor;
        // The serving pods of a colour: never its smoke test's pod.
        const selectorOf = (c: Color) => ({ ...servingSelector(w.name, w.environment), [COLOR_LABEL]: c });
        const idleReplicas = args.idleReplicas ?? w.replicas;
        const replicasOf = (c: Color) => (c === target ? w.replicas : idleReplicas);

        const deployments = {} as Record<Color, k8s.apps.v1.Deployment>;
        const images = {} as Record<Color, pulumi.Input<string>>;
        for (const color of COLORS) images[color] = checkedImage(args.images[color], ["images", color], this);
        // With an autoscaler, the colour that stays live keeps the count it was scaled to; the
        // colour going live and the idle one are sized here, taking the count back from an
        // autoscaler that scaled them while they were live before. (Both always carry the
        // annotation that lets them take fields back: one that came and went with the switch
        // would be a change in every update after one.)
        const stayingLive = w.autoscaled && args.liveBefore === target ? target : undefined;
        for (const color of COLORS)
            deployments[color] = this.colorDeployment(name, w, color, images[color], replicasOf(color), {
                fromAutoscaler: color === stayingLive,
                takeBack: w.autoscaled,
            });
        this.deployments = deployments;
        this.activeDeploymentName = `${w.name}-${target}`;

        const svcLabels = (component: string) => workloadLabels(w, component);
        // The preview Service always points at the newest release, the colour going live.
        this.previewService = new k8s.core.v1.Service(
            `${name}-preview`,
            serviceArgs({
                name: `${w.name}-preview`,
                namespace: w.namespace,
                labels: svcLabels("preview"),
                selector: selectorOf(target),
                servicePort: w.servicePort,
                annotations: { ...SKIP_SERVICE_AWAIT },
            }),
            { parent: this },
        );

        // Each colour's own address selects the pods of the image the colour declares: while a
        // colour rolls to a new image, its smoke test must reach the new pods only, never one
        // of the old image that the kubelet has not stopped yet (seen on the real node: an old
        // pod answered the smoke test, and a colour whose new image failed was switched to).
        const colorServices = {} as Record<Color, k8s.core.v1.Service>;
        for (const color of COLORS) {
            colorServices[color] = new k8s.core.v1.Service(
                `${name}-svc-${color}`,
                serviceArgs({
                    name: `${w.name}-${color}`,
                    namespace: w.namespace,
                    labels: { ...svcLabels("colour"), [COLOR_LABEL]: color },
                    selector: { ...selectorOf(color), [VERSION_LABEL]: servingLabels(w, images[color])[VERSION_LABEL] },
                    servicePort: w.servicePort,
                }),
                { parent: this },
            );
            // A colour scaled to 0 has nothing to test; it is tested when it runs pods again.
            if (smokeTest.enabled && replicasOf(color) > 0)
                this.smokeTests[color] = this.smokeTest(
                    name,
                    { workload: w, color, image: images[color], healthEndpoints, smokeTest },
                    [deployments[color], colorServices[color]],
                );
        }
        this.colorServices = colorServices;

        const switchAfter: pulumi.Resource[] = [deployments[target]];
        const smoke = this.smokeTests[target];
        if (smoke) switchAfter.push(smoke);

        // Last: the switch. Nothing here deletes the colour switched away from.
        this.activeService = new k8s.core.v1.Service(
            `${name}-active`,
            serviceArgs({
                name: w.name,
                namespace: w.namespace,
                labels: svcLabels("server"),
                selector: selectorOf(target),
                servicePort: w.servicePort,
                annotations: { ...SKIP_SERVICE_AWAIT },
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
    private smokeTest(name: string, t: SmokeTestSpec, after: pulumi.Resource[]): k8s.batch.v1.Job {
        const w = t.workload;
        // The Job's name changes with what it tests, so a new image is tested by a fresh Job
        // and an unchanged colour keeps the Job that passed.
        const named = (image: string) => smokeJobName(w.name, t.color, image, t.healthEndpoints);
        const jobName = typeof t.image === "string" ? named(t.image) : pulumi.output(t.image).apply(named);
        const url = pulumi.interpolate`http://${w.name}-${t.color}.${w.namespace}.svc.cluster.local:${w.servicePort}`;
        const labels = { ...workloadLabels(w, "smoke-test"), [COLOR_LABEL]: t.color };
        return new k8s.batch.v1.Job(
            `${name}-smoke-${t.color}`,
            {
                metadata: { name: jobName, namespace: w.namespace, labels, annotations: { ...RERUN_IF_FAILED } },
                spec: {
                    backoffLimit: 0,
                    activeDeadlineSeconds: t.smokeTest.timeoutSeconds,
                    ttlSecondsAfterFinished: 86400,
                    template: {
                        metadata: { labels },
                        spec: {
                            restartPolicy: "Never",
                            ...schedulingFields(w.scheduling),
                            containers: [
                                {
                                    name: "smoke-test",
                                    image: t.smokeTest.image,
                                    command: ["/bin/sh", "-c"],
                                    args: [url.apply((u) => smokeTestScript(u, t.healthEndpoints))],
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
            { parent: this, dependsOn: after },
        );
    }

    /**
     * One colour's Deployment, after the backup. `fromAutoscaler`: its replica count is left
     * as the autoscaler set it; `takeBack`: its fields are taken back from another manager.
     */
    private colorDeployment(
        name: string,
        w: ResolvedWorkloadArgs,
        color: Color,
        image: pulumi.Input<string>,
        replicas: number,
        replicasBy: { fromAutoscaler: boolean; takeBack: boolean },
    ): k8s.apps.v1.Deployment {
        return new k8s.apps.v1.Deployment(
            `${name}-${color}`,
            deploymentArgs({
                workload: w,
                name: `${w.name}-${color}`,
                image,
                replicas,
                labels: { ...servingLabels(w, image), [COLOR_LABEL]: color },
                selector: { ...appSelector(w.name, w.environment), [COLOR_LABEL]: color },
                annotations: { ...w.annotations, ...(replicasBy.takeBack ? TAKE_BACK_DRIFT : {}) },
            }),
            {
                ...(replicasBy.fromAutoscaler ? REPLICAS_FROM_AUTOSCALER : {}),
                parent: this,
                // Both colours wait for what the rollout waits for (the pre-deploy backup): the
                // idle one may get the new image too, and new code must not meet the database
                // before its backup exists. An unchanged backup Job is no wait.
                dependsOn: w.dependsOn,
                customTimeouts: rolloutTimeouts(w, replicas),
            },
        );
    }
}

interface SmokeTestSpec {
    workload: ResolvedWorkloadArgs;
    color: Color;
    image: pulumi.Input<string>;
    healthEndpoints: string[];
    smokeTest: { enabled: boolean; image: string; timeoutSeconds: number };
}

/** `o` without its undefined fields, so spreading it over defaults keeps them. */
function definedOnly<T extends object>(o: T | undefined): Partial<T> {
    return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
