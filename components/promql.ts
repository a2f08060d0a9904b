// Prometheus alert rules as the AlertRules component takes them, checked with Prometheus' own
// grammar (@prometheus-io/lezer-promql) before anything is deployed.
import { parser } from "@prometheus-io/lezer-promql";

export interface AlertRule {
    alert: string;
    expr: string;
    for?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

export class PromQLError extends Error {}

/** Throws PromQLError naming the rule and the position of the first syntax error. */
export function checkPromQL(name: string, expr: string): void {
    const tree = parser.parse(expr);
    let errorAt: number | undefined;
    tree.iterate({
        enter: (node) => {
            if (node.type.isError && errorAt === undefined) errorAt = node.from;
        },
    });
    if (errorAt !== undefined) {
        const marker = `${expr}\n${" ".repeat(errorAt)}^`;
        throw new PromQLError(`alert '${name}': invalid PromQL at character ${errorAt + 1}:\n${marker}`);
    }
}
