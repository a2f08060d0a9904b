// The library as another team gets it: `npm pack`, the tarball installed into a scratch
// Pulumi program next to its own @pulumi/pulumi and @pulumi/kubernetes, type-checked
// strictly against the built declarations, and the example program of components/README.md run by the
// real engine on the live local cluster — read back from the API server.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Kubectl } from "../../commands/kube";
import { docExample, LIBRARY_MANUAL, PACKAGE_NAME } from "../util/readme";
import { ROOT } from "../util/stack";
import { clusterKubeconfig, kubectl } from "./cluster";
import { expectOk, toolchainReady, Workspace } from "./engine";

jest.setTimeout(600_000);

const NS = "e2e-package";
const STACK = "consumer";
let ws: Workspace;
let k: Kubectl;
let program: string;
let env: Record<string, string>;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    k = kubectl();
    ws = new Workspace("package");
    env = { KUBECONFIG: clusterKubeconfig() };

    // The tarball, exactly as `npm publish` would upload it (prepack builds dist/).
    const tarball = ws.pack(["-w", "components"], ws.dir);

    const own = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    program = path.join(ws.dir, "consumer");
    fs.mkdirSync(program);
    fs.writeFileSync(
        path.join(program, "package.json"),
        JSON.stringify({
            name: "consumer",
            private: true,
            dependencies: {
                [PACKAGE_NAME]: `file:${tarball}`,
                "@pulumi/pulumi": own.devDependencies["@pulumi/pulumi"],
                "@pulumi/kubernetes": own.devDependencies["@pulumi/kubernetes"],
                typescript: own.devDependencies.typescript,
                "@types/node": own.devDependencies["@types/node"],
            },
        }),
    );
    fs.writeFileSync(path.join(program, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
    fs.writeFileSync(
        path.join(program, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: {
                strict: true,
                target: "es2022",
                module: "nodenext",
                moduleResolution: "nodenext",
                skipLibCheck: true,
                types: ["node"],
            },
            include: ["index.ts"],
        }),
    );
    const example = docExample(LIBRARY_MANUAL);
    if (!example.includes('const namespace = "shop";'))
        throw new Error(`the example of ${LIBRARY_MANUAL} no longer sets its namespace`);
    fs.writeFileSync(
        path.join(program, "index.ts"),
        example.replace('const namespace = "shop";', `const namespace = "${NS}";`),
    );

    ws.installFromCache(program);
    k.run(["create", "namespace", NS]);
});

afterAll(() => {
    k?.run(["delete", "namespace", NS, "--ignore-not-found", "--wait=false"]);
    ws?.pulumi(["stack", "rm", STACK, "--yes", "--force"], env, program);
});

test("the tarball holds the built library, its manual and its shared modules, none of the program", () => {
    const installed = path.join(program, "node_modules", PACKAGE_NAME);
    // README.md is components/README.md, the library's manual.
    for (const f of [
        "dist/components/index.js",
        "dist/components/index.d.ts",
        "dist/components/backup-job.js",
        "dist/policies/routers/index.js",
        "package.json",
        "README.md",
    ])
        expect(fs.existsSync(path.join(installed, f))).toBe(true);
    for (const f of ["index.ts", "dist/config", "dist/program", "dist/lib", "dist/commands", "dist/policies/index.js"])
        expect(fs.existsSync(path.join(installed, f))).toBe(false);
    expect(fs.readdirSync(installed).sort()).toEqual(["README.md", "dist", "package.json"]);
    // One @pulumi/pulumi for the program and the library: a second copy could not register resources.
    expect(fs.existsSync(path.join(installed, "node_modules", "@pulumi", "pulumi"))).toBe(false);
});

test("the example type-checks strictly against the package's declarations, and a wrong field does not", () => {
    const tsc = path.join(program, "node_modules", ".bin", "tsc");
    expectOk(ws.exec(tsc, ["--noEmit", "-p", "."], {}, program));
    const bad = path.join(program, "bad.ts");
    fs.writeFileSync(
        bad,
        `import { CanaryRelease } from "${PACKAGE_NAME}";\n` +
            `new CanaryRelease("x", { name: "x", namespace: "n", environment: "e", image: "a:1", canary: { image: "a:2", weight: "25" } });\n`,
    );
    const r = ws.exec(tsc, ["--noEmit", "--strict", "--module", "nodenext", "--skipLibCheck", bad], {}, program);
    fs.rmSync(bad);
    expect(r.code).not.toBe(0);
    expect(r.all).toMatch(/bad\.ts.*Type 'string' is not assignable to type 'number'/s);
});

test("pulumi up runs the example on the live cluster: the API server holds both strategies' objects", () => {
    ws.initStack(STACK, program, env);
    expectOk(ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview"], env, program));

    const deployments = k.list<any>("deployments", NS);
    const images = Object.fromEntries(
        deployments.map((d) => [d.metadata.name, [d.spec.template.spec.containers[0].image, d.spec.replicas]]),
    );
    expect(images).toEqual({
        "web-blue": ["ghcr.io/acme/web:1.4.0", 4],
        "web-green": ["ghcr.io/acme/web:1.5.0", 4],
        "api-stable": ["ghcr.io/acme/api:2.0.3", 2],
        "api-canary": ["ghcr.io/acme/api:2.1.0", 1],
    });
    const web = k.get<any>(["service", "web", "-n", NS]);
    expect(web.spec.selector["runbook.dev/color"]).toBe("green");
    const route = k.get<any>(["httproute", "api", "-n", NS]);
    expect(route.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([
        ["api", 75],
        ["api-canary", 25],
    ]);
    const smoke = k.list<any>("jobs", NS).map((j) => j.metadata.name);
    expect(smoke.filter((n) => n.startsWith("web-smoke-green-"))).toHaveLength(1);

    const outputs = JSON.parse(ws.pulumi(["stack", "output", "--json", "--stack", STACK], env, program).stdout);
    expect(outputs).toEqual({ liveColor: "green", canaryWeight: 25 });
});
