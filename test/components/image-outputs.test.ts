// Images given as another resource's output (a built image's digest, another stack's
// release): each strategy deploys them, labels its pods with their version once known, names
// the smoke Job after them, and refuses an unpinned one once it is known.
import * as pulumi from "@pulumi/pulumi";
import { byName, construct, installMocks, reset } from "../util/mocks";

installMocks();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require("../../components/index") as typeof import("../../components/index");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const workload = require("../../components/workload") as typeof import("../../components/workload");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const labels = require("../../components/labels") as typeof import("../../components/labels");

const base = { namespace: "apps", environment: "staging" };
const podOf = (name: string) => byName(name).inputs.spec.template;
const VERSION = "app.kubernetes.io/version";

test("RollingDeployment: the image and its version label come from the output", async () => {
    reset();
    await construct(
        (opts) =>
            new lib.RollingDeployment("r", { ...base, name: "api", image: pulumi.output("acme/api:1.7.0") }, opts),
    );
    expect(podOf("r-deployment").spec.containers[0].image).toBe("acme/api:1.7.0");
    expect(podOf("r-deployment").metadata.labels[VERSION]).toBe("1.7.0");
    expect(byName("r-deployment").inputs.metadata.labels[VERSION]).toBe("1.7.0");
});

test("BlueGreenDeployment: each colour's Deployment and the smoke Job named after the image it tests", async () => {
    reset();
    const images = { blue: pulumi.output("acme/web:1.0.0"), green: pulumi.output("acme/web:1.1.0") };
    await construct(
        (opts) => new lib.BlueGreenDeployment("w", { ...base, name: "web", activeColor: "green", images }, opts),
    );
    expect(podOf("w-green").spec.containers[0].image).toBe("acme/web:1.1.0");
    expect(podOf("w-blue").metadata.labels[VERSION]).toBe("1.0.0");
    // The same name as from a plain string: a rollback finds the Job that tested the colour.
    expect(byName("w-smoke-green").inputs.metadata.name).toBe(
        labels.smokeJobName("web", "green", "acme/web:1.1.0", ["/api/health"]),
    );
});

test("CanaryRelease: each track runs its image; at 100 the stable track takes the canary's", async () => {
    reset();
    const canary = {
        image: pulumi.output("acme/api:2.1.0"),
        weight: 100,
        router: { type: "gatewayApi" as const, gateway: { name: "public", namespace: "gateway-system" } },
    };
    await construct(
        (opts) =>
            new lib.CanaryRelease("c", { ...base, name: "api", image: pulumi.output("acme/api:2.0.0"), canary }, opts),
    );
    expect(podOf("c-stable").spec.containers[0].image).toBe("acme/api:2.1.0");
    expect(podOf("c-stable").metadata.labels[VERSION]).toBe("2.1.0");
});

test("an unpinned image from an output is the component's ResourceError once it is known", () => {
    // What checkedImage applies to the output's value: thrown inside the apply, it fails the
    // preview or update with the component named (tried with the real engine).
    const owner = new pulumi.ComponentResource("test:index:Owner", "owner");
    const check = workload.pinnedOrThrow(["canary", "image"], owner);
    expect(() => check("acme/api")).toThrow(pulumi.ResourceError);
    expect(() => check("acme/api")).toThrow(
        "'canary.image': expected an image reference with a tag or digest (repo/name:1.2.3 or repo/name@sha256:…), " +
            'got "acme/api"',
    );
    expect(check("acme/api:1.0.0")).toBe("acme/api:1.0.0");
});

test("checkedImage applies that check to an output: its value rejects with the component's error", async () => {
    const owner = new pulumi.ComponentResource("test:index:Owner", "owner");
    const checked = workload.checkedImage(pulumi.output("acme/api"), ["image"], owner) as unknown as {
        promise(): Promise<string>;
        isKnown: Promise<boolean>;
        isSecret: Promise<boolean>;
    };
    // Every promise of the Output is observed at once, so none rejects unhandled.
    const settled = await Promise.allSettled([checked.promise(), checked.isKnown, checked.isSecret]);
    const reasons = settled.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(reasons.length).toBeGreaterThan(0);
    for (const e of reasons) {
        expect(e).toBeInstanceOf(pulumi.ResourceError);
        expect((e as Error).message).toMatch(/^'image': expected an image reference with a tag or digest/);
    }
});
