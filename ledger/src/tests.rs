use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory per test, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "hipaa-ledger-test-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn entry(action: Action, id: &str, name: &str) -> Entry {
    let mut attributes = BTreeMap::new();
    attributes.insert("name".to_string(), serde_json::json!(name));
    attributes.insert("days".to_string(), serde_json::json!(60));
    Entry {
        action,
        resource_type: "hipaa_license".to_string(),
        resource_id: id.to_string(),
        attributes,
    }
}

fn ledger_with_three(dir: &Path) -> DirectoryLedger {
    let ledger = DirectoryLedger::open(dir);
    ledger.append(entry(Action::Create, "a", "one")).unwrap();
    ledger.append(entry(Action::Update, "a", "two")).unwrap();
    ledger.append(entry(Action::Retire, "a", "two")).unwrap();
    ledger
}

#[test]
fn appended_records_chain_and_verify() {
    let dir = TempDir::new();
    let ledger = ledger_with_three(&dir.0);

    let records = ledger.records().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].previous_hash, GENESIS_HASH);
    assert_eq!(records[1].previous_hash, records[0].hash);
    assert_eq!(records[2].action, Action::Retire);

    let report = verify(&dir.0).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 3);
    assert!(report.head_matches(&records[2].hash));
    assert_eq!(
        ledger
            .latest("hipaa_license", "a")
            .unwrap()
            .unwrap()
            .sequence,
        3
    );
}

#[test]
fn an_edited_record_is_named() {
    let dir = TempDir::new();
    ledger_with_three(&dir.0);
    let path = record_path(&dir.0, 2);
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("\"two\"", "\"TWO\"");
    fs::write(&path, text).unwrap();

    let report = verify(&dir.0).unwrap();
    assert_eq!(report.problems, vec![Problem::Edited { sequence: 2 }]);
}

#[test]
fn an_edit_that_also_fixes_the_hash_breaks_the_next_link() {
    let dir = TempDir::new();
    ledger_with_three(&dir.0);
    let path = record_path(&dir.0, 2);
    let mut record: Record = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    record
        .attributes
        .insert("days".to_string(), serde_json::json!(90));
    record.hash = record.computed_hash();
    fs::write(&path, record.to_text()).unwrap();

    let report = verify(&dir.0).unwrap();
    assert_eq!(report.problems, vec![Problem::BrokenLink { sequence: 3 }]);
}

#[test]
fn a_removed_record_is_named() {
    let dir = TempDir::new();
    ledger_with_three(&dir.0);
    fs::remove_file(record_path(&dir.0, 2)).unwrap();

    let report = verify(&dir.0).unwrap();
    assert_eq!(report.problems, vec![Problem::Missing { sequence: 2 }]);
}

#[test]
fn reordered_records_are_named() {
    let dir = TempDir::new();
    ledger_with_three(&dir.0);
    let second = fs::read(record_path(&dir.0, 2)).unwrap();
    let third = fs::read(record_path(&dir.0, 3)).unwrap();
    fs::write(record_path(&dir.0, 2), third).unwrap();
    fs::write(record_path(&dir.0, 3), second).unwrap();

    let report = verify(&dir.0).unwrap();
    assert!(report.problems.contains(&Problem::Misplaced {
        file: "00000000000000000002.json".to_string(),
        sequence: 3
    }));
    assert!(report
        .problems
        .contains(&Problem::BrokenLink { sequence: 2 }));
    assert!(report
        .problems
        .contains(&Problem::BrokenLink { sequence: 3 }));
}

#[test]
fn two_writers_never_take_the_same_sequence_number() {
    let dir = TempDir::new();
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let dir = dir.0.clone();
            std::thread::spawn(move || {
                // Separate ledgers share nothing in memory, like two Terraform processes.
                let ledger = DirectoryLedger::open(&dir);
                for n in 0..40 {
                    let id = format!("w{writer}-{n}");
                    ledger.append(entry(Action::Create, &id, "x")).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }

    let report = verify(&dir.0).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 80);
    let records = DirectoryLedger::open(&dir.0).records().unwrap();
    let mut ids: Vec<_> = records.iter().map(|r| r.resource_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 80);
    let leftovers = fs::read_dir(&dir.0)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn secret_looking_attributes_are_refused() {
    let dir = TempDir::new();
    let ledger = DirectoryLedger::open(&dir.0);
    let mut bad = entry(Action::Create, "a", "x");
    bad.attributes
        .insert("db_password".to_string(), serde_json::json!("hunter2"));
    let error = ledger.append(bad).unwrap_err();
    assert!(matches!(error, LedgerError::SensitiveAttribute(ref name) if name == "db_password"));
    assert_eq!(ledger.records().unwrap().len(), 0);
}

#[test]
fn hash_ignores_key_order_of_attributes() {
    let mut attributes = BTreeMap::new();
    attributes.insert(
        "z".to_string(),
        serde_json::json!({"b": 1, "a": [true, null]}),
    );
    let record = Record::seal(
        1,
        GENESIS_HASH.to_string(),
        Entry {
            action: Action::Create,
            resource_type: "t".to_string(),
            resource_id: "i".to_string(),
            attributes,
        },
        0,
    );
    assert!(record.to_text().contains(r#""z":{"a":[true,null],"b":1}"#));
    let parsed: Record = serde_json::from_str(&record.to_text()).unwrap();
    assert_eq!(parsed.computed_hash(), record.hash);
}

#[test]
fn record_names_round_trip_and_other_names_are_not_records() {
    assert_eq!(record_name(42), "00000000000000000042.json");
    assert_eq!(sequence_of(&record_name(42)), Some(42));
    assert_eq!(sequence_of("42.json"), None);
    assert_eq!(sequence_of(".pending-1-2-3"), None);
    assert_eq!(sequence_of("0000000000000000000x.json"), None);
}

#[test]
fn the_next_record_links_to_the_one_given() {
    let first = Record::next(None, entry(Action::Create, "a", "one"));
    let second = Record::next(Some(&first), entry(Action::Update, "a", "two"));

    assert_eq!(first.sequence, 1);
    assert_eq!(first.previous_hash, GENESIS_HASH);
    assert_eq!(second.sequence, 2);
    assert_eq!(second.previous_hash, first.hash);
    assert_eq!(Record::parse(&second.to_text()), Ok(second));
}

#[test]
fn a_chain_in_any_store_is_verified_by_name() {
    let first = Record::next(None, entry(Action::Create, "a", "one"));
    let second = Record::next(Some(&first), entry(Action::Update, "a", "two"));
    let stored: BTreeMap<String, String> = [&first, &second]
        .into_iter()
        .map(|record| (record_name(record.sequence), record.to_text()))
        .collect();
    let names: BTreeMap<u64, String> = stored
        .keys()
        .map(|name| (sequence_of(name).unwrap(), name.clone()))
        .collect();

    let report = verify_stored(
        &names,
        |name| Ok(stored[name].replace("\"two\"", "\"TWO\"")),
    );

    assert_eq!(report.records, 2);
    assert_eq!(report.problems, vec![Problem::Edited { sequence: 2 }]);
}
