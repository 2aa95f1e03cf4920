//! The parts of `terraform show -json` plan output the scanner reads, as borrowed views into the
//! file's text. Attribute values stay raw JSON here; they are turned into [`Value`]s only for the
//! instances that are kept, so that nothing is copied twice and unread sections cost one scan.
//!
//! Fields the scanner does not use are not named, so serde skips them without building anything.
//!
//! [`Value`]: crate::value::Value

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// A string that is borrowed from the file unless it holds escapes (instance keys do).
pub type Text<'a> = Cow<'a, str>;

#[derive(Deserialize)]
#[serde(expecting = "a Terraform plan (a JSON object)")]
pub struct PlanFile<'a> {
    #[serde(borrow)]
    pub format_version: Option<Text<'a>>,
    #[serde(borrow)]
    pub planned_values: Option<StateValues<'a>>,
    #[serde(borrow, default)]
    pub resource_changes: Option<Vec<ResourceChange<'a>>>,
    /// The state before the plan; read only for data sources Terraform read while planning,
    /// which appear nowhere else.
    #[serde(borrow)]
    pub prior_state: Option<PriorState<'a>>,
    #[serde(borrow)]
    pub configuration: Option<Configuration<'a>>,
    /// Present in `terraform show -json` output of a state, where a plan has `planned_values`.
    pub values: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(expecting = "an object with `root_module`")]
pub struct StateValues<'a> {
    #[serde(borrow)]
    pub root_module: Option<StateModule<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a prior state object")]
pub struct PriorState<'a> {
    #[serde(borrow)]
    pub values: Option<StateValues<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a module object with `resources` and `child_modules`")]
pub struct StateModule<'a> {
    #[serde(borrow)]
    pub address: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub resources: Vec<StateResource<'a>>,
    #[serde(borrow, default)]
    pub child_modules: Vec<StateModule<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a resource object with `address`, `type`, `name` and `values`")]
pub struct StateResource<'a> {
    #[serde(borrow)]
    pub address: Text<'a>,
    #[serde(borrow)]
    pub mode: Text<'a>,
    #[serde(borrow, rename = "type")]
    pub resource_type: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(default)]
    pub index: Option<IndexKey>,
    #[serde(borrow)]
    pub values: Option<&'a RawValue>,
    #[serde(borrow)]
    pub sensitive_values: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(expecting = "a resource change object with `address`, `type`, `name` and `change`")]
pub struct ResourceChange<'a> {
    #[serde(borrow)]
    pub address: Text<'a>,
    #[serde(borrow)]
    pub module_address: Option<Text<'a>>,
    #[serde(borrow)]
    pub mode: Text<'a>,
    #[serde(borrow, rename = "type")]
    pub resource_type: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(default)]
    pub index: Option<IndexKey>,
    /// Set on the change of a deposed object (left over from a failed replace), which is only
    /// ever destroyed; the current object of the same address has a change of its own.
    pub deposed: Option<IgnoredAny>,
    #[serde(borrow)]
    pub change: Change<'a>,
}

#[derive(Deserialize)]
#[serde(expecting = "a change object with `actions`")]
pub struct Change<'a> {
    pub actions: Vec<Action>,
    #[serde(borrow)]
    pub after: Option<&'a RawValue>,
    #[serde(borrow)]
    pub after_unknown: Option<&'a RawValue>,
    #[serde(borrow)]
    pub after_sensitive: Option<&'a RawValue>,
}

/// A planned action. Unknown future actions are kept as `Other` rather than refused.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    Delete,
    /// Removed from state without being destroyed (`removed` block with `destroy = false`).
    Forget,
    #[serde(other)]
    Other,
}

/// The instance key of a resource: a number for `count`, a string for `for_each`.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKey {
    Number(i64),
    String(String),
}

impl<'de> Deserialize<'de> for IndexKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IndexKey, D::Error> {
        struct KeyVisitor;

        impl Visitor<'_> for KeyVisitor {
            type Value = IndexKey;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an instance index (a whole number or a string)")
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<IndexKey, E> {
                Ok(IndexKey::Number(n))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<IndexKey, E> {
                i64::try_from(n)
                    .map(IndexKey::Number)
                    .map_err(|_| E::custom("instance index out of range"))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<IndexKey, E> {
                Ok(IndexKey::String(s.to_string()))
            }
        }

        deserializer.deserialize_any(KeyVisitor)
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a configuration object with `root_module`")]
pub struct Configuration<'a> {
    #[serde(borrow, default)]
    pub provider_config: HashMap<Text<'a>, ProviderConfig<'a>>,
    #[serde(borrow)]
    pub root_module: Option<ConfigModule<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a provider configuration object with `name`")]
pub struct ProviderConfig<'a> {
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(borrow)]
    pub alias: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub expressions: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a module configuration object")]
pub struct ConfigModule<'a> {
    #[serde(borrow, default)]
    pub resources: Vec<ConfigResource<'a>>,
    #[serde(borrow, default)]
    pub module_calls: HashMap<Text<'a>, ModuleCall<'a>>,
    #[serde(borrow, default)]
    pub outputs: HashMap<Text<'a>, Output<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a resource configuration object with `address` and `expressions`")]
pub struct ConfigResource<'a> {
    #[serde(borrow)]
    pub mode: Text<'a>,
    #[serde(borrow, rename = "type")]
    pub resource_type: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(borrow)]
    pub provider_config_key: Option<Text<'a>>,
    #[serde(borrow)]
    pub expressions: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(expecting = "a module call object with `module`")]
pub struct ModuleCall<'a> {
    #[serde(borrow)]
    pub expressions: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub module: ConfigModule<'a>,
}

#[derive(Deserialize)]
#[serde(expecting = "an output object with `expression`")]
pub struct Output<'a> {
    #[serde(borrow)]
    pub expression: Option<Expression<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "an expression object")]
pub struct Expression<'a> {
    #[serde(borrow, default)]
    pub references: Vec<Text<'a>>,
}

/// The expressions of a block, as Terraform writes them: each attribute an expression object
/// (`{"constant_value": ..}` or `{"references": [..]}`), each nested block a list of such
/// bodies (an object for single blocks, a map of them for map blocks). Only the references are
/// kept; constant values are skipped unread, they are in the planned values already.
#[derive(Debug)]
pub enum ExpressionNode<'a> {
    /// An object: an expression, or a block body. Told apart by [`ExpressionNode::references`].
    Object(Vec<(Text<'a>, ExpressionNode<'a>)>),
    List(Vec<ExpressionNode<'a>>),
    String(Text<'a>),
    Other,
}

impl<'a> ExpressionNode<'a> {
    /// The references of an expression object, `None` for a block body. An expression object
    /// has no key but `references` (and `constant_value`, which is not kept); a block body has
    /// attribute names, one of which could be `references` only with an expression object as
    /// its value, never a list of strings.
    pub fn references(&self) -> Option<Vec<Text<'a>>> {
        let ExpressionNode::Object(entries) = self else {
            return None;
        };
        match entries.as_slice() {
            [] => Some(Vec::new()),
            [(key, ExpressionNode::List(items))] if key == "references" => items
                .iter()
                .map(|item| match item {
                    ExpressionNode::String(text) => Some(text.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ExpressionNode<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor(std::marker::PhantomData))
    }
}

struct NodeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for NodeVisitor<'a> {
    type Value = ExpressionNode<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("configuration expressions")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(ExpressionNode::String(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(ExpressionNode::String(Cow::Owned(s.to_string())))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ExpressionNode::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(ExpressionNode::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(ExpressionNode::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ExpressionNode::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ExpressionNode::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(ExpressionNode::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(BorrowedText(key)) = map.next_key()? {
            if key == "constant_value" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(ExpressionNode::Object(entries))
    }
}

/// A string borrowed from the input where it has no escapes; `Cow<str>` alone is always copied
/// where serde's `borrow` attribute cannot reach (map keys, list items).
struct BorrowedText<'a>(Text<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = BorrowedText<'a>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedText(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(BorrowedText(Cow::Owned(s.to_string())))
            }
        }

        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}
