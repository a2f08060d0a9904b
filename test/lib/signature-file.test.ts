// A signature file comes with a pull request: malformed, huge, deeply nested or aliased
// input gets a clear error naming the file, never a hang, a stack trace or a pass.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    appendSignature,
    MAX_SIGNATURE_FILE_BYTES,
    parseSignatureFile,
    readSignatureFile,
    SignatureFileError,
} from "../../lib/signature-file";

const NAME = "approvals/production.yaml";
const parse = (text: string) => parseSignatureFile(text, NAME);

test("a list of statements and signatures reads back; no file means no approvals", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sigfile-"));
    expect(readSignatureFile(dir, "production")).toEqual([]);
    appendSignature(dir, "production", {
        statement: "a\nb\n",
        signature: "-----BEGIN SSH SIGNATURE-----\nx\n-----END SSH SIGNATURE-----\n",
    });
    appendSignature(dir, "production", { statement: "c\n", signature: "s" });
    expect(readSignatureFile(dir, "production")).toEqual([
        { statement: "a\nb\n", signature: "-----BEGIN SSH SIGNATURE-----\nx\n-----END SSH SIGNATURE-----\n" },
        { statement: "c\n", signature: "s" },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
});

test("malformed YAML", () => {
    expect(() => parse("- statement: [unclosed\n")).toThrow(new RegExp(`^${NAME}: not valid YAML: `));
});

test("the wrong shape, every problem named", () => {
    expect(() => parse("- statement: 1\n  extra: x\n")).toThrow(SignatureFileError);
    expect(() => parse("- statement: 1\n  extra: x\n")).toThrow(
        /expected a list of \{statement, signature\}:\n {2}- 0\.statement: .*\n {2}- 0\.signature: .*\n {2}- 0: Unrecognized key: "extra"/,
    );
    expect(() => parse("statement: x\n")).toThrow(/\(file\): Invalid input: expected array, received object/);
});

test("huge: refused by size before it is parsed", () => {
    const huge = `- statement: "${"a".repeat(MAX_SIGNATURE_FILE_BYTES)}"\n  signature: x\n`;
    expect(() => parse(huge)).toThrow(
        `${NAME}: ${Buffer.byteLength(huge)} bytes, more than the ${MAX_SIGNATURE_FILE_BYTES} it may have`,
    );
});

test("deeply nested: a clear error, not a stack overflow", () => {
    const depth = 60_000;
    expect(() => parse(`${"[".repeat(depth)}${"]".repeat(depth)}`)).toThrow(
        `${NAME}: nested ${depth} levels deep, more than the 8 it may have`,
    );
    expect(() => parse(`${"- ".repeat(5_000)}x\n`)).toThrow(
        `${NAME}: nested 7500 levels deep, more than the 8 it may have`,
    );
    expect(() =>
        parse(`a:\n${Array.from({ length: 40 }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`).join("\n")} x\n`),
    ).toThrow(/nested 40 levels deep/);
});

test("a YAML alias bomb is refused without expanding it", () => {
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
        lines.push(
            `a${i}: &a${i} [${Array(9)
                .fill(`*a${i - 1}`)
                .join(",")}]`,
        );
    expect(() => parse(lines.join("\n") + "\n")).toThrow(/approvals\/production\.yaml: .*alias/i);
    expect(() => parse("- &e {statement: s, signature: x}\n- *e\n")).toThrow(/alias/i);
});
