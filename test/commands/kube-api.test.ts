// commands/kube-api.ts without a cluster: which credentials a kubeconfig yields, and which
// it leaves to kubectl. test/e2e/kube-api proves the requests on the live cluster.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { credentialsOf, KubeApiError, objectPath } from "../../commands/kube-api";
import { writeKubeconfig } from "../util/kubeconfig";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-api-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig in `dir` with one context `c` of `cluster` and `user`. */
const kubeconfig = (cluster: object, user: object, extra: object = {}) =>
    writeKubeconfig(path.join(dir, "config"), cluster, user, extra);

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("client certificate files are read relative to the kubeconfig, the CA from its data", () => {
    fs.mkdirSync(path.join(dir, "pki"));
    fs.writeFileSync(path.join(dir, "pki", "client.crt"), "CERT");
    fs.writeFileSync(path.join(dir, "pki", "client.key"), "KEY");
    const c = credentialsOf(
        kubeconfig(
            { server: "https://127.0.0.1:6443/", "certificate-authority-data": b64("CA") },
            { "client-certificate": "pki/client.crt", "client-key": "pki/client.key" },
        ),
    );
    expect(c).toEqual({
        server: "https://127.0.0.1:6443",
        ca: Buffer.from("CA"),
        insecure: false,
        serverName: undefined,
        cert: Buffer.from("CERT"),
        key: Buffer.from("KEY"),
        token: undefined,
    });
});

test("a token, or a token file, is the bearer", () => {
    expect(credentialsOf(kubeconfig({ server: "https://k" }, { token: "t0k" }))).toMatchObject({ token: "t0k" });
    fs.writeFileSync(path.join(dir, "token"), "from-file\n");
    expect(credentialsOf(kubeconfig({ server: "https://k" }, { tokenFile: "token" }))).toMatchObject({
        token: "from-file",
    });
});

test("the named context wins over current-context, and an unknown one is named", () => {
    const file = kubeconfig(
        { server: "https://first" },
        { token: "a" },
        {
            contexts: [
                { name: "c", context: { cluster: "k", user: "u" } },
                { name: "other", context: { cluster: "k2", user: "u" } },
            ],
            clusters: [
                { name: "k", cluster: { server: "https://first" } },
                { name: "k2", cluster: { server: "https://second" } },
            ],
        },
    );
    expect(credentialsOf(file)).toMatchObject({ server: "https://first" });
    expect(credentialsOf(file, "other")).toMatchObject({ server: "https://second" });
    expect(() => credentialsOf(file, "nope")).toThrow(new KubeApiError(`${file} has no context 'nope'`));
});

test("a credential plugin runs once, with the kubeconfig's env and KUBERNETES_EXEC_INFO, and its token is used", () => {
    const plugin = path.join(dir, "plugin.sh");
    fs.writeFileSync(
        plugin,
        [
            "#!/bin/sh",
            'echo run >> "$(dirname "$0")/runs"',
            // The token proves both the env entry and the exec info reached the plugin.
            `kind=$(echo "$KUBERNETES_EXEC_INFO" | sed 's/.*"kind":"\\([A-Za-z]*\\)".*/\\1/')`,
            'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s-%s"}}\' "$PREFIX" "$kind" "$1"',
        ].join("\n"),
        { mode: 0o755 },
    );
    const c = credentialsOf(
        kubeconfig(
            { server: "https://k" },
            {
                exec: {
                    apiVersion: "client.authentication.k8s.io/v1",
                    command: "./plugin.sh",
                    args: ["arg1"],
                    env: [{ name: "PREFIX", value: "p" }],
                },
            },
        ),
    );
    expect(c).toMatchObject({ token: "p-ExecCredential-arg1" });
    expect(fs.readFileSync(path.join(dir, "runs"), "utf8")).toBe("run\n");
});

test("a credential plugin that fails is named with what it said", () => {
    const plugin = path.join(dir, "fail.sh");
    fs.writeFileSync(plugin, "#!/bin/sh\necho 'token expired, run sso login' >&2\nexit 1\n", { mode: 0o755 });
    expect(() =>
        credentialsOf(kubeconfig({ server: "https://k" }, { exec: { apiVersion: "v1", command: "./fail.sh" } })),
    ).toThrow("the kubeconfig's credential plugin ./fail.sh failed: token expired, run sso login");
});

test.each([
    [{ server: "https://k", "proxy-url": "http://proxy" }, { token: "t" }, "a proxy-url"],
    [{ server: "https://k" }, { "auth-provider": { name: "oidc" } }, "an auth-provider"],
    [{ server: "https://k" }, { username: "u", password: "p" }, "basic authentication"],
    [{ server: "https://k" }, { token: "t", as: "someone" }, "impersonation"],
])("kubectl is left what this client does not do: %j %j", (cluster, user, reason) => {
    expect(credentialsOf(kubeconfig(cluster, user))).toEqual({ unsupported: reason });
});

test("a list of kubeconfig files is left to kubectl", () => {
    expect(credentialsOf(`${kubeconfig({ server: "https://k" }, {})}${path.delimiter}/other`)).toEqual({
        unsupported: "a list of kubeconfig files",
    });
});

test("API paths: the core group, named groups, and a kind the rollback does not use", () => {
    expect(objectPath("service", "shop", "api")).toBe("/api/v1/namespaces/shop/services/api");
    expect(objectPath("job", "shop", "api-smoke-blue-1")).toBe("/apis/batch/v1/namespaces/shop/jobs/api-smoke-blue-1");
    expect(objectPath("httproutes.gateway.networking.k8s.io", "shop", "web")).toBe(
        "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web",
    );
    expect(() => objectPath("configmap", "shop", "x")).toThrow("no API path known for kind configmap");
});
