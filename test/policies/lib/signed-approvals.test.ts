// Signed approvals with real SSH keys made here by ssh-keygen: each way an approval must
// not count (forged, altered, unknown key, wrong role, replayed, expired, self-made) and
// the ones that do.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DateTime } from "luxon";
import {
    releaseDigest,
    statementText,
    parseStatement,
    type ReleaseSubject,
    configHash,
} from "../../../policies/lib/release-digest";
import {
    verifySignedApprovals,
    type ReleaseUnderReview,
    type SignatureRules,
    type SignedApproval,
} from "../../../policies/lib/signed-approvals";
import { fingerprints, heldKeyFingerprints, sshSign } from "../../../policies/lib/ssh-signature";

let dir: string;
const key = (name: string) => path.join(dir, name);
const pub = (name: string) => fs.readFileSync(`${key(name)}.pub`, "utf8").trim();

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "approvals-test-"));
    for (const name of ["lee", "sam", "kim", "eve", "dana"]) {
        const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key(name)]);
        if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
    }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = configHash({
    "runbook:environment": "production",
    "runbook:services": JSON.stringify({ api: { image: "ghcr.io/acme/shop-api:1.42.0" } }),
});
const subject: ReleaseSubject = {
    stack: "production",
    version: "1.42.0",
    commit: "3f9c2ab7e1d4",
    images: ["ghcr.io/acme/shop-api:1.42.0"],
    config,
};
const release: ReleaseUnderReview = {
    stack: "production",
    version: "1.42.0",
    commit: "3f9c2ab7e1d4",
    images: ["ghcr.io/acme/shop-api:1.42.0"],
    config,
    operator: "dana",
    operatorKeys: [],
};
const at = DateTime.fromISO("2026-11-26T15:55:00Z", { zone: "UTC" });
const signedAt = "2026-11-26T09:00:00Z";
const rules = (): SignatureRules => ({
    signers: [
        { principal: "lee", key: pub("lee"), roles: ["governance-sentinel"] },
        { principal: "sam", key: pub("sam"), roles: ["service-owner"] },
        { principal: "dana", key: pub("dana"), roles: ["service-owner"] },
    ],
    maxAgeHours: 72,
});
const approve = (who: string, role: string, s: ReleaseSubject = subject, when = signedAt): SignedApproval => {
    const statement = statementText(s, role, when);
    return { statement, signature: sshSign(key(who), statement) };
};
const verify = (entries: SignedApproval[], r: Partial<ReleaseUnderReview> = {}) =>
    verifySignedApprovals(entries, { ...release, ...r }, rules(), at);

test("a statement carries its fields and a digest over them, and reads back", () => {
    const text = statementText(subject, "service-owner", signedAt);
    expect(text).toContain(`digest: ${releaseDigest(subject)}\nrole: service-owner\nsigned-at: ${signedAt}\n`);
    expect(parseStatement(text)).toEqual({ subject, digest: releaseDigest(subject), role: "service-owner", signedAt });
    expect(() => parseStatement(text.replace("version: 1.42.0", "version: 1.43.0"))).toThrow(
        "its digest does not match its fields (edited after it was made)",
    );
    expect(() => parseStatement("hello")).toThrow("not a release approval statement");
});

test("the config hash ignores key order and what a release moves through, not anything else", () => {
    const a = {
        "runbook:services": '{"web":{"canary":{"weight":5,"image":"w:2"},"image":"w:1"}}',
        "runbook:environment": "production",
    };
    const b = {
        "runbook:environment": "production",
        "runbook:services": '{"web":{"image":"w:1","canary":{"image":"w:2","weight":25}}}',
        "runbook:release": '{"version":"9"}',
    };
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash({ ...a, "runbook:services": a["runbook:services"].replace("w:2", "w:3") })).not.toBe(
        configHash(a),
    );
    expect(configHash({ ...a, "runbook:databaseUrl": "postgres://x" })).not.toBe(configHash(a));
});

test("approvals signed by their holders for this release count", () => {
    expect(verify([approve("lee", "governance-sentinel"), approve("sam", "service-owner")])).toEqual({
        approvals: [
            { name: "lee", role: "governance-sentinel" },
            { name: "sam", role: "service-owner" },
        ],
        rejected: [],
    });
});

test("forged: a key no allowed signer holds, a statement changed after signing, a signature that is not one", () => {
    const byEve = approve("eve", "service-owner");
    const altered = approve("lee", "governance-sentinel");
    altered.statement = altered.statement.replace("role: governance-sentinel", "role: service-owner");
    const v = verify([
        byEve,
        altered,
        {
            statement: statementText(subject, "service-owner", signedAt),
            signature: "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
        },
    ]);
    expect(v.approvals).toEqual([]);
    expect(v.rejected).toEqual([
        expect.stringMatching(
            /^signed approval 1 \(unknown signer as service-owner\): forged: made by key SHA256:\S+, which no allowed signer holds$/,
        ),
        expect.stringMatching(
            /^signed approval 2 \(unknown signer as service-owner\): forged: the signature does not match the statement/,
        ),
        expect.stringMatching(/^signed approval 3 \(unknown signer as service-owner\): (malformed|forged): /),
    ]);
});

test("a role the policy config does not give the signer does not count", () => {
    expect(verify([approve("lee", "service-owner")]).rejected).toEqual([
        "signed approval 1 (lee as service-owner): rejected: lee holds governance-sentinel in the policy config, not service-owner",
    ]);
});

test("replayed: another stack, another version, another commit, a changed config, an image it does not name", () => {
    const v = verify(
        [
            approve("sam", "service-owner", { ...subject, stack: "staging" }),
            approve("sam", "service-owner", { ...subject, version: "1.41.0" }),
            approve("sam", "service-owner", { ...subject, commit: "0000000" }),
            approve("sam", "service-owner", { ...subject, config: configHash({ "runbook:environment": "staging" }) }),
            approve("sam", "service-owner"),
        ],
        { images: ["ghcr.io/acme/shop-api:1.42.0", "ghcr.io/evil/miner:1.0"] },
    );
    expect(v.approvals).toEqual([]);
    expect(v.rejected).toEqual([
        "signed approval 1 (sam as service-owner): replayed: it approves stack staging, this is production",
        "signed approval 2 (sam as service-owner): replayed: it approves version 1.41.0, this release is 1.42.0",
        "signed approval 3 (sam as service-owner): replayed: it approves commit 0000000, this release is 3f9c2ab7e1d4",
        expect.stringMatching(
            /^signed approval 4 \(sam as service-owner\): replayed: the stack's config changed since it was signed/,
        ),
        "signed approval 5 (sam as service-owner): replayed: this release runs ghcr.io/evil/miner:1.0, which it does not approve",
    ]);
});

test("expired: older than the configured age; and none from the future", () => {
    const v = verify([
        approve("sam", "service-owner", subject, "2026-11-22T15:54:00Z"),
        approve("lee", "governance-sentinel", subject, "2026-11-27T09:00:00Z"),
    ]);
    expect(v.rejected).toEqual([
        "signed approval 1 (sam as service-owner): expired: signed at 2026-11-22T15:54:00Z, 96 h before the gate's clock; approvals count for 72 h",
        "signed approval 2 (lee as governance-sentinel): rejected: signed at 2026-11-27T09:00:00Z, in the future of the gate's clock (2026-11-26T15:55:00.000Z)",
    ]);
});

test("self-made: the operator's own approval, by name or by a key the operator holds", () => {
    const byDana = approve("dana", "service-owner");
    expect(verify([byDana]).rejected).toEqual([
        "signed approval 1 (dana as service-owner): self-made: dana is the operator of this release",
    ]);
    // sam's key on the operator's machine: whoever runs the deploy signed it.
    const held = verify([approve("sam", "service-owner")], {
        operator: "ci-bot",
        operatorKeys: fingerprints([pub("sam")]),
    });
    expect(held.rejected).toEqual([
        expect.stringMatching(
            /^signed approval 1 \(sam as service-owner\): self-made: signed with a key the operator holds \(SHA256:\S+\)$/,
        ),
    ]);
});

test("the keys an operator holds are read from ~/.ssh", () => {
    const home = fs.mkdtempSync(path.join(dir, "home-"));
    fs.mkdirSync(path.join(home, ".ssh"));
    fs.copyFileSync(`${key("kim")}.pub`, path.join(home, ".ssh", "id_ed25519.pub"));
    expect(heldKeyFingerprints(home)).toEqual(fingerprints([pub("kim")]));
    expect(heldKeyFingerprints(path.join(home, "nowhere"))).toEqual([]);
});
