//! The compliance boundary (45 CFR 164.312(a)(1), 164.308(b)(1), 164.314(a)(1)): PHI stays in
//! the resources a `hipaa_boundary` declares, in the regions it allows.
//!
//! These rules judge against the declarations of the scanned code, so they stay silent
//! (not applicable) when no boundary is declared.

mod boundary_member_outside_region;
mod phi_bucket_undeclared;
mod phi_flows_outside_boundary;
mod phi_system_missing;
mod phi_system_outside_boundary;
mod s3_public_access_not_blocked;

pub use boundary_member_outside_region::BoundaryMemberOutsideRegion;
pub use phi_bucket_undeclared::PhiBucketUndeclared;
pub use phi_flows_outside_boundary::PhiFlowsOutsideBoundary;
pub use phi_system_missing::PhiSystemMissing;
pub use phi_system_outside_boundary::PhiSystemOutsideBoundary;
pub use s3_public_access_not_blocked::S3PublicAccessNotBlocked;

/// Whether a resource type is one of the licensing model's own declarations, which the
/// boundary rules never judge as infrastructure.
fn is_declaration(resource_type: &str) -> bool {
    resource_type.starts_with("hipaa_")
}

/// The shared boundary cases, mirrored by hand as the HCL loader reads them (a reference such
/// as `aws_s3_bucket.records.arn` is an unknown value with a reference), and run through the
/// whole engine.
#[cfg(test)]
mod cases {
    use crate::finding::Category;
    use crate::model::Resource;
    use crate::rules::testing::{failing_in, resource, with_reference, with_value};
    use crate::value::Value;
    use serde_json::json;

    fn failing(resources: Vec<Resource>) -> Vec<String> {
        failing_in(Category::Boundary, resources)
    }

    /// An attribute holding references only, as the loader leaves it before apply.
    fn referring(mut holder: Resource, attribute: &str, targets: &[&str]) -> Resource {
        for target in targets {
            holder = with_reference(holder, attribute, target, "arn");
        }
        let unknowns = Value::List(targets.iter().map(|_| Value::Unknown).collect());
        with_value(holder, attribute, unknowns)
    }

    fn in_region(mut resource: Resource, region: &str) -> Resource {
        resource.provider.region = Some(Value::from(region));
        resource
    }

    #[test]
    fn boundary_phi_replication() {
        let boundary = referring(
            resource(
                "hipaa_boundary",
                "prod",
                json!({"name": "production PHI", "regions": ["us-east-1"]}),
            ),
            "members",
            &["aws_s3_bucket.records", "aws_kms_key.records"],
        );
        let mut system = with_reference(
            resource(
                "hipaa_phi_system",
                "records",
                json!({"name": "patient records store", "handles": ["store"]}),
            ),
            "resource",
            "aws_s3_bucket.records",
            "arn",
        );
        system = with_value(system, "resource", Value::Unknown);
        system = with_reference(system, "boundary_id", "hipaa_boundary.prod", "id");
        system = with_value(system, "boundary_id", Value::Unknown);
        let mut replication = resource(
            "aws_s3_bucket_replication_configuration",
            "records",
            json!({
                "role": "arn:aws:iam::111122223333:role/replication",
                "rule": [{
                    "id": "to-analytics",
                    "status": "Enabled",
                    "destination": [{"bucket": null}]
                }]
            }),
        );
        replication = with_reference(replication, "bucket", "aws_s3_bucket.records", "id");
        replication = with_value(replication, "bucket", Value::Unknown);
        replication = with_reference(
            replication,
            "rule.destination.bucket",
            "aws_s3_bucket.analytics_copy",
            "arn",
        );
        let resources = vec![
            resource(
                "hipaa_license",
                "main",
                json!({"name": "acme-phi", "version": "2026.1", "min_tls_version": "1.2"}),
            ),
            boundary,
            system,
            resource(
                "aws_kms_key",
                "records",
                json!({"enable_key_rotation": true}),
            ),
            resource(
                "aws_s3_bucket",
                "records",
                json!({"bucket": "acme-patient-records"}),
            ),
            resource(
                "aws_s3_bucket",
                "analytics_copy",
                json!({"bucket": "acme-analytics-copy"}),
            ),
            replication,
            resource(
                "aws_s3_bucket",
                "website",
                json!({"bucket": "acme-public-website"}),
            ),
        ];
        assert_eq!(failing(resources), vec!["aws_s3_bucket.analytics_copy"]);
    }

    #[test]
    fn boundary_region() {
        let boundary = referring(
            resource(
                "hipaa_boundary",
                "us_only",
                json!({"name": "US regions only", "regions": ["us-east-1", "us-west-2"]}),
            ),
            "members",
            &["aws_db_instance.us", "aws_db_instance.eu"],
        );
        let database = |name: &str| {
            resource(
                "aws_db_instance",
                name,
                json!({
                    "identifier": format!("intake-{name}"),
                    "engine": "postgres",
                    "instance_class": "db.t4g.medium",
                    "allocated_storage": 20,
                    "storage_encrypted": true,
                    "username": "intake",
                    "manage_master_user_password": true
                }),
            )
        };
        let mut eu = in_region(database("eu"), "eu-west-1");
        eu.provider.alias = Some("eu".to_string());
        let resources = vec![
            resource(
                "hipaa_license",
                "main",
                json!({"name": "acme-phi", "version": "2026.1"}),
            ),
            boundary,
            in_region(database("us"), "us-east-1"),
            eu,
        ];
        assert_eq!(failing(resources), vec!["aws_db_instance.eu"]);
    }
}
