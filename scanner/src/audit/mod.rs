//! The live account audit: resources read from an account, and the licensing model read from
//! the attestation ledger, turned into the same resource model the loaders produce, so that
//! the same rules judge them and the same report formats print the outcome.

#[cfg(feature = "aws")]
pub mod aws;

use crate::context::Context;
use crate::engine::ScanReport;
use crate::finding::Undetermined;
use crate::links::Index;
use crate::model::{Project, Reference, Resource};
use crate::policy::Policy;
use crate::rules::{self, Verdict};
use crate::value::Value;
use hipaa_ledger::{Action, Record};
use std::collections::BTreeMap;

/// Attributes of ledger records that hold the id of another declaration, and its type.
const DECLARATION_LINKS: &[(&str, &str)] = &[
    ("license_id", "hipaa_license"),
    ("boundary_id", "hipaa_boundary"),
];

/// The live declarations of a ledger (the newest record of each, unless it retired it), as
/// resources addressed `TYPE.ID`. Ids that name another declaration become references, as they
/// would be in code.
pub fn ledger_project(records: &[Record]) -> Project {
    let mut newest: BTreeMap<(&str, &str), &Record> = BTreeMap::new();
    for record in records {
        newest.insert(
            (record.resource_type.as_str(), record.resource_id.as_str()),
            record,
        );
    }

    let mut project = Project::default();
    for ((resource_type, id), record) in newest {
        if record.action == Action::Retire {
            continue;
        }
        let mut values: crate::value::Map = record
            .attributes
            .iter()
            .map(|(name, value)| (name.clone(), Value::from(value)))
            .collect();
        values.insert("id".to_string(), Value::from(id));
        let mut resource = Resource::new(resource_type, id, Value::Map(values));
        for (attribute, target_type) in DECLARATION_LINKS {
            if let Some(target) = record.attributes.get(*attribute).and_then(|v| v.as_str()) {
                resource.references.insert(
                    attribute.to_string(),
                    vec![Reference {
                        address: format!("{target_type}.{target}"),
                        attribute: Some("id".to_string()),
                    }],
                );
            }
        }
        project.resources.push(resource);
    }
    project
}

/// A read that failed for one resource, and the rules that needed what it would have told.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRead {
    /// The resource's address in the audit's project.
    pub resource: String,
    pub rules: &'static [&'static str],
    /// What failed and why, e.g. `GetBucketPolicy access denied: AccessDenied: ...`.
    pub reason: String,
}

/// Rules that fall silent (not applicable) when the setting they need is missing, rather than
/// failing: a failed read must be reported for them even then.
const SILENT_WITHOUT_SETTING: &[&str] = &["BND001", "BND006"];

/// Replaces each verdict a rule reached on a resource whose read failed by an undetermined
/// check naming the failure: the rule judged without the setting it needed. Counts are redone.
pub fn apply_failed_reads(report: &mut ScanReport, project: &Project, failures: &[FailedRead]) {
    let index = Index::build(project);
    let policy = Policy::from_project(project, &index);
    let cx = Context::new(project, &index, &policy);

    for failure in failures {
        let Some(resource) = index.get(&failure.resource) else {
            continue;
        };
        for rule in failure.rules.iter().filter_map(|id| rules::find(id)) {
            let rule_id = rule.meta().id;
            let tally = report.summary.rules.entry(rule_id).or_default();
            match rule.check(&cx, resource) {
                Verdict::NotApplicable if !SILENT_WITHOUT_SETTING.contains(&rule_id) => continue,
                Verdict::NotApplicable => {}
                Verdict::Pass => tally.passed = tally.passed.saturating_sub(1),
                Verdict::Fail(_) => {
                    tally.failed = tally.failed.saturating_sub(1);
                    report
                        .findings
                        .retain(|f| !(f.resource == failure.resource && f.rule_id == rule_id));
                }
                Verdict::Undetermined(_) => {
                    tally.undetermined = tally.undetermined.saturating_sub(1);
                    report
                        .undetermined
                        .retain(|u| !(u.resource == failure.resource && u.rule_id == rule_id));
                }
            }
            tally.undetermined += 1;
            report.undetermined.push(Undetermined {
                rule_id,
                resource: failure.resource.clone(),
                reason: failure.reason.clone(),
            });
        }
    }

    let summary = &mut report.summary;
    summary.findings = report.findings.len();
    summary.undetermined = report.undetermined.len();
    summary.by_severity.clear();
    summary.by_category.clear();
    for finding in &report.findings {
        *summary.by_severity.entry(finding.severity).or_default() += 1;
        *summary.by_category.entry(finding.category).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hipaa_ledger::{Entry, Record};

    fn record(previous: Option<&Record>, action: Action, kind: &str, id: &str) -> Record {
        let attributes = BTreeMap::from([
            ("name".to_string(), serde_json::json!(id)),
            ("license_id".to_string(), serde_json::json!("lic-1")),
        ]);
        Record::next(
            previous,
            Entry {
                action,
                resource_type: kind.to_string(),
                resource_id: id.to_string(),
                attributes,
            },
        )
    }

    #[test]
    fn only_live_declarations_become_resources_linked_by_id() {
        let created = record(None, Action::Create, "hipaa_boundary", "bnd-1");
        let system = record(Some(&created), Action::Create, "hipaa_phi_system", "phi-1");
        let retired = record(Some(&system), Action::Retire, "hipaa_phi_system", "phi-1");
        let updated = record(Some(&retired), Action::Update, "hipaa_boundary", "bnd-1");

        let project = ledger_project(&[created, system, retired, updated]);

        let addresses: Vec<&str> = project
            .resources
            .iter()
            .map(|r| r.address.as_str())
            .collect();
        assert_eq!(addresses, ["hipaa_boundary.bnd-1"]);
        let boundary = &project.resources[0];
        assert_eq!(boundary.attr("id").as_str(), Some("bnd-1"));
        assert_eq!(
            boundary.references_of("license_id"),
            [Reference {
                address: "hipaa_license.lic-1".to_string(),
                attribute: Some("id".to_string()),
            }]
        );
    }
}
