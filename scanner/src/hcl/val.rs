//! Values as the evaluator sees them: a Terraform value together with the resources it was
//! computed from, and an `Error` kind for expressions Terraform would reject (which `try` and
//! `can` need to tell apart from values that are merely unknown).
//!
//! References are kept on every node, so that taking one element out of a collection keeps only
//! that element's references (plus those of the collection itself).

use super::meter::{self, Exceeded, MAX_VALUE_BYTES};
use crate::model::Reference;
use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::rc::Rc;

/// How deeply collections may nest. Deeper values become errors, which keeps every recursive
/// walk over a value (conversion, reference collection, dropping) well within the stack.
pub(crate) const MAX_NESTING: u16 = 64;

/// The most branches a choice between values keeps; beyond that it is simply unknown.
pub(crate) const MAX_CHOICES: usize = 16;

/// The longest string evaluation builds. Longer ones are errors, so that string-building
/// expressions nested in loops cannot exhaust memory.
pub(crate) const MAX_STRING_BYTES: usize = 16 * 1024 * 1024;

/// What one value costs besides the text of a string: the value itself and its slot in the
/// collection that holds it. An estimate, for the limits in [`meter`].
const VALUE_BYTES: u32 = 48;

/// What a map costs besides its entries: a B-tree allocates room for several at once.
const MAP_BYTES: u32 = 256;

/// A sorted, duplicate-free set of references, cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Refs(Option<Rc<Vec<Reference>>>);

impl Refs {
    pub fn one(reference: Reference) -> Refs {
        Refs(Some(Rc::new(vec![reference])))
    }

    pub fn from_vec(mut references: Vec<Reference>) -> Refs {
        if references.is_empty() {
            return Refs::default();
        }
        references.sort();
        references.dedup();
        Refs(Some(Rc::new(references)))
    }

    pub fn as_slice(&self) -> &[Reference] {
        self.0.as_deref().map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn union(&self, other: &Refs) -> Refs {
        match (&self.0, &other.0) {
            (None, _) => other.clone(),
            (_, None) => self.clone(),
            (Some(a), Some(b)) if Rc::ptr_eq(a, b) => self.clone(),
            (Some(a), Some(b)) => {
                let mut merged = Vec::with_capacity(a.len() + b.len());
                let (mut i, mut j) = (0, 0);
                while i < a.len() && j < b.len() {
                    match a[i].cmp(&b[j]) {
                        std::cmp::Ordering::Less => {
                            merged.push(a[i].clone());
                            i += 1;
                        }
                        std::cmp::Ordering::Greater => {
                            merged.push(b[j].clone());
                            j += 1;
                        }
                        std::cmp::Ordering::Equal => {
                            merged.push(a[i].clone());
                            i += 1;
                            j += 1;
                        }
                    }
                }
                merged.extend_from_slice(&a[i..]);
                merged.extend_from_slice(&b[j..]);
                Refs(Some(Rc::new(merged)))
            }
        }
    }
}

/// What a value is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    String(Rc<str>),
    /// Lists, tuples and sets (sets are kept sorted and without duplicates).
    List(Rc<Vec<Val>>),
    /// Maps and objects.
    Map(Rc<BTreeMap<String, Val>>),
    /// Not known before apply.
    Unknown,
    /// Marked sensitive; the content was dropped.
    Sensitive,
    /// One of these, chosen by a condition that cannot be known statically.
    AnyOf(Rc<Vec<Val>>),
    /// An expression Terraform would reject. Shown to the rules as unknown.
    Error,
}

/// A value and the resources it depends on.
#[derive(Debug, Clone)]
pub(crate) struct Val {
    pub kind: Kind,
    pub refs: Refs,
    nesting: u16,
    /// For an object: whether attributes it lacks are unknown rather than missing. True for
    /// the objects of resources, which compute the attributes they were not given.
    pub open: bool,
    /// Roughly how many bytes the value takes, counting every copy of a shared part as its own:
    /// what a walk over the whole value costs. At most [`MAX_VALUE_BYTES`].
    weight: u32,
}

impl Val {
    fn scalar(kind: Kind) -> Val {
        Val {
            kind,
            refs: Refs::default(),
            nesting: 0,
            open: false,
            weight: VALUE_BYTES,
        }
    }

    pub fn null() -> Val {
        Val::scalar(Kind::Null)
    }

    pub fn bool(b: bool) -> Val {
        Val::scalar(Kind::Bool(b))
    }

    pub fn number(n: f64) -> Val {
        if n.is_finite() {
            Val::scalar(Kind::Number(n))
        } else {
            Val::error()
        }
    }

    pub fn string(s: impl Into<Rc<str>>) -> Val {
        let s = s.into();
        if s.len() > MAX_STRING_BYTES {
            return Val::past_limit(Exceeded::StringBytes);
        }
        if !meter::charge_built(s.len() as u64) {
            return Val::unknown();
        }
        // At most 16 MiB, so the sum fits.
        let weight = VALUE_BYTES + s.len() as u32;
        Val {
            weight,
            ..Val::scalar(Kind::String(s))
        }
    }

    /// What stands for a value that would go past one of the load's limits: unknown, with the
    /// limit recorded, so that the load ends in an error naming the declaration.
    pub fn past_limit(why: Exceeded) -> Val {
        meter::trip(why);
        Val::unknown()
    }

    pub fn unknown() -> Val {
        Val::scalar(Kind::Unknown)
    }

    pub fn sensitive() -> Val {
        Val::scalar(Kind::Sensitive)
    }

    pub fn error() -> Val {
        Val::scalar(Kind::Error)
    }

    pub fn list(items: Vec<Val>) -> Val {
        let nesting = 1 + items.iter().map(|i| i.nesting).max().unwrap_or(0);
        if nesting > MAX_NESTING {
            return Val::error();
        }
        let Some(weight) = weigh(items.iter().map(|item| u64::from(item.weight)).sum()) else {
            return Val::unknown();
        };
        if !meter::charge_built(items.len() as u64 * u64::from(VALUE_BYTES)) {
            return Val::unknown();
        }
        Val {
            kind: Kind::List(Rc::new(items)),
            refs: Refs::default(),
            nesting,
            open: false,
            weight,
        }
    }

    pub fn map(entries: BTreeMap<String, Val>) -> Val {
        let nesting = 1 + entries.values().map(|i| i.nesting).max().unwrap_or(0);
        if nesting > MAX_NESTING {
            return Val::error();
        }
        // The entries are what building the map adds; their values were counted when built.
        let (built, values) = entries
            .iter()
            .fold((0, 0), |(built, values), (key, value)| {
                (built + entry_bytes(key), values + u64::from(value.weight))
            });
        let Some(weight) = weigh(built + values) else {
            return Val::unknown();
        };
        if !meter::charge_built(u64::from(MAP_BYTES) + built) {
            return Val::unknown();
        }
        Val {
            kind: Kind::Map(Rc::new(entries)),
            refs: Refs::default(),
            nesting,
            open: false,
            weight,
        }
    }

    /// A choice between values: nested choices are flattened, equal branches merged, and a
    /// single remaining branch is the value itself.
    pub fn any_of(branches: Vec<Val>) -> Val {
        let mut flat: Vec<Val> = Vec::new();
        let mut refs = Refs::default();
        for branch in branches {
            match &branch.kind {
                Kind::AnyOf(inner) => {
                    refs = refs.union(&branch.refs);
                    for b in inner.iter() {
                        push_distinct(&mut flat, b.clone());
                    }
                }
                _ => push_distinct(&mut flat, branch),
            }
        }
        if flat.len() > MAX_CHOICES || flat.is_empty() {
            let mut unknown = Val::unknown();
            for branch in &flat {
                unknown = unknown.with_refs(&branch.deep_refs());
            }
            return unknown.with_refs(&refs);
        }
        if flat.len() == 1 {
            return flat.pop().unwrap_or_else(Val::unknown).with_refs(&refs);
        }
        let nesting = 1 + flat.iter().map(|i| i.nesting).max().unwrap_or(0);
        if nesting > MAX_NESTING {
            return Val::error();
        }
        let Some(weight) = weigh(flat.iter().map(|branch| u64::from(branch.weight)).sum()) else {
            return Val::unknown();
        };
        if !meter::charge_built(flat.len() as u64 * u64::from(VALUE_BYTES)) {
            return Val::unknown();
        }
        Val {
            kind: Kind::AnyOf(Rc::new(flat)),
            refs,
            nesting,
            open: false,
            weight,
        }
    }

    /// The same value, also depending on `refs`.
    pub fn with_refs(mut self, refs: &Refs) -> Val {
        self.refs = self.refs.union(refs);
        self
    }

    /// Whether Terraform would know this value, top level only.
    pub fn is_blocked(&self) -> bool {
        matches!(
            self.kind,
            Kind::Unknown | Kind::Sensitive | Kind::Error | Kind::AnyOf(_)
        )
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// True when no part of the value is unknown, sensitive, a choice or an error.
    pub fn is_wholly_known(&self) -> bool {
        match &self.kind {
            Kind::List(items) => items.iter().all(Val::is_wholly_known),
            Kind::Map(map) => map.values().all(Val::is_wholly_known),
            Kind::Unknown | Kind::Sensitive | Kind::AnyOf(_) | Kind::Error => false,
            _ => true,
        }
    }

    /// Whether some part of the value is an error.
    pub fn has_error(&self) -> bool {
        match &self.kind {
            Kind::Error => true,
            Kind::List(items) | Kind::AnyOf(items) => items.iter().any(Val::has_error),
            Kind::Map(map) => map.values().any(Val::has_error),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Val]> {
        match &self.kind {
            Kind::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Val>> {
        match &self.kind {
            Kind::Map(map) => Some(map),
            _ => None,
        }
    }

    /// A bool, converting the strings `true` and `false` as Terraform does.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Bool(b) => Some(*b),
            Kind::String(s) if &**s == "true" => Some(true),
            Kind::String(s) if &**s == "false" => Some(false),
            _ => None,
        }
    }

    /// A number, converting numeric strings as Terraform does.
    pub fn as_number(&self) -> Option<f64> {
        match &self.kind {
            Kind::Number(n) => Some(*n),
            Kind::String(s) => parse_number(s),
            _ => None,
        }
    }

    /// The string form of a primitive value, as Terraform converts it.
    pub fn to_text(&self) -> Option<String> {
        match &self.kind {
            Kind::String(s) => Some(s.to_string()),
            Kind::Number(n) => Some(format_number(*n)),
            Kind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Every reference in the value, at any depth.
    pub fn deep_refs(&self) -> Refs {
        let mut all = Vec::new();
        self.collect_refs(&mut all);
        Refs::from_vec(all)
    }

    /// Appends every reference in the value, at any depth, unsorted and possibly repeated.
    pub fn collect_refs(&self, out: &mut Vec<Reference>) {
        out.extend_from_slice(self.refs.as_slice());
        match &self.kind {
            Kind::List(items) | Kind::AnyOf(items) => {
                for item in items.iter() {
                    item.collect_refs(out);
                }
            }
            Kind::Map(map) => {
                for item in map.values() {
                    item.collect_refs(out);
                }
            }
            _ => {}
        }
    }

    /// Roughly how many bytes the value takes, as its `weight` field says.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// The value as another resource's expressions see it: without references (a reference
    /// to the resource stands for them), and with every object open.
    pub fn resource_view(&self) -> Val {
        let rebuilt = match &self.kind {
            Kind::List(items) | Kind::AnyOf(items) => items.len() as u64 * u64::from(VALUE_BYTES),
            Kind::Map(map) => map.keys().map(|key| entry_bytes(key)).sum(),
            _ => 0,
        };
        if !meter::charge_built(rebuilt) {
            return Val::unknown();
        }
        let kind = match &self.kind {
            Kind::List(items) => {
                Kind::List(Rc::new(items.iter().map(Val::resource_view).collect()))
            }
            Kind::AnyOf(items) => {
                Kind::AnyOf(Rc::new(items.iter().map(Val::resource_view).collect()))
            }
            Kind::Map(map) => Kind::Map(Rc::new(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.resource_view()))
                    .collect(),
            )),
            other => other.clone(),
        };
        Val {
            open: matches!(kind, Kind::Map(_)),
            kind,
            refs: Refs::default(),
            nesting: self.nesting,
            weight: self.weight,
        }
    }

    /// Structural equality, or `None` when a part that matters cannot be known.
    pub fn equals(&self, other: &Val) -> Option<bool> {
        match (&self.kind, &other.kind) {
            (a, b) if is_opaque(a) || is_opaque(b) => None,
            (Kind::Null, Kind::Null) => Some(true),
            (Kind::Bool(a), Kind::Bool(b)) => Some(a == b),
            (Kind::Number(a), Kind::Number(b)) => Some(a == b),
            (Kind::String(a), Kind::String(b)) => Some(a == b),
            (Kind::List(a), Kind::List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                let mut answer = Some(true);
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.equals(y) {
                        Some(false) => return Some(false),
                        None => answer = None,
                        Some(true) => {}
                    }
                }
                answer
            }
            (Kind::Map(a), Kind::Map(b)) => {
                if a.len() != b.len() || a.keys().ne(b.keys()) {
                    return Some(false);
                }
                let mut answer = Some(true);
                for (x, y) in a.values().zip(b.values()) {
                    match x.equals(y) {
                        Some(false) => return Some(false),
                        None => answer = None,
                        Some(true) => {}
                    }
                }
                answer
            }
            _ => Some(false),
        }
    }

    /// Converts to the model's value. Errors become unknown: the rules never see a guess.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(n) => Value::Number(*n),
            Kind::String(s) => Value::String(s.to_string()),
            Kind::List(items) => Value::List(items.iter().map(Val::to_value).collect()),
            Kind::Map(map) => Value::Map(Map::from_sorted(
                map.iter().map(|(k, v)| (k.clone(), v.to_value())).collect(),
            )),
            Kind::Unknown | Kind::Error => Value::Unknown,
            Kind::Sensitive => Value::Sensitive,
            Kind::AnyOf(items) => Value::AnyOf(items.iter().map(Val::to_value).collect()),
        }
    }

    /// Converts plain JSON (from `jsondecode` and `.tfvars.json`).
    pub fn from_json(json: &serde_json::Value) -> Val {
        match json {
            serde_json::Value::Null => Val::null(),
            serde_json::Value::Bool(b) => Val::bool(*b),
            serde_json::Value::Number(n) => n.as_f64().map_or_else(Val::error, Val::number),
            serde_json::Value::String(s) => Val::string(s.as_str()),
            serde_json::Value::Array(items) => {
                Val::list(items.iter().map(Val::from_json).collect())
            }
            serde_json::Value::Object(map) => Val::map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// What a map entry costs besides its value.
fn entry_bytes(key: &str) -> u64 {
    u64::from(VALUE_BYTES) + 24 + key.len() as u64
}

/// The weight of a collection whose parts weigh `parts` in all; `None`, with the limit
/// recorded, when it is more than one value may weigh.
fn weigh(parts: u64) -> Option<u32> {
    let total = u64::from(VALUE_BYTES) + parts;
    if total > u64::from(MAX_VALUE_BYTES) {
        meter::trip(Exceeded::ValueBytes);
        return None;
    }
    Some(total as u32)
}

fn is_opaque(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Unknown | Kind::Sensitive | Kind::Error | Kind::AnyOf(_)
    )
}

fn push_distinct(branches: &mut Vec<Val>, candidate: Val) {
    let same = |b: &Val| match (&b.kind, &candidate.kind) {
        (Kind::Unknown, Kind::Unknown)
        | (Kind::Sensitive, Kind::Sensitive)
        | (Kind::Error, Kind::Error) => true,
        _ => b.equals(&candidate) == Some(true),
    };
    match branches.iter_mut().find(|b| same(b)) {
        Some(existing) => existing.refs = existing.refs.union(&candidate.refs),
        None => branches.push(candidate),
    }
}

/// Parses a number the way Terraform converts a string to a number.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if text.is_empty() || lower.contains("nan") || lower.contains("inf") {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Formats a number as Terraform prints it: integers without a fraction.
pub(crate) fn format_number(n: f64) -> String {
    if n == n.trunc() && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(address: &str) -> Reference {
        Reference {
            address: address.to_string(),
            attribute: None,
        }
    }

    #[test]
    fn reference_sets_merge_sorted_without_duplicates() {
        let a = Refs::from_vec(vec![reference("b"), reference("a")]);
        let b = Refs::from_vec(vec![reference("c"), reference("a")]);
        let merged = a.union(&b);
        let addresses: Vec<&str> = merged
            .as_slice()
            .iter()
            .map(|r| r.address.as_str())
            .collect();
        assert_eq!(addresses, vec!["a", "b", "c"]);
    }

    #[test]
    fn a_choice_of_equal_values_is_that_value() {
        let choice = Val::any_of(vec![Val::string("AES256"), Val::string("AES256")]);
        assert_eq!(choice.to_value(), Value::String("AES256".into()));

        let nested = Val::any_of(vec![
            Val::any_of(vec![Val::string("a"), Val::string("b")]),
            Val::string("a"),
        ]);
        assert_eq!(
            nested.to_value(),
            Value::AnyOf(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn values_nested_too_deeply_are_errors() {
        let mut value = Val::null();
        for _ in 0..MAX_NESTING {
            value = Val::list(vec![value]);
        }
        assert!(value.as_list().is_some());
        assert!(matches!(Val::list(vec![value]).kind, Kind::Error));
    }

    #[test]
    fn numbers_print_like_terraform() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(parse_number(" 42 "), Some(42.0));
        assert_eq!(parse_number("infinity"), None);
    }
}
