// The library is a package of its own (components/package.json): what its entry point loads
// is its own modules and what it shares with the policy pack, and the packages it loads are
// exactly the ones its package.json names — a user installs nothing the components never use.
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { ROOT } from "../util/stack";

/** Every module the entry point loads at run time, and the packages among them. */
function closure(): { files: string[]; packages: string[] } {
    const result = buildSync({
        absWorkingDir: ROOT,
        entryPoints: ["components/index.ts"],
        bundle: true,
        write: false,
        platform: "node",
        packages: "external",
        metafile: true,
        logLevel: "silent",
    });
    const inputs = result.metafile.inputs;
    const packages = new Set<string>();
    for (const input of Object.values(inputs))
        for (const imp of input.imports)
            if (imp.external && !imp.path.startsWith("node:")) {
                const parts = imp.path.split("/");
                packages.add(imp.path.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
            }
    return { files: Object.keys(inputs).sort(), packages: [...packages].sort() };
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "components", "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
};

test("the entry point loads only the library's modules and the vocabulary it shares with the pack", () => {
    const { files } = closure();
    expect(files).toContain("components/backup-job.ts");
    const outside = files.filter(
        (f) => !f.startsWith("components/") && !/^policies\/(routers\/|lib\/(well-known|fields)\.ts$)/.test(f),
    );
    expect(outside).toEqual([]);
});

test("the packages it loads are exactly its dependencies and peer dependencies", () => {
    const named = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)].sort();
    expect(closure().packages).toEqual(named);
});

test("its dependencies are the versions the workspace is tested with", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
        packages: Record<string, { version: string }>;
    };
    for (const [name, version] of Object.entries(manifest.dependencies))
        expect([name, lock.packages[`node_modules/${name}`].version]).toEqual([name, version]);
    for (const [name, range] of Object.entries(manifest.peerDependencies))
        expect([name, range]).toEqual([name, `^${lock.packages[`node_modules/${name}`].version}`]);
});
