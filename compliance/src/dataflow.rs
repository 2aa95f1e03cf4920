//! The attributes along which a resource copies its data to another resource: replication,
//! snapshot and backup copies, log delivery, subscriptions and stream destinations.
//!
//! When the source holds PHI, the destination holds PHI too, and must be inside the compliance
//! boundary. Each row names the resource type that declares the flow, where the data comes from
//! and where it goes. Either end is a dotted attribute path naming another resource (by
//! reference, ARN, id or name), or the declaring resource itself: a read replica names its
//! source and *is* the destination; a bucket's inline replication rule *is* the source.
//!
//! Known limits, kept here so that nobody mistakes the table for complete:
//! - A destination outside the configuration (an e-mail or HTTPS subscriber, a bucket of another
//!   account) is not a resource, so no boundary finding can be placed on it.
//! - Rows whose source and destination sit in the same repeated block (a backup plan's rules)
//!   pair every source with every destination of that resource, not rule by rule.
//! - A DynamoDB global table keeps its replicas inside the same resource; those are judged as
//!   regions of the member (see the boundary region rule), not as flows.
//! - Backup selections, DMS endpoints and Firehose transformations are not followed.

use serde::Serialize;
use Endpoint::Itself;

/// One end of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// The resource that declares the flow.
    Itself,
    /// The resources named at a dotted attribute path.
    Attribute {
        path: &'static str,
        /// The resource types a literal name at this path may stand for; empty when the path
        /// holds ARNs of any type (then only ARNs and other unique ids are matched, never bare
        /// names, which could name anything).
        types: &'static [&'static str],
    },
}

/// One kind of data flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataFlow {
    /// The resource type that declares the flow.
    pub resource_type: &'static str,
    /// Where the data comes from.
    pub source: Endpoint,
    /// Where the data goes.
    pub destination: Endpoint,
    /// What the flow is, for messages: "replication", "log delivery", ...
    pub kind: &'static str,
}

const S3_BUCKET: &[&str] = &["aws_s3_bucket"];
const RDS_INSTANCE: &[&str] = &["aws_db_instance"];
const RDS_ANY: &[&str] = &["aws_db_instance", "aws_rds_cluster"];
const ANY: &[&str] = &[];

const fn at(path: &'static str, types: &'static [&'static str]) -> Endpoint {
    Endpoint::Attribute { path, types }
}

const fn flow(
    resource_type: &'static str,
    source: Endpoint,
    destination: Endpoint,
    kind: &'static str,
) -> DataFlow {
    DataFlow {
        resource_type,
        source,
        destination,
        kind,
    }
}

/// Every flow the boundary rules follow.
pub const FLOWS: &[DataFlow] = &[
    // S3: replication (split resource and the inline block of provider v3), access logs (the
    // log records name objects, and object keys often carry patient identifiers) and inventory
    // reports (which list every key).
    flow(
        "aws_s3_bucket_replication_configuration",
        at("bucket", S3_BUCKET),
        at("rule.destination.bucket", S3_BUCKET),
        "replication",
    ),
    flow(
        "aws_s3_bucket",
        Itself,
        at(
            "replication_configuration.rules.destination.bucket",
            S3_BUCKET,
        ),
        "replication",
    ),
    flow(
        "aws_s3_bucket_logging",
        at("bucket", S3_BUCKET),
        at("target_bucket", S3_BUCKET),
        "access log delivery",
    ),
    flow(
        "aws_s3_bucket",
        Itself,
        at("logging.target_bucket", S3_BUCKET),
        "access log delivery",
    ),
    flow(
        "aws_s3_bucket_inventory",
        at("bucket", S3_BUCKET),
        at("destination.bucket.bucket_arn", S3_BUCKET),
        "inventory report",
    ),
    // Relational databases: replicas, snapshots and their copies, and automated backups
    // replicated to another region.
    flow(
        "aws_db_instance",
        at("replicate_source_db", RDS_INSTANCE),
        Itself,
        "read replica",
    ),
    flow(
        "aws_rds_cluster",
        at("replication_source_identifier", RDS_ANY),
        Itself,
        "cross-region replica",
    ),
    flow(
        "aws_db_snapshot",
        at("db_instance_identifier", RDS_INSTANCE),
        Itself,
        "snapshot",
    ),
    flow(
        "aws_db_cluster_snapshot",
        at("db_cluster_identifier", &["aws_rds_cluster"]),
        Itself,
        "snapshot",
    ),
    flow(
        "aws_db_snapshot_copy",
        at(
            "source_db_snapshot_identifier",
            &["aws_db_snapshot", "aws_db_snapshot_copy"],
        ),
        Itself,
        "snapshot copy",
    ),
    flow(
        "aws_db_instance_automated_backups_replication",
        at("source_db_instance_arn", RDS_INSTANCE),
        Itself,
        "automated backup replication",
    ),
    // Block storage and file systems.
    flow(
        "aws_ebs_snapshot",
        at("volume_id", &["aws_ebs_volume"]),
        Itself,
        "snapshot",
    ),
    flow(
        "aws_ebs_snapshot_copy",
        at(
            "source_snapshot_id",
            &["aws_ebs_snapshot", "aws_ebs_snapshot_copy"],
        ),
        Itself,
        "snapshot copy",
    ),
    flow(
        "aws_efs_replication_configuration",
        at("source_file_system_id", &["aws_efs_file_system"]),
        at("destination.file_system_id", &["aws_efs_file_system"]),
        "replication",
    ),
    // DynamoDB replicas declared as resources of their own.
    flow(
        "aws_dynamodb_table_replica",
        at("global_table_arn", &["aws_dynamodb_table"]),
        Itself,
        "global table replica",
    ),
    // Backups copied from a plan's vault to another vault. The source is the vault the plan's
    // rules back up into.
    flow(
        "aws_backup_plan",
        at("rule.target_vault_name", &["aws_backup_vault"]),
        at(
            "rule.copy_action.destination_vault_arn",
            &["aws_backup_vault"],
        ),
        "backup copy",
    ),
    // Messaging, logs and streams.
    flow(
        "aws_sns_topic_subscription",
        at("topic_arn", &["aws_sns_topic"]),
        at("endpoint", ANY),
        "notification delivery",
    ),
    flow(
        "aws_cloudwatch_log_subscription_filter",
        at("log_group_name", &["aws_cloudwatch_log_group"]),
        at("destination_arn", ANY),
        "log subscription",
    ),
    flow(
        "aws_lambda_event_source_mapping",
        at("event_source_arn", ANY),
        at("function_name", &["aws_lambda_function"]),
        "event delivery",
    ),
    flow(
        "aws_dms_replication_task",
        at("source_endpoint_arn", &["aws_dms_endpoint"]),
        at("target_endpoint_arn", &["aws_dms_endpoint"]),
        "database migration",
    ),
    // Firehose passes records through: from its Kinesis source, or from whoever writes to it
    // directly (then the stream itself is the declared PHI system), to each destination.
    flow(
        "aws_kinesis_firehose_delivery_stream",
        at(
            "kinesis_source_configuration.kinesis_stream_arn",
            &["aws_kinesis_stream"],
        ),
        at("extended_s3_configuration.bucket_arn", S3_BUCKET),
        "stream delivery",
    ),
    flow(
        "aws_kinesis_firehose_delivery_stream",
        Itself,
        at("extended_s3_configuration.bucket_arn", S3_BUCKET),
        "stream delivery",
    ),
    flow(
        "aws_kinesis_firehose_delivery_stream",
        at(
            "kinesis_source_configuration.kinesis_stream_arn",
            &["aws_kinesis_stream"],
        ),
        at("s3_configuration.bucket_arn", S3_BUCKET),
        "stream delivery",
    ),
    flow(
        "aws_kinesis_firehose_delivery_stream",
        Itself,
        at("s3_configuration.bucket_arn", S3_BUCKET),
        "stream delivery",
    ),
    flow(
        "aws_kinesis_firehose_delivery_stream",
        at(
            "kinesis_source_configuration.kinesis_stream_arn",
            &["aws_kinesis_stream"],
        ),
        at(
            "opensearch_configuration.domain_arn",
            &["aws_opensearch_domain"],
        ),
        "stream delivery",
    ),
    flow(
        "aws_kinesis_firehose_delivery_stream",
        Itself,
        at(
            "opensearch_configuration.domain_arn",
            &["aws_opensearch_domain"],
        ),
        "stream delivery",
    ),
    // Google Cloud and Azure replicas.
    flow(
        "google_sql_database_instance",
        at("master_instance_name", &["google_sql_database_instance"]),
        Itself,
        "read replica",
    ),
    flow(
        "azurerm_mssql_database",
        at("creation_source_database_id", &["azurerm_mssql_database"]),
        Itself,
        "copy or geo-replica",
    ),
    flow(
        "azurerm_storage_object_replication",
        at("source_storage_account_id", &["azurerm_storage_account"]),
        at(
            "destination_storage_account_id",
            &["azurerm_storage_account"],
        ),
        "object replication",
    ),
];

/// The flows a resource type declares.
pub fn flows_of(resource_type: &str) -> impl Iterator<Item = &'static DataFlow> + '_ {
    FLOWS
        .iter()
        .filter(move |flow| flow.resource_type == resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_names_at_least_one_other_resource() {
        for flow in FLOWS {
            assert!(
                !(flow.source == Itself && flow.destination == Itself),
                "{} flows into itself",
                flow.resource_type
            );
            assert!(!flow.kind.is_empty());
        }
    }

    #[test]
    fn no_flow_is_listed_twice() {
        for (i, a) in FLOWS.iter().enumerate() {
            assert!(!FLOWS[i + 1..].contains(a), "{a:?} is listed twice");
        }
    }

    #[test]
    fn a_read_replica_is_the_destination_of_its_source() {
        let replica = flows_of("aws_db_instance").next().expect("a replica flow");
        assert_eq!(replica.destination, Itself);
        assert_eq!(replica.source, at("replicate_source_db", RDS_INSTANCE));
    }

    #[test]
    fn s3_replication_goes_from_bucket_to_destination_bucket() {
        let replication = flows_of("aws_s3_bucket_replication_configuration")
            .next()
            .expect("a replication flow");
        assert_eq!(replication.source, at("bucket", S3_BUCKET));
        assert_eq!(
            replication.destination,
            at("rule.destination.bucket", S3_BUCKET)
        );
        assert_eq!(flows_of("aws_s3_bucket").count(), 2);
    }
}
