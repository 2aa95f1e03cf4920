//! Settings that live in resources of their own, joined to the resource they configure.
//!
//! Since version 4 of the AWS provider, an S3 bucket's encryption, versioning, logging, public
//! access block, replication and policy are separate resources that name their bucket; an RDS
//! instance names its parameter group. A link is found through a reference (`.id`, `.bucket`,
//! `.arn`, directly or through locals, variables and module arguments) or, failing that, through
//! the literal name. A resource that names a bucket this configuration does not manage is
//! linked to nothing.

use crate::address_hash::AddressMap;
use crate::model::{Mode, Project, Reference, Resource};
use crate::runs;
use crate::value::Value;
use std::borrow::Cow;

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
    by_config_address: AddressMap<Cow<'a, str>, Vec<usize>>,
    /// Type → name or ARN → resources, for every type some link points at. Names are borrowed
    /// from the resources' values; only ARNs made of names are built.
    by_name: AddressMap<&'a str, AddressMap<Cow<'a, str>, Vec<usize>>>,
    /// (target index, from type) → resources of that type naming the target.
    linked_from: AddressMap<(usize, &'static str), Vec<usize>>,
}

impl<'a> Index<'a> {
    pub fn build(project: &'a Project) -> Index<'a> {
        let resources = project.resources.as_slice();
        // The tables by address and the tables by type and name share nothing, so a large
        // project builds them on two threads at once.
        let ((by_address, by_config_address), (by_type, by_name)) =
            if runs::cores() > 1 && resources.len() >= 2 * runs::ITEMS_PER_THREAD {
                std::thread::scope(|scope| {
                    let addresses = scope.spawn(|| address_tables(resources));
                    let names = name_tables(resources);
                    (runs::joined(addresses), names)
                })
            } else {
                (address_tables(resources), name_tables(resources))
            };
        let mut index = Index {
            resources,
            by_address,
            by_type,
            by_config_address,
            by_name,
            linked_from: AddressMap::default(),
        };

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
            .get(reference.address.as_str())
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

/// One way other resources may name a resource by a literal: an attribute of it, and the
/// prefix that makes the attribute's value an ARN where ARNs are accepted too.
#[derive(Clone, Copy, PartialEq)]
struct NameForm {
    attribute: &'static str,
    arn_prefix: Option<&'static str>,
}

impl NameForm {
    /// The forms links use to name a resource of this type, each once: the ten S3 settings all
    /// name a bucket by `bucket` or `id`, and reading those ten times over added nothing.
    fn of_type(resource_type: &str) -> Vec<NameForm> {
        let mut forms = Vec::new();
        for kind in LINKS.iter().filter(|k| k.to_types.contains(&resource_type)) {
            for &attribute in kind.to_name_attributes {
                let form = NameForm {
                    attribute,
                    arn_prefix: kind.arn_prefix,
                };
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        forms
    }
}

type AddressTables<'a> = (
    AddressMap<&'a str, usize>,
    AddressMap<Cow<'a, str>, Vec<usize>>,
);

type NameTables<'a> = (
    AddressMap<&'a str, Vec<usize>>,
    AddressMap<&'a str, AddressMap<Cow<'a, str>, Vec<usize>>>,
);

/// The tables of [`Index`] by address and by configuration address.
fn address_tables(resources: &[Resource]) -> AddressTables<'_> {
    let mut by_address = AddressMap::with_capacity_and_hasher(resources.len(), Default::default());
    let mut by_config_address: AddressMap<Cow<str>, Vec<usize>> =
        AddressMap::with_capacity_and_hasher(resources.len(), Default::default());
    for (i, resource) in resources.iter().enumerate() {
        by_address.insert(resource.address.as_str(), i);
        // Without an instance key the address is the configuration address, which
        // `by_address` already answers.
        if resource.key.is_some() {
            by_config_address
                .entry(config_address(resource))
                .or_default()
                .push(i);
        }
    }
    (by_address, by_config_address)
}

/// The tables of [`Index`] by type and by name.
fn name_tables(resources: &[Resource]) -> NameTables<'_> {
    let mut by_type: AddressMap<&str, Vec<usize>> = AddressMap::default();
    for (i, resource) in resources.iter().enumerate() {
        by_type
            .entry(resource.resource_type.as_str())
            .or_default()
            .push(i);
    }

    // Names are indexed once every resource has its type counted, so that each type's table
    // of names is made at its size rather than grown (and copied) step by step.
    let mut by_name = AddressMap::default();
    let mut name_forms: AddressMap<&str, Vec<NameForm>> = AddressMap::default();
    for (i, resource) in resources.iter().enumerate() {
        let forms = name_forms
            .entry(resource.resource_type.as_str())
            .or_insert_with(|| NameForm::of_type(&resource.resource_type));
        index_names(&mut by_name, &by_type, i, resource, forms);
    }
    (by_type, by_name)
}

fn index_names<'a>(
    by_name: &mut AddressMap<&'a str, AddressMap<Cow<'a, str>, Vec<usize>>>,
    by_type: &AddressMap<&'a str, Vec<usize>>,
    i: usize,
    resource: &'a Resource,
    forms: &[NameForm],
) {
    for form in forms {
        let Some(name) = resource.attr(form.attribute).as_str() else {
            continue;
        };
        let arn = form.arn_prefix.map(|prefix| format!("{prefix}{name}"));
        let names = std::iter::once(Cow::Borrowed(name)).chain(arn.map(Cow::Owned));
        for name in names {
            let slot = by_name
                .entry(resource.resource_type.as_str())
                .or_insert_with(|| {
                    let of_type = by_type.get(resource.resource_type.as_str());
                    let per_resource: usize = forms
                        .iter()
                        .map(|f| 1 + usize::from(f.arn_prefix.is_some()))
                        .sum();
                    let names = of_type.map_or(0, Vec::len) * per_resource;
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

/// A resource's address without its instance key (see [`Resource::config_address`]), borrowed
/// from its address when the address starts with it, as it does for every loaded resource.
fn config_address(resource: &Resource) -> Cow<'_, str> {
    let prefix = |address: &str| -> Option<usize> {
        let mut rest = address;
        if !resource.module.is_empty() {
            rest = rest
                .strip_prefix(resource.module.as_str())?
                .strip_prefix('.')?;
        }
        if resource.mode == Mode::Data {
            rest = rest.strip_prefix("data.")?;
        }
        rest = rest
            .strip_prefix(resource.resource_type.as_str())?
            .strip_prefix('.')?
            .strip_prefix(resource.name.as_str())?;
        Some(address.len() - rest.len())
    };
    match prefix(&resource.address) {
        Some(len) => Cow::Borrowed(&resource.address[..len]),
        None => Cow::Owned(resource.config_address()),
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
    fn config_addresses_are_the_resources_own() {
        let mut data = resource("aws_iam_policy_document", "p", json!({}));
        data.mode = Mode::Data;
        data.module = "module.a[\"x\"]".to_string();
        data.address = "module.a[\"x\"].data.aws_iam_policy_document.p[\"k\"]".to_string();
        let mut keyed = resource("aws_s3_bucket", "b", json!({}));
        keyed.address = "aws_s3_bucket.b[3]".to_string();
        // An address that does not start with the configuration address (not made by a
        // loader) still gets the configuration address built from its parts.
        let mut odd = resource("aws_s3_bucket", "c", json!({}));
        odd.module = "module.m".to_string();

        for resource in [&data, &keyed, &odd] {
            assert_eq!(config_address(resource), resource.config_address());
        }
        assert_eq!(
            config_address(&data),
            "module.a[\"x\"].data.aws_iam_policy_document.p"
        );
        assert!(matches!(
            config_address(&keyed),
            Cow::Borrowed("aws_s3_bucket.b")
        ));
        assert!(matches!(config_address(&odd), Cow::Owned(_)));
    }

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
