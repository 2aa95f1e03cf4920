//! Accepted findings: inline `hipaa:ignore` comments in the configuration, and baseline files.
//!
//! An inline suppression is a line comment on the line above a `resource` or `module` block (any
//! number of comment lines may stand between it and the block, no blank line), or after the
//! block's opening brace:
//!
//! ```hcl
//! # hipaa:ignore EAR001 reason="legacy volume, replaced in Q1" expires=2027-03-31
//! resource "aws_ebs_volume" "legacy" {
//!
//! module "volumes" { # hipaa:ignore EAR001["scratch"] reason="holds no PHI"
//! ```
//!
//! It names one rule (by id or name), optionally one instance key (`[0]`, `["scratch"]`), a
//! `reason` (required) and an `expires` date (`YYYY-MM-DD`, the last day it holds). On a
//! resource block it covers every instance of the block, or the named one; on a module block,
//! every resource the module makes, or those of the named module instance. A comment that starts
//! with `hipaa:ignore` but does not read as above is an input error naming its file and line, so
//! that a typo never silently suppresses nothing, or everything.
//!
//! The loaders collect the comments as data ([`SuppressionComment`]) keyed by configuration
//! address (module call names, without instance keys), so that the comments of a configuration
//! also apply to the instances of a plan made from it (`hipaa scan plan.json --source DIR`).
//! [`apply`] then moves each covered finding from the report's findings to its suppressed ones.
//!
//! A baseline file records accepted findings by rule id and resource address only, so that
//! moving or reformatting code does not break it.
//!
//! Known shortcomings:
//! - Comments are collected as the loader evaluates modules, so the comments inside a module
//!   that the configuration calls zero times (`count = 0`, an empty `for_each`) are not seen;
//!   a plan scanned with `--source` that does make instances of it keeps those findings.
//! - Multi-line `/* */` comments and comments elsewhere in a block are not read.
//! - An inline suppression that covers nothing is not reported.

use crate::dates::Date;
use crate::engine::ScanReport;
use crate::error::InputError;
use crate::finding::Finding;
use crate::model::{InstanceKey, Location};
use crate::plan::{split_traversal, Step};
use crate::rules;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The word that starts a suppression comment.
pub const MARKER: &str = "hipaa:ignore";

/// What `hipaa explain suppressions` prints.
pub const HELP: &str = r#"# Suppressions

Accept a finding where it is, with a comment on the line above a `resource` or `module`
block, or after the block's opening brace:

```hcl
# hipaa:ignore EAR001 reason="legacy volume, replaced in Q1" expires=2027-03-31
resource "aws_ebs_volume" "legacy" {
  ...
}

module "volumes" { # hipaa:ignore storage-not-encrypted["scratch"] reason="holds no PHI"
  ...
}
```

- The rule is named by id (`EAR001`) or name (`storage-not-encrypted`).
- `reason="..."` is required: a comment without one is an input error (exit status 2), as is
  a comment naming no known rule, so that a typo never hides a finding by accident.
- `expires=YYYY-MM-DD` is optional: the last day the suppression holds. After it the finding
  is reported again and the expired comment is listed.
- `[0]` or `["key"]` after the rule limits it to one instance of a `count` or `for_each`
  block; on a module block, to one instance of the module.
- On a module block it covers every resource the module makes.
- `#`, `//` and one-line `/* */` comments all work; the comment must be directly above the
  block (other comment lines may stand between, no blank line) or on its first line.

A plan has no comments: scan it with `--source DIR`, the configuration it was made from, and
the comments there apply to the plan's resources.

`--no-inline-suppressions` (or `inline_suppressions = false` in `.hipaa.toml`) ignores every
comment, for a security team's own review.

# Baselines

`hipaa scan . --write-baseline hipaa-baseline.json` records every finding not suppressed
inline, by rule id and resource address (so moving or reformatting code does not break it);
`--baseline hipaa-baseline.json` then accepts them. Entries that match no finding any more are
listed as stale.

Suppressed findings never change the exit status. The text format counts them; JSON lists them
with `"suppressed": true` and a `suppression` (kind, reason, expiry); SARIF marks them with
`suppressions` (`inSource` or `external`), which code scanning shows as dismissed.
"#;

/// The version written to, and accepted in, baseline files.
pub const BASELINE_VERSION: u32 = 1;

/// What one `hipaa:ignore` comment says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Directive {
    /// The rule as written: an id or a name.
    pub rule: String,
    /// The one instance it is limited to, when it names one.
    pub key: Option<InstanceKey>,
    pub reason: String,
    /// The last day the suppression holds.
    pub expires: Option<Date>,
}

/// A block a comment stands on, by configuration address: the module calls leading to it,
/// without instance keys, and the resource, or none for a `module` block (the last call).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub modules: Vec<String>,
    /// Type and name of a resource block.
    pub resource: Option<(String, String)>,
}

impl fmt::Display for Target {
    /// `module.vols.aws_ebs_volume.this`, `module.vols`, `aws_ebs_volume.this`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.modules.iter().map(|m| format!("module.{m}")).collect();
        if let Some((resource_type, name)) = &self.resource {
            parts.push(format!("{resource_type}.{name}"));
        }
        f.write_str(&parts.join("."))
    }
}

/// A suppression comment as a loader found it, read or not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SuppressionComment {
    pub target: Target,
    pub location: Location,
    /// The directive, or what is wrong with the comment.
    pub directive: Result<Directive, String>,
}

/// A checked inline suppression: its rule is known and its comment well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSuppression {
    pub rule_id: &'static str,
    pub target: Target,
    pub key: Option<InstanceKey>,
    pub reason: String,
    pub expires: Option<Date>,
    pub location: Location,
}

impl InlineSuppression {
    /// What it covers, as an address: `module.vols["a"]`, `aws_ebs_volume.this[0]`.
    pub fn scope(&self) -> String {
        let key = self
            .key
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        format!("{}{key}", self.target)
    }

    /// Whether it covers the resource instance at `address`.
    pub fn covers(&self, address: &str) -> bool {
        let Some(instance) = InstanceAddress::parse(address) else {
            return false;
        };
        let depth = self.target.modules.len();
        let same_calls = instance.modules.len() >= depth
            && instance
                .modules
                .iter()
                .zip(&self.target.modules)
                .all(|((name, _), wanted)| name == wanted);
        if !same_calls {
            return false;
        }
        match &self.target.resource {
            Some((resource_type, name)) => {
                instance.modules.len() == depth
                    && instance.resource_type == *resource_type
                    && instance.name == *name
                    && self
                        .key
                        .as_ref()
                        .is_none_or(|key| instance.key.as_ref() == Some(key))
            }
            // A module block: the last call is the module itself.
            None => {
                depth > 0
                    && self
                        .key
                        .as_ref()
                        .is_none_or(|key| instance.modules[depth - 1].1.as_ref() == Some(key))
            }
        }
    }
}

/// A managed resource instance address taken apart.
struct InstanceAddress {
    modules: Vec<(String, Option<InstanceKey>)>,
    resource_type: String,
    name: String,
    key: Option<InstanceKey>,
}

impl InstanceAddress {
    fn parse(address: &str) -> Option<InstanceAddress> {
        let steps = split_traversal(address)?;
        let mut modules = Vec::new();
        let mut rest = steps.as_slice();
        while let [Step::Name("module"), Step::Name(call), tail @ ..] = rest {
            let (key, tail) = match tail {
                [Step::Key(key), tail @ ..] => (Some(key.clone()), tail),
                _ => (None, tail),
            };
            modules.push((call.to_string(), key));
            rest = tail;
        }
        let (resource_type, name, key) = match rest {
            [Step::Name(resource_type), Step::Name(name)] => (resource_type, name, None),
            [Step::Name(resource_type), Step::Name(name), Step::Key(key)] => {
                (resource_type, name, Some(key.clone()))
            }
            _ => return None,
        };
        Some(InstanceAddress {
            modules,
            resource_type: resource_type.to_string(),
            name: name.to_string(),
            key,
        })
    }
}

/// Checks the comments a loader found: each must be well formed and name a known rule.
pub fn check_comments(
    comments: &[SuppressionComment],
) -> Result<Vec<InlineSuppression>, InputError> {
    let mut checked = Vec::with_capacity(comments.len());
    for comment in comments {
        let error = |message: String| {
            InputError::new(&comment.location.file, message).at_line(comment.location.line)
        };
        let directive = comment.directive.as_ref().map_err(|e| error(e.clone()))?;
        let rule = rules::find(&directive.rule).ok_or_else(|| {
            error(format!(
                "{MARKER} names no rule {:?}; expected a rule id or name that `hipaa rules` \
                 lists",
                directive.rule
            ))
        })?;
        checked.push(InlineSuppression {
            rule_id: rule.meta().id,
            target: comment.target.clone(),
            key: directive.key.clone(),
            reason: directive.reason.clone(),
            expires: directive.expires,
            location: comment.location.clone(),
        });
    }
    Ok(checked)
}

// ---------------------------------------------------------------------------------------------
// Reading comments

/// The suppression comments in the text before a block (its decor prefix, which runs from the
/// line after the previous structure to the block's first token): the run of line comments
/// directly above the block. Returns, for each, how many lines above the block it stands.
pub fn comments_above(prefix: &str) -> Vec<(u32, Result<Directive, String>)> {
    let mut lines: Vec<&str> = prefix.split('\n').collect();
    // The last piece is the indentation before the block's first token, on the block's line.
    lines.pop();
    let mut found = Vec::new();
    for (distance, line) in lines.iter().rev().enumerate() {
        let Some(body) = line_comment_body(line) else {
            break;
        };
        if let Some(directive) = parse_comment(body) {
            found.push((u32::try_from(distance + 1).unwrap_or(u32::MAX), directive));
        }
    }
    found.reverse();
    found
}

/// The suppression comment after a block's opening brace, from the body's decor prefix.
pub fn comment_on_first_line(body_prefix: &str) -> Option<Result<Directive, String>> {
    let first_line = body_prefix.split('\n').next().unwrap_or_default();
    line_comment_body(first_line).and_then(parse_comment)
}

/// The text of a `#` or `//` comment line, without its marker; `None` for any other line.
fn line_comment_body(line: &str) -> Option<&str> {
    let line = line.trim();
    line.strip_prefix('#')
        .or_else(|| line.strip_prefix("//"))
        .or_else(|| {
            line.strip_prefix("/*")
                .and_then(|rest| rest.strip_suffix("*/"))
        })
}

/// Reads a comment's text. `None` when it is not a suppression comment at all.
pub fn parse_comment(text: &str) -> Option<Result<Directive, String>> {
    let rest = text.trim().strip_prefix(MARKER)?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(parse_directive(rest.trim()))
}

fn parse_directive(text: &str) -> Result<Directive, String> {
    let usage = "expected `hipaa:ignore RULE reason=\"why\"`, optionally with an instance key \
                 (`RULE[\"key\"]`) and `expires=YYYY-MM-DD`";
    let mut cursor = Cursor { text, at: 0 };

    let rule = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if rule.is_empty() {
        return Err(format!("{MARKER} without a rule; {usage}"));
    }
    let key = if cursor.eat('[') {
        Some(cursor.instance_key().map_err(|e| format!("{e}; {usage}"))?)
    } else {
        None
    };

    let mut reason = None;
    let mut expires = None;
    loop {
        let had_space = cursor.skip_space();
        if cursor.at_end() {
            break;
        }
        if !had_space {
            return Err(format!(
                "unexpected {:?} after the rule; {usage}",
                cursor.rest()
            ));
        }
        let name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        if name.is_empty() || !cursor.eat('=') {
            return Err(format!("unexpected {:?}; {usage}", cursor.rest()));
        }
        let value = cursor.value()?;
        match name {
            "reason" => reason = Some(value),
            "expires" => {
                let date = Date::parse(&value).ok_or_else(|| {
                    format!("expires={value:?} is not a date; expected YYYY-MM-DD")
                })?;
                expires = Some(date);
            }
            other => {
                return Err(format!(
                    "unknown setting {other:?}; expected `reason` and optionally `expires`"
                ))
            }
        }
    }

    let reason = reason.unwrap_or_default();
    if reason.trim().is_empty() {
        return Err(format!(
            "{MARKER} {rule} has no reason; every suppression must say why, as \
             reason=\"...\""
        ));
    }
    Ok(Directive {
        rule: rule.to_string(),
        key,
        reason,
        expires,
    })
}

/// Reading position in a comment.
struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Cursor<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    fn at_end(&self) -> bool {
        self.at >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, wanted: char) -> bool {
        if self.peek() == Some(wanted) {
            self.at += wanted.len_utf8();
            true
        } else {
            false
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'t str {
        let start = self.at;
        while let Some(c) = self.peek().filter(|&c| keep(c)) {
            self.at += c.len_utf8();
        }
        &self.text[start..self.at]
    }

    fn skip_space(&mut self) -> bool {
        !self.take_while(char::is_whitespace).is_empty()
    }

    /// A quoted string with `\"` and `\\` escapes, the opening quote already seen.
    fn quoted(&mut self) -> Result<String, String> {
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err("a quoted value is not closed; expected `\"`".to_string()),
                Some('"') => {
                    self.at += 1;
                    return Ok(value);
                }
                Some('\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c @ ('"' | '\\')) => {
                            self.at += 1;
                            value.push(c);
                        }
                        _ => value.push('\\'),
                    }
                }
                Some(c) => {
                    self.at += c.len_utf8();
                    value.push(c);
                }
            }
        }
    }

    /// A setting's value: quoted, or a run of characters up to the next space.
    fn value(&mut self) -> Result<String, String> {
        if self.eat('"') {
            self.quoted()
        } else {
            Ok(self.take_while(|c| !c.is_whitespace()).to_string())
        }
    }

    /// `0]` or `"key"]`, the `[` already seen.
    fn instance_key(&mut self) -> Result<InstanceKey, String> {
        let key = if self.eat('"') {
            InstanceKey::Key(self.quoted()?)
        } else {
            let digits = self.take_while(|c| c.is_ascii_digit());
            let index = digits
                .parse()
                .map_err(|_| "an instance key must be a number or a quoted string".to_string())?;
            InstanceKey::Index(index)
        };
        if !self.eat(']') {
            return Err("an instance key is not closed; expected `]`".to_string());
        }
        Ok(key)
    }
}

// ---------------------------------------------------------------------------------------------
// Baselines

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule_id: String,
    pub resource: String,
}

/// A baseline file: findings accepted as they stand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// The file it was read from, for the reason a suppressed finding gives.
    pub file: PathBuf,
    pub entries: BTreeSet<BaselineEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineDocument {
    version: u32,
    findings: Vec<BaselineEntry>,
}

impl Baseline {
    /// A baseline accepting every given finding.
    pub fn of<'f>(file: &Path, findings: impl IntoIterator<Item = &'f Finding>) -> Baseline {
        Baseline {
            file: file.to_path_buf(),
            entries: findings
                .into_iter()
                .map(|finding| BaselineEntry {
                    rule_id: finding.rule_id.to_string(),
                    resource: finding.resource.clone(),
                })
                .collect(),
        }
    }

    pub fn read(path: &Path) -> Result<Baseline, InputError> {
        let text = crate::files::read_regular_text(path, path, "a baseline file")?;
        let document: BaselineDocument = serde_json::from_str(&text).map_err(|e| {
            InputError::new(
                path,
                format!(
                    "not a baseline file: {}; expected {{\"version\": {BASELINE_VERSION}, \
                     \"findings\": [{{\"rule_id\": ..., \"resource\": ...}}]}}",
                    strip_position(&e.to_string())
                ),
            )
            .at(
                u32::try_from(e.line()).unwrap_or(u32::MAX),
                u32::try_from(e.column()).unwrap_or(u32::MAX),
            )
        })?;
        if document.version != BASELINE_VERSION {
            return Err(InputError::new(
                path,
                format!(
                    "baseline version {} is not one this scanner reads; expected {}",
                    document.version, BASELINE_VERSION
                ),
            ));
        }
        Ok(Baseline {
            file: path.to_path_buf(),
            entries: document.findings.into_iter().collect(),
        })
    }

    /// The file's text: entries sorted by rule id, then resource, so that it diffs well.
    pub fn to_json(&self) -> String {
        let document = BaselineDocument {
            version: BASELINE_VERSION,
            findings: self.entries.iter().cloned().collect(),
        };
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text
    }

    fn accepts(&self, finding: &Finding) -> bool {
        self.entries.contains(&BaselineEntry {
            rule_id: finding.rule_id.to_string(),
            resource: finding.resource.clone(),
        })
    }
}

/// serde_json ends its messages with "at line L column C", which the error already carries.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

// ---------------------------------------------------------------------------------------------
// Applying

/// Where a suppression came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `hipaa:ignore` comment in the configuration.
    Inline,
    /// A baseline file.
    Baseline,
}

/// Why a finding is not counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub kind: SuppressionKind,
    pub reason: String,
    pub expires: Option<Date>,
    /// The comment, for an inline suppression.
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SuppressedFinding {
    pub finding: Finding,
    pub suppression: Suppression,
}

/// What suppressions did to a report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuppressionOutcome {
    /// Findings accepted by a comment or the baseline; not counted in the exit status.
    pub findings: Vec<SuppressedFinding>,
    /// Inline suppressions past their expiry date; they suppress nothing.
    pub expired: Vec<InlineSuppression>,
    /// Baseline entries that match no finding any more.
    pub stale: Vec<BaselineEntry>,
}

/// What to apply.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub inline: Vec<InlineSuppression>,
    pub baseline: Option<Baseline>,
}

/// Moves every finding an unexpired inline suppression or the baseline covers into the report's
/// suppressed findings, and records expired suppressions and stale baseline entries. An inline
/// suppression wins over the baseline, as it says why.
pub fn apply(report: &mut ScanReport, suppressions: &Suppressions, today: Date) {
    let (live, expired): (Vec<&InlineSuppression>, Vec<&InlineSuppression>) = suppressions
        .inline
        .iter()
        .partition(|s| s.expires.is_none_or(|last_day| today <= last_day));
    report
        .suppressions
        .expired
        .extend(expired.into_iter().cloned());

    // Findings suppressed by an earlier application still keep their baseline entries fresh.
    let mut used_baseline: BTreeSet<(String, String)> = report
        .suppressions
        .findings
        .iter()
        .map(|s| (s.finding.rule_id.to_string(), s.finding.resource.clone()))
        .collect();
    let mut kept = Vec::with_capacity(report.findings.len());
    for finding in std::mem::take(&mut report.findings) {
        let inline = live
            .iter()
            .find(|s| s.rule_id == finding.rule_id && s.covers(&finding.resource));
        let baseline = suppressions
            .baseline
            .as_ref()
            .filter(|baseline| baseline.accepts(&finding));
        if baseline.is_some() {
            used_baseline.insert((finding.rule_id.to_string(), finding.resource.clone()));
        }
        let suppression = match (inline, baseline) {
            (Some(inline), _) => Suppression {
                kind: SuppressionKind::Inline,
                reason: inline.reason.clone(),
                expires: inline.expires,
                location: Some(inline.location.clone()),
            },
            (None, Some(baseline)) => Suppression {
                kind: SuppressionKind::Baseline,
                reason: format!("accepted in the baseline {}", baseline.file.display()),
                expires: None,
                location: None,
            },
            (None, None) => {
                kept.push(finding);
                continue;
            }
        };
        report.suppressions.findings.push(SuppressedFinding {
            finding,
            suppression,
        });
    }
    report.findings = kept;
    report.summary.findings = report.findings.len();

    if let Some(baseline) = &suppressions.baseline {
        report.suppressions.stale = baseline
            .entries
            .iter()
            .filter(|entry| {
                !used_baseline.contains(&(entry.rule_id.clone(), entry.resource.clone()))
            })
            .cloned()
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directive(text: &str) -> Result<Directive, String> {
        parse_comment(text).expect("a suppression comment")
    }

    fn suppression(target: &str, key: Option<InstanceKey>) -> InlineSuppression {
        let mut parts: Vec<&str> = target.split('.').collect();
        let mut modules = Vec::new();
        while parts.first() == Some(&"module") {
            modules.push(parts[1].to_string());
            parts.drain(..2);
        }
        let resource = match parts.as_slice() {
            [resource_type, name] => Some((resource_type.to_string(), name.to_string())),
            _ => None,
        };
        InlineSuppression {
            rule_id: "EAR001",
            target: Target { modules, resource },
            key,
            reason: "because".into(),
            expires: None,
            location: Location {
                file: "main.tf".into(),
                line: 1,
            },
        }
    }

    #[test]
    fn a_full_comment_reads_every_part() {
        let read = directive(
            r#" hipaa:ignore EAR001["in\"take"] reason="legacy volume, replaced in Q1" expires=2027-03-31"#,
        )
        .unwrap();
        assert_eq!(read.rule, "EAR001");
        assert_eq!(read.key, Some(InstanceKey::Key("in\"take".into())));
        assert_eq!(read.reason, "legacy volume, replaced in Q1");
        assert_eq!(read.expires, Date::parse("2027-03-31"));

        let short = directive("hipaa:ignore storage-not-encrypted[2] reason=scratch").unwrap();
        assert_eq!(short.rule, "storage-not-encrypted");
        assert_eq!(short.key, Some(InstanceKey::Index(2)));
        assert_eq!(short.reason, "scratch");
        assert_eq!(short.expires, None);
    }

    #[test]
    fn other_comments_are_not_suppressions() {
        assert_eq!(parse_comment(" encrypted by the platform"), None);
        assert_eq!(parse_comment(" see hipaa:ignore in the README"), None);
        assert_eq!(parse_comment(" hipaa:ignored EAR001 reason=x"), None);
    }

    #[test]
    fn malformed_comments_say_what_is_wrong() {
        let cases = [
            ("hipaa:ignore EAR001", "has no reason"),
            ("hipaa:ignore EAR001 reason=\"\"", "has no reason"),
            ("hipaa:ignore", "without a rule"),
            (
                "hipaa:ignore EAR001 reason=x expires=2027-02-30",
                "is not a date",
            ),
            (
                "hipaa:ignore EAR001 reason=x until=2027-01-01",
                "unknown setting",
            ),
            ("hipaa:ignore EAR001 reason=\"open", "not closed"),
            (
                "hipaa:ignore EAR001[x] reason=y",
                "number or a quoted string",
            ),
            ("hipaa:ignore EAR001[\"x\" reason=y", "not closed"),
            ("hipaa:ignore EAR001 because", "unexpected"),
        ];
        for (text, expected) in cases {
            let error = directive(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn only_the_comments_right_above_a_block_count() {
        let prefix = "\n# hipaa:ignore EAR002 reason=far\n\n# why this exists\n\
                      # hipaa:ignore EAR001 reason=near\n// plain note\n  ";
        let found = comments_above(prefix);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 2);
        assert_eq!(found[0].1.as_ref().unwrap().rule, "EAR001");

        assert_eq!(
            comment_on_first_line(" # hipaa:ignore EAR001 reason=x\n  size = 1\n")
                .unwrap()
                .unwrap()
                .reason,
            "x"
        );
        assert_eq!(
            comment_on_first_line("\n  # hipaa:ignore EAR001 reason=x\n"),
            None
        );
    }

    #[test]
    fn resource_suppressions_cover_their_block_or_one_instance() {
        let all = suppression("aws_ebs_volume.data", None);
        assert!(all.covers("aws_ebs_volume.data"));
        assert!(all.covers("aws_ebs_volume.data[\"a\"]"));
        assert!(!all.covers("aws_ebs_volume.data2"));
        assert!(!all.covers("module.m.aws_ebs_volume.data"));

        let one = suppression("aws_ebs_volume.data", Some(InstanceKey::Key("a".into())));
        assert!(one.covers("aws_ebs_volume.data[\"a\"]"));
        assert!(!one.covers("aws_ebs_volume.data[\"b\"]"));
        assert!(!one.covers("aws_ebs_volume.data"));

        let in_module = suppression("module.vols.aws_ebs_volume.this", None);
        assert!(in_module.covers("module.vols[\"x\"].aws_ebs_volume.this"));
        assert!(in_module.covers("module.vols.aws_ebs_volume.this[0]"));
        assert!(!in_module.covers("module.other.aws_ebs_volume.this"));
        assert!(!in_module.covers("module.vols.module.inner.aws_ebs_volume.this"));
    }

    #[test]
    fn module_suppressions_cover_everything_the_module_makes() {
        let all = suppression("module.vols", None);
        assert!(all.covers("module.vols.aws_ebs_volume.this"));
        assert!(all.covers("module.vols[\"a\"].module.inner.aws_s3_bucket.b[3]"));
        assert!(!all.covers("module.volsx.aws_ebs_volume.this"));
        assert!(!all.covers("aws_ebs_volume.vols"));

        let one = suppression("module.vols", Some(InstanceKey::Key("a".into())));
        assert!(one.covers("module.vols[\"a\"].aws_ebs_volume.this"));
        assert!(!one.covers("module.vols[\"b\"].aws_ebs_volume.this"));
    }

    fn finding_on(resource: &str) -> Finding {
        Finding {
            rule_id: "EAR001",
            rule_name: "storage-not-encrypted",
            category: crate::finding::Category::EncryptionAtRest,
            severity: crate::finding::Severity::High,
            resource: resource.into(),
            resource_type: "aws_ebs_volume".into(),
            location: None,
            attribute: None,
            message: "not encrypted".into(),
            fix: String::new(),
            hipaa: vec![],
        }
    }

    #[test]
    fn a_suppression_holds_through_its_last_day() {
        let last_day = Date::parse("2027-03-31").unwrap();
        let suppressions = Suppressions {
            inline: vec![InlineSuppression {
                expires: Some(last_day),
                ..suppression("aws_ebs_volume.data", None)
            }],
            baseline: None,
        };
        for (today, suppressed) in [
            (last_day.plus_days(-1), true),
            (last_day, true),
            (last_day.plus_days(1), false),
        ] {
            let mut report = ScanReport {
                findings: vec![finding_on("aws_ebs_volume.data")],
                ..ScanReport::default()
            };
            apply(&mut report, &suppressions, today);
            assert_eq!(
                report.suppressions.findings.len(),
                usize::from(suppressed),
                "{today}"
            );
            assert_eq!(report.findings.len(), usize::from(!suppressed), "{today}");
            assert_eq!(
                report.suppressions.expired.len(),
                usize::from(!suppressed),
                "{today}"
            );
            assert_eq!(report.summary.findings, report.findings.len());
        }
    }

    #[test]
    fn an_inline_suppression_wins_over_the_baseline_and_keeps_its_entry_fresh() {
        let baseline = Baseline::of(
            Path::new("b.json"),
            &[
                finding_on("aws_ebs_volume.data"),
                finding_on("aws_ebs_volume.gone"),
            ],
        );
        let mut report = ScanReport {
            findings: vec![
                finding_on("aws_ebs_volume.data"),
                finding_on("aws_ebs_volume.new"),
            ],
            ..ScanReport::default()
        };
        let inline = Suppressions {
            inline: vec![suppression("aws_ebs_volume.data", None)],
            baseline: None,
        };
        apply(&mut report, &inline, Date::today());
        let external = Suppressions {
            inline: vec![],
            baseline: Some(baseline),
        };
        apply(&mut report, &external, Date::today());

        assert_eq!(report.suppressions.findings.len(), 1);
        assert_eq!(
            report.suppressions.findings[0].suppression.kind,
            SuppressionKind::Inline
        );
        assert_eq!(report.findings[0].resource, "aws_ebs_volume.new");
        let stale: Vec<&str> = report
            .suppressions
            .stale
            .iter()
            .map(|e| e.resource.as_str())
            .collect();
        assert_eq!(stale, ["aws_ebs_volume.gone"]);
    }

    #[test]
    fn baselines_write_sorted_and_read_back() {
        let baseline = Baseline {
            file: "b.json".into(),
            entries: [("KEY001", "b"), ("EAR001", "z"), ("EAR001", "a")]
                .into_iter()
                .map(|(rule_id, resource)| BaselineEntry {
                    rule_id: rule_id.into(),
                    resource: resource.into(),
                })
                .collect(),
        };
        let text = baseline.to_json();
        let order: Vec<usize> = ["\"a\"", "\"z\"", "\"b\""]
            .iter()
            .map(|needle| text.find(needle).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");

        let path = std::env::temp_dir().join(format!("hipaa-baseline-{}.json", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        let read = Baseline::read(&path).unwrap();
        assert_eq!(read.entries, baseline.entries);

        std::fs::write(&path, "{\"version\": 1,\n \"findings\": [{\"rule\": 1}]}").unwrap();
        let error = Baseline::read(&path).unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
        assert!(error.message.contains("unknown field `rule`"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }
}
