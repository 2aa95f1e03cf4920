//! Evaluating the body of a resource: attributes become values, nested blocks become lists of
//! objects under the block name (as in plan JSON), `dynamic` blocks are expanded, and the
//! references and line of every attribute are recorded by dotted path.

use super::eval::{iteration_items, Evaluator};
use super::source::SourceFile;
use super::val::{Kind, Refs, Val};
use crate::model::Reference;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use std::collections::BTreeMap;

/// Arguments of a resource block that tell Terraform how to manage it, not what to create.
const META_ARGUMENTS: &[&str] = &["count", "for_each", "provider", "depends_on"];

/// Blocks of a resource block that are not part of what it creates.
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];

/// What evaluating a resource body gives.
#[derive(Default)]
pub(crate) struct BodyValues {
    pub values: BTreeMap<String, Val>,
    /// Per dotted path (block names included, no indices), the resources referred to.
    pub references: BTreeMap<String, Vec<Reference>>,
    /// Per dotted path, the line of the attribute or block.
    pub lines: BTreeMap<String, u32>,
}

/// Evaluates a resource body, leaving out the meta-arguments.
pub(crate) fn eval_resource_body(ev: &mut Evaluator, body: &Body, file: &SourceFile) -> BodyValues {
    let mut out = BodyValues::default();
    let values = eval_body(ev, body, "", file, &mut out, true);
    out.values = values;
    for references in out.references.values_mut() {
        references.sort();
        references.dedup();
    }
    out
}

/// The blocks of one name met in a body.
enum Blocks {
    Known(Vec<Val>),
    /// A `dynamic` block whose `for_each` cannot be known: how many blocks there are is not
    /// known either.
    Unknown(Refs),
}

fn eval_body(
    ev: &mut Evaluator,
    body: &Body,
    prefix: &str,
    file: &SourceFile,
    out: &mut BodyValues,
    top_level: bool,
) -> BTreeMap<String, Val> {
    let mut values = BTreeMap::new();
    let mut blocks: BTreeMap<String, Blocks> = BTreeMap::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                let name = attribute.key.as_str();
                if top_level && META_ARGUMENTS.contains(&name) {
                    continue;
                }
                let path = join(prefix, name);
                let value = ev.eval(&attribute.value);
                record_references(out, &path, &value);
                record_line(out, path, file.line(attribute.key.span()));
                values.entry(name.to_string()).or_insert(value);
            }
            Structure::Block(block) => {
                let name = block.ident.as_str();
                if top_level && META_BLOCKS.contains(&name) {
                    continue;
                }
                if name == "dynamic" {
                    expand_dynamic(ev, block, prefix, file, out, &mut blocks);
                    continue;
                }
                let path = join(prefix, name);
                let inner = eval_body(ev, &block.body, &path, file, out, false);
                record_line(out, path, file.line(block.ident.span()));
                push_block(&mut blocks, name, Val::map(inner));
            }
        }
    }
    for (name, found) in blocks {
        let value = match found {
            Blocks::Known(items) => Val::list(items),
            Blocks::Unknown(refs) => Val::unknown().with_refs(&refs),
        };
        values.entry(name).or_insert(value);
    }
    values
}

fn push_block(blocks: &mut BTreeMap<String, Blocks>, name: &str, value: Val) {
    match blocks
        .entry(name.to_string())
        .or_insert_with(|| Blocks::Known(Vec::new()))
    {
        Blocks::Known(items) => items.push(value),
        Blocks::Unknown(_) => {}
    }
}

/// Expands `dynamic "name" { for_each = ...; iterator = it; content { ... } }` into one `name`
/// block per element.
fn expand_dynamic(
    ev: &mut Evaluator,
    block: &Block,
    prefix: &str,
    file: &SourceFile,
    out: &mut BodyValues,
    blocks: &mut BTreeMap<String, Blocks>,
) {
    let Some(label) = block.labels.first() else {
        return;
    };
    let name = label.as_str();
    let path = join(prefix, name);
    record_line(out, path.clone(), file.line(block.ident.span()));
    let Some(content) = block.body.get_blocks("content").next() else {
        return;
    };
    let iterator = match block.body.get_attribute("iterator").map(|a| &a.value) {
        Some(Expression::Variable(variable)) => variable.as_str(),
        _ => name,
    };
    let for_each = match block.body.get_attribute("for_each") {
        Some(attribute) => ev.eval(&attribute.value),
        None => Val::error(),
    };

    match iteration_items(&for_each) {
        Ok(items) => {
            for (key, value) in items {
                let mut element = BTreeMap::new();
                element.insert("key".to_string(), key);
                element.insert("value".to_string(), value);
                ev.bind(iterator, Val::map(element));
                let inner = eval_body(ev, &content.body, &path, file, out, false);
                ev.unbind();
                push_block(blocks, name, Val::map(inner));
            }
            if !blocks.contains_key(name) {
                blocks.insert(name.to_string(), Blocks::Known(Vec::new()));
            }
        }
        Err(_) => {
            // The content is still evaluated once, for the references and lines it holds.
            let refs = for_each.deep_refs();
            ev.bind(iterator, Val::unknown().with_refs(&refs));
            eval_body(ev, &content.body, &path, file, out, false);
            ev.unbind();
            blocks.insert(name.to_string(), Blocks::Unknown(refs));
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        return name.to_string();
    }
    // Built by hand: a path is made for every attribute of every instance, and `format!` costs
    // several times as much for two pieces and a dot.
    let mut path = String::with_capacity(prefix.len() + 1 + name.len());
    path.push_str(prefix);
    path.push('.');
    path.push_str(name);
    path
}

/// Records the line of a path, the first one met when a path repeats. Lines are recorded
/// after what is below a path; the paths below are longer, so the order does not matter.
fn record_line(out: &mut BodyValues, path: String, line: Option<u32>) {
    if let Some(line) = line {
        out.lines.entry(path).or_insert(line);
    }
}

/// Records the references of a value at its path, and those of the values inside an object
/// value at the deeper paths (`tags.Name`), so that both can be asked for.
fn record_references(out: &mut BodyValues, path: &str, value: &Val) {
    // Sorted and freed of repeats once the whole body is evaluated.
    let mut refs = Vec::new();
    value.collect_refs(&mut refs);
    if refs.is_empty() {
        return;
    }
    out.references
        .entry(path.to_string())
        .or_default()
        .extend(refs);
    match &value.kind {
        Kind::Map(entries) => {
            for (key, inner) in entries.iter() {
                record_references(out, &join(path, key), inner);
            }
        }
        Kind::List(items) => {
            for item in items.iter().filter(|item| item.as_map().is_some()) {
                if let Kind::Map(entries) = &item.kind {
                    for (key, inner) in entries.iter() {
                        record_references(out, &join(path, key), inner);
                    }
                }
            }
        }
        _ => {}
    }
}
