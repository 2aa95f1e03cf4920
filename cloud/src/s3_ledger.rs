//! The attestation ledger in an S3 bucket: one object per record, named as the directory
//! ledger names its files (`PREFIX00000000000000000001.json`, …), sealed by the same code, so
//! the chain is the same and `hipaa ledger verify` reads either.
//!
//! Every record is written with SSE-KMS under the configured key, and written only if no
//! object has its name yet (`If-None-Match: *`): when two writers (two Terraform runs) race for
//! a sequence number, S3 accepts exactly one; the other gets `412 Precondition Failed` (or
//! `409 ConditionalRequestConflict` while the first write is still in flight), reads the new
//! head and tries the next number. No record is ever replaced.
//!
//! Verification reads the objects and, where the bucket keeps versions, their history too: an
//! object with more than one version was overwritten behind the ledger's back even if its
//! current content happens to fit the chain.

use crate::aws::{self, AwsSettings, CallFailure, S3Client};
use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use hipaa_ledger::{
    record_name, refuse_secrets, sequence_of, verify_stored, Entry, LedgerBackend, LedgerError,
    Problem, Record, Report, MAX_APPEND_ATTEMPTS,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// The algorithms S3 calls SSE-KMS (single- and dual-layer).
const KMS_ALGORITHMS: &[&str] = &["aws:kms", "aws:kms:dsse"];

/// Where a ledger lives in S3, and the key its records are encrypted with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3LedgerSettings {
    pub bucket: String,
    /// Prepended to every record's name; a `/` is added when it does not end in one.
    pub prefix: String,
    /// The KMS key (id, ARN or alias) records are encrypted under. Needed to append; reading
    /// and verifying do without.
    pub kms_key_id: Option<String>,
    pub aws: AwsSettings,
}

impl S3LedgerSettings {
    /// Reads `s3://bucket/prefix`.
    pub fn from_url(url: &str) -> Option<S3LedgerSettings> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return None;
        }
        Some(S3LedgerSettings {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            ..S3LedgerSettings::default()
        })
    }
}

pub struct S3Ledger {
    client: S3Client,
    bucket: String,
    prefix: String,
    kms_key_id: Option<String>,
    /// Records read so far; later appends (by this or another process) are read on demand.
    cache: Mutex<Vec<Record>>,
}

/// Whether a write claimed its sequence number.
enum Claim {
    Won,
    /// Another writer holds the number (or is writing it right now).
    Lost,
}

impl S3Ledger {
    /// Opens the ledger with credentials and region from the standard chain, overridden by
    /// `settings.aws`. Nothing is read yet; see [`S3Ledger::check_bucket_encryption`].
    pub fn open(settings: &S3LedgerSettings) -> S3Ledger {
        let aws_settings = settings.aws.clone();
        let config = aws::block_on(async move { aws::sdk_config(&aws_settings).await });
        S3Ledger::open_with(&config, settings)
    }

    /// Opens the ledger with an SDK configuration the caller made (its own credentials
    /// provider, say); `settings.aws.endpoint` still decides path-style addressing.
    pub fn open_with(config: &SdkConfig, settings: &S3LedgerSettings) -> S3Ledger {
        let client = aws::s3_client(config, &settings.aws, None);
        let prefix = match settings.prefix.trim_start_matches('/') {
            "" => String::new(),
            prefix if prefix.ends_with('/') => prefix.to_string(),
            prefix => format!("{prefix}/"),
        };
        S3Ledger {
            client,
            bucket: settings.bucket.clone(),
            prefix,
            kms_key_id: settings.kms_key_id.clone(),
            cache: Mutex::new(Vec::new()),
        }
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn key(&self, sequence: u64) -> String {
        format!("{}{}", self.prefix, record_name(sequence))
    }

    fn store_error(&self, failure: CallFailure) -> LedgerError {
        LedgerError::Store {
            location: self.location(),
            reason: failure.to_string(),
        }
    }

    /// Refuses a bucket whose default encryption is not SSE-KMS: records are written with
    /// SSE-KMS anyway, but a bucket that does not demand it lets anyone with write access add
    /// objects that are not, and says the bucket was not set up for PHI-grade records.
    pub fn check_bucket_encryption(&self) -> Result<(), LedgerError> {
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        let answer =
            aws::block_on(
                async move { client.get_bucket_encryption().bucket(bucket).send().await },
            );
        let algorithms: Vec<String> = match answer {
            Ok(output) => output
                .server_side_encryption_configuration()
                .map(|configuration| configuration.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|rule| rule.apply_server_side_encryption_by_default())
                .map(|default| default.sse_algorithm().as_str().to_string())
                .collect(),
            Err(error)
                if aws::error_code(&error)
                    == Some("ServerSideEncryptionConfigurationNotFoundError") =>
            {
                Vec::new()
            }
            Err(error) => {
                return Err(self.store_error(aws::call_failure("GetBucketEncryption", &error)))
            }
        };
        if algorithms
            .iter()
            .any(|algorithm| KMS_ALGORITHMS.contains(&algorithm.as_str()))
        {
            return Ok(());
        }
        let found = if algorithms.is_empty() {
            "no default encryption".to_string()
        } else {
            format!("default encryption {}", algorithms.join(", "))
        };
        Err(LedgerError::Store {
            location: format!("s3://{}", self.bucket),
            reason: format!(
                "the bucket has {found}, not SSE-KMS; set its default encryption to aws:kms \
                 with a customer-managed key before keeping the ledger there"
            ),
        })
    }

    /// Reads records past the cached ones until the next sequence number has no object.
    fn catch_up(&self, cache: &mut Vec<Record>) -> Result<(), LedgerError> {
        loop {
            let next = cache.len() as u64 + 1;
            match self.read(next)? {
                Some(text) => {
                    let record = Record::parse(&text).map_err(|reason| LedgerError::Corrupt {
                        path: PathBuf::from(format!("s3://{}/{}", self.bucket, self.key(next))),
                        reason,
                    })?;
                    cache.push(record);
                }
                None => return Ok(()),
            }
        }
    }

    /// The text of one record, `None` when there is no object for it.
    fn read(&self, sequence: u64) -> Result<Option<String>, LedgerError> {
        let key = self.key(sequence);
        self.get_text(&key)
            .map_err(|failure| self.store_error(failure))
    }

    fn get_text(&self, key: &str) -> Result<Option<String>, CallFailure> {
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        let key = key.to_string();
        aws::block_on(async move {
            let answer = client.get_object().bucket(bucket).key(key).send().await;
            let output = match answer {
                Ok(output) => output,
                Err(error) if aws::error_code(&error) == Some("NoSuchKey") => return Ok(None),
                Err(error) => return Err(aws::call_failure("GetObject", &error)),
            };
            let bytes = output.body.collect().await.map_err(|error| CallFailure {
                call: "GetObject",
                kind: aws::FailureKind::Other,
                detail: format!("the body could not be read: {error}"),
            })?;
            Ok(Some(
                String::from_utf8_lossy(&bytes.into_bytes()).to_string(),
            ))
        })
    }

    /// Stores a sealed record under its sequence number unless an object has that name
    /// already; `Ok(false)` when one has. Appending goes through here; so can copying records
    /// from another store as they are.
    pub fn put_if_absent(&self, record: &Record) -> Result<bool, LedgerError> {
        Ok(matches!(self.claim(record)?, Claim::Won))
    }

    fn claim(&self, record: &Record) -> Result<Claim, LedgerError> {
        let Some(kms_key_id) = self.kms_key_id.clone() else {
            return Err(LedgerError::Store {
                location: self.location(),
                reason: "no KMS key is configured, so no record can be written".to_string(),
            });
        };
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        let key = self.key(record.sequence);
        let body = record.to_text();
        let answer = aws::block_on(async move {
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .if_none_match("*")
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms_key_id)
                .content_type("application/json")
                .body(ByteStream::from(body.into_bytes()))
                .send()
                .await
        });
        match answer {
            Ok(output) => {
                let algorithm = output.server_side_encryption().map(|sse| sse.as_str());
                if algorithm.is_some_and(|algorithm| KMS_ALGORITHMS.contains(&algorithm)) {
                    Ok(Claim::Won)
                } else {
                    Err(LedgerError::Store {
                        location: self.location(),
                        reason: format!(
                            "record {} was stored without SSE-KMS ({}): the store ignores the \
                             encryption the ledger asks for",
                            record.sequence,
                            algorithm.unwrap_or("no encryption reported")
                        ),
                    })
                }
            }
            Err(error)
                if matches!(aws::http_status(&error), Some(412) | Some(409))
                    || matches!(
                        aws::error_code(&error),
                        Some("PreconditionFailed") | Some("ConditionalRequestConflict")
                    ) =>
            {
                Ok(Claim::Lost)
            }
            Err(error) => Err(self.store_error(aws::call_failure("PutObject", &error))),
        }
    }

    /// Checks the chain as [`hipaa_ledger::verify`] does for a directory, plus what only the
    /// store can tell: records kept without SSE-KMS, and records that were overwritten (more
    /// than one version of the object, where the bucket keeps versions).
    pub fn verify(&self) -> Result<Report, LedgerError> {
        let names = self.list_records()?;
        let mut storage_problems = Vec::new();
        let mut unencrypted = Vec::new();

        let mut report = verify_stored(&names, |name| {
            let (text, algorithm) = self.get_text_and_encryption(name)?;
            if !algorithm
                .as_deref()
                .is_some_and(|algorithm| KMS_ALGORITHMS.contains(&algorithm))
            {
                unencrypted.push(name.to_string());
            }
            Ok(text)
        });
        for name in unencrypted {
            storage_problems.push(Problem::Storage {
                file: name,
                reason: "stored without SSE-KMS".to_string(),
            });
        }
        for (name, versions) in self.version_counts()? {
            if versions > 1 {
                storage_problems.push(Problem::Storage {
                    file: name,
                    reason: format!(
                        "overwritten: the bucket keeps {versions} versions of this record, and \
                         the ledger writes each record once"
                    ),
                });
            }
        }
        report.problems.extend(storage_problems);
        Ok(report)
    }

    /// Record names under the prefix, by sequence number.
    fn list_records(&self) -> Result<BTreeMap<u64, String>, LedgerError> {
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        let prefix = self.prefix.clone();
        let keys = aws::block_on(async move {
            let mut keys = Vec::new();
            let mut pages = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|error| aws::call_failure("ListObjectsV2", &error))?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(String::from)),
                );
            }
            Ok::<_, CallFailure>(keys)
        })
        .map_err(|failure| self.store_error(failure))?;

        Ok(keys
            .into_iter()
            .filter_map(|key| {
                let name = key.strip_prefix(&self.prefix)?;
                Some((sequence_of(name)?, name.to_string()))
            })
            .collect())
    }

    fn get_text_and_encryption(&self, name: &str) -> Result<(String, Option<String>), String> {
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        let key = format!("{}{name}", self.prefix);
        aws::block_on(async move {
            let output = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|error| aws::call_failure("GetObject", &error).to_string())?;
            let algorithm = output
                .server_side_encryption()
                .map(|sse| sse.as_str().to_string());
            let bytes = output
                .body
                .collect()
                .await
                .map_err(|error| format!("the body could not be read: {error}"))?;
            Ok((
                String::from_utf8_lossy(&bytes.into_bytes()).to_string(),
                algorithm,
            ))
        })
    }

    /// How many versions (not counting delete markers) each record object has. A bucket
    /// without versioning answers one version per object.
    fn version_counts(&self) -> Result<BTreeMap<String, usize>, LedgerError> {
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        let prefix = self.prefix.clone();
        let keys = aws::block_on(async move {
            let mut keys = Vec::new();
            let mut markers: (Option<String>, Option<String>) = (None, None);
            loop {
                let page = client
                    .list_object_versions()
                    .bucket(&bucket)
                    .prefix(&prefix)
                    .set_key_marker(markers.0.take())
                    .set_version_id_marker(markers.1.take())
                    .send()
                    .await
                    .map_err(|error| aws::call_failure("ListObjectVersions", &error))?;
                keys.extend(
                    page.versions()
                        .iter()
                        .filter_map(|v| v.key().map(String::from)),
                );
                if page.is_truncated() != Some(true) || page.next_key_marker().is_none() {
                    return Ok::<_, CallFailure>(keys);
                }
                markers = (
                    page.next_key_marker().map(String::from),
                    page.next_version_id_marker().map(String::from),
                );
            }
        })
        .map_err(|failure| self.store_error(failure))?;

        let mut counts = BTreeMap::new();
        for key in keys {
            if let Some(name) = key.strip_prefix(&self.prefix) {
                if sequence_of(name).is_some() {
                    *counts.entry(name.to_string()).or_default() += 1;
                }
            }
        }
        Ok(counts)
    }

    fn locked_cache(&self) -> std::sync::MutexGuard<'_, Vec<Record>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl LedgerBackend for S3Ledger {
    fn append(&self, entry: Entry) -> Result<Record, LedgerError> {
        refuse_secrets(&entry)?;
        let mut cache = self.locked_cache();
        for _ in 0..MAX_APPEND_ATTEMPTS {
            self.catch_up(&mut cache)?;
            let record = Record::next(cache.last(), entry.clone());
            match self.claim(&record)? {
                Claim::Won => {
                    cache.push(record.clone());
                    return Ok(record);
                }
                Claim::Lost => continue,
            }
        }
        Err(LedgerError::Contended)
    }

    fn records(&self) -> Result<Vec<Record>, LedgerError> {
        let mut cache = self.locked_cache();
        self.catch_up(&mut cache)?;
        Ok(cache.clone())
    }

    /// Searches the cache in place, as the directory ledger does.
    fn latest(
        &self,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Record>, LedgerError> {
        let mut cache = self.locked_cache();
        self.catch_up(&mut cache)?;
        Ok(cache
            .iter()
            .rev()
            .find(|r| r.resource_type == resource_type && r.resource_id == resource_id)
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_and_an_optional_prefix() {
        let settings = S3LedgerSettings::from_url("s3://acme-ledger/prod/hipaa").unwrap();
        assert_eq!(settings.bucket, "acme-ledger");
        assert_eq!(settings.prefix, "prod/hipaa");
        assert_eq!(
            S3LedgerSettings::from_url("s3://acme-ledger")
                .unwrap()
                .prefix,
            ""
        );
        assert_eq!(S3LedgerSettings::from_url("s3:///x"), None);
        assert_eq!(S3LedgerSettings::from_url("/var/ledger"), None);
    }
}
