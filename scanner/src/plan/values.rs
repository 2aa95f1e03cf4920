//! Attribute values of plan JSON, with Terraform's unknown and sensitive markers applied.
//!
//! A plan gives each instance's values (`after`) and, beside them, two trees of the same shape
//! (`after_unknown`, `after_sensitive`) where `true` marks a value that is not known until apply
//! or that must not be shown. The marked places become [`Value::Unknown`] and
//! [`Value::Sensitive`]; a sensitive value's content is dropped here, so no later step can print
//! it.

use super::schema::ExpressionNode;
use crate::value::Value;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

/// What an `after_unknown`, `after_sensitive` or `sensitive_values` tree says about one place
/// of a value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Marks {
    /// Nothing is marked here or below.
    #[default]
    None,
    /// This whole value is marked.
    All,
    /// Some elements of a list are marked, by position.
    List(Vec<Marks>),
    /// Some attributes of an object are marked, by name.
    Object(Vec<(String, Marks)>),
}

impl Marks {
    pub fn is_none(&self) -> bool {
        matches!(self, Marks::None)
    }
}

/// Replaces every place `marks` marks with `marker`. With `create_missing`, a marked place absent
/// from `value` is added: Terraform leaves unknown attributes out of `after` and names them only
/// in `after_unknown`. Sensitive markers name only places that exist, so nothing is added there.
pub fn apply_marks(value: &mut Value, marks: &Marks, marker: &Value, create_missing: bool) {
    match marks {
        Marks::None => {}
        Marks::All => *value = marker.clone(),
        Marks::Object(entries) => {
            if create_missing && value.is_null() {
                *value = Value::map();
            }
            let Value::Map(map) = value else {
                return;
            };
            for (key, inner) in entries {
                if let Some(slot) = map.get_mut(key) {
                    apply_marks(slot, inner, marker, create_missing);
                } else if create_missing {
                    let mut slot = Value::Null;
                    apply_marks(&mut slot, inner, marker, create_missing);
                    map.insert(key.clone(), slot);
                }
            }
        }
        Marks::List(items) => {
            if create_missing && value.is_null() {
                *value = Value::List(Vec::new());
            }
            let Value::List(list) = value else {
                return;
            };
            for (i, inner) in items.iter().enumerate() {
                if i < list.len() {
                    apply_marks(&mut list[i], inner, marker, create_missing);
                } else if create_missing && !inner.is_none() {
                    list.resize(i + 1, Value::Null);
                    apply_marks(&mut list[i], inner, marker, create_missing);
                }
            }
        }
    }
}

/// Keeps the unknown marks of the attributes and nested blocks that `expressions` (the
/// resource's configuration) sets, and drops the rest. Block bodies are followed in order; a
/// block whose configuration cannot be matched (a `dynamic` block, which plan configuration
/// does not show) keeps its marks.
pub fn configured_only(marks: &Marks, expressions: &ExpressionNode) -> Marks {
    let (Marks::Object(entries), ExpressionNode::Object(configured)) = (marks, expressions) else {
        return marks.clone();
    };
    let kept: Vec<(String, Marks)> = entries
        .iter()
        .filter_map(|(key, inner)| {
            let (_, node) = configured.iter().find(|(name, _)| name == key)?;
            Some((key.clone(), configured_block(inner, node)))
        })
        .collect();
    if kept.is_empty() {
        Marks::None
    } else {
        Marks::Object(kept)
    }
}

/// The marks inside one configured attribute or nested block.
fn configured_block(marks: &Marks, node: &ExpressionNode) -> Marks {
    match (marks, node) {
        // An expression: whatever it computes stays unknown.
        (_, node) if node.references().is_some() => marks.clone(),
        (Marks::List(items), ExpressionNode::List(bodies)) if items.len() <= bodies.len() => {
            Marks::List(
                items
                    .iter()
                    .zip(bodies)
                    .map(|(item, body)| configured_only(item, body))
                    .collect(),
            )
        }
        (Marks::Object(_), body @ ExpressionNode::Object(_)) => configured_only(marks, body),
        _ => marks.clone(),
    }
}

/// Plan JSON read straight into a [`Value`], without an intermediate tree. Attributes that are
/// `null` are left out of objects: the model treats a null and an absent attribute alike, and
/// providers set many optional attributes to null, which would cost memory for nothing.
pub struct PlanValue(pub Value);

impl<'de> Deserialize<'de> for PlanValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PlanValue, D::Error> {
        deserializer.deserialize_any(ValueVisitor).map(PlanValue)
    }
}

/// The values of one resource instance: an object, or `null` for a change that leaves none.
/// Anything else is not what Terraform writes, and is refused with its place in the file.
pub struct PlanAttributes(pub Value);

impl<'de> Deserialize<'de> for PlanAttributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PlanAttributes, D::Error> {
        deserializer
            .deserialize_any(AttributesVisitor)
            .map(PlanAttributes)
    }
}

struct AttributesVisitor;

impl<'de> Visitor<'de> for AttributesVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of attribute values")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Value, A::Error> {
        ValueVisitor.visit_map(access)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let base = OPEN_ITEMS.with_borrow(Vec::len);
        let read = (|| {
            while let Some(PlanValue(item)) = seq.next_element()? {
                OPEN_ITEMS.with_borrow_mut(|open| open.push(item));
            }
            Ok(())
        })();
        let items: Vec<Value> = OPEN_ITEMS.with_borrow_mut(|open| open.drain(base..).collect());
        read?;

        if super::numbers::is_marker(&items) {
            return Ok(Value::Unknown);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let base = OPEN_ENTRIES.with_borrow(Vec::len);
        let read = (|| {
            while let Some((key, PlanValue(value))) = access.next_entry::<String, PlanValue>()? {
                if !value.is_null() {
                    OPEN_ENTRIES.with_borrow_mut(|open| open.push((key, value)));
                }
            }
            Ok(())
        })();
        let entries: Vec<(String, Value)> =
            OPEN_ENTRIES.with_borrow_mut(|open| open.drain(base..).collect());
        read?;

        Ok(Value::Map(entries.into_iter().collect()))
    }
}

thread_local! {
    /// The items of the lists being read, innermost last. serde_json cannot say how long a
    /// list is before reading it, so a list's own vector would grow (and move) several times;
    /// gathered here instead, each list is then allocated once at its final size. Nested
    /// lists stack on top and are taken off before their parent goes on.
    static OPEN_ITEMS: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };

    /// The same for the entries of the objects being read.
    static OPEN_ENTRIES: RefCell<Vec<(String, Value)>> = const { RefCell::new(Vec::new()) };
}

impl<'de> Deserialize<'de> for Marks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Marks, D::Error> {
        deserializer.deserialize_any(MarksVisitor)
    }
}

struct MarksVisitor;

impl<'de> Visitor<'de> for MarksVisitor {
    type Value = Marks;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tree of `true` and `false` markers")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Marks, E> {
        Ok(if b { Marks::All } else { Marks::None })
    }

    /// `null` marks nothing. Numbers and strings, which Terraform never writes here, are
    /// refused: a marker tree that cannot be read could hide a sensitive value.
    fn visit_unit<E: de::Error>(self) -> Result<Marks, E> {
        Ok(Marks::None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Marks, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Marks>()? {
            items.push(item);
        }
        if items.iter().all(Marks::is_none) {
            return Ok(Marks::None);
        }
        Ok(Marks::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Marks, A::Error> {
        let mut entries = Vec::new();
        // Most keys mark nothing (`"tags": {}`, `"id": false`): they are lent, and copied only
        // when their marks are kept.
        while let Some((LentText(key), marks)) = access.next_entry::<LentText, Marks>()? {
            if !marks.is_none() {
                entries.push((key.into_owned(), marks));
            }
        }
        if entries.is_empty() {
            return Ok(Marks::None);
        }
        Ok(Marks::Object(entries))
    }
}

/// A string lent from the input when the parser can lend it (it has no escapes and the input
/// is in memory), else copied.
pub(super) struct LentText<'de>(pub Cow<'de, str>);

impl LentText<'_> {
    /// Where the string was in the input, when it was lent from there.
    pub(super) fn at(&self) -> Option<*const u8> {
        match &self.0 {
            Cow::Borrowed(text) => Some(text.as_ptr()),
            Cow::Owned(_) => None,
        }
    }
}

impl<'de> de::Deserialize<'de> for LentText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LentText<'de>, D::Error> {
        struct LentTextVisitor;

        impl<'de> Visitor<'de> for LentTextVisitor {
            type Value = LentText<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<LentText<'de>, E> {
                Ok(LentText(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<LentText<'de>, E> {
                Ok(LentText(Cow::Owned(text.to_string())))
            }
        }

        deserializer.deserialize_str(LentTextVisitor)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_what_the_configuration_sets_stays_unknown() {
        let object = |entries: Vec<(&str, Marks)>| {
            Marks::Object(
                entries
                    .into_iter()
                    .map(|(k, m)| (k.to_string(), m))
                    .collect(),
            )
        };
        let body = |entries: Vec<(&str, ExpressionNode)>| {
            ExpressionNode::Object(
                entries
                    .into_iter()
                    .map(|(k, n)| (k.to_string(), n))
                    .collect(),
            )
        };
        let reference = || {
            body(vec![(
                "references",
                ExpressionNode::List(vec![ExpressionNode::String("aws_kms_key.k.arn".into())]),
            )])
        };

        let unknown = object(vec![
            ("arn", Marks::All),
            ("bucket", Marks::All),
            (
                "rule",
                Marks::List(vec![object(vec![("key", Marks::All), ("id", Marks::All)])]),
            ),
        ]);
        let configuration = body(vec![
            ("bucket", reference()),
            (
                "rule",
                ExpressionNode::List(vec![body(vec![("key", reference())])]),
            ),
        ]);

        assert_eq!(
            configured_only(&unknown, &configuration),
            object(vec![
                ("bucket", Marks::All),
                ("rule", Marks::List(vec![object(vec![("key", Marks::All)])])),
            ])
        );
    }

    use super::*;

    fn parse_value(text: &str) -> Result<Value, serde_json::Error> {
        serde_json::from_str::<PlanValue>(text).map(|parsed| parsed.0)
    }

    fn parse_marks(text: &str) -> Result<Marks, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn unknown_markers_add_absent_attributes_in_the_shape_of_the_value() {
        let mut value = parse_value(r#"{"rule":[{"apply":[{"alg":"aws:kms"}]}]}"#).unwrap();
        let marks = parse_marks(r#"{"id":true,"rule":[{"apply":[{"key":true}]}]}"#).unwrap();
        apply_marks(&mut value, &marks, &Value::Unknown, true);

        assert_eq!(value.at("id"), &Value::Unknown);
        assert_eq!(value.at("rule.apply.key"), &Value::Unknown);
        assert_eq!(value.at("rule.apply.alg"), &Value::from("aws:kms"));
    }

    #[test]
    fn sensitive_markers_drop_the_content_and_add_nothing() {
        let mut value = parse_value(r#"{"password":"hunter2","user":"admin"}"#).unwrap();
        let marks = parse_marks(r#"{"password":true,"token":true}"#).unwrap();
        apply_marks(&mut value, &marks, &Value::Sensitive, false);

        assert_eq!(value.at("password"), &Value::Sensitive);
        assert_eq!(value.get("token"), None);
        assert_eq!(value.at("user"), &Value::from("admin"));
        assert!(!format!("{value:?}").contains("hunter2"));
    }

    #[test]
    fn null_attributes_are_left_out_but_null_list_elements_keep_their_place() {
        let value = parse_value(r#"{"a":null,"b":[null,1],"c":{"d":null}}"#).unwrap();
        assert_eq!(value.get("a"), None);
        assert_eq!(
            value.get("b"),
            Some(&Value::List(vec![Value::Null, Value::Number(1.0)]))
        );
        assert_eq!(value.get("c"), Some(&Value::map()));
    }

    #[test]
    fn markers_that_mark_nothing_collapse() {
        let marks = parse_marks(r#"{"a":false,"b":[],"c":{"d":[false,{}]}}"#).unwrap();
        assert_eq!(marks, Marks::None);
    }

    #[test]
    fn a_list_element_is_marked_by_position() {
        let mut value = parse_value(r#"{"ports":[80,443,8443]}"#).unwrap();
        let marks = parse_marks(r#"{"ports":[false,true]}"#).unwrap();
        apply_marks(&mut value, &marks, &Value::Sensitive, false);
        assert_eq!(
            value.get("ports"),
            Some(&Value::List(vec![
                Value::Number(80.0),
                Value::Sensitive,
                Value::Number(8443.0)
            ]))
        );
    }
}
