//! Settings that live in resources of their own, joined to the resource they configure.
//!
//! Since version 4 of the AWS provider, an S3 bucket's encryption, versioning, logging, public
//! access block, replication and policy are separate resources that name their bucket; an RDS
//! instance names its parameter group. A link is found through a reference (`.id`, `.bucket`,
//! `.arn`, directly or through locals, variables and module arguments) or, failing that, through
//! the literal name. A resource that names a bucket this configuration does not manage is
//! linked to nothing.

use crate::address_hash::AddressMap;
use crate::model::{Project, Reference, Resource};
use crate::runs;
use crate::value::Value;

/// One way a resource names another.
#[derive(Debug, Clone, Copy)]
pub struct LinkKind {
    /// The resource type that holds the naming attribute.
    pub from_type: &'static str,
    /// The dotted attribute path that names the target.
    pub attribute: &'static str,
    /// The types it may name.
    pub to_types: &'static [&'static str],
    /// The target attributes whose value is the name used in `attribute`.
    pub to_name_attributes: &'static [&'static str],
    /// A prefix that turns a target's name into its ARN, where ARNs are accepted too.
    pub arn_prefix: Option<&'static str>,
}

const S3_BUCKET: &[&str] = &["aws_s3_bucket"];
const S3_NAME: &[&str] = &["bucket", "id"];
const S3_ARN: Option<&str> = Some("arn:aws:s3:::");

const fn s3_setting(from_type: &'static str) -> LinkKind {
    LinkKind {
        from_type,
        attribute: "bucket",
        to_types: S3_BUCKET,
        to_name_attributes: S3_NAME,
        arn_prefix: S3_ARN,
    }
}

/// Every link the rules follow.
pub const LINKS: &[LinkKind] = &[
    s3_setting("aws_s3_bucket_server_side_encryption_configuration"),
    s3_setting("aws_s3_bucket_versioning"),
    s3_setting("aws_s3_bucket_logging"),
    s3_setting("aws_s3_bucket_public_access_block"),
    s3_setting("aws_s3_bucket_replication_configuration"),
    s3_setting("aws_s3_bucket_policy"),
    s3_setting("aws_s3_bucket_acl"),
    s3_setting("aws_s3_bucket_ownership_controls"),
    s3_setting("aws_s3_bucket_lifecycle_configuration"),
    s3_setting("aws_s3_bucket_object_lock_configuration"),
    LinkKind {
        from_type: "azurerm_storage_account_customer_managed_key",
        attribute: "storage_account_id",
        to_types: &["azurerm_storage_account"],
        to_name_attributes: &["id"],
        arn_prefix: None,
    },
    LinkKind {
        from_type: "aws_db_instance",
        attribute: "parameter_group_name",
        to_types: &["aws_db_parameter_group"],
        to_name_attributes: &["name", "id"],
        arn_prefix: None,
    },
    LinkKind {
        from_type: "aws_rds_cluster",
        attribute: "db_cluster_parameter_group_name",
        to_types: &["aws_rds_cluster_parameter_group"],
        to_name_attributes: &["name", "id"],
        arn_prefix: None,
    },
    LinkKind {
        from_type: "aws_rds_cluster_instance",
        attribute: "db_parameter_group_name",
        to_types: &["aws_db_parameter_group"],
        to_name_attributes: &["name", "id"],
        arn_prefix: None,
    },
];

/// Resources by address and by the names other resources may use for them.
pub struct Index<'a> {
    resources: &'a [Resource],
    by_address: AddressMap<&'a str, usize>,
    /// Resource type → its resources, so a rule that needs every resource of one type (every
    /// boundary, every bucket) does not walk the whole project for each resource it judges.
    by_type: AddressMap<&'a str, Vec<usize>>,
    /// Address without the instance key → the instances, for resources that have a key.
    by_config_address: AddressMap<String, Vec<usize>>,
    /// Type → name or ARN → resources, for every type some link points at.
    by_name: AddressMap<&'a str, AddressMap<String, Vec<usize>>>,
    /// (target index, from type) → resources of that type naming the target.
    linked_from: AddressMap<(usize, &'static str), Vec<usize>>,
}

/// How many names a resource of this type can be known by: each name attribute of each kind of
/// link that can point at it, and its ARN form too where the link takes one.
fn names_per_resource(resource: &Resource) -> usize {
    LINKS
        .iter()
        .filter(|kind| kind.to_types.contains(&resource.resource_type.as_str()))
        .map(|kind| kind.to_name_attributes.len() * if kind.arn_prefix.is_some() { 2 } else { 1 })
        .sum()
}

impl<'a> Index<'a> {
    pub fn build(project: &'a Project) -> Index<'a> {
        let resources = project.resources.as_slice();
        let mut index = Index {
            resources,
            by_address: AddressMap::with_capacity_and_hasher(resources.len(), Default::default()),
            by_type: AddressMap::default(),
            by_config_address: AddressMap::with_capacity_and_hasher(
                resources.len(),
                Default::default(),
            ),
            by_name: AddressMap::default(),
            linked_from: AddressMap::default(),
        };

        for (i, resource) in resources.iter().enumerate() {
            index.by_address.insert(resource.address.as_str(), i);
            index
                .by_type
                .entry(resource.resource_type.as_str())
                .or_default()
                .push(i);
            // Without an instance key the address is the configuration address, which
            // `by_address` already answers.
            if resource.key.is_some() {
                index
                    .by_config_address
                    .entry(resource.config_address())
                    .or_default()
                    .push(i);
            }
        }
        // Names are indexed once every resource has its type counted, so that each type's
        // table of names is made at its size rather than grown (and copied) step by step.
        for (i, resource) in resources.iter().enumerate() {
            index.index_names(i, resource);
        }

        // Following links only reads the tables built above, so it runs on every core; the
        // runs' links are added in run order, as one pass would add them.
        let links = runs::map_runs(resources, |start, run| {
            let mut found = Vec::new();
            for (offset, resource) in run.iter().enumerate() {
                for kind in LINKS
                    .iter()
                    .filter(|k| k.from_type == resource.resource_type)
                {
                    for target in index.follow(resource, kind) {
                        found.push((target, kind.from_type, start + offset));
                    }
                }
            }
            found
        });
        for (target, from_type, i) in links.into_iter().flatten() {
            index
                .linked_from
                .entry((target, from_type))
                .or_default()
                .push(i);
        }
        index
    }

    fn index_names(&mut self, i: usize, resource: &'a Resource) {
        for kind in LINKS {
            if !kind.to_types.contains(&resource.resource_type.as_str()) {
                continue;
            }
            for name_attribute in kind.to_name_attributes {
                let Some(name) = resource.attr(name_attribute).as_str() else {
                    continue;
                };
                let mut names = vec![name.to_string()];
                if let Some(prefix) = kind.arn_prefix {
                    names.push(format!("{prefix}{name}"));
                }
                for name in names {
                    let by_type = &self.by_type;
                    let slot = self
                        .by_name
                        .entry(resource.resource_type.as_str())
                        .or_insert_with(|| {
                            let of_type = by_type.get(resource.resource_type.as_str());
                            let names = of_type.map_or(0, Vec::len) * names_per_resource(resource);
                            AddressMap::with_capacity_and_hasher(names, Default::default())
                        })
                        .entry(name)
                        .or_default();
                    // Resources are indexed in order, so a repeat can only be the last entry;
                    // searching the whole slot made many resources of one name quadratic.
                    if slot.last() != Some(&i) {
                        slot.push(i);
                    }
                }
            }
        }
    }

    /// The resource with exactly this address.
    pub fn get(&self, address: &str) -> Option<&'a Resource> {
        self.by_address.get(address).map(|&i| &self.resources[i])
    }

    /// The resources a reference stands for: one instance, or every instance of a resource
    /// when the reference does not say which.
    pub fn resolve(&self, reference: &Reference) -> Vec<&'a Resource> {
        if let Some(resource) = self.get(&reference.address) {
            return vec![resource];
        }
        self.by_config_address
            .get(&reference.address)
            .map(|found| found.iter().map(|&i| &self.resources[i]).collect())
            .unwrap_or_default()
    }

    /// The targets an attribute of `resource` names, by reference first and by literal name
    /// when the attribute refers to no resource of a target type.
    fn follow(&self, resource: &Resource, kind: &LinkKind) -> Vec<usize> {
        let mut targets: Vec<usize> = resource
            .references_of(kind.attribute)
            .iter()
            .flat_map(|reference| self.resolve(reference))
            .filter(|target| kind.to_types.contains(&target.resource_type.as_str()))
            .filter_map(|target| self.by_address.get(target.address.as_str()).copied())
            .collect();
        if !targets.is_empty() {
            return dedup(targets);
        }

        for value in resource.lookup(kind.attribute) {
            let Value::String(name) = value else {
                continue;
            };
            for to_type in kind.to_types {
                let named = self.by_name.get(to_type);
                if let Some(found) = named.and_then(|names| names.get(name.as_str())) {
                    targets.extend(found);
                }
            }
        }
        dedup(targets)
    }

    /// The resources of type `from_type` that configure `target` (e.g. the
    /// `aws_s3_bucket_server_side_encryption_configuration` of a bucket).
    pub fn linked_from(&self, target: &Resource, from_type: &str) -> Vec<&'a Resource> {
        let Some(&i) = self.by_address.get(target.address.as_str()) else {
            return Vec::new();
        };
        LINKS
            .iter()
            .find(|kind| kind.from_type == from_type)
            .and_then(|kind| self.linked_from.get(&(i, kind.from_type)))
            .map(|found| found.iter().map(|&j| &self.resources[j]).collect())
            .unwrap_or_default()
    }

    /// The resources an attribute of `resource` links to, per the link table (e.g. the
    /// parameter group of a database instance).
    pub fn linked_to(&self, resource: &Resource, attribute: &str) -> Vec<&'a Resource> {
        LINKS
            .iter()
            .filter(|kind| kind.from_type == resource.resource_type && kind.attribute == attribute)
            .flat_map(|kind| self.follow(resource, kind))
            .map(|i| &self.resources[i])
            .collect()
    }

    /// Every resource of one type, in project order.
    pub fn of_type(&self, resource_type: &str) -> impl Iterator<Item = &'a Resource> + '_ {
        self.by_type
            .get(resource_type)
            .into_iter()
            .flatten()
            .map(|&i| &self.resources[i])
    }

    pub fn resources(&self) -> &'a [Resource] {
        self.resources
    }
}

fn dedup(mut indices: Vec<usize>) -> Vec<usize> {
    indices.sort_unstable();
    indices.dedup();
    indices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{resource, with_reference};
    use serde_json::json;

    #[test]
    fn links_found_on_several_threads_are_all_kept_in_order() {
        // More settings than one thread takes, each naming its bucket by reference or by name,
        // and two settings for the last bucket, one in each run.
        let count = runs::ITEMS_PER_THREAD + 10;
        let mut resources: Vec<Resource> = (0..count)
            .map(|i| {
                resource(
                    "aws_s3_bucket",
                    &format!("b{i}"),
                    json!({"bucket": format!("n{i}")}),
                )
            })
            .collect();
        let setting = "aws_s3_bucket_versioning";
        resources.push(resource(
            setting,
            "first",
            json!({"bucket": format!("n{}", count - 1)}),
        ));
        for i in 0..count {
            let by_reference = with_reference(
                resource(setting, &format!("v{i}"), json!({})),
                "bucket",
                &format!("aws_s3_bucket.b{i}"),
                "id",
            );
            resources.push(by_reference);
        }
        let project = Project {
            resources,
            ..Project::default()
        };
        let index = Index::build(&project);

        let settings_of = |i: usize| -> Vec<String> {
            let bucket = index.get(&format!("aws_s3_bucket.b{i}")).unwrap();
            let linked = index.linked_from(bucket, setting);
            linked.iter().map(|r| r.address.clone()).collect()
        };
        assert_eq!(settings_of(0), vec![format!("{setting}.v0")]);
        assert_eq!(
            settings_of(count - 1),
            vec![
                format!("{setting}.first"),
                format!("{setting}.v{}", count - 1)
            ]
        );
    }
}
