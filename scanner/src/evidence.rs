//! The declarations of a HIPAA licensing model, as evidence: licenses with their terms and
//! version history, business associate agreements, PHI systems, access roles and security
//! reviews. Read from the attestation ledger `terraform-provider-hipaa` writes (what was
//! applied), or from the `hipaa_*` resources of a configuration (what is about to be).
//!
//! Only the attributes named in the tables below are ever read, so nothing the provider might
//! one day record beside them can reach a report; the ledger itself refuses attributes whose
//! names look like secrets.

use crate::dates::Date;
use crate::model::{Mode, Project, Resource};
use crate::value::Value;
use hipaa_ledger::{Action, DirectoryLedger, LedgerBackend, Record};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LICENSE: &str = "hipaa_license";
const AGREEMENT: &str = "hipaa_baa";
const PHI_SYSTEM: &str = "hipaa_phi_system";
const ACCESS_ROLE: &str = "hipaa_access_role";
const REVIEW: &str = "hipaa_security_review";

/// The license terms a report shows, in this order, with their labels.
pub const LICENSE_TERMS: &[(&str, &str)] = &[
    ("min_tls_version", "Lowest TLS version"),
    ("customer_managed_keys", "Customer-managed keys"),
    ("key_rotation_days", "Key rotation (days)"),
    ("mfa_required", "MFA required"),
    ("log_retention_days", "Log retention (days)"),
    ("breach_notification_days", "Breach notification (days)"),
    ("incident_response_hours", "Incident response (hours)"),
    ("review_interval_days", "Security review interval (days)"),
    ("audit_rights", "Audit rights"),
    ("security_updates_required", "Security updates required"),
    ("terminate_on_noncompliance", "Terminate on non-compliance"),
];

/// Attributes of a configuration's declarations that name other declarations; when their value
/// is not known before apply, the address they refer to stands in for it.
const REFERENCE_ATTRIBUTES: &[&str] = &["license_id", "boundary_id", "baa_ids", "resource"];

/// Provider defaults (as JSON), for attributes a configuration leaves unset; the ledger records
/// the value the provider settled on.
const DEFAULTS: &[(&str, &str, &str)] = &[
    (ACCESS_ROLE, "mfa_required", "true"),
    (ACCESS_ROLE, "max_session_minutes", "60"),
];

/// One declared object: its id (the ledger id, or the configuration address) and attributes.
#[derive(Debug, Clone, PartialEq)]
struct Object {
    id: String,
    attributes: BTreeMap<String, Json>,
}

impl Object {
    fn text(&self, name: &str) -> String {
        match self.attributes.get(name) {
            Some(Json::String(text)) => text.clone(),
            Some(Json::Number(number)) => number.to_string(),
            Some(Json::Bool(flag)) => flag.to_string(),
            _ => String::new(),
        }
    }

    fn texts(&self, name: &str) -> Vec<String> {
        match self.attributes.get(name) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Json::String(text) => Some(text.clone()),
                    Json::Number(number) => Some(number.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn flag(&self, name: &str) -> Option<bool> {
        self.attributes.get(name).and_then(Json::as_bool)
    }

    fn date(&self, name: &str) -> Option<Date> {
        self.attributes
            .get(name)
            .and_then(Json::as_str)
            .and_then(Date::parse)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct License {
    pub id: String,
    pub name: String,
    pub version: String,
    /// `(label, value)` of each term in [`LICENSE_TERMS`] that is set.
    pub terms: Vec<(&'static str, String)>,
    /// Every recorded change, oldest first; empty for a configuration.
    pub history: Vec<LicenseChange>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LicenseChange {
    pub recorded_on: Date,
    pub action: &'static str,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStatus {
    Pending,
    Active,
    Expired,
    /// The dates are missing or not known before apply.
    Unknown,
}

impl AgreementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementStatus::Pending => "pending",
            AgreementStatus::Active => "active",
            AgreementStatus::Expired => "expired",
            AgreementStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub id: String,
    pub vendor: String,
    pub services: Vec<String>,
    pub effective: String,
    pub expires: String,
    pub status: AgreementStatus,
    /// Days from the report's day to the last day in force; negative once expired.
    pub days_left: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhiSystem {
    pub id: String,
    pub name: String,
    pub resource: String,
    pub handles: Vec<String>,
    pub data_classes: Vec<String>,
    pub owner: String,
    pub license_id: String,
    /// The vendors of the agreements covering it (their ids, where not declared).
    pub agreements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessRole {
    pub id: String,
    pub name: String,
    pub license_id: String,
    pub permissions: Vec<String>,
    pub members: Vec<String>,
    /// `None` when not known before apply.
    pub mfa_required: Option<bool>,
    pub max_session_minutes: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: String,
    pub license_id: String,
    pub performed_on: String,
    pub reviewer: String,
    pub next_due: Option<Date>,
    /// Whether the next review is past due on the report's day.
    pub overdue: bool,
}

/// Everything declared, live objects only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declarations {
    pub licenses: Vec<License>,
    pub agreements: Vec<Agreement>,
    pub phi_systems: Vec<PhiSystem>,
    pub roles: Vec<AccessRole>,
    pub reviews: Vec<Review>,
}

/// What a ledger directory holds, and whether its chain is intact.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEvidence {
    pub dir: PathBuf,
    pub records: u64,
    pub head: Option<String>,
    pub intact: bool,
    /// What breaks the chain, when it is broken.
    pub problems: Vec<String>,
    pub declarations: Declarations,
}

/// Reads a ledger directory as of `today`.
pub fn read_ledger(dir: &Path, today: Date) -> Result<LedgerEvidence, String> {
    if !dir.is_dir() {
        return Err(format!("{}: expected a ledger directory", dir.display()));
    }
    let verified = hipaa_ledger::verify(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let records = DirectoryLedger::open(dir)
        .records()
        .map_err(|e| format!("{}: {e}", dir.display()))?;

    let mut live: BTreeMap<(String, String), Object> = BTreeMap::new();
    let mut history: BTreeMap<String, Vec<LicenseChange>> = BTreeMap::new();
    for record in &records {
        if record.resource_type == LICENSE {
            history
                .entry(record.resource_id.clone())
                .or_default()
                .push(change_of(record));
        }
        let key = (record.resource_type.clone(), record.resource_id.clone());
        if record.action == Action::Retire {
            live.remove(&key);
        } else {
            live.insert(
                key,
                Object {
                    id: record.resource_id.clone(),
                    attributes: record.attributes.clone(),
                },
            );
        }
    }

    let mut by_type: BTreeMap<String, Vec<Object>> = BTreeMap::new();
    for ((resource_type, _), object) in live {
        by_type.entry(resource_type).or_default().push(object);
    }
    let mut declarations = declarations_of(&by_type, today);
    for license in &mut declarations.licenses {
        license.history = history.remove(&license.id).unwrap_or_default();
    }

    Ok(LedgerEvidence {
        dir: dir.to_path_buf(),
        records: verified.records,
        head: verified.head.clone(),
        intact: verified.is_intact(),
        problems: verified.problems.iter().map(ToString::to_string).collect(),
        declarations,
    })
}

fn change_of(record: &Record) -> LicenseChange {
    let days = i64::try_from(record.recorded_at / 86_400).unwrap_or(0);
    LicenseChange {
        recorded_on: Date::parse("1970-01-01")
            .map(|epoch| epoch.plus_days(days))
            .unwrap_or_else(Date::today),
        action: match record.action {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Retire => "retired",
        },
        version: record
            .attributes
            .get("version")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// The declarations a configuration makes in `hipaa_*` resources, ids being their addresses.
pub fn from_project(project: &Project, today: Date) -> Declarations {
    let mut by_type: BTreeMap<String, Vec<Object>> = BTreeMap::new();
    let declared = project
        .resources
        .iter()
        .filter(|r| r.mode == Mode::Managed && r.resource_type.starts_with("hipaa_"));
    for resource in declared {
        by_type
            .entry(resource.resource_type.clone())
            .or_default()
            .push(object_of(resource));
    }
    declarations_of(&by_type, today)
}

fn object_of(resource: &Resource) -> Object {
    let mut attributes: BTreeMap<String, Json> = match to_json(&resource.values) {
        Json::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    for name in REFERENCE_ATTRIBUTES {
        let referenced: Vec<Json> = resource
            .references_of(name)
            .iter()
            .map(|reference| Json::String(reference.address.clone()))
            .collect();
        let current = attributes.get(*name).cloned().unwrap_or(Json::Null);
        let replacement = match current {
            Json::Null if !referenced.is_empty() => {
                if *name == "baa_ids" {
                    Json::Array(referenced)
                } else {
                    referenced[0].clone()
                }
            }
            Json::Array(items) if items.iter().any(Json::is_null) => Json::Array(referenced),
            other => other,
        };
        attributes.insert(name.to_string(), replacement);
    }
    for (resource_type, name, default) in DEFAULTS {
        if *resource_type == resource.resource_type && resource.attr(name).is_null() {
            let value = serde_json::from_str(default).unwrap_or(Json::Null);
            attributes.insert(name.to_string(), value);
        }
    }
    Object {
        id: resource.address.clone(),
        attributes,
    }
}

/// A value as JSON; what cannot be seen before apply (or must not be) becomes null.
fn to_json(value: &Value) -> Json {
    match value {
        Value::Bool(flag) => Json::Bool(*flag),
        Value::Number(number) => serde_json::Number::from_f64(*number)
            .map(|n| {
                if number.fract() == 0.0 && number.abs() < 1e15 {
                    Json::from(*number as i64)
                } else {
                    Json::Number(n)
                }
            })
            .unwrap_or(Json::Null),
        Value::String(text) => Json::String(text.clone()),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), to_json(value)))
                .collect(),
        ),
        Value::Null | Value::Unknown | Value::Sensitive | Value::AnyOf(_) => Json::Null,
    }
}

fn declarations_of(by_type: &BTreeMap<String, Vec<Object>>, today: Date) -> Declarations {
    let objects = |resource_type: &str| by_type.get(resource_type).into_iter().flatten();
    let vendors: BTreeMap<&str, String> = objects(AGREEMENT)
        .map(|agreement| (agreement.id.as_str(), agreement.text("vendor")))
        .collect();

    Declarations {
        licenses: objects(LICENSE)
            .map(|license| License {
                id: license.id.clone(),
                name: license.text("name"),
                version: license.text("version"),
                terms: LICENSE_TERMS
                    .iter()
                    .filter(|(name, _)| license.attributes.get(*name).is_some_and(|v| !v.is_null()))
                    .map(|(name, label)| (*label, license.text(name)))
                    .collect(),
                history: Vec::new(),
            })
            .collect(),
        agreements: objects(AGREEMENT)
            .map(|agreement| {
                let effective = agreement.date("effective_date");
                let expires = agreement.date("expiration_date");
                let status = match (effective, expires) {
                    (Some(from), _) if today < from => AgreementStatus::Pending,
                    (Some(_), Some(last)) if today > last => AgreementStatus::Expired,
                    (Some(_), Some(_)) => AgreementStatus::Active,
                    _ => AgreementStatus::Unknown,
                };
                Agreement {
                    id: agreement.id.clone(),
                    vendor: agreement.text("vendor"),
                    services: agreement.texts("services"),
                    effective: agreement.text("effective_date"),
                    expires: agreement.text("expiration_date"),
                    status,
                    days_left: expires.map(|last| today.days_until(last)),
                }
            })
            .collect(),
        phi_systems: objects(PHI_SYSTEM)
            .map(|system| PhiSystem {
                id: system.id.clone(),
                name: system.text("name"),
                resource: system.text("resource"),
                handles: system.texts("handles"),
                data_classes: system.texts("data_classes"),
                owner: system.text("owner"),
                license_id: system.text("license_id"),
                agreements: system
                    .texts("baa_ids")
                    .into_iter()
                    .map(|id| vendors.get(id.as_str()).cloned().unwrap_or(id))
                    .collect(),
            })
            .collect(),
        roles: objects(ACCESS_ROLE)
            .map(|role| AccessRole {
                id: role.id.clone(),
                name: role.text("name"),
                license_id: role.text("license_id"),
                permissions: role.texts("permissions"),
                members: role.texts("members"),
                mfa_required: role.flag("mfa_required"),
                max_session_minutes: role.text("max_session_minutes"),
            })
            .collect(),
        reviews: objects(REVIEW)
            .map(|review| {
                let next_due = review.date("next_due");
                Review {
                    id: review.id.clone(),
                    license_id: review.text("license_id"),
                    performed_on: review.text("performed_on"),
                    reviewer: review.text("reviewer"),
                    next_due,
                    overdue: next_due.is_some_and(|due| today > due),
                }
            })
            .collect(),
    }
}

/// The name of a license by id, or the id itself when it is not declared.
pub fn license_name(declarations: &Declarations, id: &str) -> String {
    declarations
        .licenses
        .iter()
        .find(|license| license.id == id)
        .map(|license| license.name.clone())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hipaa_ledger::Entry;

    fn attributes(pairs: &[(&str, Json)]) -> BTreeMap<String, Json> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    #[test]
    fn a_configuration_gives_declarations_linked_by_reference_with_defaults() {
        let dir = std::env::temp_dir().join(format!("hipaa-declared-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("main.tf"),
            r#"
resource "hipaa_license" "l" {
  name    = "clinic"
  version = "1"
}
resource "hipaa_access_role" "ops" {
  license_id  = hipaa_license.l.id
  name        = "ops"
  permissions = ["db:admin"]
  members     = ["group:ops"]
}
resource "hipaa_phi_system" "db" {
  license_id  = hipaa_license.l.id
  boundary_id = "bnd"
  name        = "records db"
  resource    = aws_db_instance.records.arn
  handles     = ["store"]
  owner       = "dba"
}
resource "aws_db_instance" "records" {
  storage_encrypted = true
}
"#,
        )
        .unwrap();
        let project = crate::hcl::load(&dir, &Default::default()).unwrap();
        let declared = from_project(&project, Date::today());
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(declared.licenses[0].id, "hipaa_license.l");
        let role = &declared.roles[0];
        assert_eq!(role.license_id, "hipaa_license.l");
        assert_eq!(role.mfa_required, Some(true), "the provider's default");
        assert_eq!(role.max_session_minutes, "60");
        assert_eq!(role.members, ["group:ops"]);
        let system = &declared.phi_systems[0];
        assert_eq!(system.resource, "aws_db_instance.records");
        assert_eq!(system.license_id, "hipaa_license.l");
        assert_eq!(license_name(&declared, &system.license_id), "clinic");
    }

    #[test]
    fn a_ledger_gives_live_objects_and_license_history() {
        let dir = std::env::temp_dir().join(format!("hipaa-evidence-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ledger = DirectoryLedger::open(&dir);
        let append = |action, resource_type: &str, id: &str, pairs: &[(&str, Json)]| {
            ledger
                .append(Entry {
                    action,
                    resource_type: resource_type.into(),
                    resource_id: id.into(),
                    attributes: attributes(pairs),
                })
                .unwrap();
        };
        let license = |version: &str| {
            vec![
                ("name", Json::from("clinic")),
                ("version", Json::from(version)),
                ("min_tls_version", Json::from("1.2")),
            ]
        };
        append(Action::Create, LICENSE, "lic-1", &license("2026.1"));
        append(Action::Update, LICENSE, "lic-1", &license("2026.2"));
        let baa = |until: &str| {
            vec![
                ("vendor", Json::from("Cloud Co")),
                ("effective_date", Json::from("2026-01-01")),
                ("expiration_date", Json::from(until)),
            ]
        };
        append(Action::Create, AGREEMENT, "baa-old", &baa("2026-06-30"));
        append(Action::Create, AGREEMENT, "baa-new", &baa("2027-12-31"));
        append(Action::Create, AGREEMENT, "baa-gone", &baa("2027-12-31"));
        append(Action::Retire, AGREEMENT, "baa-gone", &baa("2027-12-31"));
        append(
            Action::Create,
            PHI_SYSTEM,
            "phi-1",
            &[("baa_ids", Json::from(vec!["baa-new", "baa-unknown"]))],
        );

        let today = Date::parse("2026-07-01").unwrap();
        let evidence = read_ledger(&dir, today).unwrap();
        assert!(evidence.intact);
        assert_eq!(evidence.records, 7);

        let declarations = &evidence.declarations;
        assert_eq!(declarations.licenses.len(), 1);
        let license = &declarations.licenses[0];
        assert_eq!(license.version, "2026.2");
        assert_eq!(license.terms, [("Lowest TLS version", "1.2".to_string())]);
        let versions: Vec<(&str, &str)> = license
            .history
            .iter()
            .map(|change| (change.action, change.version.as_str()))
            .collect();
        assert_eq!(versions, [("created", "2026.1"), ("updated", "2026.2")]);

        let statuses: Vec<(&str, AgreementStatus, Option<i64>)> = declarations
            .agreements
            .iter()
            .map(|a| (a.id.as_str(), a.status, a.days_left))
            .collect();
        assert_eq!(
            statuses,
            [
                ("baa-new", AgreementStatus::Active, Some(548)),
                ("baa-old", AgreementStatus::Expired, Some(-1)),
            ]
        );
        assert_eq!(
            declarations.phi_systems[0].agreements,
            ["Cloud Co", "baa-unknown"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
