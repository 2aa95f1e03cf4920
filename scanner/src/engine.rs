//! Runs every rule over every managed resource instance, once, and gathers the outcome.
//!
//! Work is linear in the number of resources: the index is built in one pass, each resource
//! type is matched against the rules once, and each (rule, resource) pair is judged once.

use crate::address_hash::AddressMap;
use crate::context::Context;
use crate::finding::{Category, Finding, Severity, Undetermined};
use crate::links::Index;
use crate::model::{Mode, Project, Resource, SkippedModule};
use crate::policy::Policy;
use crate::rules::{self, Rule, Verdict};
use crate::runs;
use crate::suppress::SuppressionOutcome;
use serde::Serialize;
use std::collections::BTreeMap;

/// How one rule fared over the whole input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleTally {
    pub passed: usize,
    pub failed: usize,
    pub undetermined: usize,
}

/// The totals a person or a CI job reads first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: Vec<String>,
    pub resources: usize,
    pub findings: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub by_category: BTreeMap<Category, usize>,
    /// Checks that could not be decided before apply.
    pub undetermined: usize,
    pub modules_not_scanned: Vec<ModuleNotScanned>,
    /// Addresses of the declared licenses; empty when the default terms applied.
    pub licenses: Vec<String>,
    pub boundaries: Vec<String>,
    /// Pass, fail and undetermined counts per rule id.
    pub rules: BTreeMap<&'static str, RuleTally>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleNotScanned {
    pub address: String,
    pub source: String,
    pub reason: String,
}

impl From<&SkippedModule> for ModuleNotScanned {
    fn from(skipped: &SkippedModule) -> Self {
        ModuleNotScanned {
            address: skipped.address.clone(),
            source: skipped.source.clone(),
            reason: skipped.reason.clone(),
        }
    }
}

/// The outcome of a scan.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub undetermined: Vec<Undetermined>,
    pub summary: Summary,
    /// Findings accepted inline or by a baseline, kept apart from `findings` (see
    /// [`crate::suppress::apply`]).
    pub suppressions: SuppressionOutcome,
}

/// Judges a project against the licensing model it declares. The declarations of a `--policy`
/// file are loaded into the project like any other configuration.
pub fn scan(project: &Project) -> ScanReport {
    let index = Index::build(project);
    let policy = Policy::from_project(project, &index);
    let cx = Context::new(project, &index, &policy);

    let managed: Vec<&Resource> = project
        .resources
        .iter()
        .filter(|r| r.mode == Mode::Managed)
        .collect();
    let mut report = ScanReport::default();
    for rule in rules::all() {
        report
            .summary
            .rules
            .insert(rule.meta().id, RuleTally::default());
    }

    // Resources are judged independently, so large inputs are split between the cores; the
    // parts are joined in input order, which keeps the report the same as a single pass.
    let parts = judge_in_parallel(&cx, &managed);
    for part in parts {
        for (id, tally) in part.tallies {
            let total = report.summary.rules.entry(id).or_default();
            total.passed += tally.passed;
            total.failed += tally.failed;
            total.undetermined += tally.undetermined;
        }
        report.findings.extend(part.findings);
        report.undetermined.extend(part.undetermined);
    }

    report.findings.sort_by(|a, b| {
        (&a.location, &a.resource, a.rule_id).cmp(&(&b.location, &b.resource, b.rule_id))
    });
    summarise(&mut report, project, &policy);
    report
}

/// What judging one run of resources found.
#[derive(Default)]
struct Judged {
    findings: Vec<Finding>,
    undetermined: Vec<Undetermined>,
    tallies: AddressMap<&'static str, RuleTally>,
}

/// Judges `resources` on up to as many threads as there are cores, one contiguous run each,
/// and returns the runs' outcomes in input order.
fn judge_in_parallel(cx: &Context, resources: &[&Resource]) -> Vec<Judged> {
    runs::map_runs(resources, |_, run| judge(cx, run))
}

/// Runs every rule that applies to each resource's type over it.
fn judge(cx: &Context, resources: &[&Resource]) -> Judged {
    let all_rules = rules::all();
    let mut rules_by_type: AddressMap<&str, Vec<&'static dyn Rule>> = AddressMap::default();
    let mut judged = Judged::default();

    for resource in resources {
        let applicable = rules_by_type
            .entry(resource.resource_type.as_str())
            .or_insert_with(|| {
                all_rules
                    .iter()
                    .copied()
                    .filter(|rule| rule.applies_to(&resource.resource_type))
                    .collect()
            });

        for rule in applicable.iter() {
            let meta = rule.meta();
            let tally = judged.tallies.entry(meta.id).or_default();
            match rule.check(cx, resource) {
                Verdict::NotApplicable => {}
                Verdict::Pass => tally.passed += 1,
                Verdict::Undetermined(reason) => {
                    tally.undetermined += 1;
                    judged.undetermined.push(Undetermined {
                        rule_id: meta.id,
                        resource: resource.address.clone(),
                        reason,
                    });
                }
                Verdict::Fail(violation) => {
                    tally.failed += 1;
                    let location = match &violation.attribute {
                        Some(path) => resource.location_of(path),
                        None => resource.location.clone(),
                    };
                    judged.findings.push(Finding {
                        rule_id: meta.id,
                        rule_name: meta.name,
                        category: meta.category,
                        severity: meta.severity,
                        resource: resource.address.clone(),
                        resource_type: resource.resource_type.clone(),
                        location,
                        attribute: violation.attribute,
                        message: violation.message,
                        fix: violation.fix,
                        hipaa: meta.hipaa.to_vec(),
                    });
                }
            }
        }
    }
    judged
}

fn summarise(report: &mut ScanReport, project: &Project, policy: &Policy) {
    let summary = &mut report.summary;
    summary.files = project
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    summary.resources = project
        .resources
        .iter()
        .filter(|r| r.mode == Mode::Managed)
        .count();
    summary.findings = report.findings.len();
    for finding in &report.findings {
        *summary.by_severity.entry(finding.severity).or_default() += 1;
        *summary.by_category.entry(finding.category).or_default() += 1;
    }
    summary.undetermined = report.undetermined.len();
    summary.modules_not_scanned = project
        .skipped_modules
        .iter()
        .map(ModuleNotScanned::from)
        .collect();
    summary.licenses = policy.licenses.iter().map(|l| l.address.clone()).collect();
    summary.boundaries = policy
        .boundaries
        .iter()
        .map(|b| b.address.clone())
        .collect();
    summary.notes = project.notes.clone();
    summary.notes.extend(policy.notes.iter().cloned());
    if policy.licenses.is_empty() {
        summary.notes.push(
            "no hipaa_license declared: the default terms applied (TLS 1.2, keys rotated \
             within 365 days, provider-managed keys accepted)"
                .to_string(),
        );
    }
    if policy.boundaries.is_empty() {
        summary
            .notes
            .push("no hipaa_boundary declared: the boundary rules stayed silent".to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::resource;
    use serde_json::json;

    /// Enough volumes, half of them unencrypted, for the engine to split them between threads.
    fn many_volumes() -> Project {
        let count = runs::ITEMS_PER_THREAD * 3 + 17;
        let resources = (0..count)
            .map(|i| {
                resource(
                    "aws_ebs_volume",
                    &format!("v{i}"),
                    json!({"encrypted": i % 2 == 0, "size": 8}),
                )
            })
            .collect();
        Project {
            resources,
            ..Project::default()
        }
    }

    #[test]
    fn a_split_scan_finds_what_one_pass_finds_in_the_same_order() {
        let project = many_volumes();
        let index = Index::build(&project);
        let policy = Policy::from_project(&project, &index);
        let cx = Context::new(&project, &index, &policy);
        let managed: Vec<&Resource> = project.resources.iter().collect();

        let one_pass = judge(&cx, &managed);
        let parts = judge_in_parallel(&cx, &managed);
        let split_findings: Vec<&Finding> = parts.iter().flat_map(|p| &p.findings).collect();

        assert_eq!(one_pass.findings.len(), managed.len() / 2);
        assert_eq!(split_findings.len(), one_pass.findings.len());
        for (split, single) in split_findings.iter().zip(&one_pass.findings) {
            assert_eq!(
                (&split.resource, split.rule_id),
                (&single.resource, single.rule_id)
            );
        }
        let failed: usize = parts
            .iter()
            .flat_map(|p| p.tallies.values())
            .map(|t| t.failed)
            .sum();
        assert_eq!(failed, managed.len() / 2);
    }
}
