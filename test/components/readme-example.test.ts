// The example program of components/README.md, run as written through
// Pulumi's mocks: the components with a handful of fields and no stack config of ours.
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { byName, installMocks, ofType, promiseOf, registered } from "../util/mocks";
import { docExample, LIBRARY_MANUAL, PACKAGE_NAME } from "../util/readme";

installMocks();

/** Runs the example as a CommonJS module whose import of the package is the entry point. */
async function runExample(source: string): Promise<Record<string, unknown>> {
    const js = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const created: pulumi.Resource[] = [];
    const record: pulumi.ResourceTransformation = (args) => {
        created.push(args.resource);
        return undefined;
    };
    const requireFor = (id: string) =>
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        id === PACKAGE_NAME ? require("../../components/index") : require(id);
    // As the language host runs a program: inside a root stack, whose outputs are the module's exports.
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
        // Every resource the example creates is recorded as it is constructed.
        pulumi.runtime.registerStackTransformation(record);
        const exports: Record<string, unknown> = {};
        new Function("require", "exports", "module", js)(requireFor, exports, { exports });
        return exports;
    });
    await Promise.all(created.map((r) => promiseOf(r.urn)));
    return outputs ?? {};
}

const spec = (name: string) => byName(name).inputs.spec;
const container = (name: string) => spec(name).template.spec.containers[0];

describe("the example program of components/README.md", () => {
    let outputs: Record<string, unknown>;
    beforeAll(async () => {
        outputs = await runExample(docExample(LIBRARY_MANUAL));
    });

    test("its exports are the live colour and the canary's weight", () => {
        expect(outputs).toEqual({ liveColor: "green", canaryWeight: 25 });
    });

    test("blue/green: both colours run, green with 4 pods and the new image, blue keeps 4 for a rollback", () => {
        expect(container("web-green").image).toBe("ghcr.io/acme/web:1.5.0");
        expect(container("web-blue").image).toBe("ghcr.io/acme/web:1.4.0");
        expect(spec("web-green").replicas).toBe(4);
        expect(spec("web-blue").replicas).toBe(4);
        expect(spec("web-active").selector["runbook.dev/color"]).toBe("green");
        expect(byName("web-active").inputs.metadata.name).toBe("web");
    });

    test("blue/green: each colour's smoke test GETs /api/health through that colour's Service", () => {
        const jobs = ofType("kubernetes:batch/v1:Job").filter((j) => j.name.startsWith("web-smoke-"));
        expect(jobs.map((j) => j.name).sort()).toEqual(["web-smoke-blue", "web-smoke-green"]);
        const script = byName("web-smoke-green").inputs.spec.template.spec.containers[0].args[0];
        expect(script).toContain("http://web-green.shop.svc.cluster.local:80");
        expect(script).toContain("/api/health");
    });

    test("canary: an HTTPRoute splits 75/25, the canary runs the new image", () => {
        const route = byName("api-route").inputs;
        expect(route.spec.parentRefs).toEqual([{ name: "public", namespace: "gateway-system" }]);
        expect(route.spec.rules[0].backendRefs).toEqual([
            { name: "api", port: 80, weight: 75 },
            { name: "api-canary", port: 80, weight: 25 },
        ]);
        expect(container("api-canary").image).toBe("ghcr.io/acme/api:2.1.0");
        expect(container("api-stable").image).toBe("ghcr.io/acme/api:2.0.3");
    });

    test("the probe given replaces the default; the one not given keeps it", () => {
        expect(container("api-stable").readinessProbe).toEqual({
            httpGet: { path: "/ready", port: 3000 },
            periodSeconds: 5,
        });
        expect(container("api-stable").livenessProbe).toEqual({
            httpGet: { path: "/api/health", port: 3000 },
            initialDelaySeconds: 30,
            periodSeconds: 10,
            failureThreshold: 3,
        });
    });

    test("nothing else: two strategies' objects and no autoscaler, backup or provider of ours", () => {
        const kinds = registered.map((r) => r.type).filter((t) => t.startsWith("kubernetes:"));
        expect(kinds.filter((t) => t.includes("HorizontalPodAutoscaler") || t.includes("CronJob"))).toEqual([]);
        expect(
            registered
                .filter((r) => r.type.startsWith("runbook:"))
                .map((r) => r.type)
                .sort(),
        ).toEqual(["runbook:deploy:BlueGreenDeployment", "runbook:deploy:CanaryRelease"]);
    });
});
