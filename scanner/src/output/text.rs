//! The text format: each finding as a compiler-style diagnostic quoting the offending source
//! line, then a summary.
//!
//! ```text
//! high[EAR001] EBS volume is not encrypted at rest
//!   --> modules/volume/main.tf:14
//!    |
//! 14 |   encrypted         = var.encrypted
//!    |
//!    = resource: module.volumes["intake"].aws_ebs_volume.this
//!    = hipaa: 45 CFR 164.312(a)(2)(iv) Encryption and decryption
//!    = help: set `encrypted = true`
//! ```
//!
//! Source lines are read when a finding is printed, once per file. A quoted line that assigns a
//! secret-looking attribute has its value replaced (see [`super::redact`]). Every piece of text
//! from the input is stripped of terminal control characters, so a resource key cannot move the
//! cursor or recolour the terminal.

use super::redact::{redact_assignment, redact_url_credentials};
use super::{
    artifact_path, citation_text, place_of, plural, severities_descending, ArtifactPath,
    OutputOptions, Place,
};
use crate::engine::ScanReport;
use crate::finding::{Finding, Severity};
use crate::suppress::SuppressionKind;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// The ANSI colour of each severity label.
const SEVERITY_COLOURS: &[(Severity, &str)] = &[
    (Severity::Critical, "1;35"),
    (Severity::High, "1;31"),
    (Severity::Medium, "1;33"),
    (Severity::Low, "1;36"),
];

/// How many undetermined checks the summary lists one by one; the JSON output has them all.
const MAX_UNDETERMINED_LISTED: usize = 20;

/// How many columns a tab in a quoted line takes.
const TAB_WIDTH: usize = 4;

pub(super) fn write(
    report: &ScanReport,
    options: &OutputOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let mut sources = SourceCache::default();
    for finding in &report.findings {
        write_finding(finding, options, &mut sources, out)?;
        writeln!(out)?;
    }
    write_summary(report, options, out)
}

fn write_finding(
    finding: &Finding,
    options: &OutputOptions,
    sources: &mut SourceCache,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let label = format!("{}[{}] ", finding.severity, printable(finding.rule_id));
    let header = wrap(&printable(&finding.message), WIDTH - label.len(), "    ");
    writeln!(
        out,
        "{}[{}] {header}",
        severity_label(finding.severity, options.color),
        printable(finding.rule_id),
    )?;

    let place = place_of(finding, options);
    let line_number = place.as_ref().and_then(|place| place.line);
    let snippet = match &place {
        Some(Place {
            source: Some(source),
            line: Some(line),
            ..
        }) => sources.line(source, *line),
        _ => None,
    };
    let width = line_number.map_or(1, |line| line.to_string().len());
    let pad = " ".repeat(width);

    let mut resource_in_arrow = false;
    match (&place, line_number) {
        (Some(place), Some(line)) => {
            writeln!(out, "{pad}--> {}:{line}", display_path(&place.path))?
        }
        (Some(place), None) => {
            resource_in_arrow = true;
            writeln!(
                out,
                "{pad}--> {} (resource {})",
                display_path(&place.path),
                printable(&finding.resource)
            )?
        }
        (None, _) => {
            resource_in_arrow = true;
            writeln!(out, "{pad}--> resource {}", printable(&finding.resource))?
        }
    }

    if let (Some(code), Some(line)) = (snippet, line_number) {
        writeln!(out, "{pad} |")?;
        writeln!(out, "{line} | {}", quoted_line(code))?;
        writeln!(out, "{pad} |")?;
    }

    if !resource_in_arrow {
        writeln!(out, "{pad} = resource: {}", printable(&finding.resource))?;
    }
    if snippet.is_none() {
        if let Some(attribute) = &finding.attribute {
            writeln!(out, "{pad} = attribute: {}", printable(attribute))?;
        }
    }
    if !finding.hipaa.is_empty() {
        // One citation a line, aligned under the first.
        let lead = format!("{pad} = hipaa: ");
        let hang = " ".repeat(lead.len());
        for (i, paragraph) in finding.hipaa.iter().enumerate() {
            let start = if i == 0 { &lead } else { &hang };
            writeln!(out, "{start}{}", printable(&citation_text(paragraph)))?;
        }
    }
    if !finding.fix.is_empty() {
        let lead = format!("{pad} = help: ");
        let hang = " ".repeat(lead.len());
        let text = wrap(&printable(&finding.fix), WIDTH - lead.len(), &hang);
        writeln!(out, "{lead}{text}")?;
    }
    Ok(())
}

/// The width text output keeps to where it can: words are never broken, so a single long
/// word (an address, a policy name) may still run past it.
const WIDTH: usize = 100;

/// Breaks `text` at spaces so that its first line holds at most `width` characters and every
/// later line, which starts with `hang`, ends within [`WIDTH`].
fn wrap(text: &str, width: usize, hang: &str) -> String {
    let mut wrapped = String::with_capacity(text.len());
    let mut line_length = 0;
    let mut line_width = width;
    for word in text.split(' ') {
        let length = word.chars().count();
        if line_length > 0 && line_length + 1 + length > line_width {
            wrapped.push('\n');
            wrapped.push_str(hang);
            line_length = 0;
            line_width = WIDTH.saturating_sub(hang.len()).max(20);
        } else if line_length > 0 {
            wrapped.push(' ');
            line_length += 1;
        }
        wrapped.push_str(word);
        line_length += length;
    }
    wrapped
}

fn write_summary(
    report: &ScanReport,
    options: &OutputOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let summary = &report.summary;
    let scanned = format!(
        "{} scanned in {}",
        plural(summary.resources, "resource", "resources"),
        plural(summary.files.len(), "file", "files")
    );
    if report.findings.is_empty() {
        writeln!(out, "summary: no findings; {scanned}")?;
    } else {
        let counts: Vec<String> = severities_descending()
            .map(|severity| {
                let count = report
                    .findings
                    .iter()
                    .filter(|f| f.severity == severity)
                    .count();
                format!("{count} {severity}")
            })
            .collect();
        writeln!(
            out,
            "summary: {} ({}); {scanned}",
            plural(report.findings.len(), "finding", "findings"),
            counts.join(", ")
        )?;
    }

    write_suppressions(report, options, out)?;

    if !report.undetermined.is_empty() {
        writeln!(
            out,
            "undetermined: {} could not be decided before apply:",
            plural(report.undetermined.len(), "check", "checks")
        )?;
        for undetermined in report.undetermined.iter().take(MAX_UNDETERMINED_LISTED) {
            writeln!(
                out,
                "  {} {}: {}",
                undetermined.rule_id,
                printable(&undetermined.resource),
                printable(&redact_url_credentials(&undetermined.reason))
            )?;
        }
        let unlisted = report
            .undetermined
            .len()
            .saturating_sub(MAX_UNDETERMINED_LISTED);
        if unlisted > 0 {
            writeln!(
                out,
                "  and {unlisted} more; `--format json` lists them all under \"undetermined\""
            )?;
        }
    }

    if !summary.modules_not_scanned.is_empty() {
        writeln!(out, "modules not scanned:")?;
        for module in &summary.modules_not_scanned {
            writeln!(
                out,
                "  {} ({}): {}",
                printable(&module.address),
                printable(&redact_url_credentials(&module.source)),
                printable(&redact_url_credentials(&module.reason))
            )?;
        }
    }

    for note in &summary.notes {
        writeln!(out, "note: {}", printable(&redact_url_credentials(note)))?;
    }
    Ok(())
}

/// Suppressed findings are not printed, only counted; expired suppressions and stale baseline
/// entries are, since each asks for a change.
fn write_suppressions(
    report: &ScanReport,
    options: &OutputOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let suppressed = &report.suppressions.findings;
    if !suppressed.is_empty() {
        let inline = suppressed
            .iter()
            .filter(|s| s.suppression.kind == SuppressionKind::Inline)
            .count();
        writeln!(
            out,
            "suppressed: {} ({inline} inline, {} by the baseline); `--format json` lists them",
            plural(suppressed.len(), "finding", "findings"),
            suppressed.len() - inline
        )?;
    }
    for expired in &report.suppressions.expired {
        writeln!(
            out,
            "expired suppression: {}:{}: {} for {} expired on {} and no longer applies ({})",
            display_path(&artifact_path(&expired.location.file, &options.base_dir)),
            expired.location.line,
            expired.rule_id,
            printable(&expired.scope()),
            expired.expires.map(|d| d.to_string()).unwrap_or_default(),
            printable(&expired.reason)
        )?;
    }
    for stale in &report.suppressions.stale {
        writeln!(
            out,
            "stale baseline entry: {} for {} is no longer found; `--write-baseline` drops it",
            printable(&stale.rule_id),
            printable(&stale.resource)
        )?;
    }
    Ok(())
}

fn severity_label(severity: Severity, color: bool) -> String {
    let colour = SEVERITY_COLOURS
        .iter()
        .find(|(s, _)| *s == severity)
        .map(|(_, code)| *code);
    match colour {
        Some(code) if color => format!("\x1b[{code}m{severity}\x1b[0m"),
        _ => severity.to_string(),
    }
}

fn display_path(path: &ArtifactPath) -> Cow<'_, str> {
    printable(path.as_str())
}

/// A source line as printed: secrets redacted, tabs expanded, control characters escaped.
fn quoted_line(line: &str) -> String {
    let redacted = redact_assignment(line.trim_end());
    let redacted = redact_url_credentials(&redacted);
    let expanded = redacted.replace('\t', &" ".repeat(TAB_WIDTH));
    printable(&expanded).into_owned()
}

/// Escapes characters that a terminal would act on rather than show: control characters and
/// the bidirectional overrides that can make text read differently from what it is.
fn printable(text: &str) -> Cow<'_, str> {
    let acts_on_terminal =
        |c: char| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(acts_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut result = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts_on_terminal(c) {
            result.extend(c.escape_default());
        } else {
            result.push(c);
        }
    }
    Cow::Owned(result)
}

/// Source files read for quoting, each read at most once; a file that cannot be read is
/// remembered as such and its findings are printed without a quoted line.
#[derive(Default)]
struct SourceCache {
    files: HashMap<PathBuf, Option<Vec<String>>>,
}

impl SourceCache {
    /// Line `number` (from 1) of `path`, when the file can be read and has that line.
    fn line(&mut self, path: &Path, number: u32) -> Option<&str> {
        let lines = self
            .files
            .entry(path.to_path_buf())
            .or_insert_with(|| read_lines(path))
            .as_ref()?;
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        lines.get(index).map(String::as_str)
    }
}

fn read_lines(path: &Path) -> Option<Vec<String>> {
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(text.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {

    #[test]
    fn long_text_wraps_at_spaces_within_the_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(text.trim_end(), 80, "    ");
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 2, "{wrapped}");
        assert!(lines[0].len() <= 80, "{wrapped}");
        for line in &lines[1..] {
            assert!(line.starts_with("    word"), "{line:?}");
            assert!(line.len() <= WIDTH, "{line:?}");
        }
        assert_eq!(wrapped.split_whitespace().count(), 60);
    }

    #[test]
    fn a_word_longer_than_the_line_is_kept_whole() {
        let long = "x".repeat(150);
        assert_eq!(wrap(&long, 80, "  "), long);
    }

    use super::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped() {
        assert_eq!(printable("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(printable("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(printable("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn quoted_lines_are_redacted_and_tabs_expanded() {
        assert_eq!(
            quoted_line("\tpassword = \"hunter2\"\r"),
            "    password = <redacted>"
        );
        assert_eq!(
            quoted_line(r#"  endpoint = "postgres://admin:hunter2@db.internal/claims""#),
            r#"  endpoint = "postgres://<redacted>@db.internal/claims""#
        );
    }

    #[test]
    fn labels_are_coloured_only_when_asked() {
        assert_eq!(severity_label(Severity::High, false), "high");
        assert_eq!(
            severity_label(Severity::High, true),
            "\x1b[1;31mhigh\x1b[0m"
        );
        for severity in Severity::ALL {
            assert!(severity_label(severity, true).starts_with("\x1b["));
        }
    }

    #[test]
    fn missing_files_and_lines_give_no_snippet() {
        let mut cache = SourceCache::default();
        assert_eq!(cache.line(Path::new("/nonexistent/main.tf"), 1), None);
        let file = std::env::temp_dir().join(format!("hipaa-text-{}.tf", std::process::id()));
        std::fs::write(&file, "one\ntwo\n").unwrap();
        assert_eq!(cache.line(&file, 2), Some("two"));
        assert_eq!(cache.line(&file, 0), None);
        assert_eq!(cache.line(&file, 3), None);
        std::fs::remove_file(&file).unwrap();
        // Cached: still served after the file is gone.
        assert_eq!(cache.line(&file, 1), Some("one"));
    }
}
