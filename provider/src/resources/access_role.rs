//! `hipaa_access_role`: a role that grants access to PHI systems, with the authentication the
//! license demands of it.

use super::{license, license_id_attribute, record_bool, require_live};
use crate::diagnostics::{AttributePath, Diagnostics};
use crate::resource::{get_bool, get_str, strings, Context, Object, Resource};
use crate::schema::{Attribute, Schema, Validator};
use crate::value::{Type, Value};

pub const TYPE_NAME: &str = "hipaa_access_role";

pub struct AccessRole;

impl Resource for AccessRole {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn id_prefix(&self) -> &'static str {
        "role-"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            description: "A role granting access to PHI. When its license requires multi-factor \
                          authentication, a role without it fails the plan (or, if the license \
                          is created in the same run, the apply).",
            attributes: vec![
                Attribute::id("The role's identifier, assigned when it is created."),
                license_id_attribute(),
                Attribute::required(
                    "name",
                    Type::String,
                    "The role's name. Changing it replaces the role.",
                )
                .validator(Validator::NotBlank)
                .requires_replace(),
                Attribute::required(
                    "permissions",
                    strings(),
                    "What the role may do, e.g. `claims:read`.",
                )
                .validator(Validator::MinItems(1)),
                Attribute::optional(
                    "members",
                    strings(),
                    "The people or groups holding the role.",
                ),
                Attribute::with_default(
                    "mfa_required",
                    Type::Bool,
                    Value::Bool(true),
                    "Whether the role requires multi-factor authentication (45 CFR 164.312(d)).",
                ),
                Attribute::with_default(
                    "max_session_minutes",
                    Type::Number,
                    Value::int(60),
                    "The longest a session may last before the holder must sign in again, from \
                     1 to 720 minutes (automatic logoff, 45 CFR 164.312(a)(2)(iii)).",
                )
                .validator(Validator::Between(1, 720)),
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
        if let Some(license) = require_live(
            context,
            planned,
            "license_id",
            license::TYPE_NAME,
            diagnostics,
        ) {
            check_mfa(planned, record_bool(&license, "mfa_required"), diagnostics);
        }
    }

    /// The license may have been created in this run, after the plan was made.
    fn complete(&self, context: &Context, state: &mut Object, diagnostics: &mut Diagnostics) {
        let license =
            get_str(state, "license_id").and_then(|id| context.live_record(license::TYPE_NAME, id));
        if let Some(license) = license {
            check_mfa(state, record_bool(&license, "mfa_required"), diagnostics);
        }
    }
}

/// Known shortcoming: the license's terms are read from its newest ledger record, so a plan
/// that turns the license's `mfa_required` off and a role's off together is refused until the
/// license change is applied first.
fn check_mfa(role: &Object, license_requires_mfa: Option<bool>, diagnostics: &mut Diagnostics) {
    if license_requires_mfa == Some(true) && get_bool(role, "mfa_required") == Some(false) {
        diagnostics.attribute_error(
            AttributePath::root("mfa_required"),
            "License requires multi-factor authentication",
            "The role's license sets mfa_required = true, so every role under it must require \
             multi-factor authentication (45 CFR 164.312(d)).",
        );
    }
}
