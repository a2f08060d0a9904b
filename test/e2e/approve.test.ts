// `npm run approve` through the real Pulumi CLI (the stack's config as the engine resolves
// it, secrets decrypted): the digest a release's approvals bind, signing with a real SSH
// key, adding a signature made elsewhere with ssh-keygen, and refusing one for another release.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseStatement } from "../../policies/lib/release-digest";
import { ROOT } from "../util/stack";
import { productionLikeStack, Workspace, toolchainReady } from "./engine";

jest.setTimeout(120_000);

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const STACK = "e2e-approve";
let ws: Workspace;

beforeAll(() => {
    if (!toolchainReady())
        throw new Error("the Pulumi toolchain is missing: run `bash scripts/setup.sh` (scripts/test.sh does)");
    ws = new Workspace("approve");
    ws.writeStackFile(STACK, productionLikeStack({ renderYamlToDirectory: "rendered/e2e-approve" }, "shop-approve"));
    ws.initStack(STACK);
    for (const who of ["sam", "lee"])
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", who, "-f", path.join(ws.dir, who)]);
});

const approve = (...args: string[]) =>
    ws.exec(TSX, [path.join(ROOT, "commands", "main.ts"), "approve", ...args, "--stack", STACK, "--dir", ws.dir]);
const digest = () => {
    const r = approve("digest");
    expect(r.code).toBe(0);
    return r.stdout;
};
const signatureFile = () =>
    parse(fs.readFileSync(path.join(ws.dir, "approvals", `${STACK}.yaml`), "utf8")) as {
        statement: string;
        signature: string;
    }[];

test("the digest binds stack, version, commit, every image and the config; a canary step does not change it", () => {
    const first = digest();
    expect(first).toMatch(
        /^stack: e2e-approve\nversion: 1\.42\.0\ncommit: 3f9c2ab7e1d4\n(image: \S+\n)+config: [0-9a-f]{64}\ndigest: [0-9a-f]{64}\n$/,
    );
    expect(first).toContain("image: postgres:16.6-alpine\n");
    expect(digest()).toBe(first);
    expect(
        ws.pulumi(["config", "set", "--path", "runbook:services.web.canary.weight", "5", "--stack", STACK]).code,
    ).toBe(0);
    expect(digest()).toBe(first);
    // A secret is part of the config the engine resolves: changing it changes the digest.
    expect(
        ws.pulumi(["config", "set", "--secret", "shop:apiToken", "postgres://u:p@db/shop", "--stack", STACK]).code,
    ).toBe(0);
    const withSecret = digest();
    expect(withSecret).not.toBe(first);
    expect(withSecret).not.toContain("postgres://u:p@db/shop");
    expect(ws.pulumi(["config", "rm", "shop:apiToken", "--stack", STACK]).code).toBe(0);
    expect(digest()).toBe(first);
});

test("sign: a statement of this release signed with the approver's key lands in approvals/<stack>.yaml", () => {
    const r = approve("sign", "--role", "service-owner", "--key", path.join(ws.dir, "sam"));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
        /approve: signed e2e-approve 1\.42\.0 \(digest [0-9a-f]{16}…\) as service-owner; added to approvals\/e2e-approve\.yaml/,
    );
    const [entry] = signatureFile();
    const st = parseStatement(entry.statement);
    expect(digest()).toContain(`digest: ${st.digest}\n`);
    expect(st.role).toBe("service-owner");
    expect(entry.signature).toMatch(/^-----BEGIN SSH SIGNATURE-----\n[\s\S]+-----END SSH SIGNATURE-----\n$/);
    const sig = path.join(ws.dir, "sam-approval.sig");
    fs.writeFileSync(sig, entry.signature);
    const check = spawnSync("ssh-keygen", ["-Y", "check-novalidate", "-n", "runbook-approval", "-s", sig], {
        input: entry.statement,
        encoding: "utf8",
    });
    expect(check.stdout).toMatch(/^Good "runbook-approval" signature with ED25519 key SHA256:/);
});

test("add: a statement signed elsewhere with ssh-keygen is added; one for another release is refused", () => {
    const st = approve("statement", "--role", "governance-sentinel");
    expect(st.code).toBe(0);
    const file = path.join(ws.dir, "lee-approval.txt");
    fs.writeFileSync(file, st.stdout);
    expect(
        spawnSync("ssh-keygen", ["-Y", "sign", "-f", path.join(ws.dir, "lee"), "-n", "runbook-approval", file]).status,
    ).toBe(0);
    const added = approve("add", "--statement", file, "--signature", `${file}.sig`);
    expect(added.code).toBe(0);
    expect(signatureFile()).toHaveLength(2);

    expect(
        ws.pulumi([
            "config",
            "set",
            "--path",
            "runbook:services.web.canary.image",
            "ghcr.io/acme/shop-web:2.9.0",
            "--stack",
            STACK,
        ]).code,
    ).toBe(0);
    const stale = approve("add", "--statement", file, "--signature", `${file}.sig`);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
        /approve: refused: .*lee-approval\.txt approves another release .*config [0-9a-f]{64} ≠ [0-9a-f]{64}/,
    );
    expect(signatureFile()).toHaveLength(2);
});
