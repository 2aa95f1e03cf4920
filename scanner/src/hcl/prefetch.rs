//! Reads local module directories ahead of the evaluation that needs them, on a thread of its
//! own: parsing is a fifth of the time of a large tree, and the evaluation of the calling
//! module can go on meanwhile.
//!
//! Only modules named by a local path (`./modules/x`) are read ahead, each directory once, its
//! own local modules after it. The loader takes a directory read ahead only when it names it
//! the same way (the same display path), so that findings and errors read exactly as they
//! would without this; otherwise, or when the directory was never read ahead, it reads the
//! directory itself, and the reader then leaves it alone.

use super::config::ModuleConfig;
use super::source::{display_join, normalize};
use crate::error::InputError;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Where one directory is.
enum Slot {
    /// The reader is reading it.
    Reading,
    /// Read, and not yet taken: the display path it was read under, and what reading gave.
    Read(PathBuf, Box<Result<ModuleConfig, InputError>>),
    /// The loader took it, or reads it itself.
    Claimed,
}

#[derive(Default)]
struct Slots {
    by_dir: HashMap<PathBuf, Slot>,
}

/// The slots, and the signal that one was read; shared with the reading thread.
type SlotTable = Arc<(Mutex<Slots>, Condvar)>;

/// The reading-ahead thread and what it has read.
pub(crate) struct Prefetcher {
    table: SlotTable,
    /// Directories to read, with their display paths.
    jobs: mpsc::Sender<(PathBuf, PathBuf)>,
}

impl Prefetcher {
    /// Starts the reading thread; `None` when no thread can be started.
    pub fn start() -> Option<Prefetcher> {
        let table: SlotTable = Arc::default();
        let (jobs, incoming) = mpsc::channel();
        let reader_table = table.clone();
        std::thread::Builder::new()
            .name("read-modules".to_string())
            .spawn(move || read_ahead(&reader_table, &incoming))
            .ok()?;
        Some(Prefetcher { table, jobs })
    }

    /// Asks for these directories (see [`local_calls`]) to be read.
    pub fn read(&self, calls: Vec<(PathBuf, PathBuf)>) {
        for (dir, display) in calls {
            // The thread ends only when this sender is gone; nothing to do if it did.
            let _ = self.jobs.send((dir, display));
        }
    }

    /// The configuration of `dir` if it was read ahead under `display`; waits while it is being
    /// read. `None` when the caller should read it, which it then owns.
    pub fn take(&self, dir: &Path, display: &Path) -> Option<Result<ModuleConfig, InputError>> {
        let key = normalize(dir);
        let (slots, read) = &*self.table;
        let mut slots = lock(slots);
        loop {
            match slots.by_dir.get(&key) {
                Some(Slot::Reading) => slots = read.wait(slots).unwrap_or_else(|e| e.into_inner()),
                Some(Slot::Read(..)) => {
                    let Some(Slot::Read(read_as, outcome)) =
                        slots.by_dir.insert(key, Slot::Claimed)
                    else {
                        return None;
                    };
                    return (read_as == display).then_some(*outcome);
                }
                Some(Slot::Claimed) => return None,
                None => {
                    slots.by_dir.insert(key, Slot::Claimed);
                    return None;
                }
            }
        }
    }
}

fn lock(slots: &Mutex<Slots>) -> MutexGuard<'_, Slots> {
    // A panic while the lock was held left nothing half-written that matters here.
    slots.lock().unwrap_or_else(|e| e.into_inner())
}

/// The reading thread: each directory asked for or called locally by one read, once.
fn read_ahead(table: &SlotTable, incoming: &mpsc::Receiver<(PathBuf, PathBuf)>) {
    let (slots, read) = &**table;
    let mut queue: VecDeque<(PathBuf, PathBuf)> = VecDeque::new();
    loop {
        let Some((dir, display)) = queue.pop_front().or_else(|| incoming.recv().ok()) else {
            return;
        };
        if !dir.is_dir() {
            continue;
        }
        let key = normalize(&dir);
        {
            let mut slots = lock(slots);
            if slots.by_dir.contains_key(&key) {
                continue;
            }
            slots.by_dir.insert(key.clone(), Slot::Reading);
        }

        let outcome = ModuleConfig::read_dir(&dir, &display);
        if let Ok(config) = &outcome {
            queue.extend(local_calls(config));
        }
        let slot = Slot::Read(display, Box::new(outcome));
        lock(slots).by_dir.insert(key, slot);
        read.notify_all();
    }
}

/// The directories and display paths of the modules `config` calls by a local path, as the
/// loader resolves them.
pub(crate) fn local_calls(config: &ModuleConfig) -> Vec<(PathBuf, PathBuf)> {
    config
        .modules
        .iter()
        .filter_map(|call| call.body.get_attribute("source")?.value.as_str())
        .filter(|source| is_local_source(source))
        .map(|source| {
            (
                config.dir.join(source),
                display_join(&config.display_dir, source),
            )
        })
        .collect()
}

/// Whether a module source is a path on this machine rather than something to download.
pub(crate) fn is_local_source(source: &str) -> bool {
    source == "."
        || source == ".."
        || source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with(".\\")
        || source.starts_with("..\\")
}
