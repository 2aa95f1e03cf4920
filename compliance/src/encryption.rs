//! For each resource type that stores data, how Terraform expresses its encryption at rest:
//! which attribute switches it on, which names the key, and what the service does when the
//! configuration says nothing.
//!
//! One table serves every storage type so that adding a service is a row, not a rule.

use serde::Serialize;

/// How a resource type says it is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EncryptionSwitch {
    /// A boolean attribute (dotted path through nested blocks). `absent_means` is what the
    /// service does when the attribute is not set.
    Flag {
        path: &'static str,
        absent_means: bool,
    },
    /// An attribute whose value must be one of `encrypted_values`; absent means `absent_means`.
    OneOf {
        path: &'static str,
        encrypted_values: &'static [&'static str],
        absent_means: bool,
    },
    /// Encrypted only when a key is named in the key attribute.
    KeyNamed,
    /// The service always encrypts at rest; only the key owner can be judged.
    Always,
}

/// Who holds the key when no customer-managed key is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultKey {
    /// The provider's own key (AWS owned or AWS managed, Google- or Microsoft-managed): AES-256,
    /// acceptable unless the license demands customer-managed keys.
    ProviderManaged,
}

/// The encryption facts of one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AtRestSpec {
    pub resource_type: &'static str,
    /// What a person calls it, e.g. "EBS volume".
    pub service: &'static str,
    pub switch: EncryptionSwitch,
    /// The attribute (dotted path) that names a customer-managed key, when the type has one.
    pub key_path: Option<&'static str>,
    pub default_key: DefaultKey,
}

/// Every resource type with encryption at rest that the rules judge.
pub const AT_REST: &[AtRestSpec] = &[];

/// The spec of one resource type.
pub fn at_rest(resource_type: &str) -> Option<&'static AtRestSpec> {
    AT_REST
        .iter()
        .find(|spec| spec.resource_type == resource_type)
}
