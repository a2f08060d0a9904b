// How a kind given to kubectl is matched to the objects it answers with (Kubectl.findAll).
import { isKind } from "../../commands/kube";

test.each([
    ["deployment", "Deployment"],
    ["deployments", "Deployment"],
    ["job", "Job"],
    ["service", "Service"],
    ["ingress", "Ingress"],
    ["ingresses", "Ingress"],
    ["httproutes.gateway.networking.k8s.io", "HTTPRoute"],
    ["httproute", "HTTPRoute"],
])("%s names a %s", (asked, kind) => {
    expect(isKind(asked, kind)).toBe(true);
});

test.each([
    ["deployment", "Service"],
    ["job", "CronJob"],
    ["service", "ServiceAccount"],
    ["httproutes.gateway.networking.k8s.io", "GRPCRoute"],
])("%s does not name a %s", (asked, kind) => {
    expect(isKind(asked, kind)).toBe(false);
});
