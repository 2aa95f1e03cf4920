//! `hipaa audit aws` and `hipaa ledger verify|export s3://…` against an S3/KMS emulator on
//! 127.0.0.1, seeded with compliant and non-compliant buckets and keys.

use hipaa_cloud::emulator::{BucketSeed, Emulator, SeedEncryption};
use hipaa_cloud::{S3Ledger, S3LedgerSettings};
use hipaa_ledger::{Action, DirectoryLedger, Entry, LedgerBackend};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The body of an object in a seeded bucket: it must never appear in any output.
const OBJECT_BODY: &str = "PATIENT 0042 DIAGNOSIS NEVER-PRINT";

fn emulator() -> Option<Emulator> {
    Emulator::start(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

fn hipaa(moto: &Emulator, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hipaa"));
    command.args(args);
    for (name, value) in moto.env() {
        command.env(name, value);
    }
    command.output().expect("the hipaa binary runs")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Nothing secret in what a run printed: not the credentials, not an object's body, not a raw
/// answer of the service (which is where a body would come from).
fn assert_nothing_secret(output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        let printed = String::from_utf8_lossy(stream);
        for secret in [
            hipaa_cloud::emulator::SECRET_KEY,
            OBJECT_BODY,
            "<?xml",
            "SdkBody",
        ] {
            assert!(
                !printed.contains(secret),
                "{secret:?} was printed:\n{printed}"
            );
        }
    }
}

fn record(ledger: &DirectoryLedger, kind: &str, id: &str, attributes: Value) {
    let Value::Object(fields) = attributes else {
        panic!("attributes are an object");
    };
    ledger
        .append(Entry {
            action: Action::Create,
            resource_type: kind.to_string(),
            resource_id: id.to_string(),
            attributes: fields.into_iter().collect(),
        })
        .expect("the ledger takes the record");
}

/// A ledger declaring a CMK license, a boundary marking PHI with `data-class=phi`, and three
/// PHI systems, one of whose buckets does not exist.
fn seeded_ledger(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let ledger = DirectoryLedger::open(&dir);
    record(
        &ledger,
        "hipaa_license",
        "lic-1",
        json!({"name": "acme-clinic", "version": "2026.1", "customer_managed_keys": true,
               "key_rotation_days": 365, "min_tls_version": "1.2"}),
    );
    record(
        &ledger,
        "hipaa_boundary",
        "bnd-1",
        json!({"license_id": "lic-1", "name": "us-production", "regions": ["us-east-1"],
               "members": ["arn:aws:s3:::acme-claims", "arn:aws:s3:::acme-imaging",
                           "arn:aws:s3:::acme-archive"],
               "phi_tags": {"data-class": "phi"}}),
    );
    for (id, bucket) in [
        ("phi-claims", "acme-claims"),
        ("phi-imaging", "acme-imaging"),
        ("phi-archive", "acme-archive"),
    ] {
        record(
            &ledger,
            "hipaa_phi_system",
            id,
            json!({"license_id": "lic-1", "boundary_id": "bnd-1", "name": id,
                   "resource": format!("arn:aws:s3:::{bucket}"), "handles": ["store"],
                   "owner": "records-team"}),
        );
    }
    dir
}

/// Seeds the account; returns the ARN of the key that does not rotate.
fn seed_account(moto: &Emulator) -> String {
    let good = moto.create_key("phi", true);
    let stale = moto.create_key("legacy", false);
    let phi_tags = vec![("data-class".to_string(), "phi".to_string())];
    let compliant = |name: &str| BucketSeed {
        name: name.to_string(),
        encryption: SeedEncryption::Kms(Some(good.clone())),
        block_public_access: true,
        tls_only_policy: true,
        ..BucketSeed::default()
    };

    moto.seed_bucket(&BucketSeed {
        tags: phi_tags.clone(),
        ..compliant("acme-claims")
    });
    moto.seed_bucket(&BucketSeed {
        encryption: SeedEncryption::S3Managed,
        ..compliant("acme-sse-s3")
    });
    moto.seed_bucket(&BucketSeed {
        encryption: SeedEncryption::None,
        ..compliant("acme-plain")
    });
    moto.seed_bucket(&BucketSeed {
        block_public_access: false,
        ..compliant("acme-open")
    });
    moto.seed_bucket(&BucketSeed {
        tls_only_policy: false,
        ..compliant("acme-imaging")
    });
    moto.seed_bucket(&BucketSeed {
        tags: phi_tags,
        ..compliant("acme-exports")
    });
    // The TLS-only buckets refuse the emulator's plain HTTP for objects; this one takes it.
    moto.put_object("acme-imaging", "patients/0042.txt", OBJECT_BODY);
    stale
}

fn expected_problems(stale_key: &str) -> BTreeSet<(String, String)> {
    [
        ("EAR003", "arn:aws:s3:::acme-sse-s3"),
        ("EAR003", "arn:aws:s3:::acme-plain"),
        ("KEY001", stale_key),
        ("BND004", "arn:aws:s3:::acme-open"),
        ("EIT009", "arn:aws:s3:::acme-imaging"),
        ("BND005", "hipaa_phi_system.phi-archive"),
        ("BND006", "arn:aws:s3:::acme-exports"),
    ]
    .into_iter()
    .map(|(rule, resource)| (rule.to_string(), resource.to_string()))
    .collect()
}

#[test]
fn the_audit_reports_exactly_the_seeded_problems_in_every_format() {
    let Some(moto) = emulator() else { return };
    let stale_key = seed_account(&moto);
    let ledger = seeded_ledger("audit-ledger");
    let endpoint = moto.endpoint();
    let base = [
        "audit",
        "aws",
        "--endpoint",
        endpoint.as_str(),
        "--region",
        "us-east-1",
        "--ledger",
        ledger.to_str().unwrap(),
    ];
    let expected = expected_problems(&stale_key);

    let json_run = hipaa(&moto, &[&base[..], &["--format", "json"]].concat());
    assert_eq!(
        json_run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&json_run.stderr)
    );
    assert_nothing_secret(&json_run);
    let report: Value = serde_json::from_slice(&json_run.stdout).unwrap();
    let found: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(found, expected);

    let sarif_run = hipaa(&moto, &[&base[..], &["--format", "sarif"]].concat());
    assert_eq!(sarif_run.status.code(), Some(1));
    assert_nothing_secret(&sarif_run);
    let sarif: Value = serde_json::from_slice(&sarif_run.stdout).unwrap();
    let results: BTreeSet<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(results, expected);

    let text_run = hipaa(&moto, &[&base[..], &["--format", "text"]].concat());
    assert_eq!(text_run.status.code(), Some(1));
    assert_nothing_secret(&text_run);
    let printed = text(&text_run);
    for (rule, resource) in &expected {
        assert!(
            printed.lines().any(|line| line.contains(rule.as_str()))
                && printed.contains(resource.as_str()),
            "{rule} {resource} missing from:\n{printed}"
        );
    }
    assert!(printed.contains("summary: 7 findings"), "{printed}");
}

#[test]
fn without_a_ledger_only_the_account_is_judged() {
    let Some(moto) = emulator() else { return };
    let stale_key = seed_account(&moto);

    let run = hipaa(
        &moto,
        &[
            "audit",
            "aws",
            "--endpoint",
            &moto.endpoint(),
            "--format",
            "json",
        ],
    );

    assert_nothing_secret(&run);
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    // moto's GetBucketVersioning answer is one the SDK rejects: a note per bucket says so,
    // without the answer itself.
    let notes = report["summary"]["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|note| {
            note
        == "arn:aws:s3:::acme-open: GetBucketVersioning failed: the answer could not be read: \
            it is not in the shape the SDK expects"
        }),
        "{notes:?}"
    );
    let found: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // No license: provider keys are accepted; no declarations: nothing holds PHI.
    let expected: BTreeSet<(String, String)> = [
        ("KEY001", stale_key.as_str()),
        ("BND004", "arn:aws:s3:::acme-open"),
    ]
    .into_iter()
    .map(|(rule, resource)| (rule.to_string(), resource.to_string()))
    .collect();
    assert_eq!(found, expected);
}

#[test]
fn an_unreachable_account_is_reported_per_listing_and_fails_the_audit() {
    let Some(moto) = emulator() else { return };
    // Nothing listens on the emulator's port once it is gone.
    let endpoint = moto.endpoint();
    drop(moto);
    let stand_in = emulator().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_hipaa"));
    command.args(["audit", "aws", "--endpoint", &endpoint, "--format", "json"]);
    for (name, value) in stand_in.env() {
        command.env(name, value);
    }

    let run = command.output().unwrap();

    // The report is still written, but an account that could not be listed is no clean bill.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the audit is incomplete"), "{stderr}");
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    let notes: Vec<&str> = report["summary"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("S3 buckets were not audited: ListBuckets failed")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("KMS keys of us-east-1 were not audited")),
        "{notes:?}"
    );
}

#[test]
fn a_tampered_ledger_is_not_enforced() {
    let Some(moto) = emulator() else { return };
    let ledger = seeded_ledger("ledger-tampered-for-audit");
    let first = ledger.join("00000000000000000001.json");
    let text_before = std::fs::read_to_string(&first).unwrap();
    let mut record: Value = serde_json::from_str(&text_before).unwrap();
    record["resource_id"] = Value::from("tampered-id");
    std::fs::write(&first, record.to_string()).unwrap();

    let run = hipaa(
        &moto,
        &[
            "audit",
            "aws",
            "--ledger",
            ledger.to_str().unwrap(),
            "--format",
            "json",
        ],
    );

    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("chain is not intact"), "{stderr}");
    assert!(stderr.contains("record 1 was edited"), "{stderr}");
}

fn s3_ledger(moto: &Emulator) -> (S3Ledger, S3LedgerSettings) {
    let key = moto.create_key("ledger", true);
    moto.seed_bucket(&BucketSeed {
        name: "acme-ledger".to_string(),
        encryption: SeedEncryption::Kms(Some(key.clone())),
        versioning: true,
        ..BucketSeed::default()
    });
    let settings = S3LedgerSettings {
        bucket: "acme-ledger".to_string(),
        prefix: "prod".to_string(),
        kms_key_id: Some(key),
        aws: moto.settings(),
    };
    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    for version in ["2026.1", "2026.2"] {
        ledger
            .append(Entry {
                action: Action::Create,
                resource_type: "hipaa_license".to_string(),
                resource_id: "lic-1".to_string(),
                attributes: BTreeMap::from([("version".to_string(), json!(version))]),
            })
            .unwrap();
    }
    (ledger, settings)
}

#[test]
fn ledger_verify_and_export_read_a_ledger_in_s3() {
    let Some(moto) = emulator() else { return };
    let (ledger, _) = s3_ledger(&moto);
    let head = ledger.records().unwrap()[1].hash.clone();
    let endpoint = moto.endpoint();
    let url = "s3://acme-ledger/prod";

    let verified = hipaa(&moto, &["ledger", "verify", url, "--endpoint", &endpoint]);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    assert!(text(&verified).contains(&format!("2 records, head {head}: intact")));

    let json_export = hipaa(&moto, &["ledger", "export", url, "--endpoint", &endpoint]);
    let exported: Value = serde_json::from_slice(&json_export.stdout).unwrap();
    assert_eq!(exported[1]["hash"], head.as_str());
    assert_eq!(exported[1]["attributes"]["version"], "2026.2");

    let csv_export = hipaa(
        &moto,
        &[
            "ledger",
            "export",
            url,
            "--endpoint",
            &endpoint,
            "--format",
            "csv",
        ],
    );
    let lines: Vec<String> = text(&csv_export).lines().map(String::from).collect();
    assert_eq!(
        lines[0],
        "sequence,recorded_at,action,resource_type,resource_id,attributes,previous_hash,hash"
    );
    assert!(lines[2].starts_with("2,"), "{lines:?}");
    assert!(
        lines[2].contains(r#",create,hipaa_license,lic-1,"{""version"":""2026.2""}","#),
        "{lines:?}"
    );
    assert!(lines[2].ends_with(&head));

    moto.put_object(
        "acme-ledger",
        "prod/00000000000000000001.json",
        &ledger.records().unwrap()[0]
            .to_text()
            .replace("2026.1", "2030.1"),
    );
    let tampered = hipaa(&moto, &["ledger", "verify", url, "--endpoint", &endpoint]);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(
        text(&tampered).contains("record 1 was edited"),
        "{}",
        text(&tampered)
    );
    assert!(text(&tampered).contains("NOT intact"));
    assert_nothing_secret(&tampered);
}
