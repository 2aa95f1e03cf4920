//! Terraform's values and types as the provider sees them, independent of the wire encoding.

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type (cty type), as given in schemas by its JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    /// Any type, chosen by the value; encoded together with its concrete type.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list_of(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set_of(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// The type's JSON form: `"string"`, `["list","string"]`, `["object",{"a":"bool"}]`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(element) => json!(["list", element.to_json()]),
            Type::Set(element) => json!(["set", element.to_json()]),
            Type::Map(element) => json!(["map", element.to_json()]),
            Type::Object(attributes) => {
                let fields: serde_json::Map<String, serde_json::Value> = attributes
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_json()))
                    .collect();
                json!(["object", fields])
            }
            Type::Tuple(elements) => {
                json!([
                    "tuple",
                    elements.iter().map(Type::to_json).collect::<Vec<_>>()
                ])
            }
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Result<Type, String> {
        use serde_json::Value as J;
        match json {
            J::String(name) => match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(format!("unknown primitive type {other:?}")),
            },
            J::Array(parts) if parts.len() == 2 || parts.len() == 3 => {
                let kind = parts[0].as_str().ok_or("type kind must be a string")?;
                match (kind, &parts[1]) {
                    ("list", element) => Ok(Type::list_of(Type::from_json(element)?)),
                    ("set", element) => Ok(Type::set_of(Type::from_json(element)?)),
                    ("map", element) => Ok(Type::Map(Box::new(Type::from_json(element)?))),
                    // A third element lists optional attributes; it only matters to config
                    // conversion, not to values.
                    ("object", J::Object(fields)) => fields
                        .iter()
                        .map(|(name, ty)| Ok((name.clone(), Type::from_json(ty)?)))
                        .collect::<Result<_, String>>()
                        .map(Type::Object),
                    ("tuple", J::Array(elements)) => elements
                        .iter()
                        .map(Type::from_json)
                        .collect::<Result<_, String>>()
                        .map(Type::Tuple),
                    (other, _) => Err(format!("unknown type kind {other:?}")),
                }
            }
            other => Err(format!("not a type: {other}")),
        }
    }
}

/// A number as Terraform sends it: an integer, a float, or a decimal string when it fits
/// neither.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    Decimal(String),
}

impl Number {
    /// The number as a whole `i64`, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(n) => Some(*n),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Decimal(text) => text.parse().ok(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(n) => write!(f, "{n}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Decimal(text) => f.write_str(text),
        }
    }
}

/// What Terraform promises about an unknown value (a "refined" unknown). Only what the
/// provider may use is read; the encoded form is kept to send the value back unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Unknown {
    pub definitely_not_null: bool,
    pub string_prefix: Option<String>,
    /// The msgpack extension as received (type code and payload); `None` for unknowns the
    /// provider made itself, which are sent as plain unknowns.
    pub encoded: Option<(i8, Vec<u8>)>,
}

/// A value of some [`Type`]. Lists, sets and tuples are `List`; maps and objects are `Map`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Unknown(Unknown),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A value of a `dynamic` attribute, with the concrete type it travelled with.
    Dynamic(Type, Box<Value>),
}

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(Unknown::default())
    }

    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    pub fn int(n: i64) -> Value {
        Value::Number(Number::Int(n))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// Known all the way down: no unknown anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(entries) => entries.values().all(Value::is_wholly_known),
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(number) => number.as_i64(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value as plain JSON, for the ledger. Unknowns have no JSON form and become null;
    /// callers only record wholly known values.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Unknown(_) => J::Null,
            Value::Bool(flag) => J::Bool(*flag),
            Value::Number(Number::Int(n)) => J::from(*n),
            Value::Number(Number::Float(x)) => serde_json::Number::from_f64(*x)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Number(Number::Decimal(text)) => J::String(text.clone()),
            Value::String(text) => J::String(text.clone()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
            Value::Dynamic(_, inner) => inner.to_json(),
        }
    }

    /// Reads plain JSON as a value of `ty`: how stored state arrives in UpgradeResourceState.
    /// Object attributes missing from the JSON are null, as Terraform's own decoder has it.
    pub fn from_json(json: &serde_json::Value, ty: &Type) -> Result<Value, String> {
        use serde_json::Value as J;
        match (ty, json) {
            (_, J::Null) => Ok(Value::Null),
            (Type::String, J::String(text)) => Ok(Value::String(text.clone())),
            (Type::Bool, J::Bool(flag)) => Ok(Value::Bool(*flag)),
            (Type::Number, J::Number(number)) => Ok(Value::Number(json_number(number))),
            (Type::Number, J::String(text)) => Ok(Value::Number(Number::Decimal(text.clone()))),
            (Type::List(element) | Type::Set(element), J::Array(items)) => items
                .iter()
                .map(|item| Value::from_json(item, element))
                .collect::<Result<_, _>>()
                .map(Value::List),
            (Type::Tuple(elements), J::Array(items)) if elements.len() == items.len() => items
                .iter()
                .zip(elements)
                .map(|(item, ty)| Value::from_json(item, ty))
                .collect::<Result<_, _>>()
                .map(Value::List),
            (Type::Map(element), J::Object(entries)) => entries
                .iter()
                .map(|(key, item)| Ok((key.clone(), Value::from_json(item, element)?)))
                .collect::<Result<_, String>>()
                .map(Value::Map),
            (Type::Object(attributes), J::Object(entries)) => {
                if let Some(extra) = entries.keys().find(|key| !attributes.contains_key(*key)) {
                    return Err(format!("unexpected attribute {extra:?}"));
                }
                attributes
                    .iter()
                    .map(|(name, ty)| {
                        let item = entries.get(name).unwrap_or(&J::Null);
                        Ok((name.clone(), Value::from_json(item, ty)?))
                    })
                    .collect::<Result<_, String>>()
                    .map(Value::Map)
            }
            (Type::Dynamic, J::Object(wrapper)) => {
                let concrete = wrapper
                    .get("type")
                    .ok_or("dynamic value without its type")?;
                let concrete = Type::from_json(concrete)?;
                let inner = wrapper.get("value").unwrap_or(&J::Null);
                let value = Value::from_json(inner, &concrete)?;
                Ok(Value::Dynamic(concrete, Box::new(value)))
            }
            (ty, other) => Err(format!("expected {}, found JSON {other}", ty.to_json())),
        }
    }
}

fn json_number(number: &serde_json::Number) -> Number {
    if let Some(n) = number.as_i64() {
        Number::Int(n)
    } else if number.is_u64() {
        Number::Decimal(number.to_string())
    } else {
        Number::Float(number.as_f64().unwrap_or(f64::NAN))
    }
}
