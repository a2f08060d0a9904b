import * as k8s from "@pulumi/kubernetes";
import type { StackValidationPolicy } from "@pulumi/policy";
import { COLOR_LABEL } from "./lib/well-known";
import { describe, metadata, ofClass } from "./resources";

export const requireLiveActiveColor: StackValidationPolicy = {
    name: "require-live-active-color",
    description:
        "A blue/green Service selects a colour whose Deployment exists with replicas > 0, so a switch never points traffic at nothing.",
    validateStack: (args, reportViolation) => {
        const deployments = ofClass(args.resources, k8s.apps.v1.Deployment);
        // A Service that is itself labelled with a colour is that colour's own address (for
        // its smoke test and people), not a switch: it may select a colour scaled to 0.
        const switches = ofClass(args.resources, k8s.core.v1.Service).filter(
            (s) =>
                s.props.spec?.selector?.[COLOR_LABEL] !== undefined &&
                metadata(s.props).labels[COLOR_LABEL] === undefined,
        );
        for (const svc of switches) {
            const selector: Record<string, string> = svc.props.spec?.selector ?? {};
            const ns = metadata(svc.props).namespace;
            const color = selector[COLOR_LABEL];
            const target = deployments.find(
                (d) =>
                    metadata(d.props).namespace === ns &&
                    Object.entries(selector).every(([k, v]) => d.props.spec?.template?.metadata?.labels?.[k] === v),
            );
            const what = describe(svc.resource.type, svc.props, svc.resource.name);
            if (!target)
                reportViolation(
                    `${what} selects colour '${color}' but no Deployment in ${ns} has those pod labels; deploy ` +
                        `that colour before switching activeColor.`,
                    svc.resource.urn,
                );
            else if ((target.props.spec?.replicas ?? 1) <= 0)
                reportViolation(
                    `${what} selects colour '${color}' but ` +
                        `${describe(target.resource.type, target.props, target.resource.name)} has 0 replicas; ` +
                        "scale it up before switching (blueGreen.idleReplicas).",
                    svc.resource.urn,
                );
        }
    },
};
