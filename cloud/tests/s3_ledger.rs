//! The S3 ledger against an S3/KMS emulator on 127.0.0.1.

use hipaa_cloud::emulator::{BucketSeed, Emulator, SeedEncryption};
use hipaa_cloud::{S3Ledger, S3LedgerSettings};
use hipaa_ledger::{Action, Entry, LedgerBackend, LedgerError, Problem, Record};
use std::collections::BTreeMap;
use std::path::Path;

fn emulator() -> Option<Emulator> {
    Emulator::start(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

fn entry(id: &str, version: &str) -> Entry {
    Entry {
        action: Action::Create,
        resource_type: "hipaa_license".to_string(),
        resource_id: id.to_string(),
        attributes: BTreeMap::from([("version".to_string(), serde_json::json!(version))]),
    }
}

/// A versioned bucket whose default encryption is SSE-KMS under a new key; returns the
/// ledger's settings.
fn kms_bucket(moto: &Emulator, bucket: &str) -> S3LedgerSettings {
    let key = moto.create_key("ledger", true);
    moto.seed_bucket(&BucketSeed {
        name: bucket.to_string(),
        encryption: SeedEncryption::Kms(Some(key.clone())),
        versioning: true,
        ..BucketSeed::default()
    });
    S3LedgerSettings {
        bucket: bucket.to_string(),
        prefix: "prod".to_string(),
        kms_key_id: Some(key),
        aws: moto.settings(),
    }
}

#[test]
fn records_are_chained_and_each_object_is_encrypted_under_the_given_key() {
    let Some(moto) = emulator() else { return };
    let settings = kms_bucket(&moto, "acme-ledger");
    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    ledger
        .check_bucket_encryption()
        .expect("an SSE-KMS bucket is accepted");

    let written: Vec<_> = ["2026.1", "2026.2", "2026.3"]
        .into_iter()
        .map(|version| ledger.append(entry("lic-a", version)).unwrap())
        .collect();

    let report = ledger.verify().unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 3);
    assert!(report.head_matches(&written[2].hash));
    let stored = moto.get_object("acme-ledger", "prod/00000000000000000002.json");
    assert_eq!(stored.text, written[1].to_text());
    assert_eq!(stored.encryption.as_deref(), Some("aws:kms"));
    assert_eq!(stored.kms_key_id, settings.kms_key_id);

    let reopened = S3Ledger::open_with(&moto.sdk_config(), &settings);
    assert_eq!(reopened.records().unwrap(), written);
    assert_eq!(
        reopened
            .latest("hipaa_license", "lic-a")
            .unwrap()
            .map(|r| r.sequence),
        Some(3)
    );
}

#[test]
fn an_object_edited_behind_the_ledgers_back_fails_verification() {
    let Some(moto) = emulator() else { return };
    let settings = kms_bucket(&moto, "acme-ledger");
    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    for version in ["2026.1", "2026.2", "2026.3"] {
        ledger.append(entry("lic-a", version)).unwrap();
    }

    let key = "prod/00000000000000000002.json";
    let edited = moto
        .get_object("acme-ledger", key)
        .text
        .replace("2026.2", "2027.9");
    moto.put_object("acme-ledger", key, &edited);

    let report = ledger.verify().unwrap();
    assert!(!report.is_intact());
    assert!(report.problems.contains(&Problem::Edited { sequence: 2 }));
    assert!(
        report.problems.iter().any(|problem| matches!(
            problem,
            Problem::Storage { file, reason }
                if file == "00000000000000000002.json" && reason.starts_with("overwritten")
        )),
        "{:?}",
        report.problems
    );
}

#[test]
fn two_concurrent_writers_keep_every_record() {
    let Some(moto) = emulator() else { return };
    let settings = kms_bucket(&moto, "acme-ledger");
    const EACH: usize = 15;

    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|writer| {
            let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
            std::thread::spawn(move || {
                for n in 0..EACH {
                    ledger
                        .append(entry(&format!("lic-{writer}"), &n.to_string()))
                        .expect("every append lands");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("the writer finishes");
    }

    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    let report = ledger.verify().unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 2 * EACH as u64);
    let records = ledger.records().unwrap();
    for writer in ["lic-a", "lic-b"] {
        let versions: Vec<String> = records
            .iter()
            .filter(|r| r.resource_id == writer)
            .map(|r| r.attributes["version"].as_str().unwrap().to_string())
            .collect();
        let expected: Vec<String> = (0..EACH).map(|n| n.to_string()).collect();
        assert_eq!(versions, expected, "{writer} lost or reordered a record");
    }
}

#[test]
fn a_sequence_number_already_taken_is_never_written_again() {
    let Some(moto) = emulator() else { return };
    let settings = kms_bucket(&moto, "acme-ledger");
    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    // Two writers that both read an empty ledger seal different first records.
    let mine = Record::next(None, entry("lic-a", "1"));
    let theirs = Record::next(None, entry("lic-b", "1"));

    assert!(ledger.put_if_absent(&mine).unwrap());
    assert!(!ledger.put_if_absent(&theirs).unwrap());

    let stored = moto.get_object("acme-ledger", "prod/00000000000000000001.json");
    assert_eq!(stored.text, mine.to_text());
    let next = ledger.append(entry("lic-b", "1")).unwrap();
    assert_eq!((next.sequence, next.previous_hash), (2, mine.hash));
}

#[test]
fn buckets_without_sse_kms_default_encryption_are_refused() {
    let Some(moto) = emulator() else { return };
    for (bucket, encryption, found) in [
        (
            "plain-ledger",
            SeedEncryption::None,
            "no default encryption",
        ),
        (
            "sse-s3-ledger",
            SeedEncryption::S3Managed,
            "default encryption AES256",
        ),
    ] {
        moto.seed_bucket(&BucketSeed {
            name: bucket.to_string(),
            encryption,
            ..BucketSeed::default()
        });
        let ledger = S3Ledger::open_with(
            &moto.sdk_config(),
            &S3LedgerSettings {
                bucket: bucket.to_string(),
                kms_key_id: Some("alias/ledger".to_string()),
                aws: moto.settings(),
                ..S3LedgerSettings::default()
            },
        );

        let error = ledger.check_bucket_encryption().unwrap_err().to_string();

        assert!(
            error.starts_with(&format!(
                "s3://{bucket}: the bucket has {found}, not SSE-KMS"
            )),
            "{error}"
        );
    }
}

#[test]
fn secret_looking_attributes_never_reach_the_bucket() {
    let Some(moto) = emulator() else { return };
    let settings = kms_bucket(&moto, "acme-ledger");
    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    let mut leaky = entry("lic-a", "1");
    leaky
        .attributes
        .insert("api_token".to_string(), serde_json::json!("x"));

    let refused = ledger.append(leaky);

    assert!(matches!(refused, Err(LedgerError::SensitiveAttribute(name)) if name == "api_token"));
    assert_eq!(ledger.verify().unwrap().records, 0);
}
