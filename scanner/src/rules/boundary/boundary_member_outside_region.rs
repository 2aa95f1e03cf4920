use super::is_declaration;
use crate::policy::Boundary;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// A member of a `hipaa_boundary` deployed in a region the boundary does not allow
    /// (`regions`). The region is the resource's own `region` attribute (AWS provider 6 and
    /// Google), or `location` for Azure (and Google resources that have no `region`), or else
    /// the region of the provider configuration the resource is managed through
    /// (`provider = aws.eu`). The replica regions of a DynamoDB global table count as places
    /// where the member keeps data.
    ///
    /// A region that is not known before apply, or a resource with no region anywhere in the
    /// configuration (the provider reading `AWS_REGION` from the environment), is undetermined.
    /// Global services (IAM, CloudFront, Route 53 zones and records) have no region and are not
    /// judged. A boundary without `regions` allows every region. Silent when no boundary is
    /// declared.
    ///
    /// ## Why it matters
    ///
    /// Business associate agreements and data-residency terms (45 CFR 164.308(b)(1),
    /// 164.314(a)(1)) often bind PHI to named jurisdictions, and the access control standard
    /// (164.312(a)(1)) assumes the entity knows where its PHI lives. A member deployed through
    /// the wrong provider alias is outside what was agreed.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// provider "aws" {
    ///   alias  = "eu"
    ///   region = "eu-west-1"
    /// }
    ///
    /// resource "hipaa_boundary" "us_only" {
    ///   regions = ["us-east-1", "us-west-2"]
    ///   members = [aws_db_instance.intake.arn]
    /// }
    ///
    /// resource "aws_db_instance" "intake" {
    ///   provider = aws.eu
    ///   # ...
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_db_instance" "intake" {
    ///   provider = aws # us-east-1
    ///   # ...
    /// }
    /// ```
    pub struct BoundaryMemberOutsideRegion {
        id: "BND002",
        name: "boundary-member-outside-region",
        category: Boundary,
        severity: High,
        title: "Boundary member deployed in a region the boundary does not allow",
        hipaa: ["164.312(a)(1)", "164.308(b)(1)", "164.314(a)(1)"],
        applies_to: |resource_type| !is_declaration(resource_type),
        check: check,
    }
}

/// Attributes that hold a resource's own region, by provider prefix, in order of preference.
const REGION_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("aws_", &["region"]),
    ("azurerm_", &["location"]),
    ("google_", &["region", "location"]),
];

/// Further regions a resource keeps data in.
const REPLICA_REGIONS: &[(&str, &str)] = &[("aws_dynamodb_table", "replica.region_name")];

/// Resource types of global services, which have no region.
const GLOBAL_TYPE_PREFIXES: &[&str] = &[
    "aws_iam_",
    "aws_cloudfront_",
    "aws_route53_zone",
    "aws_route53_record",
    "aws_organizations_",
    "aws_shield_",
    "aws_globalaccelerator_",
];

const FIX: &str = "deploy the resource through a provider configuration in an allowed region, \
                   or remove it from the boundary (and from PHI) if it must stay there";

fn check(cx: &Context, resource: &Resource) -> Verdict {
    let boundaries: Vec<&Boundary> = cx
        .policy
        .boundaries
        .iter()
        .filter(|b| b.contains(resource) && b.regions.is_some())
        .collect();
    if boundaries.is_empty() {
        return Verdict::NotApplicable;
    }
    if GLOBAL_TYPE_PREFIXES
        .iter()
        .any(|prefix| resource.resource_type.starts_with(prefix))
    {
        return Verdict::NotApplicable;
    }

    let mut places: Vec<(&str, &Value)> = Vec::new();
    match home_region(resource) {
        Some(place) => places.push(place),
        None => {
            return Verdict::undetermined(
                "the resource's region is set nowhere in the configuration (neither on the \
                 resource nor on its provider)",
            )
        }
    }
    for (resource_type, path) in REPLICA_REGIONS {
        if resource.resource_type == *resource_type {
            places.extend(
                resource
                    .lookup(path)
                    .into_iter()
                    .map(|region| (*path, region)),
            );
        }
    }

    let mut unknown = None;
    for boundary in boundaries {
        let allowed = boundary.regions.as_deref().unwrap_or_default();
        for (attribute, region) in &places {
            match region.test(&|r: &Value| r.as_str().is_some_and(|r| is_allowed(allowed, r))) {
                Truth::Yes => {}
                Truth::No => {
                    let shown = region.as_str().unwrap_or("a region chosen by a condition");
                    return Verdict::fail(
                        Some(attribute),
                        format!(
                            "the resource is a member of {} but runs in {shown}, which it does \
                             not allow (allowed: {})",
                            boundary.address,
                            allowed.join(", ")
                        ),
                        FIX,
                    );
                }
                Truth::Undetermined => {
                    unknown = Some(format!("{attribute} is not known until apply"));
                }
            }
        }
    }
    match unknown {
        Some(reason) => Verdict::undetermined(reason),
        None => Verdict::Pass,
    }
}

/// Where the resource itself runs: its own region attribute, or its provider's region.
fn home_region(resource: &Resource) -> Option<(&'static str, &Value)> {
    let own = REGION_ATTRIBUTES
        .iter()
        .filter(|(prefix, _)| resource.resource_type.starts_with(prefix))
        .flat_map(|(_, attributes)| attributes.iter())
        .map(|attribute| (*attribute, resource.attr(attribute)))
        .find(|(_, value)| !value.is_null());
    if own.is_some() {
        return own;
    }
    resource
        .provider
        .region
        .as_ref()
        .map(|region| ("provider", region))
}

/// Compares regions as their providers spell them: Azure writes both "East US" and "eastus".
fn is_allowed(allowed: &[String], region: &str) -> bool {
    let normal = |r: &str| r.to_ascii_lowercase().replace(' ', "");
    allowed.iter().any(|a| normal(a) == normal(region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference, with_value};
    use serde_json::json;

    fn database(name: &str, region: Option<&str>) -> Resource {
        let mut db = resource(
            "aws_db_instance",
            name,
            json!({"identifier": format!("intake-{name}"), "engine": "postgres"}),
        );
        db.provider.region = region.map(Value::from);
        db
    }

    /// The resources of the shared case boundary-region.
    fn region_case() -> Vec<Resource> {
        let mut boundary = resource(
            "hipaa_boundary",
            "us_only",
            json!({"name": "US regions only", "regions": ["us-east-1", "us-west-2"]}),
        );
        boundary = with_reference(boundary, "members", "aws_db_instance.us", "arn");
        boundary = with_reference(boundary, "members", "aws_db_instance.eu", "arn");
        let mut eu = database("eu", Some("eu-west-1"));
        eu.provider.alias = Some("eu".to_string());
        vec![
            resource("hipaa_license", "main", json!({"name": "acme-phi"})),
            boundary,
            database("us", Some("us-east-1")),
            eu,
        ]
    }

    #[test]
    fn a_member_deployed_through_the_eu_provider_fails() {
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            region_case(),
            "aws_db_instance.eu",
        );
        let message = failure_message(verdict);
        assert!(message.contains("eu-west-1"), "{message}");
        assert!(message.contains("hipaa_boundary.us_only"), "{message}");
    }

    #[test]
    fn a_member_in_an_allowed_region_passes() {
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            region_case(),
            "aws_db_instance.us",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn the_resource_region_wins_over_the_provider() {
        let mut resources = region_case();
        resources[3] = with_value(resources[3].clone(), "region", Value::from("us-west-2"));
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            resources,
            "aws_db_instance.eu",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn no_known_region_is_undetermined() {
        let mut resources = region_case();
        resources[3] = database("eu", None);
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            resources.clone(),
            "aws_db_instance.eu",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));

        resources[3] = database("eu", None);
        resources[3].provider.region = Some(Value::Unknown);
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            resources,
            "aws_db_instance.eu",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }

    #[test]
    fn azure_locations_and_dynamodb_replicas_are_regions_too() {
        let mut boundary = resource("hipaa_boundary", "b", json!({"regions": ["eastus"]}));
        boundary = with_reference(boundary, "members", "azurerm_storage_account.a", "id");
        boundary = with_reference(boundary, "members", "aws_dynamodb_table.t", "arn");
        let account = resource(
            "azurerm_storage_account",
            "a",
            json!({"location": "East US"}),
        );
        let mut table = resource(
            "aws_dynamodb_table",
            "t",
            json!({"name": "visits", "replica": [{"region_name": "ap-south-1"}]}),
        );
        table.provider.region = Some(Value::from("eastus"));
        let resources = vec![boundary, account, table];
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            resources.clone(),
            "azurerm_storage_account.a",
        );
        assert_eq!(verdict, Verdict::Pass);
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            resources,
            "aws_dynamodb_table.t",
        );
        assert!(failure_message(verdict).contains("ap-south-1"));
    }

    #[test]
    fn non_members_and_unrestricted_boundaries_are_not_judged() {
        let outsider = database("other", Some("eu-west-1"));
        let mut resources = region_case();
        resources.push(outsider);
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            resources,
            "aws_db_instance.other",
        );
        assert_eq!(verdict, Verdict::NotApplicable);

        let open = with_reference(
            resource("hipaa_boundary", "open", json!({"name": "anywhere"})),
            "members",
            "aws_db_instance.eu",
            "arn",
        );
        let verdict = judge(
            &BoundaryMemberOutsideRegion,
            vec![open, database("eu", Some("eu-west-1"))],
            "aws_db_instance.eu",
        );
        assert_eq!(verdict, Verdict::NotApplicable);
    }
}
