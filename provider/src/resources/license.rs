//! `hipaa_license`: the terms of a HIPAA licensing model. The terms are checked with
//! `hipaa_compliance::license::LicenseTerms::violations`, the same check the scanner makes.

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::resource::{Context, Object, Resource};
use crate::schema::{Attribute, Schema, Validator};
use crate::value::{Type, Value};
use hipaa_compliance::license::LicenseTerms;
use hipaa_compliance::tls::TlsVersion;
use std::collections::BTreeSet;

pub const TYPE_NAME: &str = "hipaa_license";

/// The values `min_tls_version` takes, as written in configuration.
const ALLOWED_TLS: &[&str] = &["1.2", "1.3"];

pub struct License;

impl Resource for License {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn id_prefix(&self) -> &'static str {
        "lic-"
    }

    fn schema(&self) -> Schema {
        let defaults = LicenseTerms::default();
        Schema {
            version: 0,
            description: "The terms of a HIPAA licensing model that every declared system, \
                          business associate agreement and access role is held to. Each \
                          change of terms or version is kept in the ledger history.",
            attributes: vec![
                Attribute::id("The license's identifier, assigned when it is created."),
                Attribute::required("name", Type::String, "The license's name.")
                    .validator(Validator::NotBlank)
                    .requires_replace(),
                Attribute::required(
                    "version",
                    Type::String,
                    "The version of the terms, e.g. `2025.1`. Changing it updates the license \
                     in place and records the new version in the ledger.",
                )
                .validator(Validator::NotBlank),
                Attribute::with_default(
                    "min_tls_version",
                    Type::String,
                    Value::string(defaults.min_tls_version.to_string()),
                    "The lowest TLS version any connection carrying PHI may use: `\"1.2\"` or \
                     `\"1.3\"` (45 CFR 164.312(e)(2)(ii)).",
                ),
                Attribute::with_default(
                    "customer_managed_keys",
                    Type::Bool,
                    Value::Bool(defaults.customer_managed_keys),
                    "Whether PHI must be encrypted with keys the licensee manages rather than \
                     keys owned by the cloud provider.",
                ),
                Attribute::with_default(
                    "key_rotation_days",
                    Type::Number,
                    Value::int(i64::from(defaults.key_rotation_days)),
                    "The longest a data key may stay in use before it is rotated, at most 365 \
                     days (45 CFR 164.312(a)(2)(iv)).",
                ),
                Attribute::with_default(
                    "mfa_required",
                    Type::Bool,
                    Value::Bool(defaults.mfa_required),
                    "Whether every access role under this license must require multi-factor \
                     authentication (45 CFR 164.312(d)).",
                ),
                Attribute::optional(
                    "log_retention_days",
                    Type::Number,
                    "How long audit logs must be kept; at least six years (2190 days, 45 CFR \
                     164.316(b)(2)(i)) when set.",
                ),
                Attribute::optional(
                    "incident_response_hours",
                    Type::Number,
                    "How soon after discovery a security incident must be answered, in hours \
                     (45 CFR 164.308(a)(6)(ii)).",
                ),
                Attribute::with_default(
                    "breach_notification_days",
                    Type::Number,
                    Value::int(i64::from(defaults.breach_notification_days)),
                    "The longest a breach may go unreported, at most 60 days after discovery \
                     (45 CFR 164.410(b)).",
                ),
                Attribute::with_default(
                    "review_interval_days",
                    Type::Number,
                    Value::int(i64::from(defaults.review_interval_days)),
                    "How often the security posture must be reviewed, at least once a year \
                     (45 CFR 164.308(a)(8)). Sets `next_due` of `hipaa_security_review`.",
                ),
                Attribute::with_default(
                    "audit_rights",
                    Type::Bool,
                    Value::Bool(defaults.audit_rights),
                    "Whether the covered entity may audit the systems bound to the license.",
                ),
                Attribute::with_default(
                    "security_updates_required",
                    Type::Bool,
                    Value::Bool(defaults.security_updates_required),
                    "Whether security updates must be applied to the systems bound to the \
                     license (45 CFR 164.308(a)(5)(ii)(B)).",
                ),
                Attribute::with_default(
                    "terminate_on_noncompliance",
                    Type::Bool,
                    Value::Bool(defaults.terminate_on_noncompliance),
                    "Whether the covered entity may end the license when its terms are broken; \
                     must be `true` (45 CFR 164.314(a)(1)).",
                ),
            ],
            blocks: Vec::new(),
        }
    }

    fn validate_config(&self, config: &Object, diagnostics: &mut Diagnostics) {
        let (terms, unknown) = terms_from(config, diagnostics);
        for violation in terms.violations() {
            if unknown.contains(violation.attribute) {
                continue;
            }
            diagnostics.attribute_error(
                AttributePath::root(violation.attribute),
                "License term not allowed by HIPAA",
                format!("{} (45 CFR {}).", violation.message, violation.citation),
            );
        }
    }

    fn modify_plan(
        &self,
        _context: &Context,
        planned: &mut Object,
        _prior: Option<&Object>,
        diagnostics: &mut Diagnostics,
    ) {
        // Defaults are applied by now, so check the terms as they will be recorded.
        let mut ignored = Diagnostics::default();
        let (terms, unknown) = terms_from(planned, &mut ignored);
        for violation in terms.violations() {
            if !unknown.contains(violation.attribute) {
                diagnostics.attribute_error(
                    AttributePath::root(violation.attribute),
                    "License term not allowed by HIPAA",
                    format!("{} (45 CFR {}).", violation.message, violation.citation),
                );
            }
        }
    }
}

/// The terms a license object states, defaults filling null values, and the names of the
/// attributes that are still unknown (their defaults stand in and must not be judged).
pub fn terms_from(
    object: &Object,
    diagnostics: &mut Diagnostics,
) -> (LicenseTerms, BTreeSet<&'static str>) {
    let mut terms = LicenseTerms::default();
    let mut unknown = BTreeSet::new();

    let mut read = |name: &'static str| -> Option<&Value> {
        match object.get(name) {
            Some(value) if value.is_unknown() => {
                unknown.insert(name);
                None
            }
            Some(Value::Null) | None => None,
            Some(value) => Some(value),
        }
    };

    // One diagnostic per value: an older version is a term HIPAA forbids (reported with its
    // citation by `violations`), anything else is not a version this attribute takes.
    if let Some(text) = read("min_tls_version").and_then(Value::as_str) {
        match TlsVersion::parse(text) {
            Some(version) if version < TlsVersion::Tls12 || ALLOWED_TLS.contains(&text) => {
                terms.min_tls_version = version;
            }
            _ => diagnostics.attribute_error(
                AttributePath::root("min_tls_version"),
                "Invalid attribute value",
                format!("Must be \"1.2\" or \"1.3\", got {text:?}."),
            ),
        }
    }
    for (name, slot) in [
        ("customer_managed_keys", &mut terms.customer_managed_keys),
        ("mfa_required", &mut terms.mfa_required),
        ("audit_rights", &mut terms.audit_rights),
        (
            "security_updates_required",
            &mut terms.security_updates_required,
        ),
        (
            "terminate_on_noncompliance",
            &mut terms.terminate_on_noncompliance,
        ),
    ] {
        if let Some(flag) = read(name).and_then(Value::as_bool) {
            *slot = flag;
        }
    }
    for (name, slot) in [
        ("key_rotation_days", &mut terms.key_rotation_days),
        (
            "breach_notification_days",
            &mut terms.breach_notification_days,
        ),
        ("review_interval_days", &mut terms.review_interval_days),
    ] {
        if let Some(value) = read(name) {
            if let Some(days) = whole_days(name, value, diagnostics) {
                *slot = days;
            }
        }
    }
    for (name, slot) in [
        ("log_retention_days", &mut terms.log_retention_days),
        (
            "incident_response_hours",
            &mut terms.incident_response_hours,
        ),
    ] {
        if let Some(value) = read(name) {
            *slot = whole_days(name, value, diagnostics);
        }
    }
    (terms, unknown)
}

fn whole_days(name: &'static str, value: &Value, diagnostics: &mut Diagnostics) -> Option<u32> {
    let days = value.as_i64().and_then(|n| u32::try_from(n).ok());
    if days.is_none() {
        diagnostics.attribute_error(
            AttributePath::root(name),
            "Invalid attribute value",
            format!(
                "Must be a whole number of zero or more, got {}.",
                describe(value)
            ),
        );
    }
    days
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(number) => number.to_string(),
        other => format!("{:?}", other.to_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostic;

    /// What Terraform's validation reports for one `min_tls_version`: the schema's checks,
    /// then the license's own.
    fn validate_tls(version: &str) -> Vec<Diagnostic> {
        let schema = License.schema();
        let config: Object = [
            ("name", Value::string("acme")),
            ("version", Value::string("1")),
            ("min_tls_version", Value::string(version)),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
        let mut diagnostics = Diagnostics::default();
        schema.validate(&Value::Map(config.clone()), &mut diagnostics);
        License.validate_config(&config, &mut diagnostics);
        diagnostics.0
    }

    #[test]
    fn a_refused_tls_version_gets_one_diagnostic() {
        for (version, summary, detail) in [
            (
                "1.1",
                "License term not allowed by HIPAA",
                "TLS 1.1 is not acceptable for PHI in transit; use \"1.2\" or \"1.3\" \
                 (45 CFR 164.312(e)(2)(ii)).",
            ),
            (
                "SSLv3",
                "License term not allowed by HIPAA",
                "TLS SSLv3 is not acceptable for PHI in transit; use \"1.2\" or \"1.3\" \
                 (45 CFR 164.312(e)(2)(ii)).",
            ),
            (
                "TLSv1.2",
                "Invalid attribute value",
                "Must be \"1.2\" or \"1.3\", got \"TLSv1.2\".",
            ),
            (
                "1.4",
                "Invalid attribute value",
                "Must be \"1.2\" or \"1.3\", got \"1.4\".",
            ),
        ] {
            let found = validate_tls(version);
            let seen: Vec<(&str, &str, String)> = found
                .iter()
                .map(|d| {
                    let path = d.attribute.as_ref().map(|p| p.to_string());
                    (
                        d.summary.as_str(),
                        d.detail.as_str(),
                        path.unwrap_or_default(),
                    )
                })
                .collect();
            assert_eq!(
                seen,
                [(summary, detail, "min_tls_version".to_string())],
                "{version}"
            );
        }
        for version in ALLOWED_TLS {
            assert_eq!(validate_tls(version), [], "{version}");
        }
    }
}
