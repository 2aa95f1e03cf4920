//! `hipaa report`: a HIPAA Security Rule report for people (auditors, a security office), as
//! Markdown or a self-contained HTML page.
//!
//! One section per standard of 45 CFR Part 164 Subpart C the rules serve (164.308 to 164.316):
//! the rules behind it with their pass, fail, suppressed and undetermined counts, its findings,
//! and, when a ledger is given, the evidence the ledger holds for it. A rule citing paragraphs
//! of several sections appears in each. Written from the [`ScanReport`] and the
//! [`LedgerEvidence`] alone; like every output, it never prints an attribute value of a scanned
//! resource, only messages written without them.

mod document;

use crate::dates::Date;
use crate::engine::{RuleTally, ScanReport};
use crate::evidence::{self, AgreementStatus, Declarations, LedgerEvidence};
use crate::finding::{Finding, Severity};
use crate::output::redact::redact_url_credentials;
use crate::output::{place_of, plural, OutputOptions};
use crate::rules::{self, RuleMeta};
use crate::suppress::SuppressionKind;
use document::{Block, Tone};
use hipaa_compliance::citations::{self, SECTIONS};

/// The formats of `hipaa report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown, with tables as GitHub renders them.
    Md,
    /// One HTML page with its styles inline: no scripts, nothing loaded from elsewhere.
    Html,
}

/// Which declarations of the ledger are evidence for which standard, and under which paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EvidenceKind {
    PhiSystems,
    Reviews,
    AccessRoles,
    Agreements,
    Licenses,
}

const EVIDENCE: &[(&str, EvidenceKind, &str)] = &[
    ("164.308", EvidenceKind::PhiSystems, "164.308(a)(1)(ii)(A)"),
    ("164.308", EvidenceKind::Reviews, "164.308(a)(8)"),
    ("164.312", EvidenceKind::AccessRoles, "164.312(d)"),
    ("164.314", EvidenceKind::Agreements, "164.314(a)(1)"),
    ("164.316", EvidenceKind::Licenses, "164.316(b)(1)"),
];

/// What a report is written from.
pub struct ReportInput<'a> {
    pub scan: &'a ScanReport,
    /// The paths scanned, as named.
    pub inputs: &'a [String],
    pub severity: Severity,
    pub evidence: Option<&'a LedgerEvidence>,
    pub today: Date,
    /// Where findings' files are shown relative to.
    pub output: &'a OutputOptions,
}

/// Renders a report.
pub fn render(input: &ReportInput, format: ReportFormat) -> String {
    let blocks = blocks(input);
    match format {
        ReportFormat::Md => document::markdown(&blocks),
        ReportFormat::Html => document::html("HIPAA Security Rule report", &blocks),
    }
}

/// One standard's share of the scan.
struct Section {
    id: &'static str,
    title: &'static str,
    rules: Vec<(&'static RuleMeta, RuleTally, usize)>,
    counts: Counts,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: usize,
    failed: usize,
    suppressed: usize,
    undetermined: usize,
}

impl Counts {
    fn blocks(self) -> Block {
        Block::Counts(vec![
            (self.passed, "passed", Tone::Good),
            (self.failed, "failed", tone_if(self.failed, Tone::Bad)),
            (
                self.suppressed,
                "suppressed",
                tone_if(self.suppressed, Tone::Warn),
            ),
            (self.undetermined, "undetermined", Tone::Muted),
        ])
    }
}

fn tone_if(count: usize, tone: Tone) -> Tone {
    if count > 0 {
        tone
    } else {
        Tone::Muted
    }
}

fn section_of(paragraph: &str) -> &str {
    match citations::find(paragraph) {
        Some(citation) => citation.section(),
        None => paragraph.split('(').next().unwrap_or(paragraph),
    }
}

fn serves(rule: &RuleMeta, section: &str) -> bool {
    rule.hipaa.iter().any(|p| section_of(p) == section)
}

fn sections(scan: &ScanReport) -> Vec<Section> {
    SECTIONS
        .iter()
        .map(|(id, title)| {
            let mut counts = Counts::default();
            let mut rules = Vec::new();
            for rule in rules::all().iter().map(|rule| rule.meta()) {
                let Some(tally) = scan.summary.rules.get(rule.id) else {
                    continue; // disabled
                };
                if !serves(rule, id) {
                    continue;
                }
                let failed = scan
                    .findings
                    .iter()
                    .filter(|f| f.rule_id == rule.id)
                    .count();
                let suppressed = scan
                    .suppressions
                    .findings
                    .iter()
                    .filter(|s| s.finding.rule_id == rule.id)
                    .count();
                counts.passed += tally.passed;
                counts.failed += failed;
                counts.suppressed += suppressed;
                counts.undetermined += tally.undetermined;
                let shown = RuleTally {
                    passed: tally.passed,
                    failed,
                    undetermined: tally.undetermined,
                };
                rules.push((rule, shown, suppressed));
            }
            Section {
                id,
                title,
                rules,
                counts,
            }
        })
        .collect()
}

fn anchor(section: &str) -> String {
    format!("section-{}", section.replace('.', "-"))
}

fn blocks(input: &ReportInput) -> Vec<Block> {
    let scan = input.scan;
    let sections = sections(scan);
    let mut out = vec![
        Block::Heading {
            level: 1,
            id: None,
            text: "HIPAA Security Rule report".into(),
        },
        Block::Paragraph(format!(
            "Generated on {} by hipaa {} from {}: {} resources in {} files, judged against \
             45 CFR Part 164 Subpart C. Findings at or above severity {} are counted.",
            input.today,
            env!("CARGO_PKG_VERSION"),
            input.inputs.join(", "),
            scan.summary.resources,
            scan.summary.files.len(),
            input.severity
        )),
    ];

    // Over all rules, each counted once however many standards it serves.
    let total = Counts {
        passed: scan.summary.rules.values().map(|t| t.passed).sum(),
        failed: scan.findings.len(),
        suppressed: scan.suppressions.findings.len(),
        undetermined: scan.summary.rules.values().map(|t| t.undetermined).sum(),
    };
    out.push(total.blocks());

    out.push(Block::Heading {
        level: 2,
        id: Some("summary".into()),
        text: "Summary by standard".into(),
    });
    let declarations = input.evidence.map(|e| &e.declarations);
    out.push(Block::Table {
        headers: vec![
            "Standard",
            "Title",
            "Rules",
            "Passed",
            "Failed",
            "Suppressed",
            "Undetermined",
            "Ledger evidence",
        ],
        rows: sections
            .iter()
            .map(|section| {
                vec![
                    format!("45 CFR {}", section.id),
                    section.title.to_string(),
                    section.rules.len().to_string(),
                    section.counts.passed.to_string(),
                    section.counts.failed.to_string(),
                    section.counts.suppressed.to_string(),
                    section.counts.undetermined.to_string(),
                    evidence_summary(section.id, declarations),
                ]
            })
            .collect(),
    });

    out.extend(ledger_blocks(input.evidence));
    for section in &sections {
        out.extend(section_blocks(input, section));
    }
    out.extend(closing_blocks(input));
    out
}

fn evidence_summary(section: &str, declarations: Option<&Declarations>) -> String {
    let Some(declarations) = declarations else {
        return "no ledger given".into();
    };
    let parts: Vec<String> = EVIDENCE
        .iter()
        .filter(|(s, _, _)| *s == section)
        .map(|(_, kind, _)| {
            let (count, one, many) = match kind {
                EvidenceKind::PhiSystems => {
                    (declarations.phi_systems.len(), "PHI system", "PHI systems")
                }
                EvidenceKind::Reviews => (
                    declarations.reviews.len(),
                    "security review",
                    "security reviews",
                ),
                EvidenceKind::AccessRoles => {
                    (declarations.roles.len(), "access role", "access roles")
                }
                EvidenceKind::Agreements => (declarations.agreements.len(), "BAA", "BAAs"),
                EvidenceKind::Licenses => (declarations.licenses.len(), "license", "licenses"),
            };
            plural(count, one, many)
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

fn ledger_blocks(evidence: Option<&LedgerEvidence>) -> Vec<Block> {
    let mut out = vec![Block::Heading {
        level: 2,
        id: Some("ledger".into()),
        text: "Attestation ledger".into(),
    }];
    let Some(evidence) = evidence else {
        out.push(Block::Callout(
            Tone::Muted,
            "No ledger was given, so this report holds no attested evidence; `hipaa report \
             --ledger DIR` adds what terraform-provider-hipaa recorded."
                .into(),
        ));
        return out;
    };
    let head = evidence.head.as_deref().unwrap_or("none (empty ledger)");
    if evidence.intact {
        out.push(Block::Callout(
            Tone::Good,
            format!(
                "{}: {} records, head {head}: the chain is intact (no record edited, removed \
                 or reordered).",
                evidence.dir.display(),
                evidence.records
            ),
        ));
    } else {
        out.push(Block::Callout(
            Tone::Bad,
            format!(
                "{}: {} records, head {head}: the chain is NOT intact; the evidence below \
                 cannot be relied on.",
                evidence.dir.display(),
                evidence.records
            ),
        ));
        out.push(Block::List(evidence.problems.clone()));
    }
    out
}

fn section_blocks(input: &ReportInput, section: &Section) -> Vec<Block> {
    let scan = input.scan;
    let mut out = vec![
        Block::Heading {
            level: 2,
            id: Some(anchor(section.id)),
            text: format!("45 CFR {} {}", section.id, section.title),
        },
        section.counts.blocks(),
        Block::Heading {
            level: 3,
            id: None,
            text: "Rules".into(),
        },
    ];

    if section.rules.is_empty() {
        out.push(Block::Paragraph(
            "No rule of the scanner serves this standard; its evidence comes from the ledger."
                .into(),
        ));
    } else {
        out.push(Block::Table {
            headers: vec![
                "Rule",
                "Checks",
                "Paragraphs",
                "Passed",
                "Failed",
                "Suppressed",
                "Undetermined",
            ],
            rows: section
                .rules
                .iter()
                .map(|(rule, tally, suppressed)| {
                    let paragraphs: Vec<&str> = rule
                        .hipaa
                        .iter()
                        .copied()
                        .filter(|p| section_of(p) == section.id)
                        .collect();
                    vec![
                        format!("{} {}", rule.id, rule.name),
                        rule.title.to_string(),
                        paragraphs.join(", "),
                        tally.passed.to_string(),
                        tally.failed.to_string(),
                        suppressed.to_string(),
                        tally.undetermined.to_string(),
                    ]
                })
                .collect(),
        });
    }

    let in_section = |finding: &Finding| {
        section
            .rules
            .iter()
            .any(|(rule, _, _)| rule.id == finding.rule_id)
    };
    let findings: Vec<&Finding> = scan.findings.iter().filter(|f| in_section(f)).collect();
    if !section.rules.is_empty() {
        out.push(Block::Heading {
            level: 3,
            id: None,
            text: "Findings".into(),
        });
        if findings.is_empty() {
            out.push(Block::Paragraph("No findings.".into()));
        } else {
            out.push(Block::Table {
                headers: vec![
                    "Severity",
                    "Rule",
                    "Resource",
                    "Where",
                    "What is wrong",
                    "Fix",
                ],
                rows: findings
                    .iter()
                    .map(|finding| {
                        vec![
                            finding.severity.to_string(),
                            finding.rule_id.to_string(),
                            finding.resource.clone(),
                            where_of(finding, input.output),
                            finding.message.clone(),
                            finding.fix.clone(),
                        ]
                    })
                    .collect(),
            });
        }
    }

    let suppressed: Vec<_> = scan
        .suppressions
        .findings
        .iter()
        .filter(|s| in_section(&s.finding))
        .collect();
    if !suppressed.is_empty() {
        out.push(Block::Heading {
            level: 3,
            id: None,
            text: "Suppressed findings".into(),
        });
        out.push(Block::Table {
            headers: vec!["Rule", "Resource", "Accepted by", "Reason", "Until"],
            rows: suppressed
                .iter()
                .map(|s| {
                    let by = match (&s.suppression.kind, &s.suppression.location) {
                        (SuppressionKind::Inline, Some(location)) => format!(
                            "comment at {}:{}",
                            crate::output::artifact_path(&location.file, &input.output.base_dir)
                                .as_str(),
                            location.line
                        ),
                        (SuppressionKind::Inline, None) => "comment".into(),
                        (SuppressionKind::Baseline, _) => "baseline".into(),
                    };
                    vec![
                        s.finding.rule_id.to_string(),
                        s.finding.resource.clone(),
                        by,
                        s.suppression.reason.clone(),
                        s.suppression
                            .expires
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "no expiry".into()),
                    ]
                })
                .collect(),
        });
    }

    out.extend(section_evidence(input, section.id));
    out
}

fn where_of(finding: &Finding, options: &OutputOptions) -> String {
    match place_of(finding, options) {
        Some(place) => match place.line {
            Some(line) => format!("{}:{line}", place.path.as_str()),
            None => place.path.as_str().to_string(),
        },
        None => String::new(),
    }
}

fn section_evidence(input: &ReportInput, section: &str) -> Vec<Block> {
    let Some(evidence) = input.evidence else {
        return Vec::new();
    };
    let declarations = &evidence.declarations;
    let kinds: Vec<_> = EVIDENCE.iter().filter(|(s, _, _)| *s == section).collect();
    if kinds.is_empty() {
        return vec![
            Block::Heading {
                level: 3,
                id: None,
                text: "Ledger evidence".into(),
            },
            Block::Paragraph("The ledger records nothing for this standard.".into()),
        ];
    }
    let mut out = Vec::new();
    for (_, kind, paragraph) in kinds {
        let title = match kind {
            EvidenceKind::PhiSystems => "PHI systems",
            EvidenceKind::Reviews => "Security reviews",
            EvidenceKind::AccessRoles => "Access roles",
            EvidenceKind::Agreements => "Business associate agreements",
            EvidenceKind::Licenses => "License terms and version history",
        };
        out.push(Block::Heading {
            level: 3,
            id: None,
            text: format!(
                "{title} (ledger; {})",
                crate::output::citation_text(paragraph)
            ),
        });
        out.extend(match kind {
            EvidenceKind::PhiSystems => phi_system_blocks(declarations),
            EvidenceKind::Reviews => review_blocks(declarations, input.today),
            EvidenceKind::AccessRoles => role_blocks(declarations),
            EvidenceKind::Agreements => agreement_blocks(declarations),
            EvidenceKind::Licenses => license_blocks(declarations),
        });
    }
    out
}

fn none_recorded(what: &str) -> Vec<Block> {
    vec![Block::Callout(
        Tone::Warn,
        format!("The ledger records no {what}."),
    )]
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

fn phi_system_blocks(declarations: &Declarations) -> Vec<Block> {
    if declarations.phi_systems.is_empty() {
        return none_recorded("PHI systems");
    }
    vec![Block::Table {
        headers: vec![
            "System",
            "Resource",
            "Handles",
            "Data classes",
            "Owner",
            "License",
            "Covered by",
        ],
        rows: declarations
            .phi_systems
            .iter()
            .map(|system| {
                vec![
                    system.name.clone(),
                    system.resource.clone(),
                    list(&system.handles),
                    list(&system.data_classes),
                    system.owner.clone(),
                    evidence::license_name(declarations, &system.license_id),
                    list(&system.agreements),
                ]
            })
            .collect(),
    }]
}

fn review_blocks(declarations: &Declarations, today: Date) -> Vec<Block> {
    if declarations.reviews.is_empty() {
        return none_recorded("security reviews");
    }
    let mut out = Vec::new();
    let overdue = declarations.reviews.iter().filter(|r| r.overdue).count();
    if overdue > 0 {
        out.push(Block::Callout(
            Tone::Bad,
            format!("{overdue} security review(s) are overdue."),
        ));
    }
    out.push(Block::Table {
        headers: vec!["License", "Performed on", "Reviewer", "Next due", "Status"],
        rows: declarations
            .reviews
            .iter()
            .map(|review| {
                let status = match review.next_due {
                    Some(due) if review.overdue => {
                        format!("overdue by {} days", due.days_until(today))
                    }
                    Some(due) => format!("due in {} days", today.days_until(due)),
                    None => "no due date recorded".into(),
                };
                vec![
                    evidence::license_name(declarations, &review.license_id),
                    review.performed_on.clone(),
                    review.reviewer.clone(),
                    review.next_due.map(|d| d.to_string()).unwrap_or_default(),
                    status,
                ]
            })
            .collect(),
    });
    out
}

fn mfa_text(mfa: Option<bool>) -> &'static str {
    match mfa {
        Some(true) => "required",
        Some(false) => "NOT required",
        None => "unknown",
    }
}

fn role_blocks(declarations: &Declarations) -> Vec<Block> {
    if declarations.roles.is_empty() {
        return none_recorded("access roles");
    }
    let mut out = Vec::new();
    let without = declarations
        .roles
        .iter()
        .filter(|r| r.mfa_required == Some(false))
        .count();
    if without > 0 {
        out.push(Block::Callout(
            Tone::Bad,
            format!("{without} access role(s) do not require multi-factor authentication."),
        ));
    }
    out.push(Block::Table {
        headers: vec![
            "Role",
            "License",
            "Permissions",
            "Members",
            "MFA",
            "Session limit (minutes)",
        ],
        rows: declarations
            .roles
            .iter()
            .map(|role| {
                vec![
                    role.name.clone(),
                    evidence::license_name(declarations, &role.license_id),
                    list(&role.permissions),
                    list(&role.members),
                    mfa_text(role.mfa_required).to_string(),
                    role.max_session_minutes.clone(),
                ]
            })
            .collect(),
    });
    out
}

fn agreement_blocks(declarations: &Declarations) -> Vec<Block> {
    if declarations.agreements.is_empty() {
        return none_recorded("business associate agreements");
    }
    let mut out = Vec::new();
    let expired = declarations
        .agreements
        .iter()
        .filter(|a| a.status == AgreementStatus::Expired)
        .count();
    if expired > 0 {
        out.push(Block::Callout(
            Tone::Bad,
            format!("{expired} agreement(s) have expired."),
        ));
    }
    out.push(Block::Table {
        headers: vec![
            "Vendor",
            "Services",
            "Effective",
            "Expires",
            "Status",
            "Days left",
        ],
        rows: declarations
            .agreements
            .iter()
            .map(|agreement| {
                vec![
                    agreement.vendor.clone(),
                    list(&agreement.services),
                    agreement.effective.clone(),
                    agreement.expires.clone(),
                    agreement.status.as_str().to_string(),
                    agreement
                        .days_left
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ]
            })
            .collect(),
    });
    out
}

fn license_blocks(declarations: &Declarations) -> Vec<Block> {
    if declarations.licenses.is_empty() {
        return none_recorded("licenses");
    }
    let mut out = Vec::new();
    for license in &declarations.licenses {
        out.push(Block::Paragraph(format!(
            "License {} (id {}), version {}:",
            license.name, license.id, license.version
        )));
        out.push(Block::Table {
            headers: vec!["Term", "Value"],
            rows: license
                .terms
                .iter()
                .map(|(label, value)| vec![label.to_string(), value.clone()])
                .collect(),
        });
        out.push(Block::Table {
            headers: vec!["Recorded on", "Change", "Version"],
            rows: license
                .history
                .iter()
                .map(|change| {
                    vec![
                        change.recorded_on.to_string(),
                        change.action.to_string(),
                        change.version.clone(),
                    ]
                })
                .collect(),
        });
    }
    out
}

/// What asks for attention beyond the sections: expired suppressions, stale baseline entries,
/// modules not scanned, notes.
fn closing_blocks(input: &ReportInput) -> Vec<Block> {
    let scan = input.scan;
    let mut out = Vec::new();
    let mut items = Vec::new();
    for expired in &scan.suppressions.expired {
        items.push(format!(
            "The suppression of {} for {} ({}:{}) expired on {} and no longer applies: {}",
            expired.rule_id,
            expired.scope(),
            crate::output::artifact_path(&expired.location.file, &input.output.base_dir).as_str(),
            expired.location.line,
            expired.expires.map(|d| d.to_string()).unwrap_or_default(),
            expired.reason
        ));
    }
    for stale in &scan.suppressions.stale {
        items.push(format!(
            "The baseline accepts {} for {}, which is no longer found.",
            stale.rule_id, stale.resource
        ));
    }
    for module in &scan.summary.modules_not_scanned {
        items.push(format!(
            "Module {} ({}) was not scanned: {}",
            module.address,
            redact_url_credentials(&module.source),
            redact_url_credentials(&module.reason)
        ));
    }
    if !scan.undetermined.is_empty() {
        items.push(format!(
            "{} checks could not be decided before apply; `hipaa scan --format json` lists \
             them.",
            scan.undetermined.len()
        ));
    }
    for note in &scan.summary.notes {
        items.push(redact_url_credentials(note).into_owned());
    }
    if !items.is_empty() {
        out.push(Block::Heading {
            level: 2,
            id: Some("notes".into()),
            text: "Notes".into(),
        });
        out.push(Block::List(items));
    }
    out
}
