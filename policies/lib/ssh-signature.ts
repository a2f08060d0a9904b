// SSH signatures (the format git and GitHub use for signed commits) through OpenSSH's own
// `ssh-keygen -Y`: no cryptography here, only files handed to it and its answers read.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The namespace every approval is signed in, so no other SSH signature can pass as one. */
export const APPROVAL_NAMESPACE = "runbook-approval";
/** A principal as it may appear in an allowed-signers file without quoting. */
export const PRINCIPAL = /^[A-Za-z0-9._@+-]{1,100}$/;

export class SshKeygenError extends Error {}

function keygen(args: string[], input?: string): { code: number; out: string } {
    const r = spawnSync("ssh-keygen", args, { input, encoding: "utf8", timeout: 10_000 });
    if (r.error)
        throw new SshKeygenError(
            `ssh-keygen could not run (${r.error.message}); install OpenSSH's client (Debian: openssh-client)`,
        );
    return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}`.trim() };
}

function withTemp<T>(files: Record<string, string>, f: (paths: Record<string, string>) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-sig-"));
    try {
        const paths: Record<string, string> = {};
        for (const [name, text] of Object.entries(files)) {
            paths[name] = path.join(dir, name);
            fs.writeFileSync(paths[name], text, { mode: 0o600 });
        }
        return f(paths);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Signs `message` with the private key in `keyFile` (or the agent's, given its .pub); returns the armored signature. */
export function sshSign(keyFile: string, message: string): string {
    return withTemp({ message }, (p) => {
        const r = spawnSync("ssh-keygen", ["-Y", "sign", "-f", keyFile, "-n", APPROVAL_NAMESPACE, p.message], {
            stdio: ["inherit", "pipe", "pipe"],
            encoding: "utf8",
        });
        if (r.error)
            throw new SshKeygenError(
                `ssh-keygen could not run (${r.error.message}); install OpenSSH's client (Debian: openssh-client)`,
            );
        if (r.status !== 0)
            throw new SshKeygenError(`ssh-keygen could not sign with ${keyFile}: ${`${r.stderr}`.trim()}`);
        return fs.readFileSync(`${p.message}.sig`, "utf8");
    });
}

/** An allowed-signers line restricted to approvals. */
export function allowedSignersLine(principal: string, key: string): string {
    return `${principal} namespaces="${APPROVAL_NAMESPACE}" ${key.trim()}`;
}

/**
 * The answer for one signature: `principal` when it verifies, else `failure` says why.
 * (One shape rather than a union: the pack is compiled without strict null checks, where
 * a union would not narrow.)
 */
export interface SignatureCheck {
    principal?: string;
    failure?: { reason: "malformed" | "altered" | "unknown-key"; detail: string };
    fingerprint?: string;
}

/**
 * Checks an armored signature over `message` against an allowed-signers file's text: it
 * must be well formed, verify over exactly this message in the approvals namespace, and be
 * made by a key the file holds (whose principal is returned).
 */
export function sshVerify(allowedSigners: string, signature: string, message: string): SignatureCheck {
    return withTemp({ allowed: allowedSigners, sig: signature }, (p) => {
        const any = keygen(["-Y", "check-novalidate", "-n", APPROVAL_NAMESPACE, "-s", p.sig], message);
        const fingerprint = /(SHA256:[A-Za-z0-9+/]+)/.exec(any.out)?.[1];
        if (any.code !== 0) {
            const malformed =
                /Couldn't parse|invalid format|not a signature|Unable to|sshsig_/i.test(any.out) &&
                fingerprint === undefined;
            return {
                failure: { reason: malformed ? "malformed" : "altered", detail: any.out.split("\n").pop() ?? "" },
            };
        }
        const found = keygen(["-Y", "find-principals", "-s", p.sig, "-f", p.allowed, "-n", APPROVAL_NAMESPACE]);
        const principal = found.code === 0 ? found.out.split("\n")[0].trim() : undefined;
        if (!principal)
            return {
                failure: {
                    reason: "unknown-key",
                    detail: `made by key ${fingerprint ?? "?"}, which no allowed signer holds`,
                },
                fingerprint,
            };
        const verified = keygen(
            ["-Y", "verify", "-f", p.allowed, "-I", principal, "-n", APPROVAL_NAMESPACE, "-s", p.sig],
            message,
        );
        if (verified.code !== 0)
            return { failure: { reason: "altered", detail: verified.out.split("\n").pop() ?? "" }, fingerprint };
        return { principal, fingerprint };
    });
}

/** What the operator holds, as heldKeyFingerprints reads it for this process's account. */
export function operatorKeyFingerprints(env: NodeJS.ProcessEnv): string[] {
    return heldKeyFingerprints(os.userInfo().homedir, env.SSH_AUTH_SOCK);
}

/** SHA256 fingerprints of public keys (one per line, OpenSSH format); lines that are no key are skipped. */
export function fingerprints(publicKeys: string[]): string[] {
    const keys = publicKeys.map((k) => k.trim()).filter((k) => /^(ssh-|ecdsa-|sk-)/.test(k));
    if (keys.length === 0) return [];
    return withTemp({ keys: keys.join("\n") + "\n" }, (p) => {
        const r = keygen(["-l", "-E", "sha256", "-f", p.keys]);
        return [...r.out.matchAll(/(SHA256:[A-Za-z0-9+/]+)/g)].map((m) => m[1]);
    });
}

/**
 * The keys the person running this process holds: `home`/.ssh/*.pub and the agent's at
 * `agentSocket`. An approval made with one of them is the operator approving their own
 * deploy. Callers pass the account's home from the password database, not $HOME.
 */
export function heldKeyFingerprints(home: string, agentSocket?: string): string[] {
    const keys: string[] = [];
    const dir = path.join(home, ".ssh");
    try {
        for (const f of fs.readdirSync(dir))
            if (f.endsWith(".pub")) keys.push(...fs.readFileSync(path.join(dir, f), "utf8").split("\n"));
    } catch {
        // no ~/.ssh: nothing held there
    }
    if (agentSocket) {
        const r = spawnSync("ssh-add", ["-L"], {
            env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
            encoding: "utf8",
            timeout: 5_000,
        });
        if (r.status === 0) keys.push(...r.stdout.split("\n"));
    }
    return fingerprints(keys);
}
