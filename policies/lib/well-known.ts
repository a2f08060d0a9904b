// The labels and annotations the pack reads: its whole contract with the programs it judges.
// The runbook components write every one of them; any other Pulumi program that wants a
// policy to know what it deploys writes them too (docs/policy-pack.md: well-known labels and annotations).
// Nothing here is a value of the runbook program: the pack reads it off the resources.

export const ANNOTATION_PREFIX = "runbook.dev";

/** On every object: `production` or `staging`, the environment whose rules apply. */
export const ENVIRONMENT_LABEL = `${ANNOTATION_PREFIX}/environment`;
/** On a blue/green Deployment's pods and its Service's selector: `blue` or `green`. */
export const COLOR_LABEL = `${ANNOTATION_PREFIX}/color`;
/** On a canary's pods: `stable` or `canary`. */
export const TRACK_LABEL = `${ANNOTATION_PREFIX}/track`;
/** The recommended Kubernetes label naming the app an object belongs to (alerts are per app). */
export const APP_LABEL = "app.kubernetes.io/name";

/** On both Deployments of a canary split by replicas: the share of traffic the canary gets. */
export const CANARY_WEIGHT_ANNOTATION = `${ANNOTATION_PREFIX}/canary-weight`;
/**
 * On every object that carries a canary weight (HTTPRoute, canary Ingress, replica-split
 * Deployments): the reviewed step plan, a JSON array of percentages such as `[5,25,100]`.
 */
export const CANARY_STEPS_ANNOTATION = `${ANNOTATION_PREFIX}/canary-steps`;
/** How far (percentage points) a split by whole replicas may miss its step. */
export const WEIGHT_TOLERANCE = 1;

/**
 * On backup objects (component `backup`): `pre-deploy` (the Job before a release),
 * `restore`, `restore-drill`; none on the backup CronJob.
 */
export const BACKUP_ROLE_LABEL = `${ANNOTATION_PREFIX}/backup`;
/** The recommended label naming an object's part in its app: backups are `backup`. */
export const COMPONENT_LABEL = "app.kubernetes.io/component";

/**
 * The input of a component that declares the release for everything registered under it:
 * the release annotations (release-record.ts) as a map. The runbook program's RunbookStack
 * declares it; it takes precedence over release annotations on the resources under it.
 */
export const RELEASE_INPUT = "runbookRelease";

/** The release record's annotations (policies/lib/release-record.ts reads and writes them). */
export const RELEASE_ANNOTATIONS = {
    version: `${ANNOTATION_PREFIX}/release-version`,
    commit: `${ANNOTATION_PREFIX}/release-commit`,
    operator: `${ANNOTATION_PREFIX}/operator`,
    strategy: `${ANNOTATION_PREFIX}/strategy`,
    approvals: `${ANNOTATION_PREFIX}/approvals`,
    hotfix: `${ANNOTATION_PREFIX}/hotfix`,
    postmortem: `${ANNOTATION_PREFIX}/hotfix-postmortem`,
    hotfixReason: `${ANNOTATION_PREFIX}/hotfix-reason`,
    rollback: `${ANNOTATION_PREFIX}/rollback`,
    /** Signed approvals ({statement, signature}, JSON): the pack verifies each. */
    signedApprovals: `${ANNOTATION_PREFIX}/signed-approvals`,
} as const;
