// npm run --silent approve -- digest    --stack S
// npm run --silent approve -- statement --stack S --role ROLE
// npm run --silent approve -- sign      --stack S --role ROLE --key ~/.ssh/id_ed25519
//     (statement and sign take --signed-at ISO-8601 for drills whose gate clock is set)
// npm run --silent approve -- add       --stack S --statement FILE --signature FILE.sig
// Signed approvals (docs/policy-pack.md, Signed approvals): `digest` prints what an approval of this stack's
// release binds; `statement` prints the text to sign elsewhere with
// `ssh-keygen -Y sign -n runbook-approval`; `sign` signs it here with your key; both `sign`
// and `add` append to approvals/<stack>.yaml, which the program stamps on its workloads.
// Exit codes: 0 done, 1 refused (a statement for another release), 2 unusable input.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DateTime } from "luxon";
import { parseStatement, releaseDigest, statementText, type ReleaseSubject } from "../policies/lib/release-digest";
import { appendSignature, SignatureFileError } from "../lib/signature-file";
import { APPROVAL_NAMESPACE, SshKeygenError, sshSign } from "../policies/lib/ssh-signature";
import { parseInstant } from "../policies/settings";
import { ROOT } from "./engine";
import { RefusedError, UsageError } from "./errors";
import { releaseSubject, stackConfigOrThrow } from "./stack";

/** The stack's release subject; a bad stack config is unusable input, every problem listed. */
function subjectOf(dir: string, stack: string, env: NodeJS.ProcessEnv): ReleaseSubject {
    return releaseSubject({ dir, stack, config: stackConfigOrThrow(dir, stack, env) }, env);
}

/** `add`: a statement and signature made elsewhere, checked to approve this release, appended. */
function addSigned(
    dir: string,
    stack: string,
    subject: ReleaseSubject,
    files: { statement: string; signature: string },
) {
    const statement = fs.readFileSync(files.statement, "utf8");
    const signature = fs.readFileSync(files.signature, "utf8");
    let given;
    try {
        given = parseStatement(statement);
    } catch (e) {
        throw new UsageError(`${files.statement}: ${(e as Error).message}`);
    }
    if (given.digest !== releaseDigest(subject))
        throw new RefusedError(
            `${files.statement} approves another release (digest ${given.digest.slice(0, 16)}…; ${stack} is now ` +
                `${releaseDigest(subject).slice(0, 16)}…): ` +
                (["stack", "version", "commit", "config"] as const)
                    .filter((k) => given.subject[k] !== subject[k])
                    .map((k) => `${k} ${given.subject[k]} ≠ ${subject[k]}`)
                    .join(", ") || "images differ",
        );
    if (!signature.includes("BEGIN SSH SIGNATURE"))
        throw new UsageError(
            `${files.signature}: not an SSH signature (expected the output of ssh-keygen -Y sign -n ${APPROVAL_NAMESPACE})`,
        );
    const file = appendSignature(dir, stack, { statement, signature });
    process.stderr.write(
        `approve: added ${given.role} approval of ${stack} ${subject.version} to ` +
            `${path.relative(dir, file)}; the policy pack verifies who signed it\n`,
    );
}

function approve(argv: string[]): number {
    const { values: o, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            stack: { type: "string" },
            role: { type: "string" },
            key: { type: "string" },
            statement: { type: "string" },
            signature: { type: "string" },
            "signed-at": { type: "string" },
            dir: { type: "string" },
        },
        strict: true,
    });
    const command = positionals[0];
    if (!["digest", "statement", "sign", "add"].includes(command ?? ""))
        throw new UsageError("expected a command: digest, statement, sign or add");
    if (!o.stack) throw new UsageError("--stack is required");
    const dir = path.resolve(o.dir ?? ROOT);
    const subject = subjectOf(dir, o.stack, process.env);
    const role = () => {
        if (!o.role || !/^[a-z0-9-]+$/.test(o.role))
            throw new UsageError(
                `--role: expected an approval role such as service-owner, got ${JSON.stringify(o.role ?? "")}`,
            );
        return o.role;
    };
    // When the approver signs; a drill whose gate clock is set (policy config `now`) signs
    // at that clock: the gate counts an approval from its signed-at, for maxAgeHours.
    const now = () => {
        if (o["signed-at"] === undefined)
            return DateTime.utc().startOf("second").toISO({ suppressMilliseconds: true }) as string;
        const t = parseInstant(o["signed-at"]);
        if (!t)
            throw new UsageError(
                `--signed-at: expected an ISO 8601 instant with offset, got ${JSON.stringify(o["signed-at"])}`,
            );
        return t.toUTC().toISO({ suppressMilliseconds: true }) as string;
    };

    if (command === "digest") {
        process.stdout.write(statementText(subject, "-", "-").split("\n").slice(1, -3).join("\n") + "\n");
        return 0;
    }
    if (command === "statement") {
        process.stdout.write(statementText(subject, role(), now()));
        return 0;
    }
    if (command === "sign") {
        if (!o.key)
            throw new UsageError("--key is required: your SSH private key (or its .pub with the key in ssh-agent)");
        const statement = statementText(subject, role(), now());
        const file = appendSignature(dir, o.stack, { statement, signature: sshSign(o.key, statement) });
        process.stderr.write(
            `approve: signed ${o.stack} ${subject.version} (digest ${releaseDigest(subject).slice(0, 16)}…) as ` +
                `${o.role}; added to ${path.relative(dir, file)}\n`,
        );
        return 0;
    }
    if (!o.statement || !o.signature)
        throw new UsageError(
            "add needs --statement FILE and --signature FILE (made with ssh-keygen -Y sign -n runbook-approval)",
        );
    addSigned(dir, o.stack, subject, { statement: o.statement, signature: o.signature });
    return 0;
}

/** A signature file or ssh-keygen that cannot be used is unusable input (exit 2). */
export function run(argv: string[]): number {
    try {
        return approve(argv);
    } catch (e) {
        if (e instanceof SignatureFileError || e instanceof SshKeygenError) throw new UsageError(e.message);
        throw e;
    }
}
