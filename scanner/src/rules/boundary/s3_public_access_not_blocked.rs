use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// Judged only by `hipaa audit aws`, over the buckets of a live account: every S3 bucket
    /// must have a public access block of its own with all four settings on
    /// (`block_public_acls`, `ignore_public_acls`, `block_public_policy`,
    /// `restrict_public_buckets`).
    ///
    /// Terraform code is not judged: the block is often set account-wide or in another
    /// configuration, which a scan of one configuration cannot see.
    ///
    /// Known shortcoming: the account-wide block (S3 Control's `GetPublicAccessBlock`) is not
    /// read, so a bucket covered only by it is reported.
    ///
    /// ## Why it matters
    ///
    /// Without the block, one ACL or policy change (by a person or a tool) makes the bucket
    /// readable by anyone on the internet: PHI leaves the boundary with no access control at
    /// all (45 CFR 164.312(a)(1)), and access is granted to no one in particular
    /// (164.308(a)(4)(ii)(B)).
    ///
    /// ## Example
    ///
    /// A bucket whose public access block is missing or has any setting off.
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_s3_bucket_public_access_block" "records" {
    ///   bucket                  = aws_s3_bucket.records.id
    ///   block_public_acls       = true
    ///   ignore_public_acls      = true
    ///   block_public_policy     = true
    ///   restrict_public_buckets = true
    /// }
    /// ```
    pub struct S3PublicAccessNotBlocked {
        id: "BND004",
        name: "s3-public-access-not-blocked",
        category: Boundary,
        severity: High,
        title: "S3 bucket does not block public access",
        hipaa: ["164.312(a)(1)", "164.308(a)(4)(ii)(B)"],
        applies_to: |resource_type| resource_type == "aws_s3_bucket",
        check: check,
    }
}

const BLOCK_TYPE: &str = "aws_s3_bucket_public_access_block";

/// The four settings, all of which must be on.
const SETTINGS: &[&str] = &[
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
];

const FIX: &str = "turn on all four settings of the bucket's public access block \
                   (block_public_acls, ignore_public_acls, block_public_policy, \
                   restrict_public_buckets)";

fn check(cx: &Context, bucket: &Resource) -> Verdict {
    if cx.project.live.is_none() {
        return Verdict::NotApplicable;
    }
    let blocks = cx.linked_from(bucket, BLOCK_TYPE);
    let Some(block) = blocks.first() else {
        return Verdict::fail(None, "the bucket has no public access block", FIX);
    };
    let off: Vec<&str> = SETTINGS
        .iter()
        .copied()
        .filter(|setting| block.attr(setting).as_bool() != Some(true))
        .collect();
    if off.is_empty() {
        return Verdict::Pass;
    }
    Verdict::fail(
        None,
        format!(
            "the bucket's public access block leaves {} off",
            off.join(", ")
        ),
        FIX,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::Index;
    use crate::model::{LiveScope, Project};
    use crate::policy::Policy;
    use crate::rules::testing::resource;
    use crate::rules::Rule;
    use serde_json::json;

    fn judge(resources: Vec<Resource>, live: bool) -> Verdict {
        let project = Project {
            resources,
            live: live.then(LiveScope::default),
            ..Project::default()
        };
        let index = Index::build(&project);
        let policy = Policy::from_project(&project, &index);
        let cx = Context::new(&project, &index, &policy);
        S3PublicAccessNotBlocked.check(&cx, index.get("aws_s3_bucket.b").unwrap())
    }

    fn bucket() -> Resource {
        resource("aws_s3_bucket", "b", json!({"bucket": "acme-b"}))
    }

    fn block(all_on: bool) -> Resource {
        resource(
            BLOCK_TYPE,
            "b",
            json!({"bucket": "acme-b", "block_public_acls": true, "ignore_public_acls": true,
                   "block_public_policy": all_on, "restrict_public_buckets": true}),
        )
    }

    #[test]
    fn a_live_bucket_needs_every_setting_on() {
        assert_eq!(judge(vec![bucket(), block(true)], true), Verdict::Pass);
        assert_eq!(
            judge(vec![bucket(), block(false)], true),
            Verdict::fail(
                None,
                "the bucket's public access block leaves block_public_policy off",
                FIX
            )
        );
        assert_eq!(
            judge(vec![bucket()], true),
            Verdict::fail(None, "the bucket has no public access block", FIX)
        );
    }

    #[test]
    fn code_is_not_judged() {
        assert_eq!(judge(vec![bucket()], false), Verdict::NotApplicable);
    }
}
