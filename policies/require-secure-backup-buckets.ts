import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import {
    Bucket,
    BucketEncryption,
    BucketPublicAccessBlock,
    BucketVersioning,
    ofKind,
    type BucketPartProps,
    type BucketProps,
    type TokenKind,
    type Typed,
} from "./resources";

/** Resources of a bucket part's kind whose `bucket` property is the given bucket. */
function attached(
    resources: PolicyResource[],
    part: TokenKind<BucketPartProps>,
    bucket: Typed<BucketProps>,
): BucketPartProps[] {
    return ofKind(resources, part)
        .filter(
            (p) =>
                (p.resource.propertyDependencies?.bucket ?? []).some((d) => d.urn === bucket.resource.urn) ||
                (p.props.bucket !== undefined && p.props.bucket === (bucket.props.bucket ?? bucket.props.id)),
        )
        .map((p) => p.props);
}

export const requireSecureBackupBuckets: StackValidationPolicy = {
    name: "require-secure-backup-buckets",
    description:
        "S3 buckets are versioned, encrypted at rest and block every kind of public access (backups hold the whole database).",
    validateStack: (args, reportViolation) => {
        for (const b of ofKind(args.resources, Bucket)) {
            const what = `Bucket ${b.resource.name}`;
            const urn = b.resource.urn;
            if (["public-read", "public-read-write"].includes(b.props.acl ?? ""))
                reportViolation(`${what} has ACL '${b.props.acl}'; backups must not be public.`, urn);
            if (
                !attached(args.resources, BucketVersioning, b).some(
                    (v) => v.versioningConfiguration?.status === "Enabled",
                )
            )
                reportViolation(`${what} is not versioned; add a BucketVersioning with status Enabled.`, urn);
            if (
                !attached(args.resources, BucketEncryption, b).some((e) =>
                    (e.rules ?? []).some((r) => r?.applyServerSideEncryptionByDefault?.sseAlgorithm),
                )
            )
                reportViolation(
                    `${what} has no default encryption; add a BucketServerSideEncryptionConfiguration.`,
                    urn,
                );
            const full = attached(args.resources, BucketPublicAccessBlock, b).some(
                (p) =>
                    p.blockPublicAcls === true &&
                    p.blockPublicPolicy === true &&
                    p.ignorePublicAcls === true &&
                    p.restrictPublicBuckets === true,
            );
            if (!full)
                reportViolation(
                    `${what} does not block all public access; add a BucketPublicAccessBlock with all four settings true.`,
                    urn,
                );
        }
    },
};
