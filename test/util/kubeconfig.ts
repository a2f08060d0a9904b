// Kubeconfigs the tests write: one context `c` of one cluster and one user.
import * as fs from "node:fs";
import { stringify } from "yaml";

/** Writes a kubeconfig whose current context `c` joins `cluster` and `user`; `extra` replaces any top-level key. */
export function writeKubeconfig(file: string, cluster: object, user: object, extra: object = {}): string {
    fs.writeFileSync(
        file,
        stringify({
            apiVersion: "v1",
            kind: "Config",
            "current-context": "c",
            contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
            clusters: [{ name: "k", cluster }],
            users: [{ name: "u", user }],
            ...extra,
        }),
    );
    return file;
}
