//! Variable type constraints, applied to the values a variable receives as Terraform applies
//! them: an object type drops attributes it does not declare and fills the `optional(...)` ones
//! it was not given (with their default, or null); strings, numbers and booleans are converted
//! into one another where the type asks for it.
//!
//! Modules that take a map of objects with optional attributes (`each.value.ssl_policy` where
//! the caller left `ssl_policy` out) read null there in Terraform; without the type they would
//! read an attribute that does not exist.
//!
//! A value given for a variable, by the user for a root variable (`--var`, a variables file) or
//! by a module call for the module's, is checked with [`misfit`], so that a value Terraform
//! would refuse is an input error, as it is for Terraform, and not a silently weaker scan. A
//! default or an optional attribute's default that does not fit is left as written. A type expression that cannot be read is treated as `any`.

use super::eval::{EmptyScope, Evaluator, Shared};
use super::refs::{not_constant, CONSTANT_EXPECTED};
use super::source::original_object_key;
use super::val::{parse_number, Kind, Val};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::Span;
use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::ops::Range;

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

/// Why a type expression is not a type, and where.
#[derive(Debug)]
pub(crate) struct TypeError {
    pub message: String,
    pub span: Option<Range<usize>>,
}

/// What a type constraint may be, for its errors.
pub(crate) const TYPES_EXPECTED: &str = "expected string, number, bool, any, list(T), set(T), \
                                         map(T), object({ name = T, ... }) or tuple([T, ...])";

/// The type constructors, with what each takes.
const CONSTRUCTORS: &[(&str, &str)] = &[
    ("list", "list(T), one element type"),
    ("set", "set(T), one element type"),
    ("map", "map(T), one element type"),
    (
        "object",
        "object({ name = T, ... }), an object of attribute types",
    ),
    ("tuple", "tuple([T, ...]), a list of element types"),
];

impl Type {
    /// Reads a type expression as Terraform does; what Terraform refuses is an error.
    pub fn parse(expr: &Expression) -> Result<Type, TypeError> {
        parse(expr, 0)
    }
}

/// The source text of an expression, shortened for an error.
fn shown(expr: &Expression) -> String {
    let text = expr.to_string();
    let text = text.trim();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

fn refuse<T>(expr: &Expression, message: String) -> Result<T, TypeError> {
    Err(TypeError {
        message,
        span: expr.span(),
    })
}

fn parse(expr: &Expression, depth: u32) -> Result<Type, TypeError> {
    if depth > MAX_TYPE_DEPTH {
        return Ok(Type::Any);
    }
    match expr {
        Expression::Variable(name) => match name.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "any" => Ok(Type::Any),
            // Terraform still reads the bare forms of Terraform 0.11 as collections of any.
            "list" => Ok(Type::Sequence(Box::new(Type::Any))),
            "map" => Ok(Type::Map(Box::new(Type::Any))),
            other => match CONSTRUCTORS.iter().find(|(name, _)| *name == other) {
                Some((_, takes)) => refuse(expr, format!("`{other}` needs what it holds: {takes}")),
                None => refuse(expr, format!("`{other}` is not a type")),
            },
        },
        Expression::String(text) => refuse(
            expr,
            format!(
                "`\"{}\"` is quoted; since Terraform 0.12 a type is written without quotes",
                text.as_str()
            ),
        ),
        Expression::FuncCall(call) if !call.name.is_namespaced() => {
            let name = call.name.name.as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            match (name, args.as_slice()) {
                ("list" | "set", [element]) => {
                    Ok(Type::Sequence(Box::new(parse(element, depth + 1)?)))
                }
                ("map", [element]) => Ok(Type::Map(Box::new(parse(element, depth + 1)?))),
                ("object", [Expression::Object(attributes)]) => {
                    let mut parsed: Vec<Attribute> = Vec::new();
                    for (key, value) in attributes.iter() {
                        let name = match key {
                            ObjectKey::Ident(ident) => ident.as_str(),
                            ObjectKey::Expression(key) => {
                                return refuse(
                                    key,
                                    format!(
                                        "attribute `{}` of an object type is not a name; \
                                         attribute names are written without quotes",
                                        shown(key)
                                    ),
                                )
                            }
                        };
                        let original = original_object_key(name);
                        if original != name || parsed.iter().any(|a| a.name == original) {
                            return refuse(
                                expr,
                                format!("attribute `{original}` is given twice in an object type"),
                            );
                        }
                        parsed.push(attribute(original.to_string(), value.expr(), depth + 1)?);
                    }
                    Ok(Type::Object(parsed))
                }
                ("tuple", [Expression::Array(elements)]) => Ok(Type::Tuple(
                    elements
                        .iter()
                        .map(|element| parse(element, depth + 1))
                        .collect::<Result<_, _>>()?,
                )),
                ("optional", _) => refuse(
                    expr,
                    "`optional(...)` is allowed only for an attribute of an object type"
                        .to_string(),
                ),
                _ => match CONSTRUCTORS.iter().find(|(known, _)| *known == name) {
                    Some((_, takes)) => refuse(
                        expr,
                        format!("`{}` is not a type: {name} takes {takes}", shown(expr)),
                    ),
                    None => refuse(expr, format!("`{name}(...)` is not a type constructor")),
                },
            }
        }
        _ => refuse(expr, format!("`{}` is not a type", shown(expr))),
    }
}

fn attribute(name: String, expr: &Expression, depth: u32) -> Result<Attribute, TypeError> {
    if let Expression::FuncCall(call) = expr {
        if call.name.name.as_str() == "optional" && !call.name.is_namespaced() {
            let args: Vec<&Expression> = call.args.iter().collect();
            let (ty, default) = match args.as_slice() {
                [ty] => (ty, None),
                [ty, default] => (ty, Some(*default)),
                _ => {
                    return refuse(
                        expr,
                        format!(
                            "`optional` of attribute `{name}` takes the attribute's type and \
                             at most a default: optional(T) or optional(T, default)"
                        ),
                    )
                }
            };
            if let Some((why, span)) = default.and_then(not_constant) {
                return Err(TypeError {
                    message: format!(
                        "the default of optional attribute `{name}` {why}; {CONSTANT_EXPECTED}"
                    ),
                    span,
                });
            }
            return Ok(Attribute {
                name,
                ty: parse(ty, depth + 1)?,
                optional: Some(default.cloned()),
            });
        }
    }
    Ok(Attribute {
        name,
        ty: parse(expr, depth)?,
        optional: None,
    })
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
            "true" | "1" => Val::bool(true),
            "false" | "0" => Val::bool(false),
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

/// What a value given for a variable of type `ty` should have been, when Terraform could not
/// convert it: `Some("a bool (true or false)")`, or with the place inside the value where it
/// goes wrong, `Some("a number at [1]")`. Parts not known before apply fit any type, and so do
/// attributes missing from the object of a resource, which computes them.
pub(crate) fn misfit(value: &Val, ty: &Type) -> Option<String> {
    let mut place = String::new();
    let expected = misfit_at(value, ty, &mut place)?;
    Some(if place.is_empty() {
        expected
    } else {
        format!("{expected} at {place}")
    })
}

/// [`misfit`] of a part of a value; `place` is where the part is, and is left pointing at the
/// first part that does not fit.
fn misfit_at(value: &Val, ty: &Type, place: &mut String) -> Option<String> {
    // The step is written into `place` only: values are checked for every module instance and
    // nearly always fit, so a string per step checked would be made only to be thrown away.
    let within = |place: &mut String, step: fmt::Arguments, value: &Val, ty: &Type| {
        let depth = place.len();
        let _ = place.write_fmt(step);
        let found = misfit_at(value, ty, place);
        if found.is_none() {
            place.truncate(depth);
        }
        found
    };
    let fits = match (&value.kind, ty) {
        (Kind::Null | Kind::Unknown | Kind::Sensitive | Kind::AnyOf(_) | Kind::Error, _) => true,
        (_, Type::Any) => true,
        (Kind::Bool(_), Type::Bool) | (Kind::Number(_), Type::Number) => true,
        (Kind::String(s), Type::Bool) => matches!(&**s, "true" | "false" | "1" | "0"),
        // Terraform reads a number from a string without surrounding space.
        (Kind::String(s), Type::Number) => s.trim() == &**s && parse_number(s).is_some(),
        (Kind::String(_) | Kind::Bool(_) | Kind::Number(_), Type::String) => true,
        (Kind::List(items), Type::Sequence(element)) => {
            return items
                .iter()
                .enumerate()
                .find_map(|(i, item)| within(place, format_args!("[{i}]"), item, element));
        }
        (Kind::List(items), Type::Tuple(elements)) if items.len() == elements.len() => {
            return items
                .iter()
                .zip(elements)
                .enumerate()
                .find_map(|(i, (item, element))| {
                    within(place, format_args!("[{i}]"), item, element)
                });
        }
        (Kind::Map(entries), Type::Map(element)) => {
            return entries
                .iter()
                .find_map(|(key, item)| within(place, format_args!("[{key:?}]"), item, element));
        }
        (Kind::Map(entries), Type::Object(attributes)) => {
            return attributes
                .iter()
                .find_map(|attribute| match entries.get(&attribute.name) {
                    Some(item) => within(
                        place,
                        format_args!(".{}", attribute.name),
                        item,
                        &attribute.ty,
                    ),
                    None if attribute.optional.is_none() && !value.open => Some(format!(
                        "an object with attribute \"{}\", which the type requires",
                        attribute.name
                    )),
                    None => None,
                });
        }
        _ => false,
    };
    if fits {
        return None;
    }
    Some(match ty {
        Type::Bool => "a bool (true or false)".to_string(),
        Type::Number => "a number".to_string(),
        Type::String => "a string".to_string(),
        Type::Sequence(_) => "a list or set".to_string(),
        Type::Tuple(elements) => format!("a tuple of {} elements", elements.len()),
        Type::Map(_) => "a map".to_string(),
        Type::Object(_) => "an object".to_string(),
        Type::Any => "any value".to_string(),
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
        Type::parse(&hcl_edit::parser::parse_expr(text).expect("an expression")).expect("a type")
    }

    fn type_error(text: &str) -> String {
        Type::parse(&hcl_edit::parser::parse_expr(text).expect("an expression"))
            .expect_err("not a type")
            .message
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
        assert_eq!(converted("{ x = 1 }", "any"), converted("{ x = 1 }", "map"));
    }

    fn misfit_of(value: &str, ty: &str) -> Option<String> {
        misfit(&value_of(value), &type_of(ty))
    }

    #[test]
    fn misfits_name_what_was_expected_and_where() {
        assert_eq!(misfit_of("\"5\"", "number"), None);
        assert_eq!(misfit_of("\" 5\"", "number").as_deref(), Some("a number"));
        assert_eq!(misfit_of("\"1\"", "bool"), None);
        assert_eq!(
            misfit_of("\"yes\"", "bool").as_deref(),
            Some("a bool (true or false)")
        );
        assert_eq!(
            misfit_of("{}", "list(string)").as_deref(),
            Some("a list or set")
        );
        assert_eq!(misfit_of("[]", "map(string)").as_deref(), Some("a map"));
        assert_eq!(
            misfit_of("[\"a\", [1]]", "list(string)").as_deref(),
            Some("a string at [1]")
        );
        assert_eq!(
            misfit_of("[\"a\"]", "tuple([string, number])").as_deref(),
            Some("a tuple of 2 elements")
        );
        assert_eq!(
            misfit_of("{ k = { port = \"x\" } }", "map(object({ port = number }))").as_deref(),
            Some("a number at [\"k\"].port")
        );
        assert_eq!(
            misfit_of("{ b = 1 }", "object({ a = string, b = optional(number) })").as_deref(),
            Some("an object with attribute \"a\", which the type requires")
        );
        assert_eq!(
            misfit_of("{ a = \"x\", extra = 1 }", "object({ a = string })"),
            None
        );
        assert_eq!(misfit_of("[null, \"a\"]", "list(string)"), None);

        // A resource computes the attributes it was not given.
        let mut resource = value_of("{ name = \"phi\" }");
        resource.open = true;
        assert_eq!(
            misfit(&resource, &type_of("object({ arn = string })")),
            None
        );
    }

    #[test]
    fn types_terraform_refuses_say_why() {
        let cases = [
            ("strin", "`strin` is not a type"),
            ("list(foo)", "`foo` is not a type"),
            ("map()", "`map()` is not a type: map takes map(T)"),
            ("list(string, number)", "list takes list(T)"),
            ("set", "`set` needs what it holds: set(T)"),
            ("tuple(string)", "tuple takes tuple([T, ...])"),
            ("object(string)", "object takes object({ name = T, ... })"),
            ("\"string\"", "is quoted"),
            ("(string)", "`(string)` is not a type"),
            (
                "list(optional(string))",
                "only for an attribute of an object type",
            ),
            (
                "object({ \"a\" = string })",
                "attribute `\"a\"` of an object type",
            ),
            (
                "object({ a = optional() })",
                "optional(T) or optional(T, default)",
            ),
            (
                "object({ a = optional(string, var.x) })",
                "optional attribute `a` refers to var.x",
            ),
            ("object({ a = optional(strin) })", "`strin` is not a type"),
            ("foo(string)", "`foo(...)` is not a type constructor"),
        ];
        for (text, says) in cases {
            let message = type_error(text);
            assert!(message.contains(says), "{text}: {message}");
        }
        for valid in ["list", "map", "set(any)", "object({})", "tuple([])", "any"] {
            let expr = hcl_edit::parser::parse_expr(valid).expect("an expression");
            assert!(Type::parse(&expr).is_ok(), "{valid}");
        }
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
