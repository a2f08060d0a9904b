// The refuse-drill-settings-in-updates policy: the settable clock and pull-request mode
// never reach an update that changes a cluster.
import { refuseDrillSettingsInUpdates } from "../../policies/enforce-deploy-gate";
import { drillSettings } from "../../policies/settings";
import { runResourcePolicy } from "./util";

describe("refuse-drill-settings-in-updates", () => {
    const cluster = { type: "pulumi:providers:kubernetes", props: { kubeconfig: ".cluster/kubeconfig" } };
    const render = { type: "pulumi:providers:kubernetes", props: { renderYamlToDirectory: "rendered/local" } };
    const deployment = { type: "kubernetes:apps/v1:Deployment", props: { metadata: { name: "api" } } };
    const update = { PULUMI_DRY_RUN: "false" };
    const refused = (env: NodeJS.ProcessEnv, r: Parameters<typeof runResourcePolicy>[1]) =>
        runResourcePolicy(refuseDrillSettingsInUpdates(env), r);

    test("names what is set, why, and what to do instead", () => {
        expect(drillSettings({ RUNBOOK_NOW: "2026-11-26T15:55:00Z", RUNBOOK_DEPLOY_MODE: "pull-request" })).toEqual([
            "RUNBOOK_NOW=2026-11-26T15:55:00Z",
            "RUNBOOK_DEPLOY_MODE=pull-request",
        ]);
        expect(drillSettings({ RUNBOOK_NOW: "", RUNBOOK_DEPLOY_MODE: "deploy" })).toEqual([]);
    });

    test("an update refuses the cluster's provider and every resource it manages", async () => {
        const env = { ...update, RUNBOOK_NOW: "2026-11-26T15:55:00Z" };
        const v = await refused(env, cluster);
        expect(v.map((x) => x.message)).toEqual([
            "RUNBOOK_NOW=2026-11-26T15:55:00Z is set in the environment: the settable clock and pull-request mode are for previews and drills only, never for an update that changes a cluster. Unset RUNBOOK_NOW; a drill on a cluster sets its clock in the policy config (enforce-deploy-gate.now), which the platform team owns.",
        ]);
        expect(await refused(env, { ...deployment, provider: cluster })).toHaveLength(1);
        expect(
            await refused({ ...update, RUNBOOK_DEPLOY_MODE: "pull-request" }, { ...deployment, provider: cluster }),
        ).toEqual([{ message: expect.stringMatching(/^RUNBOOK_DEPLOY_MODE=pull-request is set/) }]);
        // An engine that does not say whether it previews gets the strict side.
        expect(await refused({ RUNBOOK_NOW: "2026-11-26T15:55:00Z" }, cluster)).toHaveLength(1);
    });

    test("previews, render-only stacks, the stack and its components keep them", async () => {
        const env = { RUNBOOK_NOW: "2026-11-26T15:55:00Z", RUNBOOK_DEPLOY_MODE: "pull-request" };
        expect(await refused({ ...env, PULUMI_DRY_RUN: "true" }, { ...deployment, provider: cluster })).toEqual([]);
        expect(await refused({ ...env, ...update }, render)).toEqual([]);
        expect(await refused({ ...env, ...update }, { ...deployment, provider: render })).toEqual([]);
        expect(await refused({ ...env, ...update }, { type: "pulumi:pulumi:Stack", props: {} })).toEqual([]);
        expect(await refused({ ...env, ...update }, { type: "runbook:index:BlueGreenDeployment", props: {} })).toEqual(
            [],
        );
        // A stack reference reads state through the engine's own provider.
        expect(
            await refused(
                { ...env, ...update },
                {
                    type: "pulumi:pulumi:StackReference",
                    props: {},
                    provider: { type: "pulumi:providers:pulumi", props: {} },
                },
            ),
        ).toEqual([]);
        expect(await refused(update, { ...deployment, provider: cluster })).toEqual([]);
    });
});
