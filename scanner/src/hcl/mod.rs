//! The Terraform configuration loader: reads a directory of `.tf` files (or the folder of one
//! file), evaluates it as Terraform would at plan time, and produces one [`Resource`] per
//! resource instance, with the references each attribute makes to other resources.
//!
//! - [`source`] reads and parses files; [`config`] gathers a module's declarations;
//! - [`eval`] evaluates expressions, with [`functions`] for Terraform's built-in functions;
//! - [`blocks`] turns resource bodies into values; [`module`] expands modules, `count` and
//!   `for_each`, in the order [`graph`] finds (refusing cycles of references); [`refs`] lists
//!   what an expression mentions; [`vars`] reads variable values.
//!
//! Known shortcomings, each giving unknown values or a note rather than a guess:
//! - `.tf.json` files and override files (`*_override.tf`) are not read; a note says so.
//! - Type constraints of variables are applied as far as [`types`] says (optional object
//!   attributes, primitive conversions). A value given for a variable that does not fit its
//!   type is refused, but a default that does not fit is kept as written, and a `set(...)`
//!   keeps the order it was given in. `TF_VAR_*` environment variables are not read.
//! - Some functions are not evaluated: regular expressions, file reading and hashing, template
//!   files, network arithmetic, YAML and CSV, compression, dates and time, paths that depend on
//!   the machine (`abspath` of a relative path, `pathexpand` of `~`). Their results are unknown
//!   and a note names them.
//! - A `count` or `for_each` that is not known before apply (`var.create ? 1 : 0` with no
//!   value for `var.create`) gives one instance without a key, and a note.
//! - A reference through a whole collection of instances (`for_each = aws_s3_bucket.all`,
//!   then `each.value.id`) names each instance but not the attribute read from it.
//! - A number too large for a 64-bit float (`1e400`) is unknown, with a note, in `.tf` and
//!   `.tfvars` files and `--var` values; in a `.tfvars.json` file it is refused.
//!
//! [`Resource`]: crate::model::Resource

mod blocks;
mod config;
mod eval;
mod functions;
mod graph;
mod meter;
mod module;
mod prefetch;
mod refs;
mod source;
mod types;
mod val;
mod vars;

use crate::error::InputError;
use crate::model::Project;
use config::ModuleConfig;
use eval::Shared;
use meter::MAX_STEPS;
use module::Loader;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What the user passes besides the path.
#[derive(Debug, Clone, Default)]
pub struct HclOptions {
    /// `--var-file` paths, in the order given.
    pub var_files: Vec<PathBuf>,
    /// `--var name=value` pairs, in the order given. The value is taken as a string for a
    /// variable of type string, number or bool (or no type), and read as an expression
    /// otherwise, which must then be a constant — as Terraform does.
    pub vars: Vec<(String, String)>,
}

/// Loads a configuration: `path` is a directory, or a `.tf` file whose whole folder is read
/// (so that its sibling variable and local declarations count).
pub fn load(path: &Path, options: &HclOptions) -> Result<Project, InputError> {
    let metadata = std::fs::metadata(path)
        .map_err(|err| InputError::new(path, format!("cannot read: {err}")))?;
    let (dir, display_dir) = if metadata.is_dir() {
        (path.to_path_buf(), path.to_path_buf())
    } else if path.extension().is_some_and(|e| e == "tf") {
        let parent = path.parent().unwrap_or(Path::new(""));
        let dir = if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent.to_path_buf()
        };
        (dir, parent.to_path_buf())
    } else {
        return Err(InputError::new(
            path,
            "expected a directory of Terraform files or a .tf file",
        ));
    };

    let mut loader = Loader::new(&dir, &display_dir, Shared::new(MAX_STEPS));
    let config = loader.config_for(&dir, &display_dir)?;
    if config.files.is_empty() {
        return Err(InputError::new(
            &display_dir,
            format!(
                "no Terraform files here; expected at least one .tf file{}",
                json_files_hint(&dir)
            ),
        ));
    }
    evaluate_root(loader, config, options)
}

/// Loads a configuration whose `.tf` files are given as (file name, text) pairs instead of
/// read from disk: the same evaluation as [`load`], for callers that hold the text already.
/// `dir` names the files in findings and is still where local module sources, automatic
/// variable files and `.terraform/modules` are looked for; a directory that does not exist
/// keeps the whole load in memory.
pub fn load_sources(
    dir: &Path,
    sources: &[(&str, &str)],
    options: &HclOptions,
) -> Result<Project, InputError> {
    let config = Rc::new(ModuleConfig::from_sources(dir, dir, sources)?);
    if config.files.is_empty() {
        return Err(InputError::new(
            dir,
            "no Terraform files given; expected at least one .tf file",
        ));
    }
    let mut loader = Loader::new(dir, dir, Shared::new(MAX_STEPS));
    loader.remember(source::normalize(dir), config.clone());
    evaluate_root(loader, config, options)
}

/// Evaluates a root module that was read, with the variable values the user gave.
fn evaluate_root(
    mut loader: Loader,
    config: Rc<ModuleConfig>,
    options: &HclOptions,
) -> Result<Project, InputError> {
    let mut value_files = Vec::new();
    let variables = vars::root_values(&config, options, &loader.shared, &mut value_files)?;
    if let Some(exceeded) = meter::exceeded() {
        let message = format!(
            "while evaluating the root module's variable values, {}",
            exceeded.describe()
        );
        return Err(InputError::new(&config.display_dir, message));
    }
    loader.project.files.extend(value_files);
    loader.run_root(config, variables)?;
    Ok(loader.finish())
}

/// A hint for a directory without `.tf` files that holds JSON files: a plan is scanned by
/// naming its file. Empty when there are none.
fn json_files_hint(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    match names.as_slice() {
        [] => String::new(),
        [only] => format!(" (to scan a plan, name its file: {only})"),
        [first, rest @ ..] => format!(
            " (to scan a plan, name its file: {first} or {} other .json file{})",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

/// Loads a policy file: one file of `hipaa_*` declarations, evaluated as a root module of its
/// own with no variable values given. References in it to resources it does not declare (the
/// scanned configuration's) are kept, so that they can be resolved once both are merged.
pub fn load_policy_file(path: &Path) -> Result<Project, InputError> {
    let metadata = std::fs::metadata(path)
        .map_err(|err| InputError::new(path, format!("cannot read: {err}")))?;
    if metadata.is_dir() {
        return Err(InputError::new(
            path,
            "expected a policy file of hipaa_* declarations, found a directory",
        ));
    }
    let config = Rc::new(ModuleConfig::read_file(path, path)?);
    let (dir, display_dir) = (config.dir.clone(), config.display_dir.clone());
    let mut loader = Loader::new(&dir, &display_dir, Shared::new(MAX_STEPS));
    loader.remember(path.to_path_buf(), config.clone());
    let variables = vars::resolve(&config, HashMap::new(), &loader.shared);
    loader.run_root(config, variables)?;
    let project = loader.finish();

    // A policy file declares the licensing model only; infrastructure in it would be scanned
    // as if it were part of the configuration under review.
    if let Some(other) = project
        .resources
        .iter()
        .find(|r| !POLICY_TYPES.contains(&r.resource_type.as_str()))
    {
        let line = other.location.as_ref().map_or(1, |l| l.line);
        return Err(InputError::new(
            path,
            format!(
                "{} is not a declaration of the licensing model; a policy file holds only {} \
                 blocks",
                other.config_address(),
                POLICY_TYPES.join(", ")
            ),
        )
        .at_line(line));
    }
    Ok(project)
}

/// The resource types a `--policy` file may declare.
const POLICY_TYPES: &[&str] = &[
    "hipaa_license",
    "hipaa_boundary",
    "hipaa_phi_system",
    "hipaa_baa",
    "hipaa_access_role",
    "hipaa_security_review",
];
