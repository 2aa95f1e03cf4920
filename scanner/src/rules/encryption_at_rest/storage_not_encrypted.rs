use super::{at_rest_state, AtRest};
use crate::rules::prelude::*;
use compliance::encryption::{self, AtRestSpec, EncryptionSwitch};

declare_rule! {
    /// ## What it checks
    ///
    /// Every storage resource in the at-rest encryption table (EBS volumes and snapshot copies,
    /// RDS, Aurora, DocumentDB and Neptune databases, DynamoDB, EFS, Redshift, ElastiCache, SQS,
    /// SNS, Kinesis, CloudWatch Logs, OpenSearch, Backup vaults, Secrets Manager, and the Azure
    /// and Google Cloud storage services) must be encrypted at rest.
    ///
    /// Where the switch is left unset, the service's documented default decides. A read replica,
    /// a restore from a snapshot or a snapshot copy takes the encryption of its source: the
    /// source is judged when this configuration manages it, and the check is undetermined when it
    /// does not. A value that is not known before apply is reported as undetermined, never
    /// guessed.
    ///
    /// The account-wide `aws_ebs_encryption_by_default` is not credited to volumes: it only
    /// affects volumes created after it is switched on, and Terraform does not order the two.
    ///
    /// ## Why it matters
    ///
    /// Encryption of ePHI at rest is the implementation specification of 45 CFR
    /// 164.312(a)(2)(iv). It is addressable, but for data on a cloud provider's disks there is
    /// no reasonable equivalent: an unencrypted volume, snapshot or backup is readable by
    /// whoever obtains the media or a copy of it. Encrypted media are also what makes the
    /// disposal and re-use of storage under 164.310(d)(1) safe, and a loss of encrypted data is
    /// not a reportable breach under the breach notification safe harbour.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_ebs_volume" "pacs" {
    ///   availability_zone = "us-east-1a"
    ///   size              = 500
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_ebs_volume" "pacs" {
    ///   availability_zone = "us-east-1a"
    ///   size              = 500
    ///   encrypted         = true
    ///   kms_key_id        = aws_kms_key.phi.arn
    /// }
    /// ```
    pub struct StorageNotEncrypted {
        id: "EAR001",
        name: "storage-not-encrypted",
        category: EncryptionAtRest,
        severity: High,
        title: "Storage is not encrypted at rest",
        hipaa: ["164.312(a)(2)(iv)", "164.310(d)(1)"],
        applies_to: |resource_type| encryption::at_rest(resource_type).is_some(),
        check: check,
    }
}

fn check(cx: &Context, resource: &Resource) -> Verdict {
    let Some(spec) = encryption::at_rest(&resource.resource_type) else {
        return Verdict::NotApplicable;
    };

    match at_rest_state(cx, resource, spec) {
        AtRest::Encrypted => Verdict::Pass,
        AtRest::Unknown(reason) => Verdict::undetermined(reason),
        AtRest::Unencrypted { attribute, reason } => Verdict::fail(
            attribute,
            format!("{} is not encrypted at rest: {reason}", spec.service),
            fix(spec),
        ),
    }
}

/// What to write to encrypt a resource of this type.
fn fix(spec: &AtRestSpec) -> String {
    let switch_on = match spec.switch {
        EncryptionSwitch::Flag { path, .. } => format!("set `{path} = true`"),
        EncryptionSwitch::OneOf {
            path,
            encrypted_values,
            ..
        } => format!(
            "set `{path} = \"{}\"`",
            encrypted_values.first().copied().unwrap_or_default()
        ),
        EncryptionSwitch::KeyNamed | EncryptionSwitch::Always => "name a KMS key".to_string(),
    };
    match spec.key_path() {
        Some(key) => format!("{switch_on}, with `{key}` naming a customer-managed key"),
        None => switch_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{
        failure_message, global_datastore, judge, resource, with_reference,
    };
    use crate::value::Value;
    use serde_json::json;

    fn judge_one(resource: Resource) -> Verdict {
        let address = resource.address.clone();
        judge(&StorageNotEncrypted, vec![resource], &address)
    }

    #[test]
    fn an_unencrypted_volume_fails_at_its_switch() {
        let volume = resource(
            "aws_ebs_volume",
            "old",
            json!({"size": 20, "encrypted": false}),
        );
        let verdict = judge_one(volume);
        let Verdict::Fail(violation) = verdict else {
            panic!("expected a failure, got {verdict:?}");
        };
        assert_eq!(violation.attribute.as_deref(), Some("encrypted"));
        assert_eq!(
            violation.message,
            "EBS volume is not encrypted at rest: `encrypted` is false"
        );
        assert!(
            violation.fix.contains("`encrypted = true`"),
            "{}",
            violation.fix
        );
    }

    #[test]
    fn an_unset_switch_takes_the_service_default() {
        let ehr = resource("aws_db_instance", "ehr", json!({"engine": "postgres"}));
        assert!(failure_message(judge_one(ehr)).contains("`storage_encrypted` is not set"));

        let redshift = resource(
            "aws_redshift_cluster",
            "dw",
            json!({"node_type": "ra3.xlplus"}),
        );
        assert_eq!(judge_one(redshift), Verdict::Pass);
    }

    #[test]
    fn rds_cases_are_judged_as_the_shared_case_expects() {
        let portal = resource(
            "aws_rds_cluster",
            "portal",
            json!({"engine": "aurora-mysql", "storage_encrypted": true}),
        );
        let scheduling = resource(
            "aws_rds_cluster",
            "scheduling",
            json!({"engine": "aurora-postgresql", "storage_encrypted": false}),
        );
        assert_eq!(judge_one(portal), Verdict::Pass);
        assert!(failure_message(judge_one(scheduling)).starts_with("RDS cluster"));
    }

    #[test]
    fn a_replica_is_judged_by_its_source_when_the_source_is_here() {
        let source = resource("aws_db_instance", "ehr", json!({"identifier": "ehr"}));
        let replica = with_reference(
            resource(
                "aws_db_instance",
                "reporting",
                json!({"replicate_source_db": "ehr"}),
            ),
            "replicate_source_db",
            "aws_db_instance.ehr",
            "identifier",
        );
        let message = failure_message(judge(
            &StorageNotEncrypted,
            vec![source, replica],
            "aws_db_instance.reporting",
        ));
        assert!(
            message.contains("source database aws_db_instance.ehr"),
            "{message}"
        );

        let encrypted_source = resource(
            "aws_db_instance",
            "ehr",
            json!({"identifier": "ehr", "storage_encrypted": true}),
        );
        let replica = with_reference(
            resource(
                "aws_db_instance",
                "reporting",
                json!({"replicate_source_db": "ehr"}),
            ),
            "replicate_source_db",
            "aws_db_instance.ehr",
            "identifier",
        );
        assert_eq!(
            judge(
                &StorageNotEncrypted,
                vec![encrypted_source, replica],
                "aws_db_instance.reporting"
            ),
            Verdict::Pass
        );
    }

    #[test]
    fn a_replica_of_a_database_elsewhere_is_undetermined() {
        let replica = resource(
            "aws_db_instance",
            "reporting",
            json!({"replicate_source_db": "arn:aws:rds:us-east-1:111122223333:db:ehr"}),
        );
        let Verdict::Undetermined(reason) = judge_one(replica) else {
            panic!("expected undetermined");
        };
        assert!(reason.contains("`replicate_source_db`"), "{reason}");
    }

    #[test]
    fn an_unknown_switch_is_undetermined_and_a_known_conditional_is_decided() {
        let mut unknown = resource("aws_ebs_volume", "lab", json!({}));
        set(&mut unknown, "encrypted", Value::Unknown);
        assert!(matches!(judge_one(unknown), Verdict::Undetermined(_)));

        let mut both_true = resource("aws_ebs_volume", "lab", json!({}));
        set(
            &mut both_true,
            "encrypted",
            Value::AnyOf(vec![true.into(), "true".into()]),
        );
        assert_eq!(judge_one(both_true), Verdict::Pass);

        // `encrypted = var.on ? true : null`: the null branch is the unencrypted default.
        let mut maybe = resource("aws_ebs_volume", "lab", json!({}));
        set(
            &mut maybe,
            "encrypted",
            Value::AnyOf(vec![true.into(), Value::Null]),
        );
        assert!(matches!(judge_one(maybe), Verdict::Undetermined(_)));
    }

    #[test]
    fn elasticache_defaults_follow_the_engine() {
        let sessions = resource(
            "aws_elasticache_replication_group",
            "sessions",
            json!({"at_rest_encryption_enabled": false, "transit_encryption_enabled": false}),
        );
        assert!(failure_message(judge_one(sessions)).contains("`at_rest_encryption_enabled`"));

        let redis = resource("aws_elasticache_replication_group", "r", json!({}));
        assert!(failure_message(judge_one(redis)).contains("only when `engine` is \"valkey\""));

        let valkey = resource(
            "aws_elasticache_replication_group",
            "v",
            json!({"engine": "valkey"}),
        );
        assert_eq!(judge_one(valkey), Verdict::Pass);
    }

    #[test]
    fn a_global_secondary_takes_the_encryption_of_its_datastore_primary() {
        let address = "aws_elasticache_replication_group.secondary";

        let encrypted = global_datastore(json!({"at_rest_encryption_enabled": true}));
        assert_eq!(
            judge(&StorageNotEncrypted, encrypted, address),
            Verdict::Pass
        );

        let plain = global_datastore(json!({}));
        let message = failure_message(judge(&StorageNotEncrypted, plain, address));
        assert!(
            message.contains(
                "global datastore's primary group aws_elasticache_replication_group.primary"
            ),
            "{message}"
        );

        let alone = global_datastore(json!({})).split_off(2);
        let alone = judge(&StorageNotEncrypted, alone, address);
        assert!(matches!(alone, Verdict::Undetermined(_)), "{alone:?}");
    }

    #[test]
    fn queues_topics_and_streams() {
        let default_queue = resource("aws_sqs_queue", "q", json!({}));
        assert_eq!(judge_one(default_queue), Verdict::Pass);

        let kms_queue = resource(
            "aws_sqs_queue",
            "q",
            json!({"sqs_managed_sse_enabled": false, "kms_master_key_id": "alias/aws/sqs"}),
        );
        assert_eq!(judge_one(kms_queue), Verdict::Pass);

        let plain_queue = resource(
            "aws_sqs_queue",
            "q",
            json!({"sqs_managed_sse_enabled": false}),
        );
        assert!(failure_message(judge_one(plain_queue)).starts_with("SQS queue"));

        let topic = resource("aws_sns_topic", "t", json!({"name": "alerts"}));
        assert!(failure_message(judge_one(topic)).contains("`kms_master_key_id` is not set"));

        let stream = resource(
            "aws_kinesis_stream",
            "s",
            json!({"encryption_type": "NONE"}),
        );
        assert_eq!(
            failure_message(judge_one(stream)),
            "Kinesis data stream is not encrypted at rest: `encryption_type` is not \"KMS\""
        );
    }

    #[test]
    fn always_encrypted_services_pass_without_settings() {
        for resource_type in [
            "aws_dynamodb_table",
            "aws_cloudwatch_log_group",
            "azurerm_storage_account",
            "google_storage_bucket",
        ] {
            let verdict = judge_one(resource(resource_type, "x", json!({})));
            assert_eq!(verdict, Verdict::Pass, "{resource_type}");
        }
    }

    #[test]
    fn nested_switches_are_read_through_their_block() {
        let domain = resource(
            "aws_opensearch_domain",
            "search",
            json!({"encrypt_at_rest": [{"enabled": false}]}),
        );
        let Verdict::Fail(violation) = judge_one(domain) else {
            panic!("expected a failure");
        };
        assert_eq!(
            violation.attribute.as_deref(),
            Some("encrypt_at_rest.enabled")
        );
    }

    #[test]
    fn the_storage_resources_of_the_shared_cases() {
        // module-count-for-each: one volume per for_each key, each with `encrypted = false`.
        let mut intake = resource("aws_ebs_volume", "this", json!({"encrypted": false}));
        intake.module = "module.volumes[\"intake\"]".to_string();
        intake.address = "module.volumes[\"intake\"].aws_ebs_volume.this".to_string();
        let address = intake.address.clone();
        let verdict = judge(&StorageNotEncrypted, vec![intake], &address);
        assert!(failure_message(verdict).starts_with("EBS volume"));

        // plan-sensitive-values: the message never carries the password.
        let mut billing = resource(
            "aws_db_instance",
            "billing",
            json!({"engine": "mysql", "storage_encrypted": false}),
        );
        set(&mut billing, "password", Value::Sensitive);
        let message = failure_message(judge_one(billing));
        assert_eq!(
            message,
            "RDS database instance is not encrypted at rest: `storage_encrypted` is false"
        );
    }

    fn set(resource: &mut Resource, attribute: &str, value: Value) {
        if let Value::Map(map) = &mut resource.values {
            map.insert(attribute.to_string(), value);
        }
    }
}
