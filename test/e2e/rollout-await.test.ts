// What `pulumi up` waits for when a Deployment of ours goes back to an image it ran before:
// its whole rollout, as for a new image. A CI run showed why it is worth a test: a blue/green
// switch to a colour put back on its earlier image sent requests to the colour's pods of the
// image being replaced. The Kubernetes provider's await had taken a reused ReplicaSet at 0
// replicas, under the last rollout's "NewReplicaSetAvailable", for a finished rollout; it
// sees that when it watches before the controller acts, as on a loaded machine. Here the
// controller-manager is stopped for the first seconds of the update back to make that so.
//
// A small program of the library's RollingDeployment is enough: every strategy builds its
// Deployments the same way (components/workload.ts deploymentArgs). Its pods run on the real
// node, where readiness takes seconds (a probe after 5 s): a rollout that is not done shows.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { Kubectl } from "../../commands/kube";
import { ROOT } from "../util/stack";
import { clusterKubeconfig, eventually, kubectl, withControllersStopped } from "./cluster";
import { expectOk, toolchainReady, Workspace } from "./engine";

jest.setTimeout(300_000);

const NS = "e2e-rollout-await";
const STACK = "rollout";
const IMAGES = ["ghcr.io/acme/shop-api:1.41.2", "ghcr.io/acme/shop-api:1.42.0"];
let ws: Workspace;
let k: Kubectl;
let program: string;

/** Pulumi.local.yaml's runbook:scheduling: the cluster's real node. */
const REAL_NODE = parse(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")).config["runbook:scheduling"];

const PROGRAM = `import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { RollingDeployment } from "../components";

const config = new pulumi.Config();
const provider = new k8s.Provider("cluster", { kubeconfig: config.require("kubeconfig") });
const ns = new k8s.core.v1.Namespace("ns", { metadata: { name: "${NS}" } }, { provider });
new RollingDeployment(
    "api",
    {
        name: "api",
        namespace: ns.metadata.name,
        environment: "staging",
        image: config.require("image"),
        replicas: 1,
        port: 3000,
        drainSeconds: 0,
        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
        scheduling: ${JSON.stringify(REAL_NODE)},
    },
    { providers: [provider] },
);
`;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    // A namespace an earlier run left terminating would hold its Deployment.
    k.run(["delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
    ws = new Workspace("rollout-await");
    program = path.join(ws.dir, "rollout-program");
    fs.mkdirSync(program);
    fs.writeFileSync(path.join(program, "Pulumi.yaml"), "name: rollout-await\nruntime: nodejs\n");
    fs.writeFileSync(path.join(program, "index.ts"), PROGRAM);
    expectOk(ws.pulumi(["stack", "init", STACK], {}, program));
    expectOk(ws.pulumi(["config", "set", "kubeconfig", clusterKubeconfig()], {}, program));
});

afterAll(() => {
    k?.run(["delete", "namespace", NS, "--ignore-not-found", "--wait=false"]);
    ws?.pulumi(["stack", "rm", STACK, "--yes", "--force"], {}, program);
});

const generation = (): number | undefined => k.find("deployment", "api", NS)?.metadata.generation;

/** `pulumi up` with `image`; with the controller-manager stopped from before the engine's patch to 1 s after it. */
async function upTo(image: string, controllersLate: boolean) {
    expectOk(ws.pulumi(["config", "set", "image", image], {}, program));
    const up = () => ws.pulumiAsync(["up", "--yes", "--skip-preview"], program);
    if (!controllersLate) return up();
    const before = generation();
    let patchedAt: number | undefined;
    return withControllersStopped(() => {
        if (patchedAt === undefined && generation() !== before) patchedAt = Date.now();
        return patchedAt !== undefined && Date.now() - patchedAt > 1000;
    }, up);
}

const replicaSets = () => k.list("replicasets", NS, "app.kubernetes.io/name=api");
const imageOf = (rs: any): string => rs.spec.template.spec.containers[0].image;

/** Ready pods per image, over the Deployment's ReplicaSets (images with none left out). */
function readyByImage(): Record<string, number> {
    return Object.fromEntries(
        replicaSets()
            .filter((rs) => (rs.status.readyReplicas ?? 0) > 0)
            .map((rs) => [imageOf(rs), rs.status.readyReplicas]),
    );
}

test("a rollout over, the Deployment keeps no ReplicaSet of the image it replaced", async () => {
    const [a, b] = IMAGES;
    for (const image of [a, b]) {
        expectOk(await upTo(image, false));
        expect(readyByImage()).toEqual({ [image]: 1 });
    }
    // The controller removes it once the rollout is over (its pods gone), seconds later.
    await eventually(`only ${b}'s ReplicaSet`, () => (replicaSets().map(imageOf).join() === b ? true : undefined));
});

test("back to an image it ran before, pulumi up returns once every ready pod runs it, not at once", async () => {
    // The Deployment ran a, then b (the test before), and that rollout is over. Back to a,
    // with the engine watching before the controller acts.
    const a = IMAGES[0];
    await eventually("one ReplicaSet", () => (replicaSets().length === 1 ? true : undefined));
    expectOk(await upTo(a, true));
    expect(readyByImage()).toEqual({ [a]: 1 });
    const d = k.get(["deployment", "api", "-n", NS]);
    expect(d.status.observedGeneration).toBe(d.metadata.generation);
    expect(d.status.updatedReplicas).toBe(1);
});
