//! What a rule may consult besides the resource it judges: the licensing model, the other
//! resources, and the links between them.

use crate::flows::{PhiReach, Receipt};
use crate::links::Index;
use crate::model::{Mode, Project, Resource};
use crate::policy::Policy;
use crate::value::{Truth, Value};
use hipaa_compliance::encryption::Inheritance;
use hipaa_compliance::license::LicenseTerms;
use std::sync::OnceLock;

/// Resource types that are customer-managed keys.
const CUSTOMER_MANAGED_KEY_TYPES: &[&str] = &[
    "aws_kms_key",
    "aws_kms_replica_key",
    "aws_kms_external_key",
    "aws_kms_replica_external_key",
    "google_kms_crypto_key",
    "azurerm_key_vault_key",
    "azurerm_disk_encryption_set",
];

pub struct Context<'a> {
    pub project: &'a Project,
    pub index: &'a Index<'a>,
    pub policy: &'a Policy,
    /// Where PHI flows, computed the first time a rule asks.
    phi_reach: OnceLock<PhiReach>,
}

impl<'a> Context<'a> {
    pub fn new(project: &'a Project, index: &'a Index<'a>, policy: &'a Policy) -> Context<'a> {
        Context {
            project,
            index,
            policy,
            phi_reach: OnceLock::new(),
        }
    }

    /// The resources PHI reaches along data flows from the declared PHI sources.
    pub fn phi_reach(&self) -> &PhiReach {
        self.phi_reach
            .get_or_init(|| PhiReach::compute(self.index, self.policy))
    }

    /// Whether a resource holds PHI: it is declared to (a boundary member or the resource of a
    /// `hipaa_phi_system`), or PHI flows into it. Undetermined when a flow into it starts at a
    /// resource that cannot be known before apply.
    pub fn holds_phi(&self, resource: &Resource) -> Truth {
        if self.policy.is_phi_source(resource) || self.policy.is_member(resource) {
            return Truth::Yes;
        }
        match self.phi_reach().receipt(resource) {
            Some(Receipt::Receives(_)) => Truth::Yes,
            Some(Receipt::Maybe { .. }) => Truth::Undetermined,
            None => Truth::No,
        }
    }

    /// The license terms every resource is judged against.
    pub fn terms(&self) -> &LicenseTerms {
        &self.policy.terms
    }

    /// The resources of `from_type` that configure `target` (see [`Index::linked_from`]).
    pub fn linked_from(&self, target: &Resource, from_type: &str) -> Vec<&'a Resource> {
        self.index.linked_from(target, from_type)
    }

    /// The resources an attribute of `resource` links to (see [`Index::linked_to`]).
    pub fn linked_to(&self, resource: &Resource, attribute: &str) -> Vec<&'a Resource> {
        self.index.linked_to(resource, attribute)
    }

    /// The resources `resource` takes a setting from under `inheritance`: those its
    /// `source_path` refers to, or, with a go-between, those the go-between refers to.
    pub fn inherited_sources(
        &self,
        resource: &Resource,
        inheritance: &Inheritance,
    ) -> Vec<&'a Resource> {
        let named = resource
            .references_of(inheritance.source_path)
            .iter()
            .flat_map(|reference| self.index.resolve(reference));
        match inheritance.through {
            None => named.collect(),
            Some(through) => named
                .flat_map(|between| between.references_of(through))
                .flat_map(|reference| self.index.resolve(reference))
                .collect(),
        }
    }

    /// Whether the key named at `key_path` of `owner` is a customer-managed key.
    ///
    /// A reference to a key resource this configuration manages is one, even when its ARN is not
    /// known until apply. A literal key ARN or id is one, unless it is an AWS managed alias
    /// (`alias/aws/...`). A key read through a data source is judged by the value it resolves
    /// to, which is usually not known before apply: a `data "aws_kms_key"` may look up an AWS
    /// managed key. Nothing named is not one.
    pub fn is_customer_managed_key(&self, owner: &Resource, key_path: &str) -> Truth {
        let referenced: Vec<&Resource> = owner
            .references_of(key_path)
            .iter()
            .flat_map(|reference| self.index.resolve(reference))
            .collect();
        if referenced.iter().any(|key| {
            key.mode == Mode::Managed
                && CUSTOMER_MANAGED_KEY_TYPES.contains(&key.resource_type.as_str())
        }) {
            return Truth::Yes;
        }

        let values = owner.lookup(key_path);
        if values.is_empty() {
            return Truth::No;
        }
        let mut answer = Truth::Yes;
        for value in values {
            match value.test(&|v: &Value| is_customer_key_name(v)) {
                Truth::No => return Truth::No,
                Truth::Undetermined => answer = Truth::Undetermined,
                Truth::Yes => {}
            }
        }
        answer
    }
}

fn is_customer_key_name(value: &Value) -> bool {
    match value.as_str() {
        Some(name) => {
            let name = name.trim();
            !name.is_empty() && !name.contains("alias/aws/")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reference;

    /// Whether a volume whose `kms_key_id` refers to `key` and holds `key_value` is encrypted
    /// with a customer-managed key.
    fn judge_key(key: Resource, key_value: Value) -> Truth {
        let values = crate::value::Map::from([
            ("encrypted".to_string(), Value::Bool(true)),
            ("kms_key_id".to_string(), key_value),
        ]);
        let mut volume = Resource::new("aws_ebs_volume", "scans", Value::Map(values));
        volume.references.insert(
            "kms_key_id".to_string(),
            vec![Reference {
                address: key.address.clone(),
                attribute: Some("arn".to_string()),
            }],
        );
        let project = Project {
            resources: vec![key, volume],
            ..Project::default()
        };
        let index = Index::build(&project);
        let policy = Policy::from_project(&project, &index);
        let cx = Context::new(&project, &index, &policy);
        cx.is_customer_managed_key(index.get("aws_ebs_volume.scans").unwrap(), "kms_key_id")
    }

    #[test]
    fn a_managed_key_resource_counts_before_its_arn_is_known() {
        let key = Resource::new("aws_kms_key", "phi", Value::map());
        assert_eq!(judge_key(key, Value::Unknown), Truth::Yes);
    }

    #[test]
    fn a_key_looked_up_by_a_data_source_is_judged_by_its_value() {
        let mut key = Resource::new("aws_kms_key", "lookup", Value::map());
        key.mode = Mode::Data;
        key.address = "data.aws_kms_key.lookup".to_string();
        assert_eq!(judge_key(key.clone(), Value::Unknown), Truth::Undetermined);
        assert_eq!(judge_key(key, "alias/aws/ebs".into()), Truth::No);
    }
}
