//! Inputs that once broke the scanner's fuzz targets, kept in `fuzz/regressions/hcl_loader/`
//! and fed through the same loading and rules: each must load within the loader's limits, or
//! fail with an error that names the input and says what is wrong. The `plan_loader` target
//! has found nothing yet; its inputs would go to `fuzz/regressions/plan_loader/` and be read
//! the same way through `plan::load_slice`.

use hipaa_scanner::error::InputError;
use hipaa_scanner::hcl::{self, HclOptions};
use hipaa_scanner::model::Project;
use hipaa_scanner::{engine, suppress};
use std::path::{Path, PathBuf};

/// A directory that does not exist, as in the fuzz target: nothing is read from disk.
const NO_DIR: &str = "/nonexistent/hipaa-fuzz";

/// The most resource and module instances one load makes (`MAX_TOTAL_INSTANCES` in the HCL
/// loader), so that no input takes unbounded memory.
const MAX_TOTAL_INSTANCES: usize = 200_000;

fn saved_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| (path.clone(), std::fs::read(&path).unwrap()))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no saved inputs in {}", dir.display());
    inputs
}

/// Scans a project that loaded; an error must name the input it came from.
fn check(input: &Path, loaded: Result<Project, InputError>, expected_file: &Path) {
    match loaded {
        Ok(project) => {
            assert!(
                project.resources.len() <= MAX_TOTAL_INSTANCES,
                "{}: {} instances",
                input.display(),
                project.resources.len()
            );
            let _ = suppress::check_comments(&project.suppressions);
            let report = engine::scan(&project);
            let judged = report.findings.len() + report.undetermined.len();
            assert!(
                judged <= project.resources.len() * 64,
                "{}",
                input.display()
            );
        }
        Err(error) => {
            assert_eq!(error.file, expected_file, "{}: {error}", input.display());
            assert!(!error.message.is_empty(), "{}", input.display());
        }
    }
}

#[test]
fn configurations_that_broke_the_loader_fail_cleanly() {
    for (input, bytes) in saved_inputs("hcl_loader") {
        // The fuzz target gives the loader only UTF-8 text, as the disk loader does.
        let text = std::str::from_utf8(&bytes).expect("saved inputs are UTF-8");
        let loaded = hcl::load_sources(
            Path::new(NO_DIR),
            &[("main.tf", text)],
            &HclOptions::default(),
        );
        check(&input, loaded, &Path::new(NO_DIR).join("main.tf"));
    }
}
