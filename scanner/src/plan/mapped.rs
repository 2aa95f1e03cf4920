//! A plan file read through a read-only memory map.
//!
//! Parsing a slice is faster than parsing a stream: serde_json scans strings a word at a time
//! instead of asking its reader for each byte, and the file's pages come straight from the
//! page cache, with nothing copied and no fresh memory to zero. The pages the parser has
//! passed are handed back as it goes ([`DropBehind`]), so a map of a 170 MB plan adds a few
//! megabytes to the scan's memory, not 170.
//!
//! A mapped file that another program truncates while it is read would end the process with
//! `SIGBUS`; [`Mapping::open`] installs a handler that ends it with the scanner's own error
//! (exit code 2, naming the file) instead.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Once};

/// How far the parser gets past the pages last handed back before the next are: large enough
/// that the system call is rare, small enough not to count in the scan's memory.
const DROP_STEP: usize = 8 << 20;

/// A whole file mapped read-only; unmapped when dropped.
pub(crate) struct Mapping {
    start: *mut c_void,
    len: usize,
}

// SAFETY: the mapping is read-only memory that no one writes, so reading it from several
// threads at once is safe; handing pages back (`DropBehind`) only makes the kernel read them
// from the file again when touched.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps a regular file of `len` bytes (at least one). The error is the system's.
    pub fn open(file: &File, len: usize, path: &Path) -> io::Result<Mapping> {
        // SAFETY: a fresh read-only private mapping of a file we hold open; the kernel picks
        // the address, so nothing already mapped is replaced.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // Only a hint that the file is read once, front to back: more read-ahead.
        // SAFETY: the range is the mapping just made.
        unsafe { libc::madvise(start, len, libc::MADV_SEQUENTIAL) };
        bus_guard::watch(start as usize, len, path);
        Ok(Mapping { start, len })
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes and lives as long as `self`. Its pages
        // may be handed back (see `DropBehind`), which for a private read-only file mapping
        // means they are read from the file again if touched, with the same content.
        unsafe { std::slice::from_raw_parts(self.start as *const u8, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        bus_guard::forget(self.start as usize);
        // SAFETY: the mapping made in `open`, unmapped once.
        unsafe { libc::munmap(self.start, self.len) };
    }
}

/// Hands back the pages of a mapping that the parser has passed.
pub(crate) struct DropBehind {
    mapping: Arc<Mapping>,
    /// Up to where, from the start of the mapping, pages were handed back.
    released: usize,
}

impl DropBehind {
    pub fn new(mapping: Arc<Mapping>) -> DropBehind {
        DropBehind::from(mapping, 0)
    }

    /// For a parser that starts reading at `offset` and never reads before it: only pages
    /// from there on are handed back, so another parser reading before it keeps its pages.
    pub fn from(mapping: Arc<Mapping>, offset: usize) -> DropBehind {
        let page = page_size();
        DropBehind {
            mapping,
            released: offset.div_ceil(page) * page,
        }
    }

    /// Says that the parser is at `at`, a pointer into the mapping (a string it borrowed from
    /// it), and never reads before it again. Pointers elsewhere are ignored.
    pub fn passed(&mut self, at: *const u8) {
        let start = self.mapping.start as usize;
        let Some(offset) = (at as usize).checked_sub(start) else {
            return;
        };
        if offset > self.mapping.len || offset < self.released.saturating_add(DROP_STEP) {
            return;
        }
        let page = page_size();
        let until = offset / page * page;
        // SAFETY: a page-aligned range inside the mapping. DONTNEED on a private file mapping
        // that was never written drops the pages; touching them again reads the file again.
        unsafe {
            libc::madvise(
                (start + self.released) as *mut c_void,
                until - self.released,
                libc::MADV_DONTNEED,
            )
        };
        self.released = until;
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf reads a constant of the system.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(4096)
}

/// Turns a `SIGBUS` on a mapped plan (the file was truncated while being read) into the
/// scanner's error for a file it could not read. One plan is mapped at a time.
mod bus_guard {
    use super::*;

    static START: AtomicUsize = AtomicUsize::new(0);
    static LEN: AtomicUsize = AtomicUsize::new(0);
    /// The whole line to print, leaked once per mapped plan: a signal handler may not allocate.
    static MESSAGE: AtomicPtr<Vec<u8>> = AtomicPtr::new(std::ptr::null_mut());
    static INSTALL: Once = Once::new();

    pub(super) fn watch(start: usize, len: usize, path: &Path) {
        let message = format!(
            "error: {}: the file changed while it was being read (it is shorter than when the \
             scan began); expected a plan file no other program writes during the scan\n",
            path.display()
        );
        MESSAGE.store(
            Box::into_raw(Box::new(message.into_bytes())),
            Ordering::SeqCst,
        );
        LEN.store(len, Ordering::SeqCst);
        START.store(start, Ordering::SeqCst);
        INSTALL.call_once(install);
    }

    pub(super) fn forget(start: usize) {
        let _ = START.compare_exchange(start, 0, Ordering::SeqCst, Ordering::SeqCst);
    }

    fn install() {
        // SAFETY: sigaction with a handler that only reads atomics, writes to standard error
        // and ends the process, all async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                on_bus_error;
            action.sa_sigaction = handler as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    }

    extern "C" fn on_bus_error(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let address = unsafe { (*info).si_addr() } as usize;
        let start = START.load(Ordering::SeqCst);
        let len = LEN.load(Ordering::SeqCst);
        if start == 0 || address < start || address >= start + len {
            // Not the plan: let the signal do what it would have done.
            // SAFETY: restoring the default action; the fault happens again and ends the
            // process as it would have without this handler.
            unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
            return;
        }
        let message = MESSAGE.load(Ordering::SeqCst);
        // SAFETY: `message` was leaked by `watch` and is never freed.
        unsafe {
            if !message.is_null() {
                let text = &*message;
                libc::write(2, text.as_ptr() as *const c_void, text.len());
            }
            libc::_exit(2);
        }
    }
}
