// The whole program per stack file, through Pulumi's mocks: what each component asks for.
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/types";
import type { DeploymentRecord } from "../../lib/deployment-record";
import { byName, construct, installMocks, ofType, registered, reset } from "../util/mocks";
import { rawValues, stackConfig } from "../util/stack";

installMocks();
// Imported after the mocks are set, as the program would be.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RunbookStack } = require("../../program/runbook-stack") as typeof import("../../program/runbook-stack");

/** `dependsOn` of every resource by name, captured by a transformation (mocks do not see it). */
const dependsOn = new Map<string, pulumi.Resource[]>();
const captureDependsOn: pulumi.ResourceTransformation = (args) => {
    const d = args.opts.dependsOn;
    dependsOn.set(args.name, (Array.isArray(d) ? d : d ? [d] : []) as pulumi.Resource[]);
    return undefined;
};

async function dependsOnNames(name: string): Promise<string[]> {
    const deps = dependsOn.get(name);
    if (!deps) throw new Error(`no resource named ${name}`);
    const names = await Promise.all(
        deps.map((r) => new Promise<string>((resolve) => r.urn.apply((u) => resolve(u.split("::").pop() as string)))),
    );
    return names.sort();
}

/** `ignoreChanges` of every resource by name, captured the same way. */
const ignoreChanges = new Map<string, string[]>();
const captureIgnoreChanges: pulumi.ResourceTransformation = (args) => {
    ignoreChanges.set(args.name, args.opts.ignoreChanges ?? []);
    return undefined;
};

async function render(config: StackConfig, name = "t", previous?: DeploymentRecord) {
    reset();
    dependsOn.clear();
    ignoreChanges.clear();
    const databaseUrl = config.hasDatabaseUrl ? pulumi.secret("postgres://u:p@db/shop") : undefined;
    return construct((opts) => new RunbookStack(name, { config, databaseUrl, previous }, opts), {
        transformations: [captureDependsOn, captureIgnoreChanges],
    });
}

function withValues(stack: string, change: (v: Record<string, any>) => void): StackConfig {
    const values = rawValues(stack);
    change(values);
    return parseStackConfig({ values, secretKeys: new Set(values.databaseUrl ? ["databaseUrl"] : []) });
}

const spec = (name: string) => byName(name).inputs.spec;
const meta = (name: string) => byName(name).inputs.metadata;

describe("production (blue/green)", () => {
    let stack: InstanceType<typeof RunbookStack>;
    beforeAll(async () => {
        stack = await render(stackConfig("production"), "prod");
    });

    test("the Kubernetes provider comes from config, not the ambient kubeconfig", () => {
        const p = byName("prod-k8s");
        expect(p.type).toBe("pulumi:providers:kubernetes");
        expect(p.inputs.context).toBe("prod-eu-west-1");
        expect(p.inputs.renderYamlToDirectory).toBeUndefined();
        expect(p.inputs.namespace).toBe("shop-production");
    });

    test("blue and green Deployments are labelled by colour and both kept", () => {
        for (const color of ["blue", "green"]) {
            const d = byName(`prod-api-bg-${color}`);
            expect(d.type).toBe("kubernetes:apps/v1:Deployment");
            expect(d.inputs.metadata.name).toBe(`api-${color}`);
            expect(d.inputs.spec.selector.matchLabels).toEqual({
                "app.kubernetes.io/name": "api",
                "app.kubernetes.io/instance": "api-production",
                "runbook.dev/color": color,
            });
            expect(d.inputs.spec.template.metadata.labels["runbook.dev/color"]).toBe(color);
        }
        expect(spec("prod-api-bg-green").template.spec.containers[0].image).toBe("ghcr.io/acme/shop-api:1.42.0");
        expect(spec("prod-api-bg-blue").template.spec.containers[0].image).toBe("ghcr.io/acme/shop-api:1.41.2");
        // The colour switched away from keeps its replicas for rollback.
        expect(spec("prod-api-bg-blue").replicas).toBe(5);
        expect(spec("prod-api-bg-green").replicas).toBe(5);
    });

    test("the active and preview Services select the colour going live", () => {
        expect(meta("prod-api-bg-active").name).toBe("api");
        expect(spec("prod-api-bg-active").selector["runbook.dev/color"]).toBe("green");
        expect(meta("prod-api-bg-preview").name).toBe("api-preview");
        expect(spec("prod-api-bg-preview").selector["runbook.dev/color"]).toBe("green");
    });

    test("probes and resources follow runbook 004 for production", () => {
        const c = spec("prod-api-bg-green").template.spec.containers[0];
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
        expect(c.resources).toEqual({
            requests: { cpu: "2000m", memory: "2Gi" },
            limits: { cpu: "2000m", memory: "2Gi" },
        });
        expect(c.ports).toEqual([
            { name: "http", containerPort: 3000 },
            { name: "metrics", containerPort: 9090 },
        ]);
    });

    test("each colour has its own Service, for testing it directly: the pods of the image it declares", () => {
        for (const [color, version] of [
            ["blue", "1.41.2"],
            ["green", "1.42.0"],
        ]) {
            expect(meta(`prod-api-bg-svc-${color}`).name).toBe(`api-${color}`);
            expect(spec(`prod-api-bg-svc-${color}`).selector).toEqual({
                "app.kubernetes.io/name": "api",
                "app.kubernetes.io/instance": "api-production",
                "app.kubernetes.io/component": "server",
                "runbook.dev/color": color,
                "app.kubernetes.io/version": version,
            });
        }
        // The active and preview Services select the whole colour: a rolling change of the live
        // colour keeps every ready pod in service.
        expect(spec("prod-api-bg-active").selector).not.toHaveProperty("app.kubernetes.io/version");
        expect(spec("prod-api-bg-preview").selector).not.toHaveProperty("app.kubernetes.io/version");
    });

    test("no Service and no PodDisruptionBudget selects a smoke test's pod; each selects serving pods", () => {
        const selectors = [
            ...ofType("kubernetes:core/v1:Service").map((r) => [r.name, r.inputs.spec.selector]),
            ...ofType("kubernetes:policy/v1:PodDisruptionBudget").map((r) => [
                r.name,
                r.inputs.spec.selector.matchLabels,
            ]),
        ] as [string, Record<string, string>][];
        const podsOf = (type: string) => ofType(type).map((r) => r.inputs.spec.template.metadata.labels);
        const selects = (sel: Record<string, string>, labels: Record<string, string>) =>
            Object.entries(sel).every(([k, v]) => labels[k] === v);
        const smokePods = podsOf("kubernetes:batch/v1:Job").filter(
            (l) => l["app.kubernetes.io/component"] === "smoke-test",
        );
        expect(smokePods.length).toBeGreaterThan(1);
        expect(selectors.length).toBeGreaterThan(5);
        for (const [name, sel] of selectors) {
            expect([name, smokePods.filter((l) => selects(sel, l)).length]).toEqual([name, 0]);
            expect([name, podsOf("kubernetes:apps/v1:Deployment").some((l) => selects(sel, l))]).toEqual([name, true]);
        }
    });

    test("each running colour's smoke test checks every health endpoint through that colour's Service", () => {
        const job = byName("prod-api-bg-smoke-green");
        expect(job.type).toBe("kubernetes:batch/v1:Job");
        expect(job.inputs.metadata.name).toMatch(/^api-smoke-green-[0-9a-f]{8}$/);
        expect(byName("prod-api-bg-smoke-blue").inputs.metadata.name).toMatch(/^api-smoke-blue-[0-9a-f]{8}$/);
        const script: string = job.inputs.spec.template.spec.containers[0].args[0];
        expect(script).toContain("http://api-green.shop-production.svc.cluster.local:80${path}");
        expect(script).toContain("for path in '/api/health' '/api/health/db' '/api/health/cache'; do");
        expect(script).toContain('2??) echo "ok   $path $code" ;;');
        expect(job.inputs.spec.backoffLimit).toBe(0);
    });

    test("the HPA scales the live colour within 5..20", () => {
        const hpa = spec("prod-api-autoscaler-hpa");
        expect(hpa.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "api-green" });
        expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([5, 20]);
        expect(hpa.metrics).toEqual([
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        ]);
        expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
        expect(spec("prod-web-autoscaler-hpa").maxReplicas).toBe(12);
    });

    test("production gets a PodDisruptionBudget over both colours", () => {
        const pdb = byName("prod-api-pdb");
        expect(pdb.type).toBe("kubernetes:policy/v1:PodDisruptionBudget");
        expect(pdb.inputs.spec).toEqual({
            maxUnavailable: 1,
            selector: {
                matchLabels: {
                    "app.kubernetes.io/name": "api",
                    "app.kubernetes.io/instance": "api-production",
                    "app.kubernetes.io/component": "server",
                },
            },
        });
    });

    test("the release record is stamped on the workloads, not on their pods", () => {
        const d = byName("prod-api-bg-green").inputs;
        expect(d.metadata.annotations).toEqual({
            "runbook.dev/release-version": "1.42.0",
            "runbook.dev/release-commit": "3f9c2ab7e1d4",
            "runbook.dev/operator": "dana",
            "runbook.dev/strategy": "blueGreen",
            "runbook.dev/approvals":
                '[{"name":"lee","role":"governance-sentinel"},{"name":"sam","role":"service-owner"}]',
            // A first deploy sizes the colour itself (see "the HPA owns the live Deployments' replica count").
            "pulumi.com/patchForce": "true",
        });
        expect(d.spec.template.metadata.annotations).toBeUndefined();
        expect(stack.release).toEqual({
            version: "1.42.0",
            commit: "3f9c2ab7e1d4",
            operator: "dana",
            strategy: "blueGreen",
            approvals: [
                { name: "lee", role: "governance-sentinel" },
                { name: "sam", role: "service-owner" },
            ],
        });
    });

    test("every Kubernetes object carries the recommended labels", () => {
        const objects = registered.filter((r) => r.type.startsWith("kubernetes:") && r.inputs.metadata);
        expect(objects.length).toBeGreaterThan(20);
        for (const o of objects) {
            expect(Object.keys(o.inputs.metadata.labels ?? {})).toEqual(
                expect.arrayContaining([
                    "app.kubernetes.io/name",
                    "app.kubernetes.io/instance",
                    "app.kubernetes.io/part-of",
                    "app.kubernetes.io/managed-by",
                    "runbook.dev/environment",
                ]),
            );
        }
    });

    test("the backup CronJob: schedule, Forbid, history limits, deadline, backoff", () => {
        const cj = byName("prod-backup-cron").inputs;
        expect(cj.metadata.name).toBe("shop-backup");
        expect(cj.spec).toMatchObject({
            schedule: "0 2 * * *",
            concurrencyPolicy: "Forbid",
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
        });
        expect(cj.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 600 });
        const pod = cj.spec.jobTemplate.spec.template.spec;
        expect(pod.initContainers[0].env).toEqual([
            { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "shop-db", key: "url" } } },
        ]);
        expect(pod.initContainers[0].command[2]).toContain(
            'pg_dump --no-owner --no-privileges --dbname="$DATABASE_URL" || echo "$?" > "${dir}/.pg_dump-failed"; } | gzip -9',
        );
        expect(pod.containers[0].command[2]).toContain(
            'aws "$@" s3 cp --only-show-errors --sse AES256 --metadata "sha256=${sum}" "$file" "s3://${BUCKET}/${key}"',
        );
        expect(pod.containers[0].env).toContainEqual({ name: "PREFIX", value: "shop-production" });
        expect(pod.containers[0].env.map((e: { name: string }) => e.name)).not.toContain("S3_ENDPOINT_URL");
    });

    test("the restore CronJob [001]: suspended, restores into the backed-up database, no retries", () => {
        const cj = byName("prod-backup-restore").inputs;
        expect(cj.metadata).toMatchObject({ name: "shop-restore", labels: { "runbook.dev/backup": "restore" } });
        expect(cj.spec).toMatchObject({ suspend: true, concurrencyPolicy: "Forbid" });
        expect(cj.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800 });
        const pod = cj.spec.jobTemplate.spec.template.spec;
        expect(pod.serviceAccountName).toBe("shop-backup");
        expect(pod.initContainers.map((c: { name: string; image: string }) => [c.name, c.image])).toEqual([
            ["fetch", "amazon/aws-cli:2.22.35"],
        ]);
        expect(pod.containers.map((c: { name: string; image: string }) => [c.name, c.image])).toEqual([
            ["restore", "postgres:16.6-alpine"],
        ]);
        expect(pod.containers[0].env).toEqual([
            { name: "TARGET_DATABASE_URL", valueFrom: { secretKeyRef: { name: "shop-db", key: "url" } } },
        ]);
        expect(pod.initContainers[0].env.map((e: { name: string }) => e.name)).toEqual([
            "BUCKET",
            "PREFIX",
            "AWS_REGION",
        ]);
    });

    test("the restore drill [001, 003]: weekly, into the scratch database, comparing row counts", () => {
        const cj = byName("prod-backup-restore-drill").inputs;
        expect(cj.metadata).toMatchObject({
            name: "shop-restore-drill",
            labels: { "runbook.dev/backup": "restore-drill" },
        });
        expect(cj.spec.schedule).toBe("0 4 * * 1");
        expect(cj.spec.suspend).toBeUndefined();
        const pod = cj.spec.jobTemplate.spec.template.spec;
        expect(pod.containers[0].env).toEqual([
            { name: "TARGET_DATABASE_URL", valueFrom: { secretKeyRef: { name: "shop-db", key: "restore-drill-url" } } },
            { name: "VERIFY_ROW_COUNTS", value: "1" },
        ]);
    });

    test("the S3 bucket: versioned, encrypted, public access blocked, expiring after retentionDays", () => {
        expect(ofType("aws:s3/bucket:Bucket")).toHaveLength(1);
        expect(ofType("aws:s3/bucketVersioning:BucketVersioning")[0].inputs.versioningConfiguration).toEqual({
            status: "Enabled",
        });
        expect(
            ofType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0].inputs
                .rules[0].applyServerSideEncryptionByDefault,
        ).toEqual({ sseAlgorithm: "AES256" });
        expect(ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs).toMatchObject({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        const rule = ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0].inputs.rules[0];
        expect(rule).toMatchObject({
            status: "Enabled",
            expiration: { days: 30 },
            filter: { prefix: "shop-production/" },
        });
        const role = ofType("aws:iam/role:Role")[0].inputs;
        expect(JSON.parse(role.assumeRolePolicy).Statement[0].Condition.StringEquals).toEqual({
            "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:sub":
                "system:serviceaccount:shop-production:shop-backup",
        });
        expect(byName("prod-backup-sa").inputs.metadata.annotations["eks.amazonaws.com/role-arn"]).toBe(
            "arn:aws:iam::123456789012:role/prod-backup-role",
        );
    });

    test("alert rules carry the rollback triggers with severity, summary and runbook_url", () => {
        const rule = byName("prod-api-alerts-rule").inputs;
        expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
        expect(rule.kind).toBe("PrometheusRule");
        const rules: any[] = rule.spec.groups[0].rules;
        expect(rules.map((r) => r.alert)).toEqual([
            "ErrorRateCritical",
            "ErrorRateWarning",
            "LatencyP95High",
            "LatencyP99High",
            "PodRestartsHigh",
            "MemoryHigh",
            "ReadinessFailing",
            "AutoscalerAtMax",
        ]);
        for (const r of rules) {
            expect(r.labels.severity).toMatch(/^(critical|warning)$/);
            expect(r.annotations.summary).toBeTruthy();
            expect(r.annotations.runbook_url).toBe(
                `https://runbooks.acme.example/shop/production#${r.alert.toLowerCase()}`,
            );
            expect(r.labels.team).toBe("shop");
        }
        const backup: any[] = byName("prod-backup-alerts-rule").inputs.spec.groups[0].rules;
        expect(backup.map((r) => r.alert)).toEqual(["BackupJobFailed", "BackupTooOld", "RestoreDrillOverdue"]);
        expect(backup[1].expr).toBe(
            'time() - max(kube_cronjob_status_last_successful_time{namespace="shop-production",cronjob="shop-backup"}) > 86400',
        );
    });

    test("a ServiceMonitor scrapes the metrics Service of every pod of the app", () => {
        const sm = byName("prod-api-monitor").inputs;
        expect(sm.kind).toBe("ServiceMonitor");
        expect(sm.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "30s" }]);
        // Each series says its pod's track, colour and version: what a release measures the new version by.
        expect(sm.spec.podTargetLabels).toEqual([
            "runbook.dev/track",
            "runbook.dev/color",
            "app.kubernetes.io/version",
        ]);
        expect(spec("prod-api-metrics").selector).toEqual({
            "app.kubernetes.io/name": "api",
            "app.kubernetes.io/instance": "api-production",
            "app.kubernetes.io/component": "server",
        });
    });
});

describe("the blue/green update follows the runbook order", () => {
    test("backup → new colour ready → smoke test → switch; the idle colour waits for the backup too", async () => {
        const stack = await render(stackConfig("production"), "order");
        const bg = stack.services[0].blueGreen!;
        expect(await dependsOnNames("order-api-bg-green")).toEqual(["order-backup-predeploy"]);
        // A new image staged in the idle colour is new code against the database as well.
        expect(await dependsOnNames("order-api-bg-blue")).toEqual(["order-backup-predeploy"]);
        expect(await dependsOnNames("order-api-bg-smoke-green")).toEqual([
            "order-api-bg-green",
            "order-api-bg-svc-green",
        ]);
        expect(await dependsOnNames("order-api-bg-smoke-blue")).toEqual(["order-api-bg-blue", "order-api-bg-svc-blue"]);
        expect(await dependsOnNames("order-api-bg-active")).toEqual(["order-api-bg-green", "order-api-bg-smoke-green"]);
        // The HPA moves to the new colour only after the switch: a failed smoke test leaves it on the live one.
        expect(await dependsOnNames("order-api-autoscaler-hpa")).toEqual(["order-api-bg-active"]);
        expect(bg.activeColor).toBe("green");
    });

    test("flipping activeColor back is the rollback: the switch now waits for blue", async () => {
        await render(
            withValues("production", (v) => (v.services.api.blueGreen.activeColor = "blue")),
            "order",
        );
        expect(spec("order-api-bg-active").selector["runbook.dev/color"]).toBe("blue");
        expect(spec("order-api-bg-green").replicas).toBe(5);
        expect(await dependsOnNames("order-api-bg-blue")).toEqual(["order-backup-predeploy"]);
        expect(await dependsOnNames("order-api-bg-active")).toEqual(["order-api-bg-blue", "order-api-bg-smoke-blue"]);
    });

    test("a rollback changes no smoke-test Job: each colour's Job is named after its own image", async () => {
        await render(stackConfig("production"), "order");
        const jobs = () => ["blue", "green"].map((c) => byName(`order-api-bg-smoke-${c}`).inputs.metadata.name);
        const live = jobs();
        await render(
            withValues("production", (v) => (v.services.api.blueGreen.activeColor = "blue")),
            "order",
        );
        expect(jobs()).toEqual(live);
        await render(
            withValues("production", (v) => (v.services.api.blueGreen.blue.image = "ghcr.io/acme/shop-api:1.43.0")),
            "order",
        );
        expect(jobs()[0]).not.toBe(live[0]);
        expect(jobs()[1]).toBe(live[1]);
    });

    test("idleReplicas 0 scales the old colour down once the rollback period is over", async () => {
        await render(
            withValues("production", (v) => (v.services.api.blueGreen.idleReplicas = 0)),
            "order",
        );
        expect(spec("order-api-bg-blue").replicas).toBe(0);
        expect(spec("order-api-bg-green").replicas).toBe(5);
        // Nothing runs on blue to test; it is tested when it runs pods again.
        expect(() => byName("order-api-bg-smoke-blue")).toThrow();
        expect(byName("order-api-bg-smoke-green")).toBeDefined();
    });
});

describe("a canary's requests move before its pods do", () => {
    const weight = (w: number) => withValues("staging", (v) => (v.services.api.canary.weight = w));

    test("given a share, the route waits for the canary's pods, and for its Service's endpoints to settle", async () => {
        await render(weight(25), "order");
        expect(await dependsOnNames("order-api-canary-canary")).toEqual(["order-backup-predeploy"]);
        // The canary's Service is written after its pods are ready and awaited (no skipAwait):
        // the provider's Service await returns once the endpoints have settled.
        expect(await dependsOnNames("order-api-canary-canary-svc")).toEqual(["order-api-canary-canary"]);
        expect(meta("order-api-canary-canary-svc").annotations["pulumi.com/skipAwait"]).toBeUndefined();
        expect(await dependsOnNames("order-api-canary-route")).toEqual([
            "order-api-canary-canary",
            "order-api-canary-canary-svc",
            "order-api-canary-svc",
        ]);
    });

    for (const [w, what] of [
        [0, "aborted"],
        [100, "promoted"],
    ] as const)
        test(`${what}: the route leaves the canary after the stable track, and its pods go last`, async () => {
            await render(weight(w), "order");
            expect(spec("order-api-canary-canary").replicas).toBe(0);
            expect(await dependsOnNames("order-api-canary-route")).toEqual([
                "order-api-canary-canary-svc",
                "order-api-canary-stable",
                "order-api-canary-svc",
            ]);
            expect(await dependsOnNames("order-api-canary-canary")).toEqual([
                "order-api-canary-route",
                "order-backup-predeploy",
            ]);
            // No pods to await: the canary's Service is not held up, nor is the route after it.
            expect(await dependsOnNames("order-api-canary-canary-svc")).toEqual([]);
            expect(meta("order-api-canary-canary-svc").annotations["pulumi.com/skipAwait"]).toBe("true");
        });
});

// An image a Deployment ran before gets a new ReplicaSet: reusing the old one, `pulumi up`
// could return before the rollout did (test/e2e/rollout-await.test.ts).
test.each(["local", "staging", "production"])("%s: every Deployment keeps no old ReplicaSet", async (stack) => {
    await render(stackConfig(stack));
    const deployments = ofType("kubernetes:apps/v1:Deployment");
    expect(deployments.length).toBeGreaterThan(1);
    for (const d of deployments) expect([d.name, d.inputs.spec.revisionHistoryLimit]).toEqual([d.name, 0]);
});

describe("scheduling: every pod of the stack on the nodes it names", () => {
    const onRealNode = {
        nodeSelector: { "runbook.local/node": "real" },
        tolerations: [{ key: "runbook.local/node", value: "real", effect: "NoSchedule" }],
    };
    /** The pod specs of every workload kind the program makes, by resource name. */
    const podSpecs = () =>
        new Map([
            ...ofType("kubernetes:apps/v1:Deployment").map((r) => [r.name, r.inputs.spec.template.spec]),
            ...ofType("kubernetes:batch/v1:Job").map((r) => [r.name, r.inputs.spec.template.spec]),
            ...ofType("kubernetes:batch/v1:CronJob").map((r) => [r.name, r.inputs.spec.jobTemplate.spec.template.spec]),
        ] as [string, Record<string, unknown>][]);

    test("set: the Deployments, smoke tests, backup, restore and drill pods all select and tolerate", async () => {
        await render(
            withValues("local", (v) => {
                v.scheduling = onRealNode;
                v.backup.restoreDrill = { databaseSecret: { name: "shop-db", key: "drill-url" } };
                v.backup.preDeploy = true;
            }),
        );
        const specs = podSpecs();
        // Both strategies' Deployments, both colours' smoke tests, the pre-deploy backup and the three CronJobs.
        expect([...specs.keys()].sort()).toEqual([
            "t-api-bg-blue",
            "t-api-bg-green",
            "t-api-bg-smoke-blue",
            "t-api-bg-smoke-green",
            "t-backup-cron",
            "t-backup-predeploy",
            "t-backup-restore",
            "t-backup-restore-drill",
            "t-web-canary-canary",
            "t-web-canary-stable",
        ]);
        for (const [name, s] of specs) {
            expect([name, s.nodeSelector]).toEqual([name, onRealNode.nodeSelector]);
            expect([name, s.tolerations]).toEqual([name, [{ ...onRealNode.tolerations[0], operator: "Equal" }]]);
        }
    });

    test("unset: no pod names a node or a toleration (renders as before there was scheduling)", async () => {
        await render(stackConfig("production"));
        for (const [name, s] of podSpecs()) {
            expect([name, "nodeSelector" in s, "tolerations" in s]).toEqual([name, false, false]);
        }
    });
});

describe("the HPA owns the live Deployments' replica count", () => {
    const PATCH_FORCE = "pulumi.com/patchForce";

    test("blue/green, first deploy: both colours sized by the program, taking the count back from any manager", async () => {
        await render(stackConfig("production"), "hpa");
        for (const color of ["blue", "green"]) {
            expect(ignoreChanges.get(`hpa-api-bg-${color}`)).toEqual([]);
            expect(meta(`hpa-api-bg-${color}`).annotations[PATCH_FORCE]).toBe("true");
        }
        expect(spec("hpa-api-bg-green").replicas).toBe(5);
    });

    test("blue/green, the live colour staying live: its count is left to the HPA; the idle colour is still sized", async () => {
        const first = await render(stackConfig("production"), "hpa");
        await render(stackConfig("production"), "hpa", first.rollout.record);
        // production's live colour is green: an update leaves its replicas where the HPA put them.
        expect(ignoreChanges.get("hpa-api-bg-green")).toEqual(["spec.replicas"]);
        // The annotation stays: an update after a switch must not differ from the one before.
        expect(meta("hpa-api-bg-green").annotations[PATCH_FORCE]).toBe("true");
        expect(ignoreChanges.get("hpa-api-bg-blue")).toEqual([]);
        expect(meta("hpa-api-bg-blue").annotations[PATCH_FORCE]).toBe("true");
    });

    test("blue/green, a switch: the colour going live is sized by the program, then the HPA's", async () => {
        const first = await render(stackConfig("production"), "hpa");
        await render(
            withValues("production", (v) => (v.services.api.blueGreen.activeColor = "blue")),
            "hpa",
            first.rollout.record,
        );
        expect(ignoreChanges.get("hpa-api-bg-blue")).toEqual([]);
        expect(meta("hpa-api-bg-blue").annotations[PATCH_FORCE]).toBe("true");
        // Green, live before and idle now, goes back to the idle count (the HPA no longer targets it).
        expect(ignoreChanges.get("hpa-api-bg-green")).toEqual([]);
        expect(meta("hpa-api-bg-green").annotations[PATCH_FORCE]).toBe("true");
    });

    test("canary: the stable track's count is the HPA's, the canary's follows its weight", async () => {
        await render(stackConfig("staging"), "hpa");
        const tracks = [...ignoreChanges.keys()].filter((n) => /-canary-(stable|canary)$/.test(n));
        expect(tracks.length).toBeGreaterThan(0);
        for (const n of tracks)
            expect([n, ignoreChanges.get(n)]).toEqual([n, n.endsWith("-stable") ? ["spec.replicas"] : []]);
    });
});
