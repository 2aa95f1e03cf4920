//! Loads a plan the way the scanner does, or parses it the plain ways, to compare time and
//! peak memory.
//!
//! `floor` is the mode `scripts/bench.sh` reports as the floor for any loader: the whole file
//! read into memory, then one validating serde_json pass into `serde::de::IgnoredAny`, which
//! builds nothing. Its peak memory is about the file's size.
//!
//! ```text
//! cargo run --release -p hipaa-bench --example load_plan -- loader plan.json
//! cargo run --release -p hipaa-bench --example load_plan -- serde-value plan.json
//! cargo run --release -p hipaa-bench --example load_plan -- floor plan.json
//! cargo run --release -p hipaa-bench --example load_plan -- serde-ignore-stream plan.json
//! ```

use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, path] = args.as_slice() else {
        eprintln!("usage: load_plan MODE PLAN.json (see the source for the modes)");
        std::process::exit(2);
    };
    let path = Path::new(path);
    let started = Instant::now();

    let summary = match mode.as_str() {
        // The scanner's loader: the file to the resource model.
        "loader" => match hipaa_scanner::plan::load(path) {
            Ok(project) => {
                let summary = format!(
                    "{} resources, {} kB resident once loaded",
                    project.resources.len(),
                    resident_kb()
                );
                // Freeing half a million small allocations is not loading; the process exit
                // does it at no cost.
                std::mem::forget(project);
                summary
            }
            Err(error) => format!("error: {error}"),
        },
        // The whole file into a serde_json::Value tree, the obvious way to read a plan.
        "serde-value" => {
            let bytes = std::fs::read(path).expect("readable plan");
            let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
            let changes = value["resource_changes"].as_array().map_or(0, Vec::len);
            format!("{changes} resource changes")
        }
        // One validating scan of the file in memory, building nothing: the floor.
        "floor" => match hipaa_bench::floor::parse(path) {
            Ok(bytes) => format!("{bytes} bytes"),
            Err(error) => {
                eprintln!("{error}");
                std::process::exit(1);
            }
        },
        // The same scan, streamed from the file as the loader reads it.
        "serde-ignore-stream" => {
            let file = std::fs::File::open(path).expect("readable plan");
            let reader = std::io::BufReader::with_capacity(1 << 16, file);
            serde_json::from_reader::<_, serde::de::IgnoredAny>(reader).expect("JSON");
            "streamed".to_string()
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    println!(
        "{mode}: {summary} in {:.3} s",
        started.elapsed().as_secs_f64()
    );
}

/// The resident set size now, from /proc (Linux only; 0 elsewhere).
fn resident_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}
