// The one place where a stack's resolved config becomes the components' own args: each
// service's strategy component and autoscaler. The components know nothing of stack files;
// their checks run here too (through the same args), with their paths turned into the
// config paths a user types, so `npm run validate` rejects what `pulumi preview` would.
import type * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { AutoscalerArgs } from "../components/autoscaler-args";
import { autoscalerProblems } from "../components/autoscaler-args";
import type { BackupJobArgs } from "../components/backup-job-args";
import { blueGreenProblems, type BlueGreenDeploymentArgs } from "../components/blue-green-args";
import { canaryProblems, type CanaryReleaseArgs } from "../components/canary-args";
import { rollingProblems, type RollingDeploymentArgs } from "../components/rolling-args";
import type { WorkloadArgs } from "../components/workload-args";
import type { PodScheduling } from "../components/scheduling";
import type { Problem } from "../components/checks";
import { execProbe, grpcProbe, httpProbe, tcpProbe } from "../components/probes";
import type { ResolvedProbe, ServiceConfig, StackConfig } from "./types";

/** Where a service's components run and what they carry besides the service's own config. */
export interface ServiceContext {
    namespace: pulumi.Input<string>;
    environment: string;
    partOf: string;
    /** Release annotations for the Deployments. */
    annotations?: Record<string, string>;
    /** The pre-deploy backup Job, when there is one. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** Where the pods run (the stack's `scheduling`). */
    scheduling?: PodScheduling;
}

export function workloadArgsOf(s: ServiceConfig, ctx: ServiceContext): WorkloadArgs {
    return {
        name: s.name,
        namespace: ctx.namespace,
        environment: ctx.environment,
        partOf: ctx.partOf,
        replicas: s.autoscaling.minReplicas,
        // Every service gets an HPA (AppService): it owns the live Deployment's count.
        autoscaled: true,
        port: s.port,
        servicePort: s.servicePort,
        metricsPort: s.metrics?.port,
        probes: {
            liveness: toProbe(s.probes.liveness),
            readiness: toProbe(s.probes.readiness),
            ...(s.probes.startup ? { startup: toProbe(s.probes.startup) } : {}),
        },
        resources: s.resources,
        env: s.env,
        rollout: s.rollout,
        progressDeadlineSeconds: s.progressDeadlineSeconds,
        drainSeconds: s.drainSeconds,
        annotations: ctx.annotations,
        dependsOn: ctx.dependsOn,
        scheduling: ctx.scheduling,
    };
}

export function blueGreenArgsOf(s: ServiceConfig, ctx: ServiceContext): BlueGreenDeploymentArgs {
    const bg = required(s.blueGreen, s, "blueGreen");
    return {
        ...workloadArgsOf(s, ctx),
        activeColor: bg.activeColor,
        images: bg.images,
        idleReplicas: bg.idleReplicas,
        liveBefore: bg.liveBefore,
        healthEndpoints: s.healthEndpoints,
        smokeTest: bg.smokeTest,
    };
}

export function canaryArgsOf(s: ServiceConfig, ctx: ServiceContext): CanaryReleaseArgs {
    const c = required(s.canary, s, "canary");
    return {
        ...workloadArgsOf(s, ctx),
        image: s.image,
        canary: { image: c.image, weight: c.weight, steps: c.steps, router: c.router },
    };
}

export function rollingArgsOf(s: ServiceConfig, ctx: ServiceContext): RollingDeploymentArgs {
    return { ...workloadArgsOf(s, ctx), image: s.image };
}

export function autoscalerArgsOf(
    s: ServiceConfig,
    a: { namespace: pulumi.Input<string>; targetDeployment: pulumi.Input<string>; labels?: Record<string, string> },
): AutoscalerArgs {
    return { name: s.name, ...a, ...s.autoscaling };
}

/** The stack's backup as the BackupJob's own args, named after the stack's `partOf`. */
export function backupJobArgsOf(
    cfg: StackConfig,
    a: {
        namespace: pulumi.Input<string>;
        labels: Record<string, string>;
        databaseUrl?: pulumi.Input<string>;
        awsProvider?: aws.Provider;
    },
): BackupJobArgs {
    // Every field of the stack's backup section but `enabled` is one of the component's, by its name.
    const { schedule, retentionDays, preDeploy, deadlineSeconds, backoffLimit, dumpImage, uploadImage } = cfg.backup;
    const { databaseSecret, bucket, restore, restoreDrill, iam } = cfg.backup;
    const { scheduling } = cfg;
    return {
        schedule,
        retentionDays,
        preDeploy,
        deadlineSeconds,
        backoffLimit,
        dumpImage,
        uploadImage,
        databaseSecret,
        bucket,
        restore,
        restoreDrill,
        iam,
        scheduling,
        ...a,
        name: `${cfg.partOf}-backup`,
        restoreName: `${cfg.partOf}-restore`,
        release: { version: cfg.release.version, commit: cfg.release.commit },
    };
}

function required<T>(v: T | undefined, s: ServiceConfig, key: string): T {
    // The schema's rules make this unreachable for a parsed stack; a hand-built config is told.
    if (v === undefined) throw new Error(`service '${s.name}' has strategy '${s.strategy}' but no '${key}' settings`);
    return v;
}

/** A component's arg path as the config path below `runbook:services.<name>`. */
function configPath(path: PropertyKey[]): PropertyKey[] {
    const [head, ...rest] = path;
    switch (head) {
        case "name":
            return [];
        case "replicas":
            return ["autoscaling", "minReplicas"];
        case "metricsPort":
            return ["metrics", "port"];
        case "images":
            return ["blueGreen", rest[0], "image"];
        case "idleReplicas":
        case "smokeTest":
            return ["blueGreen", head, ...rest];
        default:
            return path;
    }
}

/**
 * Every problem of one resolved service, paths relative to `runbook:`: the checks its
 * strategy component and autoscaler make on the args this file gives them, and the one
 * rule that spans both (the idle colour fits within the HPA's maximum).
 */
export function serviceProblems(s: ServiceConfig): Problem[] {
    // Names only matter for the checks; the metrics Service is the app's too.
    const ctx: ServiceContext = { namespace: "ns", environment: "check", partOf: "check" };
    const extra = [`${s.name}-metrics`];
    // A strategy without its settings is reported by config/rules.ts; its checks wait for them.
    const strategy =
        s.strategy === "blueGreen"
            ? s.blueGreen
                ? blueGreenProblems(blueGreenArgsOf(s, ctx), extra)
                : []
            : s.strategy === "canary"
              ? s.canary
                  ? canaryProblems(canaryArgsOf(s, ctx), extra)
                  : []
              : rollingProblems(rollingArgsOf(s, ctx), extra);
    const autoscaler = autoscalerProblems(autoscalerArgsOf(s, { namespace: "ns", targetDeployment: s.name })).map(
        (p) => ({ ...p, path: ["autoscaling", ...p.path] }),
    );
    const out: Problem[] = [...strategy.map((p) => ({ ...p, path: configPath(p.path) })), ...autoscaler];
    const bg = s.blueGreen;
    // Not when maxReplicas is below minReplicas: that is reported already, and fixing it fixes this.
    if (bg && bg.idleReplicas > s.autoscaling.maxReplicas && autoscaler.length === 0)
        out.push({
            path: ["blueGreen", "idleReplicas"],
            message: `expected at most autoscaling.maxReplicas (${s.autoscaling.maxReplicas}), got ${bg.idleReplicas}`,
        });
    return out.map((p) => ({ ...p, path: ["services", s.name, ...p.path] }));
}

/** The Kubernetes probe for a resolved probe config. */
export function toProbe(p: ResolvedProbe): k8s.types.input.core.v1.Probe {
    switch (p.type) {
        case "http":
            return httpProbe(p.path as string, { ...p, port: p.port as number });
        case "tcp":
            return tcpProbe({ ...p, port: p.port as number });
        case "exec":
            return execProbe(p.command as string[], p);
        case "grpc":
            return grpcProbe({ ...p, port: p.port as number });
    }
}
