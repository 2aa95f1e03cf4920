//! The rules: one per file, grouped by category. Each file declares its rule with
//! [`declare_rule!`], whose doc comment is what `hipaa explain` prints, and a small check
//! function that looks at one resource instance and returns a [`Verdict`].

pub mod boundary;
pub mod encryption_at_rest;
pub mod encryption_in_transit;
pub mod key_management;

use crate::context::Context;
use crate::finding::{Category, Severity};
use crate::model::Resource;

/// What a rule is, apart from how it checks.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id, never reused: `EAR001`.
    pub id: &'static str,
    /// Readable name: `storage-not-encrypted`.
    pub name: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// One line saying what is wrong, e.g. "Storage is not encrypted at rest".
    pub title: &'static str,
    /// The 45 CFR paragraphs the rule serves; each is in the citation catalogue.
    pub hipaa: &'static [&'static str],
    /// The rule's documentation in Markdown: what it checks, why, and a failing and a passing
    /// example.
    pub doc: &'static str,
}

/// What is wrong with one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The attribute at fault, dotted, when there is one.
    pub attribute: Option<String>,
    /// What is wrong with this resource. Never include a value that might be secret.
    pub message: String,
    /// What to change.
    pub fix: String,
}

/// The outcome of one rule on one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The rule has nothing to say about this resource.
    NotApplicable,
    Pass,
    Fail(Violation),
    /// A value the rule needs is not known before apply; the reason says which.
    Undetermined(String),
}

impl Verdict {
    pub fn fail(
        attribute: Option<&str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Verdict {
        Verdict::Fail(Violation {
            attribute: attribute.map(str::to_string),
            message: message.into(),
            fix: fix.into(),
        })
    }

    pub fn undetermined(reason: impl Into<String>) -> Verdict {
        Verdict::Undetermined(reason.into())
    }
}

/// A rule the engine can run.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Whether the rule looks at resources of this type at all. The engine asks once per type.
    fn applies_to(&self, resource_type: &str) -> bool;

    /// Judges one managed resource instance of a type the rule applies to.
    fn check(&self, cx: &Context, resource: &Resource) -> Verdict;
}

/// Declares a rule: its documentation (the doc comment), its metadata, the resource types it
/// looks at and its check function.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it checks
///     /// ...
///     pub struct StorageNotEncrypted {
///         id: "EAR001",
///         name: "storage-not-encrypted",
///         category: EncryptionAtRest,
///         severity: High,
///         title: "Storage is not encrypted at rest",
///         hipaa: ["164.312(a)(2)(iv)"],
///         applies_to: |resource_type| encryption::at_rest(resource_type).is_some(),
///         check: check,
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:expr])*
        pub struct $rule:ident {
            id: $id:literal,
            name: $name:literal,
            category: $category:ident,
            severity: $severity:ident,
            title: $title:literal,
            hipaa: [$($citation:literal),* $(,)?],
            applies_to: $applies_to:expr,
            check: $check:path $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $rule;

        impl $rule {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                id: $id,
                name: $name,
                category: $crate::finding::Category::$category,
                severity: $crate::finding::Severity::$severity,
                title: $title,
                hipaa: &[$($citation),*],
                doc: concat!($($doc, "\n"),*),
            };
        }

        impl $crate::rules::Rule for $rule {
            fn meta(&self) -> &'static $crate::rules::RuleMeta {
                &Self::META
            }

            fn applies_to(&self, resource_type: &str) -> bool {
                let applies: fn(&str) -> bool = $applies_to;
                applies(resource_type)
            }

            fn check(
                &self,
                cx: &$crate::context::Context,
                resource: &$crate::model::Resource,
            ) -> $crate::rules::Verdict {
                $check(cx, resource)
            }
        }
    };
}

/// What a rule file needs in scope.
pub mod prelude {
    pub use crate::context::Context;
    pub use crate::declare_rule;
    pub use crate::model::Resource;
    pub use crate::rules::Verdict;
    pub use crate::value::{Truth, Value};
    pub use hipaa_compliance as compliance;
}

/// Every rule, in id order.
pub fn all() -> &'static [&'static dyn Rule] {
    &[
        &encryption_at_rest::StorageNotEncrypted,
        &encryption_at_rest::CustomerManagedKeyRequired,
        &encryption_at_rest::S3BucketEncryption,
        &encryption_in_transit::LbListenerWeakTls,
        &encryption_in_transit::LbListenerPlainHttp,
        &encryption_in_transit::CloudfrontWeakTls,
        &encryption_in_transit::CloudfrontAllowsHttp,
        &encryption_in_transit::ApiGatewayWeakTls,
        &encryption_in_transit::OpensearchTransitEncryption,
        &encryption_in_transit::ElasticacheTransitEncryption,
        &encryption_in_transit::RdsTlsNotEnforced,
        &encryption_in_transit::S3PhiBucketAllowsHttp,
        &encryption_in_transit::AzureWeakMinTls,
        &encryption_in_transit::GoogleSslPolicyWeakTls,
        &encryption_in_transit::CloudSqlSslNotRequired,
        &key_management::KmsKeyRotationDisabled,
        &key_management::KmsKeyRotationTooSlow,
        &key_management::GcpKmsKeyRotation,
        &key_management::AzureKeyVaultKeyRotation,
        &boundary::PhiFlowsOutsideBoundary,
        &boundary::BoundaryMemberOutsideRegion,
        &boundary::PhiSystemOutsideBoundary,
        &boundary::S3PublicAccessNotBlocked,
        &boundary::PhiSystemMissing,
        &boundary::PhiBucketUndeclared,
    ]
}

/// Finds a rule by id (case-insensitive) or by name.
pub fn find(id_or_name: &str) -> Option<&'static dyn Rule> {
    all().iter().copied().find(|rule| {
        let meta = rule.meta();
        meta.id.eq_ignore_ascii_case(id_or_name) || meta.name == id_or_name
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hipaa_compliance::citations;

    #[test]
    fn rule_ids_and_names_are_unique() {
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for rule in all() {
            assert!(
                ids.insert(rule.meta().id),
                "duplicate id {}",
                rule.meta().id
            );
            assert!(
                names.insert(rule.meta().name),
                "duplicate name {}",
                rule.meta().name
            );
        }
    }

    #[test]
    fn every_rule_cites_catalogued_paragraphs_and_has_documentation() {
        for rule in all() {
            let meta = rule.meta();
            assert!(!meta.hipaa.is_empty(), "{} cites nothing", meta.id);
            for paragraph in meta.hipaa {
                assert!(
                    citations::find(paragraph).is_some(),
                    "{} cites {paragraph}, which is not in the catalogue",
                    meta.id
                );
            }
            for heading in ["## What it checks", "## Why it matters", "## Example"] {
                assert!(meta.doc.contains(heading), "{} lacks {heading}", meta.id);
            }
        }
    }
}

/// Helpers for rule tests: build a project from resources and judge one of them.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Rule, Verdict};
    use crate::context::Context;
    use crate::links::Index;
    use crate::model::{Project, Reference, Resource};
    use crate::policy::Policy;
    use crate::value::Value;

    /// A root-module resource with JSON attribute values.
    pub fn resource(resource_type: &str, name: &str, values: serde_json::Value) -> Resource {
        Resource::new(resource_type, name, Value::from(&values))
    }

    /// Adds a reference from `attribute` of `resource` to `target` (an address) reading
    /// `target_attribute`.
    pub fn with_reference(
        mut resource: Resource,
        attribute: &str,
        target: &str,
        target_attribute: &str,
    ) -> Resource {
        resource.references.of_path_mut(attribute).push(Reference {
            address: target.to_string(),
            attribute: Some(target_attribute.to_string()),
        });
        resource
    }

    /// Sets a top-level attribute to a value JSON cannot express: unknown, sensitive, a choice.
    pub fn with_value(mut resource: Resource, attribute: &str, value: Value) -> Resource {
        if let Value::Map(values) = &mut resource.values {
            values.insert(attribute.to_string(), value);
        }
        resource
    }

    /// Judges the resource at `address` with `rule`, in the context of all `resources`.
    pub fn judge(rule: &dyn Rule, resources: Vec<Resource>, address: &str) -> Verdict {
        let project = Project {
            resources,
            ..Project::default()
        };
        let index = Index::build(&project);
        let policy = Policy::from_project(&project, &index);
        let cx = Context::new(&project, &index, &policy);
        let resource = index
            .get(address)
            .unwrap_or_else(|| panic!("no resource {address} in the test project"));
        assert!(
            rule.applies_to(&resource.resource_type),
            "{} does not apply to {}",
            rule.meta().id,
            resource.resource_type
        );
        rule.check(&cx, resource)
    }

    /// The addresses with a finding of `category` when the whole engine scans `resources`,
    /// sorted, each once: how the shared cases say what must fail.
    pub fn failing_in(category: crate::finding::Category, resources: Vec<Resource>) -> Vec<String> {
        let project = Project {
            resources,
            ..Project::default()
        };
        let mut found: Vec<String> = crate::engine::scan(&project)
            .findings
            .into_iter()
            .filter(|f| f.category == category)
            .map(|f| f.resource)
            .collect();
        found.sort();
        found.dedup();
        found
    }

    /// A primary group, its global datastore, and a secondary group that names the datastore,
    /// with the arguments the secondary may not set left out, as the provider requires.
    pub fn global_datastore(primary_values: serde_json::Value) -> Vec<Resource> {
        let primary = resource(
            "aws_elasticache_replication_group",
            "primary",
            primary_values,
        );
        let datastore = with_reference(
            resource(
                "aws_elasticache_global_replication_group",
                "this",
                serde_json::json!({"global_replication_group_id_suffix": "sessions"}),
            ),
            "primary_replication_group_id",
            "aws_elasticache_replication_group.primary",
            "id",
        );
        let secondary = with_reference(
            resource(
                "aws_elasticache_replication_group",
                "secondary",
                serde_json::json!({"global_replication_group_id": "ldgnf-sessions"}),
            ),
            "global_replication_group_id",
            "aws_elasticache_global_replication_group.this",
            "global_replication_group_id",
        );
        vec![primary, datastore, secondary]
    }

    /// Asserts that a verdict is a failure and returns its message.
    pub fn failure_message(verdict: Verdict) -> String {
        match verdict {
            Verdict::Fail(violation) => violation.message,
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
