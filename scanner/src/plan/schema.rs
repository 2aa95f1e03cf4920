//! The small, typed parts of plan JSON: actions, instance keys and the `configuration`
//! section. Attribute values and markers are read by [`super::stream`] straight into the model.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

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

#[derive(Deserialize, Default)]
#[serde(expecting = "a configuration object with `root_module`")]
pub struct Configuration {
    #[serde(default)]
    pub provider_config: HashMap<String, ProviderConfig>,
    #[serde(default)]
    pub root_module: ConfigModule,
}

#[derive(Deserialize)]
#[serde(expecting = "a provider configuration object with `name`")]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    /// Small, and read for constant values (the region), unlike resource expressions.
    #[serde(default)]
    pub expressions: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a module configuration object")]
pub struct ConfigModule {
    #[serde(default)]
    pub resources: Vec<ConfigResource>,
    #[serde(default)]
    pub module_calls: HashMap<String, ModuleCall>,
    #[serde(default)]
    pub outputs: HashMap<String, Output>,
}

#[derive(Deserialize)]
#[serde(expecting = "a resource configuration object with `address` and `expressions`")]
pub struct ConfigResource {
    pub mode: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub provider_config_key: Option<String>,
    pub expressions: Option<ExpressionNode>,
}

#[derive(Deserialize)]
#[serde(expecting = "a module call object with `module`")]
pub struct ModuleCall {
    pub expressions: Option<ExpressionNode>,
    #[serde(default)]
    pub module: ConfigModule,
}

#[derive(Deserialize)]
#[serde(expecting = "an output object with `expression`")]
pub struct Output {
    pub expression: Option<Expression>,
}

#[derive(Deserialize)]
#[serde(expecting = "an expression object")]
pub struct Expression {
    #[serde(default)]
    pub references: Vec<String>,
}

/// The expressions of a block, as Terraform writes them: each attribute an expression object
/// (`{"constant_value": ..}` or `{"references": [..]}`), each nested block a list of such
/// bodies (an object for single blocks, a map of them for map blocks). Only the references are
/// kept; constant values are skipped unread, they are in the planned values already.
#[derive(Debug)]
pub enum ExpressionNode {
    /// An object: an expression, or a block body. Told apart by [`ExpressionNode::references`].
    Object(Vec<(String, ExpressionNode)>),
    List(Vec<ExpressionNode>),
    String(String),
    Other,
}

impl ExpressionNode {
    /// The references of an expression object, `None` for a block body. An expression object
    /// has no key but `references` (and `constant_value`, which is not kept); a block body has
    /// attribute names, one of which could be `references` only with an expression object as
    /// its value, never a list of strings.
    pub fn references(&self) -> Option<Vec<&str>> {
        let ExpressionNode::Object(entries) = self else {
            return None;
        };
        match entries.as_slice() {
            [] => Some(Vec::new()),
            [(key, ExpressionNode::List(items))] if key == "references" => items
                .iter()
                .map(|item| match item {
                    ExpressionNode::String(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for ExpressionNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = ExpressionNode;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("configuration expressions")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(ExpressionNode::String(s.to_string()))
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
        while let Some(key) = map.next_key::<String>()? {
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
