//! The HIPAA Security Rule (45 CFR Part 164, Subpart C) standards and implementation
//! specifications that this project's rules serve.
//!
//! Each entry carries the paragraph as it is cited, its title in the regulation and whether the
//! specification is required or addressable. Addressable specifications must still be met, or a
//! documented equivalent put in place (164.306(d)(3)); for PHI in cloud storage that equivalent is
//! rarely defensible, so the rules treat them as required.

use serde::Serialize;

/// Whether an implementation specification is required or addressable under 164.306(d).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Obligation {
    /// The standard itself: always required.
    Standard,
    Required,
    Addressable,
}

/// One citable paragraph of 45 CFR Part 164.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The paragraph as lawyers cite it, without the part number, e.g. `164.312(a)(2)(iv)`.
    pub paragraph: &'static str,
    /// The title the regulation gives it.
    pub title: &'static str,
    pub obligation: Obligation,
}

impl Citation {
    /// The section this paragraph belongs to, e.g. `164.312`.
    pub fn section(&self) -> &'static str {
        self.paragraph.split('(').next().unwrap_or(self.paragraph)
    }

    /// The full citation, e.g. `45 CFR 164.312(a)(2)(iv)`.
    pub fn full(&self) -> String {
        format!("45 CFR {}", self.paragraph)
    }
}

/// The sections of the Security Rule with their titles, for grouping evidence.
pub const SECTIONS: &[(&str, &str)] = &[
    ("164.308", "Administrative safeguards"),
    ("164.310", "Physical safeguards"),
    ("164.312", "Technical safeguards"),
    ("164.314", "Organizational requirements"),
    (
        "164.316",
        "Policies and procedures and documentation requirements",
    ),
];

const fn cite(paragraph: &'static str, title: &'static str, obligation: Obligation) -> Citation {
    Citation {
        paragraph,
        title,
        obligation,
    }
}

use Obligation::{Addressable, Required, Standard};

/// Every paragraph a rule or a license term may cite. Rules refer to entries by paragraph.
pub const CATALOGUE: &[Citation] = &[
    cite("164.308(a)(1)(ii)(A)", "Risk analysis", Required),
    cite("164.308(a)(1)(ii)(B)", "Risk management", Required),
    cite(
        "164.308(a)(1)(ii)(D)",
        "Information system activity review",
        Required,
    ),
    cite(
        "164.308(a)(3)(ii)(B)",
        "Workforce clearance procedure",
        Addressable,
    ),
    cite("164.308(a)(4)(ii)(B)", "Access authorization", Addressable),
    cite(
        "164.308(a)(5)(ii)(B)",
        "Protection from malicious software",
        Addressable,
    ),
    cite("164.308(a)(6)(ii)", "Response and reporting", Required),
    cite("164.308(a)(7)(ii)(A)", "Data backup plan", Required),
    cite("164.308(a)(8)", "Evaluation", Standard),
    cite(
        "164.308(b)(1)",
        "Business associate contracts and other arrangements",
        Standard,
    ),
    cite("164.310(d)(1)", "Device and media controls", Standard),
    cite("164.310(d)(2)(iv)", "Data backup and storage", Addressable),
    cite("164.312(a)(1)", "Access control", Standard),
    cite(
        "164.312(a)(2)(iv)",
        "Encryption and decryption",
        Addressable,
    ),
    cite("164.312(b)", "Audit controls", Standard),
    cite("164.312(c)(1)", "Integrity", Standard),
    cite("164.312(d)", "Person or entity authentication", Standard),
    cite("164.312(e)(1)", "Transmission security", Standard),
    cite("164.312(e)(2)(i)", "Integrity controls", Addressable),
    cite("164.312(e)(2)(ii)", "Encryption", Addressable),
    cite(
        "164.314(a)(1)",
        "Business associate contracts or other arrangements",
        Standard,
    ),
    cite(
        "164.314(a)(2)(i)(C)",
        "Report security incidents and breaches",
        Required,
    ),
    cite("164.316(b)(1)", "Documentation", Standard),
    cite(
        "164.316(b)(2)(i)",
        "Time limit (retain documentation six years)",
        Required,
    ),
    cite("164.316(b)(2)(iii)", "Updates", Required),
    cite(
        "164.410(b)",
        "Notification by a business associate: timeliness",
        Required,
    ),
];

/// Looks a paragraph up in the catalogue.
pub fn find(paragraph: &str) -> Option<&'static Citation> {
    CATALOGUE.iter().find(|c| c.paragraph == paragraph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_paragraph_belongs_to_a_known_section_or_the_breach_rule() {
        for citation in CATALOGUE {
            let section = citation.section();
            let known = SECTIONS.iter().any(|(s, _)| *s == section) || section == "164.410";
            assert!(known, "{} has no section", citation.paragraph);
        }
    }

    #[test]
    fn paragraphs_are_unique() {
        for (i, a) in CATALOGUE.iter().enumerate() {
            for b in &CATALOGUE[i + 1..] {
                assert_ne!(a.paragraph, b.paragraph);
            }
        }
    }
}
