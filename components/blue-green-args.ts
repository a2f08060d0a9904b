// What a BlueGreenDeployment takes and the checks it makes on it, with no Pulumi runtime: the config
// parser and the commands run these checks without loading the SDKs.
import type * as pulumi from "@pulumi/pulumi";
import type { Color } from "./labels";
import { imageProblems, type Problem } from "./checks";
import { workloadProblems, type WorkloadArgs } from "./workload-args";

/** Smoke tests against the idle colour before the switch (NovaCron runbook, Step 3: Green Environment Validation). */
export const SMOKE_TEST_DEFAULTS = {
    enabled: true,
    /** ours: a pinned curl image. */
    image: "curlimages/curl:8.11.1",
    /** ours: the smoke Job's deadline, seconds. */
    timeoutSeconds: 300,
} as const;

export interface BlueGreenDeploymentArgs extends WorkloadArgs {
    /** The colour that serves traffic once this update is done; flip it back to roll back. */
    activeColor: Color;
    /** Each colour's image, with a tag or digest (or another resource's output). */
    images: Record<Color, pulumi.Input<string>>;
    /**
     * Pods kept on the colour that is not live, for a rollback; 0 frees them.
     * @default replicas
     */
    idleReplicas?: number;
    /**
     * The colour that was live before this update (the last deployment's), if any. With
     * `autoscaled`, a colour that stays live keeps the replica count its autoscaler gave it.
     */
    liveBefore?: Color;
    /**
     * Paths the smoke test GETs through the colour's own Service before the switch (any non-2xx fails).
     * @default ["/api/health"]
     */
    healthEndpoints?: string[];
    /**
     * The smoke-test Job run against the colour going live.
     * @default { enabled: true, image: "curlimages/curl:8.11.1", timeoutSeconds: 300 }
     */
    smokeTest?: { enabled?: boolean; image?: string; timeoutSeconds?: number };
}

export const COLORS: readonly Color[] = ["blue", "green"];

/** Names of the Kubernetes objects a BlueGreenDeployment of `name` creates (the smoke Job's digest as zeros). */
export function blueGreenNames(name: string, smokeTest = true): string[] {
    const names = [name, `${name}-preview`, `${name}-green`, `${name}-blue`];
    if (smokeTest) names.push(`${name}-smoke-green-00000000`);
    return names;
}

/** Every problem of the args, paths relative to them (what the constructor throws). */
export function blueGreenProblems(args: BlueGreenDeploymentArgs, extraNames: string[] = []): Problem[] {
    const names = [...blueGreenNames(args.name, args.smokeTest?.enabled ?? SMOKE_TEST_DEFAULTS.enabled), ...extraNames];
    const out = [...workloadProblems(args, names)];
    for (const color of COLORS) out.push(...imageProblems(["images", color], args.images[color]));
    if (args.idleReplicas !== undefined && !(Number.isInteger(args.idleReplicas) && args.idleReplicas >= 0))
        out.push({ path: ["idleReplicas"], message: `expected an integer of at least 0, got ${args.idleReplicas}` });
    return out;
}
