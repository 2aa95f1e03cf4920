//! What the live audit reads from an AWS account: every S3 bucket with its encryption, public
//! access block, policy, versioning, logging and tags, and every KMS key of the region with its
//! manager, state, spec and rotation. Plain data, judged elsewhere.
//!
//! A call that fails (access denied, throttled after the SDK's retries, anything else) is kept
//! beside the resource as a [`CallFailure`]; it never stops the rest of the audit. Answers that
//! mean "not configured" (no policy, no encryption configuration, no tags) are `None`, not
//! failures.
//!
//! Object contents are never read, and the values kept are settings, never key material.

use crate::aws::{self, AwsSettings, CallFailure, S3Client};
use aws_config::SdkConfig;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// How many buckets are read at once.
const BUCKETS_IN_FLIGHT: usize = 8;

pub type Read<T> = Result<T, CallFailure>;

#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// The region KMS keys were listed in.
    pub region: String,
    /// Every bucket of the account, or why they could not be listed.
    pub buckets: Read<Vec<Bucket>>,
    /// Every key of the region, or why they could not be listed.
    pub keys: Read<Vec<Key>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub name: String,
    pub region: Read<String>,
    /// `None` when the bucket has no default encryption configuration.
    pub encryption: Read<Option<Vec<EncryptionRule>>>,
    /// `None` when the bucket has no public access block of its own.
    pub public_access_block: Read<Option<PublicAccessBlock>>,
    /// The policy document as stored; `None` when there is none.
    pub policy: Read<Option<String>>,
    /// `Enabled`, `Suspended`, or `None` when versioning was never turned on.
    pub versioning: Read<Option<String>>,
    pub logging: Read<Option<Logging>>,
    pub tags: Read<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionRule {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    pub target_bucket: String,
    pub target_prefix: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub id: String,
    pub arn: String,
    /// `CUSTOMER` or `AWS`; empty when DescribeKey failed.
    pub manager: String,
    pub details: Read<KeyDetails>,
    /// `None` for keys whose rotation AWS cannot manage (asymmetric, HMAC, external and
    /// custom key stores) or that are being deleted.
    pub rotation: Option<Read<Rotation>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDetails {
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, …
    pub spec: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, …
    pub usage: String,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`.
    pub origin: String,
    pub custom_key_store_id: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub enabled: bool,
    /// Days between rotations, when the service says.
    pub period_days: Option<i32>,
}

/// What the audit is doing, for a progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Buckets { done: usize, total: usize },
    Keys { done: usize, total: usize },
}

/// Reads the account with credentials and region from the standard chain, overridden by
/// `settings`.
pub fn collect(settings: &AwsSettings, progress: &(dyn Fn(Progress) + Sync)) -> Inventory {
    let owned = settings.clone();
    let config = aws::block_on(async move { aws::sdk_config(&owned).await });
    collect_with(&config, settings, progress)
}

/// Reads the account with an SDK configuration the caller made.
pub fn collect_with(
    config: &SdkConfig,
    settings: &AwsSettings,
    progress: &(dyn Fn(Progress) + Sync),
) -> Inventory {
    let region = config
        .region()
        .map(|region| region.to_string())
        .unwrap_or_default();

    let (sender, receiver) = std::sync::mpsc::channel();
    let buckets = {
        let config = config.clone();
        let settings = settings.clone();
        let sender = sender.clone();
        aws::spawn(async move { collect_buckets(&config, &settings, &sender).await })
    };
    let keys = {
        let client = aws::kms_client(config);
        aws::spawn(async move { collect_keys(&client, &sender).await })
    };
    // Report progress from this thread until both collectors have finished and dropped their
    // senders.
    for report in receiver {
        progress(report);
    }

    Inventory {
        region,
        buckets: aws::wait(buckets),
        keys: aws::wait(keys),
    }
}

type ProgressSender = std::sync::mpsc::Sender<Progress>;

async fn collect_buckets(
    config: &SdkConfig,
    settings: &AwsSettings,
    progress: &ProgressSender,
) -> Read<Vec<Bucket>> {
    let home = aws::s3_client(config, settings, None);
    let listed = home
        .list_buckets()
        .send()
        .await
        .map_err(|error| aws::call_failure("ListBuckets", &error))?;
    let names: Vec<String> = listed
        .buckets()
        .iter()
        .filter_map(|bucket| bucket.name().map(String::from))
        .collect();
    let total = names.len();
    let _ = progress.send(Progress::Buckets { done: 0, total });

    // Buckets are read through a client of their own region: S3 redirects calls made in any
    // other. Clients are made once per region.
    let clients: Arc<Mutex<HashMap<String, S3Client>>> = Arc::default();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(BUCKETS_IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    let mut names_by_task = HashMap::new();
    for (position, name) in names.into_iter().enumerate() {
        let task_name = name.clone();
        let (home, config, settings) = (home.clone(), config.clone(), settings.clone());
        let (clients, semaphore) = (clients.clone(), semaphore.clone());
        let handle = tasks.spawn(async move {
            let _permit = semaphore.acquire().await;
            let region = bucket_region(&home, &name).await;
            let client = match &region {
                Ok(region) => clients
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .entry(region.clone())
                    .or_insert_with(|| aws::s3_client(&config, &settings, Some(region)))
                    .clone(),
                Err(_) => home,
            };
            (position, read_bucket(&client, name, region).await)
        });
        names_by_task.insert(handle.id(), (position, task_name));
    }

    let mut buckets = Vec::with_capacity(total);
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, read)) => buckets.push(read),
            // A bucket whose reading broke off is kept, every setting unread, so that it is
            // neither judged on nothing nor taken for missing.
            Err(error) => {
                if let Some((position, name)) = names_by_task.remove(&error.id()) {
                    buckets.push((position, unread_bucket(name)));
                }
            }
        }
        let _ = progress.send(Progress::Buckets {
            done: buckets.len(),
            total,
        });
    }
    buckets.sort_by_key(|(position, _)| *position);
    Ok(buckets.into_iter().map(|(_, bucket)| bucket).collect())
}

fn unread_bucket(name: String) -> Bucket {
    fn failure<T>(call: &'static str) -> Read<T> {
        Err(CallFailure {
            call,
            kind: aws::FailureKind::Other,
            detail: "reading the bucket broke off".to_string(),
        })
    }
    Bucket {
        name,
        region: failure("GetBucketLocation"),
        encryption: failure("GetBucketEncryption"),
        public_access_block: failure("GetPublicAccessBlock"),
        policy: failure("GetBucketPolicy"),
        versioning: failure("GetBucketVersioning"),
        logging: failure("GetBucketLogging"),
        tags: failure("GetBucketTagging"),
    }
}

/// The bucket's region; S3 answers an empty constraint for us-east-1.
async fn bucket_region(client: &S3Client, bucket: &str) -> Read<String> {
    let output = client
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .map_err(|error| aws::call_failure("GetBucketLocation", &error))?;
    Ok(match output.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        // The constraint S3 still answers for buckets made long ago in eu-west-1.
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    })
}

/// Error codes that mean a setting is not configured rather than that the call failed.
const NOT_CONFIGURED: &[&str] = &[
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "NoSuchBucketPolicy",
    "NoSuchTagSet",
];

/// `Ok(None)` for an answer that means "not configured", a failure for any other error.
fn unless_not_configured<T, E>(
    call: &'static str,
    answer: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> Read<Option<T>>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match answer {
        Ok(output) => Ok(Some(output)),
        Err(error) if aws::error_code(&error).is_some_and(|c| NOT_CONFIGURED.contains(&c)) => {
            Ok(None)
        }
        Err(error) => Err(aws::call_failure(call, &error)),
    }
}

async fn read_bucket(client: &S3Client, name: String, region: Read<String>) -> Bucket {
    let encryption = unless_not_configured(
        "GetBucketEncryption",
        client.get_bucket_encryption().bucket(&name).send().await,
    )
    .map(|output| {
        output.map(|output| {
            output
                .server_side_encryption_configuration()
                .map(|configuration| configuration.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|rule| {
                    let default = rule.apply_server_side_encryption_by_default()?;
                    Some(EncryptionRule {
                        algorithm: default.sse_algorithm().as_str().to_string(),
                        kms_key_id: default.kms_master_key_id().map(String::from),
                        bucket_key_enabled: rule.bucket_key_enabled(),
                    })
                })
                .collect()
        })
    });

    let public_access_block = unless_not_configured(
        "GetPublicAccessBlock",
        client.get_public_access_block().bucket(&name).send().await,
    )
    .map(|output| {
        output.and_then(|output| {
            let block = output.public_access_block_configuration()?;
            Some(PublicAccessBlock {
                block_public_acls: block.block_public_acls().unwrap_or(false),
                ignore_public_acls: block.ignore_public_acls().unwrap_or(false),
                block_public_policy: block.block_public_policy().unwrap_or(false),
                restrict_public_buckets: block.restrict_public_buckets().unwrap_or(false),
            })
        })
    });

    let policy = unless_not_configured(
        "GetBucketPolicy",
        client.get_bucket_policy().bucket(&name).send().await,
    )
    .map(|output| output.and_then(|output| output.policy().map(String::from)));

    let versioning = client
        .get_bucket_versioning()
        .bucket(&name)
        .send()
        .await
        .map(|output| output.status().map(|status| status.as_str().to_string()))
        .map_err(|error| aws::call_failure("GetBucketVersioning", &error));

    let logging = client
        .get_bucket_logging()
        .bucket(&name)
        .send()
        .await
        .map(|output| {
            output.logging_enabled().map(|enabled| Logging {
                target_bucket: enabled.target_bucket().to_string(),
                target_prefix: enabled.target_prefix().to_string(),
            })
        })
        .map_err(|error| aws::call_failure("GetBucketLogging", &error));

    let tags = unless_not_configured(
        "GetBucketTagging",
        client.get_bucket_tagging().bucket(&name).send().await,
    )
    .map(|output| {
        output
            .map(|output| {
                output
                    .tag_set()
                    .iter()
                    .map(|tag| (tag.key().to_string(), tag.value().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    });

    Bucket {
        name,
        region,
        encryption,
        public_access_block,
        policy,
        versioning,
        logging,
        tags,
    }
}

/// Key states in which AWS does not rotate a key and refuses to say how it would.
const NOT_ROTATING_STATES: &[&str] = &["PendingDeletion", "PendingReplicaDeletion"];

async fn collect_keys(client: &aws_sdk_kms::Client, progress: &ProgressSender) -> Read<Vec<Key>> {
    let mut listed = Vec::new();
    let mut pages = client.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| aws::call_failure("ListKeys", &error))?;
        listed.extend(
            page.keys().iter().filter_map(|entry| {
                Some((entry.key_id()?.to_string(), entry.key_arn()?.to_string()))
            }),
        );
    }
    let total = listed.len();
    let _ = progress.send(Progress::Keys { done: 0, total });

    let mut keys = Vec::with_capacity(total);
    for (done, (id, arn)) in listed.into_iter().enumerate() {
        keys.push(read_key(client, id, arn).await);
        let _ = progress.send(Progress::Keys {
            done: done + 1,
            total,
        });
    }
    Ok(keys)
}

async fn read_key(client: &aws_sdk_kms::Client, id: String, arn: String) -> Key {
    let described = client
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .map_err(|error| aws::call_failure("DescribeKey", &error));
    let metadata = match described {
        Ok(output) => output.key_metadata().cloned(),
        Err(failure) => {
            return Key {
                id,
                arn,
                manager: String::new(),
                details: Err(failure),
                rotation: None,
            }
        }
    };
    let Some(metadata) = metadata else {
        return Key {
            id,
            arn,
            manager: String::new(),
            details: Err(CallFailure {
                call: "DescribeKey",
                kind: aws::FailureKind::Other,
                detail: "the answer held no key metadata".to_string(),
            }),
            rotation: None,
        };
    };

    let details = KeyDetails {
        state: metadata
            .key_state()
            .map(|state| state.as_str().to_string())
            .unwrap_or_default(),
        spec: metadata
            .key_spec()
            .map(|spec| spec.as_str().to_string())
            .unwrap_or_default(),
        usage: metadata
            .key_usage()
            .map(|usage| usage.as_str().to_string())
            .unwrap_or_default(),
        origin: metadata
            .origin()
            .map(|origin| origin.as_str().to_string())
            .unwrap_or_default(),
        custom_key_store_id: metadata.custom_key_store_id().map(String::from),
        description: metadata.description().unwrap_or_default().to_string(),
    };
    let manager = metadata
        .key_manager()
        .map(|manager| manager.as_str().to_string())
        .unwrap_or_default();

    let rotatable = details.spec == "SYMMETRIC_DEFAULT"
        && details.origin == "AWS_KMS"
        && details.custom_key_store_id.is_none()
        && !NOT_ROTATING_STATES.contains(&details.state.as_str());
    let rotation = if rotatable {
        Some(
            client
                .get_key_rotation_status()
                .key_id(&id)
                .send()
                .await
                .map(|output| Rotation {
                    enabled: output.key_rotation_enabled(),
                    period_days: output.rotation_period_in_days(),
                })
                .map_err(|error| aws::call_failure("GetKeyRotationStatus", &error)),
        )
    } else {
        None
    };

    Key {
        id,
        arn,
        manager,
        details: Ok(details),
        rotation,
    }
}
