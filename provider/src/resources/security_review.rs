//! `hipaa_security_review`: a periodic evaluation of the security posture (45 CFR
//! 164.308(a)(8)), and when the next one is due under the license's review interval.

use super::{license, license_id_attribute, record_i64, require_live};
use crate::dates::{format_date, parse_date};
use crate::diagnostics::{AttributePath, Diagnostics};
use crate::resource::{get_str, Context, Object, Resource};
use crate::schema::{Attribute, PlanModifier, Schema, Validator};
use crate::value::{Type, Value};
use hipaa_compliance::license::LicenseTerms;

pub const TYPE_NAME: &str = "hipaa_security_review";

pub struct SecurityReview;

impl Resource for SecurityReview {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn id_prefix(&self) -> &'static str {
        "rev-"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            description: "A security review performed under a license. `next_due` follows from \
                          the license's `review_interval_days`; the `hipaa_compliance_status` \
                          data source reports licenses whose review is overdue.",
            attributes: vec![
                Attribute::id("The review's identifier, assigned when it is created."),
                license_id_attribute(),
                Attribute::required(
                    "performed_on",
                    Type::String,
                    "The day the review was completed, `YYYY-MM-DD`; not in the future. \
                     Changing it records a new review.",
                )
                .validator(Validator::IsoDate)
                .requires_replace(),
                Attribute::required(
                    "reviewer",
                    Type::String,
                    "Who performed the review. Changing it records a new review.",
                )
                .validator(Validator::NotBlank)
                .requires_replace(),
                Attribute::optional(
                    "summary",
                    Type::String,
                    "What the review found; may be amended in place.",
                ),
                Attribute::computed(
                    "next_due",
                    Type::String,
                    "The day the next review is due: `performed_on` plus the license's \
                     `review_interval_days`.",
                )
                .plan_modifier(PlanModifier::UseStateForUnknown),
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
        let performed = get_str(planned, "performed_on").and_then(parse_date);
        if performed.is_some_and(|day| day > context.today) {
            diagnostics.attribute_error(
                AttributePath::root("performed_on"),
                "Review date in the future",
                "A review is recorded once it has been performed.",
            );
        }
        let license = require_live(
            context,
            planned,
            "license_id",
            license::TYPE_NAME,
            diagnostics,
        );
        if let (Some(license), Some(performed)) = (license, performed) {
            if planned.get("next_due").is_some_and(Value::is_unknown) {
                let next = next_due(performed, record_i64(&license, "review_interval_days"));
                planned.insert("next_due".to_string(), Value::string(next));
            }
        }
    }

    fn complete(&self, context: &Context, state: &mut Object, _diagnostics: &mut Diagnostics) {
        if !state.get("next_due").is_some_and(Value::is_unknown) {
            return;
        }
        let interval = get_str(state, "license_id")
            .and_then(|id| context.live_record(license::TYPE_NAME, id))
            .and_then(|license| record_i64(&license, "review_interval_days"));
        if let Some(performed) = get_str(state, "performed_on").and_then(parse_date) {
            state.insert(
                "next_due".to_string(),
                Value::string(next_due(performed, interval)),
            );
        }
    }
}

/// The day after `performed` by the license's interval (its default when the license does
/// not say).
pub fn next_due(performed: i64, interval_days: Option<i64>) -> String {
    let interval =
        interval_days.unwrap_or_else(|| i64::from(LicenseTerms::default().review_interval_days));
    format_date(performed + interval)
}
