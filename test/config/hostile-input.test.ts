// Stack files and policy configs come with pull requests: malformed, huge, deeply nested or
// alias-bomb input gets a clear error naming the file — never a hang, a crash or a pass.
// (Signature files: test/lib/signature-file.test.ts.)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MAX_STACK_FILE_BYTES, readStack, StackFileError } from "../../config/stack-file";
import { MAX_POLICY_CONFIG_BYTES, PolicyConfigError, readGateConfigFile } from "../../policies/settings";

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const BOMB = [
    'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(",")}]`),
].join("\n");

describe("a stack file", () => {
    const stack = (name: string, text: string) => {
        fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
        return () => readStack(dir, name, {});
    };

    test("malformed", () => {
        expect(stack("bad", "config:\n  runbook:environment: [production\n")).toThrow(
            new RegExp(`Pulumi\\.bad\\.yaml: not valid YAML: `),
        );
    });

    test("huge: refused before it is parsed", () => {
        const text = `config:\n  runbook:partOf: "${"x".repeat(MAX_STACK_FILE_BYTES)}"\n`;
        expect(stack("huge", text)).toThrow(
            `Pulumi.huge.yaml: ${Buffer.byteLength(text)} bytes, more than the ${MAX_STACK_FILE_BYTES} it may have`,
        );
    });

    test("deeply nested", () => {
        expect(stack("deep", `config:\n  runbook:services: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`)).toThrow(
            /Pulumi\.deep\.yaml: nested 50001 levels deep, more than the 32 it may have/,
        );
    });

    test("an alias bomb", () => {
        expect(stack("bomb", `${BOMB}\nconfig:\n  runbook:partOf: *a9\n`)).toThrow(StackFileError);
        expect(stack("bomb", `${BOMB}\nconfig:\n  runbook:partOf: *a9\n`)).toThrow(
            /Pulumi\.bomb\.yaml: not valid YAML: .*[Aa]lias/,
        );
    });
});

describe("a policy config", () => {
    const config = (name: string, text: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return () => readGateConfigFile(file);
    };
    const problems = (f: () => unknown) => {
        try {
            f();
        } catch (e) {
            if (e instanceof PolicyConfigError) return e.problems;
            throw e;
        }
        throw new Error("expected a PolicyConfigError");
    };

    test("malformed", () => {
        expect(problems(config("bad.json", '{"enforce-deploy-gate": {'))).toEqual([
            expect.stringMatching(/^policy config .*bad\.json: not valid JSON: /),
        ]);
        expect(problems(config("list.json", "[1]"))).toEqual([
            expect.stringMatching(/list\.json: expected a JSON object of policy names to their settings$/),
        ]);
    });

    test("huge: refused before it is parsed", () => {
        const text = `{"enforce-deploy-gate": {"now": "${"1".repeat(MAX_POLICY_CONFIG_BYTES)}"}}`;
        expect(problems(config("huge.json", text))).toEqual([
            expect.stringMatching(
                new RegExp(
                    `huge\\.json: ${Buffer.byteLength(text)} bytes, more than the ${MAX_POLICY_CONFIG_BYTES} it may have$`,
                ),
            ),
        ]);
    });

    test("deeply nested", () => {
        expect(
            problems(
                config(
                    "deep.json",
                    `{"enforce-deploy-gate": {"environments": ${"[".repeat(100_000)}${"]".repeat(100_000)}}}`,
                ),
            ),
        ).toEqual([expect.stringMatching(/deep\.json: nested 100002 levels deep, more than the 32 it may have$/)]);
    });

    test("wrong shape: every problem with its path", () => {
        expect(
            problems(
                config(
                    "shape.json",
                    '{"enforce-deploy-gate": {"signers": [{"principal": "lee sam", "key": "not a key", "roles": []}]}}',
                ),
            ),
        ).toEqual([
            "enforce-deploy-gate.signers.0.principal: expected a name of letters, digits and . _ @ + -",
            "enforce-deploy-gate.signers.0.key: expected an OpenSSH public key line (ssh-ed25519 AAAA… [comment])",
            expect.stringMatching(/^enforce-deploy-gate\.signers\.0\.roles: /),
        ]);
    });
});
