//! Loads `terraform show -json PLANFILE` output into the resource model.
//!
//! A plan says each resource instance's values three times over: in `planned_values` (the
//! state after apply, with `sensitive_values`), in `resource_changes` (with the `after_unknown`
//! and `after_sensitive` markers) and, for the configuration, in `configuration` (per module,
//! not per instance, with the references of every expression). This module joins the three by
//! address into one [`Resource`] per instance that will exist after apply.
//!
//! The file is read into one buffer and parsed once into borrowed views ([`schema`]); values
//! are built only for the instances kept, straight from their raw JSON.
//!
//! Plans carry no source lines, so resources have no [`Location`](crate::model::Location):
//! findings point at the plan file itself.

mod references;
mod schema;
mod values;

use crate::error::InputError;
use crate::model::{InstanceKey, Mode, Project, ProviderRef, Resource};
use crate::value::Value;
use references::{module_address, module_steps, ModuleConfig, Resolver};
use schema::{Action, IndexKey, PlanFile, StateModule, StateResource};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// Plan format major versions this loader knows. Terraform promises that a change of the minor
/// version only adds fields.
const KNOWN_FORMAT_MAJOR: &[&str] = &["0", "1"];

/// True for a file the CLI should hand to [`load`]: JSON, by its name. Cheap: nothing is read.
pub fn looks_like_plan(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
}

/// Reads a plan written by `terraform show -json PLANFILE`.
pub fn load(path: &Path) -> Result<Project, InputError> {
    let bytes = std::fs::read(path)
        .map_err(|error| InputError::new(path, format!("cannot read the plan: {error}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|error| {
        let (line, column) = line_column(&bytes, error.valid_up_to());
        InputError::new(
            path,
            "not UTF-8 text; expected the JSON of a Terraform plan",
        )
        .at(line, column)
    })?;
    load_text(path, text)
}

/// Reads a plan from its text; `path` is the name errors and the summary give it.
pub fn load_text(path: &Path, text: &str) -> Result<Project, InputError> {
    refuse_non_object(path, text)?;
    let plan: PlanFile =
        serde_json::from_str(text).map_err(|error| parse_error(path, text, error))?;
    let format_version = check_is_plan(path, &plan)?;

    let mut project = Project {
        files: vec![path.to_path_buf()],
        ..Project::default()
    };
    if !KNOWN_FORMAT_MAJOR.contains(&format_version.split('.').next().unwrap_or_default()) {
        project.notes.push(format!(
            "{}: plan format version {format_version} is newer than the 1.x this scanner \
             reads; resources may be missed",
            path.display()
        ));
    }

    let loader = Loader::new(path, text, &plan)?;
    project.resources = loader.resources(&plan)?;
    Ok(project)
}

/// Refuses a JSON value other than an object before serde reads it: serde would take a list for
/// the fields of a plan in order, and complain about the first one.
fn refuse_non_object(path: &Path, text: &str) -> Result<(), InputError> {
    let Some(start) = text.find(|c: char| !c.is_ascii_whitespace()) else {
        return Ok(());
    };
    let found = match text.as_bytes()[start] {
        b'{' => return Ok(()),
        b'[' => "a list",
        b'"' => "a string",
        b'-' | b'0'..=b'9' => "a number",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        // Not JSON at all: serde's syntax error says where.
        _ => return Ok(()),
    };
    let (line, column) = line_column(text.as_bytes(), start);
    Err(InputError::new(
        path,
        format!(
            "not a Terraform plan: found {found} where the output of \
             `terraform show -json PLANFILE`, a JSON object, was expected"
        ),
    )
    .at(line, column))
}

/// Refuses JSON that is not plan output, saying what was expected. Returns the format version.
fn check_is_plan<'p>(path: &Path, plan: &'p PlanFile) -> Result<&'p str, InputError> {
    let is_plan = plan.planned_values.is_some() || plan.resource_changes.is_some();
    match (&plan.format_version, is_plan) {
        (Some(version), true) => Ok(version),
        (Some(_), false) if plan.values.is_some() => Err(InputError::new(
            path,
            "this is Terraform state, not a plan; expected the output of \
             `terraform show -json PLANFILE`, with `planned_values`",
        )
        .at(1, 1)),
        _ => Err(InputError::new(
            path,
            "not a Terraform plan; expected the output of `terraform show -json PLANFILE`, \
             an object with `format_version` and `planned_values`",
        )
        .at(1, 1)),
    }
}

/// The planned values of one instance, with the module instance that holds it.
struct Planned<'p, 'a> {
    resource: &'p StateResource<'a>,
    module: &'p str,
}

struct Loader<'p, 'a> {
    path: &'p Path,
    text: &'a str,
    config: ModuleConfig<'a>,
    /// By provider configuration key (`aws`, `aws.eu`, `module.m:aws`).
    providers: HashMap<&'p str, ProviderRef>,
}

impl<'p, 'a> Loader<'p, 'a> {
    fn new(path: &'p Path, text: &'a str, plan: &'p PlanFile<'a>) -> Result<Self, InputError> {
        let mut loader = Loader {
            path,
            text,
            config: ModuleConfig::default(),
            providers: HashMap::new(),
        };
        let Some(configuration) = &plan.configuration else {
            return Ok(loader);
        };

        for (key, provider) in &configuration.provider_config {
            let region = match provider.expressions {
                Some(raw) => provider_region(raw).map_err(|error| {
                    loader.raw_error(raw.get(), error, &format!("provider configuration {key}"))
                })?,
                None => None,
            };
            let reference = ProviderRef {
                name: provider.name.to_string(),
                alias: provider.alias.as_ref().map(|alias| alias.to_string()),
                region,
            };
            loader.providers.insert(key.as_ref(), reference);
        }
        Ok(loader)
    }

    fn resources(mut self, plan: &'p PlanFile<'a>) -> Result<Vec<Resource>, InputError> {
        if let Some(root) = plan
            .configuration
            .as_ref()
            .and_then(|configuration| configuration.root_module.as_ref())
        {
            self.config = ModuleConfig::build(root).map_err(|failure| {
                self.raw_error(failure.raw, failure.error, "configuration expressions")
            })?;
        }

        let mut planned_order = Vec::new();
        if let Some(root) = plan
            .planned_values
            .as_ref()
            .and_then(|v| v.root_module.as_ref())
        {
            collect_planned(root, "", &mut planned_order);
        }
        let planned: HashMap<&str, &Planned> = planned_order
            .iter()
            .map(|entry| (entry.resource.address.as_ref(), entry))
            .collect();

        let changes = plan.resource_changes.as_deref().unwrap_or_default();
        let mut resources = Vec::with_capacity(planned_order.len().max(changes.len()));
        let mut seen: HashSet<&str> = HashSet::with_capacity(resources.capacity());

        for change in changes {
            if change.deposed.is_some() {
                continue;
            }
            seen.insert(change.address.as_ref());
            if is_removal(&change.change.actions) {
                continue;
            }
            let address = change.address.as_ref();
            let planned_entry = planned.get(address);

            let mut values = match (change.change.after, planned_entry) {
                (Some(after), _) if after.get() != "null" => {
                    let mut values = self.value(after, address)?;
                    if let Some(raw) = change.change.after_unknown {
                        self.mark(&mut values, raw, &Value::Unknown, true, address)?;
                    }
                    values
                }
                (_, Some(entry)) => self.planned_value(entry.resource)?,
                _ => Value::map(),
            };
            if let Some(raw) = change.change.after_sensitive {
                self.mark(&mut values, raw, &Value::Sensitive, false, address)?;
            }
            if let Some(raw) = planned_entry.and_then(|entry| entry.resource.sensitive_values) {
                self.mark(&mut values, raw, &Value::Sensitive, false, address)?;
            }

            let module = match (&change.module_address, planned_entry) {
                (Some(module), _) => module.as_ref(),
                (None, Some(entry)) => entry.module,
                (None, None) => "",
            };
            resources.push(self.resource(
                address,
                module,
                &change.mode,
                &change.resource_type,
                &change.name,
                change.index.as_ref(),
                values,
            ));
        }

        // Instances without a change entry: plans written by older Terraform versions, and
        // refresh-only plans, list only some.
        for entry in &planned_order {
            if seen.insert(entry.resource.address.as_ref()) {
                let values = self.planned_value(entry.resource)?;
                resources.push(self.state_resource(entry, values));
            }
        }

        // Data sources read while planning are only in the prior state.
        let mut prior = Vec::new();
        if let Some(root) = plan
            .prior_state
            .as_ref()
            .and_then(|state| state.values.as_ref())
            .and_then(|values| values.root_module.as_ref())
        {
            collect_planned(root, "", &mut prior);
        }
        for entry in prior.iter().filter(|entry| entry.resource.mode == "data") {
            if seen.insert(entry.resource.address.as_ref()) {
                let values = self.planned_value(entry.resource)?;
                resources.push(self.state_resource(entry, values));
            }
        }
        Ok(resources)
    }

    fn state_resource(&self, entry: &Planned, values: Value) -> Resource {
        let resource = entry.resource;
        self.resource(
            &resource.address,
            entry.module,
            &resource.mode,
            &resource.resource_type,
            &resource.name,
            resource.index.as_ref(),
            values,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn resource(
        &self,
        address: &str,
        module: &str,
        mode: &str,
        resource_type: &str,
        name: &str,
        index: Option<&IndexKey>,
        values: Value,
    ) -> Resource {
        let mode = if mode == "data" {
            Mode::Data
        } else {
            Mode::Managed
        };
        let key = index.map(|index| match index {
            IndexKey::Number(n) => InstanceKey::Index(*n),
            IndexKey::String(s) => InstanceKey::Key(s.clone()),
        });

        let steps = module_steps(module).unwrap_or_default();
        let config_key = match mode {
            Mode::Data => format!("data.{resource_type}.{name}"),
            Mode::Managed => format!("{resource_type}.{name}"),
        };
        let resolver = Resolver::new(&self.config);
        let config = resolver
            .module(&steps)
            .and_then(|module| module.resources.get(&config_key));
        let references = config
            .map(|config| resolver.resolve_resource(config, &steps))
            .unwrap_or_default();
        let provider = self.provider(
            config.and_then(|config| config.provider_config_key.as_deref()),
            resource_type,
        );

        Resource {
            address: address.to_string(),
            module: module_address(&steps),
            mode,
            resource_type: resource_type.to_string(),
            name: name.to_string(),
            key,
            provider,
            values,
            references,
            location: None,
            attribute_lines: BTreeMap::new(),
        }
    }

    /// The provider configuration a resource block uses. Terraform names a configuration
    /// passed into a module by the key it has where it is written; an older Terraform left
    /// the module's own key (`module.m:aws`), which is then looked up in the root instead.
    fn provider(&self, key: Option<&str>, resource_type: &str) -> ProviderRef {
        let default_name = resource_type.split('_').next().unwrap_or_default();
        let Some(key) = key else {
            return ProviderRef {
                name: default_name.to_string(),
                ..ProviderRef::default()
            };
        };
        if let Some(found) = self.providers.get(key) {
            return found.clone();
        }
        let local_key = key.rsplit_once(':').map_or(key, |(_, local)| local);
        if let Some(found) = self.providers.get(local_key) {
            return found.clone();
        }
        let (name, alias) = match local_key.split_once('.') {
            Some((name, alias)) => (name, Some(alias.to_string())),
            None => (local_key, None),
        };
        ProviderRef {
            name: name.to_string(),
            alias,
            region: None,
        }
    }

    fn value(&self, raw: &RawValue, address: &str) -> Result<Value, InputError> {
        values::parse_value(raw)
            .map_err(|error| self.raw_error(raw.get(), error, &format!("values of {address}")))
    }

    fn planned_value(&self, resource: &StateResource) -> Result<Value, InputError> {
        let mut values = match resource.values {
            Some(raw) => self.value(raw, &resource.address)?,
            None => Value::map(),
        };
        if let Some(raw) = resource.sensitive_values {
            self.mark(
                &mut values,
                raw,
                &Value::Sensitive,
                false,
                &resource.address,
            )?;
        }
        Ok(values)
    }

    fn mark(
        &self,
        values: &mut Value,
        raw: &RawValue,
        marker: &Value,
        create_missing: bool,
        address: &str,
    ) -> Result<(), InputError> {
        let marks = values::parse_marks(raw).map_err(|error| {
            self.raw_error(raw.get(), error, &format!("value markers of {address}"))
        })?;
        values::apply_marks(values, &marks, marker, create_missing);
        Ok(())
    }

    /// An error found in a piece of the file parsed on its own, placed in the whole file.
    fn raw_error(&self, raw: &str, error: serde_json::Error, what: &str) -> InputError {
        let base = (raw.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let within = offset_of(raw, error.line(), error.column());
        let (line, column) = line_column(self.text.as_bytes(), base + within);
        InputError::new(self.path, format!("in the {what}: {}", describe(&error))).at(line, column)
    }
}

/// Every resource of a module tree, in file order, with its module instance address.
fn collect_planned<'p, 'a>(
    module: &'p StateModule<'a>,
    address: &'p str,
    out: &mut Vec<Planned<'p, 'a>>,
) {
    for resource in &module.resources {
        out.push(Planned {
            resource,
            module: address,
        });
    }
    for child in &module.child_modules {
        collect_planned(child, child.address.as_deref().unwrap_or_default(), out);
    }
}

/// A change that leaves no instance behind: a destroy, or Terraform letting go of it.
fn is_removal(actions: &[Action]) -> bool {
    !actions.is_empty()
        && actions
            .iter()
            .all(|action| matches!(action, Action::Delete | Action::Forget))
}

/// The `region` of a provider configuration: its value when written as a constant, unknown
/// when it is computed (from a variable, say).
fn provider_region(raw: &RawValue) -> Result<Option<Value>, serde_json::Error> {
    let expressions: serde_json::Value = serde_json::from_str(raw.get())?;
    let Some(region) = expressions.get("region") else {
        return Ok(None);
    };
    Ok(Some(match region.get("constant_value") {
        Some(serde_json::Value::String(name)) => Value::String(name.clone()),
        Some(serde_json::Value::Null) | None => Value::Unknown,
        Some(other) => Value::from(other),
    }))
}

/// Describes a failure to read the plan as a whole: broken JSON, or a field of the wrong type.
fn parse_error(path: &Path, text: &str, error: serde_json::Error) -> InputError {
    use serde_json::error::Category;

    let bare = bare_message(&error);
    let message = match error.classify() {
        Category::Eof => format!("the JSON ends early (is the file truncated?): {bare}"),
        Category::Syntax if is_too_deep(&error) => {
            format!("{}{}", field_of_error(text), describe(&error))
        }
        Category::Syntax => format!("not valid JSON: {bare}"),
        Category::Io => bare,
        Category::Data => match field_of_error(text) {
            at if at.is_empty() => format!("not a Terraform plan: {bare}"),
            at => format!("{at}{bare}"),
        },
    };
    let line = u32::try_from(error.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(error.column().max(1)).unwrap_or(u32::MAX);
    InputError::new(path, message).at(line.max(1), column)
}

/// "in `resource_changes[3].change`: " for the field where a plan fails to load, found by
/// parsing it again, slowly; empty when no field is to blame.
fn field_of_error(text: &str) -> String {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, PlanFile>(&mut deserializer) {
        Err(traced) => match traced.path().to_string() {
            path if path.is_empty() || path == "." => String::new(),
            path => format!("in `{}`: ", shorten(&path)),
        },
        Ok(_) => String::new(),
    }
}

/// A path of at most about 100 characters: its start and its end.
fn shorten(path: &str) -> String {
    const KEEP: usize = 48;
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= 2 * KEEP + 5 {
        return path.to_string();
    }
    let start: String = chars[..KEEP].iter().collect();
    let end: String = chars[chars.len() - KEEP..].iter().collect();
    format!("{start} ... {end}")
}

fn is_too_deep(error: &serde_json::Error) -> bool {
    bare_message(error).starts_with("recursion limit")
}

/// serde_json's message, in the user's terms where they differ.
fn describe(error: &serde_json::Error) -> String {
    if is_too_deep(error) {
        // serde_json's limit, kept so that no input can exhaust the stack.
        "values nested deeper than a Terraform plan has (at most 128 levels are read)".to_string()
    } else {
        bare_message(error)
    }
}

/// serde_json's message without the " at line L column C" it appends.
fn bare_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) if error.line() > 0 => message[..at].to_string(),
        _ => message,
    }
}

/// The byte offset of a 1-based (line, column) in `text`; serde_json counts columns in bytes.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// The 1-based line and column of a byte offset.
fn line_column(bytes: &[u8], offset: usize) -> (u32, u32) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let column = before.len() - line_start + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}
