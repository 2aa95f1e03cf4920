//! The SARIF 2.1.0 format, shaped for code scanning services.
//!
//! What GitHub's ingestion needs, and so what this writer guarantees:
//! - every rule of the catalogue in `tool.driver.rules`, each `ruleIndex` pointing at its rule;
//! - no `null` anywhere: optional properties (`helpUri`, `informationUri`) are left out, as the
//!   project has no public documentation address yet;
//! - each result's `artifactLocation.uri` is a non-empty path relative to `%SRCROOT%` (the base
//!   directory) with forward slashes and percent-encoding; a file outside the base directory is
//!   written as an absolute `file://` URI instead;
//! - `region.startLine` is at least 1: a finding from a plan, which has no lines, points at line 1
//!   of the plan file;
//! - `partialFingerprints` from the rule id and resource address alone, so that an alert
//!   survives the resource moving within its file;
//! - a suppressed finding is a result with `suppressions`: `inSource` (with the comment's
//!   location) for a `hipaa:ignore` comment, `external` for a baseline, each `accepted` with its
//!   reason as `justification`, which code scanning shows as a dismissed alert.
//!
//! A finding with no location and no input to place it in (the CLI always passes the inputs)
//! gets only a logical location, which code scanning services may not display.

use super::redact::redact_url_credentials;
use super::{
    citation_text, forward_slashes, normalise, place_of, ArtifactPath, OutputOptions,
    RuleCatalogue, RuleInfo,
};
use crate::engine::ScanReport;
use crate::finding::{Finding, Severity};
use crate::suppress::{Suppression, SuppressionKind};
use serde_json::{json, Map, Value};
use std::io;
use std::path::Path;

pub(crate) const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The `uriBaseId` every relative location is resolved against: the base directory.
pub(crate) const SOURCE_ROOT: &str = "%SRCROOT%";

/// The `partialFingerprints` key; the version changes if the hashed input ever does.
pub(crate) const FINGERPRINT_KEY: &str = "hipaaRuleAndResource/v1";

/// SARIF `level` and GitHub `security-severity` (a CVSS-like score, 0.0 to 10.0) of each
/// severity. GitHub shows 9.0 and above as critical, 7.0 as high, 4.0 as medium, 0.1 as low.
const SEVERITY_SCALE: &[(Severity, &str, &str)] = &[
    (Severity::Critical, "error", "9.5"),
    (Severity::High, "error", "8.0"),
    (Severity::Medium, "warning", "5.5"),
    (Severity::Low, "note", "3.0"),
];

fn level(severity: Severity) -> &'static str {
    scale(severity).1
}

fn security_severity(severity: Severity) -> &'static str {
    scale(severity).2
}

fn scale(severity: Severity) -> (Severity, &'static str, &'static str) {
    SEVERITY_SCALE
        .iter()
        .copied()
        .find(|(s, _, _)| *s == severity)
        .unwrap_or((severity, "warning", "5.0"))
}

pub(super) fn write(
    report: &ScanReport,
    options: &OutputOptions,
    catalogue: &RuleCatalogue,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let rules: Vec<Value> = catalogue.rules.iter().map(rule_descriptor).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| result(finding, options, catalogue))
        .chain(report.suppressions.findings.iter().map(|suppressed| {
            let mut result = result(&suppressed.finding, options, catalogue);
            result["suppressions"] = json!([suppression(&suppressed.suppression, options)]);
            result
        }))
        .collect();

    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "hipaa",
                    "fullName": "hipaa scanner for Terraform",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { SOURCE_ROOT: source_root(&options.base_dir) },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications(report, options, catalogue),
            }],
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn rule_descriptor(rule: &RuleInfo) -> Value {
    let citations: Vec<String> = rule.hipaa.iter().map(|p| citation_text(p)).collect();
    let markdown = help_markdown(rule, &citations);
    json!({
        "id": rule.id,
        "name": rule.name,
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": full_description(rule) },
        "help": { "text": markdown_to_text(&markdown), "markdown": markdown },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": ["security", "hipaa", rule.category.as_str()],
            "security-severity": security_severity(rule.severity),
            "category": rule.category.as_str(),
            "severity": rule.severity.as_str(),
            "hipaa": citations,
        }
    })
}

fn result(finding: &Finding, options: &OutputOptions, catalogue: &RuleCatalogue) -> Value {
    let mut message = finding.message.clone();
    if !finding.fix.is_empty() {
        message.push_str("\nFix: ");
        message.push_str(&finding.fix);
    }

    let mut location = Map::new();
    if let Some(place) = place_of(finding, options) {
        location.insert(
            "physicalLocation".into(),
            json!({
                "artifactLocation": artifact_location(&place.path),
                "region": { "startLine": place.line.unwrap_or(1).max(1) },
            }),
        );
    }
    location.insert(
        "logicalLocations".into(),
        json!([{ "fullyQualifiedName": finding.resource, "kind": "resource" }]),
    );

    let mut properties = Map::new();
    properties.insert("resource".into(), json!(finding.resource));
    properties.insert("resourceType".into(), json!(finding.resource_type));
    if let Some(attribute) = &finding.attribute {
        properties.insert("attribute".into(), json!(attribute));
    }
    properties.insert(
        "hipaa".into(),
        json!(finding
            .hipaa
            .iter()
            .map(|p| citation_text(p))
            .collect::<Vec<_>>()),
    );

    let mut result = json!({
        "ruleId": finding.rule_id,
        "level": level(finding.severity),
        "message": { "text": message },
        "locations": [location],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint(finding.rule_id, &finding.resource),
        },
        "properties": properties,
    });
    // The catalogue holds every rule a finding names, so the index is always there.
    if let Some(index) = catalogue.index_of(finding.rule_id) {
        result["ruleIndex"] = json!(index);
    }
    result
}

fn suppression(suppression: &Suppression, options: &OutputOptions) -> Value {
    let kind = match suppression.kind {
        SuppressionKind::Inline => "inSource",
        SuppressionKind::Baseline => "external",
    };
    let mut value = json!({
        "kind": kind,
        "status": "accepted",
        "justification": suppression.reason,
    });
    if let Some(location) = &suppression.location {
        let path = super::artifact_path(&location.file, &options.base_dir);
        value["location"] = json!({
            "physicalLocation": {
                "artifactLocation": artifact_location(&path),
                "region": { "startLine": location.line.max(1) },
            }
        });
    }
    if let Some(expires) = suppression.expires {
        value["properties"] = json!({ "expires": expires.to_string() });
    }
    value
}

fn artifact_location(path: &ArtifactPath) -> Value {
    match path {
        ArtifactPath::Relative(relative) => json!({
            "uri": percent_encode(relative, false),
            "uriBaseId": SOURCE_ROOT,
        }),
        ArtifactPath::Absolute(absolute) => json!({ "uri": file_uri(absolute) }),
    }
}

/// `%SRCROOT%` as a `file://` URI ending in `/`, when the base directory is absolute.
fn source_root(base_dir: &Path) -> Value {
    let description = json!({ "text": "The directory the scan ran in" });
    if !base_dir.is_absolute() {
        return json!({ "description": description });
    }
    let mut uri = file_uri(&forward_slashes(&normalise(base_dir)));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    json!({ "uri": uri, "description": description })
}

fn file_uri(absolute: &str) -> String {
    let path = percent_encode(absolute, true);
    if path.starts_with('/') {
        format!("file://{path}")
    } else {
        format!("file:///{path}")
    }
}

/// Percent-encodes a path for a URI: everything but unreserved characters and `/` (and `:` in
/// an absolute URI, for a Windows drive letter). In a relative reference `:` must be encoded, or
/// `c:/x` would read as a URI with scheme `c`.
fn percent_encode(path: &str, allow_colon: bool) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
            || (allow_colon && byte == b':');
        if keep {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Undetermined checks, unscanned modules and notes, which are not results but should be seen.
fn notifications(
    report: &ScanReport,
    options: &OutputOptions,
    catalogue: &RuleCatalogue,
) -> Vec<Value> {
    let mut notifications = Vec::new();
    for undetermined in &report.undetermined {
        let mut notification = json!({
            "level": "note",
            "message": { "text": format!(
                "{} could not be decided for {}: {}",
                undetermined.rule_id, undetermined.resource, undetermined.reason
            ) },
        });
        if let Some(index) = catalogue.index_of(undetermined.rule_id) {
            notification["associatedRule"] = json!({ "id": undetermined.rule_id, "index": index });
        }
        notifications.push(notification);
    }
    for module in &report.summary.modules_not_scanned {
        notifications.push(json!({
            "level": "warning",
            "message": { "text": format!(
                "module {} ({}) was not scanned: {}",
                module.address,
                redact_url_credentials(&module.source),
                redact_url_credentials(&module.reason)
            ) },
        }));
    }
    for expired in &report.suppressions.expired {
        notifications.push(json!({
            "level": "warning",
            "message": { "text": format!(
                "the suppression of {} for {} at {}:{} expired on {} and no longer applies: {}",
                expired.rule_id,
                expired.scope(),
                super::artifact_path(&expired.location.file, &options.base_dir).as_str(),
                expired.location.line,
                expired.expires.map(|d| d.to_string()).unwrap_or_default(),
                expired.reason
            ) },
        }));
    }
    for stale in &report.suppressions.stale {
        notifications.push(json!({
            "level": "note",
            "message": { "text": format!(
                "the baseline accepts {} for {}, which is no longer found; drop it with \
                 --write-baseline",
                stale.rule_id, stale.resource
            ) },
        }));
    }
    for note in &report.summary.notes {
        notifications.push(json!({
            "level": "note",
            "message": { "text": redact_url_credentials(note) },
        }));
    }
    notifications
}

/// The rule's documentation, followed by the paragraphs it serves.
fn help_markdown(rule: &RuleInfo, citations: &[String]) -> String {
    let mut markdown = unindent_doc(rule.doc);
    if markdown.is_empty() {
        markdown.push_str(rule.title);
        markdown.push('\n');
    }
    if !citations.is_empty() {
        markdown.push_str("\n## HIPAA\n\n");
        for citation in citations {
            markdown.push_str(&format!("- {citation}\n"));
        }
    }
    markdown
}

/// Doc comments keep the space after `///`; Markdown wants it gone.
fn unindent_doc(doc: &str) -> String {
    let lines: Vec<&str> = doc
        .lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect();
    let text = lines.join("\n");
    let trimmed = text.trim_matches('\n');
    if trimmed.trim().is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

/// Plain text for `help.text`: headings lose their `#` marks, the rest reads as it is.
fn markdown_to_text(markdown: &str) -> String {
    markdown
        .lines()
        .map(|line| line.trim_start_matches('#').trim_start())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first paragraph under "What it checks" in the rule's documentation, on one line; the
/// title when the documentation has no such section.
fn full_description(rule: &RuleInfo) -> String {
    let doc = unindent_doc(rule.doc);
    let section = doc
        .split("## What it checks")
        .nth(1)
        .map(|rest| rest.trim_start_matches('\n'));
    let paragraph = section.and_then(|text| {
        let first: Vec<&str> = text
            .lines()
            .take_while(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .map(str::trim)
            .collect();
        (!first.is_empty()).then(|| first.join(" "))
    });
    paragraph.unwrap_or_else(|| rule.title.to_string())
}

/// FNV-1a, 64 bits, of the rule id and resource address, as 16 hex digits. Stable across
/// versions and platforms, unlike the standard library's hasher.
pub(crate) fn fingerprint(rule_id: &str, resource: &str) -> String {
    let hash = fnv1a64(
        rule_id
            .bytes()
            .chain(std::iter::once(0))
            .chain(resource.bytes()),
    );
    format!("{hash:016x}")
}

fn fnv1a64(bytes: impl Iterator<Item = u8>) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Category;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64("".bytes()), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64("a".bytes()), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64("foobar".bytes()), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprints_depend_on_rule_and_resource_only() {
        let a = fingerprint("EAR001", "aws_ebs_volume.a");
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint("EAR001", "aws_ebs_volume.a"));
        assert_ne!(a, fingerprint("EAR002", "aws_ebs_volume.a"));
        assert_ne!(a, fingerprint("EAR001", "aws_ebs_volume.b"));
        // The separator keeps "A"+"B1" apart from "AB"+"1".
        assert_ne!(fingerprint("A", "B1"), fingerprint("AB", "1"));
    }

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(percent_encode("a b/ü#1.tf", false), "a%20b/%C3%BC%231.tf");
        assert_eq!(percent_encode("c:/x.tf", false), "c%3A/x.tf");
        assert_eq!(file_uri("/tmp/a b.tf"), "file:///tmp/a%20b.tf");
        assert_eq!(file_uri("C:/src/a.tf"), "file:///C:/src/a.tf");
    }

    #[test]
    fn the_source_root_is_a_directory_uri() {
        assert_eq!(
            source_root(Path::new("/work/my project"))["uri"],
            "file:///work/my%20project/"
        );
        assert_eq!(source_root(Path::new("/"))["uri"], "file:///");
        assert!(source_root(Path::new("relative")).get("uri").is_none());
    }

    #[test]
    fn severities_map_to_levels_and_scores() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::Low), "note");
        assert_eq!(security_severity(Severity::High), "8.0");
        assert_eq!(security_severity(Severity::Medium), "5.5");
        for severity in Severity::ALL {
            let score: f64 = security_severity(severity).parse().unwrap();
            assert!((0.1..=10.0).contains(&score));
        }
    }

    #[test]
    fn descriptions_come_from_the_rule_documentation() {
        let rule = RuleInfo {
            id: "EAR001",
            name: "storage-not-encrypted",
            category: Category::EncryptionAtRest,
            severity: Severity::High,
            title: "Storage is not encrypted at rest",
            hipaa: &["164.312(a)(2)(iv)"],
            doc:
                " ## What it checks\n Volumes without\n encryption.\n\n ## Why it matters\n PHI.\n",
        };
        assert_eq!(full_description(&rule), "Volumes without encryption.");
        let citations = vec![citation_text("164.312(a)(2)(iv)")];
        let markdown = help_markdown(&rule, &citations);
        assert!(markdown.starts_with("## What it checks\nVolumes without\n"));
        assert!(markdown.ends_with("- 45 CFR 164.312(a)(2)(iv) Encryption and decryption\n"));
        assert!(markdown_to_text(&markdown).starts_with("What it checks\n"));

        let undocumented = RuleInfo { doc: "", ..rule };
        assert_eq!(full_description(&undocumented), undocumented.title);
        assert!(help_markdown(&undocumented, &[]).starts_with(undocumented.title));
    }
}
