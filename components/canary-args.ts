// What a CanaryRelease takes and the checks it makes on it, with no Pulumi runtime: the config
// parser and the commands run these checks without loading the SDKs.
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_ROUTER, routerOf, routerSchema, type RouterConfig, type RouterInput } from "../policies/routers";
import { describeValue, imageProblems, type Problem } from "./checks";
import { DEFAULT_REPLICAS, workloadProblems, type WorkloadArgs } from "./workload-args";

/**
 * Canary traffic steps, percent, when args name none (NovaCron runbook, Step 4: Traffic
 * Switch; DOC-0020 runbook, Deployment Checklist: Production Deployment).
 */
export const DEFAULT_CANARY_STEPS: readonly number[] = [5, 25, 100];

/** How traffic is split between the stable and the canary track: a router's settings (policies/routers). */
export type CanaryRouter = RouterInput;

export interface CanaryReleaseArgs extends WorkloadArgs {
    /** The stable track's image, with a tag or digest (or another resource's output). */
    image: pulumi.Input<string>;
    canary: {
        /** The image under test. */
        image: pulumi.Input<string>;
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
 * the router's settings, and what the router cannot honour (the replica router: whole pods).
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
    const router = parsedRouter(c.router);
    if (router.problems.length > 0) out.push(...router.problems);
    else out.push(...routerOf(router.config).problems({ steps, replicas: args.replicas ?? DEFAULT_REPLICAS }));
    return out;
}

/** The router's settings with their defaults, or what is wrong with them (paths from the args). */
export function parsedRouter(input: CanaryRouter | undefined): { config: RouterConfig; problems: Problem[] } {
    const parsed = routerSchema.safeParse(input ?? DEFAULT_ROUTER);
    if (parsed.success) return { config: parsed.data, problems: [] };
    const problems = parsed.error.issues.map((i) => ({
        path: ["canary", "router", ...i.path],
        message: `${i.message}, got ${describeValue(valueAt(input, i.path))}`,
    }));
    return { config: DEFAULT_ROUTER, problems };
}

const valueAt = (v: unknown, path: PropertyKey[]): unknown =>
    path.reduce<unknown>(
        (o, k) => (o !== null && typeof o === "object" ? (o as Record<PropertyKey, unknown>)[k] : undefined),
        v,
    );
