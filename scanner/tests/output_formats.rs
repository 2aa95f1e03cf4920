//! The four report formats, written for a hand-built report over the files in
//! `tests/fixtures/output/`: what each must contain, that none prints a secret, that the JUnit
//! XML is well-formed, and that the SARIF meets GitHub's ingestion rules and the official SARIF
//! 2.1.0 schema (through `tests/sarif/validate.sh` at the repository root).

use hipaa_scanner::dates::Date;
use hipaa_scanner::engine::{ModuleNotScanned, RuleTally, ScanReport, Summary};
use hipaa_scanner::finding::{Category, Finding, Severity, Undetermined};
use hipaa_scanner::model::Location;
use hipaa_scanner::output::{self, Format, OutputOptions};
use hipaa_scanner::rules::RuleMeta;
use hipaa_scanner::suppress::{
    BaselineEntry, InlineSuppression, SuppressedFinding, Suppression, SuppressionKind,
    SuppressionOutcome, Target,
};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Rules standing in for the real ones, which live elsewhere in the crate.
mod sample_rules {
    use hipaa_scanner::rules::prelude::*;

    fn pass(_: &Context, _: &Resource) -> Verdict {
        Verdict::Pass
    }

    declare_rule! {
        /// ## What it checks
        /// Volumes and databases whose storage
        /// is not encrypted at rest.
        ///
        /// ## Why it matters
        /// Unencrypted media holding PHI is a reportable breach when lost.
        ///
        /// ## Example
        /// ```hcl
        /// encrypted = true
        /// ```
        pub struct StorageNotEncrypted {
            id: "TST001",
            name: "storage-not-encrypted",
            category: EncryptionAtRest,
            severity: High,
            title: "Storage is not encrypted at rest",
            hipaa: ["164.312(a)(2)(iv)", "164.310(d)(1)"],
            applies_to: |_| true,
            check: pass,
        }
    }

    declare_rule! {
        /// ## What it checks
        /// Buckets that replicate outside the declared boundary.
        pub struct DataLeavesBoundary {
            id: "TST002",
            name: "data-leaves-boundary",
            category: Boundary,
            severity: Critical,
            title: "PHI is copied outside the compliance boundary",
            hipaa: ["164.308(b)(1)"],
            applies_to: |_| true,
            check: pass,
        }
    }

    // Has no findings in the sample report: the catalogue still lists it.
    declare_rule! {
        /// ## What it checks
        /// Nothing, in these tests.
        pub struct QuietRule {
            id: "TST003",
            name: "quiet-rule",
            category: KeyManagement,
            severity: Low,
            title: "A rule with no findings",
            hipaa: ["164.312(a)(2)(iv)"],
            applies_to: |_| true,
            check: pass,
        }
    }
}

const SECRETS: &[&str] = &["hunter2-Secret", "s3cr3tT0ken"];
const FIXTURES: &str = "tests/fixtures/output";
const TRICKY_MESSAGE: &str = "Key <records> & \"rotation\" isn't on\u{1b}[31m";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rules() -> Vec<&'static RuleMeta> {
    vec![
        &sample_rules::StorageNotEncrypted::META,
        &sample_rules::DataLeavesBoundary::META,
        &sample_rules::QuietRule::META,
    ]
}

/// The line of `file` (relative to the crate) that contains `needle`, counted from 1.
fn line_of(file: &str, needle: &str) -> u32 {
    let text = std::fs::read_to_string(manifest_dir().join(file)).unwrap();
    let index = text
        .lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle} is not in {file}"));
    u32::try_from(index + 1).unwrap()
}

fn location(file: &str, needle: &str) -> Location {
    Location {
        file: PathBuf::from(file),
        line: line_of(file, needle),
    }
}

fn finding(
    rule: &'static RuleMeta,
    resource: &str,
    location: Option<Location>,
    message: &str,
) -> Finding {
    Finding {
        rule_id: rule.id,
        rule_name: rule.name,
        category: rule.category,
        severity: rule.severity,
        resource: resource.to_string(),
        resource_type: resource.rsplit('.').nth(1).unwrap_or_default().to_string(),
        location,
        attribute: Some("encrypted".to_string()),
        message: message.to_string(),
        fix: "set `encrypted = true`".to_string(),
        hipaa: rule.hipaa.to_vec(),
    }
}

/// A rule the writers are not told about; its findings must still come out whole.
static UNLISTED_RULE: RuleMeta = RuleMeta {
    id: "TST009",
    name: "key-not-rotated",
    category: Category::KeyManagement,
    severity: Severity::Medium,
    title: "Key is not rotated",
    hipaa: &["164.312(a)(2)(iv)"],
    doc: "",
};

fn sample_report() -> ScanReport {
    let volume = format!("{FIXTURES}/modules/volume/main.tf");
    let main = format!("{FIXTURES}/main.tf");
    let key_store = format!("{FIXTURES}/key store/main.tf");

    let findings = vec![
        finding(
            &sample_rules::StorageNotEncrypted::META,
            "module.volumes[\"intake\"].aws_ebs_volume.this",
            Some(location(&volume, "encrypted         =")),
            "EBS volume is not encrypted at rest",
        ),
        finding(
            &sample_rules::StorageNotEncrypted::META,
            "aws_db_instance.billing",
            Some(location(&main, "password")),
            "RDS instance stores its data unencrypted",
        ),
        Finding {
            attribute: None,
            ..finding(
                &sample_rules::DataLeavesBoundary::META,
                "aws_s3_bucket.claims",
                None,
                "Bucket replicates to a region outside the boundary",
            )
        },
        Finding {
            attribute: Some("enable_key_rotation".to_string()),
            ..finding(
                &UNLISTED_RULE,
                "aws_kms_key.records",
                Some(location(&key_store, "enable_key_rotation")),
                TRICKY_MESSAGE,
            )
        },
    ];

    let mut by_severity = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    for f in &findings {
        *by_severity.entry(f.severity).or_insert(0) += 1;
        *by_category.entry(f.category).or_insert(0) += 1;
    }
    let tally = |passed, failed, undetermined| RuleTally {
        passed,
        failed,
        undetermined,
    };

    ScanReport {
        summary: Summary {
            files: vec![main.clone(), volume.clone(), key_store.clone()],
            resources: 7,
            findings: findings.len(),
            by_severity,
            by_category,
            undetermined: 1,
            modules_not_scanned: vec![ModuleNotScanned {
                address: "module.vpc".to_string(),
                source: "git::https://deploy:s3cr3tT0ken@git.example/vpc.git".to_string(),
                reason: "remote module not downloaded; run `terraform init`".to_string(),
            }],
            licenses: vec![],
            boundaries: vec![],
            rules: BTreeMap::from([
                ("TST001", tally(3, 2, 1)),
                ("TST002", tally(0, 1, 0)),
                ("TST003", tally(0, 0, 0)),
                ("TST009", tally(1, 1, 0)),
            ]),
            notes: vec!["no hipaa_boundary declared: the boundary rules stayed silent".into()],
        },
        findings,
        undetermined: vec![Undetermined {
            rule_id: "TST001",
            resource: "aws_ebs_volume.later".to_string(),
            reason: "kms_key_id is not known until apply".to_string(),
        }],
        suppressions: SuppressionOutcome::default(),
    }
}

/// The sample report with its first finding suppressed by a comment and its third by the
/// baseline, an expired suppression and a stale baseline entry.
fn suppressed_report() -> ScanReport {
    let mut report = sample_report();
    let comment = location(&format!("{FIXTURES}/main.tf"), "password");
    let by_baseline = report.findings.remove(2);
    let by_comment = report.findings.remove(0);
    report.suppressions = SuppressionOutcome {
        findings: vec![
            SuppressedFinding {
                finding: by_comment,
                suppression: Suppression {
                    kind: SuppressionKind::Inline,
                    reason: "scratch <volume> & \"test\"".to_string(),
                    expires: Date::parse("2999-01-31"),
                    location: Some(comment.clone()),
                },
            },
            SuppressedFinding {
                finding: by_baseline,
                suppression: Suppression {
                    kind: SuppressionKind::Baseline,
                    reason: "accepted in the baseline hipaa-baseline.json".to_string(),
                    expires: None,
                    location: None,
                },
            },
        ],
        expired: vec![InlineSuppression {
            rule_id: "TST001",
            target: Target {
                modules: vec![],
                resource: Some(("aws_db_instance".into(), "billing".into())),
            },
            key: None,
            reason: "until the migration".to_string(),
            expires: Date::parse("2001-01-01"),
            location: comment,
        }],
        stale: vec![BaselineEntry {
            rule_id: "TST002".to_string(),
            resource: "aws_s3_bucket.gone".to_string(),
        }],
    };
    report.summary.findings = report.findings.len();
    report
}

fn options() -> OutputOptions {
    OutputOptions {
        color: false,
        base_dir: manifest_dir(),
        inputs: vec![
            PathBuf::from(FIXTURES),
            PathBuf::from(format!("{FIXTURES}/plan.json")),
        ],
    }
}

fn render_with(report: &ScanReport, format: Format, options: &OutputOptions) -> String {
    let mut out = Vec::new();
    output::write_with_rules(report, format, options, &rules(), &mut out).unwrap();
    String::from_utf8(out).expect("output is UTF-8")
}

fn render(format: Format) -> String {
    render_with(&sample_report(), format, &options())
}

// ---------------------------------------------------------------------------------------------
// text

#[test]
fn text_points_at_file_and_line_and_quotes_the_line() {
    let text = render(Format::Text);
    let line = line_of(&format!("{FIXTURES}/modules/volume/main.tf"), "encrypted  ");

    let expected = format!(
        "high[TST001] EBS volume is not encrypted at rest\n\
         \x20--> {FIXTURES}/modules/volume/main.tf:{line}\n\
         \x20 |\n\
         {line} |   encrypted         = var.encrypted\n\
         \x20 |\n\
         \x20 = resource: module.volumes[\"intake\"].aws_ebs_volume.this\n\
         \x20 = hipaa: 45 CFR 164.312(a)(2)(iv) Encryption and decryption\n\
         \x20          45 CFR 164.310(d)(1) Device and media controls\n\
         \x20 = help: set `encrypted = true`\n"
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn text_redacts_a_secret_on_the_quoted_line() {
    let text = render(Format::Text);
    let line = line_of(&format!("{FIXTURES}/main.tf"), "password");
    let quoted = format!("{line} |   password          = <redacted>\n");

    assert!(text.contains(&quoted), "{text}");
    assert!(!text.contains("hunter2-Secret"), "{text}");
}

#[test]
fn text_places_a_plan_finding_in_the_plan_file() {
    let text = render(Format::Text);
    assert!(
        text.contains(&format!(
            "critical[TST002] Bucket replicates to a region outside the boundary\n \
             --> {FIXTURES}/plan.json (resource aws_s3_bucket.claims)\n"
        )),
        "{text}"
    );
}

#[test]
fn text_escapes_control_characters_and_expands_tabs() {
    let text = render(Format::Text);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("isn't on\\u{1b}[31m"), "{text}");
    assert!(
        text.contains(&format!("{FIXTURES}/key store/main.tf:2")),
        "{text}"
    );
    assert!(
        text.contains("2 |     enable_key_rotation = false\n"),
        "{text}"
    );
}

#[test]
fn text_ends_with_a_summary() {
    let text = render(Format::Text);
    let summary = &text[text.find("summary:").expect("a summary")..];
    assert_eq!(
        summary,
        "summary: 4 findings (1 critical, 2 high, 1 medium, 0 low); \
         7 resources scanned in 3 files\n\
         undetermined: 1 check could not be decided before apply:\n  \
         TST001 aws_ebs_volume.later: kms_key_id is not known until apply\n\
         modules not scanned:\n  \
         module.vpc (git::https://<redacted>@git.example/vpc.git): remote module not \
         downloaded; run `terraform init`\n\
         note: no hipaa_boundary declared: the boundary rules stayed silent\n"
    );
}

#[test]
fn text_lists_undetermined_checks_up_to_a_bound() {
    let mut report = sample_report();
    report.undetermined = (0..23)
        .map(|i| Undetermined {
            rule_id: "TST001",
            resource: format!("aws_ebs_volume.later[{i}]"),
            reason: "kms_key_id is not known until apply".to_string(),
        })
        .collect();
    let text = render_with(&report, Format::Text, &options());
    assert!(
        text.contains("undetermined: 23 checks could not be decided before apply:\n"),
        "{text}"
    );
    assert!(text.contains("  TST001 aws_ebs_volume.later[19]: kms_key_id is not known"));
    assert!(!text.contains("aws_ebs_volume.later[20]"), "{text}");
    assert!(
        text.contains("  and 3 more; `--format json` lists them all under \"undetermined\"\n"),
        "{text}"
    );
}

#[test]
fn text_colours_severity_labels_only_when_asked() {
    let plain = render(Format::Text);
    assert!(plain.starts_with("high[TST001]"));

    let coloured = render_with(
        &sample_report(),
        Format::Text,
        &OutputOptions {
            color: true,
            ..options()
        },
    );
    assert!(
        coloured.starts_with("\x1b[1;31mhigh\x1b[0m[TST001]"),
        "{coloured:?}"
    );
    assert!(coloured.contains("\x1b[1;35mcritical\x1b[0m[TST002]"));
}

#[test]
fn text_reads_absolute_locations_and_shows_them_relative_to_the_base() {
    let mut report = sample_report();
    for finding in &mut report.findings {
        if let Some(location) = &mut finding.location {
            location.file = manifest_dir().join(&location.file);
        }
    }
    let options = OutputOptions {
        base_dir: manifest_dir().join(FIXTURES),
        ..options()
    };
    let text = render_with(&report, Format::Text, &options);
    let line = line_of(&format!("{FIXTURES}/modules/volume/main.tf"), "encrypted  ");
    assert!(
        text.contains(&format!(" --> modules/volume/main.tf:{line}\n")),
        "{text}"
    );
    assert!(
        text.contains("|   encrypted         = var.encrypted\n"),
        "{text}"
    );
}

#[test]
fn text_without_findings_says_so() {
    let report = ScanReport {
        summary: Summary {
            resources: 2,
            files: vec!["main.tf".into()],
            ..Summary::default()
        },
        ..ScanReport::default()
    };
    let text = render_with(&report, Format::Text, &options());
    assert_eq!(
        text,
        "summary: no findings; 2 resources scanned in 1 file\n"
    );
}

// ---------------------------------------------------------------------------------------------
// json

#[test]
fn json_carries_every_finding_field() {
    let document: Value = serde_json::from_str(&render(Format::Json)).unwrap();
    assert_eq!(document["version"], env!("CARGO_PKG_VERSION"));

    let findings = document["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    let volume = &findings[0];
    let line = line_of(&format!("{FIXTURES}/modules/volume/main.tf"), "encrypted  ");
    assert_eq!(volume["rule_id"], "TST001");
    assert_eq!(volume["rule_name"], "storage-not-encrypted");
    assert_eq!(volume["category"], "encryption-at-rest");
    assert_eq!(volume["severity"], "high");
    assert_eq!(
        volume["resource"],
        "module.volumes[\"intake\"].aws_ebs_volume.this"
    );
    assert_eq!(volume["resource_type"], "aws_ebs_volume");
    assert_eq!(volume["file"], format!("{FIXTURES}/modules/volume/main.tf"));
    assert_eq!(volume["line"], line);
    assert_eq!(volume["attribute"], "encrypted");
    assert_eq!(volume["message"], "EBS volume is not encrypted at rest");
    assert_eq!(volume["fix"], "set `encrypted = true`");
    assert_eq!(
        volume["hipaa"][0],
        serde_json::json!({
            "paragraph": "164.312(a)(2)(iv)",
            "citation": "45 CFR 164.312(a)(2)(iv) Encryption and decryption",
            "title": "Encryption and decryption",
        })
    );
    assert_eq!(volume["hipaa"].as_array().unwrap().len(), 2);

    let plan = &findings[2];
    assert_eq!(plan["file"], format!("{FIXTURES}/plan.json"));
    assert!(plan["line"].is_null());
    assert!(plan["attribute"].is_null());

    assert_eq!(findings[3]["message"], TRICKY_MESSAGE);
}

#[test]
fn json_carries_undetermined_checks_and_the_summary() {
    let document: Value = serde_json::from_str(&render(Format::Json)).unwrap();
    assert_eq!(
        document["undetermined"],
        serde_json::json!([{
            "rule_id": "TST001",
            "resource": "aws_ebs_volume.later",
            "reason": "kms_key_id is not known until apply",
        }])
    );

    let summary = &document["summary"];
    assert_eq!(summary["resources"], 7);
    assert_eq!(summary["findings"], 4);
    assert_eq!(
        summary["by_severity"],
        serde_json::json!({"critical": 1, "high": 2, "medium": 1, "low": 0})
    );
    assert_eq!(summary["by_category"]["encryption-at-rest"], 2);
    assert_eq!(summary["by_category"]["encryption-in-transit"], 0);
    assert_eq!(summary["undetermined"], 1);
    assert_eq!(
        summary["modules_not_scanned"][0]["source"],
        "git::https://<redacted>@git.example/vpc.git"
    );
    assert_eq!(summary["rules"]["TST001"]["passed"], 3);
    assert_eq!(
        summary["files"][1],
        format!("{FIXTURES}/modules/volume/main.tf")
    );
    assert_eq!(summary["notes"].as_array().unwrap().len(), 1);
}

#[test]
fn json_keys_come_in_a_fixed_order() {
    let text = render(Format::Json);
    let first = &text[text.find("\"findings\"").unwrap()..];
    let keys = [
        "rule_id",
        "rule_name",
        "category",
        "severity",
        "resource",
        "resource_type",
        "file",
        "line",
        "attribute",
        "message",
        "fix",
        "hipaa",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|key| first.find(&format!("\"{key}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");

    let top = [
        "\"version\"",
        "\"findings\"",
        "\"undetermined\"",
        "\"summary\"",
    ];
    let positions: Vec<usize> = top.iter().map(|key| text.find(key).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(
        text,
        render(Format::Json),
        "the same report renders the same"
    );
}

// ---------------------------------------------------------------------------------------------
// junit

#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attributes
            .get(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", self.name))
    }

    fn count(&self, name: &str) -> usize {
        self.children.iter().filter(|c| c.name == name).count()
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn element(start: &BytesStart) -> Element {
    let mut attributes = BTreeMap::new();
    for attribute in start.attributes() {
        let attribute = attribute.expect("a well-formed attribute");
        let key = attribute.key.as_ref().to_string();
        let value = attribute
            .normalized_value(XmlVersion::Explicit1_0)
            .expect("a well-formed attribute value");
        assert!(
            attributes.insert(key, value.into_owned()).is_none(),
            "duplicate attribute"
        );
    }
    Element {
        name: start.name().as_ref().to_string(),
        attributes,
        ..Element::default()
    }
}

/// Parses XML into a tree, failing on anything not well-formed.
fn parse_xml(xml: &str) -> Element {
    let legal = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c > '\u{FFFF}'
    };
    if let Some(bad) = xml.chars().find(|c| !legal(*c)) {
        panic!("XML 1.0 cannot hold {bad:?}");
    }

    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Element::default()];
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.buffer_position()));
        match event {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => {
                let empty = element(&start);
                stack.last_mut().unwrap().children.push(empty);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack
                    .last_mut()
                    .expect("an open element")
                    .children
                    .push(done);
            }
            Event::Text(text) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&text.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().expect("a character") {
                    Some(c) => c.to_string(),
                    None => {
                        let name: &str = &reference;
                        quick_xml::escape::resolve_predefined_entity(name)
                            .unwrap_or_else(|| panic!("undefined entity &{name};"))
                            .to_string()
                    }
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Event::Decl(_) => {}
            Event::Eof => break,
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    assert!(document.text.trim().is_empty(), "text outside the root");
    document.children.pop().unwrap()
}

#[test]
fn junit_is_well_formed_and_its_counts_add_up() {
    let xml = render(Format::Junit);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    let root = parse_xml(&xml);
    assert_eq!(root.name, "testsuites");

    let mut total = (0, 0, 0);
    for suite in &root.children {
        assert_eq!(suite.name, "testsuite");
        let cases: Vec<&Element> = suite.children.iter().collect();
        let failures = cases
            .iter()
            .filter(|c| c.child("failure").is_some())
            .count();
        let skipped = cases
            .iter()
            .filter(|c| c.child("skipped").is_some())
            .count();
        assert_eq!(suite.attr("tests"), cases.len().to_string());
        assert_eq!(suite.attr("failures"), failures.to_string());
        assert_eq!(suite.attr("skipped"), skipped.to_string());
        assert_eq!(suite.attr("errors"), "0");
        total = (total.0 + cases.len(), total.1 + failures, total.2 + skipped);
    }
    // 4 failures; 1 undetermined; passes counted for TST001 and TST009.
    let keys = &root.children[1];
    assert_eq!(
        keys.children[1].attr("name"),
        "TST009 key-not-rotated: 1 resource passes"
    );
    assert_eq!(total, (7, 4, 1));
    assert_eq!(root.attr("tests"), "7");
    assert_eq!(root.attr("failures"), "4");
    assert_eq!(root.attr("skipped"), "1");

    let names: Vec<&str> = root.children.iter().map(|s| s.attr("name")).collect();
    assert_eq!(
        names,
        [
            "hipaa.encryption-at-rest",
            "hipaa.key-management",
            "hipaa.boundary"
        ]
    );
}

#[test]
fn junit_failures_say_where_what_how_and_why() {
    let root = parse_xml(&render(Format::Junit));
    let at_rest = &root.children[0];
    assert_eq!(at_rest.count("testcase"), 4);

    let volume = &at_rest.children[0];
    assert_eq!(volume.attr("classname"), "hipaa.encryption-at-rest.TST001");
    assert_eq!(
        volume.attr("name"),
        "TST001 storage-not-encrypted: module.volumes[\"intake\"].aws_ebs_volume.this"
    );
    let failure = volume.child("failure").unwrap();
    assert_eq!(failure.attr("type"), "TST001");
    assert_eq!(
        failure.attr("message"),
        "EBS volume is not encrypted at rest"
    );
    let line = line_of(&format!("{FIXTURES}/modules/volume/main.tf"), "encrypted  ");
    assert_eq!(
        failure.text,
        format!(
            "{FIXTURES}/modules/volume/main.tf:{line}\n\
             EBS volume is not encrypted at rest\n\
             Fix: set `encrypted = true`\n\
             HIPAA: 45 CFR 164.312(a)(2)(iv) Encryption and decryption; \
             45 CFR 164.310(d)(1) Device and media controls\n"
        )
    );

    let undetermined = &at_rest.children[2];
    assert_eq!(
        undetermined.child("skipped").unwrap().attr("message"),
        "undetermined: kms_key_id is not known until apply"
    );
    assert_eq!(
        at_rest.children[3].attr("name"),
        "TST001 storage-not-encrypted: 3 resources pass"
    );
}

#[test]
fn junit_escapes_markup_and_control_characters() {
    let root = parse_xml(&render(Format::Junit));
    let keys = &root.children[1];
    let failure = keys.children[0].child("failure").unwrap();
    assert_eq!(
        failure.attr("message"),
        "Key <records> & \"rotation\" isn't on\\u{1b}[31m"
    );
    assert!(failure.text.contains("key store/main.tf:2\n"));
}

#[test]
fn junit_without_rules_or_findings_is_an_empty_run() {
    let xml = render_with(&ScanReport::default(), Format::Junit, &options());
    let root = parse_xml(&xml);
    assert_eq!(root.attr("tests"), "0");
    assert!(root.children.is_empty());
}

// ---------------------------------------------------------------------------------------------
// sarif

fn sarif(report: &ScanReport, options: &OutputOptions) -> Value {
    serde_json::from_str(&render_with(report, Format::Sarif, options)).unwrap()
}

fn assert_no_nulls(value: &Value, path: &str) {
    match value {
        Value::Null => panic!("null at {path}"),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_no_nulls(item, &format!("{path}/{i}"));
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                assert_no_nulls(item, &format!("{path}/{key}"));
            }
        }
        _ => {}
    }
}

/// What GitHub code scanning rejects or mishandles, checked on any SARIF log we write.
fn assert_github_accepts(log: &Value) {
    assert_no_nulls(log, "");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().starts_with("https://"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];

    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "hipaa");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );

    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        assert!(rule.get("helpUri").is_none_or(Value::is_string), "{id}");
        assert!(!rule["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .is_empty());
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        assert!(!rule["help"]["markdown"].as_str().unwrap().is_empty());
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .expect("security-severity is a string")
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.contains(&Value::from("hipaa")), "{id}");
        assert!(tags.contains(&Value::from("security")), "{id}");
    }

    for result in run["results"].as_array().unwrap() {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], rule_id, "ruleIndex of {rule_id}");
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());

        let location = &result["locations"][0];
        let artifact = &location["physicalLocation"]["artifactLocation"];
        let uri = artifact["uri"].as_str().unwrap();
        assert!(!uri.is_empty());
        assert!(
            !uri.starts_with('/') && !uri.contains("://"),
            "{uri} is not relative"
        );
        assert!(!uri.contains('\\') && !uri.contains(' '), "{uri}");
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        assert!(
            location["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
        assert_eq!(location["logicalLocations"][0]["kind"], "resource");
        assert!(location["logicalLocations"][0]["fullyQualifiedName"].is_string());

        let fingerprints = result["partialFingerprints"].as_object().unwrap();
        assert!(!fingerprints.is_empty());
        assert!(fingerprints
            .values()
            .all(|f| !f.as_str().unwrap().is_empty()));
    }
}

#[test]
fn sarif_meets_githubs_ingestion_rules() {
    let log = sarif(&sample_report(), &options());
    assert_github_accepts(&log);

    let run = &log["runs"][0];
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // Every listed rule, then the one only a finding names.
    assert_eq!(rule_ids, ["TST001", "TST002", "TST003", "TST009"]);
    assert_eq!(run["results"].as_array().unwrap().len(), 4);
}

#[test]
fn sarif_describes_rules_from_their_metadata() {
    let log = sarif(&sample_report(), &options());
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["name"], "storage-not-encrypted");
    assert_eq!(
        rule["shortDescription"]["text"],
        "Storage is not encrypted at rest"
    );
    assert_eq!(
        rule["fullDescription"]["text"],
        "Volumes and databases whose storage is not encrypted at rest."
    );
    let markdown = rule["help"]["markdown"].as_str().unwrap();
    assert!(markdown.starts_with("## What it checks\nVolumes and databases"));
    assert!(markdown.contains("```hcl\nencrypted = true\n```"));
    assert!(markdown.contains("- 45 CFR 164.310(d)(1) Device and media controls"));
    assert!(!rule["help"]["text"].as_str().unwrap().contains("## "));
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["security-severity"], "8.0");
    assert_eq!(
        rule["properties"]["tags"],
        serde_json::json!(["security", "hipaa", "encryption-at-rest"])
    );
    assert_eq!(
        rule["properties"]["hipaa"][0],
        "45 CFR 164.312(a)(2)(iv) Encryption and decryption"
    );

    let critical = &log["runs"][0]["tool"]["driver"]["rules"][1];
    assert_eq!(critical["properties"]["security-severity"], "9.5");
}

#[test]
fn sarif_results_point_at_files_lines_and_resources() {
    let log = sarif(&sample_report(), &options());
    let results = log["runs"][0]["results"].as_array().unwrap();
    let line = line_of(&format!("{FIXTURES}/modules/volume/main.tf"), "encrypted  ");

    let volume = &results[0]["locations"][0];
    assert_eq!(
        volume["physicalLocation"]["artifactLocation"]["uri"],
        format!("{FIXTURES}/modules/volume/main.tf")
    );
    assert_eq!(volume["physicalLocation"]["region"]["startLine"], line);
    assert_eq!(
        volume["logicalLocations"][0]["fullyQualifiedName"],
        "module.volumes[\"intake\"].aws_ebs_volume.this"
    );
    assert_eq!(results[0]["level"], "error");
    assert_eq!(
        results[0]["message"]["text"],
        "EBS volume is not encrypted at rest\nFix: set `encrypted = true`"
    );

    let plan = &results[2]["locations"][0]["physicalLocation"];
    assert_eq!(
        plan["artifactLocation"]["uri"],
        format!("{FIXTURES}/plan.json")
    );
    assert_eq!(plan["region"]["startLine"], 1);

    let key = &results[3]["locations"][0]["physicalLocation"];
    assert_eq!(
        key["artifactLocation"]["uri"],
        format!("{FIXTURES}/key%20store/main.tf")
    );
    assert_eq!(results[3]["ruleIndex"], 3);
    assert_eq!(results[3]["level"], "warning");
}

#[test]
fn sarif_fingerprints_survive_a_line_move() {
    let before = sarif(&sample_report(), &options());
    let mut moved = sample_report();
    for finding in &mut moved.findings {
        if let Some(location) = &mut finding.location {
            location.line += 10;
        }
    }
    let after = sarif(&moved, &options());

    let fingerprints = |log: &Value| -> Vec<Value> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(fingerprints(&before), fingerprints(&after));
    let all = fingerprints(&before);
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b, "each (rule, resource) has its own fingerprint");
        }
    }
}

#[test]
fn sarif_makes_absolute_paths_under_the_base_relative() {
    let mut report = sample_report();
    for finding in &mut report.findings {
        if let Some(location) = &mut finding.location {
            location.file = manifest_dir().join(&location.file);
        }
    }
    let options = OutputOptions {
        base_dir: manifest_dir().join(FIXTURES),
        inputs: vec![manifest_dir().join(FIXTURES).join("plan.json")],
        ..options()
    };
    let log = sarif(&report, &options);
    assert_github_accepts(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let uri = |i: usize| {
        results[i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone()
    };
    assert_eq!(uri(0), "modules/volume/main.tf");
    assert_eq!(uri(2), "plan.json");
}

#[test]
fn sarif_names_files_outside_the_base_by_absolute_uri() {
    let mut report = sample_report();
    for finding in &mut report.findings {
        if let Some(location) = &mut finding.location {
            location.file = manifest_dir().join(&location.file);
        }
    }
    let options = OutputOptions {
        base_dir: manifest_dir().join("src"),
        ..options()
    };
    let log = sarif(&report, &options);
    let artifact =
        &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    let expected = manifest_dir().join(FIXTURES).join("modules/volume/main.tf");
    assert_eq!(
        artifact["uri"],
        format!("file://{}", expected.display()).replace(' ', "%20")
    );
    assert!(artifact.get("uriBaseId").is_none());
}

#[test]
fn sarif_reports_undetermined_checks_and_unscanned_modules_as_notifications() {
    let log = sarif(&sample_report(), &options());
    let notifications = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let texts: Vec<&str> = notifications
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "TST001 could not be decided for aws_ebs_volume.later: kms_key_id is not known \
             until apply",
            "module module.vpc (git::https://<redacted>@git.example/vpc.git) was not scanned: \
             remote module not downloaded; run `terraform init`",
            "no hipaa_boundary declared: the boundary rules stayed silent",
        ]
    );
    assert_eq!(notifications[0]["associatedRule"]["index"], 0);
}

#[test]
fn suppressed_findings_stay_visible_in_json_and_are_counted_in_text() {
    let document: Value =
        serde_json::from_str(&render_with(&suppressed_report(), Format::Json, &options())).unwrap();
    let findings = document["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    assert_eq!(findings[0]["suppressed"], false);
    assert!(findings[0].get("suppression").is_none());
    assert_eq!(findings[2]["suppressed"], true);
    assert_eq!(
        findings[2]["suppression"],
        serde_json::json!({
            "kind": "inline",
            "reason": "scratch <volume> & \"test\"",
            "expires": "2999-01-31",
            "file": format!("{FIXTURES}/main.tf"),
            "line": line_of(&format!("{FIXTURES}/main.tf"), "password"),
        })
    );
    assert_eq!(findings[3]["suppression"]["kind"], "baseline");
    assert!(findings[3]["suppression"]["expires"].is_null());
    assert_eq!(document["summary"]["findings"], 2);
    assert_eq!(document["summary"]["suppressed"], 2);
    assert_eq!(
        document["summary"]["stale_baseline"],
        serde_json::json!([{"rule_id": "TST002", "resource": "aws_s3_bucket.gone"}])
    );
    assert_eq!(
        document["summary"]["expired_suppressions"][0]["scope"],
        "aws_db_instance.billing"
    );

    let text = render_with(&suppressed_report(), Format::Text, &options());
    assert!(
        !text.contains("EBS volume is not encrypted at rest"),
        "{text}"
    );
    assert!(text.contains(
        "suppressed: 2 findings (1 inline, 1 by the baseline); `--format json` lists them\n"
    ));
    assert!(text.contains("stale baseline entry: TST002 for aws_s3_bucket.gone"));
    assert!(text.contains("expired on 2001-01-01 and no longer applies (until the migration)"));
}

// ---------------------------------------------------------------------------------------------
// all formats

#[test]
fn no_format_prints_a_secret() {
    for format in Format::ALL {
        let rendered = render(format);
        for secret in SECRETS {
            assert!(!rendered.contains(secret), "{format} printed {secret}");
        }
    }
}

#[test]
fn the_public_entry_point_writes_findings_of_rules_it_does_not_know() {
    for format in Format::ALL {
        let mut out = Vec::new();
        output::write(&sample_report(), format, &options(), &mut out).unwrap();
        let rendered = String::from_utf8(out).unwrap();
        assert!(
            rendered.contains("aws_s3_bucket.claims"),
            "{format}: {rendered}"
        );
    }
    let mut out = Vec::new();
    output::write(&sample_report(), Format::Sarif, &options(), &mut out).unwrap();
    assert_github_accepts(&serde_json::from_slice(&out).unwrap());
}

// ---------------------------------------------------------------------------------------------
// the official schema

/// Runs `tests/sarif/validate.sh` on files. None when the validator cannot be installed here.
fn validate_sarif(files: &[&Path]) -> Option<(i32, String)> {
    let script = manifest_dir().join("../tests/sarif/validate.sh");
    let run = Command::new("bash")
        .arg(&script)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    match run.status.code() {
        Some(3) => {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !in_ci,
                "the SARIF validator must be available in CI:\n{text}"
            );
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 SKIPPED: SARIF schema validation; the validator is unavailable:\n{text}\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            None
        }
        code => Some((code.unwrap_or(-1), text)),
    }
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("output-sarif");
    std::fs::create_dir_all(&dir).unwrap();

    let sample = dir.join("sample.sarif");
    std::fs::write(&sample, render(Format::Sarif)).unwrap();
    let suppressed = dir.join("suppressed.sarif");
    let suppressed_log = render_with(&suppressed_report(), Format::Sarif, &options());
    let parsed: Value = serde_json::from_str(&suppressed_log).unwrap();
    assert_eq!(parsed["runs"][0]["results"].as_array().unwrap().len(), 4);
    assert_eq!(
        parsed["runs"][0]["results"][2]["suppressions"][0]["kind"],
        "inSource"
    );
    assert_eq!(
        parsed["runs"][0]["results"][3]["suppressions"][0]["kind"],
        "external"
    );
    std::fs::write(&suppressed, suppressed_log).unwrap();
    let empty = dir.join("empty.sarif");
    std::fs::write(
        &empty,
        render_with(&ScanReport::default(), Format::Sarif, &options()),
    )
    .unwrap();

    // A log the schema rejects, so a validator that accepts anything is caught.
    let mut broken: Value = serde_json::from_str(&render(Format::Sarif)).unwrap();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    let broken_file = dir.join("broken.sarif");
    std::fs::write(&broken_file, broken.to_string()).unwrap();

    let Some((code, text)) = validate_sarif(&[&sample, &empty, &suppressed]) else {
        return;
    };
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("sample.sarif: valid SARIF 2.1.0"), "{text}");
    assert!(
        text.contains("suppressed.sarif: valid SARIF 2.1.0"),
        "{text}"
    );

    let (code, text) = validate_sarif(&[&broken_file]).expect("the validator ran a moment ago");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("/runs/0/results/0/level"), "{text}");
    assert!(text.contains("startLine"), "{text}");
}
