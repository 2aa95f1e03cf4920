use super::{any_of, at_rest_state, AtRest};
use crate::rules::prelude::*;
use compliance::encryption::{self, AtRestSpec};

declare_rule! {
    /// ## What it checks
    ///
    /// When the license demands customer-managed keys (`customer_managed_keys = true` on a
    /// `hipaa_license`), every storage resource of the at-rest encryption table that can take a
    /// key of its own must name one the licensee manages: an `aws_kms_key`, a Cloud KMS key, an
    /// Azure Key Vault key or disk encryption set, or a literal key that is not an AWS managed
    /// `alias/aws/...` key. A key created in the same plan counts even though its ARN is not
    /// known until apply.
    ///
    /// Storage that is not encrypted at all is reported by `storage-not-encrypted` and not again
    /// here. Without such a license the rule stays silent: keys the cloud provider manages are
    /// AES-256 too.
    ///
    /// Known gap: an Azure SQL database whose key is set on its server
    /// (`azurerm_mssql_server_transparent_data_encryption`) is not credited with it, so only a
    /// database-level key is looked at.
    ///
    /// ## Why it matters
    ///
    /// A key the cloud provider manages is used whenever the provider's service is asked to
    /// decrypt; its use cannot be limited, audited or revoked by the licensee. Licensees who
    /// promise customer-managed keys do so to control who can decrypt ePHI (164.312(a)(2)(iv))
    /// and because their risk analysis made it a safeguard of their risk management plan
    /// (164.308(a)(1)(ii)(B)): a resource that falls back to a provider key breaks that promise.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "hipaa_license" "strict" {
    ///   name                  = "acme-strict"
    ///   version               = "2026.2"
    ///   customer_managed_keys = true
    /// }
    ///
    /// resource "aws_ebs_volume" "scans" {
    ///   availability_zone = "us-east-1a"
    ///   size              = 100
    ///   encrypted         = true
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_ebs_volume" "scans" {
    ///   availability_zone = "us-east-1a"
    ///   size              = 100
    ///   encrypted         = true
    ///   kms_key_id        = aws_kms_key.phi.arn
    /// }
    /// ```
    pub struct CustomerManagedKeyRequired {
        id: "EAR002",
        name: "customer-managed-key-required",
        category: EncryptionAtRest,
        severity: High,
        title: "Storage is not encrypted with a customer-managed key",
        hipaa: ["164.312(a)(2)(iv)", "164.308(a)(1)(ii)(B)"],
        applies_to: |resource_type| {
            encryption::at_rest(resource_type).is_some_and(|spec| spec.key_path().is_some())
        },
        check: check,
    }
}

fn check(cx: &Context, resource: &Resource) -> Verdict {
    if !cx.terms().customer_managed_keys {
        return Verdict::NotApplicable;
    }
    let Some(spec) = encryption::at_rest(&resource.resource_type) else {
        return Verdict::NotApplicable;
    };
    let Some(key_path) = spec.key_path() else {
        return Verdict::NotApplicable;
    };

    let state = at_rest_state(cx, resource, spec);
    if let AtRest::Unencrypted { .. } = state {
        return Verdict::NotApplicable;
    }

    match customer_managed_key(cx, resource, spec) {
        Truth::Yes => Verdict::Pass,
        Truth::Undetermined => Verdict::undetermined(format!(
            "the key named in `{key_path}` is not known before apply"
        )),
        Truth::No => match state {
            AtRest::Unknown(reason) => Verdict::undetermined(format!(
                "the {} names no customer-managed key, but whether it is encrypted at all is not \
                 known: {reason}",
                spec.service
            )),
            _ => Verdict::fail(
                Some(key_path),
                format!(
                    "{} is encrypted with a key the cloud provider manages; the license demands \
                     customer-managed keys",
                    spec.service
                ),
                format!("set `{key_path}` to a key the licensee manages (e.g. `aws_kms_key`)"),
            ),
        },
    }
}

/// Whether any of the places a key can be named names a customer-managed one.
fn customer_managed_key(cx: &Context, resource: &Resource, spec: &AtRestSpec) -> Truth {
    // A customer-supplied key is the customer's by definition; its content is never read.
    if spec
        .supplied_key_paths
        .iter()
        .any(|path| !resource.lookup(path).is_empty())
    {
        return Truth::Yes;
    }

    let own = spec
        .key_paths
        .iter()
        .map(|path| cx.is_customer_managed_key(resource, path));
    let linked = spec.linked_keys.iter().flat_map(|linked| {
        cx.linked_from(resource, linked.from_type)
            .into_iter()
            .map(|setting| cx.is_customer_managed_key(setting, linked.key_path))
    });
    any_of(own.chain(linked).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference};
    use crate::rules::Rule;
    use crate::value::Value;
    use serde_json::json;

    fn strict_license() -> Resource {
        resource(
            "hipaa_license",
            "strict",
            json!({"name": "acme-strict", "customer_managed_keys": true, "key_rotation_days": 90}),
        )
    }

    fn phi_key() -> Resource {
        resource(
            "aws_kms_key",
            "phi",
            json!({"enable_key_rotation": true, "rotation_period_in_days": 90}),
        )
    }

    #[test]
    fn an_aws_managed_key_fails_under_a_cmk_license() {
        let volume = resource(
            "aws_ebs_volume",
            "aws_managed",
            json!({"size": 10, "encrypted": true}),
        );
        let verdict = judge(
            &CustomerManagedKeyRequired,
            vec![strict_license(), volume],
            "aws_ebs_volume.aws_managed",
        );
        let Verdict::Fail(violation) = verdict else {
            panic!("expected a failure, got {verdict:?}");
        };
        assert_eq!(violation.attribute.as_deref(), Some("kms_key_id"));
        assert_eq!(
            violation.message,
            "EBS volume is encrypted with a key the cloud provider manages; the license demands \
             customer-managed keys"
        );
    }

    #[test]
    fn a_key_of_this_configuration_passes_even_when_its_arn_is_unknown() {
        let mut volume = resource("aws_ebs_volume", "cmk", json!({"encrypted": true}));
        if let Value::Map(map) = &mut volume.values {
            map.insert("kms_key_id".to_string(), Value::Unknown);
        }
        let volume = with_reference(volume, "kms_key_id", "aws_kms_key.phi", "arn");
        let verdict = judge(
            &CustomerManagedKeyRequired,
            vec![strict_license(), phi_key(), volume],
            "aws_ebs_volume.cmk",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn an_unknown_key_without_a_reference_is_undetermined() {
        let mut table = resource("aws_dynamodb_table", "visits", json!({}));
        if let Value::Map(map) = &mut table.values {
            map.insert(
                "server_side_encryption".to_string(),
                Value::List(vec![Value::Map(
                    [
                        ("enabled".to_string(), Value::Bool(true)),
                        ("kms_key_arn".to_string(), Value::Unknown),
                    ]
                    .into_iter()
                    .collect(),
                )]),
            );
        }
        let verdict = judge(
            &CustomerManagedKeyRequired,
            vec![strict_license(), table],
            "aws_dynamodb_table.visits",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)), "{verdict:?}");
    }

    #[test]
    fn dynamic_block_tables_of_the_shared_case() {
        let visits = resource(
            "aws_dynamodb_table",
            "visits",
            json!({"server_side_encryption": [{
                "enabled": true,
                "kms_key_arn":
                    "arn:aws:kms:us-east-1:111122223333:key/1111bbbb-2222-3333-4444-555566667777"
            }]}),
        );
        let referrals = resource(
            "aws_dynamodb_table",
            "referrals",
            json!({"name": "referrals"}),
        );
        let resources = vec![strict_license(), visits, referrals];
        assert_eq!(
            judge(
                &CustomerManagedKeyRequired,
                resources.clone(),
                "aws_dynamodb_table.visits"
            ),
            Verdict::Pass
        );
        let message = failure_message(judge(
            &CustomerManagedKeyRequired,
            resources,
            "aws_dynamodb_table.referrals",
        ));
        assert!(message.starts_with("DynamoDB table"), "{message}");
    }

    #[test]
    fn unencrypted_storage_is_left_to_storage_not_encrypted() {
        let volume = resource("aws_ebs_volume", "old", json!({"encrypted": false}));
        let verdict = judge(
            &CustomerManagedKeyRequired,
            vec![strict_license(), volume],
            "aws_ebs_volume.old",
        );
        assert_eq!(verdict, Verdict::NotApplicable);
    }

    #[test]
    fn without_a_cmk_license_the_rule_is_silent() {
        let volume = resource("aws_ebs_volume", "v", json!({"encrypted": true}));
        let verdict = judge(
            &CustomerManagedKeyRequired,
            vec![volume],
            "aws_ebs_volume.v",
        );
        assert_eq!(verdict, Verdict::NotApplicable);
    }

    #[test]
    fn aws_managed_aliases_do_not_count_and_supplied_keys_do() {
        let queue = resource(
            "aws_sqs_queue",
            "q",
            json!({"kms_master_key_id": "alias/aws/sqs"}),
        );
        let message = failure_message(judge(
            &CustomerManagedKeyRequired,
            vec![strict_license(), queue],
            "aws_sqs_queue.q",
        ));
        assert!(message.starts_with("SQS queue"));

        let mut disk = resource("google_compute_disk", "d", json!({}));
        if let Value::Map(map) = &mut disk.values {
            map.insert(
                "disk_encryption_key".to_string(),
                Value::List(vec![Value::Map(
                    [("raw_key".to_string(), Value::Sensitive)]
                        .into_iter()
                        .collect(),
                )]),
            );
        }
        let verdict = judge(
            &CustomerManagedKeyRequired,
            vec![strict_license(), disk],
            "google_compute_disk.d",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn types_without_a_key_of_their_own_are_not_looked_at() {
        assert!(!CustomerManagedKeyRequired.applies_to("aws_ebs_encryption_by_default"));
        assert!(!CustomerManagedKeyRequired.applies_to("aws_s3_bucket"));
        assert!(CustomerManagedKeyRequired.applies_to("azurerm_storage_account"));
    }
}
