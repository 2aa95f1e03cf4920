use super::is_declaration;
use crate::flows::Receipt;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// A resource that receives PHI along a data flow but is not a member of any
    /// `hipaa_boundary`. PHI starts at the declared sources (boundary members and the resources
    /// of `hipaa_phi_system` declarations) and is followed along replication, snapshots and
    /// their copies, read replicas, access-log delivery, subscriptions, stream destinations and
    /// backup copies, transitively: the replica of a replica receives PHI too. The finding is
    /// placed on the destination, and names the source and the kind of flow.
    ///
    /// Silent when no boundary is declared. When a boundary lists members that cannot be known
    /// before apply, a destination outside the known members is undetermined.
    ///
    /// ## Why it matters
    ///
    /// A copy of PHI is PHI. The access control standard (45 CFR 164.312(a)(1)) and the
    /// business associate provisions (164.308(b)(1), 164.314(a)(1)) assume that the covered
    /// entity knows every system that holds its PHI and that each one is covered by the
    /// agreements and safeguards of the boundary. A replica nobody declared escapes both.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "hipaa_boundary" "prod" {
    ///   name    = "production PHI"
    ///   members = [aws_s3_bucket.records.arn]
    /// }
    ///
    /// resource "aws_s3_bucket_replication_configuration" "records" {
    ///   bucket = aws_s3_bucket.records.id
    ///   role   = aws_iam_role.replication.arn
    ///   rule {
    ///     status = "Enabled"
    ///     destination {
    ///       bucket = aws_s3_bucket.analytics_copy.arn
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "hipaa_boundary" "prod" {
    ///   name    = "production PHI"
    ///   members = [aws_s3_bucket.records.arn, aws_s3_bucket.analytics_copy.arn]
    /// }
    /// ```
    pub struct PhiFlowsOutsideBoundary {
        id: "BND001",
        name: "phi-flows-outside-boundary",
        category: Boundary,
        severity: Critical,
        title: "PHI flows into a resource outside the compliance boundary",
        hipaa: ["164.312(a)(1)", "164.308(b)(1)", "164.314(a)(1)"],
        applies_to: |resource_type| !is_declaration(resource_type),
        check: check,
    }
}

const FIX: &str = "add the resource to the members of a hipaa_boundary (and cover it with the \
                   boundary's safeguards), or stop the flow that copies PHI into it";

fn check(cx: &Context, resource: &Resource) -> Verdict {
    if cx.policy.boundaries.is_empty() {
        return Verdict::NotApplicable;
    }
    if cx.policy.is_member(resource) {
        return Verdict::Pass;
    }

    let members_unknown = cx.policy.boundaries.iter().any(|b| b.has_unknown_members);
    match cx.phi_reach().receipt(resource) {
        None => Verdict::NotApplicable,
        Some(Receipt::Maybe { declared_by, kind }) => Verdict::undetermined(format!(
            "{declared_by} declares a {kind} into this resource from a source that is not known \
             until apply"
        )),
        Some(Receipt::Receives(arrival)) => {
            let path = if arrival.hops > 1 {
                format!(", by way of {}", arrival.from)
            } else {
                String::new()
            };
            let message = format!(
                "receives PHI from {} by {} (declared in {}){path}, but no hipaa_boundary lists \
                 it as a member",
                arrival.origin, arrival.kind, arrival.declared_by
            );
            if members_unknown {
                return Verdict::undetermined(format!(
                    "{message}; some boundary members are not known until apply"
                ));
            }
            Verdict::fail(None, message, FIX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference, with_value};
    use serde_json::json;

    /// The resources of the shared case boundary-phi-replication.
    fn replication_case() -> Vec<Resource> {
        let license = resource(
            "hipaa_license",
            "main",
            json!({"name": "acme-phi", "version": "2026.1", "min_tls_version": "1.2"}),
        );
        let mut boundary = resource(
            "hipaa_boundary",
            "prod",
            json!({"name": "production PHI", "regions": ["us-east-1"]}),
        );
        boundary = with_reference(boundary, "members", "aws_s3_bucket.records", "arn");
        boundary = with_reference(boundary, "members", "aws_kms_key.records", "arn");
        let system = with_reference(
            with_reference(
                resource(
                    "hipaa_phi_system",
                    "records",
                    json!({"name": "patient records store"}),
                ),
                "resource",
                "aws_s3_bucket.records",
                "arn",
            ),
            "boundary_id",
            "hipaa_boundary.prod",
            "id",
        );
        let key = resource(
            "aws_kms_key",
            "records",
            json!({"enable_key_rotation": true}),
        );
        let records = resource(
            "aws_s3_bucket",
            "records",
            json!({"bucket": "acme-patient-records"}),
        );
        let copy = resource(
            "aws_s3_bucket",
            "analytics_copy",
            json!({"bucket": "acme-analytics-copy"}),
        );
        let replication = with_reference(
            with_reference(
                resource(
                    "aws_s3_bucket_replication_configuration",
                    "records",
                    json!({
                        "role": "arn:aws:iam::111122223333:role/replication",
                        "rule": [{"id": "to-analytics", "status": "Enabled", "destination": [{}]}]
                    }),
                ),
                "bucket",
                "aws_s3_bucket.records",
                "id",
            ),
            "rule.destination.bucket",
            "aws_s3_bucket.analytics_copy",
            "arn",
        );
        let website = resource(
            "aws_s3_bucket",
            "website",
            json!({"bucket": "acme-public-website"}),
        );
        vec![
            license,
            boundary,
            system,
            key,
            records,
            copy,
            replication,
            website,
        ]
    }

    #[test]
    fn a_replica_outside_the_boundary_fails_and_names_its_source() {
        let verdict = judge(
            &PhiFlowsOutsideBoundary,
            replication_case(),
            "aws_s3_bucket.analytics_copy",
        );
        let message = failure_message(verdict);
        assert!(message.contains("aws_s3_bucket.records"), "{message}");
        assert!(message.contains("replication"), "{message}");
    }

    #[test]
    fn members_and_resources_without_phi_do_not_fail() {
        let members = judge(
            &PhiFlowsOutsideBoundary,
            replication_case(),
            "aws_s3_bucket.records",
        );
        assert_eq!(members, Verdict::Pass);
        let website = judge(
            &PhiFlowsOutsideBoundary,
            replication_case(),
            "aws_s3_bucket.website",
        );
        assert_eq!(website, Verdict::NotApplicable);
    }

    #[test]
    fn a_replica_of_a_replica_receives_phi_too() {
        let mut resources = replication_case();
        resources.push(resource(
            "aws_s3_bucket",
            "third",
            json!({"bucket": "acme-third"}),
        ));
        // A literal destination bucket ARN, as written without a reference.
        resources.push(with_reference(
            resource(
                "aws_s3_bucket_replication_configuration",
                "copy",
                json!({"rule": [{"destination": [{"bucket": "arn:aws:s3:::acme-third"}]}]}),
            ),
            "bucket",
            "aws_s3_bucket.analytics_copy",
            "id",
        ));
        let verdict = judge(&PhiFlowsOutsideBoundary, resources, "aws_s3_bucket.third");
        let message = failure_message(verdict);
        assert!(message.contains("from aws_s3_bucket.records"), "{message}");
        assert!(
            message.contains("by way of aws_s3_bucket.analytics_copy"),
            "{message}"
        );
    }

    #[test]
    fn a_read_replica_is_the_destination_of_its_flow() {
        let mut boundary = resource("hipaa_boundary", "prod", json!({"name": "prod"}));
        boundary = with_reference(boundary, "members", "aws_db_instance.ehr", "arn");
        let ehr = resource("aws_db_instance", "ehr", json!({"identifier": "ehr"}));
        let replica = resource(
            "aws_db_instance",
            "reporting",
            json!({"identifier": "reporting", "replicate_source_db": "ehr"}),
        );
        let verdict = judge(
            &PhiFlowsOutsideBoundary,
            vec![boundary, ehr, replica],
            "aws_db_instance.reporting",
        );
        assert!(failure_message(verdict).contains("read replica"));
    }

    #[test]
    fn an_unknown_source_is_undetermined_and_no_boundary_is_silent() {
        let mut boundary = resource("hipaa_boundary", "prod", json!({"name": "prod"}));
        boundary = with_reference(boundary, "members", "aws_s3_bucket.records", "arn");
        let copy = resource("aws_s3_bucket", "copy", json!({"bucket": "acme-copy"}));
        let replication = with_value(
            with_reference(
                resource(
                    "aws_s3_bucket_replication_configuration",
                    "unknown",
                    json!({"rule": [{"destination": [{}]}]}),
                ),
                "rule.destination.bucket",
                "aws_s3_bucket.copy",
                "arn",
            ),
            "bucket",
            Value::Unknown,
        );
        let resources = vec![boundary, copy.clone(), replication.clone()];
        let verdict = judge(&PhiFlowsOutsideBoundary, resources, "aws_s3_bucket.copy");
        assert!(matches!(verdict, Verdict::Undetermined(_)));

        let verdict = judge(
            &PhiFlowsOutsideBoundary,
            vec![copy, replication],
            "aws_s3_bucket.copy",
        );
        assert_eq!(verdict, Verdict::NotApplicable);
    }
}
