//! Attribute values as the scanner sees them: what Terraform would know at plan time, and no
//! more.

mod map;

pub use map::{compare_keys, into_key_order, Map};

/// A Terraform value, or the reason it cannot be seen.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// Lists, sets and tuples. Nested blocks are lists of objects, as in plan JSON.
    List(Vec<Value>),
    /// Maps and objects.
    Map(Map),
    /// Not known until apply (a computed attribute, a data source, a variable without value).
    Unknown,
    /// Marked sensitive. The loaders drop the content, so it can never be printed.
    Sensitive,
    /// One of these values, chosen by a condition that cannot be known statically.
    AnyOf(Vec<Value>),
}

/// What a test on a value found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Yes,
    No,
    /// The value is unknown, sensitive, or a choice whose branches disagree.
    Undetermined,
}

impl Truth {
    pub fn from_bool(yes: bool) -> Truth {
        if yes {
            Truth::Yes
        } else {
            Truth::No
        }
    }
}

impl Value {
    /// An empty object.
    pub fn map() -> Value {
        Value::Map(Map::new())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            // Terraform converts the strings "true" and "false" to bool where a bool is expected.
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            // Terraform converts numeric strings to numbers where a number is expected.
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// True for a value that is not there: `null`, or never set.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when the value, or any part of it, cannot be seen.
    pub fn is_known(&self) -> bool {
        match self {
            Value::Unknown | Value::Sensitive | Value::AnyOf(_) => false,
            Value::List(items) => items.iter().all(Value::is_known),
            Value::Map(map) => map.values().all(Value::is_known),
            _ => true,
        }
    }

    /// The value of a key in an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|map| map.get(key))
    }

    /// Every value found at a dotted path, descending into each element of the lists met on the
    /// way (nested blocks are lists). `rule.apply_server_side_encryption_by_default.sse_algorithm`
    /// yields the algorithm of every rule. Null values are skipped; an unknown, sensitive or
    /// conditional value met on the way is yielded as it is, so that the caller sees that part
    /// of the path cannot be known.
    pub fn lookup(&self, path: &str) -> Vec<&Value> {
        let mut current = vec![self];
        for key in path.split('.') {
            let mut next = Vec::new();
            for value in current {
                collect_key(value, key, &mut next);
            }
            current = next;
        }
        current.into_iter().flat_map(flatten_lists).collect()
    }

    /// The single value at a dotted path, or `Null` when the path is absent.
    /// Use [`Value::lookup`] where a path can cross several blocks.
    pub fn at(&self, path: &str) -> &Value {
        // The first of what `lookup` finds, found without building its lists: rules ask this
        // of every resource for several attributes, and the lists showed in profiles.
        first_at(self, path).unwrap_or(&Value::Null)
    }

    /// Applies a test to a value, and says `Undetermined` where the value cannot be seen.
    /// For a conditional value, the answer is `Yes` or `No` only when every branch agrees.
    pub fn test(&self, predicate: &dyn Fn(&Value) -> bool) -> Truth {
        match self {
            Value::Unknown | Value::Sensitive => Truth::Undetermined,
            Value::AnyOf(branches) => {
                let answers: Vec<Truth> = branches.iter().map(|b| b.test(predicate)).collect();
                if answers.iter().all(|a| *a == Truth::Yes) {
                    Truth::Yes
                } else if answers.iter().all(|a| *a == Truth::No) {
                    Truth::No
                } else {
                    Truth::Undetermined
                }
            }
            known => Truth::from_bool(predicate(known)),
        }
    }
}

fn collect_key<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Map(map) => {
            if let Some(found) = map.get(key) {
                if !found.is_null() {
                    out.push(found);
                }
            }
        }
        Value::List(items) => {
            for item in items {
                collect_key(item, key, out);
            }
        }
        Value::Unknown | Value::Sensitive | Value::AnyOf(_) => out.push(value),
        _ => {}
    }
}

/// The first value [`Value::lookup`] would yield for `path`, walking depth first: its lists
/// keep the order of the values they came from, so the first of each step's results leads to
/// the first of the next.
fn first_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let (key, rest) = match path.split_once('.') {
        Some((key, rest)) => (key, Some(rest)),
        None => (path, None),
    };
    match value {
        Value::Map(map) => {
            let found = map.get(key).filter(|found| !found.is_null())?;
            match rest {
                Some(rest) => first_at(found, rest),
                None => first_flattened(found),
            }
        }
        Value::List(items) => items.iter().find_map(|item| first_at(item, path)),
        Value::Unknown | Value::Sensitive | Value::AnyOf(_) => Some(value),
        _ => None,
    }
}

/// The first of what [`flatten_lists`] yields.
fn first_flattened(value: &Value) -> Option<&Value> {
    match value {
        Value::List(items) if items.iter().all(|i| matches!(i, Value::Map(_))) => items.first(),
        other => Some(other),
    }
}

fn flatten_lists(value: &Value) -> Vec<&Value> {
    match value {
        Value::List(items) if items.iter().all(|i| matches!(i, Value::Map(_))) => {
            items.iter().collect()
        }
        other => vec![other],
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

/// Converts plain JSON, where every value is known. Loaders that know better (plan JSON with its
/// unknown and sensitive markers) build values themselves.
impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => Value::List(items.iter().map(Value::from).collect()),
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from(v)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_descends_through_block_lists() {
        let value = Value::from(&json!({
            "rule": [
                {"apply": [{"sse_algorithm": "aws:kms"}]},
                {"apply": [{"sse_algorithm": "AES256"}]}
            ]
        }));
        let found: Vec<_> = value
            .lookup("rule.apply.sse_algorithm")
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(found, vec!["aws:kms", "AES256"]);
    }

    #[test]
    fn at_is_the_first_of_lookup() {
        let mut value = Value::from(&json!({
            "rule": [
                {"apply": []},
                {"apply": [{"sse_algorithm": null}, {"sse_algorithm": "AES256"}]},
                {"apply": [{"sse_algorithm": "aws:kms"}]}
            ],
            "tags": {"env": "prod"},
            "blocks": [{"a": 1}, {"a": 2}],
            "empty": [],
            "mixed": [1, {"a": 3}],
            "nothing": null
        }));
        if let Value::Map(map) = &mut value {
            map.insert("later".into(), Value::Unknown);
        }
        let paths = [
            "rule.apply.sse_algorithm",
            "rule.apply",
            "rule",
            "tags.env",
            "tags.missing",
            "blocks",
            "blocks.a",
            "empty",
            "mixed",
            "mixed.a",
            "nothing",
            "nothing.deeper",
            "later.any.path",
            "",
            "absent",
        ];
        for path in paths {
            let first = value
                .lookup(path)
                .into_iter()
                .next()
                .unwrap_or(&Value::Null);
            assert_eq!(value.at(path), first, "{path}");
        }
    }

    #[test]
    fn lookup_reports_unknown_parts_of_the_path() {
        let mut map = Map::new();
        map.insert("rule".to_string(), Value::Unknown);
        let value = Value::Map(map);
        assert_eq!(
            value.lookup("rule.apply.sse_algorithm"),
            vec![&Value::Unknown]
        );
    }

    #[test]
    fn a_choice_is_decided_only_when_every_branch_agrees() {
        let both_ok = Value::AnyOf(vec!["aws:kms".into(), "AES256".into()]);
        let is_encrypted = |v: &Value| matches!(v.as_str(), Some("aws:kms" | "AES256"));
        assert_eq!(both_ok.test(&is_encrypted), Truth::Yes);

        let mixed = Value::AnyOf(vec!["aws:kms".into(), Value::Null]);
        assert_eq!(mixed.test(&is_encrypted), Truth::Undetermined);
    }
}
