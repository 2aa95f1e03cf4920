//! A tamper-evident attestation ledger: an append-only chain of records, each sealed with a
//! SHA-256 hash over its canonical encoding, previous record's hash included. Editing,
//! removing or reordering any record breaks the chain at that record, and [`verify`] says
//! which.
//!
//! The directory backend keeps one file per record, named by sequence number. A record is
//! written to a temporary file, flushed to disk, then *linked* to its final name; linking never
//! replaces an existing file, so when two writers (two Terraform runs) race for the same
//! sequence number exactly one wins and the other re-reads the head and tries the next number.
//! A writer killed at any point leaves either the whole record under its final name or no
//! record at all, plus at most one `.pending-*` file of its own. Readers and [`verify`] ignore
//! such files, so they are left where they are: removing one is safe once no writer of the
//! ledger is running, and never needed.
//!
//! Records hold declarations only, never secrets: attribute names that look like credentials
//! are refused.
//!
//! Known shortcoming: cutting records off the *end* of the chain leaves a valid, shorter chain.
//! [`verify`] reports the head hash so it can be kept elsewhere (a state file, a ticket) and
//! compared with [`Report::head_matches`], or with [`Report::holds`] once the ledger has grown
//! (`hipaa ledger verify DIR --expect-head HASH`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The previous hash of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Prefixed to every hashed encoding so a record hash can never be mistaken for another hash.
const HASH_DOMAIN: &[u8] = b"hipaa-ledger/v1\n";

/// Words in an attribute name that mark a value the ledger must never hold.
const SECRET_WORDS: &[&str] = &["password", "secret", "token", "private_key", "credential"];

/// How many times an append retries after losing a race for a sequence number.
pub const MAX_APPEND_ATTEMPTS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// The declaration was destroyed; the history stays.
    Retire,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Retire => "retire",
        }
    }
}

/// What a caller asks to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub action: Action,
    pub resource_type: String,
    pub resource_id: String,
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// A sealed record of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub sequence: u64,
    /// Seconds since 1970-01-01 UTC.
    pub recorded_at: u64,
    pub action: Action,
    pub resource_type: String,
    pub resource_id: String,
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub previous_hash: String,
    pub hash: String,
}

impl Record {
    /// Seals `entry` as the record that follows `previous` (the first record when `None`),
    /// stamped with the current time. Every backend makes its records here, so the chain is
    /// the same wherever it is stored.
    pub fn next(previous: Option<&Record>, entry: Entry) -> Record {
        let sequence = previous.map_or(1, |record| record.sequence + 1);
        let previous_hash = previous
            .map(|record| record.hash.clone())
            .unwrap_or_else(|| GENESIS_HASH.to_string());
        Record::seal(sequence, previous_hash, entry, now())
    }

    pub fn seal(sequence: u64, previous_hash: String, entry: Entry, recorded_at: u64) -> Record {
        let mut record = Record {
            sequence,
            recorded_at,
            action: entry.action,
            resource_type: entry.resource_type,
            resource_id: entry.resource_id,
            attributes: entry.attributes,
            previous_hash,
            hash: String::new(),
        };
        record.hash = record.computed_hash();
        record
    }

    /// SHA-256 over the canonical encoding of everything but the hash itself.
    pub fn computed_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(HASH_DOMAIN);
        hasher.update(self.canonical_body().as_bytes());
        hex(&hasher.finalize())
    }

    /// The record's fields in a fixed order with sorted attribute keys and no whitespace, so
    /// the same record always hashes the same whatever JSON library wrote the file.
    fn canonical_body(&self) -> String {
        let mut out = String::from("{");
        out.push_str(&format!("\"sequence\":{}", self.sequence));
        out.push_str(&format!(",\"recorded_at\":{}", self.recorded_at));
        out.push_str(&format!(
            ",\"action\":{}",
            json_string(self.action.as_str())
        ));
        out.push_str(&format!(
            ",\"resource_type\":{}",
            json_string(&self.resource_type)
        ));
        out.push_str(&format!(
            ",\"resource_id\":{}",
            json_string(&self.resource_id)
        ));
        out.push_str(",\"attributes\":");
        canonical_json(
            &serde_json::Value::Object(self.attributes.clone().into_iter().collect()),
            &mut out,
        );
        out.push_str(&format!(
            ",\"previous_hash\":{}",
            json_string(&self.previous_hash)
        ));
        out.push('}');
        out
    }

    /// The stored form (a file, an object): the canonical body with the hash added.
    pub fn to_text(&self) -> String {
        let body = self.canonical_body();
        format!(
            "{},\"hash\":{}}}\n",
            &body[..body.len() - 1],
            json_string(&self.hash)
        )
    }
}

/// The name a record is stored under: its sequence number, zero-padded so names sort in
/// chain order (`00000000000000000001.json`).
pub fn record_name(sequence: u64) -> String {
    format!("{sequence:020}.json")
}

/// The sequence number a stored name stands for, when it is a record's name.
pub fn sequence_of(name: &str) -> Option<u64> {
    let number = name.strip_suffix(".json")?;
    if number.len() != 20 {
        return None;
    }
    number.parse().ok()
}

/// Refuses an entry with an attribute whose name looks like a secret: the ledger is read by
/// auditors and kept for years, so it must never hold one.
pub fn refuse_secrets(entry: &Entry) -> Result<(), LedgerError> {
    match entry.attributes.keys().find(|name| is_secret_name(name)) {
        Some(name) => Err(LedgerError::SensitiveAttribute(name.clone())),
        None => Ok(()),
    }
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// JSON with object keys sorted at every depth.
fn canonical_json(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(fields) => {
            let sorted: BTreeMap<&String, &serde_json::Value> = fields.iter().collect();
            out.push('{');
            for (position, (key, item)) in sorted.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(key));
                out.push(':');
                canonical_json(item, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Debug)]
pub enum LedgerError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Corrupt {
        path: PathBuf,
        reason: String,
    },
    SensitiveAttribute(String),
    Contended,
    /// A remote store (an object store) refused or failed a request.
    Store {
        location: String,
        reason: String,
    },
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            LedgerError::Corrupt { path, reason } => {
                write!(f, "{}: not a ledger record: {reason}", path.display())
            }
            LedgerError::SensitiveAttribute(name) => write!(
                f,
                "attribute {name:?} looks like a secret and is never written to the ledger"
            ),
            LedgerError::Contended => write!(
                f,
                "gave up appending after {MAX_APPEND_ATTEMPTS} lost races for a sequence number"
            ),
            LedgerError::Store { location, reason } => write!(f, "{location}: {reason}"),
        }
    }
}

impl std::error::Error for LedgerError {}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |error| LedgerError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Where records are kept: a directory here, an S3 bucket in `hipaa-cloud`. Every backend gives
/// the same guarantee: appending never overwrites a sequence number.
pub trait LedgerBackend: Send + Sync {
    /// Seals `entry` as the next record and stores it; returns the sealed record.
    fn append(&self, entry: Entry) -> Result<Record, LedgerError>;

    /// Every record, oldest first.
    fn records(&self) -> Result<Vec<Record>, LedgerError>;

    /// The newest record about one resource, if any.
    fn latest(
        &self,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Record>, LedgerError> {
        Ok(self
            .records()?
            .into_iter()
            .rev()
            .find(|r| r.resource_type == resource_type && r.resource_id == resource_id))
    }
}

/// Records as files `00000000000000000001.json`, … in one directory.
pub struct DirectoryLedger {
    dir: PathBuf,
    /// Records read so far; later appends (by this or another process) are read on demand.
    cache: Mutex<Vec<Record>>,
}

impl DirectoryLedger {
    /// Opens the ledger in `dir`. Nothing is read or made yet: the directory is made by the
    /// first append, so that reading (a plan) leaves no trace.
    pub fn open(dir: impl Into<PathBuf>) -> DirectoryLedger {
        DirectoryLedger {
            dir: dir.into(),
            cache: Mutex::new(Vec::new()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, sequence: u64) -> PathBuf {
        record_path(&self.dir, sequence)
    }

    /// Reads records past the cached ones until the next sequence number has no file.
    fn catch_up(&self, cache: &mut Vec<Record>) -> Result<(), LedgerError> {
        loop {
            let next = cache.len() as u64 + 1;
            let path = self.record_path(next);
            match fs::read_to_string(&path) {
                Ok(text) => cache.push(parse_record(&path, &text)?),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(error) => return Err(LedgerError::Io { path, error }),
            }
        }
    }

    /// Writes `record` under its sequence number unless that number is taken. `Ok(false)`
    /// means another writer got there first.
    fn claim(&self, record: &Record) -> Result<bool, LedgerError> {
        let temporary = self.dir.join(format!(
            ".pending-{}-{}-{}",
            std::process::id(),
            record.sequence,
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let written = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)?;
            file.write_all(record.to_text().as_bytes())?;
            file.sync_all()
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temporary);
            return Err(LedgerError::Io {
                path: temporary,
                error,
            });
        }

        let final_path = self.record_path(record.sequence);
        let linked = fs::hard_link(&temporary, &final_path);
        let _ = fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(true)
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(LedgerError::Io {
                path: final_path,
                error,
            }),
        }
    }
}

impl LedgerBackend for DirectoryLedger {
    fn append(&self, entry: Entry) -> Result<Record, LedgerError> {
        refuse_secrets(&entry)?;
        fs::create_dir_all(&self.dir).map_err(io_error(&self.dir))?;
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for _ in 0..MAX_APPEND_ATTEMPTS {
            self.catch_up(&mut cache)?;
            let record = Record::next(cache.last(), entry.clone());
            if self.claim(&record)? {
                cache.push(record.clone());
                return Ok(record);
            }
        }
        Err(LedgerError::Contended)
    }

    fn records(&self) -> Result<Vec<Record>, LedgerError> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.catch_up(&mut cache)?;
        Ok(cache.clone())
    }

    /// Searches the cache in place: a plan of many resources asks once per resource, and
    /// copying every record each time would make that quadratic in memory traffic.
    fn latest(
        &self,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Record>, LedgerError> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.catch_up(&mut cache)?;
        Ok(cache
            .iter()
            .rev()
            .find(|r| r.resource_type == resource_type && r.resource_id == resource_id)
            .cloned())
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether an attribute name looks like it holds a secret (password, token, private key...).
pub fn is_secret_name(name: &str) -> bool {
    let lowered = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| lowered.contains(word))
}

fn record_path(dir: &Path, sequence: u64) -> PathBuf {
    dir.join(record_name(sequence))
}

/// Makes a new directory entry durable: without this a crash can lose a linked record.
fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error(dir))
}

fn parse_record(path: &Path, text: &str) -> Result<Record, LedgerError> {
    Record::parse(text).map_err(|reason| LedgerError::Corrupt {
        path: path.to_path_buf(),
        reason,
    })
}

impl Record {
    /// Reads a record from its stored form.
    pub fn parse(text: &str) -> Result<Record, String> {
        serde_json::from_str(text).map_err(|error| error.to_string())
    }
}

/// Something wrong with one record of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No file for this sequence number although later ones exist: a record was removed.
    Missing { sequence: u64 },
    /// The file cannot be read as a record.
    Unreadable { file: String, reason: String },
    /// The record's content no longer matches its hash: it was edited.
    Edited { sequence: u64 },
    /// The file's name and the sequence number inside disagree: records were moved or
    /// reordered.
    Misplaced { file: String, sequence: u64 },
    /// The record does not link to the hash of the record before it.
    BrokenLink { sequence: u64 },
    /// The store shows the record was tampered with in a way the content alone cannot show
    /// (an object store's older versions of it), or it is not kept as the ledger demands
    /// (without the required encryption).
    Storage { file: String, reason: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { sequence } => write!(f, "record {sequence} is missing"),
            Problem::Unreadable { file, reason } => write!(f, "{file} is unreadable: {reason}"),
            Problem::Edited { sequence } => {
                write!(
                    f,
                    "record {sequence} was edited: its hash does not match its content"
                )
            }
            Problem::Misplaced { file, sequence } => write!(
                f,
                "{file} holds record {sequence}: records were moved or reordered"
            ),
            Problem::BrokenLink { sequence } => write!(
                f,
                "record {sequence} does not follow the record before it: the chain is broken"
            ),
            Problem::Storage { file, reason } => write!(f, "{file}: {reason}"),
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub records: u64,
    /// The newest record's hash: keep it elsewhere to detect records cut off the end.
    pub head: Option<String>,
    pub problems: Vec<Problem>,
    /// Every record's hash, oldest first.
    pub hashes: Vec<String>,
}

impl Report {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn head_matches(&self, expected: &str) -> bool {
        self.head.as_deref() == Some(expected)
    }

    /// Whether a head kept from an earlier verification is still in the chain: the ledger may
    /// have grown since, but nothing up to that record was cut off or replaced.
    pub fn holds(&self, earlier_head: &str) -> bool {
        self.hashes.iter().any(|hash| hash == earlier_head)
    }
}

/// Checks every record in `dir`: numbering without gaps, each hash matching its content, and
/// each record linked to the one before. Reports every problem found, not just the first.
pub fn verify(dir: &Path) -> Result<Report, LedgerError> {
    let mut names: BTreeMap<u64, String> = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(sequence) = sequence_of(&name) {
            names.insert(sequence, name);
        }
    }
    Ok(verify_stored(&names, |name| {
        fs::read_to_string(dir.join(name)).map_err(|error| error.to_string())
    }))
}

/// Checks a chain kept in any store: `names` maps each sequence number found to the name it is
/// stored under, and `read` fetches a stored record's text by that name (or says why it
/// cannot). Reads one record at a time, oldest first.
pub fn verify_stored(
    names: &BTreeMap<u64, String>,
    mut read: impl FnMut(&str) -> Result<String, String>,
) -> Report {
    let mut problems = Vec::new();
    let mut hashes = Vec::new();
    let last = names.keys().next_back().copied().unwrap_or(0);
    let mut previous_hash = Some(GENESIS_HASH.to_string());
    for sequence in 1..=last {
        let Some(file) = names.get(&sequence) else {
            problems.push(Problem::Missing { sequence });
            previous_hash = None;
            continue;
        };
        let record = match read(file).and_then(|text| Record::parse(&text)) {
            Ok(record) => record,
            Err(reason) => {
                problems.push(Problem::Unreadable {
                    file: file.clone(),
                    reason,
                });
                previous_hash = None;
                continue;
            }
        };

        if record.computed_hash() != record.hash {
            problems.push(Problem::Edited { sequence });
        }
        if record.sequence != sequence {
            problems.push(Problem::Misplaced {
                file: file.clone(),
                sequence: record.sequence,
            });
        }
        // After a missing or unreadable record there is nothing to link to; the gap itself
        // is already reported.
        if let Some(expected) = &previous_hash {
            if &record.previous_hash != expected {
                problems.push(Problem::BrokenLink { sequence });
            }
        }
        hashes.push(record.hash.clone());
        previous_hash = Some(record.hash);
    }

    Report {
        records: names.len() as u64,
        head: if last == 0 { None } else { previous_hash },
        problems,
        hashes,
    }
}

#[cfg(test)]
mod tests;
