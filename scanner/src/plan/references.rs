//! The references of plan configuration, made absolute and followed across module boundaries.
//!
//! Plan JSON describes the configuration once per module (not per instance) and, for each
//! attribute, lists the references its expression makes, e.g. `aws_kms_key.k.arn`,
//! `aws_kms_key.k`, `var.key_arn`, `module.keys["a"].arn`. A resource reference is read in the
//! referring instance's module instance. A `var.` reference in a child module is followed to the
//! module call's argument in the parent module, and a `module.m.out` reference to the resources
//! the output's expression refers to in that module instance.
//!
//! Known shortcomings, all because plan JSON does not say more:
//! - `local.` references are not followed: the configuration lists no locals.
//! - `var.` references in the root module lead nowhere: root variables have values, not
//!   references.
//! - A reference whose instance key is not a literal (`aws_s3_bucket.b[each.key]`) names every
//!   instance of the resource, and `module.m[each.key].out` (which plan JSON lists only as
//!   `module.m`) is not followed at all, since the output read is not named.

use super::schema::{ConfigModule, ExpressionNode};
use crate::address_hash::{AddressMap, AddressSet};
use crate::model::{InstanceKey, Reference, References};

/// How deep `var.` and output references are followed. Terraform rejects cycles, so real chains
/// are as long as the module tree is deep; the bound only guards against malformed input.
const MAX_FOLLOW_DEPTH: usize = 32;

/// Roots of references that never name a resource or something leading to one.
const NOT_FOLLOWED_ROOTS: &[&str] = &[
    "local",
    "each",
    "count",
    "path",
    "terraform",
    "self",
    "ephemeral",
];

/// One step of a traversal: `module`, `a`, `["x"]`, `arn`.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<'s> {
    Name(&'s str),
    Key(InstanceKey),
}

/// Splits `module.a["x"].aws_s3_bucket.b[0].id` into its steps. `None` for text that is not a
/// traversal (a splat, an unterminated key).
pub fn split_traversal(text: &str) -> Option<Vec<Step<'_>>> {
    let bytes = text.as_bytes();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' if !steps.is_empty() => i += 1,
            b'[' => {
                let (key, next) = read_key(text, i + 1)?;
                steps.push(Step::Key(key));
                i = next;
                continue;
            }
            _ => {}
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'.' && bytes[i] != b'[' {
            i += 1;
        }
        if start == i {
            return None;
        }
        steps.push(Step::Name(&text[start..i]));
    }
    Some(steps)
}

/// Reads `0]` or `"x"]` from `start` (just past the `[`), returning the key and the position
/// after the `]`.
fn read_key(text: &str, start: usize) -> Option<(InstanceKey, usize)> {
    let rest = &text[start..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut key = String::new();
        let mut chars = quoted.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    let after = start + 1 + at + 1;
                    return text[after..]
                        .starts_with(']')
                        .then_some((InstanceKey::Key(key), after + 1));
                }
                '\\' => match chars.next()?.1 {
                    'n' => key.push('\n'),
                    't' => key.push('\t'),
                    other => key.push(other),
                },
                c => key.push(c),
            }
        }
        return None;
    }
    let end = rest.find(']')?;
    let index = rest[..end].parse().ok()?;
    Some((InstanceKey::Index(index), start + end + 1))
}

/// What a reference string names. Each is read once, as the configuration is gathered: a
/// module's configuration is resolved again for every instance of the module, and reading the
/// same texts each time was most of the time spent joining a large plan's instances with it.
#[derive(Debug, PartialEq)]
pub enum Subject {
    /// A managed resource or data source, in the referring module.
    Resource {
        /// `aws_s3_bucket.b`, `data.aws_kms_key.k`, with the instance key when a literal one is
        /// given.
        local_address: String,
        attribute: Option<String>,
    },
    Variable(String),
    ModuleOutput {
        call: String,
        key: Option<InstanceKey>,
        output: String,
    },
    NotFollowed,
}

/// The subjects of reference texts, leaving out those that lead nowhere.
fn followed_subjects<'t>(texts: impl IntoIterator<Item = &'t str>) -> Vec<Subject> {
    texts
        .into_iter()
        .map(parse_subject)
        .filter(|subject| *subject != Subject::NotFollowed)
        .collect()
}

fn parse_subject(text: &str) -> Subject {
    let Some(steps) = split_traversal(text) else {
        return Subject::NotFollowed;
    };
    let name = |i: usize| match steps.get(i) {
        Some(Step::Name(name)) => Some(*name),
        _ => None,
    };

    match name(0) {
        None => Subject::NotFollowed,
        Some(root) if NOT_FOLLOWED_ROOTS.contains(&root) => Subject::NotFollowed,
        Some("var") => name(1).map_or(Subject::NotFollowed, |name| {
            Subject::Variable(name.to_string())
        }),
        Some("module") => {
            let Some(call) = name(1) else {
                return Subject::NotFollowed;
            };
            let (key, output_at) = match steps.get(2) {
                Some(Step::Key(key)) => (Some(key.clone()), 3),
                _ => (None, 2),
            };
            match name(output_at) {
                Some(output) => Subject::ModuleOutput {
                    call: call.to_string(),
                    key,
                    output: output.to_string(),
                },
                None => Subject::NotFollowed,
            }
        }
        Some("data") => resource_subject(&steps[1..], "data."),
        Some(_) => resource_subject(&steps, ""),
    }
}

fn resource_subject(steps: &[Step], prefix: &str) -> Subject {
    let (Some(Step::Name(resource_type)), Some(Step::Name(name))) = (steps.first(), steps.get(1))
    else {
        return Subject::NotFollowed;
    };
    let mut local_address = format!("{prefix}{resource_type}.{name}");
    let mut rest = &steps[2..];
    if let Some(Step::Key(key)) = rest.first() {
        local_address.push_str(&key.to_string());
        rest = &rest[1..];
    }
    let attribute = match rest.first() {
        Some(Step::Name(attribute)) => Some(attribute.to_string()),
        _ => None,
    };
    Subject::Resource {
        local_address,
        attribute,
    }
}

/// The configuration of one resource block, as the reference resolver needs it.
pub struct ResourceConfig {
    pub provider_config_key: Option<String>,
    /// Per dotted attribute path, the references its expression lists that lead somewhere.
    pub references: Vec<(String, Vec<Subject>)>,
    /// What the block sets, to tell a computed attribute the configuration leaves unset from
    /// one whose expression is unknown.
    pub expressions: Option<ExpressionNode>,
}

/// One module's configuration: its resource blocks, module calls and outputs.
#[derive(Default)]
pub struct ModuleConfig {
    /// By `type.name` or `data.type.name`.
    pub resources: AddressMap<String, ResourceConfig>,
    pub calls: AddressMap<String, CallConfig>,
    /// Per output, the references of its expression that lead somewhere.
    pub outputs: AddressMap<String, Vec<Subject>>,
}

pub struct CallConfig {
    /// Per argument (the child's variable), the references of its expression that lead
    /// somewhere.
    pub arguments: AddressMap<String, Vec<Subject>>,
    pub module: ModuleConfig,
}

/// The key of a resource block in its module's configuration: `aws_s3_bucket.b`, or
/// `data.aws_iam_policy_document.d` for a data source. Joined rather than formatted: the join
/// spells one for every resource instance of a plan, and `format!` showed in its profiles.
pub fn block_key(data: bool, resource_type: &str, name: &str) -> String {
    let prefix = if data { "data." } else { "" };
    [prefix, resource_type, ".", name].concat()
}

impl ModuleConfig {
    /// Gathers the references of every block of a module and its calls.
    pub fn build(module: ConfigModule) -> ModuleConfig {
        let mut config = ModuleConfig::default();

        for resource in module.resources {
            let key = block_key(
                resource.mode == "data",
                &resource.resource_type,
                &resource.name,
            );
            let mut references = Vec::new();
            if let Some(body) = &resource.expressions {
                collect_references(body, "", &mut references);
            }
            config.resources.insert(
                key,
                ResourceConfig {
                    provider_config_key: resource.provider_config_key,
                    references,
                    expressions: resource.expressions,
                },
            );
        }

        for (name, call) in module.module_calls {
            let mut arguments = Vec::new();
            if let Some(body) = &call.expressions {
                collect_references(body, "", &mut arguments);
            }
            let call = CallConfig {
                arguments: arguments.into_iter().collect(),
                module: ModuleConfig::build(call.module),
            };
            config.calls.insert(name, call);
        }

        for (name, output) in module.outputs {
            let texts = output.expression.map(|e| e.references).unwrap_or_default();
            let subjects = followed_subjects(texts.iter().map(String::as_str));
            config.outputs.insert(name, subjects);
        }
        config
    }
}

/// Walks a block body: attributes give their references, nested blocks are walked under their
/// name (block instances share the path, as attribute paths carry no indices).
fn collect_references(body: &ExpressionNode, prefix: &str, out: &mut Vec<(String, Vec<Subject>)>) {
    match body {
        ExpressionNode::Object(entries) => {
            for (name, node) in entries {
                let path = if prefix.is_empty() {
                    name.to_string()
                } else {
                    format!("{prefix}.{name}")
                };
                match node.references() {
                    Some(references) if references.is_empty() => {}
                    Some(references) => push_references(out, path, references),
                    None => collect_references(node, &path, out),
                }
            }
        }
        ExpressionNode::List(blocks) => {
            for block in blocks {
                collect_references(block, prefix, out);
            }
        }
        ExpressionNode::String(_) | ExpressionNode::Other => {}
    }
}

/// Adds the subjects of references to a path, joining the lists of repeated blocks.
fn push_references(out: &mut Vec<(String, Vec<Subject>)>, path: String, texts: Vec<&str>) {
    let subjects = followed_subjects(texts);
    if let Some((_, existing)) = out.iter_mut().find(|(p, _)| *p == path) {
        existing.extend(subjects);
    } else {
        out.push((path, subjects));
    }
}

/// Formats module instance steps back into an address: `module.a["x"].module.b`.
pub fn module_address(steps: &[(String, Option<InstanceKey>)]) -> String {
    let mut address = String::new();
    for (name, key) in steps {
        if !address.is_empty() {
            address.push('.');
        }
        address.push_str("module.");
        address.push_str(name);
        if let Some(key) = key {
            address.push_str(&key.to_string());
        }
    }
    address
}

/// Parses a module instance address into (call name, key) steps.
pub fn module_steps(address: &str) -> Option<Vec<(String, Option<InstanceKey>)>> {
    let steps = split_traversal(address)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let (Step::Name("module"), Some(Step::Name(name))) = (&steps[i], steps.get(i + 1)) else {
            return None;
        };
        let key = match steps.get(i + 2) {
            Some(Step::Key(key)) => {
                i += 1;
                Some(key.clone())
            }
            _ => None,
        };
        out.push((name.to_string(), key));
        i += 2;
    }
    Some(out)
}

/// A module instance, as the references read in it need it.
#[derive(Clone, Copy)]
pub struct InstancePath<'a> {
    pub steps: &'a [(String, Option<InstanceKey>)],
    /// Its address, [`module_address`] of `steps`.
    pub address: &'a str,
    /// The addresses of the module instances it is in, one per step, the root's (empty) first:
    /// a `var.` reference is read in the parent, and each instance of a module would otherwise
    /// spell its parent's address again for each.
    pub ancestors: &'a [String],
}

/// The addresses of the module instances that `steps` is in, as [`InstancePath::ancestors`].
pub fn ancestor_addresses(steps: &[(String, Option<InstanceKey>)]) -> Vec<String> {
    (0..steps.len())
        .map(|depth| module_address(&steps[..depth]))
        .collect()
}

/// Resolves references against the whole configuration.
pub struct Resolver<'c> {
    root: &'c ModuleConfig,
}

impl<'c> Resolver<'c> {
    pub fn new(root: &'c ModuleConfig) -> Resolver<'c> {
        Resolver { root }
    }

    /// The configuration of the module an instance path is an instance of.
    pub fn module(&self, steps: &[(String, Option<InstanceKey>)]) -> Option<&'c ModuleConfig> {
        let mut module = self.root;
        for (name, _) in steps {
            module = &module.calls.get(name.as_str())?.module;
        }
        Some(module)
    }

    /// The references of every attribute of a resource block, read in the module instance
    /// `module`, absolute and without duplicates.
    pub fn resolve_resource(&self, config: &ResourceConfig, module: InstancePath) -> References {
        let mut resolved = Vec::new();
        for (path, subjects) in &config.references {
            let mut found = Vec::new();
            for subject in subjects {
                self.resolve(subject, module, 0, &mut found);
            }
            let mut found = deduplicate(found);
            found.shrink_to_fit();
            if !found.is_empty() {
                resolved.push((path.clone(), found));
            }
        }
        resolved.into_iter().collect()
    }

    /// Resolves one reference read in the module instance `module`.
    fn resolve(
        &self,
        subject: &Subject,
        module: InstancePath,
        depth: usize,
        out: &mut Vec<Reference>,
    ) {
        if depth > MAX_FOLLOW_DEPTH {
            return;
        }
        match subject {
            Subject::Resource {
                local_address,
                attribute,
            } => {
                // Joined rather than formatted: this runs for every reference of every
                // instance, and `format!` was a tenth of the join's time in profiles.
                let address = if module.address.is_empty() {
                    local_address.clone()
                } else {
                    [module.address, ".", local_address].concat()
                };
                out.push(Reference {
                    address,
                    attribute: attribute.clone(),
                });
            }
            Subject::Variable(name) => {
                // A child module's variable is the argument of its call in the parent module.
                let Some(((call, _), parent_steps)) = module.steps.split_last() else {
                    return;
                };
                let depth_of_parent = parent_steps.len();
                let parent = InstancePath {
                    steps: parent_steps,
                    address: &module.ancestors[depth_of_parent],
                    ancestors: &module.ancestors[..depth_of_parent],
                };
                let argument = self
                    .module(parent.steps)
                    .and_then(|module| module.calls.get(call.as_str()))
                    .and_then(|call| call.arguments.get(name));
                for subject in argument.into_iter().flatten() {
                    self.resolve(subject, parent, depth + 1, out);
                }
            }
            Subject::ModuleOutput { call, key, output } => {
                let expression = self
                    .module(module.steps)
                    .and_then(|module| module.calls.get(call))
                    .and_then(|call| call.module.outputs.get(output));
                let Some(expression) = expression else {
                    return;
                };
                let mut child_steps = module.steps.to_vec();
                child_steps.push((call.clone(), key.clone()));
                let child_address = module_address(&child_steps);
                let mut child_ancestors = module.ancestors.to_vec();
                child_ancestors.push(module.address.to_string());
                let child = InstancePath {
                    steps: &child_steps,
                    address: &child_address,
                    ancestors: &child_ancestors,
                };
                for subject in expression {
                    self.resolve(subject, child, depth + 1, out);
                }
            }
            Subject::NotFollowed => {}
        }
    }
}

/// Terraform lists a reference once per traversal step (`aws_s3_bucket.b[0].id`,
/// `aws_s3_bucket.b[0]`, `aws_s3_bucket.b`); keeps the most precise of each.
fn deduplicate(mut found: Vec<Reference>) -> Vec<Reference> {
    found.sort();
    found.dedup();
    // Most attributes name one thing, and one reference is always kept.
    if found.len() < 2 {
        return found;
    }
    let precise: AddressSet<&str> = found
        .iter()
        .filter(|r| r.attribute.is_some())
        .map(|r| r.address.as_str())
        .collect();
    let keyed: AddressSet<&str> = found
        .iter()
        .filter_map(|r| r.address.strip_suffix(']'))
        .filter_map(|a| a.rfind('[').map(|at| &a[..at]))
        .collect();
    let keep: Vec<bool> = found
        .iter()
        .map(|r| {
            r.attribute.is_some()
                || !(precise.contains(r.address.as_str()) || keyed.contains(r.address.as_str()))
        })
        .collect();
    let mut keep = keep.into_iter();
    found.retain(|_| keep.next().unwrap_or(true));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversals_split_into_names_and_keys() {
        assert_eq!(
            split_traversal(r#"module.a["x.y"].aws_s3_bucket.b[0].id"#),
            Some(vec![
                Step::Name("module"),
                Step::Name("a"),
                Step::Key(InstanceKey::Key("x.y".into())),
                Step::Name("aws_s3_bucket"),
                Step::Name("b"),
                Step::Key(InstanceKey::Index(0)),
                Step::Name("id"),
            ])
        );
        assert_eq!(split_traversal("aws_s3_bucket.b[*].id"), None);
        assert_eq!(split_traversal(r#"a["open"#), None);
    }

    #[test]
    fn subjects_are_told_apart() {
        assert_eq!(
            parse_subject("data.aws_kms_key.k.arn"),
            Subject::Resource {
                local_address: "data.aws_kms_key.k".into(),
                attribute: Some("arn".into())
            }
        );
        assert_eq!(
            parse_subject("aws_s3_bucket.lab[0]"),
            Subject::Resource {
                local_address: "aws_s3_bucket.lab[0]".into(),
                attribute: None
            }
        );
        assert_eq!(parse_subject("var.x"), Subject::Variable("x".into()));
        assert_eq!(parse_subject("local.y"), Subject::NotFollowed);
        assert_eq!(parse_subject("each.value.kms"), Subject::NotFollowed);
        assert_eq!(parse_subject("module.m"), Subject::NotFollowed);
        assert_eq!(
            parse_subject(r#"module.m["a"].out"#),
            Subject::ModuleOutput {
                call: "m".into(),
                key: Some(InstanceKey::Key("a".into())),
                output: "out".into()
            }
        );
    }

    #[test]
    fn variables_are_followed_up_through_each_enclosing_module_instance() {
        // The root calls `outer`, which calls `inner`; `inner`'s bucket reads `var.to_root`,
        // which `outer` passes on from its own `var.from_root`, and `var.to_outer`, which
        // `outer` sets to a key of its own.
        let subjects = |texts: &[&str]| followed_subjects(texts.iter().copied());
        let mut inner = ModuleConfig::default();
        inner.resources.insert(
            "aws_s3_bucket.b".into(),
            ResourceConfig {
                provider_config_key: None,
                references: vec![
                    ("kms_key_id".into(), subjects(&["var.to_root"])),
                    ("kms_master_key_id".into(), subjects(&["var.to_outer"])),
                ],
                expressions: None,
            },
        );
        let mut outer = ModuleConfig::default();
        outer.calls.insert(
            "inner".into(),
            CallConfig {
                arguments: [
                    ("to_root".into(), subjects(&["var.from_root"])),
                    ("to_outer".into(), subjects(&["aws_kms_key.outer.arn"])),
                ]
                .into_iter()
                .collect(),
                module: inner,
            },
        );
        let mut root = ModuleConfig::default();
        root.calls.insert(
            "outer".into(),
            CallConfig {
                arguments: [("from_root".into(), subjects(&["aws_kms_key.root.arn"]))]
                    .into_iter()
                    .collect(),
                module: outer,
            },
        );

        let address = r#"module.outer["k"].module.inner[0]"#;
        let steps = module_steps(address).unwrap();
        let ancestors = ancestor_addresses(&steps);
        assert_eq!(ancestors, ["", r#"module.outer["k"]"#]);
        let module = InstancePath {
            steps: &steps,
            address,
            ancestors: &ancestors,
        };
        let resolver = Resolver::new(&root);
        let bucket = &root.calls["outer"].module.calls["inner"].module.resources["aws_s3_bucket.b"];
        let references = resolver.resolve_resource(bucket, module);

        let reference = |address: &str| {
            vec![Reference {
                address: address.into(),
                attribute: Some("arn".into()),
            }]
        };
        assert_eq!(
            references.get("kms_key_id"),
            Some(&reference("aws_kms_key.root"))
        );
        assert_eq!(
            references.get("kms_master_key_id"),
            Some(&reference(r#"module.outer["k"].aws_kms_key.outer"#))
        );
    }

    #[test]
    fn module_instance_addresses_round_trip() {
        let address = r#"module.a["x"].module.b[2].module.c"#;
        let steps = module_steps(address).unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(module_address(&steps), address);
        assert_eq!(module_steps(""), Some(vec![]));
        assert_eq!(module_steps("aws_s3_bucket.b"), None);
    }

    #[test]
    fn each_step_listing_collapses_to_the_most_precise_reference() {
        let reference = |address: &str, attribute: Option<&str>| Reference {
            address: address.into(),
            attribute: attribute.map(str::to_string),
        };
        let found = deduplicate(vec![
            reference("aws_s3_bucket.b[0]", Some("id")),
            reference("aws_s3_bucket.b[0]", None),
            reference("aws_s3_bucket.b", None),
            reference("aws_kms_key.k", Some("arn")),
            reference("aws_kms_key.k", None),
            reference("aws_kms_key.k", Some("arn")),
            reference("aws_iam_role.r", None),
        ]);
        assert_eq!(
            found,
            vec![
                reference("aws_iam_role.r", None),
                reference("aws_kms_key.k", Some("arn")),
                reference("aws_s3_bucket.b[0]", Some("id")),
            ]
        );
    }
}
