// Where a component's pods may run: Kubernetes' own node selector and tolerations, set on
// every pod template the component makes (Deployments, smoke-test and backup Jobs), so a
// stack's pods land together on the nodes meant for them.
import type * as k8s from "@pulumi/kubernetes";
import type { Problem } from "./checks";

export interface PodScheduling {
    /** Labels a node must carry (`spec.nodeSelector`). */
    nodeSelector?: Record<string, string>;
    /** Taints the pods tolerate (`spec.tolerations`). */
    tolerations?: k8s.types.input.core.v1.Toleration[];
}

const EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/**
 * The pod-spec fields of `s`. Empty when it sets nothing: a component without scheduling
 * renders exactly as before it had any.
 */
export function schedulingFields(
    s: PodScheduling | undefined,
): Pick<k8s.types.input.core.v1.PodSpec, "nodeSelector" | "tolerations"> {
    const out: Pick<k8s.types.input.core.v1.PodSpec, "nodeSelector" | "tolerations"> = {};
    if (s?.nodeSelector !== undefined && Object.keys(s.nodeSelector).length > 0) out.nodeSelector = s.nodeSelector;
    if (s?.tolerations !== undefined && s.tolerations.length > 0) out.tolerations = s.tolerations;
    return out;
}

/** What the API server would refuse in a toleration, each with its path under `path`. */
export function schedulingProblems(s: PodScheduling | undefined, path: PropertyKey[]): Problem[] {
    const out: Problem[] = [];
    (s?.tolerations ?? []).forEach((t, i) => {
        const at = [...path, "tolerations", i];
        const { operator, value, effect, key } = t as {
            operator?: unknown;
            value?: unknown;
            effect?: unknown;
            key?: unknown;
        };
        if (operator !== undefined && typeof operator === "string" && !["Equal", "Exists"].includes(operator))
            out.push({
                path: [...at, "operator"],
                message: `expected 'Equal' or 'Exists', got ${JSON.stringify(operator)}`,
            });
        if (operator === "Exists" && typeof value === "string" && value !== "")
            out.push({
                path: [...at, "value"],
                message: `expected no value with operator 'Exists' (it tolerates every value), got ${JSON.stringify(value)}`,
            });
        if ((operator === undefined || operator === "Equal") && (key === undefined || key === ""))
            out.push({
                path: [...at, "key"],
                message: "expected a taint key (only operator 'Exists' may leave it out)",
            });
        if (effect !== undefined && typeof effect === "string" && effect !== "" && !EFFECTS.includes(effect))
            out.push({
                path: [...at, "effect"],
                message: `expected one of ${EFFECTS.map((e) => `'${e}'`).join(", ")}, got ${JSON.stringify(effect)}`,
            });
    });
    return out;
}
