// node -r ./scripts/fresh-bundle.cjs .build/NAME.js [args…]
// Runs commands/NAME.ts as one bundled CommonJS file, rebuilt first when it is
// missing or older than any source it was built from. Node.js loads this file before the
// main module, so the command then starts as a plain script (require.main === module).
// Why: through tsx's loader a command needs about 0.6 s before its first line runs, bundled
// about 0.25 s, and an emergency rollback's time to restored traffic starts with it.
// Packages stay in node_modules (they are loaded only when a command reaches them); the
// project's own modules are bundled, so a command loads one file instead of dozens.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const OUT_DIR = path.join(ROOT, ".build");

/** The bundle's build record: the sources it was built from and the options' stamp. */
const metaPath = (bundle) => bundle.replace(/\.js$/, ".inputs.json");

function isFresh(bundle, stamp) {
    let built;
    try {
        built = fs.statSync(bundle).mtimeMs;
        const meta = JSON.parse(fs.readFileSync(metaPath(bundle), "utf8"));
        if (meta.stamp !== stamp) return false;
        return meta.inputs.every((input) => fs.statSync(path.join(ROOT, input)).mtimeMs <= built);
    } catch {
        return false; // no bundle, no record, or a source gone: build again
    }
}

function build(source, bundle, stamp) {
    const esbuild = require("esbuild");
    // A file of its own per process, renamed into place: two commands started at once
    // never read a half-written bundle.
    const tmp = `${bundle}.${process.pid}.tmp`;
    let result;
    try {
        result = esbuild.buildSync({
            absWorkingDir: ROOT,
            entryPoints: [source],
            outfile: tmp,
            bundle: true,
            platform: "node",
            format: "cjs",
            target: `node${process.versions.node.split(".")[0]}`,
            packages: "external",
            metafile: true,
            logLevel: "error",
        });
    } catch {
        throw new Error(`fresh-bundle: ${source} does not build (esbuild says why above)`);
    }
    const inputs = Object.keys(result.metafile.inputs);
    fs.writeFileSync(`${metaPath(bundle)}.${process.pid}.tmp`, JSON.stringify({ stamp, inputs }));
    fs.renameSync(`${metaPath(bundle)}.${process.pid}.tmp`, metaPath(bundle));
    fs.renameSync(tmp, bundle);
}

function prepare(bundle) {
    if (path.dirname(bundle) !== OUT_DIR || !bundle.endsWith(".js"))
        throw new Error(`fresh-bundle: expected .build/NAME.js as the main module, got ${bundle}`);
    const name = path.basename(bundle, ".js");
    const source = path.join("commands", `${name}.ts`);
    if (!fs.existsSync(path.join(ROOT, source)))
        throw new Error(`fresh-bundle: no command ${name} (${source} does not exist)`);
    const stamp = `${require("esbuild/package.json").version} node${process.versions.node.split(".")[0]}`;
    if (isFresh(bundle, stamp)) return;
    fs.mkdirSync(OUT_DIR, { recursive: true });
    build(source, bundle, stamp);
}

try {
    prepare(path.resolve(process.argv[1] ?? ""));
} catch (e) {
    // esbuild has printed where a source does not compile; one line says what stopped.
    process.stderr.write(`${e.message.split("\n")[0]}\n`);
    process.exit(2);
}
