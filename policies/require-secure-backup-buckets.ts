import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { T } from "./resources";

/** Resources of `type` whose `bucket` property is the given bucket. */
function attached(resources: PolicyResource[], type: string, bucket: PolicyResource): PolicyResource[] {
    return resources.filter(
        (r) =>
            r.type === type &&
            ((r.propertyDependencies?.bucket ?? []).some((d) => d.urn === bucket.urn) ||
                (r.props?.bucket !== undefined && r.props.bucket === (bucket.props?.bucket ?? bucket.props?.id))),
    );
}

export const requireSecureBackupBuckets: StackValidationPolicy = {
    name: "require-secure-backup-buckets",
    description:
        "S3 buckets are versioned, encrypted at rest and block every kind of public access (backups hold the whole database).",
    validateStack: (args, reportViolation) => {
        for (const b of args.resources.filter((r) => r.type === T.bucket)) {
            const what = `Bucket ${b.name}`;
            if (["public-read", "public-read-write"].includes(b.props?.acl))
                reportViolation(`${what} has ACL '${b.props.acl}'; backups must not be public.`, b.urn);
            if (
                !attached(args.resources, T.bucketVersioning, b).some(
                    (v) => v.props?.versioningConfiguration?.status === "Enabled",
                )
            )
                reportViolation(`${what} is not versioned; add a BucketVersioning with status Enabled.`, b.urn);
            if (
                !attached(args.resources, T.bucketEncryption, b).some((e) =>
                    (e.props?.rules ?? []).some((r: any) => r?.applyServerSideEncryptionByDefault?.sseAlgorithm),
                )
            )
                reportViolation(
                    `${what} has no default encryption; add a BucketServerSideEncryptionConfiguration.`,
                    b.urn,
                );
            const blocks = attached(args.resources, T.bucketPublicAccessBlock, b);
            const full = blocks.some((p) =>
                ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
                    (k) => p.props?.[k] === true,
                ),
            );
            if (!full)
                reportViolation(
                    `${what} does not block all public access; add a BucketPublicAccessBlock with all four settings true.`,
                    b.urn,
                );
        }
    },
};
