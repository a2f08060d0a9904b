import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkPromQL, PromQLError, type AlertRule } from "./promql";

export interface AlertRulesArgs {
    namespace: pulumi.Input<string>;
    /** metadata.name of the PrometheusRule. */
    name: string;
    groupName: string;
    /** Rules, or a function building them (its PromQL errors become this resource's errors). */
    rules: AlertRule[] | (() => AlertRule[]);
    labels: Record<string, string>;
}

/**
 * A prometheus-operator PrometheusRule carrying the runbooks' rollback triggers. Every
 * expression is parsed with Prometheus' grammar here, so a bad expression fails
 * `pulumi preview` with the rule's name and position.
 */
export class AlertRules extends pulumi.ComponentResource {
    public readonly rule: k8s.apiextensions.CustomResource;
    public readonly rules: AlertRule[];

    constructor(name: string, args: AlertRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("runbook:observe:AlertRules", name, {}, opts);
        try {
            this.rules = typeof args.rules === "function" ? args.rules() : args.rules;
            for (const r of this.rules) checkPromQL(r.alert, r.expr);
        } catch (e) {
            if (e instanceof PromQLError) throw new pulumi.ResourceError(e.message, this);
            throw e;
        }
        for (const r of this.rules) {
            for (const k of ["severity"])
                if (!r.labels[k]) throw new pulumi.ResourceError(`alert '${r.alert}' must have label '${k}'`, this);
            for (const k of ["summary", "runbook_url"])
                if (!r.annotations[k])
                    throw new pulumi.ResourceError(`alert '${r.alert}' must have annotation '${k}'`, this);
        }
        this.rule = new k8s.apiextensions.CustomResource(
            `${name}-rule`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
                spec: { groups: [{ name: args.groupName, rules: this.rules }] },
            },
            { parent: this },
        );
        this.registerOutputs({ alerts: this.rules.map((r) => r.alert) });
    }
}
