//! The one resource model both loaders produce: every resource instance of a configuration or a
//! plan, with its address, type, provider configuration, attribute values, references and the
//! place in the source it came from.

use crate::suppress::SuppressionComment;
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Managed resources and data sources share the model; rules judge only managed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Managed,
    Data,
}

/// The key of one instance made by `count` (a number) or `for_each` (a string).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    Index(i64),
    Key(String),
}

impl fmt::Display for InstanceKey {
    /// Formats the key as Terraform writes it in an address: `[0]` or `["a"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => {
                f.write_str("[")?;
                write_quoted(f, k)?;
                f.write_str("]")
            }
        }
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// The provider configuration a resource is managed through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderRef {
    /// The local provider name, e.g. `aws`.
    pub name: String,
    /// The alias, for `provider = aws.eu`.
    pub alias: Option<String>,
    /// The provider's `region` (or Azure `location`, Google `region`), when one is configured.
    pub region: Option<Value>,
}

/// A place in a source file. Lines count from 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The path as the user named it, relative where possible.
    pub file: PathBuf,
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A reference from an attribute to another resource, e.g. `aws_s3_bucket.claims.id`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// The referenced resource's address. An instance address (`module.a.aws_s3_bucket.b[0]`)
    /// when the loader knows which instance is meant, otherwise the address without an instance
    /// key, standing for every instance of that resource in the referring module instance.
    pub address: String,
    /// The attribute read from it (`id`, `arn`, `bucket`), when one is.
    pub attribute: Option<String>,
}

/// One resource instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The full Terraform address, e.g. `module.vols["a"].aws_ebs_volume.this[0]`.
    pub address: String,
    /// The module instance path, e.g. `module.vols["a"]`, or empty for the root module.
    pub module: String,
    pub mode: Mode,
    /// The resource type, e.g. `aws_s3_bucket`.
    pub resource_type: String,
    /// The resource name, e.g. `this`.
    pub name: String,
    pub key: Option<InstanceKey>,
    pub provider: ProviderRef,
    /// Attribute values; nested blocks are lists of objects.
    pub values: Value,
    /// Per dotted attribute path (block names included, no indices), the resources the
    /// expression refers to, directly or through locals, variables and module arguments.
    pub references: References,
    /// Where the resource block starts.
    pub location: Option<Location>,
    /// The line of each attribute, by dotted path (block names included, no indices), where the
    /// source is known.
    pub attribute_lines: BTreeMap<String, u32>,
}

/// Per dotted attribute path, the resources the attribute's expression refers to, in one
/// vector sorted by path. Most resources refer to others from one to three attributes; a
/// `BTreeMap` would give each of them a node with room for eleven, several hundred bytes of
/// fresh memory per resource of a large plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct References {
    /// Sorted by path, each path once.
    by_path: Vec<(String, Vec<Reference>)>,
}

impl References {
    fn position(&self, path: &str) -> Result<usize, usize> {
        self.by_path
            .binary_search_by(|(candidate, _)| crate::value::compare_keys(candidate, path))
    }

    pub fn get(&self, path: &str) -> Option<&Vec<Reference>> {
        self.position(path).ok().map(|i| &self.by_path[i].1)
    }

    /// Sets the references of a path, returning those it replaced.
    pub fn insert(&mut self, path: String, references: Vec<Reference>) -> Option<Vec<Reference>> {
        match self.position(&path) {
            Ok(i) => Some(std::mem::replace(&mut self.by_path[i].1, references)),
            Err(i) => {
                self.by_path.insert(i, (path, references));
                None
            }
        }
    }

    /// The references of a path, an empty list put there first when it has none.
    pub fn of_path_mut(&mut self, path: &str) -> &mut Vec<Reference> {
        let i = match self.position(path) {
            Ok(i) => i,
            Err(i) => {
                self.by_path.insert(i, (path.to_string(), Vec::new()));
                i
            }
        };
        &mut self.by_path[i].1
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<Reference>)> {
        self.by_path
            .iter()
            .map(|(path, references)| (path, references))
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

impl FromIterator<(String, Vec<Reference>)> for References {
    /// Takes paths in any order; of a path given twice, the last references stand.
    fn from_iter<I: IntoIterator<Item = (String, Vec<Reference>)>>(entries: I) -> References {
        let mut by_path: Vec<(String, Vec<Reference>)> = entries.into_iter().collect();
        crate::value::into_key_order(&mut by_path);
        by_path.shrink_to_fit();
        References { by_path }
    }
}

impl Resource {
    /// A managed resource in the root module with the given attribute values, for tests and for
    /// loaders to fill in further.
    pub fn new(resource_type: &str, name: &str, values: Value) -> Resource {
        Resource {
            address: format!("{resource_type}.{name}"),
            module: String::new(),
            mode: Mode::Managed,
            resource_type: resource_type.to_string(),
            name: name.to_string(),
            key: None,
            provider: ProviderRef {
                name: resource_type
                    .split('_')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                ..ProviderRef::default()
            },
            values,
            references: References::default(),
            location: None,
            attribute_lines: BTreeMap::new(),
        }
    }

    /// The address without the instance key: `module.a["x"].aws_s3_bucket.b`.
    pub fn config_address(&self) -> String {
        let mode = match self.mode {
            Mode::Managed => "",
            Mode::Data => "data.",
        };
        if self.module.is_empty() {
            format!("{mode}{}.{}", self.resource_type, self.name)
        } else {
            format!("{}.{mode}{}.{}", self.module, self.resource_type, self.name)
        }
    }

    /// Every value at a dotted attribute path (see [`Value::lookup`]).
    pub fn lookup(&self, path: &str) -> Vec<&Value> {
        self.values.lookup(path)
    }

    /// The single value at a dotted attribute path, `Null` when absent.
    pub fn attr(&self, path: &str) -> &Value {
        self.values.at(path)
    }

    /// The resources an attribute refers to.
    pub fn references_of(&self, path: &str) -> &[Reference] {
        self.references.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The best place to point at for an attribute: its own line, or else the block's.
    pub fn location_of(&self, path: &str) -> Option<Location> {
        let location = self.location.as_ref()?;
        let line = self.attribute_lines.get(path).copied();
        Some(Location {
            file: location.file.clone(),
            line: line.unwrap_or(location.line),
        })
    }
}

/// A module call whose source could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedModule {
    /// The module call's address, e.g. `module.vpc`.
    pub address: String,
    /// Its `source` as written.
    pub source: String,
    pub reason: String,
}

/// Everything the loaders read from one scan's inputs.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub resources: Vec<Resource>,
    /// Module calls that were not scanned (remote modules not downloaded, unreadable sources).
    pub skipped_modules: Vec<SkippedModule>,
    /// The files that were read, for the summary.
    pub files: Vec<PathBuf>,
    /// Things the user should know that did not stop the scan.
    pub notes: Vec<String>,
    /// The `hipaa:ignore` comments on resource and module blocks, once per block and module
    /// call path.
    pub suppressions: Vec<SuppressionComment>,
    /// Set when the resources were read from a live account (`hipaa audit aws`) rather than
    /// from code.
    pub live: Option<LiveScope>,
}

/// What a live audit listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveScope {
    /// Resource types of which every instance in the account was listed: a declaration naming
    /// one that is not among them names something that does not exist.
    pub complete_types: std::collections::BTreeSet<String>,
}

impl Project {
    /// Adds another input's resources. A resource address already present is kept once, so that
    /// a configuration reached twice does not double its findings.
    pub fn merge(&mut self, other: Project) {
        let mut seen: std::collections::HashSet<String> =
            self.resources.iter().map(|r| r.address.clone()).collect();
        for resource in other.resources {
            if seen.insert(resource.address.clone()) {
                self.resources.push(resource);
            }
        }
        self.skipped_modules.extend(other.skipped_modules);
        self.files.extend(other.files);
        self.notes.extend(other.notes);
        for comment in other.suppressions {
            if !self.suppressions.contains(&comment) {
                self.suppressions.push(comment);
            }
        }
        if self.live.is_none() {
            self.live = other.live;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_kept_by_path_in_order_and_the_last_of_a_path_stands() {
        let to = |address: &str| {
            vec![Reference {
                address: address.to_string(),
                attribute: None,
            }]
        };
        let mut references: References = [
            ("tags.Name".to_string(), to("first")),
            ("bucket".to_string(), to("aws_s3_bucket.b")),
            ("tags.Name".to_string(), to("last")),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            references
                .iter()
                .map(|(path, _)| path.as_str())
                .collect::<Vec<_>>(),
            ["bucket", "tags.Name"]
        );
        assert_eq!(references.get("tags.Name"), Some(&to("last")));

        assert_eq!(
            references.insert("bucket".into(), to("b2")),
            Some(to("aws_s3_bucket.b"))
        );
        references.of_path_mut("acl").extend(to("a"));
        references.of_path_mut("acl").extend(to("b"));
        assert_eq!(references.get("acl").map(Vec::len), Some(2));
        assert_eq!(references.get("missing"), None);
        assert_eq!(
            references
                .iter()
                .map(|(path, _)| path.as_str())
                .collect::<Vec<_>>(),
            ["acl", "bucket", "tags.Name"]
        );
    }

    #[test]
    fn instance_keys_print_as_terraform_writes_them() {
        assert_eq!(InstanceKey::Index(3).to_string(), "[3]");
        assert_eq!(InstanceKey::Key("a\"b".into()).to_string(), "[\"a\\\"b\"]");
    }
}
