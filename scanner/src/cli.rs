//! The `hipaa` command line: argument parsing and the wiring of loaders, engine and outputs.

use crate::access_review::{self, AccessReviewFormat};
use crate::dates::Date;
use crate::engine::ScanReport;
use crate::evidence;
use crate::finding::Severity;
use crate::hcl::HclOptions;
use crate::output::{self, Format, OutputOptions};
use crate::report::{self, ReportFormat, ReportInput};
use crate::rules;
use crate::settings::{self, Settings};
use crate::suppress::Baseline;
use crate::workflow::{self, BaselineUse, ScanRequest};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
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
pub const EXIT_ERROR: u8 = 2;

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
                  --output hipaa.sarif\n  \
                  hipaa report . --ledger .hipaa-ledger --format html --output report.html\n  \
                  hipaa access-review --ledger .hipaa-ledger --format csv\n  \
                  hipaa rules\n  hipaa explain EAR001\n  hipaa explain suppressions\n  \
                  hipaa completions bash > /etc/bash_completion.d/hipaa"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan Terraform directories, .tf files or plan JSON files (`-` for standard input).
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// Write a HIPAA Security Rule report: per standard, the rules, their counts, the findings
    /// and the ledger's evidence.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Export who may touch which PHI system, with which permissions and role, with or
    /// without MFA.
    #[command(after_help = ACCESS_REVIEW_HELP)]
    AccessReview(AccessReviewArgs),
    /// List every rule with its id, category, severity and HIPAA citations.
    #[command(after_help = "Examples:\n  hipaa rules\n  hipaa rules --format json")]
    Rules(RulesArgs),
    /// Print one rule's documentation: what it checks, why, and how to fix it.
    #[command(after_help = "Examples:\n  hipaa explain EAR001\n  \
                            hipaa explain storage-not-encrypted\n  \
                            hipaa explain suppressions   # hipaa:ignore comments and baselines")]
    Explain {
        /// A rule id (EAR001) or name (storage-not-encrypted), or `suppressions`.
        rule: String,
    },
    /// Work with the attestation ledger that terraform-provider-hipaa writes.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Audit live cloud resources with the same rules, against the ledger's declarations.
    #[cfg(feature = "aws")]
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  hipaa completions bash > /etc/bash_completion.d/hipaa\n  \
                            hipaa completions zsh > \"${fpath[1]}/_hipaa\"\n  \
                            hipaa completions fish > ~/.config/fish/completions/hipaa.fish"
    )]
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

const REPORT_HELP: &str = "Examples:
  hipaa report . --format html --output hipaa-report.html
  hipaa report infra/ --ledger .hipaa-ledger --format md --output HIPAA.md
  hipaa report plan.json --source infra/ --baseline hipaa-baseline.json

One section per standard (45 CFR 164.308, 164.310, 164.312, 164.314, 164.316) with the rules
serving it, their passed/failed/suppressed/undetermined counts and the findings; with --ledger,
also the license terms and version history, business associate agreements and their expiry,
PHI systems, access roles with MFA, and security reviews with the next due date. The HTML is
one self-contained page: no scripts, nothing loaded from elsewhere.

Exit status: 0 when the report was written, 2 for usage or input errors.";

const ACCESS_REVIEW_HELP: &str = "Examples:
  hipaa access-review --ledger .hipaa-ledger --format csv --output access-review.csv
  hipaa access-review infra/ --format json

One row per member, role and PHI system: a role reaches every PHI system declared under its
license. Read from the attestation ledger with --ledger (what was applied), else from the
hipaa_access_role and hipaa_phi_system resources of the configuration (what is planned).

Exit status: 0 when the export was written, 2 for usage or input errors.";

const SCAN_HELP: &str = "Examples:
  hipaa scan .
  hipaa scan infra/ --var env=prod --var-file prod.tfvars
  hipaa scan plan.json --format json --severity high
  hipaa scan plan.json --source infra/          # apply infra/'s hipaa:ignore comments
  terraform show -json plan.tfplan | hipaa scan -   # a plan on standard input
  hipaa scan <(terraform show -json plan.tfplan)    # a plan through a pipe (bash, zsh)
  hipaa scan . --policy licensing.tf --format junit --output hipaa.xml
  hipaa scan . --write-baseline hipaa-baseline.json
  hipaa scan . --baseline hipaa-baseline.json --no-inline-suppressions

Suppressions: a comment on the line above a resource or module block, or after its `{`:
  # hipaa:ignore EAR001 reason=\"legacy volume, replaced in Q1\" expires=2027-03-31
  # hipaa:ignore EAR001[\"intake\"] reason=\"one instance only\"
A reason is required; a malformed comment is an input error. After its expiry date a
suppression no longer applies and is reported. Suppressed findings are counted in the text
summary and listed in JSON and SARIF, and never change the exit status.

Settings: the nearest .hipaa.toml in the scanned directory or above (or --config FILE):
  [scan]
  severity = \"high\"
  disabled_rules = [\"EIT008\"]
  policy = \"licensing.tf\"
  format = \"sarif\"
  baseline = \"hipaa-baseline.json\"
  inline_suppressions = true
Flags given on the command line win.

Exit status: 0 when nothing at or above --severity was found (suppressed findings do not
count), 1 when something was, 2 for usage or input errors.";

/// What to scan and how to judge it; shared by the commands that scan.
#[derive(Args, Debug)]
struct InputArgs {
    /// Directories of .tf files, single .tf files, or `terraform show -json` plan files. A
    /// directory without .tf files stands for every configuration below it. `-` reads a plan
    /// from standard input; a pipe, such as `<(terraform show -json plan.tfplan)`, is read as
    /// a plan too.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// Report only findings at or above this severity; the exit status follows it too.
    /// [default: low]
    #[arg(long, value_enum)]
    severity: Option<SeverityArg>,

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

    /// The directory of the configuration a plan was made from: its hipaa:ignore comments
    /// apply to the plan's resources.
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,

    /// Ignore every hipaa:ignore comment (for a security team's own review).
    #[arg(long)]
    no_inline_suppressions: bool,

    /// Suppress the findings a baseline file records (see --write-baseline); entries that
    /// match no finding any more are reported as stale.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Read settings from this file instead of the nearest .hipaa.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ScanArgs {
    #[command(flatten)]
    input: InputArgs,

    /// Output format. [default: text]
    #[arg(long, short, value_enum)]
    format: Option<FormatArg>,

    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,

    /// Record every finding not suppressed inline in a new baseline file, then report against
    /// it.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,

    /// When to colour text output: `auto` colours only on a terminal, and never when NO_COLOR
    /// is set.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Args, Debug)]
struct ReportArgs {
    #[command(flatten)]
    input: InputArgs,

    /// Report format.
    #[arg(long, short, value_enum, default_value_t = ReportFormat::Md)]
    format: ReportFormat,

    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,

    /// The attestation ledger directory (the provider's `ledger_dir`), whose records become
    /// the report's evidence.
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct AccessReviewArgs {
    /// Configurations to read hipaa_access_role and hipaa_phi_system declarations from, when
    /// no --ledger is given. [default: .]
    #[arg(conflicts_with = "ledger")]
    paths: Vec<PathBuf>,

    /// Read the declarations from this attestation ledger directory instead.
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,

    /// Export format.
    #[arg(long, short, value_enum, default_value_t = AccessReviewFormat::Csv)]
    format: AccessReviewFormat,

    /// Write the export to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,

    /// Set a Terraform variable (NAME=VALUE). Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,

    /// Read Terraform variables from a .tfvars file. Repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
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

impl ColorArg {
    /// Whether to colour the report: `auto` colours a terminal, never a file, and honours
    /// `NO_COLOR`.
    fn resolve(self, to_file: bool) -> bool {
        match self {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => {
                !to_file
                    && io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
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
    ExitCode::from(run_for_status(cli))
}

/// Runs a command and returns its exit status, with any error already printed.
pub fn run_for_status(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Report(args) => report(args),
        Command::AccessReview(args) => access_review(args),
        Command::Rules(args) => list_rules(args.format),
        Command::Explain { rule } => explain(&rule),
        Command::Ledger(command) => ledger::run(command),
        #[cfg(feature = "aws")]
        Command::Audit(command) => audit::run(command),
        Command::Completions { shell } => completions(shell),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_ERROR
        }
    }
}

fn scan(args: ScanArgs) -> Result<u8, String> {
    let (mut request, settings) = prepare(&args.input)?;
    if let Some(file) = &args.write_baseline {
        request.baseline = BaselineUse::Write(file.clone());
    }
    let outcome = workflow::run(&request).map_err(|e| e.to_string())?;
    let read = &outcome.report.summary.files;
    for destination in [args.output.as_deref(), args.write_baseline.as_deref()] {
        refuse_overwriting_a_scanned_file(destination, read)?;
    }
    if let Some(baseline) = &outcome.written_baseline {
        std::fs::write(&baseline.file, baseline.to_json()).map_err(|e| {
            format!(
                "{}: cannot write the baseline: {e}",
                baseline.file.display()
            )
        })?;
    }
    let report = outcome.report;

    let format = args
        .format
        .map(Format::from)
        .or(settings.format)
        .unwrap_or(Format::Text);
    let color = args.color.resolve(args.output.is_some());
    let output_options = OutputOptions {
        color,
        base_dir: std::env::current_dir().unwrap_or_default(),
        inputs: request
            .paths
            .iter()
            .map(|p| workflow::input_name(p))
            .collect(),
    };
    write_report(&report, format, &output_options, args.output.as_deref())?;

    Ok(if report.findings.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}

/// The scan the arguments and the configuration file ask for, and the file's settings. A flag
/// given on the command line wins over the file.
fn prepare(input: &InputArgs) -> Result<(ScanRequest, Settings), String> {
    let config_file = match &input.config {
        Some(file) => Some(file.clone()),
        // Standard input and pipes live nowhere: their settings are the working directory's.
        None => input.paths.first().and_then(|first| {
            let start = if workflow::is_stream(first) {
                Path::new(".")
            } else {
                first
            };
            settings::find(start)
        }),
    };
    let settings = match &config_file {
        Some(file) => settings::read(file).map_err(|e| e.to_string())?,
        None => Settings::default(),
    };

    let baseline_file = input.baseline.clone().or(settings.baseline.clone());
    let baseline = match baseline_file {
        Some(file) => BaselineUse::Apply(Baseline::read(&file).map_err(|e| e.to_string())?),
        None => BaselineUse::None,
    };
    let request = ScanRequest {
        paths: input.paths.clone(),
        hcl: HclOptions {
            var_files: input.var_files.clone(),
            vars: parse_vars(&input.vars)?,
        },
        policy: input.policy.clone().or(settings.policy.clone()),
        source: input.source.clone(),
        disabled_rules: settings.disabled_rules.clone(),
        inline_suppressions: !input.no_inline_suppressions
            && settings.inline_suppressions.unwrap_or(true),
        baseline,
        severity: input
            .severity
            .map(Severity::from)
            .or(settings.severity)
            .unwrap_or(Severity::Low),
        today: Date::today(),
    };
    Ok((request, settings))
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

fn report(args: ReportArgs) -> Result<u8, String> {
    let (request, _) = prepare(&args.input)?;
    let scan = workflow::run(&request).map_err(|e| e.to_string())?.report;
    let evidence = match &args.ledger {
        Some(dir) => Some(evidence::read_ledger(dir, request.today)?),
        None => None,
    };
    let inputs: Vec<String> = request
        .paths
        .iter()
        .map(|p| workflow::input_name(p).display().to_string())
        .collect();
    let output_options = OutputOptions {
        color: false,
        base_dir: std::env::current_dir().unwrap_or_default(),
        inputs: request
            .paths
            .iter()
            .map(|p| workflow::input_name(p))
            .collect(),
    };
    let input = ReportInput {
        scan: &scan,
        inputs: &inputs,
        severity: request.severity,
        evidence: evidence.as_ref(),
        today: request.today,
        output: &output_options,
    };
    let text = report::render(&input, args.format);
    write_text(&text, args.output.as_deref())?;
    Ok(EXIT_CLEAN)
}

fn access_review(args: AccessReviewArgs) -> Result<u8, String> {
    let today = Date::today();
    let declarations = match &args.ledger {
        Some(dir) => {
            // Who may touch PHI is read from the ledger only when the ledger can be trusted.
            let evidence = evidence::read_ledger(dir, today)?;
            if !evidence.intact {
                return Err(format!(
                    "{}: the ledger's chain is not intact ({}); `hipaa ledger verify` names \
                     the records at fault",
                    dir.display(),
                    evidence.problems.join("; ")
                ));
            }
            evidence.declarations
        }
        None => {
            let options = HclOptions {
                var_files: args.var_files.clone(),
                vars: parse_vars(&args.vars)?,
            };
            let paths = if args.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                args.paths.clone()
            };
            let mut all = evidence::Declarations::default();
            for unit in workflow::configurations(&paths).map_err(|e| e.to_string())? {
                let project = workflow::load(&unit, &options).map_err(|e| e.to_string())?;
                let found = evidence::from_project(&project, today);
                all.licenses.extend(found.licenses);
                all.phi_systems.extend(found.phi_systems);
                all.roles.extend(found.roles);
            }
            all
        }
    };
    let rows = access_review::rows(&declarations);
    write_text(
        &access_review::render(&rows, args.format),
        args.output.as_deref(),
    )?;
    Ok(EXIT_CLEAN)
}

/// Refuses to write over one of the files a scan read: `--output main.tf` would replace the
/// configuration with its own report.
fn refuse_overwriting_a_scanned_file(
    destination: Option<&Path>,
    read: &[String],
) -> Result<(), String> {
    let Some(destination) = destination else {
        return Ok(());
    };
    // A file that does not exist yet cannot be one that was read.
    let Ok(target) = std::fs::canonicalize(destination) else {
        return Ok(());
    };
    let scanned = read
        .iter()
        .any(|file| std::fs::canonicalize(file).is_ok_and(|file| file == target));
    if scanned {
        return Err(format!(
            "{}: this is a file the scan read; expected a path for the report or baseline \
             that is not one of the scanned files",
            destination.display()
        ));
    }
    Ok(())
}

/// Writes to a file, or to standard output when none is named.
fn write_text(text: &str, destination: Option<&Path>) -> Result<(), String> {
    match destination {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
        }
        None => print_or_ignore_broken_pipe(text).map(|_| ()),
    }
}

fn completions(shell: clap_complete::Shell) -> Result<u8, String> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hipaa", &mut script);
    print_or_ignore_broken_pipe(&String::from_utf8_lossy(&script))
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
    if id_or_name.eq_ignore_ascii_case("suppressions") {
        return print_or_ignore_broken_pipe(crate::suppress::HELP);
    }
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
        "# {} {}: {}\n\nCategory: {}. Severity: {}.\nHIPAA: {}.\n\n{}\n",
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
