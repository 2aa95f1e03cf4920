//! `hipaa_boundary`: where PHI may live under a license: regions, accounts and the resources
//! inside.

use super::{license, license_id_attribute, require_live};
use crate::diagnostics::Diagnostics;
use crate::resource::{strings, Context, Object, Resource};
use crate::schema::{Attribute, Schema, Validator};
use crate::value::Type;

pub const TYPE_NAME: &str = "hipaa_boundary";

pub struct Boundary;

impl Resource for Boundary {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn id_prefix(&self) -> &'static str {
        "bnd-"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            description: "A compliance boundary: the regions and accounts PHI may be stored in \
                          or sent to under a license, and the resources inside it. The scanner \
                          flags PHI that leaves it.",
            attributes: vec![
                Attribute::id("The boundary's identifier, assigned when it is created."),
                license_id_attribute(),
                Attribute::required("name", Type::String, "The boundary's name.")
                    .validator(Validator::NotBlank),
                Attribute::required(
                    "regions",
                    strings(),
                    "The cloud regions PHI may be stored in or sent to, e.g. `us-east-1`.",
                )
                .validator(Validator::MinItems(1)),
                Attribute::optional(
                    "accounts",
                    strings(),
                    "The cloud accounts (AWS account ids, Azure subscriptions, Google \
                     projects) inside the boundary.",
                ),
                Attribute::optional(
                    "members",
                    strings(),
                    "The resources inside the boundary, each named by its ARN (what a live \
                     audit sees) or its Terraform address. In configuration, refer to the \
                     resource's `arn`, e.g. `aws_s3_bucket.claims.arn`: the scanner follows \
                     the reference. A literal is matched against a resource's ARN, its `id` and \
                     its address, e.g. `aws_s3_bucket.claims`.",
                ),
                Attribute::optional(
                    "phi_tags",
                    Type::Map(Box::new(Type::String)),
                    "The tags that mark a resource as holding PHI, e.g. \
                     `{ \"data-class\" = \"phi\" }`. A bucket carrying all of them must be \
                     declared by a `hipaa_phi_system` or listed in `members`; `hipaa scan` and \
                     `hipaa audit aws` report one that is not.",
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
    }
}
