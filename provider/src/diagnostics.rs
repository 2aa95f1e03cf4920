//! Diagnostics, pinned to an attribute path when one is at fault, so that Terraform points at
//! the exact place in the configuration.

use hipaa_proto::tfplugin6 as proto;
use std::fmt;

/// One step into a value: an attribute, a list index or a map key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Attribute(String),
    Index(i64),
    Key(String),
}

/// A path to an attribute, e.g. `baa_ids[1]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttributePath(pub Vec<Step>);

impl AttributePath {
    pub fn root(name: &str) -> AttributePath {
        AttributePath(vec![Step::Attribute(name.to_string())])
    }

    /// An attribute of the object (or single nested block) at this path.
    pub fn attribute(mut self, name: &str) -> AttributePath {
        self.0.push(Step::Attribute(name.to_string()));
        self
    }

    pub fn at_index(mut self, index: usize) -> AttributePath {
        self.0.push(Step::Index(index as i64));
        self
    }

    /// The element of a map at this path.
    pub fn at_key(mut self, key: &str) -> AttributePath {
        self.0.push(Step::Key(key.to_string()));
        self
    }

    pub fn to_proto(&self) -> proto::AttributePath {
        use proto::attribute_path::step::Selector;
        proto::AttributePath {
            steps: self
                .0
                .iter()
                .map(|step| proto::attribute_path::Step {
                    selector: Some(match step {
                        Step::Attribute(name) => Selector::AttributeName(name.clone()),
                        Step::Index(index) => Selector::ElementKeyInt(*index),
                        Step::Key(key) => Selector::ElementKeyString(key.clone()),
                    }),
                })
                .collect(),
        }
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, step) in self.0.iter().enumerate() {
            match step {
                Step::Attribute(name) if position == 0 => write!(f, "{name}")?,
                Step::Attribute(name) => write!(f, ".{name}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
                Step::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub attribute: Option<AttributePath>,
}

/// The diagnostics of one call, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        });
    }

    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.0.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: Some(path),
        });
    }

    pub fn attribute_warning(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.0.push(Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            attribute: Some(path),
        });
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Turns every error into a warning, with `note` after its detail.
    pub fn downgrade_errors(&mut self, note: &str) {
        for diagnostic in &mut self.0 {
            if diagnostic.severity == Severity::Error {
                diagnostic.severity = Severity::Warning;
                diagnostic.detail = format!("{}\n\n{note}", diagnostic.detail);
            }
        }
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn to_proto(&self) -> Vec<proto::Diagnostic> {
        self.0
            .iter()
            .map(|diagnostic| proto::Diagnostic {
                severity: match diagnostic.severity {
                    Severity::Error => proto::diagnostic::Severity::Error as i32,
                    Severity::Warning => proto::diagnostic::Severity::Warning as i32,
                },
                summary: diagnostic.summary.clone(),
                detail: diagnostic.detail.clone(),
                attribute: diagnostic.attribute.as_ref().map(AttributePath::to_proto),
            })
            .collect()
    }
}
