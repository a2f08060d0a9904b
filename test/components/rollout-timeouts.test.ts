// How long an update waits for a Deployment: each batch of surged pods may take the
// progress deadline, plus one for the old pods to go (the provider alone waits a flat
// 10 minutes, whatever Kubernetes says about the rollout).
import { rolloutTimeouts } from "../../components/workload";
import { resolveWorkloadArgs } from "../../components/workload-args";

const workload = (progressDeadlineSeconds: number, maxSurge: number | string) =>
    resolveWorkloadArgs({
        name: "api",
        namespace: "shop",
        environment: "staging",
        progressDeadlineSeconds,
        rollout: { maxSurge, maxUnavailable: 0 },
    });

test.each([
    // deadline, surge, replicas → seconds
    [60, "25%", 2, 180], // one pod per batch: 2 batches + 1
    [600, "25%", 20, 3000], // 5 pods per batch: 4 batches + 1
    [600, 2, 5, 2400], // 3 batches + 1
    [120, "100%", 4, 240], // all at once + 1
    [60, "25%", 0, 120], // scaled to zero still gets a batch and the wind-down
])("deadline %ss, maxSurge %s, %s replicas: %ss", (deadline, surge, replicas, seconds) => {
    expect(rolloutTimeouts(workload(deadline, surge), replicas)).toEqual({
        create: `${seconds}s`,
        update: `${seconds}s`,
    });
});
