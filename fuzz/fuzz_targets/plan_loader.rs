//! Arbitrary bytes as a `terraform show -json` plan, through the plan loader and the rules
//! that `hipaa scan plan.json` runs. Bad input must come back as an error, never a panic.

#![no_main]

use hipaa_scanner::{engine, plan};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(project) = plan::load_slice(Path::new("plan.json"), bytes) {
        let _ = engine::scan(&project);
    }
});
