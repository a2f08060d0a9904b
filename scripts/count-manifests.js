// Prints how many manifests of each kind a renderYamlToDirectory run wrote.
const fs = require("node:fs");
const path = require("node:path");
const { parseAllDocuments } = require("yaml");

function files(dir) {
    return fs.existsSync(dir)
        ? fs
              .readdirSync(dir, { withFileTypes: true })
              .flatMap((e) =>
                  e.isDirectory()
                      ? files(path.join(dir, e.name))
                      : e.name.endsWith(".yaml")
                        ? [path.join(dir, e.name)]
                        : [],
              )
        : [];
}

const dir = process.argv[2];
const counts = new Map();
for (const f of files(dir)) {
    for (const doc of parseAllDocuments(fs.readFileSync(f, "utf8"))) {
        const kind = doc.toJS()?.kind ?? "(no kind)";
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
}
const total = [...counts.values()].reduce((a, b) => a + b, 0);
console.log(`Manifests written to ${path.relative(process.cwd(), dir) || dir}:`);
for (const [kind, n] of [...counts].sort()) console.log(`  ${String(n).padStart(3)} ${kind}`);
console.log(`  ${String(total).padStart(3)} in all`);
if (total === 0) process.exit(1);
