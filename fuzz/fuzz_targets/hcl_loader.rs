//! Arbitrary bytes as the text of one `.tf` file, through the loading, evaluation and rules
//! that `hipaa scan DIR` runs. Bad input must come back as an error, never a panic.

#![no_main]

use hipaa_scanner::hcl::{self, HclOptions};
use hipaa_scanner::{engine, suppress};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// A directory that does not exist: module sources and variable files are looked for there,
/// so nothing is read from disk.
const NO_DIR: &str = "/nonexistent/hipaa-fuzz";

fuzz_target!(|bytes: &[u8]| {
    // The disk loader refuses text that is not UTF-8 before parsing; so does this.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(project) = hcl::load_sources(
        Path::new(NO_DIR),
        &[("main.tf", text)],
        &HclOptions::default(),
    ) else {
        return;
    };
    let _ = suppress::check_comments(&project.suppressions);
    let _ = engine::scan(&project);
});
