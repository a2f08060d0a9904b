import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { decide, type GateResult } from "../lib/deploy-gate";
import { releaseFromAnnotations, type ReleaseRecord } from "../lib/release";
import { configHash } from "../lib/release-digest";
import { releaseForGate } from "../lib/signed-approvals";
import { operatorKeyFingerprints } from "../lib/ssh-signature";
import { containersOf, metadata, reachesOutside, stackEnvironmentFromLabels, T } from "./resources";
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

/** The release record the program stamped on the stack's workloads. */
export function releaseOf(resources: { type: string; props: Record<string, any> }[]): ReleaseRecord | undefined {
    for (const r of resources) {
        if (r.type !== T.deployment) continue;
        const rec = releaseFromAnnotations(metadata(r.props).annotations);
        if (rec) return rec;
    }
    return undefined;
}

/** Every image the stack's workloads run (containers and init containers). */
export function imagesOf(resources: { type: string; props: Record<string, any> }[]): string[] {
    const images = new Set<string>();
    for (const r of resources)
        for (const c of containersOf(r.type, r.props, true)) if (typeof c.image === "string") images.add(c.image);
    return [...images].sort();
}

/** What the gate decided in this run, for the advisory hotfix report that runs after it. */
export interface GateOutcome {
    result?: GateResult;
}

/**
 * Deploy windows, freezes and approvals as one gate (hotfixes cross all three). In deploy
 * mode it is mandatory and blocks `pulumi up`; in pull-request mode it is advisory and
 * says whether the deploy would be allowed now and when the next window opens.
 */
export function enforceDeployGate(opts: {
    mode: Mode;
    environment?: Environment;
    env: NodeJS.ProcessEnv;
    outcome?: GateOutcome;
}): StackValidationPolicy {
    return {
        name: GATE_POLICY,
        description:
            "Deploys happen inside an allow window, outside every freeze, with the approvals the environment needs; hotfixes pass with two Governance Board approvals and a postmortem.",
        enforcementLevel: opts.mode === "pull-request" ? "advisory" : "mandatory",
        configSchema: GATE_CONFIG_JSON_SCHEMA,
        validateStack: (args, reportViolation) => {
            if (opts.outcome) opts.outcome.result = undefined;
            const environment = opts.environment ?? stackEnvironmentFromLabels(args.resources);
            if (!environment) return;
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
            const result = decide({ environment, at, policy, release, notes });
            if (opts.outcome) opts.outcome.result = result;
            if (!result.allowed)
                reportViolation(
                    opts.mode === "pull-request"
                        ? `[pull-request preview] would be blocked if deployed now: ${result.summary}`
                        : result.summary,
                );
        },
    };
}

/**
 * Advisory: a release that went through the gate as a hotfix says so in the output, with
 * its postmortem and approvers, so the post-hoc review [000, 003] has a record. Must come
 * after the gate in the pack (policies run in order, sharing `outcome`).
 */
export function reportHotfixDeploys(outcome: GateOutcome): StackValidationPolicy {
    return {
        name: "report-hotfix-deploys",
        description:
            "A deploy that passed the gate only as a hotfix is reported, with its postmortem reference and approvers; a rollback, with who and why.",
        enforcementLevel: "advisory",
        validateStack: (_args, reportViolation) => {
            const r = outcome.result;
            if (r?.allowed && r.viaHotfix) reportViolation(`went through as a hotfix: ${r.summary}`);
            if (r?.allowed && r.viaRollback) reportViolation(`went through as a rollback: ${r.summary}`);
        },
    };
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
