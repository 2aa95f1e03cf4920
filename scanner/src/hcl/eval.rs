//! The expression evaluator: turns an HCL expression into the value Terraform would know at plan
//! time, and records which resources the value was computed from.
//!
//! What cannot be known statically is `Unknown`, never guessed: unset variables, attributes a
//! resource computes, functions not implemented here. A condition that cannot be decided yields
//! a choice between both branches. An expression Terraform would reject is an `Error` value, so
//! that `try` and `can` behave; the rules see it as unknown.

use super::functions;
use super::meter::{self, Exceeded};
use super::source::{is_number_too_large, original_object_key};
use super::val::{Kind, Refs, Val, MAX_CHOICES, MAX_STRING_BYTES};
use crate::model::{InstanceKey, Mode, Reference};
use hcl_edit::expr::{
    BinaryOp, BinaryOperator, Conditional, Expression, ForExpr, FuncCall, Object, ObjectKey,
    Traversal, TraversalOperator, UnaryOp, UnaryOperator,
};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Decorated;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// How deeply evaluation may recurse. The parser already limits nesting to 64 levels; this is a
/// second guard so that no input can exhaust the stack.
const MAX_EVAL_DEPTH: u32 = 512;

/// State shared by every evaluation of one load: the step budget, the instances left and the
/// notes for the user. The other limits of a load are kept by [`meter`], which a new `Shared`
/// starts afresh.
pub(crate) struct Shared {
    steps_left: Cell<u64>,
    /// How many more resource and module instances `count` and `for_each` may make.
    instances_left: Cell<usize>,
    notes: RefCell<BTreeSet<String>>,
}

impl Shared {
    pub fn new(budget: u64) -> Shared {
        meter::start();
        Shared {
            steps_left: Cell::new(budget),
            instances_left: Cell::new(meter::MAX_TOTAL_INSTANCES),
            notes: RefCell::new(BTreeSet::new()),
        }
    }

    /// Adds a note for the user; the same note is kept once.
    pub fn note(&self, text: impl Into<String>) {
        self.notes.borrow_mut().insert(text.into());
    }

    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.borrow_mut())
            .into_iter()
            .collect()
    }

    /// Takes `count` instances from what one load may make; false, taking none and recording
    /// the limit as passed, when fewer are left.
    pub fn take_instances(&self, count: usize) -> bool {
        let left = self.instances_left.get();
        if count > left {
            meter::trip(Exceeded::Instances);
            return false;
        }
        self.instances_left.set(left - count);
        true
    }

    /// Spends one step; false once the budget is gone or the load went past another of its
    /// limits, so that evaluation winds down at once.
    pub fn step(&self) -> bool {
        let left = self.steps_left.get();
        if left == 0 {
            meter::trip(Exceeded::Steps);
            return false;
        }
        if meter::exceeded().is_some() {
            return false;
        }
        self.steps_left.set(left - 1);
        true
    }
}

/// How the instances of a referenced resource are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMode {
    /// No `count` or `for_each`: one instance, no key.
    Single,
    Count,
    ForEach,
    /// `count` or `for_each` could not be known, so neither can the instances.
    Unexpanded,
    /// Not declared in this module (a policy file naming resources of the scanned code).
    Undeclared,
}

/// A resource as an expression referring to it sees it.
pub(crate) struct ResourceTarget {
    /// Its address without instance key, module path included.
    pub address: String,
    /// Its configured values (an object, or a list or map of objects), without references.
    pub value: Val,
    pub keys: KeyMode,
}

/// The names an expression can refer to.
pub(crate) trait Scope {
    fn variable(&self, name: &str) -> Option<Val>;
    fn local(&self, name: &str) -> Option<Val>;
    fn module(&self, name: &str) -> Option<Val>;
    fn resource(&self, mode: Mode, resource_type: &str, name: &str) -> ResourceTarget;
    /// `path.module`, `path.root`, `path.cwd`.
    fn path(&self, which: &str) -> Option<Val>;
}

/// The scope of `.tfvars` files, `--var` values and variable defaults: no names at all.
pub(crate) struct EmptyScope;

impl Scope for EmptyScope {
    fn variable(&self, _: &str) -> Option<Val> {
        None
    }

    fn local(&self, _: &str) -> Option<Val> {
        None
    }

    fn module(&self, _: &str) -> Option<Val> {
        None
    }

    fn resource(&self, _: Mode, resource_type: &str, name: &str) -> ResourceTarget {
        ResourceTarget {
            address: format!("{resource_type}.{name}"),
            value: Val::error(),
            keys: KeyMode::Single,
        }
    }

    fn path(&self, _: &str) -> Option<Val> {
        None
    }
}

type Operators = [Decorated<TraversalOperator>];

/// Evaluates expressions in one scope, with the `each` and `count` of one instance.
pub(crate) struct Evaluator<'a> {
    scope: &'a dyn Scope,
    shared: &'a Shared,
    each: Option<(Val, Val)>,
    count_index: Option<Val>,
    /// Names bound by `for` expressions and `dynamic` block iterators, innermost last.
    bindings: Vec<(String, Val)>,
    depth: u32,
}

impl<'a> Evaluator<'a> {
    pub fn new(scope: &'a dyn Scope, shared: &'a Shared) -> Evaluator<'a> {
        Evaluator {
            scope,
            shared,
            each: None,
            count_index: None,
            bindings: Vec::new(),
            depth: 0,
        }
    }

    /// Binds `each.key` and `each.value`.
    pub fn with_each(mut self, key: Val, value: Val) -> Evaluator<'a> {
        self.each = Some((key, value));
        self
    }

    /// Binds `count.index`.
    pub fn with_count_index(mut self, index: Val) -> Evaluator<'a> {
        self.count_index = Some(index);
        self
    }

    pub fn bind(&mut self, name: &str, value: Val) {
        self.bindings.push((name.to_string(), value));
    }

    pub fn unbind(&mut self) {
        self.bindings.pop();
    }

    fn binding(&self, name: &str) -> Option<Val> {
        self.bindings
            .iter()
            .rev()
            .find(|(bound, _)| bound == name)
            .map(|(_, value)| value.clone())
    }

    pub fn eval(&mut self, expr: &Expression) -> Val {
        if self.depth >= MAX_EVAL_DEPTH || !self.shared.step() {
            return Val::unknown();
        }
        self.depth += 1;
        let value = self.eval_expr(expr);
        self.depth -= 1;
        value
    }

    fn eval_expr(&mut self, expr: &Expression) -> Val {
        match expr {
            Expression::Null(_) => Val::null(),
            Expression::Bool(b) => Val::bool(**b),
            Expression::Number(n) => n.as_f64().map_or_else(Val::error, Val::number),
            Expression::String(s) => Val::string(s.as_str()),
            Expression::Array(items) => Val::list(items.iter().map(|e| self.eval(e)).collect()),
            Expression::Object(object) => self.eval_object(object),
            Expression::StringTemplate(template) => self.eval_template(template),
            Expression::HeredocTemplate(heredoc) => self.eval_template(&heredoc.template),
            Expression::Parenthesis(inner) => self.eval(inner.inner()),
            // A number too large for a float, which the parser could not take (see
            // `source::parse_text`).
            Expression::Variable(name) if is_number_too_large(name.as_str()) => Val::unknown(),
            Expression::Variable(name) => self.binding(name.as_str()).unwrap_or_else(Val::error),
            Expression::Conditional(conditional) => self.eval_conditional(conditional),
            Expression::FuncCall(call) => self.eval_call(call),
            Expression::Traversal(traversal) => self.eval_traversal(traversal),
            Expression::UnaryOp(op) => self.eval_unary(op),
            Expression::BinaryOp(op) => self.eval_binary(op),
            Expression::ForExpr(for_expr) => self.eval_for(for_expr),
        }
    }

    fn eval_object(&mut self, object: &Object) -> Val {
        let mut entries = BTreeMap::new();
        let mut key_refs = Refs::default();
        for (key, value) in object.iter() {
            let key = match key {
                ObjectKey::Ident(ident) => original_object_key(ident.as_str()).to_string(),
                ObjectKey::Expression(expr) => {
                    let key = self.eval(expr);
                    key_refs = key_refs.union(&key.refs);
                    if key.is_blocked() {
                        let rest =
                            Val::list(object.iter().map(|(_, v)| self.eval(v.expr())).collect());
                        return blocked_like(&key).with_refs(&rest.deep_refs());
                    }
                    match key.to_text() {
                        Some(text) => original_object_key(&text).to_string(),
                        None => return Val::error(),
                    }
                }
            };
            let value = self.eval(value.expr());
            entries.insert(key, value);
        }
        Val::map(entries).with_refs(&key_refs)
    }

    fn eval_conditional(&mut self, conditional: &Conditional) -> Val {
        let condition = self.eval(&conditional.cond_expr);
        let condition_refs = condition.deep_refs();
        match &condition.kind {
            Kind::Error => return Val::error(),
            Kind::Sensitive => {
                // Terraform marks the result sensitive; which branch was taken stays hidden.
                let both = Val::list(vec![
                    self.eval(&conditional.true_expr),
                    self.eval(&conditional.false_expr),
                ]);
                return Val::sensitive()
                    .with_refs(&both.deep_refs())
                    .with_refs(&condition_refs);
            }
            _ => {}
        }
        match decide(&condition) {
            Decision::Yes => self.eval(&conditional.true_expr).with_refs(&condition_refs),
            Decision::No => self
                .eval(&conditional.false_expr)
                .with_refs(&condition_refs),
            Decision::Invalid => Val::error(),
            Decision::Unknown => {
                let yes = self.eval(&conditional.true_expr);
                let no = self.eval(&conditional.false_expr);
                Val::any_of(vec![yes, no]).with_refs(&condition_refs)
            }
        }
    }

    fn eval_call(&mut self, call: &FuncCall) -> Val {
        let name = call.name.name.as_str();
        if call.name.is_namespaced() {
            let args = Val::list(call.args.iter().map(|a| self.eval(a)).collect());
            self.shared.note(
                "provider-defined functions (provider::...) are not evaluated; their results \
                 are treated as unknown",
            );
            return Val::unknown().with_refs(&args.deep_refs());
        }
        match name {
            "try" => return self.eval_try(call),
            "can" => return self.eval_can(call),
            _ => {}
        }

        let mut args: Vec<Val> = call.args.iter().map(|a| self.eval(a)).collect();
        if call.args.expand_final() {
            let Some(last) = args.pop() else {
                return Val::error();
            };
            match &last.kind {
                Kind::List(items) => {
                    args.extend(items.iter().map(|item| item.clone().with_refs(&last.refs)))
                }
                _ if last.is_blocked() => {
                    let refs = Val::list(args).deep_refs();
                    return blocked_like(&last)
                        .with_refs(&last.deep_refs())
                        .with_refs(&refs);
                }
                _ => return Val::error(),
            }
        }
        functions::call(name, args, self.shared)
    }

    /// `try(a, b, ...)`: the first argument that evaluates without error.
    fn eval_try(&mut self, call: &FuncCall) -> Val {
        for arg in call.args.iter() {
            let value = self.eval(arg);
            if !value.has_error() {
                return value;
            }
        }
        Val::error()
    }

    /// `can(x)`: whether `x` evaluates without error. An unknown value might still fail at
    /// apply, so `can` of it is unknown.
    fn eval_can(&mut self, call: &FuncCall) -> Val {
        if call.args.len() != 1 {
            return Val::error();
        }
        let Some(arg) = call.args.get(0) else {
            return Val::error();
        };
        let value = self.eval(arg);
        let answer = if value.has_error() {
            Val::bool(false)
        } else if value.is_wholly_known() {
            Val::bool(true)
        } else {
            Val::unknown()
        };
        answer.with_refs(&value.deep_refs())
    }

    fn eval_unary(&mut self, op: &UnaryOp) -> Val {
        let operand = self.eval(&op.expr);
        let refs = operand.deep_refs();
        let operator = *op.operator.value();
        lift(&[operand], &mut |args| match operator {
            UnaryOperator::Neg => args[0]
                .as_number()
                .map_or_else(Val::error, |n| Val::number(-n)),
            UnaryOperator::Not => args[0].as_bool().map_or_else(Val::error, |b| Val::bool(!b)),
        })
        .with_refs(&refs)
    }

    fn eval_binary(&mut self, op: &BinaryOp) -> Val {
        let lhs = self.eval(&op.lhs_expr);
        let rhs = self.eval(&op.rhs_expr);
        let refs = lhs.deep_refs().union(&rhs.deep_refs());
        let operator = *op.operator.value();

        // `false && x` and `true || x` are decided whatever `x` is.
        let decided = |side: &Val, wanted: bool| {
            !matches!(side.kind, Kind::Sensitive) && side.as_bool() == Some(wanted)
        };
        match operator {
            BinaryOperator::And if decided(&lhs, false) || decided(&rhs, false) => {
                return Val::bool(false).with_refs(&refs)
            }
            BinaryOperator::Or if decided(&lhs, true) || decided(&rhs, true) => {
                return Val::bool(true).with_refs(&refs)
            }
            _ => {}
        }
        lift(&[lhs, rhs], &mut |args| {
            binary(operator, &args[0], &args[1])
        })
        .with_refs(&refs)
    }

    fn eval_for(&mut self, for_expr: &ForExpr) -> Val {
        let collection = self.eval(&for_expr.intro.collection_expr);
        let items = match iteration_items(&collection) {
            Ok(items) => items,
            Err(blocked) => return blocked,
        };
        let key_var = for_expr.intro.key_var.as_ref().map(|k| k.as_str());
        let value_var = for_expr.intro.value_var.as_str();
        let giving_object = for_expr.key_expr.is_some();

        let mut list = Vec::new();
        let mut object: BTreeMap<String, Val> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Val>> = BTreeMap::new();
        for (key, value) in items {
            if !self.shared.step() {
                return Val::unknown().with_refs(&collection.deep_refs());
            }
            let bound = usize::from(key_var.is_some()) + 1;
            if let Some(key_var) = key_var {
                self.bind(key_var, key);
            }
            self.bind(value_var, value);
            let outcome = self.for_element(for_expr, giving_object);
            for _ in 0..bound {
                self.unbind();
            }

            match outcome {
                ForElement::Skip => {}
                ForElement::Blocked(blocked) => {
                    return blocked.with_refs(&collection.deep_refs());
                }
                ForElement::Item(value) => list.push(value),
                ForElement::Entry(key, value) => {
                    if for_expr.grouping {
                        groups.entry(key).or_default().push(value);
                    } else if object.insert(key, value).is_some() {
                        // Terraform rejects duplicate keys unless grouping with `...`.
                        return Val::error();
                    }
                }
            }
        }

        let result = if !giving_object {
            Val::list(list)
        } else if for_expr.grouping {
            Val::map(groups.into_iter().map(|(k, v)| (k, Val::list(v))).collect())
        } else {
            Val::map(object)
        };
        result.with_refs(&collection.refs)
    }

    fn for_element(&mut self, for_expr: &ForExpr, giving_object: bool) -> ForElement {
        if let Some(cond) = &for_expr.cond {
            let keep = self.eval(&cond.expr);
            match decide(&keep) {
                Decision::Yes => {}
                Decision::No => return ForElement::Skip,
                Decision::Invalid => return ForElement::Blocked(Val::error()),
                Decision::Unknown => {
                    return ForElement::Blocked(blocked_like(&keep).with_refs(&keep.deep_refs()))
                }
            }
        }
        let value = self.eval(&for_expr.value_expr);
        if !giving_object {
            return ForElement::Item(value);
        }
        let Some(key_expr) = &for_expr.key_expr else {
            return ForElement::Item(value);
        };
        let key = self.eval(key_expr);
        if key.is_blocked() {
            return ForElement::Blocked(
                blocked_like(&key)
                    .with_refs(&key.deep_refs())
                    .with_refs(&value.deep_refs()),
            );
        }
        match key.to_text() {
            Some(text) => ForElement::Entry(text, value.with_refs(&key.refs)),
            None => ForElement::Blocked(Val::error()),
        }
    }

    // ----- templates -----

    fn eval_template(&mut self, template: &Template) -> Val {
        let elements: Vec<&Element> = template.iter().collect();
        // A template that is one interpolation yields the value itself, not its string form.
        if let [Element::Interpolation(only)] = elements.as_slice() {
            return self.eval(&only.expr);
        }
        self.render(&elements, false, false)
    }

    /// Renders template elements to a string. `trim_first` and `trim_last` strip the
    /// whitespace at the edges, as the strip markers (`~`) of an enclosing directive ask.
    fn render(&mut self, elements: &[&Element], trim_first: bool, trim_last: bool) -> Val {
        let mut parts = Vec::with_capacity(elements.len());
        for (i, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(text) => {
                    let mut text: &str = text.as_str();
                    let strip_start = match i.checked_sub(1) {
                        Some(before) => strips_following(elements[before]),
                        None => trim_first,
                    };
                    let strip_end = match elements.get(i + 1) {
                        Some(after) => strips_preceding(after),
                        None => trim_last,
                    };
                    if strip_start {
                        text = text.trim_start();
                    }
                    if strip_end {
                        text = text.trim_end();
                    }
                    parts.push(Val::string(text));
                }
                Element::Interpolation(interpolation) => parts.push(self.eval(&interpolation.expr)),
                Element::Directive(directive) => parts.push(self.eval_directive(directive)),
            }
        }
        join_parts(parts)
    }

    fn eval_directive(&mut self, directive: &Directive) -> Val {
        match directive {
            Directive::If(d) => {
                let condition = self.eval(&d.if_expr.cond_expr);
                let then_trim_last = match &d.else_expr {
                    Some(otherwise) => otherwise.strip.strip_start(),
                    None => d.endif_expr.strip.strip_start(),
                };
                let then_elements: Vec<&Element> = d.if_expr.template.iter().collect();
                let then = |ev: &mut Self| {
                    ev.render(&then_elements, d.if_expr.strip.strip_end(), then_trim_last)
                };
                let otherwise = |ev: &mut Self| match &d.else_expr {
                    Some(e) => {
                        let elements: Vec<&Element> = e.template.iter().collect();
                        ev.render(
                            &elements,
                            e.strip.strip_end(),
                            d.endif_expr.strip.strip_start(),
                        )
                    }
                    None => Val::string(""),
                };
                let refs = condition.deep_refs();
                match (&condition.kind, decide(&condition)) {
                    (Kind::Error, _) | (_, Decision::Invalid) => Val::error(),
                    (Kind::Sensitive, _) => Val::sensitive().with_refs(&refs),
                    (_, Decision::Yes) => then(self).with_refs(&refs),
                    (_, Decision::No) => otherwise(self).with_refs(&refs),
                    (_, Decision::Unknown) => {
                        let yes = then(self);
                        let no = otherwise(self);
                        Val::any_of(vec![yes, no]).with_refs(&refs)
                    }
                }
            }
            Directive::For(d) => {
                let collection = self.eval(&d.for_expr.collection_expr);
                let items = match iteration_items(&collection) {
                    Ok(items) => items,
                    Err(blocked) => return blocked,
                };
                let elements: Vec<&Element> = d.for_expr.template.iter().collect();
                let key_var = d.for_expr.key_var.as_ref().map(|k| k.as_str());
                let value_var = d.for_expr.value_var.as_str();
                let mut parts = Vec::with_capacity(items.len());
                for (key, value) in items {
                    if !self.shared.step() {
                        return Val::unknown();
                    }
                    if let Some(key_var) = key_var {
                        self.bind(key_var, key);
                    }
                    self.bind(value_var, value);
                    parts.push(self.render(
                        &elements,
                        d.for_expr.strip.strip_end(),
                        d.endfor_expr.strip.strip_start(),
                    ));
                    self.unbind();
                    if key_var.is_some() {
                        self.unbind();
                    }
                }
                join_parts(parts).with_refs(&collection.refs)
            }
        }
    }

    // ----- traversals and references -----

    fn eval_traversal(&mut self, traversal: &Traversal) -> Val {
        let ops: &Operators = &traversal.operators;
        let Expression::Variable(root) = &traversal.expr else {
            let base = self.eval(&traversal.expr);
            return self.apply(base, ops);
        };
        let root = root.as_str();
        if let Some(bound) = self.binding(root) {
            return self.apply(bound, ops);
        }

        let first = ops.first().and_then(|op| attr_name(op));
        let rest = ops.get(1..).unwrap_or(&[]);
        let found = match (root, first) {
            ("var", Some(name)) => self.scope.variable(name),
            ("local", Some(name)) => self.scope.local(name),
            ("module", Some(name)) => self.scope.module(name),
            ("each", Some("key")) => self.each.as_ref().map(|(key, _)| key.clone()),
            ("each", Some("value")) => self.each.as_ref().map(|(_, value)| value.clone()),
            ("count", Some("index")) => self.count_index.clone(),
            ("path", Some(which)) => self.scope.path(which),
            ("terraform", Some("workspace")) => Some(Val::string("default")),
            // `self` only has a meaning in provisioners and conditions, which are not scanned.
            ("terraform" | "self", _) => Some(Val::unknown()),
            ("data", Some(resource_type)) => {
                return match rest.first().and_then(|op| attr_name(op)) {
                    Some(name) => {
                        self.resource_reference(Mode::Data, resource_type, name, &rest[1..])
                    }
                    None => Val::error(),
                };
            }
            ("var" | "local" | "module" | "each" | "count" | "path" | "data", _) => None,
            (resource_type, Some(name)) => {
                return self.resource_reference(Mode::Managed, resource_type, name, rest);
            }
            _ => None,
        };
        match found {
            Some(value) => self.apply(value, rest),
            None => Val::error(),
        }
    }

    /// A reference to a resource: its configured value, and the reference itself recorded on
    /// the result, naming the instance when the index is known.
    fn resource_reference(
        &mut self,
        mode: Mode,
        resource_type: &str,
        name: &str,
        ops: &Operators,
    ) -> Val {
        let target = self.scope.resource(mode, resource_type, name);
        let mut address = target.address;
        let mut value = target.value;
        let mut rest = ops;

        let keyed = matches!(
            target.keys,
            KeyMode::Count | KeyMode::ForEach | KeyMode::Undeclared
        );
        let mut indexed = false;
        if keyed {
            let index = match ops.first().map(|op| &**op) {
                Some(TraversalOperator::Index(expr)) => Some(self.eval(expr)),
                Some(TraversalOperator::LegacyIndex(n)) => Some(Val::number(**n as f64)),
                _ => None,
            };
            if let Some(index) = index {
                if let Some(key) = instance_key(&index, target.keys) {
                    address.push_str(&key.to_string());
                }
                value = index_value(value, &index);
                rest = &ops[1..];
                indexed = true;
            }
        }

        let attribute = rest
            .iter()
            .find_map(|op| match &**op {
                TraversalOperator::GetAttr(name) => Some(Some(name.as_str().to_string())),
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => None,
                _ => Some(None),
            })
            .flatten();

        // The whole collection of instances (`aws_x.y[*].arn`, `for_each = aws_x.y`): each
        // element refers to its own instance.
        if !indexed && matches!(target.keys, KeyMode::Count | KeyMode::ForEach) {
            let value = refer_to_each_instance(value, &address, attribute.as_deref());
            return self.apply(value, rest);
        }
        let reference = Reference { address, attribute };
        self.apply(value, rest).with_refs(&Refs::one(reference))
    }

    /// Applies attribute accesses, indexes and splats.
    fn apply(&mut self, mut value: Val, ops: &Operators) -> Val {
        let mut i = 0;
        while i < ops.len() {
            match &*ops[i] {
                TraversalOperator::GetAttr(name) => value = get_attr(value, name.as_str()),
                TraversalOperator::Index(expr) => {
                    let index = self.eval(expr);
                    value = index_value(value, &index);
                }
                TraversalOperator::LegacyIndex(n) => {
                    value = index_value(value, &Val::number(**n as f64))
                }
                TraversalOperator::AttrSplat(_) => {
                    let attrs = ops[i + 1..]
                        .iter()
                        .take_while(|op| matches!(&***op, TraversalOperator::GetAttr(_)))
                        .count();
                    value = self.splat(value, &ops[i + 1..i + 1 + attrs]);
                    i += 1 + attrs;
                    continue;
                }
                TraversalOperator::FullSplat(_) => {
                    return self.splat(value, &ops[i + 1..]);
                }
            }
            i += 1;
        }
        value
    }

    fn splat(&mut self, value: Val, ops: &Operators) -> Val {
        match &value.kind {
            Kind::List(items) => {
                let mapped = items
                    .iter()
                    .map(|item| self.apply(item.clone().with_refs(&value.refs), ops))
                    .collect();
                Val::list(mapped).with_refs(&value.refs)
            }
            Kind::Null => Val::list(Vec::new()).with_refs(&value.refs),
            Kind::Unknown | Kind::Sensitive | Kind::Error => value,
            Kind::AnyOf(_) => Val::unknown().with_refs(&value.deep_refs()),
            _ => Val::list(vec![self.apply(value, ops)]),
        }
    }
}

enum ForElement {
    Skip,
    Item(Val),
    Entry(String, Val),
    Blocked(Val),
}

enum Decision {
    Yes,
    No,
    Unknown,
    Invalid,
}

/// What a condition says, looking through choices whose branches agree.
fn decide(condition: &Val) -> Decision {
    match &condition.kind {
        Kind::Unknown | Kind::Sensitive => Decision::Unknown,
        Kind::Error | Kind::Null => Decision::Invalid,
        Kind::AnyOf(branches) => {
            let answers: Vec<Option<bool>> = branches.iter().map(Val::as_bool).collect();
            if answers.iter().all(|a| *a == Some(true)) {
                Decision::Yes
            } else if answers.iter().all(|a| *a == Some(false)) {
                Decision::No
            } else {
                Decision::Unknown
            }
        }
        _ => match condition.as_bool() {
            Some(true) => Decision::Yes,
            Some(false) => Decision::No,
            None => Decision::Invalid,
        },
    }
}

/// The elements a `for` iterates over: (index, element) of a list, (key, value) of a map.
pub(crate) fn iteration_items(collection: &Val) -> Result<Vec<(Val, Val)>, Val> {
    match &collection.kind {
        Kind::List(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                (
                    Val::number(i as f64),
                    item.clone().with_refs(&collection.refs),
                )
            })
            .collect()),
        Kind::Map(map) => Ok(map
            .iter()
            .map(|(k, v)| {
                (
                    Val::string(k.as_str()),
                    v.clone().with_refs(&collection.refs),
                )
            })
            .collect()),
        Kind::Unknown | Kind::Sensitive | Kind::AnyOf(_) => {
            Err(blocked_like(collection).with_refs(&collection.deep_refs()))
        }
        _ => Err(Val::error()),
    }
}

/// The value standing for a result that depends on a blocked input: an error stays an error,
/// sensitive stays sensitive, everything else is unknown.
pub(crate) fn blocked_like(value: &Val) -> Val {
    match value.kind {
        Kind::Error => Val::error(),
        Kind::Sensitive => Val::sensitive(),
        _ => Val::unknown(),
    }
}

/// Applies `op` to operands that are known at the top level. An error, sensitive or unknown
/// operand decides the result instead; a choice is applied branch by branch.
pub(crate) fn lift(args: &[Val], op: &mut dyn FnMut(&[Val]) -> Val) -> Val {
    for blocker in [Kind::Error, Kind::Sensitive, Kind::Unknown] {
        let blocker = std::mem::discriminant(&blocker);
        if let Some(arg) = args
            .iter()
            .find(|a| std::mem::discriminant(&a.kind) == blocker)
        {
            return blocked_like(arg);
        }
    }
    let mut combinations: usize = 1;
    for arg in args {
        if let Kind::AnyOf(branches) = &arg.kind {
            combinations = combinations.saturating_mul(branches.len());
        }
    }
    if combinations > MAX_CHOICES {
        return Val::unknown();
    }
    match args.iter().position(|a| matches!(a.kind, Kind::AnyOf(_))) {
        None => op(args),
        Some(i) => {
            let Kind::AnyOf(branches) = &args[i].kind else {
                return Val::unknown();
            };
            let results = branches
                .iter()
                .map(|branch| {
                    let mut choice = args.to_vec();
                    choice[i] = branch.clone();
                    lift(&choice, op)
                })
                .collect();
            Val::any_of(results)
        }
    }
}

/// Joins rendered template parts into one string.
fn join_parts(parts: Vec<Val>) -> Val {
    let refs = parts
        .iter()
        .fold(Refs::default(), |acc, part| acc.union(&part.deep_refs()));
    lift(&parts, &mut |parts| {
        let mut text = String::new();
        for part in parts {
            match part.to_text() {
                Some(piece) if text.len() + piece.len() <= MAX_STRING_BYTES => {
                    text.push_str(&piece)
                }
                Some(_) => return Val::past_limit(Exceeded::StringBytes),
                None => return Val::error(),
            }
        }
        Val::string(text)
    })
    .with_refs(&refs)
}

fn strips_following(element: &Element) -> bool {
    match element {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_end(),
        Element::Directive(d) => match &**d {
            Directive::If(d) => d.endif_expr.strip.strip_end(),
            Directive::For(d) => d.endfor_expr.strip.strip_end(),
        },
    }
}

fn strips_preceding(element: &Element) -> bool {
    match element {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_start(),
        Element::Directive(d) => match &**d {
            Directive::If(d) => d.if_expr.strip.strip_start(),
            Directive::For(d) => d.for_expr.strip.strip_start(),
        },
    }
}

fn binary(operator: BinaryOperator, a: &Val, b: &Val) -> Val {
    use BinaryOperator as Op;
    match operator {
        Op::Eq => a.equals(b).map_or_else(Val::unknown, Val::bool),
        Op::NotEq => a.equals(b).map_or_else(Val::unknown, |eq| Val::bool(!eq)),
        Op::And | Op::Or => match (a.as_bool(), b.as_bool()) {
            (Some(x), Some(y)) => Val::bool(if operator == Op::And { x && y } else { x || y }),
            _ => Val::error(),
        },
        _ => {
            let (Some(x), Some(y)) = (a.as_number(), b.as_number()) else {
                return Val::error();
            };
            match operator {
                Op::Less => Val::bool(x < y),
                Op::LessEq => Val::bool(x <= y),
                Op::Greater => Val::bool(x > y),
                Op::GreaterEq => Val::bool(x >= y),
                Op::Plus => Val::number(x + y),
                Op::Minus => Val::number(x - y),
                Op::Mul => Val::number(x * y),
                Op::Div if y == 0.0 => Val::error(),
                Op::Div => Val::number(x / y),
                Op::Mod if y == 0.0 => Val::error(),
                Op::Mod => Val::number(x % y),
                _ => Val::error(),
            }
        }
    }
}

fn attr_name(op: &TraversalOperator) -> Option<&str> {
    match op {
        TraversalOperator::GetAttr(name) => Some(name.as_str()),
        _ => None,
    }
}

/// Marks each element of a resource's instances with a reference to its own instance.
fn refer_to_each_instance(instances: Val, address: &str, attribute: Option<&str>) -> Val {
    let reference = |key: InstanceKey| {
        Refs::one(Reference {
            address: format!("{address}{key}"),
            attribute: attribute.map(str::to_string),
        })
    };
    match &instances.kind {
        Kind::List(items) => Val::list(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.clone()
                        .with_refs(&reference(InstanceKey::Index(i as i64)))
                })
                .collect(),
        ),
        Kind::Map(entries) => Val::map(
            entries
                .iter()
                .map(|(key, item)| {
                    let refs = reference(InstanceKey::Key(key.clone()));
                    (key.clone(), item.clone().with_refs(&refs))
                })
                .collect(),
        ),
        _ => instances.with_refs(&Refs::one(Reference {
            address: address.to_string(),
            attribute: attribute.map(str::to_string),
        })),
    }
}

/// The instance key an index names, when it is known.
fn instance_key(index: &Val, keys: KeyMode) -> Option<InstanceKey> {
    if index.is_blocked() {
        return None;
    }
    let as_index = |n: f64| (n >= 0.0 && n.fract() == 0.0).then_some(InstanceKey::Index(n as i64));
    match (keys, &index.kind) {
        (KeyMode::Count, _) => index.as_number().and_then(as_index),
        (KeyMode::ForEach, _) => index.to_text().map(InstanceKey::Key),
        (KeyMode::Undeclared, Kind::Number(n)) => as_index(*n),
        (KeyMode::Undeclared, Kind::String(s)) => Some(InstanceKey::Key(s.to_string())),
        _ => None,
    }
}

pub(crate) fn get_attr(value: Val, name: &str) -> Val {
    match &value.kind {
        Kind::Map(map) => match map.get(name) {
            Some(found) => found.clone().with_refs(&value.refs),
            None if value.open => Val::unknown().with_refs(&value.refs),
            None => Val::error().with_refs(&value.deep_refs()),
        },
        Kind::Unknown | Kind::Sensitive | Kind::Error => value,
        Kind::AnyOf(branches) => {
            let branches = branches.iter().map(|b| get_attr(b.clone(), name)).collect();
            Val::any_of(branches).with_refs(&value.refs)
        }
        _ => Val::error(),
    }
}

pub(crate) fn index_value(value: Val, index: &Val) -> Val {
    match &index.kind {
        Kind::Error => return Val::error(),
        Kind::Sensitive => return Val::sensitive().with_refs(&value.deep_refs()),
        Kind::Unknown => {
            // Any element may be meant: the result depends on all of them.
            return Val::unknown()
                .with_refs(&value.deep_refs())
                .with_refs(&index.refs);
        }
        Kind::AnyOf(branches) => {
            let results = branches
                .iter()
                .map(|b| index_value(value.clone(), b))
                .collect();
            return Val::any_of(results);
        }
        _ => {}
    }
    match &value.kind {
        Kind::List(items) => {
            let found = index
                .as_number()
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .and_then(|n| items.get(n as usize));
            match found {
                Some(item) => item.clone().with_refs(&value.refs).with_refs(&index.refs),
                None => Val::error().with_refs(&value.deep_refs()),
            }
        }
        Kind::Map(map) => match index.to_text().and_then(|key| map.get(&key)) {
            Some(item) => item.clone().with_refs(&value.refs).with_refs(&index.refs),
            None if value.open => Val::unknown().with_refs(&value.refs),
            None => Val::error().with_refs(&value.deep_refs()),
        },
        Kind::Unknown | Kind::Sensitive | Kind::Error => value,
        Kind::AnyOf(branches) => {
            let results = branches
                .iter()
                .map(|b| index_value(b.clone(), index))
                .collect();
            Val::any_of(results).with_refs(&value.refs)
        }
        _ => Val::error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use std::collections::HashMap;

    /// A scope with a few variables, locals and resources.
    #[derive(Default)]
    struct TestScope {
        variables: HashMap<String, Val>,
        locals: HashMap<String, Val>,
        resources: HashMap<String, (Val, KeyMode)>,
    }

    impl Scope for TestScope {
        fn variable(&self, name: &str) -> Option<Val> {
            self.variables.get(name).cloned()
        }

        fn local(&self, name: &str) -> Option<Val> {
            self.locals.get(name).cloned()
        }

        fn module(&self, _: &str) -> Option<Val> {
            None
        }

        fn resource(&self, mode: Mode, resource_type: &str, name: &str) -> ResourceTarget {
            let prefix = if mode == Mode::Data { "data." } else { "" };
            let address = format!("{prefix}{resource_type}.{name}");
            match self.resources.get(&address) {
                Some((value, keys)) => ResourceTarget {
                    address,
                    value: value.resource_view(),
                    keys: *keys,
                },
                None => ResourceTarget {
                    address,
                    value: Val::unknown(),
                    keys: KeyMode::Undeclared,
                },
            }
        }

        fn path(&self, which: &str) -> Option<Val> {
            (which == "module").then(|| Val::string("."))
        }
    }

    fn object(entries: &[(&str, Val)]) -> Val {
        Val::map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn scope() -> TestScope {
        let mut scope = TestScope::default();
        scope.variables.insert("env".into(), Val::string("prod"));
        scope.variables.insert("unset".into(), Val::unknown());
        scope.variables.insert("secret".into(), Val::sensitive());
        scope.variables.insert(
            "names".into(),
            Val::list(vec![Val::string("a"), Val::string("b")]),
        );
        scope.variables.insert(
            "settings".into(),
            object(&[("size", Val::number(10.0)), ("tier", Val::string("gold"))]),
        );
        scope
            .locals
            .insert("prefix".into(), Val::string("acme-prod"));
        scope.resources.insert(
            "aws_s3_bucket.logs".into(),
            (
                object(&[("bucket", Val::string("acme-logs"))]),
                KeyMode::Single,
            ),
        );
        scope.resources.insert(
            "aws_kms_key.keys".into(),
            (
                Val::list(vec![
                    object(&[]),
                    object(&[("description", Val::string("b"))]),
                ]),
                KeyMode::Count,
            ),
        );
        scope
    }

    fn eval_in(scope: &TestScope, text: &str) -> Val {
        let expr = hcl_edit::parser::parse_expr(text).expect("test expression parses");
        let shared = Shared::new(100_000);
        Evaluator::new(scope, &shared).eval(&expr)
    }

    fn eval(text: &str) -> Value {
        eval_in(&scope(), text).to_value()
    }

    fn refs(text: &str) -> Vec<(String, Option<String>)> {
        eval_in(&scope(), text)
            .deep_refs()
            .as_slice()
            .iter()
            .map(|r| (r.address.clone(), r.attribute.clone()))
            .collect()
    }

    fn reference(address: &str, attribute: &str) -> (String, Option<String>) {
        (address.to_string(), Some(attribute.to_string()))
    }

    #[test]
    fn literals_and_operators() {
        assert_eq!(eval("1 + 2 * 3"), Value::Number(7.0));
        assert_eq!(eval("10 % 4 == 2 && !false"), Value::Bool(true));
        assert_eq!(
            eval("\"5\" + 1"),
            Value::Number(6.0),
            "numeric strings convert"
        );
        assert_eq!(eval("-var.settings.size"), Value::Number(-10.0));
        assert_eq!(eval("1 / 0"), Value::Unknown, "an error is never a guess");
        assert_eq!(eval("[1, \"a\"] == [1, \"a\"]"), Value::Bool(true));
    }

    #[test]
    fn variables_locals_and_indexing() {
        assert_eq!(eval("var.env"), Value::from("prod"));
        assert_eq!(eval("local.prefix"), Value::from("acme-prod"));
        assert_eq!(eval("var.names[1]"), Value::from("b"));
        assert_eq!(eval("var.settings[\"tier\"]"), Value::from("gold"));
        assert_eq!(eval("var.settings.tier"), Value::from("gold"));
        assert_eq!(eval("var.unset.anything[0]"), Value::Unknown);
        assert_eq!(eval("var.missing"), Value::Unknown);
        assert_eq!(eval("path.module"), Value::from("."));
        assert_eq!(eval("terraform.workspace"), Value::from("default"));
    }

    #[test]
    fn unknown_and_sensitive_values_propagate() {
        assert_eq!(eval("var.unset == \"x\""), Value::Unknown);
        assert_eq!(eval("\"${var.unset}-suffix\""), Value::Unknown);
        assert_eq!(eval("\"${var.secret}-suffix\""), Value::Sensitive);
        assert_eq!(eval("upper(var.secret)"), Value::Sensitive);
        assert_eq!(eval("false && var.unset"), Value::Bool(false));
        assert_eq!(eval("true || var.unset"), Value::Bool(true));
    }

    #[test]
    fn conditionals_choose_a_branch_or_offer_both() {
        assert_eq!(
            eval("var.env == \"prod\" ? \"aws:kms\" : \"AES256\""),
            Value::from("aws:kms")
        );
        assert_eq!(
            eval("var.unset ? \"aws:kms\" : \"AES256\""),
            Value::AnyOf(vec!["aws:kms".into(), "AES256".into()])
        );
        assert_eq!(
            eval("var.unset ? \"AES256\" : \"AES256\""),
            Value::from("AES256")
        );
        assert_eq!(
            eval("upper(var.unset ? \"a\" : \"b\")"),
            Value::AnyOf(vec!["A".into(), "B".into()]),
            "functions apply to each branch"
        );
        assert_eq!(
            eval("(var.unset ? 1 : 2) > 0 ? \"yes\" : \"no\""),
            Value::from("yes"),
            "a condition whose branches agree is decided"
        );
        assert_eq!(eval("var.secret ? 1 : 2"), Value::Sensitive);
    }

    #[test]
    fn templates_interpolate_and_run_directives() {
        assert_eq!(
            eval("\"${local.prefix}-lab\""),
            Value::from("acme-prod-lab")
        );
        assert_eq!(
            eval("\"n=${length(var.names)} %{ for n in var.names }[${n}]%{ endfor }\""),
            Value::from("n=2 [a][b]")
        );
        assert_eq!(
            eval("\"%{ if var.env == \"prod\" }live%{ else }test%{ endif }\""),
            Value::from("live")
        );
        assert_eq!(eval("\"a ${~ \"b\" ~} c\""), Value::from("abc"));
        assert_eq!(
            eval("\"${var.names}\""),
            Value::List(vec!["a".into(), "b".into()]),
            "a lone interpolation keeps its type"
        );
        assert_eq!(eval("\"$${literal}\""), Value::from("${literal}"));
    }

    #[test]
    fn heredocs_are_templates() {
        let text = "<<-EOT\n    env=${var.env}\n    done\n  EOT";
        assert_eq!(eval(text), Value::from("env=prod\ndone\n"));
    }

    #[test]
    fn for_expressions_build_lists_and_objects() {
        assert_eq!(
            eval("[for n in var.names : upper(n) if n != \"a\"]"),
            Value::List(vec!["B".into()])
        );
        let object = eval("{ for i, n in var.names : n => i }");
        assert_eq!(object.get("a"), Some(&Value::Number(0.0)));
        assert_eq!(object.get("b"), Some(&Value::Number(1.0)));
        let grouped = eval("{ for n in [\"x\", \"y\", \"x\"] : n => n... }");
        assert_eq!(
            grouped.get("x"),
            Some(&Value::List(vec!["x".into(), "x".into()]))
        );
        assert_eq!(eval("[for n in var.unset : n]"), Value::Unknown);
        assert_eq!(eval("{ for n in [\"x\", \"x\"] : n => 1 }"), Value::Unknown);
    }

    #[test]
    fn splats_apply_to_every_element() {
        assert_eq!(
            eval("[{ a = 1 }, { a = 2 }][*].a"),
            Value::List(vec![1.0.into(), 2.0.into()])
        );
        assert_eq!(
            eval("[{ a = 1 }, { a = 2 }].*.a"),
            Value::List(vec![1.0.into(), 2.0.into()])
        );
        assert_eq!(eval("length(null[*])"), Value::Number(0.0));
    }

    #[test]
    fn try_and_can_tell_errors_from_unknown_values() {
        assert_eq!(
            eval("try(var.settings.nope, \"fallback\")"),
            Value::from("fallback")
        );
        assert_eq!(
            eval("try(var.settings.tier, \"fallback\")"),
            Value::from("gold")
        );
        assert_eq!(eval("try(var.unset.tier, \"fallback\")"), Value::Unknown);
        assert_eq!(eval("can(var.settings.nope)"), Value::Bool(false));
        assert_eq!(eval("can(var.settings.tier)"), Value::Bool(true));
        assert_eq!(eval("can(regex(\"^a\", var.env))"), Value::Unknown);
    }

    #[test]
    fn resource_attributes_are_their_configured_values_with_a_reference() {
        assert_eq!(eval("aws_s3_bucket.logs.bucket"), Value::from("acme-logs"));
        assert_eq!(eval("aws_s3_bucket.logs.arn"), Value::Unknown);
        assert_eq!(
            refs("aws_s3_bucket.logs.arn"),
            vec![reference("aws_s3_bucket.logs", "arn")]
        );
        assert_eq!(
            refs("\"${aws_s3_bucket.logs.bucket}/${data.aws_kms_key.k.arn}\""),
            vec![
                reference("aws_s3_bucket.logs", "bucket"),
                reference("data.aws_kms_key.k", "arn"),
            ]
        );
    }

    #[test]
    fn references_to_counted_resources_name_the_instance_when_known() {
        assert_eq!(eval("aws_kms_key.keys[1].description"), Value::from("b"));
        assert_eq!(
            refs("aws_kms_key.keys[1].arn"),
            vec![reference("aws_kms_key.keys[1]", "arn")]
        );
        assert_eq!(
            refs("aws_kms_key.keys[var.unset].arn"),
            vec![reference("aws_kms_key.keys", "arn")]
        );
        assert_eq!(
            refs("aws_kms_key.keys[*].arn"),
            vec![
                reference("aws_kms_key.keys[0]", "arn"),
                reference("aws_kms_key.keys[1]", "arn"),
            ]
        );
        let second = eval_in(&scope(), "aws_kms_key.keys[*].description");
        assert_eq!(
            second.as_list().map(|l| l[1].to_value()),
            Some(Value::from("b"))
        );
        let scope = scope();
        let expr = hcl_edit::parser::parse_expr("aws_kms_key.keys[count.index].arn").unwrap();
        let shared = Shared::new(1000);
        let value = Evaluator::new(&scope, &shared)
            .with_count_index(Val::number(0.0))
            .eval(&expr);
        assert_eq!(
            value.deep_refs().as_slice()[0].address,
            "aws_kms_key.keys[0]"
        );
    }

    #[test]
    fn taking_one_element_keeps_only_its_references() {
        let mut scope = scope();
        let buckets = eval_in(
            &scope,
            "{ a = aws_s3_bucket.logs.id, b = aws_s3_bucket.other.id }",
        );
        scope.locals.insert("buckets".into(), buckets);
        let picked = eval_in(&scope, "local.buckets[\"b\"]").deep_refs();
        assert_eq!(picked.as_slice().len(), 1);
        assert_eq!(picked.as_slice()[0].address, "aws_s3_bucket.other");
        let all = eval_in(&scope, "values(local.buckets)").deep_refs();
        assert_eq!(all.as_slice().len(), 2);
    }

    #[test]
    fn a_spent_budget_gives_unknown_values_and_stops_the_load() {
        let scope = scope();
        let expr = hcl_edit::parser::parse_expr("[for i in range(1000) : i * 2]").unwrap();
        let shared = Shared::new(50);
        assert_eq!(meter::exceeded(), None);
        let value = Evaluator::new(&scope, &shared).eval(&expr);
        assert_eq!(value.to_value(), Value::Unknown);
        assert_eq!(meter::exceeded(), Some(Exceeded::Steps));
    }
}
