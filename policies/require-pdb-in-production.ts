import * as k8s from "@pulumi/kubernetes";
import type { StackValidationPolicy } from "@pulumi/policy";
import { describe, environmentOf, metadata, ofClass } from "./resources";

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export const requirePdbInProduction: StackValidationPolicy = {
    name: "require-pdb-in-production",
    description:
        "Every production Deployment's pods are covered by a PodDisruptionBudget, so node drains cannot take a service down.",
    validateStack: (args, reportViolation) => {
        const pdbs = ofClass(args.resources, k8s.policy.v1.PodDisruptionBudget);
        for (const d of ofClass(args.resources, k8s.apps.v1.Deployment)) {
            if (environmentOf(d.props) !== "production") continue;
            const podLabels = d.props.spec?.template?.metadata?.labels ?? {};
            const ns = metadata(d.props).namespace;
            const covered = pdbs.some(
                (p) =>
                    metadata(p.props).namespace === ns && selects(p.props.spec?.selector?.matchLabels ?? {}, podLabels),
            );
            if (!covered)
                reportViolation(
                    `${describe(d.resource.type, d.props, d.resource.name)} has no PodDisruptionBudget ` +
                        `selecting its pods; give every production Deployment one (the runbook components do: AppService).`,
                    d.resource.urn,
                );
        }
    },
};
