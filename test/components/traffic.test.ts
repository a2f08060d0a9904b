import { canaryPlan, canaryPlanOf, effectiveWeight } from "../../components/traffic";

const base = { stableImage: "app:1", canaryImage: "app:2", steps: [5, 25, 100], replicas: 4 };

describe("canaryPlan", () => {
    test("with a router the canary gets its share of pods (at least one) and the exact weight", () => {
        expect(canaryPlan({ ...base, weight: 25, routed: true })).toEqual({
            stableImage: "app:1",
            canaryReplicas: 1,
            stableReplicas: 4,
            canaryWeight: 25,
            phase: "progressing",
            nextStep: 100,
        });
        expect(canaryPlan({ ...base, weight: 5, routed: true, replicas: 40 }).canaryReplicas).toBe(2);
    });

    test("without a router the weight is what whole pods allow, never all of them", () => {
        expect(canaryPlan({ ...base, weight: 25, routed: false })).toMatchObject({
            canaryReplicas: 1,
            stableReplicas: 3,
            canaryWeight: 25,
        });
        expect(canaryPlan({ ...base, weight: 5, routed: false })).toMatchObject({
            canaryReplicas: 1,
            stableReplicas: 3,
            canaryWeight: 25,
        });
        expect(canaryPlan({ ...base, weight: 90, routed: false })).toMatchObject({
            canaryReplicas: 3,
            stableReplicas: 1,
            canaryWeight: 75,
        });
    });

    test("100 promotes, 0 aborts", () => {
        expect(canaryPlan({ ...base, weight: 100, routed: true })).toEqual({
            stableImage: "app:2",
            canaryReplicas: 0,
            stableReplicas: 4,
            canaryWeight: 0,
            phase: "promoted",
        });
        expect(canaryPlan({ ...base, weight: 0, routed: false })).toEqual({
            stableImage: "app:1",
            canaryReplicas: 0,
            stableReplicas: 4,
            canaryWeight: 0,
            phase: "aborted",
            nextStep: 5,
        });
    });
});

describe("effective weights", () => {
    test("the replica router reports the share whole pods give; routers give the weight asked", () => {
        expect(effectiveWeight(5, 4, false)).toBe(25);
        expect(effectiveWeight(33, 3, false)).toBe(33.3);
        expect(effectiveWeight(5, 4, true)).toBe(5);
        expect(effectiveWeight(100, 4, false)).toBe(100);
        expect(effectiveWeight(0, 4, false)).toBe(0);
    });

    test("the plan of a config service, outputs and summary alike", () => {
        const service = {
            image: "app:1",
            autoscaling: { minReplicas: 4 },
            canary: { image: "app:2", weight: 50, steps: [25, 50, 100], router: { type: "replicas" as const } },
        };
        expect(canaryPlanOf(service)).toMatchObject({ canaryReplicas: 2, stableReplicas: 2, canaryWeight: 50 });
    });
});
