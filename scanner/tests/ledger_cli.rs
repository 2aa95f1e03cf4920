//! `hipaa ledger verify` over a ledger written by the same code the provider uses.

use hipaa_ledger::{Action, DirectoryLedger, Entry, LedgerBackend};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ledger_with_three_records(name: &str) -> (PathBuf, Vec<String>) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let ledger = DirectoryLedger::open(&dir);

    let mut hashes = Vec::new();
    for (action, version) in [
        (Action::Create, "2026.1"),
        (Action::Update, "2026.2"),
        (Action::Update, "2026.3"),
    ] {
        let attributes =
            BTreeMap::from([("version".to_string(), serde_json::Value::from(version))]);
        let record = ledger
            .append(Entry {
                action,
                resource_type: "hipaa_license".to_string(),
                resource_id: "lic-clinic".to_string(),
                attributes,
            })
            .expect("the ledger takes the record");
        hashes.push(record.hash);
    }
    (dir, hashes)
}

fn verify(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(["ledger", "verify"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("the hipaa binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn an_untouched_ledger_verifies_and_prints_its_head() {
    let (dir, hashes) = ledger_with_three_records("ledger-untouched");

    let run = verify(&dir, &[]);

    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));
    assert!(stdout(&run).contains(&format!("3 records, head {}: intact", hashes[2])));
}

#[test]
fn an_edited_record_is_named() {
    let (dir, _) = ledger_with_three_records("ledger-edited");
    let second = dir.join("00000000000000000002.json");
    let text = std::fs::read_to_string(&second).unwrap();
    std::fs::write(&second, text.replace("2026.2", "2027.9")).unwrap();

    let run = verify(&dir, &[]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        stdout(&run).contains("record 2 was edited"),
        "{}",
        stdout(&run)
    );
    assert!(stdout(&run).contains("NOT intact"));
}

#[test]
fn a_removed_record_is_named() {
    let (dir, _) = ledger_with_three_records("ledger-removed");
    std::fs::remove_file(dir.join("00000000000000000002.json")).unwrap();

    let run = verify(&dir, &[]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        stdout(&run).contains("record 2 is missing"),
        "{}",
        stdout(&run)
    );
}

#[test]
fn records_cut_off_the_end_are_caught_by_the_head_kept_elsewhere() {
    let (dir, hashes) = ledger_with_three_records("ledger-truncated");
    std::fs::remove_file(dir.join("00000000000000000003.json")).unwrap();

    let alone = verify(&dir, &[]);
    assert_eq!(
        alone.status.code(),
        Some(0),
        "a shorter chain is still a chain"
    );

    let with_head = verify(&dir, &["--expect-head", &hashes[2]]);
    assert_eq!(with_head.status.code(), Some(1));
    assert!(stdout(&with_head).contains("no longer holds the expected head"));

    let older_head = verify(&dir, &["--expect-head", &hashes[1]]);
    assert_eq!(older_head.status.code(), Some(0), "{}", stdout(&older_head));
}

#[test]
fn a_missing_directory_is_an_input_error() {
    let run = verify(Path::new("/nonexistent/ledger"), &[]);

    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("/nonexistent/ledger"));
}

#[test]
fn a_directory_without_records_is_not_a_clean_ledger() {
    let empty = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ledger-empty");
    std::fs::create_dir_all(&empty).unwrap();

    let run = verify(&empty, &[]);

    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("holds no ledger records"));
}

#[test]
fn an_expected_head_that_is_not_a_hash_is_a_usage_error() {
    let (dir, _) = ledger_with_three_records("ledger-bad-head");

    let run = verify(&dir, &["--expect-head", "deadbeef"]);

    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("64 hexadecimal characters"));
}

fn export(dir: &Path, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(["ledger", "export"])
        .arg(dir)
        .args(["--format", format])
        .output()
        .expect("the hipaa binary runs")
}

#[test]
fn a_directory_ledger_exports_as_json_and_csv() {
    let (dir, hashes) = ledger_with_three_records("ledger-export");

    let json = export(&dir, "json");
    assert_eq!(json.status.code(), Some(0));
    let records: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let exported: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["hash"].as_str().unwrap())
        .collect();
    assert_eq!(exported, hashes);
    assert_eq!(records[2]["attributes"]["version"], "2026.3");

    let csv = export(&dir, "csv");
    let text = stdout(&csv);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[1].starts_with("1,"));
    assert!(
        lines[3].contains(r#",update,hipaa_license,lic-clinic,"{""version"":""2026.3""}","#),
        "{text}"
    );
    assert!(lines[3].ends_with(&hashes[2]));
}

#[test]
fn access_review_refuses_a_tampered_ledger() {
    let (dir, _) = ledger_with_three_records("ledger-tampered-for-review");
    let second = dir.join("00000000000000000002.json");
    let text = std::fs::read_to_string(&second).unwrap();
    std::fs::write(&second, text.replace("2026.2", "2027.9")).unwrap();

    let run = Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(["access-review", "--format", "json", "--ledger"])
        .arg(&dir)
        .output()
        .expect("the hipaa binary runs");

    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("chain is not intact"), "{stderr}");
    assert!(
        run.stdout.is_empty(),
        "nothing is exported from a tampered ledger"
    );
}
