//! Runs the real `hipaa` binary over every case in `tests/cases/` and checks the verdicts each
//! case's `expect.json` states.

use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FORMATS: [&str; 4] = ["text", "json", "sarif", "junit"];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

fn scan(target: &Path, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(["scan", "--format", format])
        .arg(target)
        .output()
        .expect("the hipaa binary runs")
}

/// Checks a case that must end in an input error.
fn check_error_case(target: &Path, error: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let run = scan(target, "json");
    let stderr = String::from_utf8_lossy(&run.stderr);

    let want_code = error["exit_code"].as_i64().expect("exit_code is a number");
    if run.status.code().map(i64::from) != Some(want_code) {
        problems.push(format!(
            "exit code {:?}, want {want_code}",
            run.status.code()
        ));
    }
    let file = error["mentions_file"]
        .as_str()
        .expect("mentions_file is a string");
    if !stderr.contains(file) {
        problems.push(format!("error output does not name {file}: {stderr}"));
    }
    if !stderr.chars().any(|c| c.is_ascii_digit()) {
        problems.push("error output gives no line number".to_string());
    }
    if stderr.contains("panicked") {
        problems.push("the scanner panicked".to_string());
    }
    problems
}

/// Checks one case and returns what does not hold.
fn check_case(folder: &Path) -> Vec<String> {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(folder.join("expect.json")).expect("expect.json is readable"),
    )
    .expect("expect.json is JSON");
    let target = folder.join(spec["input"].as_str().unwrap_or("."));
    if let Some(error) = spec.get("error") {
        return check_error_case(&target, error);
    }

    let run = scan(&target, "json");
    let code = run.status.code();
    if !matches!(code, Some(0 | 1)) {
        let stderr = String::from_utf8_lossy(&run.stderr);
        return vec![format!("exit code {code:?}: {stderr}")];
    }
    let report: Value = match serde_json::from_slice(&run.stdout) {
        Ok(report) => report,
        Err(e) => return vec![format!("JSON output unreadable: {e}")],
    };

    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let seen: HashSet<(String, String)> = findings
        .iter()
        .map(|f| {
            let field = |name: &str| f[name].as_str().unwrap_or_default().to_string();
            (field("resource"), field("category"))
        })
        .collect();
    let mut problems = Vec::new();
    if findings.is_empty() != (code == Some(0)) {
        problems.push(format!("exit code {code:?} does not match the findings"));
    }

    for item in spec["expect"].as_array().into_iter().flatten() {
        let resource = item["resource"].as_str().unwrap_or_default().to_string();
        let category = item["category"].as_str().unwrap_or_default().to_string();
        let found = seen.contains(&(resource.clone(), category.clone()));
        match item["verdict"].as_str() {
            Some("fail") if !found => problems.push(format!("missed: {category} on {resource}")),
            Some("pass") if found => {
                problems.push(format!("false alarm: {category} on {resource}"))
            }
            _ => {}
        }
    }

    for address in spec["absent"].as_array().into_iter().flatten() {
        let address = address.as_str().unwrap_or_default();
        if seen.iter().any(|(resource, _)| resource == address) {
            problems.push(format!(
                "reported a resource that does not exist: {address}"
            ));
        }
    }

    for secret in spec["never_printed"].as_array().into_iter().flatten() {
        let secret = secret.as_str().unwrap_or_default();
        for format in FORMATS {
            let run = scan(&target, format);
            let printed = [run.stdout, run.stderr].concat();
            if String::from_utf8_lossy(&printed).contains(secret) {
                problems.push(format!("sensitive value printed in --format {format}"));
            }
        }
    }
    problems
}

#[test]
fn every_case_reaches_its_expected_verdicts() {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.join("expect.json").is_file())
        .collect();
    folders.sort();
    assert!(
        folders.len() >= 17,
        "expected every case, found {}",
        folders.len()
    );

    let mut failures = Vec::new();
    for folder in &folders {
        let name = folder.file_name().unwrap().to_string_lossy().to_string();
        for problem in check_case(folder) {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same cases as published beside the checkout, judged by their own checker. CI always has
/// them; a checkout without `../shared` has only the copies above.
#[test]
fn the_published_case_checker_passes() {
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cases/check.py");
    if !checker.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have {} beside the checkout",
            checker.display()
        );
        eprintln!("skipped: {} is not beside this checkout", checker.display());
        return;
    }

    let run = Command::new("python3")
        .arg(&checker)
        .arg(env!("CARGO_BIN_EXE_hipaa"))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

#[test]
fn a_binary_plan_is_refused_with_the_command_that_converts_it() {
    let dir = std::env::temp_dir().join(format!("hipaa-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let zip = dir.join("tfplan");
    std::fs::write(&zip, b"PK\x03\x04\x14\x00\x08\x00").expect("a zip-like file");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a plan").expect("a text file");

    let run = scan(&zip, "text");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tfplan"), "{stderr}");
    assert!(
        stderr.contains("terraform show -json PLANFILE > plan.json"),
        "{stderr}"
    );

    let run = scan(&text, "text");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("binary plan"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
