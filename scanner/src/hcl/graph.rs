//! The order in which a module's declarations are evaluated, and the reference cycles that
//! Terraform refuses.
//!
//! Evaluation takes whole declarations in turn: a provider configuration, a local, a resource
//! block, a module call, an output ([`Graph`]). Terraform looks closer: it splits a module call
//! into its expansion (`count`, `for_each`, `depends_on`), each argument and each output, and
//! an output of the called module waits only for the arguments it reads. So a call whose
//! argument reads one of the call's own outputs is valid when that output does not read the
//! argument back. Whenever the order of whole declarations finds one that seems to depend on
//! itself, the finer graph ([`Detail`]) tells whether Terraform would refuse the
//! configuration. When it would not, the declarations are evaluated in the order the coarse
//! graph leaves them, and what one of them cannot get yet reads as unknown: a known
//! shortcoming, where Terraform would know the value.

use super::config::ModuleConfig;
use super::module::{provider_address, MODULE_META_ARGUMENTS};
use super::refs::{self, attribute_name, Mention};
use crate::error::InputError;
use crate::model::Mode;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::{Decorated, Span};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// A declaration to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    Provider(usize),
    Local(usize),
    Resource(usize),
    Module(usize),
    Output(usize),
}

/// A name an expression mentions.
enum Dep {
    Variable(String),
    Local(String),
    /// A module call, and the output read from it when one is named.
    Module(String, Option<String>),
    Resource(Mode, String, String),
}

/// What a mention refers to, when it is a declaration of the module.
fn dep_of(root: &str, operators: &[Decorated<TraversalOperator>]) -> Option<Dep> {
    let mut names = operators.iter().map(|op| attribute_name(op));
    let first = names.next().flatten().map(str::to_string);
    match (root, first) {
        ("var", Some(name)) => Some(Dep::Variable(name)),
        ("local", Some(name)) => Some(Dep::Local(name)),
        ("module", Some(name)) => {
            // `module.m.o`, `module.m[0].o`, `module.m[*].o`: the first attribute after the
            // call's name (and any index or splat) is the output.
            let output = operators
                .iter()
                .skip(1)
                .find_map(|op| attribute_name(op))
                .map(str::to_string);
            Some(Dep::Module(name, output))
        }
        ("data", Some(resource_type)) => {
            let name = names.next().flatten()?.to_string();
            Some(Dep::Resource(Mode::Data, resource_type, name))
        }
        ("each" | "count" | "path" | "terraform" | "self", _) => None,
        (resource_type, Some(name)) => Some(Dep::Resource(
            Mode::Managed,
            resource_type.to_string(),
            name,
        )),
        _ => None,
    }
}

/// Adds what a mention refers to, if anything, to `deps`.
fn collect(deps: &mut Vec<Dep>) -> impl FnMut(Mention<'_>) + '_ {
    |mention| {
        if let Mention::Reference {
            root, operators, ..
        } = mention
        {
            deps.extend(dep_of(root, operators));
        }
    }
}

fn deps_in_expr(expr: &Expression) -> Vec<Dep> {
    let mut deps = Vec::new();
    refs::in_expr(expr, &mut collect(&mut deps));
    deps
}

fn deps_in_body(body: &Body) -> Vec<Dep> {
    let mut deps = Vec::new();
    refs::in_body(body, &mut collect(&mut deps));
    deps
}

/// The names the declarations of a module are found by, each to its index in a graph.
#[derive(Default)]
struct Names<'c> {
    variables: HashMap<&'c str, usize>,
    locals: HashMap<&'c str, usize>,
    resources: HashMap<(bool, &'c str, &'c str), usize>,
    providers: HashMap<(&'c str, Option<&'c str>), usize>,
    /// A module call: its expansion, and its outputs by name.
    modules: HashMap<&'c str, (usize, HashMap<&'c str, usize>)>,
}

impl Names<'_> {
    /// The declarations a name refers to: none for a name the module does not declare.
    fn targets(&self, dep: &Dep, found: &mut Vec<usize>) {
        let single = match dep {
            Dep::Variable(name) => self.variables.get(name.as_str()),
            Dep::Local(name) => self.locals.get(name.as_str()),
            Dep::Resource(mode, resource_type, name) => {
                self.resources
                    .get(&(*mode == Mode::Data, resource_type.as_str(), name.as_str()))
            }
            Dep::Module(name, output) => {
                let Some((call, outputs)) = self.modules.get(name.as_str()) else {
                    return;
                };
                match output.as_deref().and_then(|o| outputs.get(o)) {
                    Some(output) => found.push(*output),
                    // The whole object of the call, or an output not known to be there.
                    None if output.is_none() => {
                        found.push(*call);
                        found.extend(outputs.values());
                    }
                    None => found.push(*call),
                }
                return;
            }
        };
        found.extend(single);
    }

    /// The provider configuration a resource is managed through, when the module has it.
    fn provider_of(&self, config: &ModuleConfig, resource: usize) -> Option<usize> {
        let decl = &config.resources[resource];
        let (name, alias) = decl
            .body
            .get_attribute("provider")
            .and_then(|a| provider_address(&a.value))
            .unwrap_or_else(|| {
                let prefix = decl.resource_type.split('_').next().unwrap_or_default();
                (prefix.to_string(), None)
            });
        self.providers
            .get(&(name.as_str(), alias.as_deref()))
            .copied()
    }
}

/// The declarations of a module and which ones each depends on.
pub(crate) struct Graph {
    nodes: Vec<Node>,
    /// For each node, the nodes that depend on it.
    dependents: Vec<Vec<usize>>,
    /// For each node, how many nodes it depends on.
    pending: Vec<usize>,
    /// Whether some declaration refers to itself.
    refers_to_itself: bool,
}

impl Graph {
    pub fn build(config: &ModuleConfig) -> Graph {
        let mut nodes = Vec::new();
        nodes.extend((0..config.providers.len()).map(Node::Provider));
        nodes.extend((0..config.locals.len()).map(Node::Local));
        nodes.extend((0..config.resources.len()).map(Node::Resource));
        nodes.extend((0..config.modules.len()).map(Node::Module));
        nodes.extend((0..config.outputs.len()).map(Node::Output));
        let index_of: HashMap<Node, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (*node, i))
            .collect();

        let mut names = Names::default();
        for (i, local) in config.locals.iter().enumerate() {
            names
                .locals
                .insert(local.name.as_str(), index_of[&Node::Local(i)]);
        }
        for (i, call) in config.modules.iter().enumerate() {
            let node = index_of[&Node::Module(i)];
            names
                .modules
                .insert(call.name.as_str(), (node, HashMap::new()));
        }
        for (i, r) in config.resources.iter().enumerate() {
            let key = (
                r.mode == Mode::Data,
                r.resource_type.as_str(),
                r.name.as_str(),
            );
            names.resources.insert(key, index_of[&Node::Resource(i)]);
        }
        for (i, p) in config.providers.iter().enumerate() {
            let key = (p.name.as_str(), p.alias.as_deref());
            names.providers.insert(key, index_of[&Node::Provider(i)]);
        }
        let all_providers: Vec<usize> = names.providers.values().copied().collect();

        let mut dependents = vec![Vec::new(); nodes.len()];
        let mut pending = vec![0; nodes.len()];
        let mut refers_to_itself = false;
        for (i, node) in nodes.iter().enumerate() {
            let mut depends_on: Vec<usize> = Vec::new();
            let deps = match *node {
                Node::Provider(p) => deps_in_body(&config.providers[p].body),
                Node::Local(l) => deps_in_expr(&config.locals[l].value),
                Node::Resource(r) => {
                    depends_on.extend(names.provider_of(config, r));
                    deps_in_body(&config.resources[r].body)
                }
                Node::Module(m) => {
                    // A module may use any provider configuration of its caller.
                    depends_on.extend(&all_providers);
                    deps_in_body(&config.modules[m].body)
                }
                Node::Output(o) => config.outputs[o]
                    .value
                    .as_ref()
                    .map(deps_in_expr)
                    .unwrap_or_default(),
            };
            for dep in &deps {
                names.targets(dep, &mut depends_on);
            }
            depends_on.sort_unstable();
            depends_on.dedup();
            for target in depends_on {
                if target == i {
                    refers_to_itself = true;
                } else {
                    dependents[target].push(i);
                    pending[i] += 1;
                }
            }
        }
        Graph {
            nodes,
            dependents,
            pending,
            refers_to_itself,
        }
    }

    /// The nodes in an order where each comes after what it depends on; nodes caught in a
    /// cycle come last, in declaration order. The flag tells whether there may be a cycle:
    /// some nodes were caught in one, or some node refers to itself.
    pub fn order(mut self) -> (Vec<Node>, bool) {
        let mut ready: VecDeque<usize> = (0..self.nodes.len())
            .filter(|&i| self.pending[i] == 0)
            .collect();
        let mut done = vec![false; self.nodes.len()];
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some(i) = ready.pop_front() {
            done[i] = true;
            order.push(self.nodes[i]);
            for &dependent in &self.dependents[i] {
                self.pending[dependent] -= 1;
                if self.pending[dependent] == 0 {
                    ready.push_back(dependent);
                }
            }
        }
        let caught = order.len() < self.nodes.len();
        order.extend(
            (0..self.nodes.len())
                .filter(|&i| !done[i])
                .map(|i| self.nodes[i]),
        );
        (order, caught || self.refers_to_itself)
    }
}

/// For each output of a module, the variables of the module its value depends on.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    outputs: Vec<(String, Vec<String>)>,
}

/// One part of a module in the finer graph.
#[derive(Debug, Clone, Copy)]
enum Part {
    Provider(usize),
    Local(usize),
    Resource(usize),
    Output(usize),
    Variable(usize),
    /// A module call's expansion: its `count`, `for_each` and `depends_on`.
    Call(usize),
    /// An argument of a module call: the call, and the argument's name and line.
    Argument(usize, usize),
    /// An output of a called module: the call, and the output's index in its summary.
    CallOutput(usize, usize),
}

/// The parts of a module as Terraform orders them, each with the parts it depends on.
pub(crate) struct Detail<'c> {
    config: &'c ModuleConfig,
    parts: Vec<Part>,
    /// For each part, the parts it depends on, sorted and once each.
    needs: Vec<Vec<usize>>,
    /// For each module call, the index of its expansion part; its argument parts follow it.
    calls: Vec<usize>,
    /// For each module call, its arguments: name and line.
    arguments: Vec<Vec<(&'c str, u32)>>,
    /// For each module call, what is known of the module it calls.
    called: Vec<Option<Rc<Summary>>>,
}

impl<'c> Detail<'c> {
    /// The finer graph of a module; `called` is, for each module call, the summary of the
    /// module it calls when that module could be read.
    pub fn build(config: &'c ModuleConfig, called: &[Option<Rc<Summary>>]) -> Detail<'c> {
        let mut parts = Vec::new();
        parts.extend((0..config.providers.len()).map(Part::Provider));
        parts.extend((0..config.locals.len()).map(Part::Local));
        parts.extend((0..config.resources.len()).map(Part::Resource));
        parts.extend((0..config.outputs.len()).map(Part::Output));
        parts.extend((0..config.variables.len()).map(Part::Variable));

        let mut names = Names::default();
        for (index, part) in parts.iter().enumerate() {
            match *part {
                Part::Provider(p) => {
                    let decl = &config.providers[p];
                    let key = (decl.name.as_str(), decl.alias.as_deref());
                    names.providers.insert(key, index);
                }
                Part::Local(l) => {
                    names.locals.insert(config.locals[l].name.as_str(), index);
                }
                Part::Resource(r) => {
                    let decl = &config.resources[r];
                    let key = (
                        decl.mode == Mode::Data,
                        decl.resource_type.as_str(),
                        decl.name.as_str(),
                    );
                    names.resources.insert(key, index);
                }
                Part::Variable(v) => {
                    names
                        .variables
                        .insert(config.variables[v].name.as_str(), index);
                }
                _ => {}
            }
        }

        let mut calls = Vec::with_capacity(config.modules.len());
        let mut arguments = Vec::with_capacity(config.modules.len());
        for (m, call) in config.modules.iter().enumerate() {
            let file = &config.files[call.file];
            let given: Vec<(&str, u32)> = call
                .body
                .attributes()
                .filter(|a| !MODULE_META_ARGUMENTS.contains(&a.key.as_str()))
                .map(|a| (a.key.as_str(), file.line(a.span()).unwrap_or(call.line)))
                .collect();
            let expansion = parts.len();
            calls.push(expansion);
            parts.push(Part::Call(m));
            parts.extend((0..given.len()).map(|a| Part::Argument(m, a)));
            let mut outputs = HashMap::new();
            if let Some(Some(summary)) = called.get(m) {
                for (o, (name, _)) in summary.outputs.iter().enumerate() {
                    outputs.insert(name.as_str(), parts.len());
                    parts.push(Part::CallOutput(m, o));
                }
            }
            names
                .modules
                .insert(call.name.as_str(), (expansion, outputs));
            arguments.push(given);
        }

        let mut detail = Detail {
            config,
            needs: Vec::with_capacity(parts.len()),
            parts,
            calls,
            arguments,
            called: called.to_vec(),
        };
        for index in 0..detail.parts.len() {
            let needs = detail.needs_of(index, &names);
            detail.needs.push(needs);
        }
        detail
    }

    /// The parts one part depends on.
    fn needs_of(&self, index: usize, names: &Names) -> Vec<usize> {
        let config = self.config;
        let mut needs = Vec::new();
        let mut deps = Vec::new();
        match self.parts[index] {
            Part::Provider(p) => deps = deps_in_body(&config.providers[p].body),
            Part::Local(l) => deps = deps_in_expr(&config.locals[l].value),
            Part::Output(o) => {
                if let Some(value) = &config.outputs[o].value {
                    deps = deps_in_expr(value);
                }
            }
            Part::Variable(_) => {}
            Part::Resource(r) => {
                needs.extend(names.provider_of(config, r));
                let (own, provisioning) = resource_deps(&config.resources[r].body);
                deps = own;
                // A provisioner or connection may name its own resource: it runs once the
                // resource exists.
                let mut from_provisioning = Vec::new();
                for dep in &provisioning {
                    names.targets(dep, &mut from_provisioning);
                }
                needs.extend(from_provisioning.into_iter().filter(|&t| t != index));
            }
            Part::Call(m) => {
                let body = &config.modules[m].body;
                for name in ["count", "for_each", "depends_on"] {
                    if let Some(attribute) = body.get_attribute(name) {
                        deps.extend(deps_in_expr(&attribute.value));
                    }
                }
            }
            Part::Argument(m, a) => {
                needs.push(self.call_part(m));
                let name = self.arguments[m][a].0;
                if let Some(attribute) = config.modules[m].body.get_attribute(name) {
                    deps = deps_in_expr(&attribute.value);
                }
            }
            Part::CallOutput(m, o) => {
                needs.push(self.call_part(m));
                if let Some(Some(summary)) = self.called.get(m) {
                    for variable in &summary.outputs[o].1 {
                        let argument = self.arguments[m]
                            .iter()
                            .position(|(name, _)| name == variable);
                        if let Some(a) = argument {
                            needs.push(self.call_part(m) + 1 + a);
                        }
                    }
                }
            }
        }
        for dep in &deps {
            names.targets(dep, &mut needs);
        }
        needs.sort_unstable();
        needs.dedup();
        needs
    }

    /// The index of a module call's expansion part; its arguments follow it.
    fn call_part(&self, call: usize) -> usize {
        self.calls[call]
    }

    /// What the module tells its callers: for each output, the variables it reads.
    pub fn summary(&self) -> Summary {
        let mut outputs = Vec::new();
        let mut seen = vec![usize::MAX; self.parts.len()];
        for (start, part) in self.parts.iter().enumerate() {
            let Part::Output(o) = *part else {
                continue;
            };
            let mut variables = Vec::new();
            let mut stack = vec![start];
            seen[start] = start;
            while let Some(index) = stack.pop() {
                if let Part::Variable(v) = self.parts[index] {
                    variables.push(self.config.variables[v].name.clone());
                }
                for &need in &self.needs[index] {
                    if seen[need] != start {
                        seen[need] = start;
                        stack.push(need);
                    }
                }
            }
            variables.sort();
            outputs.push((self.config.outputs[o].name.clone(), variables));
        }
        Summary { outputs }
    }

    /// The error for the first cycle of references, by where its parts are declared; `None`
    /// when there is none.
    pub fn cycle_error(&self) -> Option<InputError> {
        let cycle = self.cycle()?;
        let names: Vec<String> = cycle.iter().map(|&i| self.name(i)).collect();
        let (file, line) = self.place(cycle[0]);
        let message = format!(
            "{} depends on itself: {}; expected declarations that do not depend on themselves",
            names[0],
            names.join(" -> ")
        );
        Some(InputError::new(&self.config.files[file].display, message).at_line(line))
    }

    /// A shortest cycle through its earliest declared part, that part first and last.
    fn cycle(&self) -> Option<Vec<usize>> {
        let count = self.parts.len();
        let mut dependents = vec![Vec::new(); count];
        let mut pending: Vec<usize> = self.needs.iter().map(Vec::len).collect();
        for (index, needs) in self.needs.iter().enumerate() {
            for &need in needs {
                dependents[need].push(index);
            }
        }
        let mut ready: Vec<usize> = (0..count).filter(|&i| pending[i] == 0).collect();
        let mut done = vec![false; count];
        while let Some(index) = ready.pop() {
            done[index] = true;
            for &dependent in &dependents[index] {
                pending[dependent] -= 1;
                if pending[dependent] == 0 {
                    ready.push(dependent);
                }
            }
        }
        let caught: Vec<usize> = (0..count).filter(|&i| !done[i]).collect();
        let &first = caught.first()?;

        // Every part left waits for another part left, so following what they wait for comes
        // back to a part already passed: that part is on a cycle.
        let mut passed = vec![false; count];
        let mut at = first;
        while !passed[at] {
            passed[at] = true;
            at = self.needs[at]
                .iter()
                .copied()
                .find(|&need| !done[need])
                .unwrap_or(at);
        }
        let mut on_cycle = vec![at];
        let mut next = self.needs[at].iter().copied().find(|&n| !done[n])?;
        while next != at {
            on_cycle.push(next);
            next = self.needs[next].iter().copied().find(|&n| !done[n])?;
        }
        let start = on_cycle
            .into_iter()
            .min_by_key(|&i| (self.place(i), i))
            .unwrap_or(at);
        Some(self.shortest_cycle(start, &done))
    }

    /// The shortest path from `start` back to itself through parts not `done`.
    fn shortest_cycle(&self, start: usize, done: &[bool]) -> Vec<usize> {
        let mut came_from = vec![usize::MAX; self.parts.len()];
        let mut queue = VecDeque::from([start]);
        while let Some(index) = queue.pop_front() {
            for &need in &self.needs[index] {
                if done[need] {
                    continue;
                }
                if need == start {
                    let mut path = vec![start];
                    let mut at = index;
                    while at != start {
                        path.push(at);
                        at = came_from[at];
                    }
                    path.push(start);
                    let last = path.len() - 1;
                    path[1..last].reverse();
                    return path;
                }
                if came_from[need] == usize::MAX {
                    came_from[need] = index;
                    queue.push_back(need);
                }
            }
        }
        vec![start, start]
    }

    /// How a part is named in an error: as Terraform names it.
    fn name(&self, index: usize) -> String {
        let config = self.config;
        match self.parts[index] {
            Part::Provider(p) => {
                let decl = &config.providers[p];
                match &decl.alias {
                    Some(alias) => format!("provider.{}.{alias}", decl.name),
                    None => format!("provider.{}", decl.name),
                }
            }
            Part::Local(l) => format!("local.{}", config.locals[l].name),
            Part::Resource(r) => {
                let decl = &config.resources[r];
                let prefix = if decl.mode == Mode::Data { "data." } else { "" };
                format!("{prefix}{}.{}", decl.resource_type, decl.name)
            }
            Part::Output(o) => format!("output.{}", config.outputs[o].name),
            Part::Variable(v) => format!("var.{}", config.variables[v].name),
            Part::Call(m) => format!("module.{}", config.modules[m].name),
            Part::Argument(m, a) => {
                format!(
                    "module.{}.var.{}",
                    config.modules[m].name, self.arguments[m][a].0
                )
            }
            Part::CallOutput(m, o) => {
                let output = self.called[m]
                    .as_ref()
                    .map_or("", |summary| summary.outputs[o].0.as_str());
                format!("module.{}.output.{output}", config.modules[m].name)
            }
        }
    }

    /// Where a part is declared: file index and line.
    fn place(&self, index: usize) -> (usize, u32) {
        let config = self.config;
        match self.parts[index] {
            Part::Provider(p) => (config.providers[p].file, config.providers[p].line),
            Part::Local(l) => (config.locals[l].file, config.locals[l].line),
            Part::Resource(r) => (config.resources[r].file, config.resources[r].line),
            Part::Output(o) => (config.outputs[o].file, config.outputs[o].line),
            Part::Variable(v) => (config.variables[v].file, config.variables[v].line),
            Part::Call(m) | Part::CallOutput(m, _) => {
                (config.modules[m].file, config.modules[m].line)
            }
            Part::Argument(m, a) => (config.modules[m].file, self.arguments[m][a].1),
        }
    }
}

/// What a resource body refers to: through its arguments and blocks, and through its
/// provisioners and connection. `lifecycle`'s `ignore_changes` names attributes of the
/// resource itself, not other declarations.
fn resource_deps(body: &Body) -> (Vec<Dep>, Vec<Dep>) {
    let mut own = Vec::new();
    let mut provisioning = Vec::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                refs::in_expr(&attribute.value, &mut collect(&mut own));
            }
            Structure::Block(block) => match block.ident.as_str() {
                "provisioner" | "connection" => {
                    refs::in_block(block, &mut collect(&mut provisioning));
                }
                "lifecycle" => {
                    for attribute in block.body.attributes() {
                        if attribute.key.as_str() != "ignore_changes" {
                            refs::in_expr(&attribute.value, &mut collect(&mut own));
                        }
                    }
                    for nested in block.body.blocks() {
                        refs::in_block(nested, &mut collect(&mut own));
                    }
                }
                _ => refs::in_block(block, &mut collect(&mut own)),
            },
        }
    }
    (own, provisioning)
}
