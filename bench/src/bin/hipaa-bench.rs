//! `hipaa-bench`: the benchmark behind `scripts/bench.sh`. For each size it generates (or
//! reuses) a plan and a configuration tree, times `hipaa scan` on both, the JSON parsing floor
//! on the plan, and checkov and trivy where given; then it times the provider's start-up and
//! runs `scripts/plan-timing.sh`. It prints one table and writes it to `results.md`.
//!
//! Every hipaa and floor figure is the median of `--runs` runs (wall time and peak resident
//! set each); checkov and trivy run once per input, since one checkov run at 50,000 resources
//! takes minutes.

use clap::Parser;
use hipaa_bench::measure::{self, Summary};
use hipaa_bench::report::{self, Cell, Row};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "hipaa-bench",
    about = "Times hipaa against its floor and other scanners"
)]
struct Cli {
    /// Resource counts to measure, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,50000")]
    sizes: Vec<usize>,
    /// Runs of each hipaa and floor measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Where inputs, scratch files and results.md go.
    #[arg(long)]
    work: PathBuf,
    /// The directory of the release binaries (hipaa, hipaa-gen, terraform-provider-hipaa and
    /// examples/load_plan).
    #[arg(long)]
    bin_dir: PathBuf,
    /// The checkov executable; without it checkov is skipped.
    #[arg(long)]
    checkov: Option<PathBuf>,
    /// Seconds before a checkov or trivy run is killed.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Provider starts timed for the handshake figure; the median is reported.
    #[arg(long, default_value_t = 20)]
    starts: usize,
    /// scripts/plan-timing.sh; without it the terraform plan comparison is skipped.
    #[arg(long)]
    plan_timing: Option<PathBuf>,
}

/// Exit codes a scanner uses for "ran and found problems" besides success.
const SCAN_CODES: &[i32] = &[0, 1];

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hipaa-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let tools = Tools::find(cli)?;
    std::fs::create_dir_all(&cli.work).map_err(|e| format!("{}: {e}", cli.work.display()))?;
    let timeout = Duration::from_secs(cli.timeout);

    let mut rows = Vec::new();
    for &size in &cli.sizes {
        let inputs = Inputs::prepare(&tools, &cli.work, size)?;
        eprintln!("[{size}] measuring the plan ({} bytes)", inputs.plan_bytes);
        rows.push(Row {
            resources: size,
            input: "plan",
            input_bytes: inputs.plan_bytes,
            hipaa: tools.hipaa_scan(&inputs.plan, cli.runs)?,
            floor: tools.floor(&inputs.plan, cli.runs)?,
            checkov: tools.checkov(&["-f"], &inputs.plan, "terraform_plan", timeout)?,
            trivy: tools.trivy(&inputs.plan, timeout)?,
        });
        eprintln!("[{size}] measuring the tree ({} bytes)", inputs.tree_bytes);
        rows.push(Row {
            resources: size,
            input: "hcl",
            input_bytes: inputs.tree_bytes,
            hipaa: tools.hipaa_scan(&inputs.tree, cli.runs)?,
            floor: Cell::NotApplicable,
            checkov: tools.checkov(&["-d"], &inputs.tree, "terraform", timeout)?,
            trivy: tools.trivy(&inputs.tree, timeout)?,
        });
    }

    // The table first: the provider's part takes minutes more and may fail on its own.
    println!("\n{}", report::text_table(&rows));

    eprintln!("timing the provider's start-up");
    let mut provider_lines = vec![handshake_line(&tools, &cli.work, cli.starts)?];
    println!("{}", provider_lines[0]);
    match &cli.plan_timing {
        Some(script) => {
            eprintln!("timing terraform plan (scripts/plan-timing.sh)");
            let lines = plan_timing(script, &cli.bin_dir)
                .unwrap_or_else(|error| vec![format!("terraform plan timing failed: {error}")]);
            for line in &lines {
                println!("{line}");
            }
            provider_lines.extend(lines);
        }
        None => {
            let line = "terraform plan timing: skipped".to_string();
            println!("{line}");
            provider_lines.push(line);
        }
    }

    let markdown = results_markdown(cli, &rows, &provider_lines);
    let results = cli.work.join("results.md");
    std::fs::write(&results, markdown).map_err(|e| format!("{}: {e}", results.display()))?;
    println!("\nwritten to {}", results.display());
    Ok(())
}

fn results_markdown(cli: &Cli, rows: &[Row], provider_lines: &[String]) -> String {
    let mut out = String::from("# hipaa benchmark\n\n");
    out += &format!(
        "hipaa and floor: median of {} runs (wall time and peak RSS each). checkov and trivy: \
         one run, killed after {} s. Floor: `load_plan floor` (the plan read into memory, then \
         parsed into `serde::de::IgnoredAny`). Peak RSS from `wait4`.\n\n",
        cli.runs, cli.timeout
    );
    out += &report::markdown_table(rows);
    // A code block keeps plan-timing.sh's aligned columns.
    out += "\n## Provider\n\n```text\n";
    for line in provider_lines {
        out += &format!("{line}\n");
    }
    out += "```\n";
    out
}

/// The executables the benchmark runs.
struct Tools {
    hipaa: PathBuf,
    generator: PathBuf,
    floor: PathBuf,
    provider: PathBuf,
    checkov: Option<PathBuf>,
    trivy: Option<PathBuf>,
}

impl Tools {
    fn find(cli: &Cli) -> Result<Tools, String> {
        let built = |relative: &str| {
            let path = cli.bin_dir.join(relative);
            if path.is_file() {
                Ok(path)
            } else {
                Err(format!(
                    "{} is missing: build it with cargo build --release",
                    path.display()
                ))
            }
        };
        Ok(Tools {
            hipaa: built("hipaa")?,
            generator: built("hipaa-gen")?,
            floor: built("examples/load_plan")?,
            provider: built("terraform-provider-hipaa")?,
            checkov: cli.checkov.clone(),
            trivy: on_path("trivy"),
        })
    }

    fn hipaa_scan(&self, input: &Path, runs: usize) -> Result<Cell, String> {
        let mut command = Command::new(&self.hipaa);
        command.arg("scan").arg(input).args(["--format", "json"]);
        repeat(&mut command, runs, SCAN_CODES)
    }

    fn floor(&self, plan: &Path, runs: usize) -> Result<Cell, String> {
        let mut command = Command::new(&self.floor);
        command.arg("floor").arg(plan);
        repeat(&mut command, runs, &[0])
    }

    fn checkov(
        &self,
        input_flag: &[&str],
        input: &Path,
        framework: &str,
        timeout: Duration,
    ) -> Result<Cell, String> {
        let Some(checkov) = &self.checkov else {
            return Ok(Cell::Skipped);
        };
        let mut command = Command::new(checkov);
        command
            .args(input_flag)
            .arg(input)
            .args(["--framework", framework, "--skip-download", "--quiet"])
            .args(["-o", "json"]);
        once(&mut command, timeout)
    }

    fn trivy(&self, input: &Path, timeout: Duration) -> Result<Cell, String> {
        let Some(trivy) = &self.trivy else {
            return Ok(Cell::NotInstalled);
        };
        let mut command = Command::new(trivy);
        command
            .args(["config", "--format", "json", "--quiet"])
            .arg(input);
        once(&mut command, timeout)
    }
}

/// The median of `runs` runs of a hipaa or floor command, which must end with one of `codes`
/// and never needs a timeout longer than an hour.
fn repeat(command: &mut Command, runs: usize, codes: &[i32]) -> Result<Cell, String> {
    let limit = Duration::from_secs(3600);
    let runs = (0..runs.max(1))
        .map(|_| measure::run_once(command, limit))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{:?}: {e}", command.get_program()))?;
    Ok(Cell::from_summary(&Summary { runs }, codes, limit))
}

fn once(command: &mut Command, timeout: Duration) -> Result<Cell, String> {
    let run = measure::run_once(command, timeout)
        .map_err(|e| format!("{:?}: {e}", command.get_program()))?;
    Ok(Cell::from_summary(
        &Summary { runs: vec![run] },
        SCAN_CODES,
        timeout,
    ))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The generated inputs of one size.
struct Inputs {
    plan: PathBuf,
    plan_bytes: u64,
    tree: PathBuf,
    tree_bytes: u64,
}

impl Inputs {
    /// Generates the plan and the tree under `work/inputs/SIZE`, or reuses them when the
    /// generator binary that made them is the one built now.
    fn prepare(tools: &Tools, work: &Path, size: usize) -> Result<Inputs, String> {
        let dir = work.join("inputs").join(size.to_string());
        let plan = dir.join("plan.json");
        let tree = dir.join("tree");
        let stamp = dir.join("generator.sha256");
        let generator_hash = file_sha256(&tools.generator)?;

        let current = std::fs::read_to_string(&stamp).ok().as_deref() == Some(&generator_hash)
            && plan.is_file()
            && tree.is_dir();
        if current {
            eprintln!("[{size}] reusing the inputs in {}", dir.display());
        } else {
            eprintln!("[{size}] generating the inputs in {}", dir.display());
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            generate(&tools.generator, "plan", size, &plan)?;
            generate(&tools.generator, "hcl", size, &tree)?;
            std::fs::write(&stamp, &generator_hash)
                .map_err(|e| format!("{}: {e}", stamp.display()))?;
        }

        Ok(Inputs {
            plan_bytes: bytes_under(&plan),
            plan,
            tree_bytes: bytes_under(&tree),
            tree,
        })
    }
}

fn generate(generator: &Path, kind: &str, size: usize, out: &Path) -> Result<(), String> {
    let status = Command::new(generator)
        .args([kind, "--resources", &size.to_string(), "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", generator.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "hipaa-gen {kind} --resources {size} failed: {status}"
        ))
    }
}

fn file_sha256(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("{:x}", Sha256::digest(bytes)))
}

/// The size of a file, or of every file under a directory.
fn bytes_under(path: &Path) -> u64 {
    let Ok(metadata) = std::fs::metadata(path) else {
        return 0;
    };
    if !metadata.is_dir() {
        return metadata.len();
    }
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| bytes_under(&entry.path()))
                .sum()
        })
        .unwrap_or(0)
}

/// The median time from launching the provider as Terraform does to its handshake line.
fn handshake_line(tools: &Tools, work: &Path, starts: usize) -> Result<String, String> {
    let dir = work.join("provider");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let client_cert = match client_certificate(&dir) {
        Ok(pem) => pem,
        Err(why) => return Ok(format!("provider handshake: not measured ({why})")),
    };

    let mut times = Vec::new();
    for _ in 0..starts.max(1) {
        times.push(time_handshake(&tools.provider, &client_cert, &dir)?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let fastest = times.iter().min().copied().unwrap_or_default();
    let slowest = times.iter().max().copied().unwrap_or_default();
    let median = measure::median(times).unwrap_or_default();
    Ok(format!(
        "provider start to handshake: median {:.1} ms of {} starts (fastest {:.1} ms, \
         slowest {:.1} ms)",
        milliseconds(median),
        starts.max(1),
        milliseconds(fastest),
        milliseconds(slowest)
    ))
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A client certificate shaped like Terraform's (ECDSA P-521, CA flag), made with openssl
/// since the provider accepts no other curve.
fn client_certificate(dir: &Path) -> Result<String, String> {
    let cert = dir.join("client.pem");
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args([
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-nodes",
            "-days",
            "2",
        ])
        .args(["-subj", "/O=HashiCorp/CN=localhost"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .arg("-keyout")
        .arg(dir.join("client.key"))
        .arg("-out")
        .arg(&cert)
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "openssl failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    std::fs::read_to_string(&cert).map_err(|e| format!("{}: {e}", cert.display()))
}

/// Starts the provider with the environment Terraform gives it and times the first stdout
/// line; then kills it (its socket directory is under `dir`, removed by the caller).
fn time_handshake(provider: &Path, client_cert: &str, dir: &Path) -> Result<Duration, String> {
    let started = Instant::now();
    let mut child = Command::new(provider)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_cert)
        .env("PLUGIN_UNIX_SOCKET_DIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", provider.display()))?;
    let mut line = String::new();
    let read = child
        .stdout
        .take()
        .map(|stdout| BufReader::new(stdout).read_line(&mut line));
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();

    match read {
        Some(Ok(_)) if line.starts_with("1|6|unix|") => Ok(elapsed),
        _ => Err(format!(
            "{} printed no handshake line (got {:?})",
            provider.display(),
            line.trim()
        )),
    }
}

/// Runs plan-timing.sh with the provider built in `bin_dir` and returns its report lines.
fn plan_timing(script: &Path, bin_dir: &Path) -> Result<Vec<String>, String> {
    // Terraform's dev_overrides take absolute directories only.
    let bin_dir =
        std::fs::canonicalize(bin_dir).map_err(|e| format!("{}: {e}", bin_dir.display()))?;
    let output = Command::new("bash")
        .arg(script)
        .env("HIPAA_PROVIDER_DIR", &bin_dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", script.display(), output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect())
}
