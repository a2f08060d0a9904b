// The GitHub workflows are linted with actionlint (installed by scripts/setup.sh), so a
// broken workflow fails CI here rather than on the first pull request.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../util/stack";

const ACTIONLINT = path.join(ROOT, ".toolchain", "bin", "actionlint");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");

beforeAll(() => {
    if (!fs.existsSync(ACTIONLINT))
        throw new Error("actionlint is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
});

const lint = (files: string[]) => spawnSync(ACTIONLINT, ["-no-color", ...files], { encoding: "utf8", cwd: ROOT });

test.each(fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml")))("actionlint is clean on %s", (f) => {
    const r = lint([path.join(WORKFLOWS, f)]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
});

test("actionlint catches a broken workflow (the check can fail)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-"));
    const broken = fs
        .readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8")
        .replace("${{ matrix.stack }}", "${{ matrix.stak }}");
    fs.writeFileSync(path.join(dir, "preview.yml"), broken);
    const r = lint([path.join(dir, "preview.yml")]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('property "stak" is not defined');
});
