// No router: one Service selects both tracks, so the canary's share of requests is its share
// of the pods. Whole pods are the only lever: a step is honoured only within WEIGHT_TOLERANCE.
import { z } from "zod";
import { APP_LABEL, CANARY_WEIGHT_ANNOTATION, TRACK_LABEL, WEIGHT_TOLERANCE } from "../lib/well-known";
import { canaryServiceName, podTraffic, type Router, type RouterProblem } from "./router";

export const replicasSchema = z.strictObject({
    /** No router: one Service over both tracks, split by the ratio of their pods. */
    type: z.literal("replicas"),
});
export type ReplicasRouterConfig = z.output<typeof replicasSchema>;

const DEPLOYMENT_TOKEN = "kubernetes:apps/v1:Deployment";

/** Pods of `replicas` the replica router gives the canary at `weight` (0 < weight < 100). */
export function replicaSplit(weight: number, replicas: number): { canary: number; stable: number; percent: number } {
    const canary = Math.min(replicas - 1, Math.max(1, Math.round((replicas * weight) / 100)));
    return { canary, stable: replicas - canary, percent: (100 * canary) / replicas };
}

/**
 * Pods the replica router needs for `weight`: `exact` for the weight itself (5 % needs 20),
 * `within` for the fewest that come within WEIGHT_TOLERANCE.
 */
export function podsForWeight(weight: number): { exact: number; within: number } {
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    const exact = 100 / gcd(100, weight);
    let within = 2;
    while (Math.abs(replicaSplit(weight, within).percent - weight) > WEIGHT_TOLERANCE) within += 1;
    return { exact, within };
}

/** Each step of the plan must be honoured by whole pods of `replicas` within WEIGHT_TOLERANCE. */
function problems(plan: { steps: readonly number[]; replicas: number }): RouterProblem[] {
    const pods = plan.replicas;
    if (pods < 2)
        return [
            {
                path: ["replicas"],
                message: `expected at least 2 to split traffic by replicas (one stable pod, one canary pod), got ${pods}`,
            },
        ];
    const out: RouterProblem[] = [];
    plan.steps.forEach((w, i) => {
        if (w >= 100) return;
        const split = replicaSplit(w, pods);
        if (Math.abs(split.percent - w) <= WEIGHT_TOLERANCE) return;
        const need = podsForWeight(w);
        const gives = `${pods} pods give ${+split.percent.toFixed(1)} % (${split.canary} of ${pods})`;
        out.push({
            path: ["canary", "steps", i],
            message:
                `expected a weight the replica router can honour within ${WEIGHT_TOLERANCE} percentage point ` +
                `with ${pods} pods, got ${w}: ${gives}; ` +
                `${w} % needs ${need.exact} pods (${need.within} come within ${WEIGHT_TOLERANCE} point), ` +
                "or set canary.router to gatewayApi or nginx",
        });
    });
    return out;
}

export const replicasRouter: Router<ReplicasRouterConfig> = {
    type: "replicas",
    schema: replicasSchema,
    weighted: false,
    problems,
    objects: () => [],
    weightObject: (app) => ({ kind: "deployment", name: canaryServiceName(app) }),
    abortWrite: (app, namespace) => {
        const name = canaryServiceName(app);
        return {
            describe: `Deployment ${namespace}/${name} scaled to 0 (its pods leave the Service)`,
            manifest: {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name, namespace },
                spec: { replicas: 0 },
            },
        };
    },
    liveKinds: ["deployments"],
    liveWeight: (objects, app) => {
        const ready = (track: string) =>
            (objects.deployments ?? [])
                .filter((d) => d.metadata.labels?.[APP_LABEL] === app && d.metadata.labels?.[TRACK_LABEL] === track)
                .reduce((a, d) => a + (d.status?.readyReplicas ?? 0), 0);
        const canary = ready("canary");
        const total = canary + ready("stable");
        return {
            percent: total ? Math.round((100 * canary) / total) : 0,
            source: `ready pods: ${canary} canary of ${total}`,
        };
    },
    // Every canary's Deployments carry the share they get (the component writes it for every
    // router); for this router it is the only record of the split, so it is checked here.
    plannedWeights: (resources) =>
        resources
            .filter((r) => r.type === DEPLOYMENT_TOKEN)
            .flatMap((resource) => {
                const w = resource.props?.metadata?.annotations?.[CANARY_WEIGHT_ANNOTATION];
                if (w === undefined) return [];
                return [
                    { resource, carriesWeight: true, weight: Number(w), tolerance: WEIGHT_TOLERANCE, problems: [] },
                ];
            }),
    analysis: (_config, ctx) => podTraffic(ctx),
};
