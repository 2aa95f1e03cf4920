//! What an expression mentions: the names it refers to that no enclosing `for` (nor the
//! iterator of a `dynamic` block) binds. The dependency graph of a module reads expressions
//! this way.

use hcl_edit::expr::{Expression, ForExpr, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::ForTemplateExpr;
use hcl_edit::visit::{self, Visit};
use hcl_edit::Decorated;

/// One thing an expression mentions.
pub(crate) enum Mention<'a> {
    /// A name and what is taken from it: `var.a[0]` is `var` with `.a` and `[0]`.
    Reference {
        root: &'a str,
        operators: &'a [Decorated<TraversalOperator>],
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
                    });
                }
            }
            Expression::Traversal(traversal) => {
                if let Expression::Variable(root) = &traversal.expr {
                    if !self.is_bound(root.as_str()) {
                        (self.found)(Mention::Reference {
                            root: root.as_str(),
                            operators: &traversal.operators,
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

    /// The mentions of an expression, as `root.attr` names.
    fn mentions(text: &str) -> Vec<String> {
        let expr = hcl_edit::parser::parse_expr(text).expect("an expression");
        let mut found = Vec::new();
        in_expr(&expr, &mut |mention| {
            let Mention::Reference {
                root, operators, ..
            } = mention;
            let first = operators.first().and_then(|op| attribute_name(op));
            found.push(first.map_or(root.to_string(), |first| format!("{root}.{first}")));
        });
        found
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
    fn index_expressions_and_call_arguments_are_mentions() {
        assert_eq!(
            mentions("upper(aws_s3_bucket.b[local.i].id)"),
            ["aws_s3_bucket.b", "local.i"]
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
            let Mention::Reference { root, .. } = mention;
            found.push(root.to_string());
        });
        assert_eq!(found, ["var", "local"]);
    }
}
