// The release record of this program's stacks: built from a stack file's release section
// and strategies, written as the annotations the policy pack reads (policies/lib/release-record.ts).
import type { ReleaseConfig, StackConfig, Strategy } from "../config/types";
import type { ReleaseRecord } from "../policies/lib/release-record";
import type { SignedApproval } from "../policies/lib/signed-approvals";
import type { StrategyState } from "./preview-summary";
import { canaryPlanOf } from "../components/traffic";

/** The release's strategy: the services' one, or "mixed" when they differ. */
export function releaseStrategy(config: Pick<StackConfig, "services">): Strategy | "mixed" {
    const strategies = [...new Set(config.services.map((s) => s.strategy))];
    return strategies.length === 1 ? strategies[0] : "mixed";
}

/** Which colour is live and what share each canary gets, per service: the stack's outputs and the CI summary. */
export function strategyState(config: Pick<StackConfig, "services">): StrategyState {
    const activeColors: Record<string, string> = {};
    const canaryWeights: Record<string, number> = {};
    for (const s of config.services) {
        if (s.blueGreen) activeColors[s.name] = s.blueGreen.activeColor;
        // The share the canary really gets: 0 once promoted or aborted.
        if (s.canary) canaryWeights[s.name] = canaryPlanOf(s).canaryWeight;
    }
    return { activeColors, canaryWeights };
}

export function releaseRecord(
    release: ReleaseConfig,
    strategy: Strategy | "mixed",
    rollback?: ReleaseRecord["rollback"],
    signedApprovals: SignedApproval[] = [],
): ReleaseRecord {
    return {
        ...(signedApprovals.length > 0 ? { signedApprovals } : {}),
        ...(rollback !== undefined ? { rollback } : {}),
        version: release.version,
        ...(release.commit !== undefined ? { commit: release.commit } : {}),
        ...(release.operator !== undefined ? { operator: release.operator } : {}),
        strategy,
        approvals: release.approvals,
        ...(release.hotfix !== undefined ? { hotfix: release.hotfix } : {}),
    };
}

/** Every image the stack's release may run: services (each colour, stable and canary), smoke tests, backups. */
export function releaseImages(config: StackConfig): string[] {
    const images = new Set<string>();
    for (const s of config.services) {
        images.add(s.image);
        if (s.canary) images.add(s.canary.image);
        if (s.blueGreen) {
            images.add(s.blueGreen.images.blue);
            images.add(s.blueGreen.images.green);
            if (s.blueGreen.smokeTest.enabled) images.add(s.blueGreen.smokeTest.image);
        }
    }
    if (config.backup.enabled) {
        images.add(config.backup.dumpImage);
        images.add(config.backup.uploadImage);
    }
    return [...images].sort();
}
