//! `hipaa_phi_system`: a system that stores, transmits or processes PHI, the boundary it sits
//! in, and the business associate agreements that cover it.

use super::{baa, baa_expired, boundary, license, license_id_attribute, record_str, require_live};
use crate::diagnostics::{AttributePath, Diagnostics};
use crate::resource::{get_strings, strings, Context, Object, Resource};
use crate::schema::{Attribute, Schema, Validator};
use crate::value::Type;

pub const TYPE_NAME: &str = "hipaa_phi_system";

/// What a system may do with PHI.
pub const HANDLING: &[&str] = &["store", "transmit", "process"];

pub struct PhiSystem;

impl Resource for PhiSystem {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn id_prefix(&self) -> &'static str {
        "phi-"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            description: "A system that stores, transmits or processes protected health \
                          information, inside a compliance boundary and covered by business \
                          associate agreements. Creating or changing a system that names an \
                          expired agreement fails the plan.",
            attributes: vec![
                Attribute::id("The system's identifier, assigned when it is created."),
                license_id_attribute(),
                Attribute::required(
                    "boundary_id",
                    Type::String,
                    "The `id` of the `hipaa_boundary` the system sits in.",
                ),
                Attribute::required("name", Type::String, "The system's name.")
                    .validator(Validator::NotBlank),
                Attribute::required(
                    "resource",
                    Type::String,
                    "The system, named by its ARN (what a live audit sees) or its Terraform \
                     address. In configuration, refer to the resource's `arn`, e.g. \
                     `aws_s3_bucket.claims.arn`: the scanner follows the reference. A literal \
                     is matched against a resource's ARN, its `id` and its address, e.g. \
                     `aws_s3_bucket.claims`.",
                )
                .validator(Validator::NotBlank),
                Attribute::required(
                    "handles",
                    Type::set_of(Type::String),
                    "What the system does with PHI: any of `store`, `transmit`, `process`.",
                )
                .validator(Validator::MinItems(1))
                .validator(Validator::EachOneOf(HANDLING)),
                Attribute::optional(
                    "data_classes",
                    strings(),
                    "The kinds of PHI handled, e.g. `claims`, `diagnoses`, `images`.",
                ),
                Attribute::required(
                    "owner",
                    Type::String,
                    "Who answers for the system: a person, team or role.",
                )
                .validator(Validator::NotBlank),
                Attribute::optional(
                    "baa_ids",
                    strings(),
                    "The `id`s of the `hipaa_baa` agreements covering the vendors of this \
                     system. Every one must be in force.",
                ),
            ],
            blocks: Vec::new(),
        }
    }

    fn modify_plan(
        &self,
        context: &Context,
        planned: &mut Object,
        _prior: Option<&Object>,
        diagnostics: &mut Diagnostics,
    ) {
        require_live(
            context,
            planned,
            "license_id",
            license::TYPE_NAME,
            diagnostics,
        );
        if let Some(record) = require_live(
            context,
            planned,
            "boundary_id",
            boundary::TYPE_NAME,
            diagnostics,
        ) {
            let planned_license = planned.get("license_id").and_then(|v| v.as_str());
            let boundary_license = record_str(&record, "license_id");
            if let (Some(planned), Some(bound)) = (planned_license, boundary_license) {
                if planned != bound {
                    diagnostics.attribute_error(
                        AttributePath::root("boundary_id"),
                        "Boundary belongs to another license",
                        format!("The boundary is bound to license {bound:?}, not {planned:?}."),
                    );
                }
            }
        }
        check_agreements(context, planned, diagnostics);
    }

    fn complete(&self, context: &Context, state: &mut Object, diagnostics: &mut Diagnostics) {
        check_agreements(context, state, diagnostics);
    }
}

/// Every named agreement must exist and be in force.
fn check_agreements(context: &Context, object: &Object, diagnostics: &mut Diagnostics) {
    for (index, id) in get_strings(object, "baa_ids") {
        let path = AttributePath::root("baa_ids").at_index(index);
        match context.live_record(baa::TYPE_NAME, &id) {
            None => diagnostics.attribute_error(
                path,
                "Unknown business associate agreement",
                format!("The ledger has no live hipaa_baa with id {id:?}."),
            ),
            Some(record) if baa_expired(&record, context.today) => diagnostics.attribute_error(
                path,
                "Business associate agreement expired",
                format!(
                    "This system names agreement {id:?}. {}",
                    baa::expired_detail(
                        record_str(&record, "vendor").unwrap_or("the vendor"),
                        record_str(&record, "expiration_date").unwrap_or("an earlier date"),
                    )
                ),
            ),
            Some(_) => {}
        }
    }
}
