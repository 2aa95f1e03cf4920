//! One module's configuration: the declarations of every `.tf` file in its directory, before
//! any evaluation.

use super::refs::{not_constant, CONSTANT_EXPECTED};
use super::source::{display_join, parse_file, parse_text, read_text, SourceFile};
use super::types::{Type, TYPES_EXPECTED};
use crate::error::InputError;
use crate::model::Mode;
use crate::suppress::{self, Directive};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use hcl_edit::{Decorate, Span};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A `variable` block.
pub(crate) struct VariableDecl {
    pub name: String,
    pub file: usize,
    pub line: u32,
    pub default: Option<Expression>,
    pub sensitive: bool,
    /// Whether a `--var` value is taken as a plain string (no `type`, or a primitive type:
    /// string, number, bool) rather than read as an expression, as Terraform does.
    pub literal_from_cli: bool,
    /// The `type` constraint, `any` when none is given.
    pub ty: Type,
    /// `nullable = false`: a null value given for the variable means its default.
    pub non_nullable: bool,
}

/// One attribute of a `locals` block.
pub(crate) struct LocalDecl {
    pub name: String,
    pub file: usize,
    pub line: u32,
    pub value: Expression,
}

/// A `resource` or `data` block.
pub(crate) struct ResourceDecl {
    pub mode: Mode,
    pub resource_type: String,
    pub name: String,
    pub body: Body,
    pub file: usize,
    pub line: u32,
    pub suppressions: Vec<BlockSuppression>,
}

/// A `module` block.
pub(crate) struct ModuleCallDecl {
    pub name: String,
    pub body: Body,
    pub file: usize,
    pub line: u32,
    pub suppressions: Vec<BlockSuppression>,
}

/// A `hipaa:ignore` comment on a block: its line and what it says.
pub(crate) type BlockSuppression = (u32, Result<Directive, String>);

/// The `hipaa:ignore` comments above a block and after its opening brace, with their lines.
fn block_suppressions(block: &Block, line: u32) -> Vec<BlockSuppression> {
    let above = block
        .decor()
        .prefix()
        .map(|prefix| suppress::comments_above(prefix))
        .unwrap_or_default();
    let mut found: Vec<BlockSuppression> = above
        .into_iter()
        .map(|(distance, directive)| (line.saturating_sub(distance).max(1), directive))
        .collect();
    let first_line = block
        .body
        .decor()
        .prefix()
        .and_then(|prefix| suppress::comment_on_first_line(prefix));
    found.extend(first_line.map(|directive| (line, directive)));
    found
}

/// A `provider` block.
pub(crate) struct ProviderDecl {
    pub name: String,
    pub alias: Option<String>,
    pub body: Body,
    pub file: usize,
    pub line: u32,
}

/// An `output` block.
pub(crate) struct OutputDecl {
    pub name: String,
    pub file: usize,
    pub line: u32,
    pub value: Option<Expression>,
    pub sensitive: bool,
}

/// Everything declared in one module directory.
pub(crate) struct ModuleConfig {
    /// Where the files are on disk.
    pub dir: PathBuf,
    /// The directory as findings name it.
    pub display_dir: PathBuf,
    pub files: Vec<SourceFile>,
    pub variables: Vec<VariableDecl>,
    pub locals: Vec<LocalDecl>,
    pub resources: Vec<ResourceDecl>,
    pub modules: Vec<ModuleCallDecl>,
    pub providers: Vec<ProviderDecl>,
    pub outputs: Vec<OutputDecl>,
    /// Things the user should know about this directory.
    pub notes: Vec<String>,
}

/// Whether a file is a Terraform override file, which Terraform merges into the other files.
fn is_override(name: &str) -> bool {
    name == "override.tf" || name.ends_with("_override.tf")
}

impl ModuleConfig {
    fn empty(dir: &Path, display_dir: &Path) -> ModuleConfig {
        ModuleConfig {
            dir: dir.to_path_buf(),
            display_dir: display_dir.to_path_buf(),
            files: Vec::new(),
            variables: Vec::new(),
            locals: Vec::new(),
            resources: Vec::new(),
            modules: Vec::new(),
            providers: Vec::new(),
            outputs: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Reads every `*.tf` file of a directory, in name order.
    pub fn read_dir(dir: &Path, display_dir: &Path) -> Result<ModuleConfig, InputError> {
        let entries = std::fs::read_dir(dir).map_err(|err| {
            InputError::new(display_dir, format!("cannot read the directory: {err}"))
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|err| {
                InputError::new(display_dir, format!("cannot read the directory: {err}"))
            })?;
            if entry.file_type().map(|t| !t.is_dir()).unwrap_or(false) {
                names.push(entry.file_name());
            }
        }
        names.sort();

        let mut config = ModuleConfig::empty(dir, display_dir);
        for name in &names {
            // Terraform reads a file whose name is not UTF-8 like any other; messages and
            // findings name it with the bytes that are not UTF-8 replaced.
            let shown = name.to_string_lossy();
            let display = display_join(display_dir, &*shown);
            if config.is_read(&shown, &display) {
                let path = dir.join(name);
                // A symbolic link to a directory is skipped, as directories are; named pipes
                // and devices are refused by the reader.
                if path.is_dir() {
                    continue;
                }
                let text = read_text(&path, &display)?;
                config.add_text(&text, &display)?;
            }
        }
        config.check_unique()?;
        Ok(config)
    }

    /// A configuration made of files given as (name, text) pairs rather than read from
    /// `dir`, taken in name order as [`ModuleConfig::read_dir`] takes them. A text may start
    /// with a byte order mark, as a file may.
    pub fn from_sources(
        dir: &Path,
        display_dir: &Path,
        sources: &[(&str, &str)],
    ) -> Result<ModuleConfig, InputError> {
        let mut sorted = sources.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));

        let mut config = ModuleConfig::empty(dir, display_dir);
        for (name, text) in sorted {
            let display = display_join(display_dir, name);
            if config.is_read(name, &display) {
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                config.add_text(text, &display)?;
            }
        }
        config.check_unique()?;
        Ok(config)
    }

    /// Whether a file of the directory is read as configuration; a note says why a Terraform
    /// file is not.
    fn is_read(&mut self, name: &str, display: &Path) -> bool {
        if name.ends_with(".tf.json") {
            self.notes.push(format!(
                "{}: JSON configuration files are not read",
                display.display()
            ));
            false
        } else if name.ends_with(".tf") && is_override(name) {
            self.notes.push(format!(
                "{}: override files are not merged; the settings they change were scanned as \
                 the other files write them",
                display.display()
            ));
            false
        } else {
            name.ends_with(".tf")
        }
    }

    fn add_text(&mut self, text: &str, display: &Path) -> Result<(), InputError> {
        let (file, body) = parse_text(text, display)?;
        self.add_file(file, body)
    }

    /// A configuration made of one file (a policy file).
    pub fn read_file(path: &Path, display: &Path) -> Result<ModuleConfig, InputError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let display_dir = display.parent().unwrap_or(Path::new(""));
        let mut config = ModuleConfig::empty(dir, display_dir);
        let (file, body) = parse_file(path, display)?;
        config.add_file(file, body)?;
        config.check_unique()?;
        Ok(config)
    }

    fn add_file(&mut self, mut file: SourceFile, body: Body) -> Result<(), InputError> {
        // Terraform takes only blocks at the top of a file; an argument there is most often a
        // block whose `{` was forgotten, and dropping it would scan less than was written.
        if let Some(argument) = body.attributes().next() {
            let line = file.line(argument.key.span()).unwrap_or(1);
            return Err(InputError::new(
                &file.display,
                format!(
                    "`{}` is an argument (`name = value`) outside any block; expected a block \
                     here, such as `resource \"type\" \"name\" {{ ... }}` or `locals {{ ... }}`",
                    argument.key.as_str()
                ),
            )
            .at_line(line));
        }

        let index = self.files.len();
        for block in body.into_blocks() {
            let line = file.line(block.ident.span()).unwrap_or(1);
            let error = |message: String| InputError::new(&file.display, message).at_line(line);
            match block.ident.as_str() {
                "resource" | "data" => {
                    let mode = if block.ident.as_str() == "data" {
                        Mode::Data
                    } else {
                        Mode::Managed
                    };
                    let [resource_type, name] = labels::<2>(&block).ok_or_else(|| {
                        error(format!(
                            "a `{}` block needs two labels: expected the type and the name",
                            block.ident.as_str()
                        ))
                    })?;
                    let suppressions = block_suppressions(&block, line);
                    self.resources.push(ResourceDecl {
                        mode,
                        resource_type,
                        name,
                        body: block.body,
                        file: index,
                        line,
                        suppressions,
                    });
                }
                "module" => {
                    let [name] = labels::<1>(&block).ok_or_else(|| {
                        error("a `module` block needs one label: expected its name".into())
                    })?;
                    let suppressions = block_suppressions(&block, line);
                    self.modules.push(ModuleCallDecl {
                        name,
                        body: block.body,
                        file: index,
                        line,
                        suppressions,
                    });
                }
                "variable" => {
                    let [name] = labels::<1>(&block).ok_or_else(|| {
                        error("a `variable` block needs one label: expected its name".into())
                    })?;
                    let decl = variable_decl(name, &block.body, &file, index, line)?;
                    self.variables.push(decl);
                }
                "locals" => {
                    for attribute in block.body.into_attributes() {
                        self.locals.push(LocalDecl {
                            name: attribute.key.as_str().to_string(),
                            file: index,
                            line: file.line(attribute.key.span()).unwrap_or(line),
                            value: attribute.value,
                        });
                    }
                }
                "provider" => {
                    let [name] = labels::<1>(&block).ok_or_else(|| {
                        error("a `provider` block needs one label: expected its name".into())
                    })?;
                    let alias = block
                        .body
                        .get_attribute("alias")
                        .and_then(|a| a.value.as_str().map(str::to_string));
                    self.providers.push(ProviderDecl {
                        name,
                        alias,
                        body: block.body,
                        file: index,
                        line,
                    });
                }
                "output" => {
                    let [name] = labels::<1>(&block).ok_or_else(|| {
                        error("an `output` block needs one label: expected its name".into())
                    })?;
                    let body = block.body;
                    self.outputs.push(OutputDecl {
                        name,
                        file: index,
                        line,
                        sensitive: is_true(&body, "sensitive"),
                        value: body.get_attribute("value").map(|a| a.value.clone()),
                    });
                }
                // `terraform`, `moved`, `import`, `removed`, `check` and the like declare
                // nothing the scan judges.
                _ => {}
            }
        }
        self.notes.append(&mut file.notes);
        self.files.push(file);
        Ok(())
    }

    /// Terraform rejects a name declared twice; so does the scan, rather than pick one.
    fn check_unique(&self) -> Result<(), InputError> {
        let resources = self.resources.iter().map(|r| {
            let prefix = if r.mode == Mode::Data { "data." } else { "" };
            let address = format!("{prefix}{}.{}", r.resource_type, r.name);
            (address, r.file, r.line)
        });
        let modules = self
            .modules
            .iter()
            .map(|m| (format!("module.{}", m.name), m.file, m.line));
        let variables = self
            .variables
            .iter()
            .map(|v| (format!("variable \"{}\"", v.name), v.file, v.line));
        let locals = self
            .locals
            .iter()
            .map(|l| (format!("local.{}", l.name), l.file, l.line));
        let outputs = self
            .outputs
            .iter()
            .map(|o| (format!("output \"{}\"", o.name), o.file, o.line));

        let mut seen = HashSet::new();
        for (name, file, line) in resources
            .chain(modules)
            .chain(variables)
            .chain(locals)
            .chain(outputs)
        {
            if !seen.insert(name.clone()) {
                let file = self
                    .files
                    .get(file)
                    .map_or(self.display_dir.clone(), |f| f.display.clone());
                return Err(InputError::new(
                    file,
                    format!("{name} is declared twice; expected each name once per module"),
                )
                .at_line(line));
            }
        }
        Ok(())
    }
}

/// A `variable` block's declaration. Its default must be a constant: Terraform evaluates it
/// before anything else of the module exists.
fn variable_decl(
    name: String,
    body: &Body,
    file: &SourceFile,
    index: usize,
    line: u32,
) -> Result<VariableDecl, InputError> {
    let default = body.get_attribute("default");
    if let Some(default) = default {
        if let Some((why, span)) = not_constant(&default.value) {
            let at = file
                .line(span)
                .or(file.line(default.span()))
                .unwrap_or(line);
            return Err(InputError::new(
                &file.display,
                format!(
                    "the default of variable \"{name}\" {why}; {CONSTANT_EXPECTED}, as \
                     Terraform evaluates defaults before anything else"
                ),
            )
            .at_line(at));
        }
    }

    let type_attribute = body.get_attribute("type");
    let ty = match type_attribute {
        None => Type::Any,
        Some(attribute) => Type::parse(&attribute.value).map_err(|err| {
            let at = file
                .line(err.span)
                .or(file.line(attribute.span()))
                .unwrap_or(line);
            InputError::new(
                &file.display,
                format!(
                    "the type of variable \"{name}\" is not valid: {}; {TYPES_EXPECTED}",
                    err.message
                ),
            )
            .at_line(at)
        })?,
    };
    // Terraform takes the text itself for a primitive type (converting it), and reads an
    // expression for any other, `any` included.
    let literal_from_cli =
        type_attribute.is_none() || matches!(ty, Type::String | Type::Number | Type::Bool);
    Ok(VariableDecl {
        name,
        file: index,
        line,
        sensitive: is_true(body, "sensitive"),
        literal_from_cli,
        ty,
        non_nullable: is_false(body, "nullable"),
        default: default.map(|a| a.value.clone()),
    })
}

/// The labels of a block, when it has exactly `N`.
fn labels<const N: usize>(block: &Block) -> Option<[String; N]> {
    if block.labels.len() != N {
        return None;
    }
    let labels: Vec<String> = block
        .labels
        .iter()
        .map(|l| l.as_str().to_string())
        .collect();
    labels.try_into().ok()
}

/// Whether an attribute is the literal `true`.
fn is_true(body: &Body, name: &str) -> bool {
    body.get_attribute(name)
        .is_some_and(|a| a.value.as_bool() == Some(true))
}

fn is_false(body: &Body, name: &str) -> bool {
    body.get_attribute(name)
        .is_some_and(|a| a.value.as_bool() == Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<ModuleConfig, InputError> {
        let (file, body) = parse_text(text, Path::new("main.tf"))?;
        let mut config = ModuleConfig::empty(Path::new("."), Path::new(""));
        config.add_file(file, body)?;
        config.check_unique()?;
        Ok(config)
    }

    #[test]
    fn declarations_are_gathered_by_kind() {
        let config = config(
            r#"
variable "a" {
  type      = string
  sensitive = true
}
variable "b" { type = list(string) }
variable "c" { type = number }
variable "d" { type = any }
locals { x = 1 }
resource "aws_s3_bucket" "b" {}
data "aws_kms_key" "k" {}
module "m" { source = "./m" }
provider "aws" { alias = "eu" }
output "o" { value = 1 }
"#,
        )
        .unwrap();
        assert_eq!(config.variables.len(), 4);
        assert!(config.variables[0].sensitive && config.variables[0].literal_from_cli);
        assert!(!config.variables[1].literal_from_cli);
        assert!(config.variables[2].literal_from_cli);
        assert!(!config.variables[3].literal_from_cli);
        assert_eq!(config.locals[0].name, "x");
        assert_eq!(config.resources[1].mode, Mode::Data);
        assert_eq!(config.resources[0].line, 10);
        assert_eq!(config.modules[0].name, "m");
        assert_eq!(config.providers[0].alias.as_deref(), Some("eu"));
        assert_eq!(config.outputs[0].name, "o");
    }

    #[test]
    fn a_resource_without_its_name_is_an_input_error() {
        let err = config("\nresource \"aws_s3_bucket\" {}\n").err().unwrap();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("two labels"));
    }

    #[test]
    fn a_local_declared_twice_is_an_input_error() {
        let err = config("locals {\n  a = 1\n}\n\nlocals {\n  a = 2\n}\n")
            .err()
            .unwrap();
        assert_eq!(err.line, Some(6));
        assert!(err.message.contains("local.a"), "{}", err.message);
    }

    #[test]
    fn a_resource_declared_twice_is_an_input_error() {
        let err = config("resource \"a_b\" \"x\" {}\nresource \"a_b\" \"x\" {}\n")
            .err()
            .unwrap();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("a_b.x"));
    }
}
