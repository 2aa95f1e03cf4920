//! Schemas in the vocabulary of Terraform's plugin framework: a schema is a list of attributes;
//! each attribute has a type, a description, whether it is required, optional or computed, an
//! optional default, plan modifiers and validators.

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::value::{Type, Value};
use hipaa_proto::tfplugin6 as proto;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    /// Set by the provider only.
    Computed,
    /// Set in configuration or, when left out, by the provider (defaults live here).
    OptionalComputed,
}

/// Changes the planned value of one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanModifier {
    /// A change of this attribute destroys the object and creates a new one.
    RequiresReplace,
    /// Keep the prior value instead of "known after apply" when the object is updated.
    UseStateForUnknown,
}

/// Checks one attribute's configured value; unknown and null values are not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validator {
    OneOf(&'static [&'static str]),
    /// Every element of a list or set is one of these.
    EachOneOf(&'static [&'static str]),
    /// A whole number within the bounds, both inclusive.
    Between(i64, i64),
    /// A calendar date written `YYYY-MM-DD`.
    IsoDate,
    /// 64 lowercase hexadecimal digits.
    Sha256Hex,
    /// A string with something other than blanks in it.
    NotBlank,
    /// A list or set with at least this many elements.
    MinItems(usize),
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub presence: Presence,
    pub sensitive: bool,
    pub default: Option<Value>,
    pub plan_modifiers: Vec<PlanModifier>,
    pub validators: Vec<Validator>,
}

impl Attribute {
    fn new(name: &'static str, ty: Type, presence: Presence, description: &'static str) -> Self {
        Attribute {
            name,
            ty,
            description,
            presence,
            sensitive: false,
            default: None,
            plan_modifiers: Vec::new(),
            validators: Vec::new(),
        }
    }

    pub fn required(name: &'static str, ty: Type, description: &'static str) -> Self {
        Attribute::new(name, ty, Presence::Required, description)
    }

    pub fn optional(name: &'static str, ty: Type, description: &'static str) -> Self {
        Attribute::new(name, ty, Presence::Optional, description)
    }

    pub fn computed(name: &'static str, ty: Type, description: &'static str) -> Self {
        Attribute::new(name, ty, Presence::Computed, description)
    }

    /// The identifier every resource has: computed once, kept across updates.
    pub fn id(description: &'static str) -> Self {
        Attribute::computed("id", Type::String, description)
            .plan_modifier(PlanModifier::UseStateForUnknown)
    }

    /// An optional attribute that takes `default` when left out of the configuration.
    pub fn with_default(
        name: &'static str,
        ty: Type,
        default: Value,
        description: &'static str,
    ) -> Self {
        let mut attribute = Attribute::new(name, ty, Presence::OptionalComputed, description);
        attribute.default = Some(default);
        attribute
    }

    pub fn plan_modifier(mut self, modifier: PlanModifier) -> Self {
        self.plan_modifiers.push(modifier);
        self
    }

    pub fn requires_replace(self) -> Self {
        self.plan_modifier(PlanModifier::RequiresReplace)
    }

    pub fn validator(mut self, validator: Validator) -> Self {
        self.validators.push(validator);
        self
    }

    pub fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }

    pub fn to_proto(&self) -> proto::schema::Attribute {
        proto::schema::Attribute {
            name: self.name.to_string(),
            r#type: self.ty.to_json().to_string().into_bytes(),
            nested_type: None,
            description: self.full_description(),
            required: self.presence == Presence::Required,
            optional: matches!(
                self.presence,
                Presence::Optional | Presence::OptionalComputed
            ),
            computed: self.is_computed(),
            sensitive: self.sensitive,
            description_kind: proto::StringKind::Markdown as i32,
            deprecated: false,
            write_only: false,
        }
    }

    /// The description with the default spelled out, as users see it in docs and editors.
    pub fn full_description(&self) -> String {
        match &self.default {
            Some(default) => format!("{} Defaults to `{}`.", self.description, default.to_json()),
            None => self.description.to_string(),
        }
    }

    /// Checks a configured value against this attribute's validators.
    pub fn validate(&self, value: &Value, diagnostics: &mut Diagnostics) {
        // Unknown values are checked again at apply time, once they are known; elements
        // of a partly known list are checked one by one.
        if value.is_null() || value.is_unknown() {
            return;
        }
        let path = AttributePath::root(self.name);
        for validator in &self.validators {
            validator.check(value, &path, diagnostics);
        }
    }
}

impl Validator {
    fn check(&self, value: &Value, path: &AttributePath, diagnostics: &mut Diagnostics) {
        if let (Validator::EachOneOf(allowed), Value::List(items)) = (self, value) {
            for (index, item) in items.iter().enumerate() {
                if let Value::String(text) = item {
                    if !allowed.contains(&text.as_str()) {
                        diagnostics.attribute_error(
                            path.clone().at_index(index),
                            "Invalid attribute value",
                            format!(
                                "Each element must be one of {}, got {text:?}.",
                                quoted_list(allowed)
                            ),
                        );
                    }
                }
            }
            return;
        }

        let problem = match (self, value) {
            (Validator::OneOf(allowed), Value::String(text))
                if !allowed.contains(&text.as_str()) =>
            {
                Some((
                    "Invalid attribute value",
                    format!("Must be one of {}, got {text:?}.", quoted_list(allowed)),
                ))
            }
            (Validator::Between(low, high), Value::Number(number))
                if !number.as_i64().is_some_and(|n| (*low..=*high).contains(&n)) =>
            {
                Some((
                    "Invalid attribute value",
                    format!("Must be a whole number from {low} to {high}, got {number}."),
                ))
            }
            (Validator::IsoDate, Value::String(text)) => match crate::dates::read_date(text) {
                Err(error) => Some((error.summary(), error.describe(text))),
                Ok(_) => None,
            },
            (Validator::Sha256Hex, Value::String(text)) if !is_sha256_hex(text) => Some((
                "Invalid SHA-256 digest",
                "Must be 64 lowercase hexadecimal digits.".to_string(),
            )),
            (Validator::NotBlank, Value::String(text)) if text.trim().is_empty() => {
                Some(("Empty value", "Must not be blank.".to_string()))
            }
            (Validator::MinItems(min), Value::List(items)) if items.len() < *min => Some((
                "Too few elements",
                format!("Needs at least {min} element(s), got {}.", items.len()),
            )),
            _ => None,
        };
        if let Some((summary, detail)) = problem {
            diagnostics.attribute_error(path.clone(), summary, detail);
        }
    }
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A nested block that appears at most once (`ledger { ... }`); its value is an object, or
/// null when the block is left out.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
}

impl NestedBlock {
    pub fn object_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|attribute| (attribute.name.to_string(), attribute.ty.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn to_proto(&self) -> proto::schema::NestedBlock {
        proto::schema::NestedBlock {
            type_name: self.name.to_string(),
            block: Some(proto::schema::Block {
                version: 0,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: Vec::new(),
                description: self.description.to_string(),
                description_kind: proto::StringKind::Markdown as i32,
                deprecated: false,
            }),
            nesting: proto::schema::nested_block::NestingMode::Single as i32,
            min_items: 0,
            max_items: 0,
        }
    }
}

/// The schema of a provider, resource or data source.
#[derive(Debug, Clone)]
pub struct Schema {
    pub version: i64,
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Schema {
    pub fn object_type(&self) -> Type {
        let attributes = self
            .attributes
            .iter()
            .map(|attribute| (attribute.name.to_string(), attribute.ty.clone()));
        let blocks = self
            .blocks
            .iter()
            .map(|block| (block.name.to_string(), block.object_type()));
        Type::Object(attributes.chain(blocks).collect::<BTreeMap<_, _>>())
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
    }

    pub fn to_proto(&self) -> proto::Schema {
        proto::Schema {
            version: self.version,
            block: Some(proto::schema::Block {
                version: 0,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: self.blocks.iter().map(NestedBlock::to_proto).collect(),
                description: self.description.to_string(),
                description_kind: proto::StringKind::Markdown as i32,
                deprecated: false,
            }),
        }
    }

    /// Runs every attribute's validators over a configuration object.
    pub fn validate(&self, config: &Value, diagnostics: &mut Diagnostics) {
        let Some(fields) = config.as_map() else {
            return;
        };
        for attribute in &self.attributes {
            if let Some(value) = fields.get(attribute.name) {
                attribute.validate(value, diagnostics);
            }
        }
        for block in &self.blocks {
            let Some(block_fields) = fields.get(block.name).and_then(Value::as_map) else {
                continue;
            };
            for attribute in &block.attributes {
                if let Some(value) = block_fields.get(attribute.name) {
                    attribute.validate(value, diagnostics);
                }
            }
        }
    }
}
