//! The configuration file, `.hipaa.toml`: project defaults for a scan, so that every developer
//! and CI job runs the same one. Found by walking up from the first scanned path, or named with
//! `--config FILE`; a flag on the command line wins over the file.
//!
//! ```toml
//! [scan]
//! severity = "high"              # report and fail on findings at or above this
//! disabled_rules = ["EIT008"]    # rules not run at all, by id or name
//! policy = "licensing.tf"        # relative to this file
//! format = "sarif"               # output format of `hipaa scan`
//! baseline = "hipaa-baseline.json"
//! inline_suppressions = true     # false: ignore every hipaa:ignore comment
//! ```
//!
//! An unknown key or a value of the wrong kind is an input error naming the file and line.

use crate::error::InputError;
use crate::finding::Severity;
use crate::output::Format;
use crate::rules;
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file name looked for in the scanned directory and each directory above it.
pub const FILE_NAME: &str = ".hipaa.toml";

/// What a configuration file sets; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// The file read, when one was.
    pub file: Option<PathBuf>,
    pub severity: Option<Severity>,
    /// Rule ids.
    pub disabled_rules: Vec<&'static str>,
    /// Resolved against the file's directory.
    pub policy: Option<PathBuf>,
    pub format: Option<Format>,
    /// Resolved against the file's directory.
    pub baseline: Option<PathBuf>,
    pub inline_suppressions: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDocument {
    scan: Option<ScanTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanTable {
    severity: Option<Spanned<String>>,
    disabled_rules: Option<Vec<Spanned<String>>>,
    policy: Option<String>,
    format: Option<Spanned<String>>,
    baseline: Option<String>,
    inline_suppressions: Option<bool>,
}

/// The configuration file that applies to a scan of `start`: the nearest `.hipaa.toml` in its
/// directory (its own, for a file) or any directory above.
pub fn find(start: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(start).ok()?;
    let first_dir = if absolute.is_dir() {
        absolute.as_path()
    } else {
        absolute.parent()?
    };
    first_dir
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Reads a configuration file.
pub fn read(path: &Path) -> Result<Settings, InputError> {
    let text = crate::files::read_regular_text(path, path, "a .hipaa.toml configuration file")?;
    parse(&text, path)
}

/// Reads configuration text from `path`.
pub fn parse(text: &str, path: &Path) -> Result<Settings, InputError> {
    let at = |span: Range<usize>, message: String| {
        let (line, column) = line_and_column(text, span.start);
        InputError::new(path, message).at(line, column)
    };
    let document: FileDocument = toml::from_str(text).map_err(|e| {
        let message = format!(
            "{}; see `hipaa scan --help` for the keys",
            e.message().trim()
        );
        match e.span() {
            Some(span) => at(span, message),
            None => InputError::new(path, message),
        }
    })?;

    let base = path.parent().unwrap_or(Path::new(""));
    let mut settings = Settings {
        file: Some(path.to_path_buf()),
        ..Settings::default()
    };
    let Some(scan) = document.scan else {
        return Ok(settings);
    };

    if let Some(severity) = scan.severity {
        let parsed = Severity::parse(severity.get_ref()).ok_or_else(|| {
            at(
                severity.span(),
                format!(
                    "severity {:?} is not one; expected low, medium, high or critical",
                    severity.get_ref()
                ),
            )
        })?;
        settings.severity = Some(parsed);
    }
    if let Some(format) = scan.format {
        let parsed: Format = format
            .get_ref()
            .parse()
            .map_err(|e: crate::output::UnknownFormat| at(format.span(), e.to_string()))?;
        settings.format = Some(parsed);
    }
    for rule in scan.disabled_rules.unwrap_or_default() {
        let found = rules::find(rule.get_ref()).ok_or_else(|| {
            at(
                rule.span(),
                format!(
                    "disabled_rules names no rule {:?}; expected an id or name that `hipaa \
                     rules` lists",
                    rule.get_ref()
                ),
            )
        })?;
        settings.disabled_rules.push(found.meta().id);
    }
    settings.policy = scan.policy.map(|policy| base.join(policy));
    settings.baseline = scan.baseline.map(|baseline| base.join(baseline));
    settings.inline_suppressions = scan.inline_suppressions;
    Ok(settings)
}

fn line_and_column(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read_and_paths_are_relative_to_the_file() {
        let text = "[scan]\nseverity = \"high\"\ndisabled_rules = [\"EIT008\", \
                    \"storage-not-encrypted\"]\npolicy = \"licensing.tf\"\nformat = \"sarif\"\n\
                    baseline = \"b.json\"\ninline_suppressions = false\n";
        let settings = parse(text, Path::new("infra/.hipaa.toml")).unwrap();
        assert_eq!(settings.severity, Some(Severity::High));
        assert_eq!(settings.disabled_rules, ["EIT008", "EAR001"]);
        assert_eq!(settings.policy, Some(PathBuf::from("infra/licensing.tf")));
        assert_eq!(settings.format, Some(Format::Sarif));
        assert_eq!(settings.baseline, Some(PathBuf::from("infra/b.json")));
        assert_eq!(settings.inline_suppressions, Some(false));
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        let settings = parse("", Path::new(".hipaa.toml")).unwrap();
        assert_eq!(settings.severity, None);
        assert!(settings.disabled_rules.is_empty());
    }

    #[test]
    fn mistakes_name_the_line() {
        let cases = [
            (
                "[scan]\nseverity = \"high\"\ncolour = true\n",
                3,
                "unknown field `colour`",
            ),
            (
                "[scan]\n\nseverity = \"urgent\"\n",
                3,
                "expected low, medium",
            ),
            (
                "[scan]\nformat = \"pdf\"\n",
                2,
                "unknown output format `pdf`",
            ),
            (
                "[scan]\ndisabled_rules = [\n  \"EIT008\",\n  \"NOPE01\",\n]\n",
                4,
                "NOPE01",
            ),
            ("[scna]\nseverity = \"high\"\n", 1, "unknown field `scna`"),
            ("[scan]\nseverity = high\n", 2, ""),
        ];
        for (text, line, expected) in cases {
            let error = parse(text, Path::new("x/.hipaa.toml")).unwrap_err();
            assert_eq!(error.line, Some(line), "{text}: {error}");
            assert!(error.message.contains(expected), "{text}: {error}");
            assert_eq!(error.file, Path::new("x/.hipaa.toml"));
        }
    }
}
