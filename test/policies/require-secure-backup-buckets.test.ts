// The require-secure-backup-buckets policy on the compliant baseline (./baseline.ts) and with one field changed.
import type { PolicyResource } from "@pulumi/policy";
import { requireSecureBackupBuckets } from "../../policies/require-secure-backup-buckets";
import { baseline, testCompliantBaseline } from "./baseline";
import { clone, find, runStackPolicy } from "./util";

let production: PolicyResource[];
beforeAll(async () => ({ production } = await baseline()));

describe("require-secure-backup-buckets", () => {
    testCompliantBaseline(requireSecureBackupBuckets);

    test("a bucket without versioning, encryption and a full public access block", async () => {
        const rs = clone(production).filter(
            (r) => !["prod-backup-versioning", "prod-backup-encryption"].includes(r.name),
        );
        find(rs, "prod-backup-public-access").props.restrictPublicBuckets = false;
        expect((await runStackPolicy(requireSecureBackupBuckets, rs)).map((v) => v.message)).toEqual([
            "Bucket prod-backup-bucket is not versioned; add a BucketVersioning with status Enabled.",
            "Bucket prod-backup-bucket has no default encryption; add a BucketServerSideEncryptionConfiguration.",
            "Bucket prod-backup-bucket does not block all public access; add a BucketPublicAccessBlock with all four settings true.",
        ]);
    });

    test("a public ACL", async () => {
        const rs = clone(production);
        find(rs, "prod-backup-bucket").props.acl = "public-read";
        expect((await runStackPolicy(requireSecureBackupBuckets, rs)).map((v) => v.message)).toEqual([
            "Bucket prod-backup-bucket has ACL 'public-read'; backups must not be public.",
        ]);
    });
});
