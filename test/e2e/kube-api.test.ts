// commands/kube-api.ts against the live local cluster: what the rollback reads and writes
// without kubectl, with the cluster's admin certificate, a ServiceAccount's token, and the
// same token from a credential plugin; kubectl is the reference for what the server holds.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { Kubectl } from "../../commands/kube";
import { credentialsOf, KubeApi, KubeApiError, trafficApi } from "../../commands/kube-api";
import { writeKubeconfig } from "../util/kubeconfig";
import { clusterKubeconfig, kubectl } from "./cluster";

jest.setTimeout(120_000);

const NS = "kube-api-e2e";
let dir: string;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-api-e2e-"));
    const k = kubectl();
    k.run(["delete", "namespace", NS, "--ignore-not-found", "--wait=true"]);
    k.run(["create", "namespace", NS]);
    k.run(["-n", NS, "create", "service", "clusterip", "api", "--tcp=80:8080"]);
    k.run(["-n", NS, "create", "serviceaccount", "rollback"]);
    k.run([
        "-n",
        NS,
        "create",
        "rolebinding",
        "rollback-edit",
        "--clusterrole=edit",
        `--serviceaccount=${NS}:rollback`,
    ]);
});

afterAll(() => {
    kubectl().run(["delete", "namespace", NS, "--ignore-not-found", "--wait=false"]);
    fs.rmSync(dir, { recursive: true, force: true });
});

/** The local kubeconfig with its user replaced by `user` (the CA and server kept). */
function kubeconfigWithUser(name: string, user: object): string {
    const cluster = parse(fs.readFileSync(clusterKubeconfig(), "utf8")).clusters[0].cluster;
    const caFile = path.resolve(path.dirname(clusterKubeconfig()), cluster["certificate-authority"]);
    return writeKubeconfig(path.join(dir, name), { server: cluster.server, "certificate-authority": caFile }, user);
}

/** The Service `api` selecting `color`: the whole selector, as the rollback writes it (an atomic map). */
const selecting = (color: string) => [
    {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "api", namespace: NS },
        spec: { selector: { app: "api", color } },
    },
];

function api(file: string): KubeApi {
    const c = credentialsOf(file);
    if ("unsupported" in c) throw new Error(`unexpected: ${c.unsupported}`);
    return new KubeApi(c);
}

const selector = () => kubectl().find("service", "api", NS)?.spec?.selector;
const managers = (): { manager: string; operation: string }[] =>
    JSON.parse(kubectl().run(["-n", NS, "get", "service", "api", "-o", "json", "--show-managed-fields"])).metadata
        .managedFields;

test("with the cluster's certificate: reads what kubectl reads, and a missing object is undefined", async () => {
    const a = api(clusterKubeconfig());
    try {
        const live = await a.findAll(NS, [
            { kind: "service", name: "api" },
            { kind: "deployment", name: "api-blue" },
        ]);
        expect(live("service", "api").metadata.uid).toBe(kubectl().find("service", "api", NS).metadata.uid);
        expect(live("deployment", "api-blue")).toBeUndefined();
    } finally {
        a.close();
    }
});

test("a server-side apply under its own field manager changes the selector, as kubectl sees it", async () => {
    const a = api(clusterKubeconfig());
    try {
        await a.apply(selecting("blue"), "kube-api-e2e");
    } finally {
        a.close();
    }
    expect(selector()).toEqual({ app: "api", color: "blue" });
    expect(managers()).toContainEqual(expect.objectContaining({ manager: "kube-api-e2e", operation: "Apply" }));
});

test("with a ServiceAccount token, and with the same token from a credential plugin", async () => {
    const token = kubectl().run(["-n", NS, "create", "token", "rollback", "--duration=10m"]).trim();
    const plugin = path.join(dir, "plugin.sh");
    fs.writeFileSync(
        plugin,
        `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "${token}"\n`,
        { mode: 0o755 },
    );
    const files = [
        kubeconfigWithUser("token", { token }),
        kubeconfigWithUser("exec", { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } }),
    ];
    for (const [i, file] of files.entries()) {
        const a = api(file);
        try {
            const color = i === 0 ? "green" : "blue";
            await a.apply(selecting(color), "kube-api-e2e");
            expect(selector()).toEqual({ app: "api", color });
            expect(
                (await a.findAll(NS, [{ kind: "service", name: "api" }]))("service", "api").spec.selector.color,
            ).toBe(color);
        } finally {
            a.close();
        }
    }
});

test("a wrong token and a missing permission are the API server's own words", async () => {
    const wrong = api(kubeconfigWithUser("wrong", { token: "not-a-token" }));
    await expect(wrong.findAll(NS, [{ kind: "service", name: "api" }])).rejects.toThrow(
        new KubeApiError(`get service ${NS}/api: Unauthorized`),
    );
    wrong.close();
    // The ServiceAccount may edit its own namespace only.
    const token = kubectl().run(["-n", NS, "create", "token", "rollback", "--duration=10m"]).trim();
    const limited = api(kubeconfigWithUser("limited", { token }));
    await expect(limited.findAll("kube-system", [{ kind: "service", name: "kube-dns" }])).rejects.toThrow(
        /^get service kube-system\/kube-dns: services "kube-dns" is forbidden: User "system:serviceaccount:kube-api-e2e:rollback" cannot get resource "services"/,
    );
    limited.close();
});

test("an API server that does not answer is an error naming it, not a hang", async () => {
    const file = kubeconfigWithUser("closed", { token: "x" });
    const text = fs.readFileSync(file, "utf8").replace(/server: .*/, "server: https://127.0.0.1:9");
    fs.writeFileSync(file, text);
    const a = api(file);
    await expect(a.findAll(NS, [{ kind: "service", name: "api" }])).rejects.toThrow(
        /^https:\/\/127\.0\.0\.1:9: connect ECONNREFUSED 127\.0\.0\.1:9$/,
    );
    a.close();
});

test("a kubeconfig this client leaves alone (impersonation) is read and written through kubectl", async () => {
    const admin = parse(fs.readFileSync(clusterKubeconfig(), "utf8"));
    const base = path.dirname(clusterKubeconfig());
    const user = admin.users[0].user;
    const file = kubeconfigWithUser("impersonating", {
        "client-certificate": path.resolve(base, user["client-certificate"]),
        "client-key": path.resolve(base, user["client-key"]),
        as: `system:serviceaccount:${NS}:rollback`,
    });
    const t = trafficApi(new Kubectl(file));
    expect(t.via).toBe("kubectl (the kubeconfig uses impersonation)");
    await t.apply(selecting("green"), "kube-api-e2e");
    expect((await t.findAll(NS, [{ kind: "service", name: "api" }]))("service", "api").spec.selector.color).toBe(
        "green",
    );
    expect(selector()).toEqual({ app: "api", color: "green" });
    // The impersonated ServiceAccount, not the admin, made the change: outside its namespace it may not read.
    await expect(t.findAll("kube-system", [{ kind: "service", name: "kube-dns" }])).rejects.toThrow(/forbidden/);
});
