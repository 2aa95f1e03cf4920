//! One scan from the paths a user names to a finished report, as `hipaa scan`, `hipaa report`
//! and `hipaa access-review` run it: find the configurations, load each, judge it, drop disabled
//! rules, apply suppressions and the baseline, and keep what reaches the severity threshold.
//!
//! Each path is one configuration (a root module or a plan), judged against its own licensing
//! model; a directory holding no `.tf` file stands for every configuration below it (each
//! directory with `.tf` files, not looking inside those, nor inside hidden directories). A
//! configuration named twice, directly or through another path, is scanned once.

use crate::dates::Date;
use crate::engine::{self, ScanReport};
use crate::error::InputError;
use crate::finding::Severity;
use crate::hcl::{self, HclOptions};
use crate::model::Project;
use crate::plan;
use crate::runs;
use crate::suppress::{self, Baseline, SuppressionComment, Suppressions};
use std::collections::HashSet;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

/// How deep below a named directory configurations are looked for.
const MAX_DISCOVERY_DEPTH: usize = 16;

/// What the baseline does in this run.
#[derive(Debug, Clone, Default)]
pub enum BaselineUse {
    #[default]
    None,
    /// Findings it records are suppressed; entries matching nothing are stale.
    Apply(Baseline),
    /// Every finding not suppressed inline is recorded in a new baseline, which then applies.
    Write(PathBuf),
}

/// Everything a scan needs besides the files.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub paths: Vec<PathBuf>,
    pub hcl: HclOptions,
    /// A file of `hipaa_*` declarations, merged into every configuration.
    pub policy: Option<PathBuf>,
    /// The configuration a plan was made from, read only for its suppression comments.
    pub source: Option<PathBuf>,
    /// Rule ids whose findings, undetermined checks and tallies are dropped.
    pub disabled_rules: Vec<&'static str>,
    pub inline_suppressions: bool,
    pub baseline: BaselineUse,
    pub severity: Severity,
    /// The day suppression expiry is judged against.
    pub today: Date,
}

impl Default for ScanRequest {
    fn default() -> ScanRequest {
        ScanRequest {
            paths: vec![PathBuf::from(".")],
            hcl: HclOptions::default(),
            policy: None,
            source: None,
            disabled_rules: Vec::new(),
            inline_suppressions: true,
            baseline: BaselineUse::None,
            severity: Severity::Low,
            today: Date::today(),
        }
    }
}

/// The report, and the baseline when one was written.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    pub report: ScanReport,
    pub written_baseline: Option<Baseline>,
}

/// Runs a scan.
pub fn run(request: &ScanRequest) -> Result<ScanOutcome, InputError> {
    let source_comments = match (&request.source, request.inline_suppressions) {
        (Some(source), true) => load_source_comments(source, &request.hcl)?,
        _ => Vec::new(),
    };

    let mut reports = Vec::new();
    for unit in configurations(&request.paths)? {
        let mut project = load(&unit, &request.hcl)?;
        if let Some(policy) = &request.policy {
            project.merge(hcl::load_policy_file(policy)?);
        }

        let mut report = engine::scan(&project);
        drop_rules(&mut report, &request.disabled_rules);
        if request.inline_suppressions {
            let mut comments = project.suppressions.clone();
            comments.extend(source_comments.iter().cloned());
            let inline = Suppressions {
                inline: suppress::check_comments(&comments)?,
                baseline: None,
            };
            suppress::apply(&mut report, &inline, request.today);
        }
        reports.push(report);
        // A large configuration's project takes nearly as long to free as to build.
        runs::free_in_background(project);
    }
    let mut report = combine(reports);

    let (baseline, written_baseline) = match &request.baseline {
        BaselineUse::None => (None, None),
        BaselineUse::Apply(baseline) => (Some(baseline.clone()), None),
        BaselineUse::Write(file) => {
            let baseline = Baseline::of(file, &report.findings);
            (Some(baseline.clone()), Some(baseline))
        }
    };
    if let Some(baseline) = baseline {
        let external = Suppressions {
            inline: Vec::new(),
            baseline: Some(baseline),
        };
        suppress::apply(&mut report, &external, request.today);
    }

    keep_at_or_above(&mut report, request.severity);
    Ok(ScanOutcome {
        report,
        written_baseline,
    })
}

/// The suppression comments of the configuration a plan was made from.
fn load_source_comments(
    source: &Path,
    options: &HclOptions,
) -> Result<Vec<SuppressionComment>, InputError> {
    if !source.is_dir() {
        return Err(InputError::new(
            source,
            "--source expects the directory of the configuration the plan was made from",
        ));
    }
    Ok(hcl::load(source, options)?.suppressions)
}

/// The path that stands for standard input, from which a plan is read.
pub const STDIN_PATH: &str = "-";

/// True for a path read once, as a stream: `-` (standard input) or a named pipe, such as the
/// `/dev/fd/63` that `hipaa scan <(terraform show -json plan.tfplan)` names.
pub fn is_stream(path: &Path) -> bool {
    path.as_os_str() == STDIN_PATH
        || (std::fs::metadata(path).is_ok_and(|m| is_pipe(&m))
            && path.extension().is_none_or(|ext| ext != "tf"))
}

/// A path to scan as reports name it: standard input by [`plan::STDIN_NAME`], as errors do.
pub fn input_name(path: &Path) -> PathBuf {
    if path.as_os_str() == STDIN_PATH {
        PathBuf::from(plan::STDIN_NAME)
    } else {
        path.to_path_buf()
    }
}

#[cfg(unix)]
fn is_pipe(metadata: &std::fs::Metadata) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(&metadata.file_type())
}

#[cfg(not(unix))]
fn is_pipe(_: &std::fs::Metadata) -> bool {
    false
}

/// Picks the loader by what the path is: a plan JSON file, a .tf file or a directory by its
/// name; standard input or a pipe, which can be read only once, is a plan, judged from its
/// first bytes by [`plan::load_stream`]. A named pipe met inside a directory, or named as a
/// `.tf` file, is another matter: the configuration loader refuses it without opening it, as
/// opening it would wait for a writer that may never come.
pub fn load(path: &Path, options: &HclOptions) -> Result<Project, InputError> {
    if path.as_os_str() == STDIN_PATH {
        return load_stdin();
    }
    let metadata = std::fs::metadata(path)
        .map_err(|e| InputError::new(path, format!("cannot read: {}", describe_io(&e))))?;
    let is_tf = path.extension().is_some_and(|ext| ext == "tf");
    if is_pipe(&metadata) && !is_tf {
        let pipe = std::fs::File::open(path)
            .map_err(|e| InputError::new(path, format!("cannot read: {}", describe_io(&e))))?;
        return plan::load_stream(path, pipe);
    }
    if metadata.is_file() && plan::looks_like_plan(path) {
        return plan::load(path);
    }
    if metadata.is_file() && !is_tf {
        // `terraform plan -out` writes a zip archive, which people pass here by mistake.
        let hint = if starts_with(path, plan::ZIP_MAGIC) {
            format!("; {}", plan::BINARY_PLAN_HINT)
        } else {
            String::new()
        };
        return Err(InputError::new(
            path,
            format!(
                "expected a directory of .tf files, a .tf file or a `terraform show -json` plan \
                 (.json){hint}"
            ),
        ));
    }
    if !metadata.is_file() && !metadata.is_dir() && !is_tf {
        return Err(InputError::new(
            path,
            format!("not a file, directory or pipe (a device or socket); {EXPECTED_PATH}"),
        ));
    }
    hcl::load(path, options)
}

/// What a path to scan should be.
const EXPECTED_PATH: &str = "expected a directory of .tf files, a .tf file, a plan .json file, \
                             a pipe carrying a plan, or `-` for a plan on standard input";

/// A plan on standard input: piped, or redirected from a file, which is read as a file is.
fn load_stdin() -> Result<Project, InputError> {
    let name = Path::new(plan::STDIN_NAME);
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(InputError::new(
            name,
            "standard input is a terminal; expected a plan piped in, as in `terraform show \
             -json plan.tfplan | hipaa scan -`",
        ));
    }
    if let Some(file) = stdin_file() {
        return plan::load_open_file(name, file);
    }
    plan::load_stream(name, stdin.lock())
}

/// Standard input as a file of its own, when it is a regular file (`hipaa scan - < plan.json`).
#[cfg(unix)]
fn stdin_file() -> Option<std::fs::File> {
    use std::os::fd::AsFd;
    let descriptor = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let file = std::fs::File::from(descriptor);
    file.metadata().ok()?.is_file().then_some(file)
}

#[cfg(not(unix))]
fn stdin_file() -> Option<std::fs::File> {
    None
}

/// Whether a file begins with these bytes; false when it cannot be read.
fn starts_with(path: &Path, magic: &[u8]) -> bool {
    let mut head = vec![0; magic.len()];
    std::fs::File::open(path)
        .and_then(|mut file| io::Read::read_exact(&mut file, &mut head))
        .is_ok_and(|()| head == magic)
}

/// Why a named path cannot be read, and what a path to scan should be.
fn describe_io(error: &io::Error) -> String {
    let why = match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    };
    format!("{why}; {EXPECTED_PATH}")
}

/// The configurations the paths stand for, each once, in the order named.
pub fn configurations(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut seen = HashSet::new();
    let mut units = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN_PATH {
            if seen.insert(path.clone()) {
                units.push(path.clone());
            }
            continue;
        }
        let metadata = std::fs::metadata(path)
            .map_err(|e| InputError::new(path, format!("cannot read: {}", describe_io(&e))))?;
        let found = if metadata.is_dir() && !has_tf_files(path) {
            let mut below = Vec::new();
            discover(path, 0, &mut below)?;
            if below.is_empty() {
                // Let the loader say that there is nothing to scan here.
                vec![path.clone()]
            } else {
                below
            }
        } else {
            vec![path.clone()]
        };
        for unit in found {
            if seen.insert(identity(&unit)) {
                units.push(unit);
            }
        }
    }
    Ok(units)
}

/// What makes two paths the same configuration: the directory a `.tf` file is read with, or
/// the file of a plan; symbolic links and `./` resolved.
fn identity(path: &Path) -> PathBuf {
    let is_tf_file = path.is_file() && path.extension().is_some_and(|ext| ext == "tf");
    let dir_or_file = if is_tf_file {
        match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    } else {
        path.to_path_buf()
    };
    std::fs::canonicalize(&dir_or_file).unwrap_or(dir_or_file)
}

fn has_tf_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".tf") && entry.file_type().is_ok_and(|t| !t.is_dir())
        })
    })
}

/// Collects the directories below `dir` that hold `.tf` files, in name order, without looking
/// inside them (their subdirectories are their own modules). Directories nested past
/// [`MAX_DISCOVERY_DEPTH`] are refused rather than skipped: a configuration left out in silence
/// would pass a scan it was never part of.
fn discover(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut subdirectories: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .map(|entry| entry.path())
        .collect();
    subdirectories.sort();
    if depth >= MAX_DISCOVERY_DEPTH && !subdirectories.is_empty() {
        return Err(InputError::new(
            dir,
            format!(
                "directories nest more than {MAX_DISCOVERY_DEPTH} levels below the path named; \
                 expected configurations within {MAX_DISCOVERY_DEPTH} levels (name a deeper \
                 directory itself to scan it)"
            ),
        ));
    }

    for subdirectory in subdirectories {
        if has_tf_files(&subdirectory) {
            found.push(subdirectory);
        } else {
            discover(&subdirectory, depth + 1, found)?;
        }
    }
    Ok(())
}

/// Forgets everything about rules the configuration disables.
fn drop_rules(report: &mut ScanReport, disabled: &[&str]) {
    if disabled.is_empty() {
        return;
    }
    report.findings.retain(|f| !disabled.contains(&f.rule_id));
    report
        .undetermined
        .retain(|u| !disabled.contains(&u.rule_id));
    report.summary.rules.retain(|id, _| !disabled.contains(id));
    recount(report);
}

/// One report from the reports of several configurations.
fn combine(mut reports: Vec<ScanReport>) -> ScanReport {
    if reports.len() == 1 {
        return reports.remove(0);
    }
    let mut all = ScanReport::default();
    for report in reports {
        all.findings.extend(report.findings);
        all.undetermined.extend(report.undetermined);
        let outcome = report.suppressions;
        all.suppressions.findings.extend(outcome.findings);
        all.suppressions.expired.extend(outcome.expired);
        all.suppressions.stale.extend(outcome.stale);

        let summary = report.summary;
        all.summary.files.extend(summary.files);
        all.summary.resources += summary.resources;
        all.summary
            .modules_not_scanned
            .extend(summary.modules_not_scanned);
        all.summary.licenses.extend(summary.licenses);
        all.summary.boundaries.extend(summary.boundaries);
        all.summary.notes.extend(summary.notes);
        for (id, tally) in summary.rules {
            let total = all.summary.rules.entry(id).or_default();
            total.passed += tally.passed;
            total.failed += tally.failed;
            total.undetermined += tally.undetermined;
        }
    }
    all.summary.notes.sort();
    all.summary.notes.dedup();
    recount(&mut all);
    all
}

/// Drops findings below the threshold, suppressed ones too, and recounts the summary.
pub(crate) fn keep_at_or_above(report: &mut ScanReport, threshold: Severity) {
    report.findings.retain(|f| f.severity >= threshold);
    report
        .suppressions
        .findings
        .retain(|s| s.finding.severity >= threshold);
    recount(report);
}

/// The summary's counts, from the findings as they now are.
fn recount(report: &mut ScanReport) {
    let summary = &mut report.summary;
    summary.findings = report.findings.len();
    summary.undetermined = report.undetermined.len();
    summary.by_severity.clear();
    summary.by_category.clear();
    for finding in &report.findings {
        *summary.by_severity.entry(finding.severity).or_default() += 1;
        *summary.by_category.entry(finding.category).or_default() += 1;
    }
}
