// scripts/fresh-bundle.cjs: a command runs from one bundled file that is never older than
// its sources, in a project of its own (a temporary copy) so nothing here touches .build/.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../util/stack";

jest.setTimeout(60_000);

let dir: string;

beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fresh-bundle-"));
    fs.mkdirSync(path.join(dir, "scripts"));
    fs.mkdirSync(path.join(dir, "commands"));
    fs.mkdirSync(path.join(dir, "lib"));
    fs.copyFileSync(path.join(ROOT, "scripts", "fresh-bundle.cjs"), path.join(dir, "scripts", "fresh-bundle.cjs"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(
        path.join(dir, "lib", "greeting.ts"),
        "export const greeting = (who: string): string => `hello ${who}`;\n",
    );
    fs.writeFileSync(
        path.join(dir, "commands", "hello.ts"),
        [
            'import { parse } from "yaml";',
            'import { greeting } from "../lib/greeting";',
            "const main = require.main === module;",
            "process.stdout.write(`${greeting(process.argv[2])} main=${main} yaml=${typeof parse}\\n`);",
        ].join("\n"),
    );
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (name: string, ...args: string[]) =>
    spawnSync(process.execPath, ["-r", "./scripts/fresh-bundle.cjs", `.build/${name}.js`, ...args], {
        cwd: dir,
        encoding: "utf8",
    });

/** Moves a file's modification time `seconds` into the future, as an edit after the build would. */
function touchLater(file: string, seconds: number): void {
    const t = new Date(Date.now() + seconds * 1000);
    fs.utimesSync(file, t, t);
}

test("a command runs from its bundle as the main module, with its arguments", () => {
    const r = run("hello", "world");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello world main=true yaml=function\n");
    const bundle = fs.readFileSync(path.join(dir, ".build", "hello.js"), "utf8");
    // The project's own module is inside; the package is loaded from node_modules.
    expect(bundle).toContain("hello ${who}");
    expect(bundle).toMatch(/require\("yaml"\)/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, ".build", "hello.inputs.json"), "utf8")).inputs).toEqual([
        "lib/greeting.ts",
        "commands/hello.ts",
    ]);
});

test("an edit to any source it was built from rebuilds it before it runs", () => {
    expect(run("hello", "a").stdout).toBe("hello a main=true yaml=function\n");
    const greeting = path.join(dir, "lib", "greeting.ts");
    fs.writeFileSync(greeting, "export const greeting = (who: string): string => `bye ${who}`;\n");
    touchLater(greeting, 5);
    expect(run("hello", "a").stdout).toBe("bye a main=true yaml=function\n");
});

test("an unchanged command is not rebuilt", () => {
    run("hello", "a");
    const bundle = path.join(dir, ".build", "hello.js");
    const built = fs.statSync(bundle).mtimeMs;
    // A marker the build would overwrite: it survives only if the bundle is reused.
    fs.appendFileSync(bundle, "\nprocess.stdout.write('reused\\n');\n");
    touchLater(bundle, 1);
    expect(fs.statSync(bundle).mtimeMs).toBeGreaterThan(built);
    expect(run("hello", "a").stdout).toBe("hello a main=true yaml=function\nreused\n");
});

test("a command that does not exist is named", () => {
    const r = run("nosuch");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("fresh-bundle: no command nosuch (commands/nosuch.ts does not exist)");
});

test("a source that does not compile fails with esbuild's message and leaves no bundle", () => {
    fs.writeFileSync(path.join(dir, "commands", "broken.ts"), "const x = ;\n");
    const r = run("broken");
    expect(r.status).not.toBe(0);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERROR] Unexpected ";"');
    expect(r.stderr).toContain("commands/broken.ts:1:10:");
    expect(r.stderr).toMatch(/fresh-bundle: commands\/broken\.ts does not build \(esbuild says why above\)\n$/);
    expect(fs.readdirSync(path.join(dir, ".build")).filter((f) => f.startsWith("broken"))).toEqual([]);
});
