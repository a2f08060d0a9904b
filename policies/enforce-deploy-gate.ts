import type {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as k8s from "@pulumi/kubernetes";
import type { DateTime } from "luxon";
import { decide, type GateResult } from "./lib/deploy-gate";
import { releaseFromAnnotations, type ReleaseRecord } from "./lib/release-record";
import { configHash } from "./lib/release-digest";
import { releaseForGate } from "./lib/signed-approvals";
import { operatorKeyFingerprints } from "./lib/ssh-signature";
import { RELEASE_INPUT } from "./lib/well-known";
import { containersOf, environmentOf, metadata, podSpecOf, reachesOutside, touchesProvider } from "./resources";
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

/**
 * The release record a resource carries itself: a component's `runbookRelease` input (the
 * release annotations as a map), else its own `metadata.annotations`.
 */
export function releaseCarriedBy(r: { props: Record<string, any> }): ReleaseRecord | undefined {
    const declared: unknown = r.props?.[RELEASE_INPUT];
    if (declared !== null && typeof declared === "object" && !Array.isArray(declared))
        return releaseFromAnnotations(declared as Record<string, unknown>);
    return releaseFromAnnotations(metadata(r.props).annotations);
}

/** `urn:pulumi:<stack>::<project>::<parent types $ type>::<name>`: the qualified type part. */
const qualifiedType = (urn: string): string => urn.split("::")[2] ?? "";

/**
 * What one run (one preview or one update: one analyzer process) has shown the gate so far.
 * A component declares the release for everything registered under it; the engine registers
 * a child only once its parent's registration (and so its analysis) is done, so a
 * declaration is always seen before what it covers. A resource registered before any
 * declaration that covers it is judged without one: the strict side.
 */
export class GateRun {
    private readonly declared = new Map<string, ReleaseRecord>();
    private readonly reported = new Set<string>();
    private readonly verified = new Map<string, ReturnType<typeof releaseForGate>>();
    /** The environment named by the first label seen, for resources of the run that carry none. */
    environment?: Environment;
    /**
     * A preview's one instant: it judges the whole plan as of when it started, so one verdict
     * is one message (a clock read per step would name it again whenever a second passed).
     * An update reads the clock per step: a step run after the window closed is refused.
     */
    previewInstant?: DateTime;

    declare(urn: string, release: ReleaseRecord): void {
        this.declared.set(urn, release);
    }

    /** The releases declared by components above `urn` (several only where components nest or repeat). */
    releasesAbove(urn: string): ReleaseRecord[] {
        const chain = qualifiedType(urn);
        return [...this.declared]
            .filter(([parent]) => chain.startsWith(`${qualifiedType(parent)}$`))
            .map(([, release]) => release);
    }

    /** True the first time `message` is reported in this run. */
    firstReport(message: string): boolean {
        if (this.reported.has(message)) return false;
        this.reported.add(message);
        return true;
    }

    /** releaseForGate, once per distinct release and view (ssh-keygen runs per signature). */
    verify(...args: Parameters<typeof releaseForGate>): ReturnType<typeof releaseForGate> {
        const key = JSON.stringify([args[0], args[1], args[2], args[3].toISO()]);
        let v = this.verified.get(key);
        if (v === undefined) {
            v = releaseForGate(...args);
            this.verified.set(key, v);
        }
        return v;
    }
}

export interface GateOptions {
    mode: Mode;
    environment?: Environment;
    env: NodeJS.ProcessEnv;
}

/** Every image one resource runs (containers and init containers). */
function imagesOf(r: Pick<ResourceValidationArgs, "asType">): string[] {
    const images = new Set<string>();
    for (const c of containersOf(podSpecOf(r), true)) if (typeof c.image === "string") images.add(c.image);
    return [...images].sort();
}

/**
 * The gate's decision on one step: undefined where no environment is known (neither the
 * stack's config, nor a label on the resource or on one judged before it in the run).
 */
export function judgeStep(args: ResourceValidationArgs, opts: GateOptions, run: GateRun): GateResult | undefined {
    const labelled = environmentOf(args.props);
    run.environment ??= labelled;
    const environment = opts.environment ?? labelled ?? run.environment;
    if (!environment) return undefined;
    const config = parseGateConfig(args.getConfig<object>());
    // The shell's clock counts in previews, and for steps that only render YAML.
    const at = isPreview(opts.env)
        ? (run.previewInstant ??= resolveNow(config, opts.env, true))
        : resolveNow(config, opts.env, !reachesOutside(args));
    const policy = gatePolicy(config, environment);
    // A component's declaration is the whole record; what a resource carries itself (a
    // workload of a program without one) counts where nothing above it declares one.
    const above = run.releasesAbove(args.urn);
    const own = releaseCarriedBy(args);
    const releases: (ReleaseRecord | undefined)[] = above.length > 0 ? above : own ? [own] : [];
    const results = (releases.length > 0 ? releases : [undefined]).map((release) => {
        let notes: string[] = [];
        if (release && policy.signatures) {
            // What the approvals must bind, as the engine shows it: the stack it runs, the
            // config it resolved, the images this step runs.
            const view = {
                stack: opts.env.PULUMI_STACK ?? "",
                images: imagesOf(args),
                config: configHash(engineConfig(opts.env)),
                operatorKeys: operatorKeyFingerprints(opts.env),
            };
            ({ release, notes } = run.verify(release, policy.signatures, view, at));
        }
        return decide({ environment, at, policy, release, notes });
    });
    // Under several declarations the step must pass every one of them.
    return results.find((r) => !r.allowed) ?? results[0];
}

/**
 * Deploy windows, freezes and approvals as one gate (hotfixes cross all three, rollbacks
 * pass), judged for each step before the engine runs it, so a blocked `pulumi up` changes
 * nothing, with or without a preview first. In deploy mode it is mandatory; in a
 * pull-request preview it is advisory and says whether the deploy would be allowed now and
 * when the next window opens. A preview names each distinct verdict once; an update stops
 * at the first step it blocks.
 */
export function enforceDeployGate(opts: GateOptions): ResourceValidationPolicy {
    const run = new GateRun();
    return {
        name: GATE_POLICY,
        description:
            "Deploys happen inside an allow window, outside every freeze, with the approvals the environment " +
            "needs; hotfixes pass with two Governance Board approvals and a postmortem. Judged before each step.",
        enforcementLevel: opts.mode === "pull-request" ? "advisory" : "mandatory",
        configSchema: GATE_CONFIG_JSON_SCHEMA,
        validateResource: (args, reportViolation) => {
            if (!touchesProvider(args)) {
                // The stack, a component, a provider: nothing of theirs reaches a cluster.
                const declared = releaseCarriedBy(args);
                if (declared) run.declare(args.urn, declared);
                return;
            }
            const result = judgeStep(args, opts, run);
            if (!result || result.allowed) return;
            const message =
                opts.mode === "pull-request"
                    ? `[pull-request preview] would be blocked if deployed now: ${result.summary}`
                    : result.summary;
            if (isPreview(opts.env) && !run.firstReport(message)) return;
            reportViolation(message);
        },
    };
}

/** The stack's release record: the one a component declares, else the one on its workloads. */
export function releaseOfStack(resources: PolicyResource[]): ReleaseRecord | undefined {
    const declared = resources.filter((r) => !touchesProvider(r)).map(releaseCarriedBy);
    const onWorkloads = resources
        .filter((r) => r.isType(k8s.apps.v1.Deployment))
        .map((r) => releaseFromAnnotations(metadata(r.props).annotations));
    return [...declared, ...onWorkloads].find((r) => r !== undefined);
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
        "A release recorded as a hotfix is reported with its postmortem reference and approvals, a rollback " +
        "with who and why, for the post-hoc review.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const release = releaseOfStack(args.resources);
        if (release?.hotfix) reportViolation(hotfixReport(release));
        if (release?.rollback)
            reportViolation(
                `rollback to what was live before, by ${release.rollback.by} at ${release.rollback.at}: ` +
                    `${release.rollback.reason} (release ${release.version})`,
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
            "A pulumi up that changes a cluster refuses to run while RUNBOOK_NOW or " +
            "RUNBOOK_DEPLOY_MODE=pull-request is set; previews and render-only stacks keep them.",
        enforcementLevel: "mandatory",
        validateResource: (args, reportViolation) => {
            const settings = drillSettings(env);
            if (settings.length === 0 || isPreview(env) || !reachesOutside(args)) return;
            reportViolation(drillRefusal(settings));
        },
    };
}
