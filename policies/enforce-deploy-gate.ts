import * as k8s from "@pulumi/kubernetes";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { decide, type GateResult } from "./lib/deploy-gate";
import { releaseFromAnnotations, type ReleaseRecord } from "./lib/release-record";
import { configHash } from "./lib/release-digest";
import { releaseForGate } from "./lib/signed-approvals";
import { operatorKeyFingerprints } from "./lib/ssh-signature";
import { containersOf, metadata, podSpecOf, reachesOutside, stackEnvironmentFromLabels } from "./resources";
import {
    drillRefusal,
    drillSettings,
    engineConfig,
    GATE_CONFIG_JSON_SCHEMA,
    GATE_POLICY,
    gatePolicy,
    isPreview,
    parseGateConfig,
    resolveNow,
    type Environment,
    type Mode,
} from "./settings";

/** The release record on the stack's Deployments (the release-record annotations). */
export function releaseOf(resources: PolicyResource[]): ReleaseRecord | undefined {
    for (const r of resources) {
        const rec = releaseFromAnnotations(metadata(r.asType(k8s.apps.v1.Deployment)).annotations);
        if (rec) return rec;
    }
    return undefined;
}

/** Every image the stack's workloads run (containers and init containers). */
export function imagesOf(resources: PolicyResource[]): string[] {
    const images = new Set<string>();
    for (const r of resources)
        for (const c of containersOf(podSpecOf(r), true)) if (typeof c.image === "string") images.add(c.image);
    return [...images].sort();
}

export interface GateOptions {
    mode: Mode;
    environment?: Environment;
    env: NodeJS.ProcessEnv;
}

/**
 * The gate's decision on the resources of one run: undefined when no environment is known
 * (neither the stack's config nor any resource's label names one).
 */
function judgeStack(
    args: { resources: PolicyResource[]; getConfig<T extends object>(): T },
    opts: GateOptions,
): GateResult | undefined {
    const environment = opts.environment ?? stackEnvironmentFromLabels(args.resources);
    if (!environment) return undefined;
    const config = parseGateConfig(args.getConfig<object>());
    // The shell's clock counts in previews, and in updates that only render YAML.
    const at = resolveNow(config, opts.env, isPreview(opts.env) || !args.resources.some(reachesOutside));
    const policy = gatePolicy(config, environment);
    let release = releaseOf(args.resources);
    let notes: string[] = [];
    if (release && policy.signatures) {
        // What the approvals must bind, as the engine shows it: the stack it runs, the
        // config it resolved, the images the workloads run.
        const view = {
            stack: opts.env.PULUMI_STACK ?? "",
            images: imagesOf(args.resources),
            config: configHash(engineConfig(opts.env)),
            operatorKeys: operatorKeyFingerprints(opts.env),
        };
        ({ release, notes } = releaseForGate(release, policy.signatures, view, at));
    }
    return decide({ environment, at, policy, release, notes });
}

/**
 * Deploy windows, freezes and approvals as one gate (hotfixes cross all three). In deploy
 * mode it is mandatory and blocks `pulumi up`; in pull-request mode it is advisory and
 * says whether the deploy would be allowed now and when the next window opens.
 */
export function enforceDeployGate(opts: GateOptions): StackValidationPolicy {
    return {
        name: GATE_POLICY,
        description:
            "Deploys happen inside an allow window, outside every freeze, with the approvals the environment needs; hotfixes pass with two Governance Board approvals and a postmortem.",
        enforcementLevel: opts.mode === "pull-request" ? "advisory" : "mandatory",
        configSchema: GATE_CONFIG_JSON_SCHEMA,
        validateStack: (args, reportViolation) => {
            const result = judgeStack(args, opts);
            if (result && !result.allowed)
                reportViolation(
                    opts.mode === "pull-request"
                        ? `[pull-request preview] would be blocked if deployed now: ${result.summary}`
                        : result.summary,
                );
        },
    };
}

/**
 * Advisory: a release recorded as a hotfix or a rollback says so in the output — postmortem,
 * reason, approvals; who rolled back and why — so the post-hoc review [000, 003] has a
 * record. It reads only the release record on the workloads: whether the release may pass
 * a closed window is enforce-deploy-gate's to say (each policy gets only its own config),
 * and neither policy depends on the other having run.
 */
export const reportHotfixDeploys: StackValidationPolicy = {
    name: "report-hotfix-deploys",
    description:
        "A release recorded as a hotfix is reported with its postmortem reference and approvals, a rollback with who and why, for the post-hoc review.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const release = releaseOf(args.resources);
        if (release?.hotfix) reportViolation(hotfixReport(release));
        if (release?.rollback)
            reportViolation(
                `rollback to what was live before, by ${release.rollback.by} at ${release.rollback.at}: ${release.rollback.reason} (release ${release.version})`,
            );
    },
};

function hotfixReport(r: ReleaseRecord): string {
    const typed = r.approvals.map((a) => `${a.name} (${a.role})`);
    const signed = r.signedApprovals?.length ?? 0;
    // Unverified here: which signatures count (signer, role, this release) is the gate's to check.
    const approvals = [
        ...typed,
        ...(signed > 0
            ? [
                  `${signed} signature${signed === 1 ? "" : "s"} attached (enforce-deploy-gate counts those that verify for this release)`,
              ]
            : []),
    ];
    return (
        `hotfix release ${r.version}: postmortem ${r.hotfix?.postmortem ?? "none"}` +
        `${r.hotfix?.reason ? `, because ${r.hotfix.reason}` : ""}; approvals: ${approvals.join(", ") || "none"}. ` +
        "Review it after the fact; it crosses a closed window or a freeze only with the hotfix approvals the gate requires."
    );
}

/**
 * The settable clock and pull-request mode never reach a cluster: in an update (not a
 * preview) with either set in the environment, every step that would talk to a cluster is
 * refused before it runs: the provider's own step comes first, so nothing reaches the API
 * server. A resource policy, because the stack's gate judges only after the steps ran.
 */
export function refuseDrillSettingsInUpdates(env: NodeJS.ProcessEnv): ResourceValidationPolicy {
    return {
        name: "refuse-drill-settings-in-updates",
        description:
            "A pulumi up that changes a cluster refuses to run while RUNBOOK_NOW or RUNBOOK_DEPLOY_MODE=pull-request is set; previews and render-only stacks keep them.",
        enforcementLevel: "mandatory",
        validateResource: (args, reportViolation) => {
            const settings = drillSettings(env);
            if (settings.length === 0 || isPreview(env) || !reachesOutside(args)) return;
            reportViolation(drillRefusal(settings));
        },
    };
}
