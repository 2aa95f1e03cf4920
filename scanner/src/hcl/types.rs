//! Variable type constraints, applied to the values a variable receives as Terraform applies
//! them: an object type drops attributes it does not declare and fills the `optional(...)` ones
//! it was not given (with their default, or null); strings, numbers and booleans are converted
//! into one another where the type asks for it.
//!
//! Modules that take a map of objects with optional attributes (`each.value.ssl_policy` where
//! the caller left `ssl_policy` out) read null there in Terraform; without the type they would
//! read an attribute that does not exist.
//!
//! Inside the configuration, a value that does not fit its type is left as it is rather than
//! made an error: Terraform would refuse it, and the scan reports what the configuration says
//! instead. A value the *user* gives a root variable (`--var`, a variables file) is checked
//! with [`misfit`], so that a typo there is an input error, as it is for Terraform, and not a
//! silently weaker scan. A type expression that cannot be read is treated as `any`.

use super::eval::{EmptyScope, Evaluator, Shared};
use super::val::{parse_number, Kind, Val};
use hcl_edit::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;

/// How deeply type expressions may nest before the rest is taken as `any`.
const MAX_TYPE_DEPTH: u32 = 32;

/// A type constraint as written in a `variable` block.
#[derive(Debug, Clone)]
pub(crate) enum Type {
    Any,
    String,
    Number,
    Bool,
    /// `list(T)`, `set(T)`: a sequence of T.
    Sequence(Box<Type>),
    Map(Box<Type>),
    Object(Vec<Attribute>),
    Tuple(Vec<Type>),
}

/// One attribute of an object type.
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub name: String,
    pub ty: Type,
    /// `Some` for `optional(...)`: the default expression, if one is given.
    pub optional: Option<Option<Expression>>,
}

impl Type {
    /// Reads a type expression; what it cannot read is `any`.
    pub fn parse(expr: &Expression) -> Type {
        parse(expr, 0)
    }
}

fn parse(expr: &Expression, depth: u32) -> Type {
    if depth > MAX_TYPE_DEPTH {
        return Type::Any;
    }
    match expr {
        Expression::Variable(name) => match name.as_str() {
            "string" => Type::String,
            "number" => Type::Number,
            "bool" => Type::Bool,
            _ => Type::Any,
        },
        Expression::Parenthesis(inner) => parse(inner.inner(), depth + 1),
        Expression::FuncCall(call) if !call.name.is_namespaced() => {
            let first = call.args.iter().next();
            match (call.name.name.as_str(), first) {
                ("list" | "set", Some(element)) => {
                    Type::Sequence(Box::new(parse(element, depth + 1)))
                }
                ("map", Some(element)) => Type::Map(Box::new(parse(element, depth + 1))),
                ("object", Some(Expression::Object(attributes))) => Type::Object(
                    attributes
                        .iter()
                        .filter_map(|(key, value)| {
                            let name = match key {
                                ObjectKey::Ident(ident) => ident.as_str().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => {
                                    s.as_str().to_string()
                                }
                                ObjectKey::Expression(_) => return None,
                            };
                            Some(attribute(name, value.expr(), depth + 1))
                        })
                        .collect(),
                ),
                ("tuple", Some(Expression::Array(elements))) => Type::Tuple(
                    elements
                        .iter()
                        .map(|element| parse(element, depth + 1))
                        .collect(),
                ),
                _ => Type::Any,
            }
        }
        _ => Type::Any,
    }
}

fn attribute(name: String, expr: &Expression, depth: u32) -> Attribute {
    if let Expression::FuncCall(call) = expr {
        if call.name.name.as_str() == "optional" && !call.name.is_namespaced() {
            let mut args = call.args.iter();
            let ty = args.next().map_or(Type::Any, |t| parse(t, depth + 1));
            return Attribute {
                name,
                ty,
                optional: Some(args.next().cloned()),
            };
        }
    }
    Attribute {
        name,
        ty: parse(expr, depth),
        optional: None,
    }
}

/// A value converted to a type, as far as it is known.
pub(crate) fn convert(value: Val, ty: &Type, shared: &Shared) -> Val {
    if !shared.step() {
        return Val::unknown().with_refs(&value.deep_refs());
    }
    let refs = value.refs.clone();
    let converted = match (&value.kind, ty) {
        (_, Type::Any) | (Kind::Null, _) => return value,
        (Kind::AnyOf(branches), _) => {
            let branches = branches
                .iter()
                .map(|branch| convert(branch.clone(), ty, shared))
                .collect();
            return Val::any_of(branches).with_refs(&refs);
        }
        (Kind::Number(_) | Kind::Bool(_), Type::String) => {
            value.to_text().map_or(value.clone(), Val::string)
        }
        (Kind::String(s), Type::Number) => parse_number(s).map_or(value.clone(), Val::number),
        (Kind::String(s), Type::Bool) => match &**s {
            "true" => Val::bool(true),
            "false" => Val::bool(false),
            _ => return value,
        },
        (Kind::List(items), Type::Sequence(element)) => Val::list(
            items
                .iter()
                .map(|item| convert(item.clone(), element, shared))
                .collect(),
        ),
        (Kind::List(items), Type::Tuple(elements)) if items.len() == elements.len() => Val::list(
            items
                .iter()
                .zip(elements)
                .map(|(item, element)| convert(item.clone(), element, shared))
                .collect(),
        ),
        (Kind::Map(entries), Type::Map(element)) => Val::map(
            entries
                .iter()
                .map(|(key, item)| (key.clone(), convert(item.clone(), element, shared)))
                .collect(),
        ),
        (Kind::Map(entries), Type::Object(attributes)) => {
            let given_all_required = attributes
                .iter()
                .all(|a| a.optional.is_some() || entries.contains_key(&a.name));
            if !given_all_required {
                return value;
            }
            let mut object = BTreeMap::new();
            for attribute in attributes {
                let filled = match entries.get(&attribute.name) {
                    // A resource's object lacks the attributes the provider computes: they
                    // are unknown, not absent.
                    None if value.open => Val::unknown(),
                    given => fill(given.cloned(), attribute, shared),
                };
                object.insert(attribute.name.clone(), filled);
            }
            Val::map(object)
        }
        _ => return value,
    };
    converted.with_refs(&refs)
}

/// What a known value given for a variable of type `ty` should have been, when it cannot be
/// converted to it: `Some("a bool (true or false)")`. Only the primitive types are checked
/// here; collections are converted element by element and left as they are.
pub(crate) fn misfit(value: &Val, ty: &Type) -> Option<&'static str> {
    let fits = match (&value.kind, ty) {
        (Kind::Null | Kind::Unknown | Kind::Sensitive | Kind::AnyOf(_) | Kind::Error, _) => true,
        (_, Type::Any) => true,
        (Kind::Bool(_), Type::Bool) | (Kind::Number(_), Type::Number) => true,
        (Kind::String(s), Type::Bool) => matches!(&**s, "true" | "false"),
        (Kind::String(s), Type::Number) => parse_number(s).is_some(),
        (Kind::String(_) | Kind::Bool(_) | Kind::Number(_), Type::String) => true,
        (Kind::List(_) | Kind::Map(_), Type::Sequence(_) | Type::Tuple(_))
        | (Kind::Map(_), Type::Map(_) | Type::Object(_)) => true,
        (_, Type::Bool) => false,
        (_, Type::Number) => false,
        (_, Type::String) => false,
        _ => true,
    };
    if fits {
        return None;
    }
    Some(match ty {
        Type::Bool => "a bool (true or false)",
        Type::Number => "a number",
        _ => "a string",
    })
}

/// An attribute's value: the one given, else (or when null) its default, converted.
fn fill(given: Option<Val>, attribute: &Attribute, shared: &Shared) -> Val {
    let given = given.filter(|value| !value.is_null());
    match (given, &attribute.optional) {
        (Some(value), _) => convert(value, &attribute.ty, shared),
        (None, Some(Some(default))) => {
            let default = Evaluator::new(&EmptyScope, shared).eval(default);
            convert(default, &attribute.ty, shared)
        }
        (None, _) => Val::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn type_of(text: &str) -> Type {
        Type::parse(&hcl_edit::parser::parse_expr(text).expect("a type expression"))
    }

    fn value_of(text: &str) -> Val {
        let expr = hcl_edit::parser::parse_expr(text).expect("an expression");
        Evaluator::new(&EmptyScope, &Shared::new(10_000)).eval(&expr)
    }

    fn converted(value: &str, ty: &str) -> Value {
        convert(value_of(value), &type_of(ty), &Shared::new(10_000)).to_value()
    }

    #[test]
    fn optional_attributes_are_filled_and_undeclared_ones_dropped() {
        let ty = r#"map(object({
            port       = number
            protocol   = optional(string, "HTTP")
            ssl_policy = optional(string)
            redirect   = optional(object({ status_code = optional(string, "HTTP_301") }))
            tags       = optional(map(string), {})
        }))"#;
        let value = r#"{
            plain  = { port = "80", extra = true }
            secure = { port = 443, protocol = "HTTPS", ssl_policy = "TLS13", redirect = {} }
            nulled = { port = 81, protocol = null }
        }"#;
        let listeners = converted(value, ty);

        let plain = listeners.get("plain").expect("plain");
        assert_eq!(plain.get("port"), Some(&Value::Number(80.0)));
        assert_eq!(plain.get("protocol"), Some(&Value::from("HTTP")));
        assert_eq!(plain.get("ssl_policy"), Some(&Value::Null));
        assert_eq!(plain.get("redirect"), Some(&Value::Null));
        assert_eq!(plain.get("tags"), Some(&Value::map()));
        assert_eq!(plain.get("extra"), None);

        let secure = listeners.get("secure").expect("secure");
        assert_eq!(secure.get("ssl_policy"), Some(&Value::from("TLS13")));
        assert_eq!(
            secure.at("redirect.status_code"),
            &Value::from("HTTP_301"),
            "a default inside a nested optional object applies"
        );
        let nulled = listeners.get("nulled").expect("nulled");
        assert_eq!(nulled.get("protocol"), Some(&Value::from("HTTP")));
    }

    #[test]
    fn primitives_convert_and_misfits_are_left_as_written() {
        assert_eq!(converted("5", "string"), Value::from("5"));
        assert_eq!(converted("true", "string"), Value::from("true"));
        assert_eq!(converted(r#""false""#, "bool"), Value::Bool(false));
        assert_eq!(
            converted(r#"["1", "2"]"#, "list(number)"),
            Value::List(vec![Value::Number(1.0), Value::Number(2.0)])
        );
        assert_eq!(
            converted(r#"["1", true]"#, "tuple([number, string])"),
            Value::List(vec![Value::Number(1.0), Value::from("true")])
        );
        assert_eq!(converted(r#""yes""#, "bool"), Value::from("yes"));
        // A required attribute missing: Terraform refuses the value; it is kept as given.
        let kept = converted("{ a = 1 }", "object({ a = number, b = string })");
        assert_eq!(kept.get("a"), Some(&Value::Number(1.0)));
        assert_eq!(kept.get("b"), None);
        assert_eq!(converted("null", "object({ a = number })"), Value::Null);
        assert_eq!(
            converted("{ x = 1 }", "any"),
            converted("{ x = 1 }", "whatever")
        );
    }

    #[test]
    fn a_resource_object_keeps_its_computed_attributes_unknown() {
        let shared = Shared::new(10_000);
        let ty = type_of("object({ arn = optional(string), name = optional(string, \"d\") })");
        let mut key = value_of("{ name = \"phi\" }");
        key.open = true;
        let converted = convert(key, &ty, &shared).to_value();
        assert_eq!(converted.get("arn"), Some(&Value::Unknown));
        assert_eq!(converted.get("name"), Some(&Value::from("phi")));
    }

    #[test]
    fn unknown_and_chosen_values_keep_their_shape() {
        let shared = Shared::new(10_000);
        let ty = type_of("object({ a = optional(string, \"d\") })");
        assert_eq!(
            convert(Val::unknown(), &ty, &shared).to_value(),
            Value::Unknown
        );
        let choice = Val::any_of(vec![value_of("{}"), value_of("{ a = \"x\" }")]);
        let converted = convert(choice, &ty, &shared);
        let Kind::AnyOf(branches) = &converted.kind else {
            panic!("still a choice: {converted:?}");
        };
        let values: Vec<Value> = branches
            .iter()
            .map(|b| b.to_value().at("a").clone())
            .collect();
        assert_eq!(values, [Value::from("d"), Value::from("x")]);
    }
}
