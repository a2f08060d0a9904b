// AlertRules checks what it is given when it is built, so a bad rule fails the preview.
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../util/mocks";

installMocks();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AlertRules } = require("../../components/alert-rules") as typeof import("../../components/alert-rules");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkPromQL } = require("../../components/promql") as typeof import("../../components/promql");

const rule = (
    expr: string,
    annotations: Record<string, string> = { summary: "s", runbook_url: "https://r.example/#x" },
) => ({
    alert: "HighErrors",
    expr,
    labels: { severity: "critical" },
    annotations,
});

test("a program's own rules, given as a list, are parsed by the component itself", () => {
    const build = () =>
        new AlertRules("theirs", {
            namespace: "ns",
            name: "theirs",
            groupName: "g",
            labels: {},
            rules: [rule('rate(http_requests_total{code=~"5.."}[5m] > 1')],
        });
    expect(build).toThrow(pulumi.ResourceError);
    expect(build).toThrow("alert 'HighErrors': invalid PromQL at character 46:");
});

test("a rule whose PromQL does not parse fails the component with the rule's name and position", () => {
    const build = () =>
        new AlertRules("bad", {
            namespace: "ns",
            name: "bad",
            groupName: "g",
            labels: {},
            rules: () => {
                const r = rule("sum(rate(http_requests_total[5m]) > 0.01");
                checkPromQL(r.alert, r.expr);
                return [r];
            },
        });
    expect(build).toThrow(pulumi.ResourceError);
    expect(build).toThrow(
        "alert 'HighErrors': invalid PromQL at character 41:\nsum(rate(http_requests_total[5m]) > 0.01\n" +
            " ".repeat(40) +
            "^",
    );
});

test("a rule without runbook_url is refused", () => {
    expect(
        () =>
            new AlertRules("nourl", {
                namespace: "ns",
                name: "n",
                groupName: "g",
                labels: {},
                rules: [rule("up == 0", { summary: "s" })],
            }),
    ).toThrow("alert 'HighErrors' must have annotation 'runbook_url'");
});
