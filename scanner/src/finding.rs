//! The finding model every part of the product reports in: the scanner over code and plans, and
//! the account audit over live resources.

use crate::model::Location;
use serde::Serialize;
use std::fmt;

/// How bad a finding is. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rule families; the JSON `category` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    EncryptionAtRest,
    EncryptionInTransit,
    KeyManagement,
    Boundary,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::EncryptionAtRest,
        Category::EncryptionInTransit,
        Category::KeyManagement,
        Category::Boundary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::EncryptionAtRest => "encryption-at-rest",
            Category::EncryptionInTransit => "encryption-in-transit",
            Category::KeyManagement => "key-management",
            Category::Boundary => "boundary",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule broken by one resource instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule_id: &'static str,
    /// The rule's readable name, e.g. `storage-not-encrypted`.
    pub rule_name: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// The resource instance's Terraform address.
    pub resource: String,
    pub resource_type: String,
    /// Where to look, when the input has source locations.
    #[serde(skip)]
    pub location: Option<Location>,
    /// The attribute at fault (dotted path), when there is one.
    pub attribute: Option<String>,
    /// What is wrong with this resource. Never holds an attribute value that could be secret.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// The 45 CFR paragraphs the rule serves, e.g. `164.312(a)(2)(iv)`.
    pub hipaa: Vec<&'static str>,
}

/// A check that could not be decided because a value is unknown until apply, sensitive, or
/// depends on a condition that cannot be known statically.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undetermined {
    pub rule_id: &'static str,
    pub resource: String,
    pub reason: String,
}
