import { ConfigError } from "../../config/errors";
import { parseStackConfig } from "../../config/load";
import { applyReleaseEnv } from "../../config/sources";
import { rawValues, stackConfig } from "../util/stack";

/** Problems reported for the `base` stack file with `change` applied to its values. */
function problemsOf(base: string, change: (v: Record<string, any>) => void, secretKeys: string[] = []): string[] {
    const values = rawValues(base);
    change(values);
    try {
        parseStackConfig({ values, secretKeys: new Set(secretKeys) });
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

describe("the stack files", () => {
    test.each(["production", "staging", "local"])("Pulumi.%s.yaml is valid", (stack) => {
        expect(() => stackConfig(stack)).not.toThrow();
    });

    test("production uses blue/green with the runbook 004 production sizing", () => {
        const cfg = stackConfig("production");
        expect(cfg.environment).toBe("production");
        expect(cfg.services.map((s) => [s.name, s.strategy])).toEqual([
            ["api", "blueGreen"],
            ["web", "blueGreen"],
        ]);
        const api = cfg.services[0];
        expect(api.autoscaling).toEqual({
            minReplicas: 5,
            maxReplicas: 20,
            targetCpuUtilization: 70,
            scaleDownStabilizationSeconds: 300,
        });
        expect(api.resources).toEqual({
            requests: { cpu: "2000m", memory: "2Gi" },
            limits: { cpu: "2000m", memory: "2Gi" },
        });
        expect(api.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
        expect(api.image).toBe("ghcr.io/acme/shop-api:1.42.0");
        expect(api.blueGreen?.idleReplicas).toBe(5);
    });

    test("staging uses canaries with the runbook 004 staging sizing and no PDB", () => {
        const cfg = stackConfig("staging");
        const api = cfg.services[0];
        expect(api.strategy).toBe("canary");
        expect(api.autoscaling.minReplicas).toBe(2);
        expect(api.autoscaling.maxReplicas).toBe(5);
        expect(api.resources.limits).toEqual({ cpu: "500m", memory: "512Mi" });
        expect(api.podDisruptionBudget).toBeUndefined();
        expect(cfg.services[1].canary?.steps).toEqual([25, 50, 100]);
    });
});

describe("defaults from the runbooks", () => {
    const api = () => stackConfig("staging").services[0];

    test("probes: liveness GET /api/health :3000 after 30 s every 10 s, readiness after 5 s every 5 s, 3 failures", () => {
        const cfg = parseStackConfig({
            values: {
                ...rawValues("staging"),
                services: { api: { strategy: "rolling", image: "ghcr.io/acme/api:1.0.0" } },
            },
            secretKeys: new Set(),
        });
        const p = cfg.services[0].probes;
        expect(p.liveness).toEqual({
            type: "http",
            path: "/api/health",
            port: 3000,
            initialDelaySeconds: 30,
            periodSeconds: 10,
            failureThreshold: 3,
        });
        expect(p.readiness).toEqual({
            type: "http",
            path: "/api/health",
            port: 3000,
            initialDelaySeconds: 5,
            periodSeconds: 5,
            failureThreshold: 3,
        });
        expect(p.startup).toBeUndefined();
        expect(cfg.services[0].healthEndpoints).toEqual(["/api/health"]);
    });

    test("backup: daily at 02:00, 30 days, pre-deploy Job awaited 600 s", () => {
        const values = rawValues("staging");
        delete values.backup.schedule;
        delete values.backup.retentionDays;
        const b = parseStackConfig({ values, secretKeys: new Set() }).backup;
        expect(b).toMatchObject({
            schedule: "0 2 * * *",
            retentionDays: 30,
            preDeploy: true,
            deadlineSeconds: 600,
            backoffLimit: 2,
        });
    });

    test("alerts: error rate 1 % critical, 0.5 % warning, p95 500 ms, p99 10 s, 3 restarts, 90 % memory, 24 h backups", () => {
        expect(stackConfig("staging").alerts).toMatchObject({
            errorRateCritical: 0.01,
            errorRateWarning: 0.005,
            errorRateFor: "5m",
            latencyP95Seconds: 0.5,
            latencyP99Seconds: 10,
            restartsMax: 3,
            restartsWindow: "5m",
            memoryRatio: 0.9,
            backupMaxAgeHours: 24,
        });
    });

    test("a 0 given in config stays 0 (no || defaults)", () => {
        const values = rawValues("production");
        values.services.api.blueGreen.idleReplicas = 0;
        expect(parseStackConfig({ values, secretKeys: new Set() }).services[0].blueGreen?.idleReplicas).toBe(0);
        expect(api().canary?.weight).toBe(25);
    });
});

describe("bad config: one error listing every problem", () => {
    const cases: Array<[string, string, (v: Record<string, any>) => void, string[]]> = [
        [
            "canary weight out of range",
            "staging",
            (v) => (v.services.api.canary.weight = 150),
            ["runbook:services.api.canary.weight: expected an integer 0..100, got 150"],
        ],
        [
            "canary weight not on the plan",
            "staging",
            (v) => (v.services.api.canary.weight = 30),
            ["runbook:services.api.canary.weight: expected 0 (abort) or a step of the plan [5, 25, 100], got 30"],
        ],
        [
            "steps not increasing",
            "staging",
            (v) => (v.services.api.canary.steps = [25, 5, 100]),
            [
                "runbook:services.api.canary.steps: expected strictly increasing weights ending at 100, got a list ([25,5,100])",
            ],
        ],
        [
            "typo in a key",
            "staging",
            (v) => (v.services.api.helthEndpoints = ["/x"]),
            ["runbook:services.api.helthEndpoints: unknown key, did you mean 'healthEndpoints'?"],
        ],
        [
            "unknown top-level key",
            "staging",
            (v) => (v.servces = {}),
            ["runbook:servces: unknown key, did you mean 'services'?"],
        ],
        [
            "unknown key far from any",
            "staging",
            (v) => (v.backup.zzzzzzzz = 1),
            [
                "runbook:backup.zzzzzzzz: unknown key, known keys: backoffLimit, bucket, databaseSecret, deadlineSeconds, dumpImage, enabled, iam, preDeploy, restore, restoreDrill, retentionDays, schedule, uploadImage",
            ],
        ],
        [
            "image without tag",
            "staging",
            (v) => (v.services.web.image = "ghcr.io/acme/shop-web"),
            [
                'runbook:services.web.image: expected an image reference with a tag or digest (repo/name:1.2.3 or repo/name@sha256:…), got "ghcr.io/acme/shop-web"',
            ],
        ],
        [
            "unknown strategy",
            "staging",
            (v) => (v.services.web.strategy = "bluegreen"),
            ["runbook:services.web.strategy: expected one of 'blueGreen', 'canary', 'rolling', got \"bluegreen\""],
        ],
        [
            "unknown environment",
            "staging",
            (v) => (v.environment = "prod"),
            ["runbook:environment: expected one of 'staging', 'production', got \"prod\""],
        ],
        [
            "missing namespace",
            "staging",
            (v) => delete v.namespace,
            ["runbook:namespace: expected an object, got nothing"],
        ],
        [
            "port out of range",
            "staging",
            (v) => (v.services.api.port = 70000),
            ["runbook:services.api.port: expected an integer 1..65535, got 70000"],
        ],
        [
            "port as a string",
            "staging",
            (v) => (v.services.api.port = "3000"),
            ['runbook:services.api.port: expected an integer 1..65535, got "3000"'],
        ],
        [
            "max below min replicas",
            "production",
            (v) => (v.services.api.autoscaling = { minReplicas: 6, maxReplicas: 4 }),
            ["runbook:services.api.autoscaling.maxReplicas: expected at least minReplicas (6), got 4"],
        ],
        [
            "blue/green without its settings",
            "production",
            (v) => delete v.services.web.blueGreen,
            [
                "runbook:services.web.blueGreen: expected blue/green settings (activeColor, blue.image, green.image) for strategy 'blueGreen', got nothing",
            ],
        ],
        [
            "bad active colour",
            "production",
            (v) => (v.services.api.blueGreen.activeColor = "red"),
            ["runbook:services.api.blueGreen.activeColor: expected one of 'blue', 'green', got \"red\""],
        ],
        [
            "bad quantity",
            "staging",
            (v) => (v.services.api.resources = { limits: { memory: "2 GB" } }),
            [
                'runbook:services.api.resources.limits.memory: expected a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi, got "2 GB"',
            ],
        ],
        [
            "bad cron",
            "staging",
            (v) => (v.backup.schedule = "daily"),
            [
                "runbook:backup.schedule: expected a five-field cron expression (minute hour day-of-month month day-of-week) such as '0 2 * * *', got \"daily\"",
            ],
        ],
        [
            "bad error-rate ratio",
            "staging",
            (v) => (v.alerts.errorRateCritical = 5),
            ["runbook:alerts.errorRateCritical: expected a number 0..1 (a fraction, 0.01 = 1 %), got 5"],
        ],
        [
            "warning above critical",
            "staging",
            (v) => (v.alerts.errorRateWarning = 0.02),
            ["runbook:alerts.errorRateWarning: expected less than errorRateCritical (0.01), got 0.02"],
        ],
        [
            "backup without a database",
            "staging",
            (v) => delete v.backup.databaseSecret,
            [
                "runbook:backup.databaseSecret: expected a Secret reference {name, key} holding the database URL (or the Pulumi secret runbook:databaseUrl), got nothing",
            ],
        ],
        [
            "both cluster and render directory",
            "local",
            (v) => (v.kubernetes.renderYamlToDirectory = "rendered/local"),
            [
                'runbook:kubernetes: expected either a cluster (context and/or kubeconfig) or renderYamlToDirectory, not both and not neither, got an object ({"kubeconfig":".cluster/kubeconfig","renderYamlToDirector...)',
            ],
        ],
        [
            "no bucket when AWS is off",
            "local",
            (v) => delete v.backup.bucket.name,
            [
                "runbook:backup.bucket.name: expected the name of an existing bucket when aws.enabled is false (no bucket can be created), got nothing",
            ],
        ],
        [
            "unknown router",
            "staging",
            (v) => (v.services.api.canary.router = { type: "istio" }),
            [
                "runbook:services.api.canary.router.type: expected one of 'gatewayApi', 'nginx', 'replicas', got \"istio\"",
            ],
        ],
        [
            "release without a version",
            "staging",
            (v) => delete v.release.version,
            ["runbook:release.version: expected a release version, got nothing"],
        ],
        [
            "approval with an unknown role",
            "production",
            (v) => v.release.approvals.push({ name: "kim", role: "boss" }),
            [
                "runbook:release.approvals[2].role: expected one of 'governance-sentinel', 'service-owner', 'governance-board', 'reviewer', got \"boss\"",
            ],
        ],
        // What preview (the components) or the API server would reject, caught by validate.
        [
            "idle colour above maxReplicas",
            "production",
            (v) => (v.services.api.blueGreen.idleReplicas = 30),
            ["runbook:services.api.blueGreen.idleReplicas: expected at most autoscaling.maxReplicas (20), got 30"],
        ],
        [
            "replica canary with one pod",
            "staging",
            (v) => (v.services.web.autoscaling.minReplicas = 1),
            [
                "runbook:services.web.autoscaling.minReplicas: expected at least 2 to split traffic by replicas (one stable pod, one canary pod), got 1",
            ],
        ],
        [
            "replica canary weight it cannot honour",
            "staging",
            (v) => (v.services.web.canary.steps = [5, 25, 100]),
            [
                "runbook:services.web.canary.steps[0]: expected a weight the replica router can honour within 1 percentage point with 4 pods, got 5: 4 pods give 25 % (1 of 4); 5 % needs 20 pods (17 come within 1 point), or set canary.router to gatewayApi or nginx",
            ],
        ],
        [
            "cron minute out of range",
            "staging",
            (v) => (v.backup.schedule = "61 1 * * *"),
            [
                'runbook:backup.schedule: expected a cron expression the CronJob controller can run (Constraint error, got value 61 expected range 0-59), got "61 1 * * *"',
            ],
        ],
        [
            "cron with six fields",
            "staging",
            (v) => (v.backup.schedule = "0 0 2 * * *"),
            [
                "runbook:backup.schedule: expected a five-field cron expression (minute hour day-of-month month day-of-week) such as '0 2 * * *', got \"0 0 2 * * *\"",
            ],
        ],
        [
            "request above its limit",
            "staging",
            (v) => (v.services.api.resources = { requests: { cpu: "2" }, limits: { cpu: "500m" } }),
            ["runbook:services.api.resources.requests.cpu: expected at most the limit (500m), got 2"],
        ],
        [
            "liveness successThreshold",
            "staging",
            (v) => (v.services.api.probes = { liveness: { successThreshold: 2 } }),
            [
                "runbook:services.api.probes.liveness.successThreshold: expected 1 (the API server allows no other value for a liveness probe), got 2",
            ],
        ],
        [
            "service name starting with a digit",
            "staging",
            (v) => (v.services["1web"] = v.services.web),
            [
                'runbook:services.1web: expected a service name starting with a letter (its Services need DNS-1035 names), got "1web"',
            ],
        ],
        [
            "service name too long for its smoke Job",
            "production",
            (v) => (v.services["a".repeat(45)] = v.services.api),
            [
                `runbook:services.${"a".repeat(45)}: expected a name of at most 42 characters (the longest name derived from it, '${"a".repeat(45)}-smoke-green-00000000', must fit 63), got 45`,
            ],
        ],
        [
            "bad scale-down delay",
            "production",
            (v) => (v.services.api.blueGreen.scaleDownAfter = "1 day"),
            [
                'runbook:services.api.blueGreen.scaleDownAfter: expected a Prometheus duration such as 30s, 5m or 1h, got "1 day"',
            ],
        ],
        [
            "bad Prometheus URL",
            "staging",
            (v) => (v.analysis = { prometheusUrl: "prometheus:9090" }),
            [
                'runbook:analysis.prometheusUrl: expected an http(s) URL such as http://prometheus.monitoring:9090, got "prometheus:9090"',
            ],
        ],
        [
            "restore drill into the backed-up database",
            "staging",
            (v) => (v.backup.restoreDrill.databaseSecret = { name: "shop-db", key: "url" }),
            [
                "runbook:backup.restoreDrill.databaseSecret: expected a scratch database's URL, not the database that is backed up or restored (shop-db/url): each drill replaces its schema public",
            ],
        ],
        [
            "S3 endpoint not a URL",
            "staging",
            (v) => (v.backup.bucket.endpoint = "minio:9000"),
            ['runbook:backup.bucket.endpoint: expected an http(s) URL, got "minio:9000"'],
        ],
        [
            "service name not a DNS label",
            "staging",
            (v) => (v.services.Web_App = v.services.web),
            [
                "runbook:services.Web_App: expected a DNS label (lower-case letters, digits, '-', at most 63), got \"Web_App\"",
            ],
        ],
    ];

    test.each(cases)("%s", (_title, base, change, expected) => {
        expect(problemsOf(base, change)).toEqual(expected);
    });

    test("several problems are reported together, each on its own line", () => {
        const values = rawValues("staging");
        values.services.api.canary.weight = 150;
        values.services.api.port = 0;
        values.environment = "prod";
        let error: unknown;
        try {
            parseStackConfig({ values, secretKeys: new Set() });
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toBe(
            [
                "Invalid stack configuration (3 problems):",
                "  - runbook:environment: expected one of 'staging', 'production', got \"prod\"",
                "  - runbook:services.api.port: expected an integer 1..65535, got 0",
                "  - runbook:services.api.canary.weight: expected an integer 0..100, got 150",
            ].join("\n"),
        );
    });

    test("a database URL in plain text is refused without echoing it", () => {
        const problems = problemsOf("staging", (v) => {
            delete v.backup.databaseSecret;
            v.databaseUrl = "postgres://admin:hunter2@db/shop";
        });
        expect(problems).toEqual([
            "runbook:databaseUrl: expected a Pulumi secret (pulumi config set --secret runbook:databaseUrl …), got a plain-text value",
        ]);
        expect(problems.join("\n")).not.toContain("hunter2");
    });

    test("a database URL given as a secret is accepted", () => {
        const problems = problemsOf(
            "staging",
            (v) => {
                delete v.backup.databaseSecret;
                v.databaseUrl = "[secret]";
            },
            ["databaseUrl"],
        );
        expect(problems).toEqual([]);
    });
});

describe("release record from CI variables", () => {
    test("RUNBOOK_RELEASE_* fill in and override the stack file", () => {
        const values = applyReleaseEnv(rawValues("production"), {
            RUNBOOK_RELEASE_VERSION: "1.43.0",
            RUNBOOK_RELEASE_OPERATOR: "ci-bot",
            RUNBOOK_RELEASE_APPROVALS: "lee:governance-sentinel, sam:service-owner",
        });
        const cfg = parseStackConfig({ values, secretKeys: new Set() });
        expect(cfg.release).toMatchObject({
            version: "1.43.0",
            operator: "ci-bot",
            commit: "3f9c2ab7e1d4",
            approvals: [
                { name: "lee", role: "governance-sentinel" },
                { name: "sam", role: "service-owner" },
            ],
        });
    });

    test("an approval without a role is reported", () => {
        const values = applyReleaseEnv(rawValues("production"), { RUNBOOK_RELEASE_APPROVALS: "lee" });
        expect(() => parseStackConfig({ values, secretKeys: new Set() })).toThrow(
            "runbook:release.approvals[0].role: expected one of 'governance-sentinel', 'service-owner', 'governance-board', 'reviewer', got \"\"",
        );
    });
});

describe("scheduling", () => {
    test("what the API server would refuse is named with its config path, every problem at once", () => {
        const problems = problemsOf("staging", (v) => {
            v.scheduling = {
                nodeSelector: { "bad key!": "real", "runbook.local/node": "no spaces allowed" },
                tolerations: [
                    { key: "runbook.local/node", operator: "Exists", value: "real" },
                    { value: "real", effect: "NoSchedule" },
                    { key: "x", effect: "Sometimes" },
                ],
            };
        });
        expect(problems).toEqual(
            expect.arrayContaining([
                expect.stringContaining("runbook:scheduling.nodeSelector"),
                expect.stringMatching(/runbook:scheduling\.nodeSelector\.runbook\.local\/node.*label value/),
                expect.stringMatching(/runbook:scheduling\.tolerations\[2\]\.effect.*'NoSchedule'/),
            ]),
        );
        // The rules that span fields are the components' own, checked once the schema passes.
        const spanning = problemsOf("staging", (v) => {
            v.scheduling = {
                tolerations: [
                    { key: "runbook.local/node", operator: "Exists", value: "real" },
                    { value: "real", effect: "NoSchedule" },
                ],
            };
        });
        expect(spanning).toEqual([
            expect.stringMatching(
                /^runbook:scheduling\.tolerations\[0\]\.value: expected no value with operator 'Exists'/,
            ),
            expect.stringMatching(/^runbook:scheduling\.tolerations\[1\]\.key: expected a taint key/),
        ]);
    });

    test("the local stack puts its pods on the real node, and only there", () => {
        expect(stackConfig("local").scheduling).toEqual({
            nodeSelector: { "runbook.local/node": "real" },
            tolerations: [{ key: "runbook.local/node", operator: "Equal", value: "real", effect: "NoSchedule" }],
        });
    });
});
