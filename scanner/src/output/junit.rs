//! The JUnit XML format, for CI dashboards that show test results.
//!
//! One `<testsuite>` per rule category. In it, per rule: one failing `<testcase>` per resource
//! that breaks the rule, one skipped `<testcase>` per resource the rule could not decide, and one
//! passing `<testcase>` counting the resources that pass. A suppressed finding is a skipped
//! `<testcase>` whose message gives the reason. The `tests`, `failures` and `skipped`
//! attributes count those test cases. The XML is written by hand; [`escape`] makes any text
//! safe in an attribute or an element.

use super::{citation_text, place_of, plural, OutputOptions, RuleCatalogue};
use crate::engine::ScanReport;
use crate::finding::{Category, Finding};
use std::io;

/// The suite for rules known only by id, whose category is not known.
const UNCATEGORISED: &str = "uncategorised";

enum Outcome {
    Pass,
    Failure {
        message: String,
        rule_id: String,
        text: String,
    },
    Skipped {
        message: String,
    },
}

struct TestCase {
    classname: String,
    name: String,
    file: Option<String>,
    line: Option<u32>,
    outcome: Outcome,
}

struct TestSuite {
    name: String,
    cases: Vec<TestCase>,
}

impl TestSuite {
    fn failures(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Failure { .. }))
    }

    fn skipped(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Skipped { .. }))
    }

    fn count(&self, predicate: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| predicate(&c.outcome)).count()
    }
}

pub(super) fn write(
    report: &ScanReport,
    options: &OutputOptions,
    catalogue: &RuleCatalogue,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let suites = suites(report, options, catalogue);
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(TestSuite::failures).sum();
    let skipped: usize = suites.iter().map(TestSuite::skipped).sum();

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="hipaa" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#
    )?;
    for suite in &suites {
        write_suite(suite, out)?;
    }
    writeln!(out, "</testsuites>")
}

fn write_suite(suite: &TestSuite, out: &mut dyn io::Write) -> io::Result<()> {
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="{}">"#,
        escape(&suite.name),
        suite.cases.len(),
        suite.failures(),
        suite.skipped()
    )?;
    for case in &suite.cases {
        write!(
            out,
            r#"    <testcase classname="{}" name="{}""#,
            escape(&case.classname),
            escape(&case.name)
        )?;
        if let Some(file) = &case.file {
            write!(out, r#" file="{}""#, escape(file))?;
        }
        if let Some(line) = case.line {
            write!(out, r#" line="{line}""#)?;
        }
        match &case.outcome {
            Outcome::Pass => writeln!(out, "/>")?,
            Outcome::Failure {
                message,
                rule_id,
                text,
            } => {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    r#"      <failure message="{}" type="{}">{}</failure>"#,
                    escape(message),
                    escape(rule_id),
                    escape_text(text)
                )?;
                writeln!(out, "    </testcase>")?;
            }
            Outcome::Skipped { message } => {
                writeln!(out, ">")?;
                writeln!(out, r#"      <skipped message="{}"/>"#, escape(message))?;
                writeln!(out, "    </testcase>")?;
            }
        }
    }
    writeln!(out, "  </testsuite>")
}

/// The suites, in category order, each holding its rules' cases in catalogue order.
fn suites(
    report: &ScanReport,
    options: &OutputOptions,
    catalogue: &RuleCatalogue,
) -> Vec<TestSuite> {
    let mut rule_ids: Vec<&str> = catalogue.rules.iter().map(|rule| rule.id).collect();
    let mentioned = report
        .summary
        .rules
        .keys()
        .copied()
        .chain(report.undetermined.iter().map(|u| u.rule_id));
    for id in mentioned {
        if !rule_ids.contains(&id) {
            rule_ids.push(id);
        }
    }

    let suite_names = Category::ALL
        .iter()
        .map(|category| category.as_str())
        .chain(std::iter::once(UNCATEGORISED));
    let mut suites = Vec::new();
    for suite_name in suite_names {
        let mut cases = Vec::new();
        for id in &rule_ids {
            let rule = catalogue.get(id);
            let category = rule.map_or(UNCATEGORISED, |rule| rule.category.as_str());
            if category == suite_name {
                let name = rule.map_or(*id, |rule| rule.name);
                cases.extend(rule_cases(report, options, category, id, name));
            }
        }
        if !cases.is_empty() {
            suites.push(TestSuite {
                name: format!("hipaa.{suite_name}"),
                cases,
            });
        }
    }
    suites
}

fn rule_cases(
    report: &ScanReport,
    options: &OutputOptions,
    category: &str,
    rule_id: &str,
    rule_name: &str,
) -> Vec<TestCase> {
    let classname = format!("hipaa.{category}.{rule_id}");
    let mut cases = Vec::new();

    for finding in report.findings.iter().filter(|f| f.rule_id == rule_id) {
        let place = place_of(finding, options);
        cases.push(TestCase {
            classname: classname.clone(),
            name: format!("{rule_id} {rule_name}: {}", finding.resource),
            file: place.as_ref().map(|p| p.path.as_str().to_string()),
            line: place.as_ref().and_then(|p| p.line),
            outcome: Outcome::Failure {
                message: finding.message.clone(),
                rule_id: rule_id.to_string(),
                text: failure_text(finding, options),
            },
        });
    }

    let suppressed = report
        .suppressions
        .findings
        .iter()
        .filter(|s| s.finding.rule_id == rule_id);
    for suppressed in suppressed {
        let place = place_of(&suppressed.finding, options);
        cases.push(TestCase {
            classname: classname.clone(),
            name: format!("{rule_id} {rule_name}: {}", suppressed.finding.resource),
            file: place.as_ref().map(|p| p.path.as_str().to_string()),
            line: place.as_ref().and_then(|p| p.line),
            outcome: Outcome::Skipped {
                message: format!("suppressed: {}", suppressed.suppression.reason),
            },
        });
    }

    for undetermined in report.undetermined.iter().filter(|u| u.rule_id == rule_id) {
        cases.push(TestCase {
            classname: classname.clone(),
            name: format!("{rule_id} {rule_name}: {}", undetermined.resource),
            file: None,
            line: None,
            outcome: Outcome::Skipped {
                message: format!("undetermined: {}", undetermined.reason),
            },
        });
    }

    let passed = report.summary.rules.get(rule_id).map_or(0, |t| t.passed);
    if passed > 0 {
        cases.push(TestCase {
            classname,
            name: format!(
                "{rule_id} {rule_name}: {}",
                plural(passed, "resource passes", "resources pass")
            ),
            file: None,
            line: None,
            outcome: Outcome::Pass,
        });
    }
    cases
}

/// Where, what, how to fix and which paragraphs, one per line.
fn failure_text(finding: &Finding, options: &OutputOptions) -> String {
    let place = match place_of(finding, options) {
        Some(place) => match place.line {
            Some(line) => format!("{}:{line}", place.path.as_str()),
            None => format!("{} (resource {})", place.path.as_str(), finding.resource),
        },
        None => format!("resource {}", finding.resource),
    };
    let mut text = format!("{place}\n{}\n", finding.message);
    if !finding.fix.is_empty() {
        text.push_str(&format!("Fix: {}\n", finding.fix));
    }
    if !finding.hipaa.is_empty() {
        let citations: Vec<String> = finding.hipaa.iter().map(|p| citation_text(p)).collect();
        text.push_str(&format!("HIPAA: {}\n", citations.join("; ")));
    }
    text
}

/// Escapes text for an XML 1.0 attribute value. Markup characters become entities; tab,
/// newline and carriage return become character references so the value keeps them; the other
/// control characters, which XML 1.0 cannot carry at all, are written as a visible `\u{..}`
/// escape.
fn escape(text: &str) -> String {
    escape_xml(text, false)
}

/// Escapes text for an XML 1.0 element, as [`escape`] does but keeping newlines and tabs as
/// they are, for readability.
fn escape_text(text: &str) -> String {
    escape_xml(text, true)
}

fn escape_xml(text: &str, keep_line_breaks: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if keep_line_breaks => escaped.push(c),
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' => escaped.push_str("&#9;"),
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            c if is_forbidden_in_xml(c) => escaped.extend(c.escape_unicode()),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Characters outside XML 1.0's `Char` production (tab, newline and carriage return aside).
fn is_forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            escape(r#"a<b>&"c"'d'"#),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
        assert_eq!(escape("x\u{1}y\u{FFFF}"), "x\\u{1}y\\u{ffff}");
        assert_eq!(escape("l1\nl2\tend\r"), "l1&#10;l2&#9;end&#13;");
        assert_eq!(escape("ünïcode €"), "ünïcode €");
        assert_eq!(escape_text("l1\nl2\t<\r"), "l1\nl2\t&lt;&#13;");
    }
}
