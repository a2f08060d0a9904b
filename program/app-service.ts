import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    autoscalerArgsOf,
    blueGreenArgsOf,
    canaryArgsOf,
    rollingArgsOf,
    serviceProblems,
    type ServiceContext,
} from "../config/component-args";
import { formatPath } from "../config/errors";
import type { AlertsConfig, ServiceConfig } from "../config/types";
import { recommendedLabels, servingSelector, VERSION_LABEL } from "../components/labels";
import { alertTarget, serviceAlertRules } from "../lib/promql";
import { COLOR_LABEL, TRACK_LABEL } from "../policies/lib/well-known";
import { AlertRules, Autoscaler, BlueGreenDeployment, CanaryRelease, RollingDeployment } from "../components/index";
import type { PodScheduling } from "../components/scheduling";

export interface AppServiceArgs {
    service: ServiceConfig;
    namespace: pulumi.Input<string>;
    namespaceName: string;
    environment: string;
    partOf: string;
    alerts: AlertsConfig;
    annotations: Record<string, string>;
    /** The pre-deploy backup Job, when there is one: rollouts wait for it. */
    dependsOn?: pulumi.Resource[];
    /** Where the pods run. */
    scheduling?: PodScheduling;
}

/**
 * One service of a stack file (the program's own composite; other programs use the
 * strategy components directly): its strategy (blue/green, canary or rolling), HPA,
 * PodDisruptionBudget (production), metrics Service + ServiceMonitor and alert rules.
 */
export class AppService extends pulumi.ComponentResource {
    public readonly blueGreen?: BlueGreenDeployment;
    public readonly canary?: CanaryRelease;
    public readonly rolling?: RollingDeployment;
    public readonly autoscaler: Autoscaler;
    public readonly pdb?: k8s.policy.v1.PodDisruptionBudget;
    public readonly serviceMonitor?: k8s.apiextensions.CustomResource;
    public readonly alertRules?: AlertRules;
    /** The Service clients call. */
    public readonly serviceName: string;

    constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:app:AppService", name, {}, opts);
        const s = args.service;
        // The same checks `npm run validate` makes, told with the stack file's paths.
        const problems = serviceProblems(s);
        if (problems.length > 0)
            throw new pulumi.ResourceError(problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join("\n"), this);
        const ctx: ServiceContext = {
            namespace: args.namespace,
            environment: args.environment,
            partOf: args.partOf,
            annotations: args.annotations,
            dependsOn: args.dependsOn,
            scheduling: args.scheduling,
        };
        const labels = (component: string) =>
            recommendedLabels({ app: s.name, partOf: args.partOf, environment: args.environment, component });

        let target: string;
        switch (s.strategy) {
            case "blueGreen":
                this.blueGreen = new BlueGreenDeployment(`${name}-bg`, blueGreenArgsOf(s, ctx), { parent: this });
                target = this.blueGreen.activeDeploymentName;
                break;
            case "canary":
                this.canary = new CanaryRelease(`${name}-canary`, canaryArgsOf(s, ctx), { parent: this });
                target = this.canary.stableDeploymentName;
                break;
            case "rolling":
                this.rolling = new RollingDeployment(`${name}-rolling`, rollingArgsOf(s, ctx), { parent: this });
                target = this.rolling.deploymentName;
                break;
        }
        this.serviceName = s.name;

        this.autoscaler = new Autoscaler(
            `${name}-autoscaler`,
            autoscalerArgsOf(s, { namespace: args.namespace, targetDeployment: target, labels: labels("autoscaler") }),
            // The HPA follows traffic: it moves to the colour going live only once the switch
            // is done, so a failed smoke test leaves it scaling the colour that still serves.
            { parent: this, dependsOn: this.blueGreen ? [this.blueGreen.activeService] : undefined },
        );

        this.pdb = s.podDisruptionBudget ? this.disruptionBudget(name, args, labels("disruption-budget")) : undefined;
        this.serviceMonitor = s.metrics ? this.metricsMonitor(name, args, labels("metrics")) : undefined;

        if (args.alerts.enabled) {
            this.alertRules = new AlertRules(
                `${name}-alerts`,
                {
                    namespace: args.namespace,
                    name: `${s.name}-rollback-triggers`,
                    groupName: `${s.name}.rollback-triggers`,
                    labels: labels("alerts"),
                    rules: () =>
                        serviceAlertRules(alertTarget(s.name, args.namespaceName, args.environment), args.alerts),
                },
                { parent: this },
            );
        }
        this.registerOutputs({ service: this.serviceName });
    }

    private disruptionBudget(
        name: string,
        args: AppServiceArgs,
        labels: Record<string, string>,
    ): k8s.policy.v1.PodDisruptionBudget {
        const s = args.service;
        return new k8s.policy.v1.PodDisruptionBudget(
            `${name}-pdb`,
            {
                metadata: { name: s.name, namespace: args.namespace, labels },
                spec: {
                    maxUnavailable: s.podDisruptionBudget?.maxUnavailable,
                    selector: { matchLabels: servingSelector(s.name, args.environment) },
                },
            },
            { parent: this },
        );
    }

    /**
     * One headless Service over every pod of the app (both colours or tracks), so the alert
     * expressions see the whole app under one `service` label, and its ServiceMonitor.
     */
    private metricsMonitor(
        name: string,
        args: AppServiceArgs,
        labels: Record<string, string>,
    ): k8s.apiextensions.CustomResource {
        const s = args.service;
        const port = s.metrics?.port as number;
        const svc = new k8s.core.v1.Service(
            `${name}-metrics`,
            {
                metadata: {
                    name: `${s.name}-metrics`,
                    namespace: args.namespace,
                    labels: { ...labels, "runbook.dev/metrics": "true" },
                },
                spec: {
                    clusterIP: "None",
                    selector: servingSelector(s.name, args.environment),
                    ports: [{ name: "metrics", port, targetPort: port }],
                },
            },
            { parent: this },
        );
        return new k8s.apiextensions.CustomResource(
            `${name}-monitor`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: { name: s.name, namespace: args.namespace, labels },
                spec: {
                    selector: { matchLabels: { "app.kubernetes.io/name": s.name, "runbook.dev/metrics": "true" } },
                    endpoints: [{ port: "metrics", path: s.metrics?.path, interval: "30s" }],
                    // Every series carries its pod's track, colour and version (as runbook_dev_track,
                    // runbook_dev_color, app_kubernetes_io_version): what `npm run release`
                    // measures a canary or a new colour by, and no other image's pods.
                    podTargetLabels: [TRACK_LABEL, COLOR_LABEL, VERSION_LABEL],
                },
            },
            { parent: this, dependsOn: [svc] },
        );
    }
}
