import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../util/stack";

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

function validate(args: string[]) {
    const r = spawnSync(TSX, [path.join(ROOT, "commands", "main.ts"), "validate", ...args], {
        encoding: "utf8",
        env: { ...process.env, RUNBOOK_RELEASE_APPROVALS: undefined },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("npm run validate", () => {
    test.each(["production", "staging", "local"])("accepts Pulumi.%s.yaml (exit 0)", (stack) => {
        const r = validate(["--stack", stack]);
        expect(r.code).toBe(0);
        expect(r.out).toMatch(new RegExp(`^Pulumi\\.${stack}\\.yaml: valid`));
    });

    test("rejects a bad stack file with every problem (exit 1)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "validate-"));
        const bad = fs
            .readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8")
            .replace("weight: 25", "weight: 150")
            .replace("runbook:environment: staging", "runbook:environment: prod");
        fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), bad);
        const r = validate(["--stack", "bad", "--dir", dir]);
        expect(r.code).toBe(1);
        expect(r.out).toBe(
            [
                "Pulumi.bad.yaml: Invalid stack configuration (2 problems):",
                "  - runbook:environment: expected one of 'staging', 'production', got \"prod\"",
                "  - runbook:services.api.canary.weight: expected an integer 0..100, got 150",
                "",
            ].join("\n"),
        );
    });

    test("an unknown stack is unusable input (exit 2)", () => {
        const r = validate(["--stack", "qa"]);
        expect(r.code).toBe(2);
        expect(r.err).toContain("unknown stack 'qa': Pulumi.qa.yaml not found (known: local, production, staging)");
    });

    test("a missing --stack is unusable input (exit 2)", () => {
        const r = validate([]);
        expect(r.code).toBe(2);
        expect(r.err).toContain("--stack is required");
    });

    test("a file that is not YAML is unusable input (exit 2)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "validate-"));
        fs.writeFileSync(path.join(dir, "Pulumi.broken.yaml"), "config: [unclosed\n");
        const r = validate(["--stack", "broken", "--dir", dir]);
        expect(r.code).toBe(2);
        expect(r.err).toContain("Pulumi.broken.yaml: not valid YAML");
    });
});
