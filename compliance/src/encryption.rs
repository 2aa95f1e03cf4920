//! For each resource type that stores data, how Terraform expresses its encryption at rest:
//! which attribute switches it on, which names the key, and what the service does when the
//! configuration says nothing.
//!
//! One table serves every storage type so that adding a service is a row, not a rule. Defaults
//! are those of the service's API as the Terraform provider calls it (the provider sends nothing
//! for an unset optional attribute, so the service's own default applies), checked on the date in
//! [`TABLE_VERSION`]. Where a default changed over time, the row follows what a resource created
//! today gets, and says so.
//!
//! S3 buckets are not here: their encryption lives in a block of its own or in a separate
//! resource, with an algorithm as well as a key, and has a rule of its own.

use serde::Serialize;

/// The date the defaults in [`AT_REST`] were last checked.
pub const TABLE_VERSION: &str = "2026-12-01";

/// How a resource type says it is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EncryptionSwitch {
    /// A boolean attribute (dotted path through nested blocks).
    Flag {
        path: &'static str,
        when_unset: WhenUnset,
    },
    /// An attribute whose value must be one of `encrypted_values` (compared ignoring case).
    OneOf {
        path: &'static str,
        encrypted_values: &'static [&'static str],
        when_unset: WhenUnset,
    },
    /// Encrypted only when a key is named in the first key attribute.
    KeyNamed,
    /// The service always encrypts at rest; only the key owner can be judged.
    Always,
}

/// What the service does when the switch attribute is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum WhenUnset {
    Encrypted,
    Unencrypted,
    /// The default depends on another attribute: encrypted when the attribute at `path` holds one
    /// of `values` (compared ignoring case); an unset `path` reads as `path_unset_value`.
    EncryptedWhen {
        path: &'static str,
        values: &'static [&'static str],
        path_unset_value: &'static str,
    },
}

/// A resource that takes its encryption from another one when its own switch is not set: a read
/// replica from its primary, a restore from its snapshot, a copy from its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Inheritance {
    /// The attribute that names the source.
    pub source_path: &'static str,
    /// When the resource named is only a go-between, the attribute of it that names the real
    /// source: a secondary ElastiCache group names its global datastore, whose settings are
    /// those of the datastore's primary group.
    pub through: Option<&'static str>,
    /// What the source is, for messages: "source database", "snapshot".
    pub source: &'static str,
}

/// A separate resource that sets the key of the resource it names, e.g.
/// `azurerm_storage_account_customer_managed_key` for a storage account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinkedKey {
    /// The type of the separate resource (it must be a link in the scanner's link table).
    pub from_type: &'static str,
    /// The attribute of that resource that names the key.
    pub key_path: &'static str,
}

/// Who holds the key when no customer-managed key is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultKey {
    /// The provider's own key (AWS owned or AWS managed, Google- or Microsoft-managed): AES-256,
    /// acceptable unless the license demands customer-managed keys.
    ProviderManaged,
}

/// The encryption facts of one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AtRestSpec {
    pub resource_type: &'static str,
    /// What a person calls it, e.g. "EBS volume".
    pub service: &'static str,
    pub switch: EncryptionSwitch,
    /// The attributes (dotted paths) that name a customer-managed key; any one of them will do.
    /// Empty when the type takes no key of its own.
    pub key_paths: &'static [&'static str],
    /// Whether naming a key in `key_paths` encrypts the resource whatever the switch says.
    pub key_encrypts: bool,
    /// Attributes holding a key the customer supplies itself (its content is secret and never
    /// read): present means a customer-managed key.
    pub supplied_key_paths: &'static [&'static str],
    /// Separate resources that may name the key instead.
    pub linked_keys: &'static [LinkedKey],
    /// Where the resource takes its encryption from when its switch is not set.
    pub inherits: &'static [Inheritance],
    pub default_key: DefaultKey,
}

impl AtRestSpec {
    /// The attribute a fix should name: the first key path.
    pub fn key_path(&self) -> Option<&'static str> {
        self.key_paths.first().copied()
    }
}

const fn spec(
    resource_type: &'static str,
    service: &'static str,
    switch: EncryptionSwitch,
    key_paths: &'static [&'static str],
) -> AtRestSpec {
    AtRestSpec {
        resource_type,
        service,
        switch,
        key_paths,
        key_encrypts: false,
        supplied_key_paths: &[],
        linked_keys: &[],
        inherits: &[],
        default_key: DefaultKey::ProviderManaged,
    }
}

impl AtRestSpec {
    const fn inheriting(self, inherits: &'static [Inheritance]) -> AtRestSpec {
        AtRestSpec { inherits, ..self }
    }

    const fn key_encrypts(self) -> AtRestSpec {
        AtRestSpec {
            key_encrypts: true,
            ..self
        }
    }

    const fn supplied_keys(self, supplied_key_paths: &'static [&'static str]) -> AtRestSpec {
        AtRestSpec {
            supplied_key_paths,
            ..self
        }
    }

    const fn linked_keys(self, linked_keys: &'static [LinkedKey]) -> AtRestSpec {
        AtRestSpec {
            linked_keys,
            ..self
        }
    }
}

const fn flag(path: &'static str, when_unset: WhenUnset) -> EncryptionSwitch {
    EncryptionSwitch::Flag { path, when_unset }
}

const fn inherits(source_path: &'static str, source: &'static str) -> Inheritance {
    Inheritance {
        source_path,
        through: None,
        source,
    }
}

const fn inherits_through(
    source_path: &'static str,
    through: &'static str,
    source: &'static str,
) -> Inheritance {
    Inheritance {
        source_path,
        through: Some(through),
        source,
    }
}

use EncryptionSwitch::{Always, KeyNamed};
use WhenUnset::{Encrypted, Unencrypted};

const RDS_INSTANCE_SOURCES: &[Inheritance] = &[
    // A read replica is encrypted exactly when its source is; a cross-Region replica ignores
    // `storage_encrypted` altogether (provider docs, aws_db_instance).
    inherits("replicate_source_db", "source database"),
    // A restore takes the snapshot's encryption.
    inherits("snapshot_identifier", "snapshot"),
];

const CLUSTER_SNAPSHOT: &[Inheritance] = &[inherits("snapshot_identifier", "snapshot")];

/// A secondary group of a global datastore takes the datastore's encryption, which is that of
/// the datastore's primary group (ElastiCache API reference, GlobalReplicationGroup; the
/// provider refuses the encryption arguments together with `global_replication_group_id`).
pub const ELASTICACHE_GLOBAL_PRIMARY: &[Inheritance] = &[inherits_through(
    "global_replication_group_id",
    "primary_replication_group_id",
    "global datastore's primary group",
)];

/// Every resource type with encryption at rest that the rules judge.
pub const AT_REST: &[AtRestSpec] = &[
    spec(
        "aws_ebs_volume",
        "EBS volume",
        flag("encrypted", Unencrypted),
        &["kms_key_id"],
    )
    // A volume made from a snapshot is encrypted when the snapshot is. The account-wide
    // `aws_ebs_encryption_by_default` is deliberately not credited: it only affects volumes
    // created after it is on, and Terraform does not order the two.
    .inheriting(&[inherits("snapshot_id", "snapshot")]),
    spec(
        "aws_ebs_snapshot_copy",
        "EBS snapshot copy",
        flag("encrypted", Unencrypted),
        &["kms_key_id"],
    )
    // Unset, the copy keeps the encryption of the snapshot it copies.
    .inheriting(&[inherits("source_snapshot_id", "source snapshot")]),
    spec(
        "aws_ebs_encryption_by_default",
        "EBS encryption by default",
        // The resource's own default is `true` (provider docs, aws_ebs_encryption_by_default).
        flag("enabled", Encrypted),
        &[],
    ),
    spec(
        "aws_db_instance",
        "RDS database instance",
        flag("storage_encrypted", Unencrypted),
        &["kms_key_id"],
    )
    .inheriting(RDS_INSTANCE_SOURCES),
    spec(
        "aws_rds_cluster",
        "RDS cluster",
        flag("storage_encrypted", Unencrypted),
        &["kms_key_id"],
    )
    .inheriting(&[
        inherits("replication_source_identifier", "source database"),
        inherits("snapshot_identifier", "snapshot"),
    ]),
    spec(
        "aws_dynamodb_table",
        "DynamoDB table",
        // Every table is encrypted; without `server_side_encryption` with an AWS owned key, with
        // `enabled = true` and no key with the AWS managed `aws/dynamodb` key.
        Always,
        &["server_side_encryption.kms_key_arn"],
    ),
    spec(
        "aws_efs_file_system",
        "EFS file system",
        flag("encrypted", Unencrypted),
        &["kms_key_id"],
    ),
    spec(
        "aws_redshift_cluster",
        "Redshift cluster",
        // Since 10 January 2025 Redshift encrypts every new provisioned cluster (AWS announcement
        // of 18 November 2024, hashicorp/terraform-provider-aws#41040), and AWS provider 6.0
        // made `true` the default (hashicorp/terraform-provider-aws#42631). An explicit `false`
        // can still turn it off after creation.
        flag("encrypted", Encrypted),
        &["kms_key_id"],
    ),
    spec(
        "aws_elasticache_replication_group",
        "ElastiCache replication group",
        // CreateReplicationGroup's AtRestEncryptionEnabled defaults to true for Valkey and false
        // for Redis OSS (ElastiCache API reference); the provider's default engine is `redis`.
        flag(
            "at_rest_encryption_enabled",
            WhenUnset::EncryptedWhen {
                path: "engine",
                values: &["valkey"],
                path_unset_value: "redis",
            },
        ),
        &["kms_key_id"],
    )
    .inheriting(ELASTICACHE_GLOBAL_PRIMARY),
    spec(
        "aws_sqs_queue",
        "SQS queue",
        // New queues get SSE-SQS unless told otherwise (AWS Compute Blog, "Announcing server-side
        // encryption with SQS-managed encryption keys (SSE-SQS) by default", October 2022). A
        // KMS key selects SSE-KMS instead, whatever `sqs_managed_sse_enabled` says. A queue
        // created before then and never changed is not encrypted; only a live audit sees that.
        flag("sqs_managed_sse_enabled", Encrypted),
        &["kms_master_key_id"],
    )
    .key_encrypts(),
    spec(
        "aws_sns_topic",
        "SNS topic",
        KeyNamed,
        &["kms_master_key_id"],
    ),
    spec(
        "aws_kinesis_stream",
        "Kinesis data stream",
        EncryptionSwitch::OneOf {
            path: "encryption_type",
            encrypted_values: &["KMS"],
            when_unset: Unencrypted,
        },
        &["kms_key_id"],
    ),
    spec(
        "aws_cloudwatch_log_group",
        "CloudWatch log group",
        // CloudWatch Logs always encrypts log data, with a service key unless one is named.
        Always,
        &["kms_key_id"],
    ),
    spec(
        "aws_opensearch_domain",
        "OpenSearch domain",
        // The API's default is off (EncryptionAtRestOptions in the OpenSearch Service API
        // reference); only the console turns it on by default.
        flag("encrypt_at_rest.enabled", Unencrypted),
        &["encrypt_at_rest.kms_key_id"],
    ),
    spec(
        "aws_elasticsearch_domain",
        "Elasticsearch domain",
        flag("encrypt_at_rest.enabled", Unencrypted),
        &["encrypt_at_rest.kms_key_id"],
    ),
    spec(
        "aws_docdb_cluster",
        "DocumentDB cluster",
        flag("storage_encrypted", Unencrypted),
        &["kms_key_id"],
    )
    .inheriting(CLUSTER_SNAPSHOT),
    spec(
        "aws_neptune_cluster",
        "Neptune cluster",
        flag("storage_encrypted", Unencrypted),
        &["kms_key_arn"],
    )
    .inheriting(CLUSTER_SNAPSHOT),
    spec("aws_backup_vault", "Backup vault", Always, &["kms_key_arn"]),
    spec(
        "aws_secretsmanager_secret",
        "Secrets Manager secret",
        // Secrets are always encrypted, with `aws/secretsmanager` unless a key is named.
        Always,
        &["kms_key_id"],
    ),
    spec(
        "azurerm_storage_account",
        "Azure storage account",
        // Storage Service Encryption cannot be turned off; the key is Microsoft's unless a
        // customer-managed key is set inline or by its own resource.
        Always,
        &[
            "customer_managed_key.key_vault_key_id",
            "customer_managed_key.managed_hsm_key_id",
        ],
    )
    .linked_keys(&[
        LinkedKey {
            from_type: "azurerm_storage_account_customer_managed_key",
            key_path: "key_vault_key_id",
        },
        LinkedKey {
            from_type: "azurerm_storage_account_customer_managed_key",
            key_path: "managed_hsm_key_id",
        },
    ]),
    spec(
        "azurerm_managed_disk",
        "Azure managed disk",
        // Server-side encryption with a platform-managed key is always on.
        Always,
        &["disk_encryption_set_id"],
    ),
    spec(
        "azurerm_mssql_database",
        "Azure SQL database",
        // Transparent data encryption is on for new databases. Its key is usually set on the
        // server (`azurerm_mssql_server_transparent_data_encryption`), which this table does not
        // follow yet, so only the database-level key is looked at.
        flag("transparent_data_encryption_enabled", Encrypted),
        &["transparent_data_encryption_key_vault_key_id"],
    ),
    spec(
        "azurerm_postgresql_flexible_server",
        "Azure PostgreSQL flexible server",
        Always,
        &["customer_managed_key.key_vault_key_id"],
    ),
    spec(
        "google_storage_bucket",
        "Cloud Storage bucket",
        // Google encrypts all data at rest, with Google-managed keys unless a Cloud KMS key is
        // named.
        Always,
        &["encryption.default_kms_key_name"],
    ),
    spec(
        "google_compute_disk",
        "Compute Engine disk",
        Always,
        &["disk_encryption_key.kms_key_self_link"],
    )
    // A customer-supplied key (CSEK) is held by the customer too.
    .supplied_keys(&[
        "disk_encryption_key.raw_key",
        "disk_encryption_key.rsa_encrypted_key",
    ]),
    spec(
        "google_sql_database_instance",
        "Cloud SQL instance",
        Always,
        &["encryption_key_name"],
    ),
    spec(
        "google_bigquery_dataset",
        "BigQuery dataset",
        Always,
        &["default_encryption_configuration.kms_key_name"],
    ),
];

/// The spec of one resource type.
pub fn at_rest(resource_type: &str) -> Option<&'static AtRestSpec> {
    AT_REST
        .iter()
        .find(|spec| spec.resource_type == resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_resource_type_has_one_row() {
        for (i, a) in AT_REST.iter().enumerate() {
            for b in &AT_REST[i + 1..] {
                assert_ne!(a.resource_type, b.resource_type);
            }
        }
    }

    #[test]
    fn a_switch_that_needs_a_key_has_one() {
        for spec in AT_REST {
            if spec.switch == EncryptionSwitch::KeyNamed || spec.key_encrypts {
                assert!(spec.key_path().is_some(), "{}", spec.resource_type);
            }
        }
    }

    #[test]
    fn s3_buckets_have_their_own_rule() {
        assert!(at_rest("aws_s3_bucket").is_none());
    }

    #[test]
    fn the_common_defaults_are_as_the_services_document_them() {
        let unset = |resource_type: &str| match at_rest(resource_type).map(|s| s.switch) {
            Some(EncryptionSwitch::Flag { when_unset, .. }) => when_unset,
            other => panic!("{resource_type}: {other:?}"),
        };
        assert_eq!(unset("aws_ebs_volume"), Unencrypted);
        assert_eq!(unset("aws_db_instance"), Unencrypted);
        assert_eq!(unset("aws_redshift_cluster"), Encrypted);
        assert_eq!(unset("aws_ebs_encryption_by_default"), Encrypted);
        assert_eq!(
            at_rest("aws_dynamodb_table").map(|s| s.switch),
            Some(Always)
        );
    }
}
