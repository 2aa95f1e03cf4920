//! The root module's variable values, from the places Terraform takes them, later ones
//! winning: the defaults, `terraform.tfvars`, `terraform.tfvars.json`, the `*.auto.tfvars` and
//! `*.auto.tfvars.json` files in name order, each `--var-file` in turn, then each `--var`.
//!
//! `TF_VAR_*` environment variables are not read, so that a scan does not depend on the
//! shell it runs in.

use super::config::{ModuleConfig, VariableDecl};
use super::eval::{EmptyScope, Evaluator, Shared};
use super::refs::{not_constant, CONSTANT_EXPECTED};
use super::source::{display_join, is_too_large_number, parse_file, read_text, shown_number};
use super::types::{convert, misfit};
use super::val::Val;
use super::HclOptions;
use crate::error::{json_message, InputError};
use hcl_edit::structure::Structure;
use hcl_edit::Span;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The values of the root module's variables.
pub(crate) fn root_values(
    config: &ModuleConfig,
    options: &HclOptions,
    shared: &Shared,
    files: &mut Vec<PathBuf>,
) -> Result<HashMap<String, Val>, InputError> {
    let mut assigned: HashMap<String, (Val, Given)> = HashMap::new();

    let mut take_file = |path: &Path, display: &Path, files: &mut Vec<PathBuf>| {
        for (name, (value, line)) in read_values_file(path, display, shared)? {
            let given = Given::File(display.to_path_buf(), line);
            assigned.insert(name, (value, given));
        }
        files.push(display.to_path_buf());
        Ok::<(), InputError>(())
    };
    for (path, display) in automatic_files(&config.dir, &config.display_dir) {
        take_file(&path, &display, files)?;
    }
    for path in &options.var_files {
        take_file(path, path, files)?;
    }
    for (name, text) in &options.vars {
        let declaration = config.variables.iter().find(|v| &v.name == name);
        let literal = declaration.is_none_or(|d| d.literal_from_cli);
        let value = cli_value(text, literal, shared).map_err(|why| {
            Given::Cli.error(format!(
                "the value for variable \"{name}\" {why}; {CONSTANT_EXPECTED}, as Terraform \
                 reads the value of a variable whose type is not string, number or bool as an \
                 expression, in which strings are quoted ({name}='[\"a\"]' or \
                 {name}='{{ key = \"a\" }}')"
            ))
        })?;
        assigned.insert(name.clone(), (value, Given::Cli));
    }

    for (name, (value, given)) in &assigned {
        let Some(declaration) = config.variables.iter().find(|v| &v.name == name) else {
            shared.note(format!(
                "a value was given for variable \"{name}\", which the configuration does not \
                 declare"
            ));
            continue;
        };
        if let Some(expected) = misfit(value, &declaration.ty) {
            return Err(given.error(format!(
                "the value for variable \"{name}\" does not fit its type: expected {expected}"
            )));
        }
    }
    let values = assigned
        .into_iter()
        .map(|(name, (value, _))| (name, value))
        .collect();
    Ok(resolve(config, values, shared))
}

/// Where the user gave a root variable's value.
enum Given {
    /// `--var NAME=VALUE` on the command line.
    Cli,
    /// A variables file, at a line.
    File(PathBuf, u32),
}

impl Given {
    fn error(&self, message: String) -> InputError {
        match self {
            Given::Cli => InputError::new("--var", message),
            Given::File(display, line) => InputError::new(display, message).at_line(*line),
        }
    }
}

/// The value of each declared variable: the one assigned, else its default, else unknown.
pub(crate) fn resolve(
    config: &ModuleConfig,
    mut assigned: HashMap<String, Val>,
    shared: &Shared,
) -> HashMap<String, Val> {
    config
        .variables
        .iter()
        .map(|decl| {
            let value = variable_value(decl, assigned.remove(&decl.name), shared);
            (decl.name.clone(), value)
        })
        .collect()
}

/// A variable's value from the one given (by the caller or the user), as Terraform sets it:
/// the default when none is given (or null is given and the variable is not nullable),
/// converted to the variable's type, and hidden when the variable is sensitive.
pub(crate) fn variable_value(decl: &VariableDecl, given: Option<Val>, shared: &Shared) -> Val {
    let given = given.filter(|value| !(decl.non_nullable && value.is_null()));
    let value = match (given, &decl.default) {
        (Some(value), _) => value,
        (None, Some(default)) => Evaluator::new(&EmptyScope, shared).eval(default),
        (None, None) => Val::unknown(),
    };
    let value = convert(value, &decl.ty, shared);
    // The scan never keeps what a sensitive variable holds.
    if decl.sensitive {
        Val::sensitive().with_refs(&value.deep_refs())
    } else {
        value
    }
}

/// The variable files Terraform reads by itself, in the order it reads them.
/// A file whose name is not UTF-8 is read too, as Terraform reads it, and named with the
/// bytes that are not UTF-8 replaced.
fn automatic_files(dir: &Path, display_dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut found = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        if dir.join(name).is_file() {
            found.push(OsString::from(name));
        }
    }
    let mut auto: Vec<OsString> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .map(|entry| entry.file_name())
        .filter(|name| {
            let name = name.to_string_lossy();
            name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json")
        })
        .collect();
    auto.sort();
    found.extend(auto);
    found
        .into_iter()
        .map(|name| {
            let shown = display_join(display_dir, &*name.to_string_lossy());
            (dir.join(&name), shown)
        })
        .collect()
}

/// The assignments of a variables file, each with its line (1 for JSON files, whose lines
/// are not kept).
fn read_values_file(
    path: &Path,
    display: &Path,
    shared: &Shared,
) -> Result<HashMap<String, (Val, u32)>, InputError> {
    if path.extension().is_some_and(|e| e == "json") {
        let values = read_json_values(path, display)?;
        return Ok(values.into_iter().map(|(k, v)| (k, (v, 1))).collect());
    }
    let (file, body) = parse_file(path, display)?;
    for note in &file.notes {
        shared.note(note.clone());
    }
    let mut values = HashMap::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                let line = file.line(attribute.key.span()).unwrap_or(1);
                // Terraform reads variable files before anything else exists, and refuses
                // what it would have to evaluate in a scope.
                if let Some((why, span)) = not_constant(&attribute.value) {
                    return Err(InputError::new(
                        display,
                        format!(
                            "the value for variable \"{}\" {why}; {CONSTANT_EXPECTED}, as \
                             Terraform reads variable files before anything else",
                            attribute.key.as_str()
                        ),
                    )
                    .at_line(file.line(span).unwrap_or(line)));
                }
                let value = Evaluator::new(&EmptyScope, shared).eval(&attribute.value);
                values.insert(attribute.key.as_str().to_string(), (value, line));
            }
            Structure::Block(block) => {
                let line = file.line(block.ident.span()).unwrap_or(1);
                return Err(InputError::new(
                    display,
                    format!(
                        "unexpected block `{}`; expected only `name = value` assignments in a \
                         variables file",
                        block.ident.as_str()
                    ),
                )
                .at_line(line));
            }
        }
    }
    Ok(values)
}

fn read_json_values(path: &Path, display: &Path) -> Result<HashMap<String, Val>, InputError> {
    let text = read_text(path, display)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|err| {
        InputError::new(display, format!("not valid JSON: {}", json_message(&err))).at(
            u32::try_from(err.line().max(1)).unwrap_or(u32::MAX),
            u32::try_from(err.column().max(1)).unwrap_or(u32::MAX),
        )
    })?;
    let Some(object) = json.as_object() else {
        // The place of the value that should have been the object: its first character.
        let before = text.len() - text.trim_start().len();
        let line = 1 + text[..before].matches('\n').count();
        let column = 1 + before - text[..before].rfind('\n').map_or(0, |i| i + 1);
        return Err(InputError::new(
            display,
            "expected a JSON object of variable names and values",
        )
        .at(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        ));
    };
    Ok(object
        .iter()
        .map(|(name, value)| (name.clone(), Val::from_json(value)))
        .collect())
}

/// A `--var` value: the text itself for a variable of a primitive type (or no type), as
/// Terraform takes it; otherwise the text read as an expression, which must be a constant. An
/// error says what is wrong after "the value ...", without repeating the value, which may be
/// a secret.
fn cli_value(text: &str, literal: bool, shared: &Shared) -> Result<Val, String> {
    if literal {
        return Ok(Val::string(text));
    }
    if is_too_large_number(text.trim()) {
        shared.note(format!(
            "--var: the number {} is too large for a 64-bit float; it was read as unknown",
            shown_number(text.trim())
        ));
        return Ok(Val::unknown());
    }
    let expr = hcl_edit::parser::parse_expr(text)
        .map_err(|_| "is not an expression Terraform can read".to_string())?;
    if let Some((why, _)) = not_constant(&expr) {
        return Err(why);
    }
    let value = Evaluator::new(&EmptyScope, shared).eval(&expr);
    if value.has_error() {
        return Err("is an expression Terraform rejects".to_string());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn cli_values_follow_the_declared_type() {
        let shared = Shared::new(1000);
        let value = |text: &str, literal: bool| cli_value(text, literal, &shared);
        assert_eq!(value("3", true).unwrap().to_value(), Value::from("3"));
        assert_eq!(value("{", true).unwrap().to_value(), Value::from("{"));
        assert_eq!(value("3", false).unwrap().to_value(), Value::Number(3.0));
        assert_eq!(
            value("[\"a\", \"b\"]", false).unwrap().to_value(),
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(value("null", false).unwrap().to_value(), Value::Null);
        assert_eq!(value("prod", false).unwrap_err(), "refers to prod");
        assert_eq!(value("[upper(\"a\")]", false).unwrap_err(), "calls upper()");
        assert_eq!(
            value("{", false).unwrap_err(),
            "is not an expression Terraform can read"
        );
        assert_eq!(
            value("[1] + 1", false).unwrap_err(),
            "is an expression Terraform rejects"
        );
    }
}
