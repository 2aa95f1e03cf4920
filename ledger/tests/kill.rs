//! A writer killed at any point of an append leaves the ledger whole. The test binary runs
//! itself again as the writer (a child process appending in a loop), SIGKILLs it after a
//! random delay, and checks that every append the child had finished is still there, the
//! chain verifies, and the next append links to the last record.
//!
//! The delays come from a seeded generator; the seed is printed with every failure and can be
//! set with `HIPAA_KILL_SEED` to replay a run.

use hipaa_ledger::{verify, Action, DirectoryLedger, Entry, LedgerBackend};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Set in the child's environment to the ledger directory it appends to.
const WRITER_DIR_ENV: &str = "HIPAA_LEDGER_KILL_WRITER_DIR";
/// Set to replay the delays of an earlier run.
const SEED_ENV: &str = "HIPAA_KILL_SEED";
/// What the child prints after each append returns: the prefix, the sequence and the hash.
const APPENDED: &str = "appended";

const KILLS: usize = 30;
/// The longest a child runs before it is killed, once it has appended its first record.
const MAX_DELAY_MICROS: u64 = 40_000;

/// splitmix64: enough randomness for kill delays, and replayable from one number.
struct Delays(u64);

impl Delays {
    fn next_micros(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound
    }
}

fn seed() -> u64 {
    match std::env::var(SEED_ENV) {
        Ok(text) => text.parse().expect("HIPAA_KILL_SEED must be a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    }
}

fn entry(id: &str) -> Entry {
    let mut attributes = BTreeMap::new();
    attributes.insert("name".to_string(), serde_json::json!(id));
    attributes.insert("days".to_string(), serde_json::json!(60));
    Entry {
        action: Action::Create,
        resource_type: "hipaa_license".to_string(),
        resource_id: id.to_string(),
        attributes,
    }
}

/// The child's whole life: append until killed, reporting each finished append.
fn append_until_killed(dir: &Path) -> ! {
    use std::io::Write;
    let ledger = DirectoryLedger::open(dir);
    let mut stdout = std::io::stdout().lock();
    for n in 0.. {
        let record = ledger
            .append(entry(&format!("p{}-{n}", std::process::id())))
            .expect("append in the writer");
        writeln!(stdout, "{APPENDED} {} {}", record.sequence, record.hash).unwrap();
        stdout.flush().unwrap();
    }
    unreachable!("the writer appends until it is killed")
}

/// Starts this test binary again as a writer of `dir`; its report lines arrive on the channel.
fn spawn_writer(dir: &Path) -> (std::process::Child, mpsc::Receiver<(u64, String)>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_writer_killed_mid_append_never_breaks_the_ledger",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_DIR_ENV, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let mut fields = line.split_whitespace();
            if fields.next() != Some(APPENDED) {
                continue;
            }
            let (Some(sequence), Some(hash)) = (fields.next(), fields.next()) else {
                continue;
            };
            if sender
                .send((sequence.parse().unwrap(), hash.to_string()))
                .is_err()
            {
                return;
            }
        }
    });
    (child, receiver)
}

fn pending_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with(".pending-"))
        .collect()
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_writer_killed_mid_append_never_breaks_the_ledger() {
    if let Some(dir) = std::env::var_os(WRITER_DIR_ENV) {
        append_until_killed(Path::new(&dir));
    }

    let seed = seed();
    let replay = format!("replay with {SEED_ENV}={seed}");
    let mut delays = Delays(seed);
    let dir =
        TempDir(std::env::temp_dir().join(format!("hipaa-ledger-kill-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);

    // Every append a writer finished, by sequence number: these must survive every kill.
    let mut acknowledged: BTreeMap<u64, String> = BTreeMap::new();
    for kill in 0..KILLS {
        let (mut child, reports) = spawn_writer(&dir.0);
        let first = reports.recv_timeout(Duration::from_secs(60));
        assert!(
            first.is_ok(),
            "kill {kill}: the writer never appended; {replay}"
        );
        let delay = Duration::from_micros(delays.next_micros(MAX_DELAY_MICROS));
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        acknowledged.extend(first.into_iter().chain(reports.try_iter()));

        let report = verify(&dir.0).unwrap();
        assert!(
            report.is_intact(),
            "kill {kill} after {delay:?}: {:?}; {replay}",
            report.problems
        );
        let hashes = &report.hashes;
        for (sequence, hash) in &acknowledged {
            assert_eq!(
                hashes.get(*sequence as usize - 1),
                Some(hash),
                "kill {kill} after {delay:?}: acknowledged record {sequence} lost; {replay}"
            );
        }
        // A writer dies with at most the one append it was making unfinished.
        assert!(
            pending_files(&dir.0).len() <= kill + 1,
            "kill {kill}: {:?}; {replay}",
            pending_files(&dir.0)
        );
    }

    // Leftover temporary files are ignored: the next append chains onto the last record.
    let before = verify(&dir.0).unwrap();
    let ledger = DirectoryLedger::open(&dir.0);
    let next = ledger.append(entry("after-the-kills")).unwrap();
    assert_eq!(next.sequence, before.records + 1, "{replay}");
    assert_eq!(Some(&next.previous_hash), before.head.as_ref(), "{replay}");
    let after = verify(&dir.0).unwrap();
    assert!(after.is_intact(), "{:?}; {replay}", after.problems);
    assert_eq!(after.records, before.records + 1, "{replay}");
}
