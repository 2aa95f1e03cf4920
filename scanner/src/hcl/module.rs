//! Evaluating module instances: the root module, and every local or downloaded module it calls,
//! once per `count` or `for_each` instance.
//!
//! Within one module instance, locals, resources, module calls, provider configurations and
//! outputs are evaluated in dependency order, found by looking at the names each expression
//! mentions ([`graph`](super::graph)). The order is computed iteratively, so long chains of
//! locals cannot exhaust the stack. A cycle of references that Terraform refuses is an input
//! error; a name met before it has been evaluated otherwise (a module call reading one of its
//! own outputs that does not depend on the call's arguments) reads as unknown.

use super::blocks::eval_resource_body;
use super::config::{BlockSuppression, ModuleCallDecl, ModuleConfig, ResourceDecl, VariableDecl};
use super::eval::{Evaluator, KeyMode, ResourceTarget, Scope, Shared};
use super::graph::{Detail, Graph, Node, Summary};
use super::meter::{self, Exceeded};
use super::prefetch::{is_local_source, local_calls, Prefetcher};
use super::source::SourceFile;
use super::source::{display_join, normalize, original_object_key};
use super::types::misfit;
use super::val::{Kind, Val};
use super::vars;
use crate::error::InputError;
use crate::model::{InstanceKey, Location, Mode, Project, ProviderRef, Resource, SkippedModule};
use crate::suppress::{SuppressionComment, Target};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Attribute, Body};
use hcl_edit::Span;
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// How deeply modules may call modules. Real configurations stay far below; a module that
/// includes itself reaches it at once.
const MAX_MODULE_DEPTH: usize = 32;

/// The most instances one `count` or `for_each` may make.
const MAX_INSTANCES: usize = 100_000;

/// Arguments of a `module` block that are not input variables.
pub(super) const MODULE_META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// Why a module call was not scanned, when it is not downloaded.
const NOT_DOWNLOADED: &str = "not downloaded; run terraform init";

/// A provider configuration by local name and alias.
type ProviderKey = (String, Option<String>);

/// The state of one load: the project being built and what is shared across modules.
pub(crate) struct Loader {
    pub project: Project,
    pub shared: Shared,
    configs: HashMap<PathBuf, Rc<ModuleConfig>>,
    /// Downloaded modules from `.terraform/modules/modules.json`: key → directory.
    manifest: HashMap<String, String>,
    root_dir: PathBuf,
    root_display: PathBuf,
    cwd: Rc<str>,
    /// The plan of each configuration evaluated, by the configuration's address; the
    /// configuration is kept beside it so that the address cannot be reused.
    plans: HashMap<*const ModuleConfig, (Rc<ModuleConfig>, Rc<ModulePlan>)>,
    /// What each configuration read for a cycle check tells its callers, kept the same way.
    summaries: HashMap<*const ModuleConfig, (Rc<ModuleConfig>, Rc<Summary>)>,
    /// Reads local modules ahead of their evaluation; started when a module first calls one.
    prefetcher: Option<Prefetcher>,
    /// What the file system said of each module directory, asked once per load: a module
    /// called by every instance of another would otherwise cost a `stat` and a walk of every
    /// component of its path per instance.
    dirs: HashMap<PathBuf, DirFacts>,
}

/// What the loader learnt of one module directory from the file system.
struct DirFacts {
    is_dir: bool,
    /// See [`canonical`]; found when first needed.
    canonical: Option<PathBuf>,
}

impl Loader {
    pub fn new(root_dir: &Path, root_display: &Path, shared: Shared) -> Loader {
        let mut loader = Loader {
            project: Project::default(),
            shared,
            configs: HashMap::new(),
            manifest: HashMap::new(),
            root_dir: root_dir.to_path_buf(),
            root_display: root_display.to_path_buf(),
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| ".".to_string())
                .into(),
            plans: HashMap::new(),
            summaries: HashMap::new(),
            prefetcher: None,
            dirs: HashMap::new(),
        };
        loader.read_manifest();
        loader
    }

    /// Reads Terraform's record of downloaded modules, when there is one.
    fn read_manifest(&mut self) {
        let relative = Path::new(".terraform").join("modules").join("modules.json");
        let path = self.root_dir.join(&relative);
        let display = display_join(&self.root_display, &relative);
        if !path.exists() {
            return;
        }
        let text = match crate::files::read_regular_text(&path, &display, "a module manifest") {
            Ok(text) => text,
            Err(error) => {
                self.shared
                    .note(format!("{error}; downloaded modules were not scanned"));
                return;
            }
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            self.shared.note(format!(
                "{}: not a module manifest Terraform wrote; downloaded modules were not scanned",
                display.display()
            ));
            return;
        };
        let modules = json.get("Modules").and_then(|m| m.as_array());
        for module in modules.into_iter().flatten() {
            let key = module.get("Key").and_then(|k| k.as_str());
            let dir = module.get("Dir").and_then(|d| d.as_str());
            if let (Some(key), Some(dir)) = (key, dir) {
                self.manifest.insert(key.to_string(), dir.to_string());
            }
        }
    }

    /// The configuration of a module directory, read once however often it is called.
    pub fn config_for(
        &mut self,
        dir: &Path,
        display: &Path,
    ) -> Result<Rc<ModuleConfig>, InputError> {
        let key = normalize(dir);
        if let Some(config) = self.configs.get(&key) {
            return Ok(config.clone());
        }
        let read_ahead = self.prefetcher.as_ref().and_then(|p| p.take(dir, display));
        let config = match read_ahead {
            Some(outcome) => Rc::new(outcome?),
            None => Rc::new(ModuleConfig::read_dir(dir, display)?),
        };
        self.remember(key, config.clone());
        Ok(config)
    }

    /// What evaluating a module needs besides its configuration, worked out once per module
    /// however many instances of it there are. A cycle of references Terraform refuses is an
    /// error. `call_names` and `ancestors` are those of the module's first instance, for
    /// finding the modules it calls.
    fn plan_for(
        &mut self,
        config: &Rc<ModuleConfig>,
        call_names: &[String],
        ancestors: &[PathBuf],
    ) -> Result<Rc<ModulePlan>, InputError> {
        if let Some((_, plan)) = self.plans.get(&Rc::as_ptr(config)) {
            return Ok(plan.clone());
        }
        let (order, may_cycle) = Graph::build(config).order();
        if may_cycle {
            let called = self.called_summaries(config, call_names, ancestors)?;
            if let Some(error) = Detail::build(config, &called).cycle_error() {
                return Err(error);
            }
        }
        let plan = Rc::new(ModulePlan::new(config, order));
        self.plans
            .insert(Rc::as_ptr(config), (config.clone(), plan.clone()));
        Ok(plan)
    }

    /// For each module call of a configuration, what the module it calls tells its callers;
    /// `None` for a call that evaluation skips or refuses.
    fn called_summaries(
        &mut self,
        config: &ModuleConfig,
        call_names: &[String],
        ancestors: &[PathBuf],
    ) -> Result<Vec<Option<Rc<Summary>>>, InputError> {
        let mut found = Vec::with_capacity(config.modules.len());
        for decl in &config.modules {
            let Some(source) = decl
                .body
                .get_attribute("source")
                .and_then(|a| a.value.as_str())
            else {
                found.push(None);
                continue;
            };
            let Ok((dir, display)) = self.resolve_source(config, call_names, &decl.name, source)
            else {
                found.push(None);
                continue;
            };
            let canonical_dir = self.canonical(&dir);
            if ancestors.contains(&canonical_dir) || ancestors.len() >= MAX_MODULE_DEPTH {
                found.push(None);
                continue;
            }
            let child = self.config_for(&dir, &display)?;
            let mut child_names = call_names.to_vec();
            child_names.push(decl.name.clone());
            let mut child_ancestors = ancestors.to_vec();
            child_ancestors.push(canonical_dir);
            found.push(Some(self.summary_for(
                &child,
                &child_names,
                &child_ancestors,
            )?));
        }
        Ok(found)
    }

    /// What a module tells its callers: the variables each of its outputs reads.
    fn summary_for(
        &mut self,
        config: &Rc<ModuleConfig>,
        call_names: &[String],
        ancestors: &[PathBuf],
    ) -> Result<Rc<Summary>, InputError> {
        if let Some((_, summary)) = self.summaries.get(&Rc::as_ptr(config)) {
            return Ok(summary.clone());
        }
        let called = self.called_summaries(config, call_names, ancestors)?;
        let summary = Rc::new(Detail::build(config, &called).summary());
        self.summaries
            .insert(Rc::as_ptr(config), (config.clone(), summary.clone()));
        Ok(summary)
    }

    /// Records a configuration that was read: its files and notes join the project.
    pub fn remember(&mut self, key: PathBuf, config: Rc<ModuleConfig>) {
        self.project
            .files
            .extend(config.files.iter().map(|f| f.display.clone()));
        for note in &config.notes {
            self.shared.note(note.clone());
        }
        // The reading thread starts with the first local module call: most loads (a policy
        // file, a configuration without modules) never need it.
        let calls = local_calls(&config);
        if !calls.is_empty() {
            if self.prefetcher.is_none() {
                self.prefetcher = Prefetcher::start();
            }
            if let Some(prefetcher) = &self.prefetcher {
                prefetcher.read(calls);
            }
        }
        self.configs.insert(key, config);
    }

    /// Evaluates the root module with its variable values.
    pub fn run_root(
        &mut self,
        config: Rc<ModuleConfig>,
        variables: HashMap<String, Val>,
    ) -> Result<(), InputError> {
        let root = self.canonical(&config.dir);
        let plan = self.plan_for(&config, &[], std::slice::from_ref(&root))?;
        let mut frame = Frame::new(
            config,
            plan,
            String::new(),
            Vec::new(),
            vec![root],
            variables,
            HashMap::new(),
            self.root_display.display().to_string().into(),
            self.cwd.clone(),
        );
        self.run_frame(&mut frame)?;
        Ok(())
    }

    /// Finishes the load: resources in source order (instances of one block in key order),
    /// notes sorted and kept once.
    pub fn finish(mut self) -> Project {
        sort_by_location(&mut self.project.resources);
        self.free_configs();
        let mut notes = self.shared.take_notes();
        notes.extend(std::mem::take(&mut self.project.notes));
        notes.sort();
        notes.dedup();
        self.project.notes = notes;
        self.project
    }

    /// Frees the parsed files on another thread, as nothing reads them once every module is
    /// evaluated; a configuration still shared elsewhere is left to its other owner.
    fn free_configs(&mut self) {
        self.plans.clear();
        self.summaries.clear();
        let configs: Vec<ModuleConfig> = self
            .configs
            .drain()
            .filter_map(|(_, config)| Rc::try_unwrap(config).ok())
            .collect();
        let _ = std::thread::Builder::new()
            .name("free-configs".to_string())
            .spawn(move || drop(configs));
    }

    /// Evaluates one module instance; returns its outputs as an object.
    fn run_frame(&mut self, frame: &mut Frame) -> Result<Val, InputError> {
        let config = frame.config.clone();
        let plan = frame.plan.clone();
        for &node in &plan.order {
            match node {
                Node::Provider(i) => self.eval_provider(frame, i),
                Node::Local(i) => {
                    let decl = &config.locals[i];
                    let value = Evaluator::new(frame, &self.shared).eval(&decl.value);
                    frame.locals.insert(decl.name.clone(), value);
                }
                Node::Resource(i) => self.eval_resource(frame, i)?,
                Node::Module(i) => self.eval_module_call(frame, &config.modules[i])?,
                Node::Output(i) => {
                    // The root module's outputs are read by no one.
                    if frame.path.is_empty() {
                        continue;
                    }
                    let decl = &config.outputs[i];
                    let value = match &decl.value {
                        Some(expr) => Evaluator::new(frame, &self.shared).eval(expr),
                        None => Val::null(),
                    };
                    let value = if decl.sensitive {
                        Val::sensitive().with_refs(&value.deep_refs())
                    } else {
                        value
                    };
                    frame.outputs.insert(decl.name.clone(), value);
                }
            }
            if let Some(exceeded) = meter::exceeded() {
                return Err(limit_error(&config, &frame.path, node, exceeded));
            }
        }
        Ok(Val::map(std::mem::take(&mut frame.outputs)))
    }

    fn eval_provider(&mut self, frame: &mut Frame, index: usize) {
        let config = frame.config.clone();
        let decl = &config.providers[index];
        let region = decl.body.get_attribute("region").map(|attribute| {
            Evaluator::new(frame, &self.shared)
                .eval(&attribute.value)
                .to_value()
        });
        let provider = ProviderRef {
            name: decl.name.clone(),
            alias: decl.alias.clone(),
            region,
        };
        frame
            .providers
            .insert((decl.name.clone(), decl.alias.clone()), provider);
    }

    /// The instances a block's `count` or `for_each` makes, within what the load may make in
    /// all. A value Terraform rejects is an error naming the argument's line; a value not known
    /// before apply is not (see [`Expansion::Unexpanded`]).
    fn expand(
        &self,
        frame: &Frame,
        body: &Body,
        file: &SourceFile,
    ) -> Result<Expansion, InputError> {
        let expansion = self.expansion_asked(frame, body, file)?;
        let asked = match &expansion {
            Expansion::Count(n) => *n,
            Expansion::ForEach(entries) => entries.len(),
            Expansion::Single | Expansion::Unexpanded(_) | Expansion::OverLimit => 1,
        };
        if self.shared.take_instances(asked) {
            Ok(expansion)
        } else {
            Ok(Expansion::OverLimit)
        }
    }

    /// The instances a block's `count` or `for_each` asks for.
    fn expansion_asked(
        &self,
        frame: &Frame,
        body: &Body,
        file: &SourceFile,
    ) -> Result<Expansion, InputError> {
        let count = body.get_attribute("count");
        let for_each = body.get_attribute("for_each");
        let refuse = |attribute: &Attribute, message: String| {
            let line = file.line(attribute.span()).unwrap_or(1);
            InputError::new(&file.display, message).at_line(line)
        };
        match (count, for_each) {
            (None, None) => Ok(Expansion::Single),
            (Some(_), Some(for_each)) => Err(refuse(
                for_each,
                "`count` and `for_each` are both set; expected at most one of them".to_string(),
            )),
            (Some(count), None) => {
                let value = Evaluator::new(frame, &self.shared).eval(&count.value);
                if let Some(exceeded) = meter::exceeded() {
                    return Err(refuse(count, format!("`count`: {}", exceeded.describe())));
                }
                count_instances(&value).map_err(|why| refuse(count, format!("`count` {why}")))
            }
            (None, Some(for_each)) => {
                if let Expression::Array(items) = &for_each.value {
                    if !items.is_empty() {
                        return Err(refuse(
                            for_each,
                            format!("`for_each` is a list; {FOR_EACH_EXPECTED} (toset(...))"),
                        ));
                    }
                }
                let value = Evaluator::new(frame, &self.shared).eval(&for_each.value);
                if let Some(exceeded) = meter::exceeded() {
                    let message = format!("`for_each`: {}", exceeded.describe());
                    return Err(refuse(for_each, message));
                }
                for_each_instances(&value)
                    .map_err(|why| refuse(for_each, format!("`for_each` {why}")))
            }
        }
    }

    fn eval_resource(&mut self, frame: &mut Frame, index: usize) -> Result<(), InputError> {
        let config = frame.config.clone();
        let decl = &config.resources[index];
        let file = &config.files[decl.file];
        let config_address = qualify(&frame.path, &frame.plan.local_addresses[index]);
        if decl.mode == Mode::Managed {
            let target = Target {
                modules: frame.call_names.clone(),
                resource: Some((decl.resource_type.clone(), decl.name.clone())),
            };
            self.note_suppressions(target, &file.display, &decl.suppressions);
        }
        let provider = provider_for(frame, decl);
        let expansion = self.expand(frame, &decl.body, file)?;
        let (instances, keys) = expansion.instances(&self.shared, &config_address);

        // Each instance gets its own copy of the provider and of the address; the last one (the
        // only one, for most blocks) takes the originals.
        let count = instances.len();
        let shared_parts = std::iter::repeat_n((provider, config_address), count);
        let mut objects = Vec::with_capacity(count);
        for (instance, (provider, config_address)) in instances.into_iter().zip(shared_parts) {
            let mut ev = instance.evaluator(frame, &self.shared);
            let body = eval_resource_body(&mut ev, &decl.body, file);
            let object = Val::map(body.values);
            let address = match &instance.key {
                Some(key) => format!("{config_address}{key}"),
                None => config_address,
            };
            self.project.resources.push(Resource {
                address,
                module: frame.path.clone(),
                mode: decl.mode,
                resource_type: decl.resource_type.clone(),
                name: decl.name.clone(),
                key: instance.key.clone(),
                provider,
                values: object.to_value(),
                references: body.references.into_iter().collect(),
                location: Some(Location {
                    file: file.display.clone(),
                    line: decl.line,
                }),
                attribute_lines: body.lines,
            });
            objects.push((instance.key, object));
        }

        frame.resources[index] = Some(EvaluatedResource {
            instances: objects,
            keys,
            view: OnceCell::new(),
        });
        Ok(())
    }

    fn eval_module_call(
        &mut self,
        frame: &mut Frame,
        decl: &ModuleCallDecl,
    ) -> Result<(), InputError> {
        let config = frame.config.clone();
        let call_address = qualify(&frame.path, &format!("module.{}", decl.name));
        let mut call_path = frame.call_names.clone();
        call_path.push(decl.name.clone());
        let target = Target {
            modules: call_path,
            resource: None,
        };
        self.note_suppressions(target, &config.files[decl.file].display, &decl.suppressions);
        let Some(source) = decl
            .body
            .get_attribute("source")
            .and_then(|a| a.value.as_str())
            .map(str::to_string)
        else {
            return Err(InputError::new(
                &config.files[decl.file].display,
                format!(
                    "module \"{}\" has no `source`; expected a literal string naming the module",
                    decl.name
                ),
            )
            .at_line(decl.line));
        };

        let skip = |loader: &mut Loader, frame: &mut Frame, reason: String| {
            loader.project.skipped_modules.push(SkippedModule {
                address: call_address.clone(),
                source: source.clone(),
                reason,
            });
            frame.modules.insert(decl.name.clone(), Val::unknown());
        };
        let (dir, display) =
            match self.resolve_source(&frame.config, &frame.call_names, &decl.name, &source) {
                Ok(found) => found,
                Err(reason) => {
                    skip(self, frame, reason);
                    return Ok(());
                }
            };
        let canonical_dir = self.canonical(&dir);
        // Terraform installs the whole tree of modules before planning, whatever `count` says,
        // so a module that includes itself is never valid: `terraform init` recurses until it
        // fails.
        if frame.ancestors.contains(&canonical_dir) {
            return Err(InputError::new(
                &config.files[decl.file].display,
                format!(
                    "module \"{}\" calls {source}, which is this module or one that calls it, so \
                     the module includes itself; expected a source outside the chain of calling \
                     modules",
                    decl.name
                ),
            )
            .at_line(decl.line));
        }
        if frame.ancestors.len() >= MAX_MODULE_DEPTH {
            skip(
                self,
                frame,
                format!("modules nest more than {MAX_MODULE_DEPTH} levels deep"),
            );
            return Ok(());
        }
        let child_config = self.config_for(&dir, &display)?;
        let mut call_names = frame.call_names.clone();
        call_names.push(decl.name.clone());
        let mut ancestors = frame.ancestors.clone();
        ancestors.push(canonical_dir);
        let child_plan = self.plan_for(&child_config, &call_names, &ancestors)?;

        let providers = child_providers(frame, &decl.body);
        let expansion = self.expand(frame, &decl.body, &config.files[decl.file])?;
        let (instances, keys) = expansion.instances(&self.shared, &call_address);

        let file = &config.files[decl.file];
        let arguments = module_arguments(decl, &child_config, &source, file)?;
        let mut outputs = Vec::with_capacity(instances.len());
        for instance in instances {
            let path = match &instance.key {
                Some(key) => format!("{call_address}{key}"),
                None => call_address.clone(),
            };
            let mut values = HashMap::with_capacity(arguments.len());
            let mut ev = instance.evaluator(frame, &self.shared);
            for (attribute, variable) in &arguments {
                let value = ev.eval(&attribute.value);
                if let Some(expected) = misfit(&value, &variable.ty) {
                    let line = file.line(attribute.span()).unwrap_or(decl.line);
                    let message = format!(
                        "the value {path} gives variable \"{}\" does not fit the variable's \
                         type: expected {expected}",
                        variable.name
                    );
                    return Err(InputError::new(&file.display, message).at_line(line));
                }
                values.insert(variable.name.clone(), value);
            }
            let variables = module_variables(&child_config, values, &self.shared);
            let mut child = Frame::new(
                child_config.clone(),
                child_plan.clone(),
                path,
                call_names.clone(),
                ancestors.clone(),
                variables,
                providers.clone(),
                frame.root_display.clone(),
                frame.cwd.clone(),
            );
            let value = self.run_frame(&mut child)?;
            outputs.push((instance.key, value));
        }

        let value = collect_instances(outputs, keys);
        frame.modules.insert(decl.name.clone(), value);
        Ok(())
    }

    /// Records the suppression comments of a block, once however many instances of its module
    /// are evaluated.
    fn note_suppressions(&mut self, target: Target, file: &Path, found: &[BlockSuppression]) {
        for (line, directive) in found {
            let comment = SuppressionComment {
                target: target.clone(),
                location: Location {
                    file: file.to_path_buf(),
                    line: *line,
                },
                directive: directive.clone(),
            };
            if !self.project.suppressions.contains(&comment) {
                self.project.suppressions.push(comment);
            }
        }
    }

    /// Where a module's files are: relative to the caller for a local path, in Terraform's
    /// manifest for a downloaded module.
    fn resolve_source(
        &mut self,
        config: &ModuleConfig,
        call_names: &[String],
        name: &str,
        source: &str,
    ) -> Result<(PathBuf, PathBuf), String> {
        let local = is_local_source(source);
        let (dir, display) = if local {
            (
                config.dir.join(source),
                display_join(&config.display_dir, source),
            )
        } else {
            let mut key = call_names.join(".");
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(name);
            let Some(dir) = self.manifest.get(&key) else {
                return Err(NOT_DOWNLOADED.to_string());
            };
            (
                self.root_dir.join(dir),
                display_join(&self.root_display, dir),
            )
        };
        if self.facts(&dir).is_dir {
            Ok((dir, display))
        } else if local {
            Err(format!("directory {} not found", display.display()))
        } else {
            Err(NOT_DOWNLOADED.to_string())
        }
    }

    /// What the file system says of `dir`, asked the first time only.
    fn facts(&mut self, dir: &Path) -> &mut DirFacts {
        self.dirs
            .entry(dir.to_path_buf())
            .or_insert_with(|| DirFacts {
                is_dir: dir.is_dir(),
                canonical: None,
            })
    }

    /// The canonical form of a directory (see [`canonical`]), worked out once per load.
    fn canonical(&mut self, dir: &Path) -> PathBuf {
        let facts = self.facts(dir);
        facts
            .canonical
            .get_or_insert_with(|| canonical(dir))
            .clone()
    }
}

/// Sorts resources by where their blocks are, keeping instances of one block in the order they
/// were made. Comparing paths component by component in every comparison dominated the sort of
/// large loads, so each file is ranked once and resources are sorted by rank and line; paths that
/// compare equal share a rank, so the order is the one `Location`'s ordering gives.
fn sort_by_location(resources: &mut [Resource]) {
    let mut ranks: HashMap<&Path, usize> = HashMap::new();
    let mut last: Option<&Path> = None;
    for location in resources.iter().filter_map(|r| r.location.as_ref()) {
        let file = location.file.as_path();
        if last != Some(file) {
            ranks.entry(file).or_insert(0);
            last = Some(file);
        }
    }
    let mut files: Vec<&Path> = ranks.keys().copied().collect();
    files.sort();
    for (rank, file) in files.into_iter().enumerate() {
        ranks.insert(file, rank);
    }

    // Resources without a place come first, as `None` sorts before any location. Neighbours
    // mostly share a file, so the last rank found is tried before hashing the path again.
    let mut last: Option<(&Path, usize)> = None;
    let keys: Vec<(usize, u32)> = resources
        .iter()
        .map(|r| match &r.location {
            None => (0, 0),
            Some(location) => {
                let file = location.file.as_path();
                let rank = match last {
                    Some((last_file, rank)) if last_file == file => rank,
                    _ => ranks[file],
                };
                last = Some((file, rank));
                (1 + rank, location.line)
            }
        })
        .collect();
    drop(ranks);

    // Sorting indices and moving each resource once is cheaper than moving the resources
    // through every pass of the sort.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| keys[i]);
    drop(keys);

    // Each resource moves to its place along the cycles of the permutation, in place: a second
    // vector of resources to move them into is megabytes of fresh memory for a large load.
    let mut placed = vec![false; order.len()];
    for start in 0..order.len() {
        if placed[start] {
            continue;
        }
        // Walking the cycle from `start`, the resource that was at `start` is always at `at`,
        // and every position not yet reached still holds its own resource.
        let mut at = start;
        loop {
            placed[at] = true;
            let from = order[at];
            if from == start {
                break;
            }
            resources.swap(at, from);
            at = from;
        }
    }
}

/// The canonical form of a directory, for telling whether a module calls itself.
fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| normalize(dir))
}

/// A resource block's address within its module: `aws_s3_bucket.b` or `data.aws_iam_policy.p`.
fn local_address(mode: Mode, resource_type: &str, name: &str) -> String {
    match mode {
        Mode::Managed => format!("{resource_type}.{name}"),
        Mode::Data => format!("data.{resource_type}.{name}"),
    }
}

/// Prefixes an address with a module instance path.
fn qualify(module_path: &str, address: &str) -> String {
    if module_path.is_empty() {
        return address.to_string();
    }
    // Built by hand, as every resource and every reference to one in a module instance needs
    // one: `format!` costs several times as much for two pieces and a dot.
    let mut qualified = String::with_capacity(module_path.len() + 1 + address.len());
    qualified.push_str(module_path);
    qualified.push('.');
    qualified.push_str(address);
    qualified
}

/// The arguments of a module call that set its module's variables, each with the variable. An
/// argument the module does not declare is an error, as it is for Terraform, and so is a
/// variable without a default that the call does not set.
fn module_arguments<'a>(
    decl: &'a ModuleCallDecl,
    module: &'a ModuleConfig,
    source: &str,
    file: &SourceFile,
) -> Result<Vec<(&'a Attribute, &'a VariableDecl)>, InputError> {
    let mut arguments = Vec::new();
    for attribute in decl.body.attributes() {
        let name = attribute.key.as_str();
        if MODULE_META_ARGUMENTS.contains(&name) {
            continue;
        }
        match module.variables.iter().find(|v| v.name == name) {
            Some(variable) => arguments.push((attribute, variable)),
            None => {
                let line = file.line(attribute.span()).unwrap_or(decl.line);
                let message = format!(
                    "module \"{}\" sets `{name}`, which its module ({source}) does not declare as \
                     a variable; {}",
                    decl.name,
                    expected_arguments(module)
                );
                return Err(InputError::new(&file.display, message).at_line(line));
            }
        }
    }

    let missing = module.variables.iter().find(|variable| {
        variable.default.is_none()
            && !arguments
                .iter()
                .any(|(_, given)| given.name == variable.name)
    });
    if let Some(variable) = missing {
        let message = format!(
            "module \"{}\" does not set `{}`, which its module ({source}) requires, as the \
             variable has no default; expected an argument `{} = ...`",
            decl.name, variable.name, variable.name
        );
        return Err(InputError::new(&file.display, message).at_line(decl.line));
    }
    Ok(arguments)
}

/// What a module call may set, for an error: a few of the module's variables, in the order
/// declared, or the meta-arguments.
fn expected_arguments(module: &ModuleConfig) -> String {
    const SHOWN: usize = 8;
    let meta = MODULE_META_ARGUMENTS.join(", ");
    let names: Vec<&str> = module
        .variables
        .iter()
        .take(SHOWN)
        .map(|v| v.name.as_str())
        .collect();
    let more = module.variables.len().saturating_sub(SHOWN);
    match (names.is_empty(), more) {
        (true, _) => {
            format!("expected only meta-arguments ({meta}), as the module declares no variables")
        }
        (false, 0) => format!(
            "expected one of its variables ({}) or a meta-argument ({meta})",
            names.join(", ")
        ),
        (false, more) => format!(
            "expected one of its variables ({}, and {more} more) or a meta-argument ({meta})",
            names.join(", ")
        ),
    }
}

/// The values of a module's variables: the caller's arguments, else the defaults, else
/// unknown. A sensitive variable is sensitive whatever it is given.
fn module_variables(
    config: &ModuleConfig,
    mut arguments: HashMap<String, Val>,
    shared: &Shared,
) -> HashMap<String, Val> {
    config
        .variables
        .iter()
        .map(|decl| {
            let value = vars::variable_value(decl, arguments.remove(&decl.name), shared);
            (decl.name.clone(), value)
        })
        .collect()
}

/// The provider configurations a module call hands its module: those its `providers`
/// argument maps, or else (as Terraform does) every default configuration of the caller.
fn child_providers(frame: &Frame, body: &Body) -> HashMap<ProviderKey, ProviderRef> {
    let Some(Expression::Object(mapping)) = body.get_attribute("providers").map(|a| &a.value)
    else {
        return frame
            .providers
            .iter()
            .filter(|((_, alias), _)| alias.is_none())
            .map(|(key, provider)| (key.clone(), provider.clone()))
            .collect();
    };
    let mut providers = HashMap::new();
    for (key, value) in mapping.iter() {
        let child_key = match key {
            ObjectKey::Ident(ident) => {
                Some((original_object_key(ident.as_str()).to_string(), None))
            }
            ObjectKey::Expression(expr) => provider_address(expr),
        };
        let (Some(child_key), Some(parent_key)) = (child_key, provider_address(value.expr()))
        else {
            continue;
        };
        let provider = frame
            .providers
            .get(&parent_key)
            .cloned()
            .unwrap_or_else(|| ProviderRef {
                name: parent_key.0.clone(),
                alias: parent_key.1.clone(),
                region: None,
            });
        providers.insert(child_key, provider);
    }
    providers
}

/// Reads a provider configuration address: `aws` or `aws.eu`.
pub(super) fn provider_address(expr: &Expression) -> Option<ProviderKey> {
    match expr {
        Expression::Variable(name) => Some((name.as_str().to_string(), None)),
        Expression::Traversal(traversal) => {
            let Expression::Variable(name) = &traversal.expr else {
                return None;
            };
            match traversal.operators.as_slice() {
                [op] => match &**op {
                    TraversalOperator::GetAttr(alias) => {
                        Some((name.as_str().to_string(), Some(alias.as_str().to_string())))
                    }
                    _ => None,
                },
                _ => None,
            }
        }
        // Terraform before 0.12 wrote the address as a string.
        Expression::String(text) => {
            let mut parts = text.splitn(2, '.');
            let name = parts.next()?.to_string();
            Some((name, parts.next().map(str::to_string)))
        }
        _ => None,
    }
}

/// The provider configuration a resource is managed through.
fn provider_for(frame: &Frame, decl: &ResourceDecl) -> ProviderRef {
    let configured = decl
        .body
        .get_attribute("provider")
        .and_then(|a| provider_address(&a.value));
    let (name, alias) = match &configured {
        Some((name, alias)) => (name.as_str(), alias.as_deref()),
        None => (
            decl.resource_type.split('_').next().unwrap_or_default(),
            None,
        ),
    };
    // A module instance has a few provider configurations; finding one among them by borrowed
    // names spares building a key for each resource block of each instance.
    let found = frame
        .providers
        .iter()
        .find(|((known_name, known_alias), _)| {
            known_name == name && known_alias.as_deref() == alias
        });
    match found {
        Some((_, provider)) => provider.clone(),
        None => ProviderRef {
            name: name.to_string(),
            alias: alias.map(str::to_string),
            region: None,
        },
    }
}

/// What `count` or `for_each` made of a block.
enum Expansion {
    Single,
    Count(usize),
    /// Keys and `each.value`s.
    ForEach(Vec<(String, Val)>),
    /// Why the instances could not be known: the value depends on something not known before
    /// apply, or is sensitive. Not an error: a reusable module's `for_each` over a variable
    /// with no default is how modules are written, and it still gets one instance scanned.
    Unexpanded(&'static str),
    /// None: the load already made as many instances as it may.
    OverLimit,
}

/// The error for a load that went past one of its limits while evaluating `node`: it names the
/// declaration, so that the user can see which part of the configuration grew so large.
fn limit_error(config: &ModuleConfig, path: &str, node: Node, exceeded: Exceeded) -> InputError {
    let (subject, file, line) = match node {
        Node::Local(i) => {
            let decl = &config.locals[i];
            (format!("local.{}", decl.name), decl.file, decl.line)
        }
        Node::Resource(i) => {
            let decl = &config.resources[i];
            let prefix = if decl.mode == Mode::Data { "data." } else { "" };
            let name = format!("{prefix}{}.{}", decl.resource_type, decl.name);
            (name, decl.file, decl.line)
        }
        Node::Module(i) => {
            let decl = &config.modules[i];
            (format!("module.{}", decl.name), decl.file, decl.line)
        }
        Node::Output(i) => {
            let decl = &config.outputs[i];
            (format!("output.{}", decl.name), decl.file, decl.line)
        }
        Node::Provider(i) => {
            let message = format!(
                "while evaluating provider \"{}\", {}",
                config.providers[i].name,
                exceeded.describe()
            );
            return InputError::new(&config.display_dir, message);
        }
    };
    let message = format!(
        "while evaluating {}, {}",
        qualify(path, &subject),
        exceeded.describe()
    );
    InputError::new(&config.files[file].display, message).at_line(line)
}

/// What `for_each` must be, as its errors say.
const FOR_EACH_EXPECTED: &str = "expected a map, or a set of strings";

/// What an argument whose expression Terraform rejects evaluated to, for its error. (Values
/// past the scanner's limits end the load with their own error; see `meter`.)
const NOT_EVALUATED: &str = "is an expression Terraform rejects";

/// The instances of a `count` value; an error says what is wrong with it, after "`count` ".
fn count_instances(value: &Val) -> Result<Expansion, String> {
    const EXPECTED: &str = "expected a whole number, 0 or more";
    if matches!(value.kind, Kind::Error) {
        return Err(format!("{NOT_EVALUATED}; {EXPECTED}"));
    }
    if value.is_blocked() {
        return Ok(Expansion::Unexpanded("`count` is not known before apply"));
    }
    match value.as_number() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= MAX_INSTANCES as f64 => {
            Ok(Expansion::Count(n as usize))
        }
        Some(n) if n > MAX_INSTANCES as f64 => Err(format!(
            "is {}, more instances than the scanner expands; expected at most {MAX_INSTANCES}",
            super::val::format_number(n)
        )),
        Some(n) => Err(format!("is {}; {EXPECTED}", super::val::format_number(n))),
        None => Err(format!("is {}; {EXPECTED}", kind_name(value))),
    }
}

/// The instances of a `for_each` value: the keys of a map, or the strings of a set. An error
/// says what is wrong with it, after "`for_each` ".
///
/// Lists and sets are one kind of value here, so `["a", "b"]` written out is refused by
/// [`Loader::expand`], and a list built otherwise is taken as the set Terraform would need.
fn for_each_instances(value: &Val) -> Result<Expansion, String> {
    if matches!(value.kind, Kind::Error) {
        return Err(format!("{NOT_EVALUATED}; {FOR_EACH_EXPECTED}"));
    }
    if value.is_blocked() {
        return Ok(Expansion::Unexpanded(
            "`for_each` is not known before apply",
        ));
    }
    let too_many = |len: usize| {
        format!(
            "has {len} elements, more instances than the scanner expands; expected at most \
             {MAX_INSTANCES}"
        )
    };
    if let Some(map) = value.as_map() {
        if map.len() > MAX_INSTANCES {
            return Err(too_many(map.len()));
        }
        return Ok(Expansion::ForEach(
            map.iter()
                .map(|(k, v)| (k.clone(), v.clone().with_refs(&value.refs)))
                .collect(),
        ));
    }
    let Some(items) = value.as_list() else {
        return Err(format!("is {}; {FOR_EACH_EXPECTED}", kind_name(value)));
    };
    if items.len() > MAX_INSTANCES {
        return Err(too_many(items.len()));
    }
    // Terraform makes a set of strings of a set mixing strings with numbers or booleans, but
    // keeps a set of only numbers as numbers, which `for_each` refuses.
    let has_string = items.iter().any(|item| item.as_str().is_some());
    let mut keys: BTreeMap<String, Val> = BTreeMap::new();
    for item in items {
        if item.is_blocked() {
            return Ok(Expansion::Unexpanded(
                "`for_each` is not known before apply",
            ));
        }
        let key = match &item.kind {
            Kind::String(key) => key.to_string(),
            Kind::Number(_) | Kind::Bool(_) if has_string => item.to_text().unwrap_or_default(),
            _ => {
                return Err(format!(
                    "is a set holding {}; {FOR_EACH_EXPECTED}",
                    kind_name(item)
                ))
            }
        };
        keys.insert(
            key.clone(),
            Val::string(key)
                .with_refs(&item.refs)
                .with_refs(&value.refs),
        );
    }
    Ok(Expansion::ForEach(keys.into_iter().collect()))
}

/// A value's kind as an error names it ("a string").
fn kind_name(value: &Val) -> &'static str {
    match value.kind {
        Kind::Null => "null",
        Kind::Bool(_) => "a boolean",
        Kind::Number(_) => "a number",
        Kind::String(_) => "a string",
        Kind::List(_) => "a list",
        Kind::Map(_) => "a map",
        Kind::Unknown | Kind::Sensitive | Kind::AnyOf(_) | Kind::Error => "not known",
    }
}

/// One instance to evaluate: its key and what `each` and `count` are in it.
struct Instance {
    key: Option<InstanceKey>,
    each: Option<(Val, Val)>,
    count_index: Option<Val>,
}

impl Instance {
    fn evaluator<'a>(&self, scope: &'a dyn Scope, shared: &'a Shared) -> Evaluator<'a> {
        let mut ev = Evaluator::new(scope, shared);
        if let Some((key, value)) = &self.each {
            ev = ev.with_each(key.clone(), value.clone());
        }
        if let Some(index) = &self.count_index {
            ev = ev.with_count_index(index.clone());
        }
        ev
    }
}

impl Expansion {
    fn instances(self, shared: &Shared, address: &str) -> (Vec<Instance>, KeyMode) {
        match self {
            Expansion::Single => (
                vec![Instance {
                    key: None,
                    each: None,
                    count_index: None,
                }],
                KeyMode::Single,
            ),
            Expansion::Count(n) => (
                (0..n)
                    .map(|i| Instance {
                        key: Some(InstanceKey::Index(i as i64)),
                        each: None,
                        count_index: Some(Val::number(i as f64)),
                    })
                    .collect(),
                KeyMode::Count,
            ),
            Expansion::ForEach(entries) => (
                entries
                    .into_iter()
                    .map(|(key, value)| Instance {
                        each: Some((Val::string(key.as_str()), value)),
                        key: Some(InstanceKey::Key(key)),
                        count_index: None,
                    })
                    .collect(),
                KeyMode::ForEach,
            ),
            // The load fails once this block is done (see `Loader::run_frame`).
            Expansion::OverLimit => (Vec::new(), KeyMode::Unexpanded),
            Expansion::Unexpanded(why) => {
                shared.note(format!(
                    "{address}: {why}; scanned as a single instance without a key"
                ));
                (
                    vec![Instance {
                        key: None,
                        each: Some((Val::unknown(), Val::unknown())),
                        count_index: Some(Val::unknown()),
                    }],
                    KeyMode::Unexpanded,
                )
            }
        }
    }
}

/// The value other expressions see for a block's instances: the object itself, a list by
/// index, a map by key; unknown when the instances could not be known.
fn collect_instances(instances: Vec<(Option<InstanceKey>, Val)>, keys: KeyMode) -> Val {
    match keys {
        KeyMode::Single => instances
            .into_iter()
            .next()
            .map_or_else(Val::unknown, |(_, value)| value),
        KeyMode::Count => Val::list(instances.into_iter().map(|(_, value)| value).collect()),
        KeyMode::ForEach => Val::map(
            instances
                .into_iter()
                .filter_map(|(key, value)| match key {
                    Some(InstanceKey::Key(key)) => Some((key, value)),
                    _ => None,
                })
                .collect(),
        ),
        KeyMode::Unexpanded | KeyMode::Undeclared => {
            let all = Val::list(instances.into_iter().map(|(_, value)| value).collect());
            Val::unknown().with_refs(&all.deep_refs())
        }
    }
}

/// The instances of a resource block evaluated in a module instance.
struct EvaluatedResource {
    /// Each instance's key and configured values.
    instances: Vec<(Option<InstanceKey>, Val)>,
    keys: KeyMode,
    /// The value other expressions see, made when one first refers to the block: most blocks
    /// are referred to by none.
    view: OnceCell<Val>,
}

impl EvaluatedResource {
    fn view(&self) -> &Val {
        self.view.get_or_init(|| {
            let views = self
                .instances
                .iter()
                .map(|(key, value)| (key.clone(), value.resource_view()))
                .collect();
            collect_instances(views, self.keys)
        })
    }
}

/// What evaluating a module needs besides its configuration, the same for every instance.
struct ModulePlan {
    /// The declarations in the order they are evaluated.
    order: Vec<Node>,
    local_names: HashSet<String>,
    /// By resource type, the blocks of that type: whether a data source, the name, and the
    /// declaration index. Looked up by borrowed names, so that a reference allocates no key.
    resources_by_type: HashMap<String, Vec<(bool, String, usize)>>,
    /// By declaration index, each resource block's address within the module.
    local_addresses: Vec<String>,
    module_names: HashSet<String>,
}

impl ModulePlan {
    fn new(config: &ModuleConfig, order: Vec<Node>) -> ModulePlan {
        let mut resources_by_type: HashMap<String, Vec<(bool, String, usize)>> = HashMap::new();
        for (index, decl) in config.resources.iter().enumerate() {
            resources_by_type
                .entry(decl.resource_type.clone())
                .or_default()
                .push((decl.mode == Mode::Data, decl.name.clone(), index));
        }
        ModulePlan {
            order,
            local_names: config.locals.iter().map(|l| l.name.clone()).collect(),
            resources_by_type,
            local_addresses: config
                .resources
                .iter()
                .map(|r| local_address(r.mode, &r.resource_type, &r.name))
                .collect(),
            module_names: config.modules.iter().map(|m| m.name.clone()).collect(),
        }
    }

    /// The declaration index of a resource block, when this module declares it.
    fn resource_index(&self, mode: Mode, resource_type: &str, name: &str) -> Option<usize> {
        let data = mode == Mode::Data;
        self.resources_by_type
            .get(resource_type)?
            .iter()
            .find(|(is_data, block_name, _)| *is_data == data && block_name == name)
            .map(|(_, _, index)| *index)
    }
}

/// One module instance being evaluated: the scope its expressions see.
struct Frame {
    config: Rc<ModuleConfig>,
    /// The module instance path, e.g. `module.a["x"]`; empty for the root.
    path: String,
    /// The module call names from the root, for the manifest key (`vpc.subnets`).
    call_names: Vec<String>,
    /// The directories of this module and those calling it.
    ancestors: Vec<PathBuf>,
    plan: Rc<ModulePlan>,
    variables: HashMap<String, Val>,
    locals: HashMap<String, Val>,
    /// By declaration index, the resource blocks evaluated so far.
    resources: Vec<Option<EvaluatedResource>>,
    modules: HashMap<String, Val>,
    providers: HashMap<ProviderKey, ProviderRef>,
    outputs: BTreeMap<String, Val>,
    root_display: Rc<str>,
    cwd: Rc<str>,
}

impl Frame {
    #[allow(clippy::too_many_arguments)]
    fn new(
        config: Rc<ModuleConfig>,
        plan: Rc<ModulePlan>,
        path: String,
        call_names: Vec<String>,
        ancestors: Vec<PathBuf>,
        variables: HashMap<String, Val>,
        providers: HashMap<ProviderKey, ProviderRef>,
        root_display: Rc<str>,
        cwd: Rc<str>,
    ) -> Frame {
        let config_resources = config.resources.len();
        Frame {
            config,
            plan,
            path,
            call_names,
            ancestors,
            variables,
            locals: HashMap::new(),
            resources: std::iter::repeat_with(|| None)
                .take(config_resources)
                .collect(),
            modules: HashMap::new(),
            providers,
            outputs: BTreeMap::new(),
            root_display,
            cwd,
        }
    }
}

impl Scope for Frame {
    fn variable(&self, name: &str) -> Option<Val> {
        self.variables.get(name).cloned()
    }

    fn local(&self, name: &str) -> Option<Val> {
        match self.locals.get(name) {
            Some(value) => Some(value.clone()),
            None => self.plan.local_names.contains(name).then(Val::unknown),
        }
    }

    fn module(&self, name: &str) -> Option<Val> {
        match self.modules.get(name) {
            Some(value) => Some(value.clone()),
            None => self.plan.module_names.contains(name).then(Val::unknown),
        }
    }

    fn resource(&self, mode: Mode, resource_type: &str, name: &str) -> ResourceTarget {
        let declared = self.plan.resource_index(mode, resource_type, name);
        let address = match declared {
            Some(i) => qualify(&self.path, &self.plan.local_addresses[i]),
            None => qualify(&self.path, &local_address(mode, resource_type, name)),
        };
        if let Some(evaluated) = declared.and_then(|i| self.resources[i].as_ref()) {
            return ResourceTarget {
                address,
                value: evaluated.view().clone(),
                keys: evaluated.keys,
            };
        }
        let keys = if declared.is_some() {
            KeyMode::Unexpanded
        } else {
            KeyMode::Undeclared
        };
        ResourceTarget {
            address,
            value: Val::unknown(),
            keys,
        }
    }

    fn path(&self, which: &str) -> Option<Val> {
        let text = match which {
            "module" => self.config.display_dir.display().to_string(),
            "root" => self.root_display.to_string(),
            "cwd" => self.cwd.to_string(),
            _ => return None,
        };
        Some(Val::string(if text.is_empty() {
            ".".to_string()
        } else {
            text
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn resources_sort_by_place_keeping_the_order_of_instances() {
        // Places in a scrambled order, with instances of one block (same place) spread out and
        // resources without a place among them: long permutation cycles, and fixed points.
        let places: Vec<Option<(&str, u32)>> = (0..60)
            .map(|n: u32| match (n * 37) % 11 {
                0 => None,
                k => Some((["b.tf", "a.tf", "./c.tf"][(k % 3) as usize], k * 7 % 5)),
            })
            .collect();
        let mut resources: Vec<Resource> = places
            .iter()
            .enumerate()
            .map(|(n, place)| {
                let mut resource = Resource::new("aws_s3_bucket", &format!("r{n}"), Value::Null);
                resource.location = place.map(|(file, line)| Location {
                    file: PathBuf::from(file),
                    line,
                });
                resource
            })
            .collect();
        let mut expected: Vec<(Option<Location>, String)> = resources
            .iter()
            .map(|r| (r.location.clone(), r.name.clone()))
            .collect();
        // Stable: resources at one place keep the order they were made in.
        expected.sort_by(|a, b| a.0.cmp(&b.0));

        sort_by_location(&mut resources);
        let sorted: Vec<(Option<Location>, String)> = resources
            .iter()
            .map(|r| (r.location.clone(), r.name.clone()))
            .collect();
        assert_eq!(sorted, expected);
    }
}
