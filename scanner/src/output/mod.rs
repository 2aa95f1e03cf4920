//! The scanner's report formats: `text` for people, `json` for scripts, `sarif` for code scanning
//! services and `junit` for CI test dashboards.
//!
//! Every format is written from the [`ScanReport`] alone, plus the rule metadata; the only file
//! read while writing is the source line the text format quotes. No format prints an attribute
//! value: findings carry messages written without values, and the quoted source lines are
//! redacted where they assign something that looks secret (see [`redact`]).

mod json;
mod junit;
pub mod redact;
mod sarif;
mod text;

use crate::engine::ScanReport;
use crate::finding::{Category, Finding, Severity};
use crate::rules::{self, RuleMeta};
use hipaa_compliance::citations;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

/// The report formats `hipaa scan --format` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// Compiler-style diagnostics with the offending source line.
    Text,
    /// One JSON object with every finding, undetermined check and the summary.
    Json,
    /// SARIF 2.1.0, as code scanning services read it.
    Sarif,
    /// JUnit XML, one test suite per rule category.
    Junit,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Text, Format::Json, Format::Sarif, Format::Junit];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown output format `{}`: expected one of text, json, sarif, junit",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownFormat(text.to_string()))
    }
}

/// What the writers need to know beyond the report.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    /// ANSI colour in the text format. The CLI sets it only when stdout is a terminal and
    /// `NO_COLOR` is unset.
    pub color: bool,
    /// Paths in the output are made relative to this directory (the current directory), and
    /// relative source paths are read from it.
    pub base_dir: PathBuf,
    /// The paths the user scanned. A finding without a source location (from a plan) is placed
    /// in the plan file among them.
    pub inputs: Vec<PathBuf>,
}

/// Writes a report in a format, with the metadata of every built-in rule.
pub fn write(
    report: &ScanReport,
    format: Format,
    options: &OutputOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let metas: Vec<&RuleMeta> = rules::all().iter().map(|rule| rule.meta()).collect();
    write_with_rules(report, format, options, &metas, out)
}

/// Writes a report in a format with the given rule metadata. Findings of rules missing from
/// `rules` are still written, described from the findings themselves.
pub fn write_with_rules(
    report: &ScanReport,
    format: Format,
    options: &OutputOptions,
    rules: &[&RuleMeta],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let catalogue = RuleCatalogue::new(rules, report);
    match format {
        Format::Text => text::write(report, options, out),
        Format::Json => json::write(report, options, out),
        Format::Sarif => sarif::write(report, options, &catalogue, out),
        Format::Junit => junit::write(report, options, &catalogue, out),
    }
}

/// What the writers know of one rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub category: Category,
    pub severity: Severity,
    pub title: &'a str,
    pub hipaa: &'a [&'static str],
    /// Markdown; empty for a rule known only from its findings.
    pub doc: &'a str,
}

/// The rules a report is written with: the given metadata, in order, then one entry for every
/// rule id that only the findings mention.
pub(crate) struct RuleCatalogue<'a> {
    pub rules: Vec<RuleInfo<'a>>,
}

impl<'a> RuleCatalogue<'a> {
    pub fn new(metas: &[&'a RuleMeta], report: &'a ScanReport) -> RuleCatalogue<'a> {
        let mut rules: Vec<RuleInfo<'a>> = metas
            .iter()
            .map(|meta| RuleInfo {
                id: meta.id,
                name: meta.name,
                category: meta.category,
                severity: meta.severity,
                title: meta.title,
                hipaa: meta.hipaa,
                doc: meta.doc,
            })
            .collect();

        for finding in &report.findings {
            if !rules.iter().any(|rule| rule.id == finding.rule_id) {
                rules.push(RuleInfo {
                    id: finding.rule_id,
                    name: finding.rule_name,
                    category: finding.category,
                    severity: finding.severity,
                    title: finding.rule_name,
                    hipaa: &finding.hipaa,
                    doc: "",
                });
            }
        }
        RuleCatalogue { rules }
    }

    /// The position of a rule in [`RuleCatalogue::rules`].
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|rule| rule.id == id)
    }

    pub fn get(&self, id: &str) -> Option<&RuleInfo<'a>> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

/// A file's path as written in a report: forward slashes, relative to the base directory when
/// the file is under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArtifactPath {
    /// Relative to the base directory, without `.` components; may start with `..` only when
    /// the base directory is itself relative and the file lies outside it.
    Relative(String),
    /// An absolute path, for a file outside the base directory.
    Absolute(String),
}

impl ArtifactPath {
    pub fn as_str(&self) -> &str {
        match self {
            ArtifactPath::Relative(path) | ArtifactPath::Absolute(path) => path,
        }
    }
}

/// Where a report puts a file. A relative `file` is taken relative to `base`, which is the
/// directory the scan ran in.
pub(crate) fn artifact_path(file: &Path, base: &Path) -> ArtifactPath {
    let resolved = normalise(&base.join(file));
    let base = normalise(base);

    if let Ok(rest) = resolved.strip_prefix(&base) {
        if rest.as_os_str().is_empty() {
            // The base directory itself was scanned: name it by its last component.
            let name = resolved
                .file_name()
                .map(Path::new)
                .unwrap_or(Path::new("."));
            return ArtifactPath::Relative(forward_slashes(name));
        }
        return ArtifactPath::Relative(forward_slashes(rest));
    }
    if resolved.is_absolute() {
        ArtifactPath::Absolute(forward_slashes(&resolved))
    } else {
        ArtifactPath::Relative(forward_slashes(&resolved))
    }
}

/// Drops `.` components and folds `..` into the component before it, without touching the file
/// system (symbolic links are not followed, as the user named the path).
pub(crate) fn normalise(path: &Path) -> PathBuf {
    let mut result = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(result.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    result.pop();
                } else if !result.has_root() {
                    result.push("..");
                }
            }
            other => result.push(other.as_os_str()),
        }
    }
    result
}

pub(crate) fn forward_slashes(path: &Path) -> String {
    let mut text = String::new();
    for component in path.components() {
        match component {
            Component::Prefix(prefix) => text.push_str(&prefix.as_os_str().to_string_lossy()),
            Component::RootDir => text.push('/'),
            other => {
                if !text.is_empty() && !text.ends_with('/') {
                    text.push('/');
                }
                text.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    if text.is_empty() {
        text.push('.');
    }
    text
}

/// Where a finding is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    pub path: ArtifactPath,
    /// The source path to read the line from, when the finding has a source location.
    pub source: Option<PathBuf>,
    /// None for a finding from a plan, which has no lines.
    pub line: Option<u32>,
}

/// A finding's place: its source location, or else the plan file it came from.
pub(crate) fn place_of(finding: &Finding, options: &OutputOptions) -> Option<Place> {
    match &finding.location {
        Some(location) => Some(Place {
            path: artifact_path(&location.file, &options.base_dir),
            source: Some(options.base_dir.join(&location.file)),
            line: Some(location.line),
        }),
        None => plan_input(options).map(|plan| Place {
            path: artifact_path(plan, &options.base_dir),
            source: None,
            line: None,
        }),
    }
}

/// The input a finding without a source location came from: the first input that is a JSON
/// file or standard input, else the first input. With several plans among the inputs this
/// names the first one; findings do not say which plan they came from.
pub(crate) fn plan_input(options: &OutputOptions) -> Option<&Path> {
    let is_json = |path: &&PathBuf| {
        path.as_os_str() == crate::plan::STDIN_NAME
            || path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
    };
    options
        .inputs
        .iter()
        .find(is_json)
        .or(options.inputs.first())
        .map(PathBuf::as_path)
}

/// `45 CFR 164.312(a)(2)(iv) Encryption and decryption`; the title is left out for a paragraph
/// missing from the catalogue.
pub(crate) fn citation_text(paragraph: &str) -> String {
    match citations::find(paragraph) {
        Some(citation) => format!("{} {}", citation.full(), citation.title),
        None => format!("45 CFR {paragraph}"),
    }
}

/// Severities from the most to the least severe, the order reports list them in.
pub(crate) fn severities_descending() -> impl Iterator<Item = Severity> {
    Severity::ALL.into_iter().rev()
}

/// `1 finding`, `2 findings`.
pub(crate) fn plural(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("{count} {singular}")
    } else {
        format!("{count} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_from_their_names_in_any_case() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(format.as_str().to_uppercase().parse::<Format>(), Ok(format));
        }
        let error = "xml".parse::<Format>().unwrap_err();
        assert!(error.to_string().contains("`xml`"));
        assert!(error.to_string().contains("sarif"));
    }

    #[test]
    fn clap_names_match_the_format_names() {
        use clap::ValueEnum;
        for format in Format::ALL {
            let value = format.to_possible_value().expect("every format is offered");
            assert_eq!(value.get_name(), format.as_str());
        }
    }

    #[test]
    fn paths_under_the_base_become_relative_with_forward_slashes() {
        let base = Path::new("/work/project");
        assert_eq!(
            artifact_path(Path::new("/work/project/modules/vol/main.tf"), base),
            ArtifactPath::Relative("modules/vol/main.tf".into())
        );
        assert_eq!(
            artifact_path(Path::new("./modules/../main.tf"), base),
            ArtifactPath::Relative("main.tf".into())
        );
        assert_eq!(
            artifact_path(Path::new("/elsewhere/main.tf"), base),
            ArtifactPath::Absolute("/elsewhere/main.tf".into())
        );
        assert_eq!(
            artifact_path(Path::new("../sibling/main.tf"), base),
            ArtifactPath::Absolute("/work/sibling/main.tf".into())
        );
    }

    #[test]
    fn relative_paths_stay_relative_when_the_base_is_unknown() {
        let base = Path::new("");
        assert_eq!(
            artifact_path(Path::new("./a/b.tf"), base),
            ArtifactPath::Relative("a/b.tf".into())
        );
        assert_eq!(
            artifact_path(Path::new("../a/b.tf"), base),
            ArtifactPath::Relative("../a/b.tf".into())
        );
    }

    #[test]
    fn the_plan_input_is_the_first_json_file() {
        let options = OutputOptions {
            inputs: vec!["infra".into(), "plans/prod.json".into()],
            ..OutputOptions::default()
        };
        assert_eq!(plan_input(&options), Some(Path::new("plans/prod.json")));

        let no_json = OutputOptions {
            inputs: vec!["plan.out".into()],
            ..OutputOptions::default()
        };
        assert_eq!(plan_input(&no_json), Some(Path::new("plan.out")));
        assert_eq!(plan_input(&OutputOptions::default()), None);
    }

    #[test]
    fn citations_carry_their_title_when_catalogued() {
        assert_eq!(
            citation_text("164.312(a)(2)(iv)"),
            "45 CFR 164.312(a)(2)(iv) Encryption and decryption"
        );
        assert_eq!(citation_text("164.999(z)"), "45 CFR 164.999(z)");
    }
}
