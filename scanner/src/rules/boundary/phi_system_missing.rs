use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// Judged only by `hipaa audit aws` with a ledger: every live `hipaa_phi_system` of the
    /// ledger whose `resource` is an S3 bucket ARN (`arn:aws:s3:::NAME`) must name a bucket
    /// the account has. Whether that bucket is encrypted as the license demands is judged by
    /// `s3-bucket-encryption` on the bucket itself.
    ///
    /// A system named by a Terraform address (`aws_s3_bucket.claims`) or by the ARN of a
    /// service the audit does not read is undetermined: the account cannot be asked about it.
    /// So is every system when the account's buckets could not be listed.
    ///
    /// ## Why it matters
    ///
    /// The declarations are what the risk analysis (45 CFR 164.308(a)(1)(ii)(A)) and the
    /// documentation of safeguards (164.316(b)(1)) rest on. A declared PHI system that does
    /// not exist means the PHI is somewhere else, undeclared, or the declarations are stale.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "hipaa_phi_system" "claims" {
    ///   name     = "claims-store"
    ///   resource = "arn:aws:s3:::acme-claims-old"
    ///   # ...
    /// }
    /// ```
    ///
    /// Use instead: name the bucket that holds the PHI now, or retire the declaration.
    pub struct PhiSystemMissing {
        id: "BND005",
        name: "phi-system-missing",
        category: Boundary,
        severity: High,
        title: "Declared PHI system does not exist in the account",
        hipaa: ["164.308(a)(1)(ii)(A)", "164.316(b)(1)"],
        applies_to: |resource_type| resource_type == "hipaa_phi_system",
        check: check,
    }
}

/// ARN prefixes of S3 buckets, by partition.
const BUCKET_ARN_PREFIXES: &[&str] = &["arn:aws:s3:::", "arn:aws-us-gov:s3:::", "arn:aws-cn:s3:::"];

const BUCKET_TYPE: &str = "aws_s3_bucket";

fn check(cx: &Context, system: &Resource) -> Verdict {
    let Some(live) = &cx.project.live else {
        return Verdict::NotApplicable;
    };
    let Some(named) = system.attr("resource").as_str() else {
        return Verdict::undetermined("the system's resource is not recorded as text");
    };
    let Some(bucket_name) = BUCKET_ARN_PREFIXES
        .iter()
        .find_map(|prefix| named.strip_prefix(prefix))
    else {
        return Verdict::undetermined(format!(
            "{named} is not an S3 bucket ARN, and the live audit reads only S3 buckets and KMS \
             keys; declare the system by its ARN to have it checked"
        ));
    };
    if !live.complete_types.contains(BUCKET_TYPE) {
        return Verdict::undetermined("the account's buckets could not be listed");
    }

    let exists = cx
        .index
        .of_type(BUCKET_TYPE)
        .any(|bucket| bucket.attr("bucket").as_str() == Some(bucket_name));
    if exists {
        return Verdict::Pass;
    }
    Verdict::fail(
        Some("resource"),
        format!("the declared PHI system {named} does not exist in the account"),
        "create the bucket, point the declaration at the bucket that holds the PHI, or retire \
         the declaration",
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

    fn judge(named: &str, listed: bool) -> Verdict {
        let system = resource("hipaa_phi_system", "s", json!({"resource": named}));
        let bucket = resource("aws_s3_bucket", "b", json!({"bucket": "acme-claims"}));
        let mut complete_types = std::collections::BTreeSet::new();
        if listed {
            complete_types.insert(BUCKET_TYPE.to_string());
        }
        let project = Project {
            resources: vec![system, bucket],
            live: Some(LiveScope { complete_types }),
            ..Project::default()
        };
        let index = Index::build(&project);
        let policy = Policy::from_project(&project, &index);
        let cx = Context::new(&project, &index, &policy);
        PhiSystemMissing.check(&cx, index.get("hipaa_phi_system.s").unwrap())
    }

    #[test]
    fn a_bucket_arn_must_name_a_listed_bucket() {
        assert_eq!(judge("arn:aws:s3:::acme-claims", true), Verdict::Pass);
        let Verdict::Fail(violation) = judge("arn:aws:s3:::acme-gone", true) else {
            panic!("a missing bucket fails");
        };
        assert_eq!(
            violation.message,
            "the declared PHI system arn:aws:s3:::acme-gone does not exist in the account"
        );
    }

    #[test]
    fn what_the_audit_cannot_ask_about_is_undetermined() {
        assert!(matches!(
            judge("aws_s3_bucket.claims", true),
            Verdict::Undetermined(_)
        ));
        assert!(matches!(
            judge("arn:aws:s3:::acme-gone", false),
            Verdict::Undetermined(_)
        ));
    }
}
