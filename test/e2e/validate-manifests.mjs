// Validates rendered manifests against the Kubernetes OpenAPI schemas and the
// prometheus-operator and Gateway API CRD schemas (kubernetes-models, which is ESM-only,
// hence this separate module). Prints one JSON line: {checked, byKind, errors}.
//   node test/e2e/validate-manifests.mjs <dir>
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const packages = {
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
    "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
};

async function modelFor(apiVersion, kind) {
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    const pkg = packages[group] ?? "kubernetes-models";
    const mod = await import(`${pkg}/${apiVersion}`);
    if (!mod[kind]) throw new Error(`${pkg} has no model for ${apiVersion} ${kind}`);
    return mod[kind];
}

function files(dir) {
    return readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? files(p) : p.endsWith(".yaml") ? [p] : [];
    });
}

const dir = process.argv[2];
const byKind = {};
const errors = [];
let checked = 0;
for (const file of files(dir)) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
        const obj = doc.toJS();
        if (!obj) continue;
        try {
            const Model = await modelFor(obj.apiVersion, obj.kind);
            new Model(obj).validate();
            checked++;
            byKind[obj.kind] = (byKind[obj.kind] ?? 0) + 1;
        } catch (e) {
            errors.push(`${file}: ${obj.apiVersion} ${obj.kind}: ${e.message}`);
        }
    }
}
console.log(JSON.stringify({ checked, byKind, errors }));
process.exit(errors.length > 0 ? 1 : 0);
