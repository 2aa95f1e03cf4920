//! The `hipaa` command line: argument parsing and the wiring of loaders, engine and outputs.

use crate::engine::{self, ScanReport};
use crate::error::InputError;
use crate::finding::Severity;
use crate::hcl::{self, HclOptions};
use crate::model::Project;
use crate::output::{self, Format, OutputOptions};
use crate::{plan, rules};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[cfg(feature = "aws")]
mod audit;
mod ledger;

/// Exit code when nothing at or above the severity threshold was found.
const EXIT_CLEAN: u8 = 0;
/// Exit code when something at or above the threshold was found.
const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage and input errors (clap uses it for usage errors too).
const EXIT_ERROR: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "hipaa",
    version,
    about = "Keeps Terraform infrastructure inside a HIPAA licensing model",
    long_about = "Scans Terraform configuration and plans for storage without encryption at \
                  rest, TLS below the licensed minimum, keys that do not rotate, and PHI that \
                  leaves the declared compliance boundary. Every finding cites the 45 CFR \
                  164.3xx paragraph it serves. Never touches the network.",
    after_help = "Examples:\n  hipaa scan examples/phi-stack\n  \
                  terraform show -json plan.out > plan.json && hipaa scan plan.json --format sarif \
                  --output hipaa.sarif\n  hipaa rules\n  hipaa explain EAR001"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan Terraform directories, .tf files or plan JSON files.
    #[command(
        after_help = "Examples:\n  hipaa scan .\n  hipaa scan infra/ --var env=prod \
                            --var-file prod.tfvars\n  hipaa scan plan.json --format json \
                            --severity high\n  hipaa scan . --policy licensing.tf --format \
                            junit --output hipaa.xml\n\nExit status: 0 when nothing at or \
                            above --severity was found, 1 when something was, 2 for usage or \
                            input errors."
    )]
    Scan(ScanArgs),
    /// List every rule with its id, category, severity and HIPAA citations.
    #[command(after_help = "Examples:\n  hipaa rules\n  hipaa rules --format json")]
    Rules(RulesArgs),
    /// Print one rule's documentation: what it checks, why, and how to fix it.
    #[command(after_help = "Examples:\n  hipaa explain EAR001\n  \
                            hipaa explain storage-not-encrypted")]
    Explain {
        /// A rule id (EAR001) or name (storage-not-encrypted).
        rule: String,
    },
    /// Work with the attestation ledger that terraform-provider-hipaa writes.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Audit live cloud resources with the same rules, against the ledger's declarations.
    #[cfg(feature = "aws")]
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

#[derive(Args, Debug)]
struct ScanArgs {
    /// Directories of .tf files, single .tf files, or `terraform show -json` plan files.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,

    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,

    /// Report only findings at or above this severity; the exit status follows it too.
    #[arg(long, value_enum, default_value_t = SeverityArg::Low)]
    severity: SeverityArg,

    /// Set a Terraform variable, as `terraform plan -var` does (NAME=VALUE). Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,

    /// Read Terraform variables from a .tfvars file, after the automatic ones. Repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,

    /// A file of hipaa_license, hipaa_boundary and hipaa_phi_system blocks that declares the
    /// licensing model, for configurations that do not declare it themselves.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Args, Debug)]
struct RulesArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Sarif,
    Junit,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum RulesFormat {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Junit => Format::Junit,
        }
    }
}

impl From<SeverityArg> for Severity {
    fn from(severity: SeverityArg) -> Severity {
        match severity {
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Rules(args) => list_rules(args.format),
        Command::Explain { rule } => explain(&rule),
        Command::Ledger(command) => ledger::run(command),
        #[cfg(feature = "aws")]
        Command::Audit(command) => audit::run(command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn scan(args: ScanArgs) -> Result<u8, String> {
    let options = HclOptions {
        var_files: args.var_files.clone(),
        vars: parse_vars(&args.vars)?,
    };

    let mut project = Project::default();
    for path in &args.paths {
        project.merge(load(path, &options).map_err(|e| e.to_string())?);
    }
    if let Some(policy) = &args.policy {
        project.merge(hcl::load_policy_file(policy).map_err(|e| e.to_string())?);
    }

    let threshold = Severity::from(args.severity);
    let mut report = engine::scan(&project);
    keep_at_or_above(&mut report, threshold);

    let format = Format::from(args.format);
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            args.output.is_none()
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let output_options = OutputOptions {
        color,
        base_dir: std::env::current_dir().unwrap_or_default(),
        inputs: args.paths.clone(),
    };
    write_report(&report, format, &output_options, args.output.as_deref())?;

    Ok(if report.findings.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}

/// Picks the loader by what the path is: a plan JSON file, a .tf file or a directory.
fn load(path: &Path, options: &HclOptions) -> Result<Project, InputError> {
    let metadata = std::fs::metadata(path)
        .map_err(|e| InputError::new(path, format!("cannot read: {}", describe_io(&e))))?;
    if metadata.is_file() && plan::looks_like_plan(path) {
        return plan::load(path);
    }
    if metadata.is_file() && path.extension().is_none_or(|ext| ext != "tf") {
        return Err(InputError::new(
            path,
            "expected a directory of .tf files, a .tf file or a `terraform show -json` plan \
             (.json)",
        ));
    }
    hcl::load(path, options)
}

fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

fn parse_vars(vars: &[String]) -> Result<Vec<(String, String)>, String> {
    vars.iter()
        .map(|var| match var.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_string(), value.to_string()))
            }
            _ => Err(format!("--var {var:?}: expected NAME=VALUE")),
        })
        .collect()
}

/// Drops findings below the threshold and recounts the summary.
fn keep_at_or_above(report: &mut ScanReport, threshold: Severity) {
    report.findings.retain(|f| f.severity >= threshold);
    let summary = &mut report.summary;
    summary.findings = report.findings.len();
    summary
        .by_severity
        .retain(|severity, _| *severity >= threshold);
    summary.by_category.clear();
    for finding in &report.findings {
        *summary.by_category.entry(finding.category).or_default() += 1;
    }
}

fn write_report(
    report: &ScanReport,
    format: Format,
    options: &OutputOptions,
    destination: Option<&Path>,
) -> Result<(), String> {
    let mut buffer = Vec::new();
    output::write(report, format, options, &mut buffer)
        .map_err(|e| format!("cannot render the report: {e}"))?;

    match destination {
        Some(path) => std::fs::write(path, &buffer)
            .map_err(|e| format!("{}: cannot write the report: {}", path.display(), e)),
        None => {
            let mut stdout = io::stdout().lock();
            match stdout.write_all(&buffer).and_then(|_| stdout.flush()) {
                // A closed pipe (`hipaa scan | head`) is the reader's choice, not an error.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|e| format!("cannot write the report: {e}")),
            }
        }
    }
}

fn list_rules(format: RulesFormat) -> Result<u8, String> {
    let mut out = String::new();
    match format {
        RulesFormat::Text => {
            for rule in rules::all() {
                let meta = rule.meta();
                out.push_str(&format!(
                    "{:<7} {:<36} {:<22} {:<8} {}\n",
                    meta.id,
                    meta.name,
                    meta.category.as_str(),
                    meta.severity.as_str(),
                    meta.hipaa.join(", ")
                ));
            }
        }
        RulesFormat::Json => {
            let listing: Vec<serde_json::Value> = rules::all()
                .iter()
                .map(|rule| {
                    let meta = rule.meta();
                    serde_json::json!({
                        "id": meta.id,
                        "name": meta.name,
                        "category": meta.category,
                        "severity": meta.severity,
                        "title": meta.title,
                        "hipaa": meta.hipaa,
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&listing).map_err(|e| e.to_string())?;
            out.push('\n');
        }
    }
    print_or_ignore_broken_pipe(&out)
}

fn explain(id_or_name: &str) -> Result<u8, String> {
    let rule = rules::find(id_or_name)
        .ok_or_else(|| format!("no rule named {id_or_name:?}; `hipaa rules` lists them"))?;
    let meta = rule.meta();
    let citations: Vec<String> = meta
        .hipaa
        .iter()
        .map(
            |paragraph| match hipaa_compliance::citations::find(paragraph) {
                Some(citation) => format!("45 CFR {paragraph} ({})", citation.title),
                None => format!("45 CFR {paragraph}"),
            },
        )
        .collect();
    let text = format!(
        "# {} {}: {}\n\nCategory: {}. Severity: {}.\nHIPAA: {}.\n\n{}",
        meta.id,
        meta.name,
        meta.title,
        meta.category,
        meta.severity,
        citations.join("; "),
        unindent_doc(meta.doc)
    );
    print_or_ignore_broken_pipe(&text)
}

/// Doc comments keep the space after `///`; drop it so the Markdown reads as written.
fn unindent_doc(doc: &str) -> String {
    doc.lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn print_or_ignore_broken_pipe(text: &str) -> Result<u8, String> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(EXIT_CLEAN),
    }
}
