import type { StackValidationPolicy } from "@pulumi/policy";
import { COLOR_LABEL } from "../lib/labels";
import { describe, metadata, T } from "./resources";

export const requireLiveActiveColor: StackValidationPolicy = {
    name: "require-live-active-color",
    description: "A blue/green Service selects a colour whose Deployment exists with replicas > 0, so a switch never points traffic at nothing.",
    validateStack: (args, reportViolation) => {
        const deployments = args.resources.filter((r) => r.type === T.deployment);
        for (const svc of args.resources.filter((r) => r.type === T.service && r.props?.spec?.selector?.[COLOR_LABEL] !== undefined)) {
            const selector: Record<string, string> = svc.props.spec.selector;
            const ns = metadata(svc.props).namespace;
            const color = selector[COLOR_LABEL];
            const target = deployments.find(
                (d) => metadata(d.props).namespace === ns && Object.entries(selector).every(([k, v]) => d.props?.spec?.template?.metadata?.labels?.[k] === v),
            );
            const what = describe(svc.type, svc.props, svc.name);
            if (!target) reportViolation(`${what} selects colour '${color}' but no Deployment in ${ns} has those pod labels; deploy that colour before switching activeColor.`, svc.urn);
            else if ((target.props?.spec?.replicas ?? 1) <= 0)
                reportViolation(`${what} selects colour '${color}' but ${describe(target.type, target.props, target.name)} has 0 replicas; scale it up before switching (blueGreen.idleReplicas).`, svc.urn);
        }
    },
};
