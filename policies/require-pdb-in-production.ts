import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { describe, environmentOf, metadata, T } from "./resources";

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export const requirePdbInProduction: StackValidationPolicy = {
    name: "require-pdb-in-production",
    description:
        "Every production Deployment's pods are covered by a PodDisruptionBudget, so node drains cannot take a service down.",
    validateStack: (args, reportViolation) => {
        const pdbs = args.resources.filter((r) => r.type === T.pdb);
        for (const d of args.resources.filter(
            (r: PolicyResource) => r.type === T.deployment && environmentOf(r.props) === "production",
        )) {
            const podLabels = d.props?.spec?.template?.metadata?.labels ?? {};
            const ns = metadata(d.props).namespace;
            const covered = pdbs.some(
                (p) =>
                    metadata(p.props).namespace === ns &&
                    selects(p.props?.spec?.selector?.matchLabels ?? {}, podLabels),
            );
            if (!covered)
                reportViolation(
                    `${describe(d.type, d.props, d.name)} has no PodDisruptionBudget selecting its pods; production services get one from the program (AppService).`,
                    d.urn,
                );
        }
    },
};
