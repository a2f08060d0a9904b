// Each strategy component and the autoscaler from minimal args of their own: the documented
// defaults, and every problem their checks report (as functions, and as the ResourceError
// the constructor throws). No stack config is involved.
import * as pulumi from "@pulumi/pulumi";
import { byName, construct, installMocks, ofType, registered, reset } from "../util/mocks";

installMocks();
// Imported after the mocks are set, as a program would be.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require("../../components/index") as typeof import("../../components/index");

const base = { namespace: "apps", environment: "staging" };
const spec = (name: string) => byName(name).inputs.spec;
const container = (name: string) => spec(name).template.spec.containers[0];

describe("RollingDeployment", () => {
    beforeAll(async () => {
        reset();
        await construct(
            (opts) => new lib.RollingDeployment("r", { ...base, name: "api", image: "acme/api:1.0.0" }, opts),
        );
    });

    test("one Deployment and one Service, named after the app", () => {
        expect(ofType("kubernetes:apps/v1:Deployment").map((d) => d.inputs.metadata.name)).toEqual(["api"]);
        expect(ofType("kubernetes:core/v1:Service").map((d) => d.inputs.metadata.name)).toEqual(["api"]);
        expect(spec("r-svc").selector).toEqual(spec("r-deployment").selector.matchLabels);
    });

    test("every documented default: 2 pods, port 3000 behind 80, /api/health probes, 500m/512Mi, 25%/0, 600 s, 5 s drain", () => {
        const d = spec("r-deployment");
        // A stopping pod serves 5 s more before SIGTERM, and keeps Kubernetes' 30 s after it.
        expect(container("r-deployment").lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
        expect(d.template.spec.terminationGracePeriodSeconds).toBe(35);
        expect(d.replicas).toBe(2);
        expect(d.progressDeadlineSeconds).toBe(600);
        expect(d.strategy.rollingUpdate).toEqual({ maxSurge: "25%", maxUnavailable: 0 });
        const c = container("r-deployment");
        expect(c.ports).toEqual([{ name: "http", containerPort: 3000 }]);
        expect(c.env).toEqual([]);
        expect(c.resources).toEqual({
            requests: { cpu: "500m", memory: "512Mi" },
            limits: { cpu: "500m", memory: "512Mi" },
        });
        expect(c.livenessProbe).toEqual({
            httpGet: { path: "/api/health", port: 3000 },
            initialDelaySeconds: 30,
            periodSeconds: 10,
            failureThreshold: 3,
        });
        expect(c.readinessProbe).toEqual({
            httpGet: { path: "/api/health", port: 3000 },
            initialDelaySeconds: 5,
            periodSeconds: 5,
            failureThreshold: 3,
        });
        expect(c.startupProbe).toBeUndefined();
        expect(spec("r-svc").ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
        expect(byName("r-deployment").inputs.metadata.labels["app.kubernetes.io/part-of"]).toBe("api");
        expect(byName("r-deployment").inputs.metadata.labels["app.kubernetes.io/version"]).toBe("1.0.0");
    });
});

test("drainSeconds 0: no preStop hook, Kubernetes' own grace period", async () => {
    reset();
    await construct(
        (opts) =>
            new lib.RollingDeployment("d", { ...base, name: "api", image: "acme/api:1.0.0", drainSeconds: 0 }, opts),
    );
    expect(container("d-deployment").lifecycle).toBeUndefined();
    expect(spec("d-deployment").template.spec.terminationGracePeriodSeconds).toBeUndefined();
});

describe("BlueGreenDeployment from minimal args", () => {
    beforeAll(async () => {
        reset();
        await construct(
            (opts) =>
                new lib.BlueGreenDeployment(
                    "bg",
                    { ...base, name: "web", activeColor: "blue", images: { blue: "acme/web:2", green: "acme/web:1" } },
                    opts,
                ),
        );
    });

    test("idleReplicas defaults to replicas; both colours are smoke-tested with curl against /api/health", () => {
        expect(spec("bg-blue").replicas).toBe(2);
        expect(spec("bg-green").replicas).toBe(2);
        const job = byName("bg-smoke-blue").inputs;
        expect(job.spec.activeDeadlineSeconds).toBe(300);
        expect(job.spec.template.spec.containers[0].image).toBe("curlimages/curl:8.11.1");
        expect(job.spec.template.spec.containers[0].args[0]).toContain("/api/health");
        expect(ofType("kubernetes:batch/v1:Job")).toHaveLength(2);
    });

    test("the active Service switches only after the live colour's Deployment (and smoke Job) — its selector is blue", () => {
        expect(spec("bg-active").selector["runbook.dev/color"]).toBe("blue");
        expect(spec("bg-preview").selector["runbook.dev/color"]).toBe("blue");
    });
});

describe("BlueGreenDeployment without a smoke test and with no idle pods", () => {
    test("creates no smoke Job at all, and scales the idle colour to 0", async () => {
        reset();
        await construct(
            (opts) =>
                new lib.BlueGreenDeployment(
                    "bg0",
                    {
                        ...base,
                        name: "web",
                        activeColor: "green",
                        images: { blue: "acme/web:1", green: "acme/web:2" },
                        idleReplicas: 0,
                        smokeTest: { enabled: false },
                    },
                    opts,
                ),
        );
        expect(ofType("kubernetes:batch/v1:Job")).toEqual([]);
        expect(spec("bg0-blue").replicas).toBe(0);
        expect(registered.filter((r) => r.type.startsWith("kubernetes:"))).toHaveLength(6);
    });
});

describe("CanaryRelease from minimal args", () => {
    test("splits by replicas by default: steps 5/25/100 need pods; at 50 % with 4 pods, 2 and 2", async () => {
        reset();
        const c = await construct(
            (opts) =>
                new lib.CanaryRelease(
                    "c",
                    {
                        ...base,
                        name: "api",
                        replicas: 4,
                        image: "acme/api:1",
                        canary: { image: "acme/api:2", weight: 50, steps: [50, 100] },
                    },
                    opts,
                ),
        );
        expect(c.plan).toMatchObject({ canaryReplicas: 2, stableReplicas: 2, canaryWeight: 50, phase: "progressing" });
        expect(spec("c-svc").selector).not.toHaveProperty("runbook.dev/track");
        expect(ofType("kubernetes:networking.k8s.io/v1:Ingress")).toEqual([]);
        expect(byName("c-stable").inputs.metadata.annotations["runbook.dev/canary-weight"]).toBe("50");
    });

    test("nginx router: ingress class nginx and path / by default", async () => {
        reset();
        await construct(
            (opts) =>
                new lib.CanaryRelease(
                    "n",
                    {
                        ...base,
                        name: "api",
                        image: "acme/api:1",
                        canary: { image: "acme/api:2", weight: 25, router: { type: "nginx", host: "api.example" } },
                    },
                    opts,
                ),
        );
        const canary = byName("n-canary-ingress").inputs;
        expect(canary.spec.ingressClassName).toBe("nginx");
        expect(canary.spec.rules[0].http.paths[0].path).toBe("/");
        expect(canary.metadata.annotations["nginx.ingress.kubernetes.io/canary-weight"]).toBe("25");
    });
});

describe("Autoscaler from minimal args", () => {
    test("targets 70 % CPU, stabilises scale-down over 300 s, no memory metric", async () => {
        reset();
        await construct(
            (opts) =>
                new lib.Autoscaler(
                    "a",
                    { namespace: "apps", name: "api", targetDeployment: "api", minReplicas: 2, maxReplicas: 5 },
                    opts,
                ),
        );
        const hpa = spec("a-hpa");
        expect(hpa.metrics).toEqual([
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        ]);
        expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
        expect(byName("a-hpa").inputs.metadata.labels).toEqual({});
    });
});

// Every problem the checks report, as the exported function returns it and as the
// constructor throws it (one ResourceError naming the field).
type Case = [
    title: string,
    make: () => unknown,
    problems: () => { path: PropertyKey[]; message: string }[],
    field: string,
    message: RegExp,
];
const bgArgs = {
    ...base,
    name: "web",
    activeColor: "blue" as const,
    images: { blue: "acme/web:2", green: "acme/web:1" },
};
const canaryArgs = {
    ...base,
    name: "api",
    replicas: 4,
    image: "acme/api:1",
    canary: { image: "acme/api:2", weight: 25, steps: [25, 50, 100] },
};
const rollingArgs = { ...base, name: "api", image: "acme/api:1" };
const hpaArgs = { namespace: "apps", name: "api", targetDeployment: "api", minReplicas: 2, maxReplicas: 5 };
const bg = (change: object) => ({ ...bgArgs, ...change });
const canary = (change: object) => ({ ...canaryArgs.canary, ...change });
const cases: Case[] = [
    [
        "a name that does not start with a letter",
        () => new lib.RollingDeployment("x", { ...rollingArgs, name: "1api" }),
        () => lib.rollingProblems({ ...rollingArgs, name: "1api" }),
        "name",
        /starting with a letter/,
    ],
    [
        "a name whose derived names pass 63 characters",
        () => new lib.BlueGreenDeployment("x", bg({ name: "w".repeat(45) })),
        () => lib.blueGreenProblems(bg({ name: "w".repeat(45) })),
        "name",
        /at most 42 characters .*-smoke-green-00000000/,
    ],
    [
        "requests above limits",
        () =>
            new lib.RollingDeployment("x", {
                ...rollingArgs,
                resources: { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
            }),
        () =>
            lib.rollingProblems({
                ...rollingArgs,
                resources: { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
            }),
        "resources.requests.cpu",
        /at most the limit \(1\), got 2/,
    ],
    [
        "a liveness probe with successThreshold 2",
        () =>
            new lib.RollingDeployment("x", {
                ...rollingArgs,
                probes: { liveness: lib.tcpProbe({ port: 3000, successThreshold: 2 }) },
            }),
        () =>
            lib.rollingProblems({
                ...rollingArgs,
                probes: { liveness: lib.tcpProbe({ port: 3000, successThreshold: 2 }) },
            }),
        "probes.liveness.successThreshold",
        /expected 1/,
    ],
    [
        "an image without a tag",
        () => new lib.RollingDeployment("x", { ...rollingArgs, image: "acme/api" }),
        () => lib.rollingProblems({ ...rollingArgs, image: "acme/api" }),
        "image",
        /tag or digest/,
    ],
    [
        "a colour's image without a tag",
        () => new lib.BlueGreenDeployment("x", bg({ images: { blue: "acme/web:2", green: "acme/web" } })),
        () => lib.blueGreenProblems(bg({ images: { blue: "acme/web:2", green: "acme/web" } })),
        "images.green",
        /tag or digest/,
    ],
    [
        "negative idle replicas",
        () => new lib.BlueGreenDeployment("x", bg({ idleReplicas: -1 })),
        () => lib.blueGreenProblems(bg({ idleReplicas: -1 })),
        "idleReplicas",
        /at least 0, got -1/,
    ],
    [
        "canary steps that do not end at 100",
        () => new lib.CanaryRelease("x", { ...canaryArgs, canary: canary({ steps: [25, 50] }) }),
        () => lib.canaryProblems({ ...canaryArgs, canary: canary({ steps: [25, 50] }) }),
        "canary.steps",
        /strictly increasing weights ending at 100/,
    ],
    [
        "a canary weight off the plan",
        () => new lib.CanaryRelease("x", { ...canaryArgs, canary: canary({ weight: 30 }) }),
        () => lib.canaryProblems({ ...canaryArgs, canary: canary({ weight: 30 }) }),
        "canary.weight",
        /0 \(abort\) or a step of the plan \[25, 50, 100\], got 30/,
    ],
    [
        "the replica router with one pod",
        () => new lib.CanaryRelease("x", { ...canaryArgs, replicas: 1 }),
        () => lib.canaryProblems({ ...canaryArgs, replicas: 1 }),
        "replicas",
        /at least 2 to split traffic by replicas/,
    ],
    [
        "the replica router with a step its pods cannot honour",
        () => new lib.CanaryRelease("x", { ...canaryArgs, canary: canary({ weight: 5, steps: [5, 100] }) }),
        () => lib.canaryProblems({ ...canaryArgs, canary: canary({ weight: 5, steps: [5, 100] }) }),
        "canary.steps[0]",
        /4 pods give 25 %.*5 % needs 20 pods/,
    ],
    [
        "an NGINX router without a host",
        () => new lib.CanaryRelease("x", { ...canaryArgs, canary: canary({ router: { type: "nginx", host: "" } }) }),
        () => lib.canaryProblems({ ...canaryArgs, canary: canary({ router: { type: "nginx", host: "" } }) }),
        "canary.router.host",
        /expected a host name, got ""/,
    ],
    [
        "a router nobody registered",
        () => new lib.CanaryRelease("x", { ...canaryArgs, canary: canary({ router: { type: "istio" } as never }) }),
        () => lib.canaryProblems({ ...canaryArgs, canary: canary({ router: { type: "istio" } as never }) }),
        "canary.router.type",
        /expected one of 'gatewayApi', 'nginx', 'replicas', got "istio"/,
    ],
    [
        "an HPA minimum below 1",
        () => new lib.Autoscaler("x", { ...hpaArgs, minReplicas: 0 }),
        () => lib.autoscalerProblems({ ...hpaArgs, minReplicas: 0 }),
        "minReplicas",
        /at least 1, got 0/,
    ],
    [
        "an HPA maximum below its minimum",
        () => new lib.Autoscaler("x", { ...hpaArgs, maxReplicas: 1 }),
        () => lib.autoscalerProblems({ ...hpaArgs, maxReplicas: 1 }),
        "maxReplicas",
        /at least minReplicas \(2\), got 1/,
    ],
];

describe("checks", () => {
    test.each(cases)("%s: the check reports it with its field", (_title, _make, problems, field, message) => {
        const found = problems();
        expect(found).toHaveLength(1);
        expect(
            found[0].path
                .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
                .join(""),
        ).toBe(field);
        expect(found[0].message).toMatch(message);
    });

    test.each(cases)(
        "%s: the constructor throws it as a ResourceError naming the field",
        (_title, make, _problems, field, message) => {
            let thrown: unknown;
            try {
                make();
            } catch (e) {
                thrown = e;
            }
            expect(thrown).toBeInstanceOf(pulumi.ResourceError);
            expect((thrown as Error).message).toContain(`'${field}': `);
            expect((thrown as Error).message).toMatch(message);
        },
    );

    test("every problem at once, in one error", () => {
        const args = { ...rollingArgs, name: "1api", image: "acme/api" };
        expect(lib.rollingProblems(args).map((p) => p.path[0])).toEqual(["name", "image"]);
        expect(() => new lib.RollingDeployment("x", args)).toThrow(/'name': .*\n'image': /);
    });

    test("valid args have no problems", () => {
        expect(lib.rollingProblems(rollingArgs)).toEqual([]);
        expect(lib.blueGreenProblems(bgArgs)).toEqual([]);
        expect(lib.canaryProblems(canaryArgs)).toEqual([]);
        expect(lib.autoscalerProblems(hpaArgs)).toEqual([]);
    });
});
