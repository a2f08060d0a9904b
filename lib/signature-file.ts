// The signature file of a stack: approvals/<stack>.yaml, a list of signed approvals
// ({statement, signature}) that `npm run approve` writes and the program stamps on its
// workloads for the pack to verify. Read defensively: it comes with a pull request.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument, stringify } from "yaml";
import { z } from "zod";
import { checkLimits, InputLimitError } from "../policies/lib/input-limits";
import type { SignedApproval } from "../policies/lib/signed-approvals";

export const SIGNATURE_DIR = "approvals";
/** Far more than any real list of approvals; bigger files are refused unread. */
export const MAX_SIGNATURE_FILE_BYTES = 256 * 1024;

export class SignatureFileError extends Error {}

const entrySchema = z.strictObject({
    statement: z
        .string()
        .min(1)
        .max(8 * 1024),
    signature: z
        .string()
        .min(1)
        .max(8 * 1024),
});
const fileSchema = z.array(entrySchema).max(50);

export function signatureFilePath(projectDir: string, stack: string): string {
    return path.join(projectDir, SIGNATURE_DIR, `${stack}.yaml`);
}

/** Parses a signature file's text; `name` is how errors call it. */
export function parseSignatureFile(text: string, name: string): SignedApproval[] {
    try {
        checkLimits(text, name, { maxBytes: MAX_SIGNATURE_FILE_BYTES, maxDepth: 8 });
    } catch (e) {
        if (e instanceof InputLimitError) throw new SignatureFileError(e.message);
        throw e;
    }
    // No aliases at all: a list of statements needs none, and expanding them is how a
    // small file becomes a huge document.
    const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0)
        throw new SignatureFileError(`${name}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
    let value: unknown;
    try {
        value = doc.toJS({ maxAliasCount: 0 });
    } catch (e) {
        throw new SignatureFileError(
            `${name}: ${(e as Error).message.split("\n")[0]} (aliases are not allowed in a signature file)`,
        );
    }
    const parsed = fileSchema.safeParse(value ?? []);
    if (!parsed.success)
        throw new SignatureFileError(
            `${name}: expected a list of {statement, signature}:\n${parsed.error.issues
                .slice(0, 10)
                .map((i) => `  - ${i.path.length ? i.path.join(".") : "(file)"}: ${i.message}`)
                .join("\n")}`,
        );
    return parsed.data;
}

/** The stack's signed approvals; none when it has no signature file. */
export function readSignatureFile(projectDir: string, stack: string): SignedApproval[] {
    const file = signatureFilePath(projectDir, stack);
    let size: number;
    try {
        size = fs.statSync(file).size;
    } catch {
        return [];
    }
    const shown = path.join(SIGNATURE_DIR, path.basename(file));
    if (size > MAX_SIGNATURE_FILE_BYTES)
        throw new SignatureFileError(`${shown}: ${size} bytes, more than the ${MAX_SIGNATURE_FILE_BYTES} it may have`);
    return parseSignatureFile(fs.readFileSync(file, "utf8"), shown);
}

/** Adds one signed approval to the stack's signature file (made if missing). */
export function appendSignature(projectDir: string, stack: string, entry: SignedApproval): string {
    const file = signatureFilePath(projectDir, stack);
    const entries = [...readSignatureFile(projectDir, stack), entry];
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, stringify(entries, { lineWidth: 0 }));
    return file;
}
