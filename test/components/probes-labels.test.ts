import { imageVersion, labelValue, recommendedLabels } from "../../components/labels";
import { execProbe, grpcProbe, httpProbe, tcpProbe } from "../../components/probes";

describe("probe builders", () => {
    test("http, tcp, exec and grpc", () => {
        expect(httpProbe("/api/health", { port: 3000, periodSeconds: 5 })).toEqual({
            httpGet: { path: "/api/health", port: 3000 },
            periodSeconds: 5,
        });
        expect(tcpProbe({ port: 5432, failureThreshold: 3 })).toEqual({
            tcpSocket: { port: 5432 },
            failureThreshold: 3,
        });
        expect(execProbe(["pg_isready"], { timeoutSeconds: 2 })).toEqual({
            exec: { command: ["pg_isready"] },
            timeoutSeconds: 2,
        });
        expect(grpcProbe({ port: 9000, service: "health" })).toEqual({ grpc: { port: 9000, service: "health" } });
    });
});

describe("labels", () => {
    test("recommended app.kubernetes.io labels and the environment label", () => {
        expect(
            recommendedLabels({
                app: "api",
                partOf: "shop",
                environment: "staging",
                version: "1.2.3",
                component: "server",
            }),
        ).toEqual({
            "app.kubernetes.io/name": "api",
            "app.kubernetes.io/instance": "api-staging",
            "app.kubernetes.io/part-of": "shop",
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/component": "server",
            "app.kubernetes.io/version": "1.2.3",
            "runbook.dev/environment": "staging",
        });
    });

    test("image versions: tag, digest, registry port", () => {
        expect(imageVersion("ghcr.io/acme/api:1.42.0")).toBe("1.42.0");
        expect(imageVersion("registry:5000/acme/api:2.0")).toBe("2.0");
        expect(imageVersion(`registry:5000/acme/api@sha256:${"ab".repeat(32)}`)).toBe("sha256-abababababab");
        expect(labelValue("-1.0+build/7-")).toBe("1.0_build_7");
    });
});
