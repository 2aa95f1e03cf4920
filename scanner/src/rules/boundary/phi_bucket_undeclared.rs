use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// An S3 bucket that carries the PHI marking of a `hipaa_boundary` (every tag of its
    /// `phi_tags`, with the same values) must be declared: named by a `hipaa_phi_system` or
    /// listed among the boundary's `members`. Judged over code and over a live account alike;
    /// silent when no boundary declares a marking.
    ///
    /// Known shortcoming: in code, tags added by the provider's `default_tags` are not seen.
    ///
    /// ## Why it matters
    ///
    /// A bucket someone marked as holding PHI but nobody declared is outside every safeguard
    /// the declarations drive: the risk analysis (45 CFR 164.308(a)(1)(ii)(A)), the boundary's
    /// access control (164.312(a)(1)) and the documentation of where PHI lives
    /// (164.316(b)(1)).
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "hipaa_boundary" "us" {
    ///   phi_tags = { "data-class" = "phi" }
    ///   # ...
    /// }
    ///
    /// resource "aws_s3_bucket" "exports" {
    ///   bucket = "acme-exports"
    ///   tags   = { "data-class" = "phi" }
    /// }
    /// ```
    ///
    /// Use instead: declare it (`hipaa_phi_system` with `resource = aws_s3_bucket.exports.arn`
    /// and the bucket among the boundary's `members`), or remove the marking if it holds no PHI.
    pub struct PhiBucketUndeclared {
        id: "BND006",
        name: "phi-bucket-undeclared",
        category: Boundary,
        severity: High,
        title: "S3 bucket marked as holding PHI is not declared",
        hipaa: ["164.308(a)(1)(ii)(A)", "164.312(a)(1)", "164.316(b)(1)"],
        applies_to: |resource_type| resource_type == "aws_s3_bucket",
        check: check,
    }
}

const BOUNDARY_TYPE: &str = "hipaa_boundary";
const MARKING: &str = "phi_tags";

fn check(cx: &Context, bucket: &Resource) -> Verdict {
    let markings: Vec<(&Resource, &crate::value::Map)> = cx
        .index
        .of_type(BOUNDARY_TYPE)
        .filter_map(|boundary| match boundary.attr(MARKING) {
            Value::Map(tags) if !tags.is_empty() => Some((boundary, tags)),
            _ => None,
        })
        .collect();
    if markings.is_empty() {
        return Verdict::NotApplicable;
    }

    let tags = bucket.attr("tags");
    let mut marked_by = None;
    for (boundary, marking) in markings {
        // Tag keys may hold dots, so they are looked up whole, not as paths.
        let carries = marking.iter().all(|(key, wanted)| {
            tags.get(key)
                .and_then(Value::as_str)
                .is_some_and(|found| Some(found) == wanted.as_str())
        });
        if carries {
            marked_by = Some((boundary, marking));
            break;
        }
        let unknown = match tags {
            Value::Null => false,
            Value::Map(found) => marking
                .keys()
                .any(|key| found.get(key).is_some_and(|value| !value.is_known())),
            _ => true,
        };
        if unknown {
            return Verdict::undetermined("the bucket's tags are not known before apply");
        }
    }
    let Some((boundary, marking)) = marked_by else {
        return Verdict::NotApplicable;
    };

    if cx.policy.is_phi_source(bucket) || cx.policy.is_member(bucket) {
        return Verdict::Pass;
    }
    let shown: Vec<String> = marking
        .iter()
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or("?")))
        .collect();
    Verdict::fail(
        Some("tags"),
        format!(
            "the bucket carries the PHI marking of {} ({}) but no hipaa_phi_system or boundary \
             member declares it",
            boundary.address,
            shown.join(", ")
        ),
        "declare the bucket with a hipaa_phi_system and list it among the boundary's members, \
         or remove the marking if it holds no PHI",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    fn boundary(members: &[&str]) -> Resource {
        resource(
            "hipaa_boundary",
            "us",
            json!({"regions": ["us-east-1"], "members": members,
                   "phi_tags": {"data-class": "phi"}}),
        )
    }

    fn bucket(tag: &str) -> Resource {
        resource(
            "aws_s3_bucket",
            "exports",
            json!({"bucket": "acme-exports", "arn": "arn:aws:s3:::acme-exports",
                   "tags": {"data-class": tag, "team": "x"}}),
        )
    }

    #[test]
    fn a_marked_bucket_nobody_declares_fails() {
        let message = failure_message(judge(
            &PhiBucketUndeclared,
            vec![boundary(&[]), bucket("phi")],
            "aws_s3_bucket.exports",
        ));
        assert_eq!(
            message,
            "the bucket carries the PHI marking of hipaa_boundary.us (data-class=phi) but no \
             hipaa_phi_system or boundary member declares it"
        );
    }

    #[test]
    fn a_declared_or_unmarked_bucket_passes() {
        assert_eq!(
            judge(
                &PhiBucketUndeclared,
                vec![boundary(&["arn:aws:s3:::acme-exports"]), bucket("phi")],
                "aws_s3_bucket.exports",
            ),
            Verdict::Pass
        );
        assert_eq!(
            judge(
                &PhiBucketUndeclared,
                vec![boundary(&[]), bucket("public")],
                "aws_s3_bucket.exports",
            ),
            Verdict::NotApplicable
        );
    }
}
