// Each guardrail on the compliant baseline (what the program registers for
// Pulumi.production.yaml / Pulumi.staging.yaml) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { denyUnpinnedImages, imageProblem } from "../../policies/deny-unpinned-images";
import { requireBackupsInProduction, longestGapHours } from "../../policies/require-backups-in-production";
import { requireCanaryWeightOnPlan } from "../../policies/require-canary-weight-on-plan";
import { requireHpaBounds } from "../../policies/require-hpa-bounds";
import { requireLiveActiveColor } from "../../policies/require-live-active-color";
import { requirePdbInProduction } from "../../policies/require-pdb-in-production";
import { requireProbes } from "../../policies/require-probes";
import { requireResourceLimits } from "../../policies/require-resource-limits";
import { requireRollbackAlerts } from "../../policies/require-rollback-alerts";
import { requireSecureBackupBuckets } from "../../policies/require-secure-backup-buckets";
import { construct, installMocks, registered, reset } from "../util/mocks";
import { stackConfig } from "../util/stack";
import { clone, find, policyResources, runResourcePolicy, runStackPolicy } from "./util";

installMocks();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RunbookStack } = require("../../components/runbook-stack") as typeof import("../../components/runbook-stack");

let production: PolicyResource[];
let staging: PolicyResource[];

async function resourcesOf(stack: string): Promise<PolicyResource[]> {
    reset();
    await construct(
        (opts) => new RunbookStack(stack === "production" ? "prod" : "stg", { config: stackConfig(stack) }, opts),
    );
    return policyResources(registered);
}

beforeAll(async () => {
    production = await resourcesOf("production");
    staging = await resourcesOf("staging");
});

const resourcePolicies = [requireProbes, requireResourceLimits, denyUnpinnedImages, requireHpaBounds];
const stackPolicies = [
    requirePdbInProduction,
    requireLiveActiveColor,
    requireCanaryWeightOnPlan,
    requireBackupsInProduction,
    requireRollbackAlerts,
    requireSecureBackupBuckets,
];

describe("the baseline is compliant", () => {
    test.each(resourcePolicies.map((p) => [p.name, p] as const))(
        "%s: no violation on any production or staging resource",
        async (_n, policy) => {
            for (const r of [...production, ...staging]) expect(await runResourcePolicy(policy, r)).toEqual([]);
        },
    );
    test.each(stackPolicies.map((p) => [p.name, p] as const))(
        "%s: no violation on production or staging",
        async (_n, policy) => {
            expect(await runStackPolicy(policy, production)).toEqual([]);
            expect(await runStackPolicy(policy, staging)).toEqual([]);
        },
    );
});

describe("require-probes", () => {
    test("a container without a readiness probe", async () => {
        const d = clone(production).find((r) => r.name === "prod-api-bg-green")!;
        delete d.props.spec.template.spec.containers[0].readinessProbe;
        expect(await runResourcePolicy(requireProbes, d)).toEqual([
            {
                message:
                    "Deployment shop-production/api-green: container 'api' has no readinessProbe; add them (services.<name>.probes, default GET /api/health).",
                urn: undefined,
            },
        ]);
    });
});

describe("require-resource-limits", () => {
    test("a container without a memory limit", async () => {
        const d = find(clone(production), "prod-api-bg-blue");
        delete d.props.spec.template.spec.containers[0].resources.limits.memory;
        expect((await runResourcePolicy(requireResourceLimits, d)).map((v) => v.message)).toEqual([
            "Deployment shop-production/api-blue: container 'api' has no resources.limits.memory; set them (services.<name>.resources).",
        ]);
    });
});

describe("deny-unpinned-images", () => {
    test.each([
        ["ghcr.io/acme/api", false, "has no tag, so it means 'latest'"],
        ["ghcr.io/acme/api:latest", false, "uses the 'latest' tag"],
        [
            "ghcr.io/acme/api:main",
            true,
            "uses the moving tag 'main'; production needs a digest or a release tag such as 1.2.3",
        ],
        ["ghcr.io/acme/api:main", false, undefined],
        ["ghcr.io/acme/api:1.42.0", true, undefined],
        ["registry:5000/acme/api:v2.0.1-rc.1", true, undefined],
        ["postgres:16.6-alpine", true, undefined],
        ["postgres:16", true, "uses the moving tag '16'; production needs a digest or a release tag such as 1.2.3"],
        [`ghcr.io/acme/api@sha256:${"a".repeat(64)}`, true, undefined],
    ])("%s (production %s)", (image, prod, problem) => {
        expect(imageProblem(image, prod)).toBe(problem);
    });

    test("a production Deployment on a moving tag", async () => {
        const d = find(clone(production), "prod-web-bg-green");
        d.props.spec.template.spec.containers[0].image = "ghcr.io/acme/shop-web:stable";
        expect((await runResourcePolicy(denyUnpinnedImages, d)).map((v) => v.message)).toEqual([
            "Deployment shop-production/web-green: container 'web' image 'ghcr.io/acme/shop-web:stable' uses the moving tag 'stable'; production needs a digest or a release tag such as 1.2.3; pin it.",
        ]);
    });
});

describe("require-hpa-bounds", () => {
    test("min below 2 and max below min", async () => {
        const h = find(clone(staging), "stg-api-autoscaler-hpa");
        h.props.spec.minReplicas = 1;
        expect((await runResourcePolicy(requireHpaBounds, h)).map((v) => v.message)).toEqual([
            "HorizontalPodAutoscaler shop-staging/api: minReplicas is 1; it should be at least 2 so one pod can fail (autoscaling.minReplicas).",
        ]);
        h.props.spec.minReplicas = 4;
        h.props.spec.maxReplicas = 3;
        expect((await runResourcePolicy(requireHpaBounds, h)).map((v) => v.message)).toEqual([
            "HorizontalPodAutoscaler shop-staging/api: maxReplicas 3 is below minReplicas 4; raise autoscaling.maxReplicas.",
        ]);
    });
});

describe("require-pdb-in-production", () => {
    test("a production Deployment without a PodDisruptionBudget", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-web-pdb");
        expect((await runStackPolicy(requirePdbInProduction, rs)).map((v) => v.message)).toEqual([
            "Deployment shop-production/web-blue has no PodDisruptionBudget selecting its pods; give every production Deployment one (the runbook components do: AppService).",
            "Deployment shop-production/web-green has no PodDisruptionBudget selecting its pods; give every production Deployment one (the runbook components do: AppService).",
        ]);
    });
});

describe("require-live-active-color", () => {
    test("the active Service selects a colour scaled to 0", async () => {
        const rs = clone(production);
        find(rs, "prod-api-bg-green").props.spec.replicas = 0;
        expect((await runStackPolicy(requireLiveActiveColor, rs)).map((v) => v.message)).toEqual([
            "Service shop-production/api-preview selects colour 'green' but Deployment shop-production/api-green has 0 replicas; scale it up before switching (blueGreen.idleReplicas).",
            "Service shop-production/api selects colour 'green' but Deployment shop-production/api-green has 0 replicas; scale it up before switching (blueGreen.idleReplicas).",
        ]);
    });

    test("the active Service selects a colour with no Deployment", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-web-bg-green");
        expect((await runStackPolicy(requireLiveActiveColor, rs)).map((v) => v.message)).toContain(
            "Service shop-production/web selects colour 'green' but no Deployment in shop-production has those pod labels; deploy that colour before switching activeColor.",
        );
    });
});

describe("require-canary-weight-on-plan", () => {
    test("an HTTPRoute weight off the plan", async () => {
        const rs = clone(staging);
        const refs = find(rs, "stg-api-canary-route").props.spec.rules[0].backendRefs;
        refs[0].weight = 70;
        refs[1].weight = 30;
        expect((await runStackPolicy(requireCanaryWeightOnPlan, rs)).map((v) => v.message)).toEqual([
            "HTTPRoute shop-staging/api: canary weight 30 is not on the plan [5, 25, 100] (0 aborts, 100 promotes); step to the next planned weight.",
        ]);
    });

    test("weights that do not add up to 100; each object's own plan wins over the config's", async () => {
        const rs = clone(staging);
        find(rs, "stg-api-canary-route").props.spec.rules[0].backendRefs[0].weight = 80;
        // Every canary object declares its service's plan (api 5/25/100, web 25/50/100): the config's steps do not apply.
        expect(
            (await runStackPolicy(requireCanaryWeightOnPlan, rs, { steps: [10, 50, 100] })).map((v) => v.message),
        ).toEqual(["HTTPRoute shop-staging/api: backend weights add up to 105, not 100."]);
    });

    test("a service's own plan: web at 50 is on its plan 25 → 50 → 100, off the default one", async () => {
        const rs = clone(staging);
        for (const n of ["stg-web-canary-stable", "stg-web-canary-canary"])
            find(rs, n).props.metadata.annotations["runbook.dev/canary-weight"] = "50";
        expect(await runStackPolicy(requireCanaryWeightOnPlan, rs)).toEqual([]);
        for (const n of ["stg-web-canary-stable", "stg-web-canary-canary"])
            delete find(rs, n).props.metadata.annotations["runbook.dev/canary-steps"];
        expect((await runStackPolicy(requireCanaryWeightOnPlan, rs)).map((v) => v.message)).toEqual([
            "Deployment shop-staging/web-stable: canary weight 50 is not on the plan [5, 25, 100] (0 aborts, 100 promotes); step to the next planned weight.",
            "Deployment shop-staging/web-canary: canary weight 50 is not on the plan [5, 25, 100] (0 aborts, 100 promotes); step to the next planned weight.",
        ]);
    });

    test("an object that declares no plan is held to the config's steps; a malformed plan is named", async () => {
        const rs = clone(staging);
        const route = find(rs, "stg-api-canary-route");
        delete route.props.metadata.annotations["runbook.dev/canary-steps"];
        expect(
            (await runStackPolicy(requireCanaryWeightOnPlan, [route], { steps: [10, 50, 100] })).map((v) => v.message),
        ).toEqual([
            "HTTPRoute shop-staging/api: canary weight 25 is not on the plan [10, 50, 100] (0 aborts, 100 promotes); step to the next planned weight.",
        ]);
        route.props.metadata.annotations["runbook.dev/canary-steps"] = "[25, 5, 100]";
        expect((await runStackPolicy(requireCanaryWeightOnPlan, [route])).map((v) => v.message)).toEqual([
            'HTTPRoute shop-staging/api: annotation runbook.dev/canary-steps is "[25, 5, 100]", not a rising JSON array of whole percentages 1..100.',
        ]);
    });

    test("an NGINX canary weight outside 0..100", async () => {
        const ingress = {
            ...find(clone(staging), "stg-api-canary-route"),
            type: "kubernetes:networking.k8s.io/v1:Ingress",
            props: {
                metadata: {
                    name: "api-canary",
                    namespace: "shop-staging",
                    annotations: {
                        "nginx.ingress.kubernetes.io/canary": "true",
                        "nginx.ingress.kubernetes.io/canary-weight": "150",
                    },
                },
            },
        } as PolicyResource;
        expect((await runStackPolicy(requireCanaryWeightOnPlan, [ingress])).map((v) => v.message)).toEqual([
            "Ingress shop-staging/api-canary: canary weight 150 is not a number 0..100; set services.<name>.canary.weight.",
        ]);
    });
});

describe("require-backups-in-production", () => {
    test("no pre-deploy Job, and a weekly schedule", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-backup-predeploy");
        find(rs, "prod-backup-cron").props.spec.schedule = "0 2 * * 0";
        expect((await runStackPolicy(requireBackupsInProduction, rs)).map((v) => v.message)).toEqual([
            "CronJob shop-backup: schedule '0 2 * * 0' leaves 168 h between backups; it should run at least daily (backup.schedule).",
            "No pre-deploy backup Job in this production stack; set backup.preDeploy: true so every release is preceded by a fresh backup.",
        ]);
    });

    test("no backup CronJob at all", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-backup-cron");
        expect((await runStackPolicy(requireBackupsInProduction, rs)).map((v) => v.message)).toEqual([
            "No backup CronJob in this production stack; enable backup (runbook:backup.enabled).",
        ]);
    });

    test("no restore drill, or one that runs less than weekly", async () => {
        const none = clone(production).filter((r) => r.name !== "prod-backup-restore-drill");
        expect((await runStackPolicy(requireBackupsInProduction, none)).map((v) => v.message)).toEqual([
            "No restore drill CronJob in this production stack; set backup.restoreDrill so a restore is tested at least every 7 days (runbooks 001, 003).",
        ]);
        const monthly = clone(production);
        find(monthly, "prod-backup-restore-drill").props.spec.schedule = "0 4 1 * *";
        expect((await runStackPolicy(requireBackupsInProduction, monthly)).map((v) => v.message)).toEqual([
            `CronJob shop-restore-drill: schedule "0 4 1 * *" does not run a restore drill at least every 7 days (backup.restoreDrill.schedule).`,
        ]);
    });

    test("the restore CronJob, suspended and yearly, is not judged as a backup", async () => {
        expect(find(clone(production), "prod-backup-restore").props.spec).toMatchObject({
            suspend: true,
            schedule: "0 0 1 1 *",
        });
        expect(await runStackPolicy(requireBackupsInProduction, clone(production))).toEqual([]);
    });

    test("staging needs none", async () => {
        const rs = clone(staging).filter((r) => r.name !== "stg-backup-cron" && r.name !== "stg-backup-predeploy");
        expect(await runStackPolicy(requireBackupsInProduction, rs)).toEqual([]);
    });

    test("longest gap of a schedule", () => {
        expect([
            longestGapHours("0 2 * * *"),
            longestGapHours("0 */6 * * *"),
            longestGapHours("0 2 * * 1-5"),
            longestGapHours("nope"),
        ]).toEqual([24, 6, 72, undefined]);
    });
});

describe("require-rollback-alerts", () => {
    test("a production app without its PrometheusRule", async () => {
        const rs = clone(production).filter((r) => r.name !== "prod-web-alerts-rule");
        expect((await runStackPolicy(requireRollbackAlerts, rs)).map((v) => v.message)).toEqual([
            "Production app 'web' has no PrometheusRule alert ErrorRateCritical, ErrorRateWarning, LatencyP95High, PodRestartsHigh, MemoryHigh, ReadinessFailing; add them (the runbook program: keep runbook:alerts.enabled true).",
        ]);
    });

    test("one alert missing from the rule", async () => {
        const rs = clone(production);
        const rule = find(rs, "prod-api-alerts-rule").props.spec.groups[0];
        rule.rules = rule.rules.filter((r: { alert: string }) => r.alert !== "LatencyP95High");
        expect((await runStackPolicy(requireRollbackAlerts, rs)).map((v) => v.message)).toEqual([
            "Production app 'api' has no PrometheusRule alert LatencyP95High; add them (the runbook program: keep runbook:alerts.enabled true).",
        ]);
    });
});

describe("require-secure-backup-buckets", () => {
    test("a bucket without versioning, encryption and a full public access block", async () => {
        const rs = clone(production).filter(
            (r) => !["prod-backup-versioning", "prod-backup-encryption"].includes(r.name),
        );
        find(rs, "prod-backup-public-access").props.restrictPublicBuckets = false;
        expect((await runStackPolicy(requireSecureBackupBuckets, rs)).map((v) => v.message)).toEqual([
            "Bucket prod-backup-bucket is not versioned; add a BucketVersioning with status Enabled.",
            "Bucket prod-backup-bucket has no default encryption; add a BucketServerSideEncryptionConfiguration.",
            "Bucket prod-backup-bucket does not block all public access; add a BucketPublicAccessBlock with all four settings true.",
        ]);
    });

    test("a public ACL", async () => {
        const rs = clone(production);
        find(rs, "prod-backup-bucket").props.acl = "public-read";
        expect((await runStackPolicy(requireSecureBackupBuckets, rs)).map((v) => v.message)).toEqual([
            "Bucket prod-backup-bucket has ACL 'public-read'; backups must not be public.",
        ]);
    });
});
