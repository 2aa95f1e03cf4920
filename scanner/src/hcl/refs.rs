//! What an expression mentions: the names it refers to that no enclosing `for` (nor the
//! iterator of a `dynamic` block) binds, and the functions it calls. The dependency graph of a
//! module reads expressions this way, and so does the check of values that Terraform takes
//! only as constants: variable defaults, variable files and `--var` values.

use hcl_edit::expr::{Expression, ForExpr, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::ForTemplateExpr;
use hcl_edit::visit::{self, Visit};
use hcl_edit::{Decorated, Span};
use std::ops::Range;

/// One thing an expression mentions.
pub(crate) enum Mention<'a> {
    /// A name and what is taken from it: `var.a[0]` is `var` with `.a` and `[0]`.
    Reference {
        root: &'a str,
        operators: &'a [Decorated<TraversalOperator>],
        span: Option<Range<usize>>,
    },
    /// A function call, by its name as written (`upper`, `provider::aws::arn_parse`).
    Call {
        name: String,
        span: Option<Range<usize>>,
    },
}

/// Calls `found` for each mention of an expression, outermost first.
pub(crate) fn in_expr(expr: &Expression, found: &mut dyn FnMut(Mention<'_>)) {
    Walker::new(found).visit_expr(expr);
}

/// Calls `found` for each mention in a body: its arguments and those of its nested blocks.
pub(crate) fn in_body(body: &Body, found: &mut dyn FnMut(Mention<'_>)) {
    Walker::new(found).visit_body(body);
}

/// Calls `found` for each mention in a block, as [`in_body`] does for a body, with the
/// iterator of a `dynamic` block bound in its content.
pub(crate) fn in_block(block: &Block, found: &mut dyn FnMut(Mention<'_>)) {
    Walker::new(found).visit_block(block);
}

/// Why an expression is not a constant, as Terraform requires of variable defaults and
/// values: "refers to var.a" or "calls upper()", with where that is. `None` for a constant.
pub(crate) fn not_constant(expr: &Expression) -> Option<(String, Option<Range<usize>>)> {
    let mut first = None;
    in_expr(expr, &mut |mention| {
        if first.is_some() {
            return;
        }
        first = Some(match mention {
            Mention::Reference {
                root,
                operators,
                span,
            } => {
                let mut name = root.to_string();
                for step in operators.iter().map_while(|op| attribute_name(op)) {
                    name.push('.');
                    name.push_str(step);
                }
                (format!("refers to {name}"), span)
            }
            Mention::Call { name, span } => (format!("calls {name}()"), span),
        });
    });
    first
}

/// What a constant may be, for errors about values that are not.
pub(crate) const CONSTANT_EXPECTED: &str =
    "expected a value written out (strings, numbers, bools, null, lists and objects of them), \
     without references or function calls";

/// The attribute name a traversal step takes, if it takes one.
pub(crate) fn attribute_name(operator: &TraversalOperator) -> Option<&str> {
    match operator {
        TraversalOperator::GetAttr(name) => Some(name.as_str()),
        _ => None,
    }
}

struct Walker<'f> {
    /// The names bound by the `for` expressions and `dynamic` blocks around the current one.
    bound: Vec<String>,
    found: &'f mut dyn FnMut(Mention<'_>),
}

impl<'f> Walker<'f> {
    fn new(found: &'f mut dyn FnMut(Mention<'_>)) -> Walker<'f> {
        Walker {
            bound: Vec::new(),
            found,
        }
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|bound| bound == name)
    }

    /// Visits `inner` with these names bound, then unbinds them.
    fn with_bound(&mut self, names: Vec<String>, inner: impl FnOnce(&mut Self)) {
        let depth = self.bound.len();
        self.bound.extend(names);
        inner(self);
        self.bound.truncate(depth);
    }
}

impl Visit for Walker<'_> {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(name) => {
                if !self.is_bound(name.as_str()) {
                    (self.found)(Mention::Reference {
                        root: name.as_str(),
                        operators: &[],
                        span: name.span(),
                    });
                }
            }
            Expression::Traversal(traversal) => {
                if let Expression::Variable(root) = &traversal.expr {
                    if !self.is_bound(root.as_str()) {
                        (self.found)(Mention::Reference {
                            root: root.as_str(),
                            operators: &traversal.operators,
                            span: traversal.span(),
                        });
                    }
                    // Index expressions can mention names of their own.
                    for operator in &traversal.operators {
                        self.visit_traversal_operator(operator);
                    }
                } else {
                    visit::visit_traversal(self, traversal);
                }
            }
            Expression::FuncCall(call) => {
                let mut name = String::new();
                for part in &call.name.namespace {
                    name.push_str(part.as_str());
                    name.push_str("::");
                }
                name.push_str(call.name.name.as_str());
                (self.found)(Mention::Call {
                    name,
                    span: call.span(),
                });
                visit::visit_func_args(self, &call.args);
            }
            other => visit::visit_expr(self, other),
        }
    }

    fn visit_for_expr(&mut self, node: &ForExpr) {
        // The collection is read outside the names the `for` binds.
        self.visit_expr(&node.intro.collection_expr);
        let names = node
            .intro
            .key_var
            .iter()
            .chain([&node.intro.value_var])
            .map(|name| name.as_str().to_string())
            .collect();
        self.with_bound(names, |walker| {
            if let Some(key) = &node.key_expr {
                walker.visit_expr(key);
            }
            walker.visit_expr(&node.value_expr);
            if let Some(cond) = &node.cond {
                walker.visit_expr(&cond.expr);
            }
        });
    }

    fn visit_for_template_expr(&mut self, node: &ForTemplateExpr) {
        self.visit_expr(&node.collection_expr);
        let names = node
            .key_var
            .iter()
            .chain([&node.value_var])
            .map(|name| name.as_str().to_string())
            .collect();
        self.with_bound(names, |walker| walker.visit_template(&node.template));
    }

    fn visit_block(&mut self, block: &Block) {
        if block.ident.as_str() != "dynamic" {
            return visit::visit_block(self, block);
        }
        // A `dynamic` block's iterator (its label, unless `iterator` names another) is bound in
        // its `content`, not in its own arguments.
        let iterator = match block.body.get_attribute("iterator").map(|a| &a.value) {
            Some(Expression::Variable(name)) => Some(name.as_str().to_string()),
            _ => block.labels.first().map(|label| label.as_str().to_string()),
        };
        for attribute in block.body.attributes() {
            if attribute.key.as_str() != "iterator" {
                self.visit_expr(&attribute.value);
            }
        }
        self.with_bound(iterator.into_iter().collect(), |walker| {
            for nested in block.body.blocks() {
                walker.visit_block(nested);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mentions of an expression, as `root.attr` names and `name()` calls.
    fn mentions(text: &str) -> Vec<String> {
        let expr = hcl_edit::parser::parse_expr(text).expect("an expression");
        let mut found = Vec::new();
        in_expr(&expr, &mut |mention| {
            found.push(match mention {
                Mention::Reference {
                    root, operators, ..
                } => {
                    let first = operators.first().and_then(|op| attribute_name(op));
                    first.map_or(root.to_string(), |first| format!("{root}.{first}"))
                }
                Mention::Call { name, .. } => format!("{name}()"),
            })
        });
        found
    }

    fn why_not_constant(text: &str) -> Option<String> {
        let expr = hcl_edit::parser::parse_expr(text).expect("an expression");
        not_constant(&expr).map(|(why, _)| why)
    }

    #[test]
    fn names_bound_by_for_are_not_mentions() {
        assert_eq!(
            mentions("[for k, v in local.m : v.id if k != var.skip]"),
            ["local.m", "var.skip"]
        );
        assert_eq!(
            mentions("\"%{for x in var.l}${x.name}${local.sep}%{endfor}\""),
            ["var.l", "local.sep"]
        );
        // The collection of an inner `for` sees the outer one's names.
        assert_eq!(mentions("[for a in var.x : [for b in a : b]]"), ["var.x"]);
    }

    #[test]
    fn calls_and_index_expressions_are_mentions() {
        assert_eq!(
            mentions("upper(aws_s3_bucket.b[local.i].id)"),
            ["upper()", "aws_s3_bucket.b", "local.i"]
        );
        assert_eq!(mentions("prod"), ["prod"]);
        assert_eq!(mentions("{ a = 1, (local.k) = 2 }"), ["local.k"]);
    }

    #[test]
    fn a_dynamic_iterator_is_bound_in_its_content_only() {
        let text = "resource \"x\" \"y\" {\n  dynamic \"rule\" {\n    for_each = var.rules\n    \
                    content {\n      id = rule.value\n      other = local.o\n    }\n  }\n}\n";
        let body = hcl_edit::parser::parse_body(text).expect("a body");
        let mut found = Vec::new();
        in_body(&body, &mut |mention| {
            if let Mention::Reference { root, .. } = mention {
                found.push(root.to_string());
            }
        });
        assert_eq!(found, ["var", "local"]);
    }

    #[test]
    fn constants_are_values_written_out() {
        for constant in [
            "{ a = 1, b = [true, null], c = \"${1 + 2}\" }",
            "[for x in [1, 2] : x * 2]",
            "\"%{for x in [\"a\"]}${x}%{endfor}\"",
            "true ? 1 : 2",
        ] {
            assert_eq!(why_not_constant(constant), None, "{constant}");
        }
        assert_eq!(
            why_not_constant("{ a = var.b.c[0].d }").as_deref(),
            Some("refers to var.b.c")
        );
        assert_eq!(why_not_constant("prod").as_deref(), Some("refers to prod"));
        assert_eq!(
            why_not_constant("[1, upper(\"x\")]").as_deref(),
            Some("calls upper()")
        );
        assert_eq!(
            why_not_constant("[for x in [1] : x + y]").as_deref(),
            Some("refers to y")
        );
    }
}
