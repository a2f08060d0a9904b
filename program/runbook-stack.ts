import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { backupJobArgsOf } from "../config/component-args";
import type { StackConfig } from "../config/types";
import { recommendedLabels } from "../components/labels";
import { backupAlertRules } from "../lib/promql";
import { DateTime } from "luxon";
import { decideRollout, type DeploymentRecord, type RolloutDecision } from "../lib/deployment-record";
import { releaseRecord, releaseStrategy } from "../lib/release";
import { releaseAnnotations, type ReleaseRecord } from "../policies/lib/release-record";
import type { SignedApproval } from "../policies/lib/signed-approvals";
import { RELEASE_INPUT } from "../policies/lib/well-known";
import { AppService } from "./app-service";
import { AlertRules, BackupJob } from "../components/index";

export interface RunbookStackArgs {
    config: StackConfig;
    /**
     * The stack's last recorded deployment (its `deployment` output) and the time of this
     * run: they decide idle-colour scale-down and whether `release.rollback` is honoured.
     * Without them the stack is treated as deployed for the first time, now.
     */
    previous?: DeploymentRecord;
    now?: DateTime;
    /** `runbook:databaseUrl`, read as a Pulumi secret, when set. */
    databaseUrl?: pulumi.Output<string>;
    /** The stack's signed approvals (approvals/<stack>.yaml), stamped for the pack to verify. */
    signedApprovals?: SignedApproval[];
}

/** Throws, before anything is registered, when release.rollback cannot be honoured or this update would undo one. */
function refuseUnlessRollbackHolds(rollout: RolloutDecision): void {
    const list = (items: string[]) => items.map((p) => `  - ${p}`).join("\n");
    if (rollout.problems.length > 0)
        throw new pulumi.RunError(
            "runbook:release.rollback is set, but this update is not a rollback to what was live " +
                `before:\n${list(rollout.problems)}\n` +
                "Undo those changes, or remove runbook:release.rollback to deploy them as a release (through the deploy gate).",
        );
    if (rollout.undoes.length > 0)
        throw new pulumi.RunError(
            `this update would undo a rollback, so nothing was changed:\n${list(rollout.undoes)}`,
        );
}

/**
 * Everything one stack deploys, wired from its parsed config: the Kubernetes (and AWS)
 * provider, the namespace, the backup that every rollout waits for, and each service.
 */
export class RunbookStack extends pulumi.ComponentResource {
    public readonly provider: k8s.Provider;
    public readonly namespace?: k8s.core.v1.Namespace;
    public readonly backup?: BackupJob;
    public readonly services: AppService[];
    public readonly release: ReleaseRecord;
    public readonly rollout: RolloutDecision;

    constructor(name: string, args: RunbookStackArgs, opts?: pulumi.ComponentResourceOptions) {
        const cfg = args.config;
        // Decided before anything is registered: a refusal leaves the cluster untouched.
        const rollout = decideRollout(cfg, args.previous, args.now ?? DateTime.utc());
        refuseUnlessRollbackHolds(rollout);
        const release = releaseRecord(cfg.release, releaseStrategy(cfg), rollout.rollback, args.signedApprovals);
        // The release is declared on the component itself, for the deploy gate to judge
        // every step under it (the pack's RELEASE_INPUT), before the first one runs.
        super("runbook:stack:RunbookStack", name, { [RELEASE_INPUT]: releaseAnnotations(release) }, opts);
        this.rollout = rollout;
        this.release = release;
        this.provider = this.kubernetesProvider(name, cfg);
        const awsProvider = cfg.aws.enabled
            ? new aws.Provider(`${name}-aws`, { region: cfg.backup.bucket.region as aws.Region }, { parent: this })
            : undefined;
        const k8sOpts: pulumi.ComponentResourceOptions = { parent: this, providers: { kubernetes: this.provider } };
        this.namespace = cfg.namespace.create ? this.createNamespace(name, cfg) : undefined;
        const namespace = this.namespace ? this.namespace.metadata.name : cfg.namespace.name;
        this.backup = cfg.backup.enabled
            ? this.backupWithAlerts(name, args, namespace, awsProvider, k8sOpts)
            : undefined;
        this.services = this.appServices(name, cfg, namespace, k8sOpts);
        this.registerOutputs({ release: this.release, deployment: this.rollout.record });
    }

    /** Built from config and passed explicitly: never the ambient kubeconfig. */
    private kubernetesProvider(name: string, cfg: StackConfig): k8s.Provider {
        return new k8s.Provider(
            `${name}-k8s`,
            {
                ...(cfg.kubernetes.context !== undefined ? { context: cfg.kubernetes.context } : {}),
                ...(cfg.kubernetes.kubeconfig !== undefined ? { kubeconfig: cfg.kubernetes.kubeconfig } : {}),
                ...(cfg.kubernetes.renderYamlToDirectory !== undefined
                    ? { renderYamlToDirectory: cfg.kubernetes.renderYamlToDirectory }
                    : {}),
                namespace: cfg.namespace.name,
                enableServerSideApply: true,
            },
            { parent: this },
        );
    }

    private createNamespace(name: string, cfg: StackConfig): k8s.core.v1.Namespace {
        return new k8s.core.v1.Namespace(
            `${name}-ns`,
            {
                metadata: {
                    name: cfg.namespace.name,
                    labels: recommendedLabels({
                        app: cfg.partOf,
                        partOf: cfg.partOf,
                        environment: cfg.environment,
                        component: "namespace",
                    }),
                },
            },
            { parent: this, provider: this.provider },
        );
    }

    /** The backup every rollout waits for, and its alerts. */
    private backupWithAlerts(
        name: string,
        args: RunbookStackArgs,
        namespace: pulumi.Input<string>,
        awsProvider: aws.Provider | undefined,
        k8sOpts: pulumi.ComponentResourceOptions,
    ): BackupJob {
        const cfg = args.config;
        const labels = recommendedLabels({
            app: `${cfg.partOf}-backup`,
            partOf: cfg.partOf,
            environment: cfg.environment,
            component: "backup",
            version: cfg.release.version,
        });
        const backup = new BackupJob(
            `${name}-backup`,
            backupJobArgsOf(cfg, { namespace, labels, databaseUrl: args.databaseUrl, awsProvider }),
            k8sOpts,
        );
        if (cfg.alerts.enabled)
            new AlertRules(
                `${name}-backup-alerts`,
                {
                    namespace,
                    name: `${cfg.partOf}-backup`,
                    groupName: `${cfg.partOf}-backup`,
                    labels,
                    rules: () =>
                        backupAlertRules(
                            {
                                namespace: cfg.namespace.name,
                                cronJob: `${cfg.partOf}-backup`,
                                restoreDrillCronJob: `${cfg.partOf}-restore-drill`,
                                environment: cfg.environment,
                            },
                            cfg.alerts,
                        ),
                },
                k8sOpts,
            );
        return backup;
    }

    /** Each service, after the pre-deploy backup, its idle colour sized as the rollout decided. */
    private appServices(
        name: string,
        cfg: StackConfig,
        namespace: pulumi.Input<string>,
        k8sOpts: pulumi.ComponentResourceOptions,
    ): AppService[] {
        const preDeploy = this.backup?.preDeployJob;
        // The idle colour's replicas as decided from the recorded switch time (scaleDownAfter).
        const withIdle = (service: StackConfig["services"][number]) =>
            service.blueGreen
                ? {
                      ...service,
                      blueGreen: {
                          ...service.blueGreen,
                          idleReplicas: this.rollout.idleReplicas[service.name],
                          liveBefore: this.rollout.liveBefore[service.name],
                      },
                  }
                : service;
        return cfg.services.map(withIdle).map(
            (service) =>
                new AppService(
                    `${name}-${service.name}`,
                    {
                        service,
                        namespace,
                        namespaceName: cfg.namespace.name,
                        environment: cfg.environment,
                        partOf: cfg.partOf,
                        alerts: cfg.alerts,
                        annotations: releaseAnnotations({ ...this.release, strategy: service.strategy }),
                        dependsOn: preDeploy ? [preDeploy] : undefined,
                        scheduling: cfg.scheduling,
                    },
                    k8sOpts,
                ),
        );
    }
}
