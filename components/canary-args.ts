// What a CanaryRelease takes and the checks it makes on it, with no Pulumi runtime: the config
// parser and the commands run these checks without loading the SDKs.
import { WEIGHT_TOLERANCE } from "../policies/lib/well-known";
import { DEFAULT_CANARY_STEPS, DEFAULT_REPLICAS } from "../config/defaults";
import { describeValue, imageProblems, type Problem } from "../lib/checks";
import { podsForWeight, replicaSplit } from "../lib/traffic";
import { workloadProblems, type WorkloadArgs } from "./workload-args";

/** How traffic is split between the stable and the canary track. */
export type CanaryRouter =
    | {
          /** A Gateway API HTTPRoute with weighted backendRefs. */
          type: "gatewayApi";
          gateway: { name: string; namespace?: string; sectionName?: string };
          /** @default [] (every host the Gateway serves) */
          hostnames?: string[];
      }
    | {
          /** NGINX Ingress with its canary annotations. */
          type: "nginx";
          host: string;
          /** @default "nginx" */
          ingressClassName?: string;
          /** @default "/" */
          path?: string;
      }
    | {
          /** No router: one Service over both tracks, split by the ratio of their pods. */
          type: "replicas";
      };

export interface CanaryReleaseArgs extends WorkloadArgs {
    /** The stable track's image, with a tag or digest. */
    image: string;
    canary: {
        /** The image under test. */
        image: string;
        /** Percent of traffic on the canary: 0 aborts, 100 promotes the canary image to stable. */
        weight: number;
        /**
         * The plan's steps, strictly increasing, ending at 100.
         * @default [5, 25, 100] (NovaCron runbook, Step 4: Traffic Switch)
         */
        steps?: number[];
        /** @default { type: "replicas" } */
        router?: CanaryRouter;
    };
}

export type Track = "stable" | "canary";

/** Names of the Kubernetes objects a CanaryRelease of `name` creates. */
export function canaryNames(name: string): string[] {
    return [name, `${name}-canary`, `${name}-stable`];
}

/**
 * Every problem of the args, paths relative to them (what the constructor throws): the
 * workload's, the images, the plan (steps climbing to 100, the weight one of them or 0),
 * and — without a router — whether the pods can honour each step.
 */
export function canaryProblems(args: CanaryReleaseArgs, extraNames: string[] = []): Problem[] {
    const out = [...workloadProblems(args, [...canaryNames(args.name), ...extraNames])];
    out.push(...imageProblems(["image"], args.image), ...imageProblems(["canary", "image"], args.canary.image));
    const c = args.canary;
    const steps = c.steps ?? DEFAULT_CANARY_STEPS;
    const increasing = steps.every((w, i) => i === 0 || w > steps[i - 1]);
    if (steps.length === 0 || !increasing || steps[steps.length - 1] !== 100) {
        out.push({
            path: ["canary", "steps"],
            message: `expected strictly increasing weights ending at 100, got ${describeValue(steps)}`,
        });
        return out;
    }
    if (c.weight !== 0 && !steps.includes(c.weight))
        out.push({
            path: ["canary", "weight"],
            message: `expected 0 (abort) or a step of the plan [${steps.join(", ")}], got ${c.weight}`,
        });
    if ((c.router?.type ?? "replicas") === "replicas")
        out.push(...replicaRouterProblems(steps, args.replicas ?? DEFAULT_REPLICAS));
    return out;
}

/** Without a router, pods are the only lever: each step must be honoured within WEIGHT_TOLERANCE. */
function replicaRouterProblems(steps: readonly number[], pods: number): Problem[] {
    if (pods < 2)
        return [
            {
                path: ["replicas"],
                message: `expected at least 2 to split traffic by replicas (one stable pod, one canary pod), got ${pods}`,
            },
        ];
    const out: Problem[] = [];
    steps.forEach((w, i) => {
        if (w >= 100) return;
        const split = replicaSplit(w, pods);
        if (Math.abs(split.percent - w) <= WEIGHT_TOLERANCE) return;
        const need = podsForWeight(w);
        out.push({
            path: ["canary", "steps", i],
            message:
                `expected a weight the replica router can honour within ${WEIGHT_TOLERANCE} percentage point with ${pods} pods, got ${w}: ` +
                `${pods} pods give ${+split.percent.toFixed(1)} % (${split.canary} of ${pods}); ${w} % needs ${need.exact} pods (${need.within} come within ${WEIGHT_TOLERANCE} point), ` +
                "or set canary.router to gatewayApi or nginx",
        });
    });
    return out;
}
