//! The JSON format: one object with the findings, the undetermined checks and the summary.
//!
//! Keys come in a fixed order (struct field order, not alphabetical). A finding's `file` is
//! relative to the base directory with forward slashes; a finding from a plan names the plan
//! file and has `"line": null`. `attribute` is null when the rule blames the whole resource.
//! Suppressed findings follow the others in `findings` with `"suppressed": true` and a
//! `suppression` saying by what (`inline` or `baseline`), why and until when; the summary counts
//! them apart and lists expired suppressions and stale baseline entries.

use super::redact::redact_url_credentials;
use super::{artifact_path, citation_text, place_of, severities_descending, OutputOptions};
use crate::engine::{RuleTally, ScanReport};
use crate::finding::{Category, Finding, Severity};
use crate::suppress::{BaselineEntry, InlineSuppression, Suppression, SuppressionKind};
use hipaa_compliance::citations;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    findings: Vec<JsonFinding<'a>>,
    undetermined: Vec<JsonUndetermined<'a>>,
    summary: JsonSummary<'a>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    category: Category,
    severity: Severity,
    resource: &'a str,
    resource_type: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    attribute: Option<&'a str>,
    message: &'a str,
    fix: &'a str,
    hipaa: Vec<&'a JsonCitation>,
    suppressed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<JsonSuppression<'a>>,
}

#[derive(Serialize)]
struct JsonSuppression<'a> {
    kind: SuppressionKind,
    reason: &'a str,
    /// The last day it holds, `YYYY-MM-DD`.
    expires: Option<String>,
    /// Where the comment is, for an inline suppression.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

#[derive(Serialize)]
struct JsonExpired<'a> {
    rule_id: &'a str,
    /// What it would cover: a block address, with an instance key when it names one.
    scope: String,
    reason: &'a str,
    expires: Option<String>,
    file: String,
    line: u32,
}

#[derive(Serialize)]
struct JsonCitation {
    /// `164.312(a)(2)(iv)`
    paragraph: &'static str,
    /// `45 CFR 164.312(a)(2)(iv) Encryption and decryption`
    citation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonUndetermined<'a> {
    rule_id: &'a str,
    resource: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    files: Vec<String>,
    resources: usize,
    findings: usize,
    by_severity: Counts,
    by_category: Counts,
    undetermined: usize,
    modules_not_scanned: Vec<JsonModule<'a>>,
    licenses: &'a [String],
    boundaries: &'a [String],
    rules: &'a BTreeMap<&'static str, RuleTally>,
    notes: Vec<String>,
    suppressed: usize,
    expired_suppressions: Vec<JsonExpired<'a>>,
    stale_baseline: &'a [BaselineEntry],
}

#[derive(Serialize)]
struct JsonModule<'a> {
    address: &'a str,
    source: String,
    reason: String,
}

/// Counts in a fixed key order, every key present even at zero.
struct Counts(Vec<(&'static str, usize)>);

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, count) in &self.0 {
            map.serialize_entry(key, count)?;
        }
        map.end()
    }
}

/// What findings share, worked out once: a large scan has thousands of findings in a handful
/// of files, citing a handful of paragraphs.
struct Shared<'a> {
    /// By source file (`None` for a finding without a location), the `file` of its findings.
    files: HashMap<Option<&'a Path>, Option<String>>,
    citations: HashMap<&'static str, JsonCitation>,
}

impl<'a> Shared<'a> {
    fn of(findings: impl Iterator<Item = &'a Finding>, options: &OutputOptions) -> Shared<'a> {
        let mut shared = Shared {
            files: HashMap::new(),
            citations: HashMap::new(),
        };
        for finding in findings {
            let file = finding.location.as_ref().map(|l| l.file.as_path());
            shared.files.entry(file).or_insert_with(|| {
                place_of(finding, options).map(|place| place.path.as_str().to_string())
            });
            for &paragraph in &finding.hipaa {
                shared
                    .citations
                    .entry(paragraph)
                    .or_insert_with(|| JsonCitation {
                        paragraph,
                        citation: citation_text(paragraph),
                        title: citations::find(paragraph).map(|c| c.title),
                    });
            }
        }
        shared
    }
}

pub(super) fn write(
    report: &ScanReport,
    options: &OutputOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let every_finding = report.findings.iter().chain(
        report
            .suppressions
            .findings
            .iter()
            .map(|suppressed| &suppressed.finding),
    );
    let shared = Shared::of(every_finding, options);
    let document = Document {
        version: env!("CARGO_PKG_VERSION"),
        findings: report
            .findings
            .iter()
            .map(|finding| json_finding(finding, &shared))
            .chain(
                report
                    .suppressions
                    .findings
                    .iter()
                    .map(|suppressed| JsonFinding {
                        suppressed: true,
                        suppression: Some(json_suppression(&suppressed.suppression, options)),
                        ..json_finding(&suppressed.finding, &shared)
                    }),
            )
            .collect(),
        undetermined: report
            .undetermined
            .iter()
            .map(|u| JsonUndetermined {
                rule_id: u.rule_id,
                resource: &u.resource,
                reason: &u.reason,
            })
            .collect(),
        summary: json_summary(report, options),
    };
    // The serialiser writes a few bytes at a time; gathered here, they reach `out` in large
    // pieces rather than in one call through `dyn Write` each.
    let mut buffered = io::BufWriter::with_capacity(OUTPUT_CHUNK, &mut *out);
    serde_json::to_writer_pretty(&mut buffered, &document)?;
    writeln!(buffered)?;
    buffered.flush()
}

/// How much of the report is gathered before it is handed on.
const OUTPUT_CHUNK: usize = 64 * 1024;

fn json_finding<'a>(finding: &'a Finding, shared: &'a Shared) -> JsonFinding<'a> {
    let file = finding.location.as_ref().map(|l| l.file.as_path());
    JsonFinding {
        rule_id: finding.rule_id,
        rule_name: finding.rule_name,
        category: finding.category,
        severity: finding.severity,
        resource: &finding.resource,
        resource_type: &finding.resource_type,
        file: shared.files[&file].as_deref(),
        // A finding without a location is placed in a plan file, which has no lines.
        line: finding.location.as_ref().map(|l| l.line),
        attribute: finding.attribute.as_deref(),
        message: &finding.message,
        fix: &finding.fix,
        hipaa: finding
            .hipaa
            .iter()
            .map(|paragraph| &shared.citations[paragraph])
            .collect(),
        suppressed: false,
        suppression: None,
    }
}

fn json_suppression<'a>(
    suppression: &'a Suppression,
    options: &OutputOptions,
) -> JsonSuppression<'a> {
    JsonSuppression {
        kind: suppression.kind,
        reason: &suppression.reason,
        expires: suppression.expires.map(|date| date.to_string()),
        file: suppression.location.as_ref().map(|l| {
            artifact_path(&l.file, &options.base_dir)
                .as_str()
                .to_string()
        }),
        line: suppression.location.as_ref().map(|l| l.line),
    }
}

fn json_expired<'a>(expired: &'a InlineSuppression, options: &OutputOptions) -> JsonExpired<'a> {
    JsonExpired {
        rule_id: expired.rule_id,
        scope: expired.scope(),
        reason: &expired.reason,
        expires: expired.expires.map(|date| date.to_string()),
        file: artifact_path(&expired.location.file, &options.base_dir)
            .as_str()
            .to_string(),
        line: expired.location.line,
    }
}

fn json_summary<'a>(report: &'a ScanReport, options: &OutputOptions) -> JsonSummary<'a> {
    let summary = &report.summary;
    let count_severity = |severity: Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    let count_category = |category: Category| {
        report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .count()
    };

    JsonSummary {
        files: summary
            .files
            .iter()
            .map(|file| {
                artifact_path(Path::new(file), &options.base_dir)
                    .as_str()
                    .to_string()
            })
            .collect(),
        resources: summary.resources,
        findings: report.findings.len(),
        by_severity: Counts(
            severities_descending()
                .map(|s| (s.as_str(), count_severity(s)))
                .collect(),
        ),
        by_category: Counts(
            Category::ALL
                .into_iter()
                .map(|c| (c.as_str(), count_category(c)))
                .collect(),
        ),
        undetermined: report.undetermined.len(),
        modules_not_scanned: summary
            .modules_not_scanned
            .iter()
            .map(|module| JsonModule {
                address: &module.address,
                source: redact_url_credentials(&module.source).into_owned(),
                reason: redact_url_credentials(&module.reason).into_owned(),
            })
            .collect(),
        licenses: &summary.licenses,
        boundaries: &summary.boundaries,
        rules: &summary.rules,
        notes: summary
            .notes
            .iter()
            .map(|note| redact_url_credentials(note).into_owned())
            .collect(),
        suppressed: report.suppressions.findings.len(),
        expired_suppressions: report
            .suppressions
            .expired
            .iter()
            .map(|expired| json_expired(expired, options))
            .collect(),
        stale_baseline: &report.suppressions.stale,
    }
}
