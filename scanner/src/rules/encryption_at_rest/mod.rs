//! Rules about data at rest: every storage type of the table in
//! `hipaa_compliance::encryption`, judged by one reading of that table, and S3 buckets, whose
//! encryption is configured differently and has a rule of its own.
//!
//! This module also holds the three-valued helpers ([`decide`], [`all_of`], [`any_of`]) that the
//! key-management rules share.

mod customer_managed_key_required;
mod s3_bucket_encryption;
mod storage_not_encrypted;

pub use customer_managed_key_required::CustomerManagedKeyRequired;
pub use s3_bucket_encryption::S3BucketEncryption;
pub use storage_not_encrypted::StorageNotEncrypted;

use crate::context::Context;
use crate::model::Resource;
use crate::value::{Truth, Value};
use hipaa_compliance::encryption::{self, AtRestSpec, EncryptionSwitch, Inheritance, WhenUnset};

/// How many replicas of replicas (or copies of copies) are followed before giving up; a loop in
/// the configuration ends here too.
const MAX_INHERITANCE_DEPTH: usize = 4;

/// What the configuration says about one resource's encryption at rest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AtRest {
    Encrypted,
    /// Not encrypted; `reason` completes "… is not encrypted at rest: ".
    Unencrypted {
        attribute: Option<&'static str>,
        reason: String,
    },
    /// Cannot be known before apply; the reason says why.
    Unknown(String),
}

/// Reads a resource's encryption at rest from its row of the table.
pub(crate) fn at_rest_state(cx: &Context, resource: &Resource, spec: &AtRestSpec) -> AtRest {
    state_at_depth(cx, resource, spec, 0)
}

fn state_at_depth(cx: &Context, resource: &Resource, spec: &AtRestSpec, depth: usize) -> AtRest {
    // A named key encrypts some resources whatever their switch says.
    let key_named = match spec.key_path() {
        Some(path) if spec.key_encrypts => key_is_named(resource, path),
        _ => Truth::No,
    };
    if key_named == Truth::Yes {
        return AtRest::Encrypted;
    }

    let state = match spec.switch {
        EncryptionSwitch::Always => AtRest::Encrypted,
        EncryptionSwitch::KeyNamed => key_named_switch(resource, spec),
        EncryptionSwitch::Flag { path, when_unset } => {
            let answer = |value: &Value| value.as_bool().map(Truth::from_bool);
            switch_state(cx, resource, spec, depth, path, when_unset, &answer)
        }
        EncryptionSwitch::OneOf {
            path,
            encrypted_values,
            when_unset,
        } => {
            let answer = |value: &Value| {
                value
                    .as_str()
                    .map(|text| Truth::from_bool(matches_any(text, encrypted_values)))
            };
            switch_state(cx, resource, spec, depth, path, when_unset, &answer)
        }
    };

    match (state, key_named) {
        // Unencrypted unless the key, unknown before apply, turns it on.
        (AtRest::Unencrypted { .. }, Truth::Undetermined) => AtRest::Unknown(format!(
            "the key in `{}` is not known before apply, and naming one encrypts the {}",
            spec.key_path().unwrap_or_default(),
            spec.service
        )),
        (state, _) => state,
    }
}

/// Encrypted exactly when a key is named (SNS topics).
fn key_named_switch(resource: &Resource, spec: &AtRestSpec) -> AtRest {
    let Some(path) = spec.key_path() else {
        return AtRest::Unknown(format!("no key attribute is known for {}", spec.service));
    };
    match key_is_named(resource, path) {
        Truth::Yes => AtRest::Encrypted,
        Truth::No => AtRest::Unencrypted {
            attribute: Some(path),
            reason: format!(
                "`{path}` is not set, and {} is encrypted only when a key is named",
                with_article(spec.service)
            ),
        },
        Truth::Undetermined => AtRest::Unknown(format!("`{path}` is not known before apply")),
    }
}

/// Judges a switch attribute. `answer` reads one known, non-null value of it; `None` means the
/// value is not of the expected kind.
fn switch_state(
    cx: &Context,
    resource: &Resource,
    spec: &AtRestSpec,
    depth: usize,
    path: &'static str,
    when_unset: WhenUnset,
    answer: &dyn Fn(&Value) -> Option<Truth>,
) -> AtRest {
    let values = resource.lookup(path);
    let unset = || unset_state(cx, resource, spec, depth, path, when_unset);
    if values.is_empty() {
        return unset();
    }

    // A conditional may choose between a value and null; the null branch means "unset".
    let needs_unset = values.iter().any(|v| matches!(v, Value::AnyOf(_)));
    let unset_truth = if needs_unset {
        unset().truth()
    } else {
        Truth::Undetermined
    };
    let truth = all_of(values.iter().map(|value| {
        decide(value, &|branch| {
            if branch.is_null() {
                return unset_truth;
            }
            answer(branch).unwrap_or(Truth::Undetermined)
        })
    }));

    match truth {
        Truth::Yes => AtRest::Encrypted,
        Truth::No => AtRest::Unencrypted {
            attribute: Some(path),
            reason: match spec.switch {
                EncryptionSwitch::OneOf {
                    encrypted_values, ..
                } => format!("`{path}` is not \"{}\"", encrypted_values.join("\" or \"")),
                _ if values.iter().any(|v| matches!(v, Value::AnyOf(_))) => {
                    format!("`{path}` is false or unset whichever way its condition goes")
                }
                _ => format!("`{path}` is false"),
            },
        },
        Truth::Undetermined => AtRest::Unknown(format!(
            "`{path}` is not known before apply or depends on a condition that cannot be known"
        )),
    }
}

/// What an unset switch means: the source's encryption when the resource inherits one,
/// otherwise the service's default.
fn unset_state(
    cx: &Context,
    resource: &Resource,
    spec: &AtRestSpec,
    depth: usize,
    path: &'static str,
    when_unset: WhenUnset,
) -> AtRest {
    if let Some(inheritance) = spec
        .inherits
        .iter()
        .find(|i| names_something(resource, i.source_path))
    {
        return inherited_state(cx, resource, spec, depth, path, inheritance);
    }

    match when_unset {
        WhenUnset::Encrypted => AtRest::Encrypted,
        WhenUnset::Unencrypted => AtRest::Unencrypted {
            attribute: Some(path),
            reason: format!(
                "`{path}` is not set, and {} is not encrypted by default",
                with_article(spec.service)
            ),
        },
        WhenUnset::EncryptedWhen {
            path: by,
            values,
            path_unset_value,
        } => {
            let chosen = resource.lookup(by);
            let truth = if chosen.is_empty() {
                Truth::from_bool(matches_any(path_unset_value, values))
            } else {
                all_of(chosen.iter().map(|value| {
                    decide(value, &|branch| match branch.as_str() {
                        Some(text) => Truth::from_bool(matches_any(text, values)),
                        None if branch.is_null() => {
                            Truth::from_bool(matches_any(path_unset_value, values))
                        }
                        None => Truth::Undetermined,
                    })
                }))
            };
            match truth {
                Truth::Yes => AtRest::Encrypted,
                Truth::No => AtRest::Unencrypted {
                    attribute: Some(path),
                    reason: format!(
                        "`{path}` is not set, and {} is encrypted by default only when `{by}` \
                         is \"{}\"",
                        with_article(spec.service),
                        values.join("\" or \"")
                    ),
                },
                Truth::Undetermined => AtRest::Unknown(format!(
                    "`{path}` is not set, and the default depends on `{by}`, which is not known \
                     before apply"
                )),
            }
        }
    }
}

/// The encryption of the source a resource inherits from, when the configuration manages it.
fn inherited_state(
    cx: &Context,
    resource: &Resource,
    spec: &AtRestSpec,
    depth: usize,
    path: &'static str,
    inheritance: &Inheritance,
) -> AtRest {
    let unmanaged = || {
        AtRest::Unknown(format!(
            "`{path}` is not set, so the {} takes the encryption of the {} named in `{}`, which \
             this configuration does not show",
            spec.service, inheritance.source, inheritance.source_path
        ))
    };
    if depth >= MAX_INHERITANCE_DEPTH {
        return unmanaged();
    }

    let sources: Vec<(&Resource, &AtRestSpec)> = cx
        .inherited_sources(resource, inheritance)
        .into_iter()
        .filter_map(|source| {
            encryption::at_rest(&source.resource_type).map(|source_spec| (source, source_spec))
        })
        .collect();
    if sources.is_empty() {
        return unmanaged();
    }

    for (source, source_spec) in sources {
        match state_at_depth(cx, source, source_spec, depth + 1) {
            AtRest::Encrypted => {}
            AtRest::Unencrypted { .. } => {
                return AtRest::Unencrypted {
                    attribute: Some(path),
                    reason: format!(
                        "`{path}` is not set, so it takes the encryption of its {} {}, which is \
                         not encrypted",
                        inheritance.source, source.address
                    ),
                }
            }
            AtRest::Unknown(reason) => {
                return AtRest::Unknown(format!(
                    "it takes the encryption of its {} {}: {reason}",
                    inheritance.source, source.address
                ))
            }
        }
    }
    AtRest::Encrypted
}

impl AtRest {
    fn truth(&self) -> Truth {
        match self {
            AtRest::Encrypted => Truth::Yes,
            AtRest::Unencrypted { .. } => Truth::No,
            AtRest::Unknown(_) => Truth::Undetermined,
        }
    }
}

/// Whether some key is named at `path`, customer-managed or not: a reference to anything, or a
/// non-empty value.
fn key_is_named(resource: &Resource, path: &str) -> Truth {
    if !resource.references_of(path).is_empty() {
        return Truth::Yes;
    }
    any_of(resource.lookup(path).into_iter().map(|value| {
        decide(value, &|branch| match branch.as_str() {
            Some(text) => Truth::from_bool(!text.trim().is_empty()),
            None => Truth::from_bool(!branch.is_null()),
        })
    }))
}

/// Whether an attribute is set at all (to a value or to a reference).
fn names_something(resource: &Resource, path: &str) -> bool {
    !resource.references_of(path).is_empty() || !resource.lookup(path).is_empty()
}

fn matches_any(text: &str, accepted: &[&str]) -> bool {
    accepted
        .iter()
        .any(|candidate| candidate.eq_ignore_ascii_case(text.trim()))
}

/// Answers a question about a value that may be unknown, sensitive or conditional: a
/// conditional is decided only when every branch gets the same answer.
pub(crate) fn decide(value: &Value, answer: &dyn Fn(&Value) -> Truth) -> Truth {
    match value {
        Value::Unknown | Value::Sensitive => Truth::Undetermined,
        Value::AnyOf(branches) => {
            let answers: Vec<Truth> = branches.iter().map(|b| decide(b, answer)).collect();
            if !answers.is_empty() && answers.iter().all(|a| *a == Truth::Yes) {
                Truth::Yes
            } else if !answers.is_empty() && answers.iter().all(|a| *a == Truth::No) {
                Truth::No
            } else {
                Truth::Undetermined
            }
        }
        known => answer(known),
    }
}

/// Yes when every answer is yes (and when there is none), no when any is no.
pub(crate) fn all_of(answers: impl IntoIterator<Item = Truth>) -> Truth {
    let mut result = Truth::Yes;
    for answer in answers {
        match answer {
            Truth::No => return Truth::No,
            Truth::Undetermined => result = Truth::Undetermined,
            Truth::Yes => {}
        }
    }
    result
}

/// Yes when any answer is yes, no when every answer is no (and when there is none).
pub(crate) fn any_of(answers: impl IntoIterator<Item = Truth>) -> Truth {
    let mut result = Truth::No;
    for answer in answers {
        match answer {
            Truth::Yes => return Truth::Yes,
            Truth::Undetermined => result = Truth::Undetermined,
            Truth::No => {}
        }
    }
    result
}

/// "an EBS volume", "a DynamoDB table": the article English puts before a service's name,
/// judged by how the name is spoken.
fn with_article(service: &str) -> String {
    // Initialisms read letter by letter: "an RDS", "an EBS", "an SQS", but "a DocumentDB".
    let spoken_vowel = service.starts_with(|c: char| "AEIOUaeiou".contains(c))
        || ["RDS", "SQS", "SNS", "EFS", "MSK", "FSx"]
            .iter()
            .any(|initialism| service.starts_with(initialism));
    if spoken_vowel {
        format!("an {service}")
    } else {
        format!("a {service}")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn service_names_take_the_article_they_are_spoken_with() {
        assert_eq!(with_article("EBS volume"), "an EBS volume");
        assert_eq!(
            with_article("RDS database instance"),
            "an RDS database instance"
        );
        assert_eq!(with_article("SNS topic"), "an SNS topic");
        assert_eq!(with_article("DynamoDB table"), "a DynamoDB table");
        assert_eq!(with_article("Kinesis stream"), "a Kinesis stream");
    }

    use super::*;
    use crate::rules::testing::resource;
    use serde_json::json;

    #[test]
    fn a_conditional_is_decided_only_when_its_branches_agree() {
        let is_true = |v: &Value| Truth::from_bool(v.as_bool() == Some(true));
        let agree = Value::AnyOf(vec![true.into(), true.into()]);
        let differ = Value::AnyOf(vec![true.into(), false.into()]);
        assert_eq!(decide(&agree, &is_true), Truth::Yes);
        assert_eq!(decide(&differ, &is_true), Truth::Undetermined);
        assert_eq!(decide(&Value::Sensitive, &is_true), Truth::Undetermined);
    }

    #[test]
    fn all_of_and_any_of_let_a_definite_answer_win() {
        use Truth::{No, Undetermined, Yes};
        assert_eq!(all_of([Yes, Undetermined, No]), No);
        assert_eq!(all_of([Yes, Undetermined]), Undetermined);
        assert_eq!(any_of([No, Undetermined, Yes]), Yes);
        assert_eq!(any_of([No, No]), No);
    }

    #[test]
    fn an_empty_key_is_no_key() {
        let named = resource(
            "aws_sns_topic",
            "a",
            json!({"kms_master_key_id": "alias/x"}),
        );
        let empty = resource("aws_sns_topic", "b", json!({"kms_master_key_id": " "}));
        assert_eq!(key_is_named(&named, "kms_master_key_id"), Truth::Yes);
        assert_eq!(key_is_named(&empty, "kms_master_key_id"), Truth::No);
    }
}
