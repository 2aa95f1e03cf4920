//! `hipaa_compliance_status`: what the ledger says is out of order today: expired agreements,
//! overdue security reviews and PHI systems no agreement in force covers.

use super::security_review;
use super::{baa, baa_expired, license, phi_system, record_i64, record_str, record_strings};
use crate::dates::{format_date, parse_date};
use crate::diagnostics::Diagnostics;
use crate::resource::{get_str, string_list, strings, Context, DataSource, Object};
use crate::schema::{Attribute, Schema};
use crate::value::{Type, Value};
use hipaa_compliance::license::LicenseTerms;

pub const TYPE_NAME: &str = "hipaa_compliance_status";

pub struct ComplianceStatus;

/// The findings, as lists of ids.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub expired_baas: Vec<String>,
    pub overdue_reviews: Vec<String>,
    pub phi_systems_without_baa: Vec<String>,
}

/// Judges the live objects of the ledger, optionally only those bound to one license.
pub fn findings(context: &Context, license_filter: Option<&str>) -> Findings {
    let mut found = Findings::default();
    let in_scope =
        |license_id: Option<&str>| license_filter.is_none() || license_id == license_filter;

    let agreements = context.live_objects(baa::TYPE_NAME);
    for (id, record) in &agreements {
        if baa_expired(record, context.today) {
            found.expired_baas.push(id.clone());
        }
    }

    let reviews = context.live_objects(security_review::TYPE_NAME);
    for (license_id, record) in context.live_objects(license::TYPE_NAME) {
        if !in_scope(Some(&license_id)) {
            continue;
        }
        let interval = record_i64(&record, "review_interval_days")
            .unwrap_or_else(|| i64::from(LicenseTerms::default().review_interval_days));
        let latest_review = reviews
            .values()
            .filter(|review| record_str(review, "license_id") == Some(license_id.as_str()))
            .filter_map(|review| record_str(review, "performed_on").and_then(parse_date))
            .max();
        // A license never reviewed is due one interval after it was first recorded.
        let start = latest_review.unwrap_or_else(|| first_recorded_day(context, &license_id));
        if start + interval < context.today {
            found.overdue_reviews.push(license_id.clone());
        }
    }

    for (id, record) in context.live_objects(phi_system::TYPE_NAME) {
        if !in_scope(record_str(&record, "license_id")) {
            continue;
        }
        let covered = record_strings(&record, "baa_ids").iter().any(|baa_id| {
            agreements
                .get(baa_id)
                .is_some_and(|agreement| !baa_expired(agreement, context.today))
        });
        if !covered {
            found.phi_systems_without_baa.push(id);
        }
    }
    found
}

fn first_recorded_day(context: &Context, license_id: &str) -> i64 {
    context
        .records()
        .iter()
        .find(|r| r.resource_type == license::TYPE_NAME && r.resource_id == license_id)
        .map(|r| (r.recorded_at / 86_400) as i64)
        .unwrap_or(context.today)
}

impl DataSource for ComplianceStatus {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            description: "Reads the ledger and reports what is out of order today: expired \
                          business associate agreements, licenses whose security review is \
                          overdue, and PHI systems that no agreement in force covers.",
            attributes: vec![
                Attribute::optional(
                    "license_id",
                    Type::String,
                    "Report only on objects bound to this license; all licenses when unset. \
                     Expired agreements are reported whatever the license.",
                ),
                Attribute::computed("as_of", Type::String, "The day judged, `YYYY-MM-DD` (UTC)."),
                Attribute::computed(
                    "expired_baas",
                    strings(),
                    "The `id`s of live `hipaa_baa` agreements past their expiration date.",
                ),
                Attribute::computed(
                    "overdue_reviews",
                    strings(),
                    "The `id`s of licenses whose latest `hipaa_security_review` is older than \
                     their `review_interval_days`.",
                ),
                Attribute::computed(
                    "phi_systems_without_baa",
                    strings(),
                    "The `id`s of `hipaa_phi_system`s naming no agreement in force.",
                ),
                Attribute::computed(
                    "compliant",
                    Type::Bool,
                    "True when all three lists are empty.",
                ),
            ],
            blocks: Vec::new(),
        }
    }

    fn read(&self, context: &Context, config: &Object, diagnostics: &mut Diagnostics) -> Object {
        let license_filter = get_str(config, "license_id");
        let found = findings(context, license_filter);
        context.report_failure(diagnostics);
        let compliant = found.expired_baas.is_empty()
            && found.overdue_reviews.is_empty()
            && found.phi_systems_without_baa.is_empty();
        Object::from([
            (
                "license_id".to_string(),
                license_filter.map(Value::string).unwrap_or(Value::Null),
            ),
            (
                "as_of".to_string(),
                Value::string(format_date(context.today)),
            ),
            ("expired_baas".to_string(), string_list(&found.expired_baas)),
            (
                "overdue_reviews".to_string(),
                string_list(&found.overdue_reviews),
            ),
            (
                "phi_systems_without_baa".to_string(),
                string_list(&found.phi_systems_without_baa),
            ),
            ("compliant".to_string(), Value::Bool(compliant)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hipaa_ledger::{Action, DirectoryLedger, Entry, LedgerBackend};

    fn record(ledger: &DirectoryLedger, kind: &str, id: &str, fields: serde_json::Value) {
        let attributes = fields
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        ledger
            .append(Entry {
                action: Action::Create,
                resource_type: kind.to_string(),
                resource_id: id.to_string(),
                attributes,
            })
            .unwrap();
    }

    #[test]
    fn expired_agreements_overdue_reviews_and_uncovered_systems() {
        use serde_json::json;
        let dir = std::env::temp_dir().join(format!("hipaa-status-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ledger = DirectoryLedger::open(&dir);
        let today = parse_date("2026-06-01").unwrap();

        record(
            &ledger,
            license::TYPE_NAME,
            "lic-a",
            json!({"review_interval_days": 90}),
        );
        record(
            &ledger,
            license::TYPE_NAME,
            "lic-b",
            json!({"review_interval_days": 90}),
        );
        record(
            &ledger,
            baa::TYPE_NAME,
            "baa-old",
            json!({"expiration_date": "2026-01-01"}),
        );
        record(
            &ledger,
            baa::TYPE_NAME,
            "baa-new",
            json!({"expiration_date": "2099-01-01"}),
        );
        let review = json!({"license_id": "lic-a", "performed_on": "2026-05-01"});
        record(&ledger, security_review::TYPE_NAME, "rev-a", review);
        let stale = json!({"license_id": "lic-b", "performed_on": "2025-01-01"});
        record(&ledger, security_review::TYPE_NAME, "rev-b", stale);
        let covered = json!({"license_id": "lic-a", "baa_ids": ["baa-new"]});
        record(&ledger, phi_system::TYPE_NAME, "phi-ok", covered);
        let lapsed = json!({"license_id": "lic-a", "baa_ids": ["baa-old"]});
        record(&ledger, phi_system::TYPE_NAME, "phi-lapsed", lapsed);

        let context = Context::new(&ledger, today);
        let found = findings(&context, None);
        assert_eq!(found.expired_baas, vec!["baa-old"]);
        assert_eq!(found.overdue_reviews, vec!["lic-b"]);
        assert_eq!(found.phi_systems_without_baa, vec!["phi-lapsed"]);

        let only_b = findings(&context, Some("lic-b"));
        assert_eq!(only_b.overdue_reviews, vec!["lic-b"]);
        assert!(only_b.phi_systems_without_baa.is_empty());

        ledger
            .append(Entry {
                action: Action::Retire,
                resource_type: phi_system::TYPE_NAME.to_string(),
                resource_id: "phi-lapsed".to_string(),
                attributes: Default::default(),
            })
            .unwrap();
        assert!(findings(&context, None).phi_systems_without_baa.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
