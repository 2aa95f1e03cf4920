//! `hipaa_baa`: a business associate agreement with a vendor, the terms 45 CFR 164.314(a)
//! requires of it, and whether it is in force.

use crate::dates::parse_date;
use crate::diagnostics::{AttributePath, Diagnostics};
use crate::resource::{get_i64, get_str, strings, Context, Object, Resource};
use crate::schema::{Attribute, PlanModifier, Schema, Validator};
use crate::value::{Type, Value};
use hipaa_compliance::license::MAX_BREACH_NOTIFICATION_DAYS;

pub const TYPE_NAME: &str = "hipaa_baa";

/// The terms an agreement must contain, with the paragraph requiring each.
const REQUIRED_TERMS: &[(&str, &str, &str)] = &[
    (
        "audit_rights",
        "the covered entity's right to audit the vendor",
        "164.314(a)(2)(i)",
    ),
    (
        "security_updates_required",
        "the vendor's duty to keep safeguards up to date",
        "164.314(a)(2)(i)(A)",
    ),
    (
        "termination_right",
        "the right to terminate the agreement when the vendor breaks it",
        "164.314(a)(2)(i)(D)",
    ),
    (
        "subcontractor_flowdown",
        "the same terms binding the vendor's subcontractors",
        "164.314(a)(2)(i)(B)",
    ),
];

pub struct Baa;

/// `pending` before the effective date, `active` until the expiration date, then `expired`.
pub fn status_on(effective: i64, expires: i64, today: i64) -> &'static str {
    if today < effective {
        "pending"
    } else if today > expires {
        "expired"
    } else {
        "active"
    }
}

fn planned_status(object: &Object, today: i64) -> Option<&'static str> {
    let effective = parse_date(get_str(object, "effective_date")?)?;
    let expires = parse_date(get_str(object, "expiration_date")?)?;
    Some(status_on(effective, expires, today))
}

/// Why an expired agreement is refused, and the ways forward.
pub fn expired_detail(vendor: &str, expired_on: &str) -> String {
    format!(
        "The agreement with {vendor} expired on {expired_on}; PHI may not be shared with the \
         vendor without an agreement in force (45 CFR 164.308(b)(1)). To go on, either renew \
         it and set `expiration_date` to the renewed agreement's last day, or end it: remove \
         the `hipaa_baa` block together with every `baa_ids` naming it, or run `terraform \
         destroy -target` with the agreement's address."
    )
}

impl Resource for Baa {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn id_prefix(&self) -> &'static str {
        "baa-"
    }

    fn schema(&self) -> Schema {
        let required_term = |name: &'static str, description: &'static str| {
            Attribute::with_default(name, Type::Bool, Value::Bool(true), description)
        };
        Schema {
            version: 0,
            description: "A business associate agreement with a vendor that handles PHI. \
                          Creating or changing an expired agreement fails the plan, and so \
                          does creating or changing a PHI system naming one; left unchanged, \
                          they are warned about in every plan until the agreement is renewed \
                          or removed. Destroying it is always possible.",
            attributes: vec![
                Attribute::id("The agreement's identifier, assigned when it is created."),
                Attribute::required(
                    "vendor",
                    Type::String,
                    "The business associate. Changing it replaces the agreement.",
                )
                .validator(Validator::NotBlank)
                .requires_replace(),
                Attribute::required(
                    "services",
                    strings(),
                    "The vendor's services the agreement covers, e.g. `s3`, `rds`.",
                )
                .validator(Validator::MinItems(1)),
                Attribute::required(
                    "effective_date",
                    Type::String,
                    "The day the agreement takes effect, `YYYY-MM-DD`.",
                )
                .validator(Validator::IsoDate),
                Attribute::required(
                    "expiration_date",
                    Type::String,
                    "The last day the agreement is in force, `YYYY-MM-DD`.",
                )
                .validator(Validator::IsoDate),
                Attribute::with_default(
                    "breach_notification_days",
                    Type::Number,
                    Value::int(i64::from(MAX_BREACH_NOTIFICATION_DAYS)),
                    "The longest the vendor may take to report a breach, at most 60 days \
                     (45 CFR 164.410(b)).",
                ),
                required_term(
                    "audit_rights",
                    "Whether the covered entity may audit the vendor; must be `true`.",
                ),
                required_term(
                    "security_updates_required",
                    "Whether the vendor must keep its safeguards up to date; must be `true`.",
                ),
                required_term(
                    "termination_right",
                    "Whether the covered entity may terminate the agreement when the vendor \
                     breaks it; must be `true`.",
                ),
                required_term(
                    "subcontractor_flowdown",
                    "Whether the vendor's subcontractors are bound by the same terms; must be \
                     `true`.",
                ),
                Attribute::optional(
                    "document_sha256",
                    Type::String,
                    "SHA-256 of the signed agreement document (64 lowercase hex digits), tying \
                     the declaration to the paper.",
                )
                .validator(Validator::Sha256Hex),
                Attribute::computed(
                    "status",
                    Type::String,
                    "`pending` before the effective date, `active` while in force, `expired` \
                     after the expiration date.",
                )
                .plan_modifier(PlanModifier::UseStateForUnknown),
            ],
            blocks: Vec::new(),
        }
    }

    fn validate_config(&self, config: &Object, diagnostics: &mut Diagnostics) {
        if let Some(days) = get_i64(config, "breach_notification_days") {
            if !(0..=i64::from(MAX_BREACH_NOTIFICATION_DAYS)).contains(&days) {
                diagnostics.attribute_error(
                    AttributePath::root("breach_notification_days"),
                    "Breach notice too late",
                    format!(
                        "A business associate must report a breach within \
                         {MAX_BREACH_NOTIFICATION_DAYS} days of discovery, got {days} \
                         (45 CFR 164.410(b))."
                    ),
                );
            }
        }
        for (name, what, citation) in REQUIRED_TERMS {
            if super::value_is_known_false(config, name) {
                diagnostics.attribute_error(
                    AttributePath::root(name),
                    "Required agreement term missing",
                    format!(
                        "A business associate agreement must provide {what} (45 CFR {citation})."
                    ),
                );
            }
        }
        let effective = get_str(config, "effective_date").and_then(parse_date);
        let expires = get_str(config, "expiration_date").and_then(parse_date);
        if let (Some(effective), Some(expires)) = (effective, expires) {
            if expires < effective {
                diagnostics.attribute_error(
                    AttributePath::root("expiration_date"),
                    "Agreement ends before it starts",
                    "expiration_date must not be earlier than effective_date.",
                );
            }
        }
    }

    fn modify_plan(
        &self,
        context: &Context,
        planned: &mut Object,
        _prior: Option<&Object>,
        diagnostics: &mut Diagnostics,
    ) {
        if let Some(status) = planned_status(planned, context.today) {
            planned.insert("status".to_string(), Value::string(status));
        }
        if planned.get("status").and_then(Value::as_str) == Some("expired") {
            diagnostics.attribute_error(
                AttributePath::root("expiration_date"),
                "Business associate agreement expired",
                expired_detail(
                    get_str(planned, "vendor").unwrap_or("the vendor"),
                    get_str(planned, "expiration_date").unwrap_or("an earlier date"),
                ),
            );
        }
    }

    fn complete(&self, context: &Context, state: &mut Object, _diagnostics: &mut Diagnostics) {
        if state.get("status").is_some_and(Value::is_unknown) {
            let status = planned_status(state, context.today).unwrap_or("active");
            state.insert("status".to_string(), Value::string(status));
        }
    }

    fn refresh(&self, context: &Context, state: &mut Object) {
        if let Some(status) = planned_status(state, context.today) {
            state.insert("status".to_string(), Value::string(status));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(fields: &[(&str, Value)]) -> Object {
        fields
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    #[test]
    fn status_follows_the_dates() {
        let (start, end) = (
            parse_date("2025-01-01").unwrap(),
            parse_date("2025-12-31").unwrap(),
        );
        assert_eq!(status_on(start, end, start - 1), "pending");
        assert_eq!(status_on(start, end, start), "active");
        assert_eq!(status_on(start, end, end), "active");
        assert_eq!(status_on(start, end, end + 1), "expired");
    }

    #[test]
    fn late_breach_notice_and_missing_terms_are_refused_at_their_attributes() {
        let mut diagnostics = Diagnostics::default();
        let bad = config(&[
            ("breach_notification_days", Value::int(61)),
            ("termination_right", Value::Bool(false)),
            ("effective_date", Value::string("2025-06-01")),
            ("expiration_date", Value::string("2025-01-01")),
        ]);
        Baa.validate_config(&bad, &mut diagnostics);
        let paths: Vec<String> = diagnostics
            .0
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "breach_notification_days",
                "termination_right",
                "expiration_date"
            ]
        );
    }

    #[test]
    fn unknown_terms_are_not_refused() {
        let mut diagnostics = Diagnostics::default();
        let pending = config(&[
            ("breach_notification_days", Value::unknown()),
            ("audit_rights", Value::unknown()),
        ]);
        Baa.validate_config(&pending, &mut diagnostics);
        assert!(diagnostics.0.is_empty(), "{diagnostics:?}");
    }
}
