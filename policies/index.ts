// The policy pack: assembles the policies and sets their enforcement for this run.
// Which stack it judges: the engine passes the stack's config (PULUMI_CONFIG), whose
// runbook:environment picks production (guardrails mandatory) or staging (advisory);
// without it, the runbook.dev/environment label the program stamps on everything decides
// per resource. RUNBOOK_DEPLOY_MODE=pull-request makes the deploy gate advisory in previews;
// in an update that changes a cluster it, like RUNBOOK_NOW, stops the run before any step.
import { PolicyPack, type EnforcementLevel } from "@pulumi/policy";
import { denyUnpinnedImages } from "./deny-unpinned-images";
import { enforceDeployGate, refuseDrillSettingsInUpdates, reportHotfixDeploys } from "./enforce-deploy-gate";
import { requireBackupsInProduction } from "./require-backups-in-production";
import { requireCanaryWeightOnPlan } from "./require-canary-weight-on-plan";
import { requireHpaBounds } from "./require-hpa-bounds";
import { requireLiveActiveColor } from "./require-live-active-color";
import { requirePdbInProduction } from "./require-pdb-in-production";
import { requireProbes } from "./require-probes";
import { requireResourceLimits } from "./require-resource-limits";
import { requireRollbackAlerts } from "./require-rollback-alerts";
import { requireSecureBackupBuckets } from "./require-secure-backup-buckets";
import { guardrailEnforcement, resolveMode, stackEnvironment } from "./settings";

const environment = stackEnvironment(process.env);
const guardrails: EnforcementLevel = guardrailEnforcement(environment);

new PolicyPack("runbook-guardrails", {
    policies: [
        enforceDeployGate({ mode: resolveMode(process.env), environment, env: process.env }),
        reportHotfixDeploys,
        refuseDrillSettingsInUpdates(process.env),
        ...[
            requireProbes,
            requireResourceLimits,
            denyUnpinnedImages,
            requireHpaBounds,
            requirePdbInProduction,
            requireLiveActiveColor,
            requireCanaryWeightOnPlan,
            requireBackupsInProduction,
            requireRollbackAlerts,
            requireSecureBackupBuckets,
        ].map((p) => ({ ...p, enforcementLevel: guardrails })),
    ],
});
