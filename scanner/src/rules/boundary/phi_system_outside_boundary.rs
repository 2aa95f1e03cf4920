use crate::policy::Boundary;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// A `hipaa_phi_system` whose `resource` is not a member of the boundary it names in
    /// `boundary_id`. A system that names no boundary, or a boundary outside this
    /// configuration, is not judged (the latter is undetermined). Silent when no boundary is
    /// declared.
    ///
    /// ## Why it matters
    ///
    /// Declaring a system as handling PHI within a boundary while leaving it out of the
    /// boundary's members means the boundary's safeguards, agreements and region limits
    /// (45 CFR 164.308(b)(1), 164.314(a)(1)) and its access control (164.312(a)(1)) are not
    /// applied to it: the two declarations contradict each other.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "hipaa_boundary" "prod" {
    ///   members = [aws_s3_bucket.records.arn]
    /// }
    ///
    /// resource "hipaa_phi_system" "claims" {
    ///   boundary_id = hipaa_boundary.prod.id
    ///   resource    = aws_dynamodb_table.claims.arn
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "hipaa_boundary" "prod" {
    ///   members = [aws_s3_bucket.records.arn, aws_dynamodb_table.claims.arn]
    /// }
    /// ```
    pub struct PhiSystemOutsideBoundary {
        id: "BND003",
        name: "phi-system-outside-boundary",
        category: Boundary,
        severity: High,
        title: "Declared PHI system is not a member of its boundary",
        hipaa: ["164.312(a)(1)", "164.308(b)(1)", "164.314(a)(1)"],
        applies_to: |resource_type| resource_type == "hipaa_phi_system",
        check: check,
    }
}

const FIX: &str = "add the system's resource to the members of the boundary it names";

fn check(cx: &Context, system: &Resource) -> Verdict {
    if cx.policy.boundaries.is_empty() {
        return Verdict::NotApplicable;
    }
    let boundary_references = system.references_of("boundary_id");
    if boundary_references.is_empty() {
        if system.attr("boundary_id").is_null() {
            return Verdict::NotApplicable;
        }
        return Verdict::undetermined("boundary_id names a boundary outside this configuration");
    }

    let boundaries: Vec<_> = boundary_references
        .iter()
        .flat_map(|reference| cx.index.resolve(reference))
        .filter_map(|declaration| {
            cx.policy
                .boundaries
                .iter()
                .find(|b| b.address == declaration.address)
        })
        .collect();
    if boundaries.is_empty() {
        return Verdict::undetermined("boundary_id names a boundary outside this configuration");
    }

    let systems: Vec<&Resource> = system
        .references_of("resource")
        .iter()
        .flat_map(|reference| cx.index.resolve(reference))
        .collect();
    if systems.is_empty() {
        return judge_literal(system, &boundaries);
    }

    for boundary in boundaries {
        for member in &systems {
            if boundary.contains(member) {
                continue;
            }
            let message = format!(
                "{} is declared a PHI system of {}, which does not list it as a member",
                member.address, boundary.address
            );
            if boundary.has_unknown_members {
                return Verdict::undetermined(format!(
                    "{message} among the members known before apply"
                ));
            }
            return Verdict::fail(Some("resource"), message, FIX);
        }
    }
    Verdict::Pass
}

/// A PHI system named by a literal (an ARN or address outside this configuration): it is in a
/// boundary that lists the same literal. A boundary that also lists members by reference may
/// hold it under another name, which cannot be told before apply.
fn judge_literal(system: &Resource, boundaries: &[&Boundary]) -> Verdict {
    let Some(literal) = system.attr("resource").as_str() else {
        return Verdict::undetermined("resource is not known before apply");
    };

    for boundary in boundaries {
        if boundary.member_literals.contains(literal) {
            continue;
        }
        if boundary.has_unknown_members || !boundary.member_addresses.is_empty() {
            return Verdict::undetermined(format!(
                "{literal} is not among the members of {} written as literals; its other \
                 members are known only by reference",
                boundary.address
            ));
        }
        return Verdict::fail(
            Some("resource"),
            format!(
                "{literal} is declared a PHI system of {}, which does not list it as a member",
                boundary.address
            ),
            FIX,
        );
    }
    Verdict::Pass
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference};
    use serde_json::json;

    fn project(member: &str) -> Vec<Resource> {
        let boundary = with_reference(
            resource("hipaa_boundary", "prod", json!({"name": "prod"})),
            "members",
            member,
            "arn",
        );
        let system = with_reference(
            with_reference(
                resource("hipaa_phi_system", "claims", json!({"name": "claims"})),
                "resource",
                "aws_dynamodb_table.claims",
                "arn",
            ),
            "boundary_id",
            "hipaa_boundary.prod",
            "id",
        );
        vec![
            boundary,
            system,
            resource("aws_dynamodb_table", "claims", json!({"name": "claims"})),
            resource("aws_s3_bucket", "records", json!({"bucket": "records"})),
        ]
    }

    #[test]
    fn a_system_left_out_of_its_boundary_fails() {
        let verdict = judge(
            &PhiSystemOutsideBoundary,
            project("aws_s3_bucket.records"),
            "hipaa_phi_system.claims",
        );
        assert!(failure_message(verdict).contains("aws_dynamodb_table.claims"));
    }

    #[test]
    fn a_system_inside_its_boundary_passes() {
        let verdict = judge(
            &PhiSystemOutsideBoundary,
            project("aws_dynamodb_table.claims"),
            "hipaa_phi_system.claims",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn a_literal_boundary_id_is_undetermined() {
        let mut resources = project("aws_s3_bucket.records");
        resources[1] = with_reference(
            resource(
                "hipaa_phi_system",
                "claims",
                json!({"boundary_id": "bnd-0123", "name": "claims"}),
            ),
            "resource",
            "aws_dynamodb_table.claims",
            "arn",
        );
        let verdict = judge(
            &PhiSystemOutsideBoundary,
            resources,
            "hipaa_phi_system.claims",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }

    /// A boundary whose members are all literals, and a PHI system named by a literal.
    fn literal_project(members: serde_json::Value, system: &str) -> Vec<Resource> {
        let boundary = resource(
            "hipaa_boundary",
            "prod",
            json!({"name": "prod", "members": members}),
        );
        let system = with_reference(
            resource(
                "hipaa_phi_system",
                "claims",
                json!({"name": "claims", "resource": system}),
            ),
            "boundary_id",
            "hipaa_boundary.prod",
            "id",
        );
        vec![boundary, system]
    }

    #[test]
    fn a_literal_system_listed_by_its_boundary_passes() {
        let resources = literal_project(
            json!(["aws_s3_bucket.claims", "aws_db_instance.claims"]),
            "aws_s3_bucket.claims",
        );
        let verdict = judge(
            &PhiSystemOutsideBoundary,
            resources,
            "hipaa_phi_system.claims",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn a_literal_system_missing_from_a_literal_boundary_fails() {
        let resources = literal_project(
            json!(["aws_db_instance.claims"]),
            "arn:aws:s3:::acme-claims",
        );
        let verdict = judge(
            &PhiSystemOutsideBoundary,
            resources,
            "hipaa_phi_system.claims",
        );
        assert!(failure_message(verdict).contains("arn:aws:s3:::acme-claims"));
    }
}
