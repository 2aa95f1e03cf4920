//! An AWS account's inventory as resources shaped like the AWS provider's: each bucket an
//! `aws_s3_bucket` (with its policy, tags and region), its settings the separate resources the
//! provider has for them (`aws_s3_bucket_server_side_encryption_configuration`,
//! `aws_s3_bucket_public_access_block`, `aws_s3_bucket_versioning`, `aws_s3_bucket_logging`),
//! and each customer-managed key an `aws_kms_key`. Buckets and keys are addressed by ARN.

use super::{apply_failed_reads, ledger_project, FailedRead};
use crate::engine::{self, ScanReport};
use crate::model::{LiveScope, Mode, Project, Resource};
use crate::value::Value;
use hipaa_cloud::aws::CallFailure;
use hipaa_cloud::inventory::{Bucket, Inventory, Key, Read};
use hipaa_ledger::Record;
use serde_json::json;
use std::collections::HashSet;

/// The rules that need what each call tells; a failed call leaves them undetermined.
const RULES_NEEDING: &[(&str, &[&str])] = &[
    ("GetBucketLocation", &["BND002"]),
    ("GetBucketEncryption", &["EAR003"]),
    ("GetPublicAccessBlock", &["BND004"]),
    ("GetBucketPolicy", &["EIT009"]),
    ("GetBucketLogging", &["BND001"]),
    ("GetBucketTagging", &["BND006"]),
    ("GetBucketVersioning", &[]),
    ("DescribeKey", &["KEY001", "KEY002"]),
    ("GetKeyRotationStatus", &["KEY001", "KEY002"]),
];

/// What KMS calls the AWS managed key S3 uses when a bucket names no key.
const AWS_MANAGED_S3_KEY: &str = "alias/aws/s3";

/// Judges an account's inventory, against the declarations of a ledger when one is given.
pub fn audit(inventory: &Inventory, ledger: Option<&[Record]>) -> ScanReport {
    let (mut project, failures) = inventory_project(inventory);
    if let Some(records) = ledger {
        project.merge(ledger_project(records));
    }
    let mut report = engine::scan(&project);
    apply_failed_reads(&mut report, &project, &failures);
    report
}

/// The inventory as resources, with the reads that failed.
pub fn inventory_project(inventory: &Inventory) -> (Project, Vec<FailedRead>) {
    let mut project = Project {
        live: Some(LiveScope::default()),
        ..Project::default()
    };
    let mut failures = Vec::new();

    let aws_managed_keys: HashSet<&str> = match &inventory.keys {
        Ok(keys) => keys
            .iter()
            .filter(|key| key.manager == "AWS")
            .flat_map(|key| [key.arn.as_str(), key.id.as_str()])
            .collect(),
        Err(_) => HashSet::new(),
    };

    match &inventory.buckets {
        Ok(buckets) => {
            mark_complete(&mut project, "aws_s3_bucket");
            for bucket in buckets {
                add_bucket(&mut project, &mut failures, bucket, &aws_managed_keys);
            }
        }
        Err(failure) => project.notes.push(format!(
            "S3 buckets were not audited: {failure}; declared PHI systems could not be \
             checked"
        )),
    }
    match &inventory.keys {
        Ok(keys) => {
            mark_complete(&mut project, "aws_kms_key");
            for key in keys {
                add_key(&mut project, &mut failures, key);
            }
        }
        Err(failure) => project.notes.push(format!(
            "KMS keys of {} were not audited: {failure}",
            inventory.region
        )),
    }
    (project, failures)
}

fn mark_complete(project: &mut Project, resource_type: &str) {
    if let Some(live) = &mut project.live {
        live.complete_types.insert(resource_type.to_string());
    }
}

/// Notes a failed read against the rules that needed it, or as a note when none did.
fn note_failure(
    project: &mut Project,
    failures: &mut Vec<FailedRead>,
    address: &str,
    failure: &CallFailure,
) {
    let rules = RULES_NEEDING
        .iter()
        .find(|(call, _)| *call == failure.call)
        .map(|(_, rules)| *rules)
        .unwrap_or_default();
    if rules.is_empty() {
        project.notes.push(format!("{address}: {failure}"));
        return;
    }
    failures.push(FailedRead {
        resource: address.to_string(),
        rules,
        reason: failure.to_string(),
    });
}

/// The value of a read, noting its failure.
fn read<'a, T>(
    project: &mut Project,
    failures: &mut Vec<FailedRead>,
    address: &str,
    answer: &'a Read<T>,
) -> Option<&'a T> {
    match answer {
        Ok(value) => Some(value),
        Err(failure) => {
            note_failure(project, failures, address, failure);
            None
        }
    }
}

fn add_bucket(
    project: &mut Project,
    failures: &mut Vec<FailedRead>,
    bucket: &Bucket,
    aws_managed_keys: &HashSet<&str>,
) {
    let name = bucket.name.as_str();
    let arn = format!("arn:aws:s3:::{name}");
    let mut values = crate::value::Map::from([
        ("bucket".to_string(), Value::from(name)),
        ("id".to_string(), Value::from(name)),
        ("arn".to_string(), Value::from(arn.as_str())),
    ]);
    let region = read(project, failures, &arn, &bucket.region).cloned();
    if let Some(region) = &region {
        values.insert("region".to_string(), Value::from(region.as_str()));
    }
    if let Some(Some(policy)) = read(project, failures, &arn, &bucket.policy) {
        values.insert("policy".to_string(), Value::from(policy.as_str()));
    }
    if let Some(tags) = read(project, failures, &arn, &bucket.tags) {
        let tags = tags
            .iter()
            .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
            .collect();
        values.insert("tags".to_string(), Value::Map(tags));
    }
    let mut resource = live_resource(Mode::Managed, "aws_s3_bucket", &arn, Value::Map(values));
    resource.provider.region = region.map(|region| Value::from(region.as_str()));
    project.resources.push(resource);

    let mut settings: Vec<(&str, serde_json::Value)> = Vec::new();
    if let Some(Some(rules)) = read(project, failures, &arn, &bucket.encryption) {
        let rules: Vec<serde_json::Value> = rules
            .iter()
            .map(|rule| {
                // A bucket that names the AWS managed key by id or ARN uses it as surely as
                // one that names no key; its alias says so to the rules.
                let key = rule.kms_key_id.as_deref().map(|key| {
                    if aws_managed_keys.contains(key) {
                        AWS_MANAGED_S3_KEY
                    } else {
                        key
                    }
                });
                json!({
                    "apply_server_side_encryption_by_default": [{
                        "sse_algorithm": rule.algorithm,
                        "kms_master_key_id": key,
                    }],
                    "bucket_key_enabled": rule.bucket_key_enabled,
                })
            })
            .collect();
        settings.push((
            "aws_s3_bucket_server_side_encryption_configuration",
            json!({ "bucket": name, "rule": rules }),
        ));
    }
    if let Some(Some(block)) = read(project, failures, &arn, &bucket.public_access_block) {
        settings.push((
            "aws_s3_bucket_public_access_block",
            json!({
                "bucket": name,
                "block_public_acls": block.block_public_acls,
                "ignore_public_acls": block.ignore_public_acls,
                "block_public_policy": block.block_public_policy,
                "restrict_public_buckets": block.restrict_public_buckets,
            }),
        ));
    }
    if let Some(Some(status)) = read(project, failures, &arn, &bucket.versioning) {
        settings.push((
            "aws_s3_bucket_versioning",
            json!({ "bucket": name, "versioning_configuration": [{ "status": status }] }),
        ));
    }
    if let Some(Some(logging)) = read(project, failures, &arn, &bucket.logging) {
        settings.push((
            "aws_s3_bucket_logging",
            json!({
                "bucket": name,
                "target_bucket": logging.target_bucket,
                "target_prefix": logging.target_prefix,
            }),
        ));
    }
    for (resource_type, values) in settings {
        let address = format!("{arn}#{resource_type}");
        project.resources.push(live_resource(
            Mode::Data,
            resource_type,
            &address,
            Value::from(&values),
        ));
    }
}

/// Key states whose rotation no longer matters: the key is on its way out.
const DELETING_STATES: &[&str] = &["PendingDeletion", "PendingReplicaDeletion"];

fn add_key(project: &mut Project, failures: &mut Vec<FailedRead>, key: &Key) {
    // AWS managed keys rotate on AWS's schedule and are not the licensee's to judge.
    if key.manager == "AWS" {
        return;
    }
    let mut values = crate::value::Map::from([
        ("arn".to_string(), Value::from(key.arn.as_str())),
        ("key_id".to_string(), Value::from(key.id.as_str())),
        ("id".to_string(), Value::from(key.id.as_str())),
    ]);
    match &key.details {
        Ok(details) => {
            if DELETING_STATES.contains(&details.state.as_str()) {
                project.notes.push(format!(
                    "{}: {}, so its rotation was not judged",
                    key.arn, details.state
                ));
                return;
            }
            values.insert("key_state".to_string(), Value::from(details.state.as_str()));
            values.insert(
                "is_enabled".to_string(),
                Value::Bool(details.state == "Enabled"),
            );
            values.insert(
                "customer_master_key_spec".to_string(),
                Value::from(details.spec.as_str()),
            );
            // Left out when the service does not say, so the provider's default applies.
            if !details.usage.is_empty() {
                values.insert("key_usage".to_string(), Value::from(details.usage.as_str()));
            }
            if let Some(store) = &details.custom_key_store_id {
                values.insert(
                    "custom_key_store_id".to_string(),
                    Value::from(store.as_str()),
                );
            }
        }
        Err(failure) => note_failure(project, failures, &key.arn, failure),
    }
    match &key.rotation {
        Some(Ok(rotation)) => {
            values.insert(
                "enable_key_rotation".to_string(),
                Value::Bool(rotation.enabled),
            );
            if let Some(days) = rotation.period_days {
                values.insert(
                    "rotation_period_in_days".to_string(),
                    Value::from(&json!(days)),
                );
            }
        }
        Some(Err(failure)) => note_failure(project, failures, &key.arn, failure),
        None => {}
    }
    project.resources.push(live_resource(
        Mode::Managed,
        "aws_kms_key",
        &key.arn,
        Value::Map(values),
    ));
}

/// A resource read from the account: managed when rules judge it (buckets, keys), data when it
/// only carries settings of another (a bucket's encryption, public access block, logging).
fn live_resource(mode: Mode, resource_type: &str, address: &str, values: Value) -> Resource {
    let mut resource = Resource::new(resource_type, address, values);
    resource.address = address.to_string();
    resource.mode = mode;
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use hipaa_cloud::aws::FailureKind;
    use hipaa_cloud::inventory::{EncryptionRule, KeyDetails, PublicAccessBlock, Rotation};
    use hipaa_ledger::{Action, Entry};

    fn denied(call: &'static str) -> CallFailure {
        CallFailure {
            call,
            kind: FailureKind::Denied,
            detail: "AccessDenied: not allowed".to_string(),
        }
    }

    fn bucket(name: &str) -> Bucket {
        Bucket {
            name: name.to_string(),
            region: Ok("us-east-1".to_string()),
            encryption: Ok(Some(vec![EncryptionRule {
                algorithm: "aws:kms".to_string(),
                kms_key_id: Some("arn:aws:kms:us-east-1:111122223333:key/aws-s3".to_string()),
                bucket_key_enabled: None,
            }])),
            public_access_block: Ok(Some(PublicAccessBlock {
                block_public_acls: true,
                ignore_public_acls: true,
                block_public_policy: true,
                restrict_public_buckets: true,
            })),
            policy: Ok(None),
            versioning: Ok(Some("Enabled".to_string())),
            logging: Ok(None),
            tags: Ok(std::collections::BTreeMap::new()),
        }
    }

    fn key(arn: &str, manager: &str, rotation: bool) -> Key {
        Key {
            id: arn.rsplit('/').next().unwrap_or_default().to_string(),
            arn: arn.to_string(),
            manager: manager.to_string(),
            details: Ok(KeyDetails {
                state: "Enabled".to_string(),
                spec: "SYMMETRIC_DEFAULT".to_string(),
                usage: "ENCRYPT_DECRYPT".to_string(),
                origin: "AWS_KMS".to_string(),
                custom_key_store_id: None,
                description: String::new(),
            }),
            rotation: Some(Ok(Rotation {
                enabled: rotation,
                period_days: Some(730),
            })),
        }
    }

    fn cmk_license() -> Vec<Record> {
        let attributes = [
            ("customer_managed_keys", serde_json::json!(true)),
            ("key_rotation_days", serde_json::json!(365)),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
        vec![Record::next(
            None,
            Entry {
                action: Action::Create,
                resource_type: "hipaa_license".to_string(),
                resource_id: "lic-1".to_string(),
                attributes,
            },
        )]
    }

    fn rules_and_resources(report: &ScanReport) -> Vec<(&str, &str)> {
        let mut found: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|f| (f.rule_id, f.resource.as_str()))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_bucket_naming_the_aws_managed_key_fails_a_cmk_license_and_slow_rotation_is_seen() {
        let inventory = Inventory {
            region: "us-east-1".to_string(),
            buckets: Ok(vec![bucket("acme-notes")]),
            keys: Ok(vec![
                key("arn:aws:kms:us-east-1:111122223333:key/aws-s3", "AWS", true),
                key(
                    "arn:aws:kms:us-east-1:111122223333:key/cmk",
                    "CUSTOMER",
                    true,
                ),
            ]),
        };

        let report = audit(&inventory, Some(&cmk_license()));

        assert_eq!(
            rules_and_resources(&report),
            [
                ("EAR003", "arn:aws:s3:::acme-notes"),
                ("KEY002", "arn:aws:kms:us-east-1:111122223333:key/cmk"),
            ]
        );
    }

    #[test]
    fn denied_and_throttled_reads_leave_their_rules_undetermined_for_that_resource_only() {
        let mut unreadable = bucket("acme-hidden");
        unreadable.encryption = Err(CallFailure {
            call: "GetBucketEncryption",
            kind: FailureKind::Throttled,
            detail: "SlowDown: Please reduce your request rate.".to_string(),
        });
        unreadable.public_access_block = Err(denied("GetPublicAccessBlock"));
        let mut open = bucket("acme-open");
        open.public_access_block = Ok(None);
        let mut key_unread = key(
            "arn:aws:kms:us-east-1:111122223333:key/k",
            "CUSTOMER",
            false,
        );
        key_unread.rotation = Some(Err(denied("GetKeyRotationStatus")));
        let inventory = Inventory {
            region: "us-east-1".to_string(),
            buckets: Ok(vec![unreadable, open]),
            keys: Ok(vec![key_unread]),
        };

        let report = audit(&inventory, Some(&cmk_license()));

        // acme-open is still judged; acme-hidden's unreadable settings judge nothing.
        assert!(rules_and_resources(&report).contains(&("BND004", "arn:aws:s3:::acme-open")));
        assert!(!report
            .findings
            .iter()
            .any(|f| f.resource == "arn:aws:s3:::acme-hidden"
                && ["EAR003", "BND004"].contains(&f.rule_id)));
        let undetermined: Vec<(&str, &str, &str)> = report
            .undetermined
            .iter()
            .map(|u| (u.rule_id, u.resource.as_str(), u.reason.as_str()))
            .collect();
        assert!(undetermined.contains(&(
            "EAR003",
            "arn:aws:s3:::acme-hidden",
            "GetBucketEncryption throttled: SlowDown: Please reduce your request rate."
        )));
        assert!(undetermined.contains(&(
            "BND004",
            "arn:aws:s3:::acme-hidden",
            "GetPublicAccessBlock access denied: AccessDenied: not allowed"
        )));
        assert!(undetermined
            .iter()
            .any(|(rule, resource, _)| *rule == "KEY001" && resource.ends_with("key/k")));
        assert_eq!(report.summary.undetermined, report.undetermined.len());
        assert_eq!(report.summary.findings, report.findings.len());
        let tally = &report.summary.rules["BND004"];
        assert_eq!((tally.failed, tally.undetermined), (1, 1));
    }
}
