//! The licensing model a scan judges against, learned from the `hipaa_license`,
//! `hipaa_boundary` and `hipaa_phi_system` declarations in the scanned code or in a policy file.

use crate::address_hash::AddressSet;
use crate::links::Index;
use crate::model::{Project, Resource};
use crate::value::Value;
use hipaa_compliance::license::LicenseTerms;
use hipaa_compliance::tls::TlsVersion;

/// A declared license: where it is and what it demands.
#[derive(Debug, Clone)]
pub struct DeclaredLicense {
    pub address: String,
    pub terms: LicenseTerms,
}

/// A compliance boundary: the resources allowed to hold PHI and where they may run.
#[derive(Debug, Clone, Default)]
pub struct Boundary {
    pub address: String,
    /// Allowed regions; `None` when the boundary does not restrict regions or the list is not
    /// known statically.
    pub regions: Option<Vec<String>>,
    /// Addresses of member resources in this configuration.
    pub member_addresses: AddressSet<String>,
    /// Members named by a literal (ARN, name or address), matched against resources' `arn`,
    /// `id` and address.
    pub member_literals: AddressSet<String>,
    /// Whether some member could not be known statically; boundary findings about
    /// non-members are then undetermined rather than failures.
    pub has_unknown_members: bool,
}

/// The licensing model of one scan.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub licenses: Vec<DeclaredLicense>,
    /// The terms every resource is judged against: the strictest of the declared licenses, or
    /// the defaults when none is declared.
    pub terms: LicenseTerms,
    pub boundaries: Vec<Boundary>,
    /// Addresses of resources declared to handle PHI by a `hipaa_phi_system`, or members of a
    /// boundary: the sources of PHI flows.
    pub phi_sources: AddressSet<String>,
    /// Literal names (ARNs) of PHI sources outside this configuration.
    pub phi_source_literals: AddressSet<String>,
    /// What the user should know about the declarations: terms HIPAA forbids, members that
    /// name nothing.
    pub notes: Vec<String>,
}

impl Policy {
    /// Reads the declarations among the project's resources.
    pub fn from_project(project: &Project, index: &Index) -> Policy {
        let mut policy = Policy::default();
        let mut terms: Option<LicenseTerms> = None;

        for resource in &project.resources {
            match resource.resource_type.as_str() {
                "hipaa_license" => {
                    let written = license_terms(resource, &mut policy.notes);
                    for violation in written.violations() {
                        policy.notes.push(format!(
                            "{}: {} (45 CFR {}); the provider refuses this license, and the \
                             rules applied HIPAA's limit instead",
                            resource.address, violation.message, violation.citation
                        ));
                    }
                    let declared = DeclaredLicense {
                        address: resource.address.clone(),
                        terms: written.within_hipaa(),
                    };
                    terms = Some(match terms {
                        Some(t) => t.strictest(&declared.terms),
                        None => declared.terms.clone(),
                    });
                    policy.licenses.push(declared);
                }
                "hipaa_boundary" => {
                    policy.boundaries.push(boundary(resource, index));
                    note_unresolved(resource, "members", index, &mut policy.notes);
                }
                "hipaa_phi_system" => {
                    note_unresolved(resource, "resource", index, &mut policy.notes);
                    let (addresses, literals, _) = members_of(resource, "resource", index);
                    policy.phi_sources.extend(addresses);
                    policy.phi_source_literals.extend(literals);
                }
                _ => {}
            }
        }
        for boundary in &policy.boundaries {
            policy
                .phi_sources
                .extend(boundary.member_addresses.iter().cloned());
            policy
                .phi_source_literals
                .extend(boundary.member_literals.iter().cloned());
        }
        policy.terms = terms.unwrap_or_default();
        policy
    }

    pub fn has_license(&self) -> bool {
        !self.licenses.is_empty()
    }

    /// Whether a resource is named by any boundary.
    pub fn is_member(&self, resource: &Resource) -> bool {
        self.boundaries.iter().any(|b| b.contains(resource))
    }

    /// Whether a resource is declared to hold PHI.
    pub fn is_phi_source(&self, resource: &Resource) -> bool {
        self.phi_sources.contains(&resource.address)
            || is_named_by(resource, &self.phi_source_literals)
    }
}

impl Boundary {
    pub fn contains(&self, resource: &Resource) -> bool {
        self.member_addresses.contains(&resource.address)
            || is_named_by(resource, &self.member_literals)
    }
}

/// Whether one of `literals` names the resource: its address, ARN or id, or the ARN its type
/// derives from its name where that is fixed (an S3 bucket's ARN is known before apply).
/// Rules ask this of every resource, so only the derived ARN is built as a string.
fn is_named_by(resource: &Resource, literals: &AddressSet<String>) -> bool {
    if literals.is_empty() {
        return false;
    }
    if literals.contains(resource.address.as_str()) {
        return true;
    }
    let by_attribute = ["arn", "id"]
        .into_iter()
        .filter_map(|attribute| resource.attr(attribute).as_str())
        .any(|name| literals.contains(name));
    by_attribute
        || DERIVED_ARNS
            .iter()
            .filter(|(resource_type, _, _)| *resource_type == resource.resource_type)
            .filter_map(|(_, name_attribute, prefix)| {
                let name = resource.attr(name_attribute).as_str()?;
                Some(format!("{prefix}{name}"))
            })
            .any(|arn| literals.contains(&arn))
}

/// Resource types whose ARN follows from a name set in configuration:
/// (type, name attribute, ARN prefix).
const DERIVED_ARNS: &[(&str, &str, &str)] = &[("aws_s3_bucket", "bucket", "arn:aws:s3:::")];

/// Notes every reference of `attribute` that names no resource of this configuration: a typo
/// Terraform itself would refuse, which would otherwise leave a resource out of the boundary
/// without a word.
fn note_unresolved(resource: &Resource, attribute: &str, index: &Index, notes: &mut Vec<String>) {
    for reference in resource.references_of(attribute) {
        if index.resolve(reference).is_empty() {
            notes.push(format!(
                "{}: `{attribute}` refers to {}, which this configuration does not declare",
                resource.address, reference.address
            ));
        }
    }
}

/// The terms a `hipaa_license` writes; a term that is no term at all (a negative number of
/// days, an unknown TLS version) is noted and left at its default, as the provider refuses it.
fn license_terms(resource: &Resource, notes: &mut Vec<String>) -> LicenseTerms {
    let defaults = LicenseTerms::default();
    let mut refused = Vec::new();
    let mut number = |name: &'static str| {
        let n = resource.attr(name).as_f64()?;
        if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) {
            return Some(n as u32);
        }
        refused.push(format!(
            "`{name}` is {n}; expected a whole number, 0 or more"
        ));
        None
    };
    let key_rotation_days = number("key_rotation_days");
    let log_retention_days = number("log_retention_days");
    let incident_response_hours = number("incident_response_hours");
    let breach_notification_days = number("breach_notification_days");
    let review_interval_days = number("review_interval_days");
    let flag = |name: &str| resource.attr(name).as_bool();
    let min_tls_version = resource.attr("min_tls_version").as_str().and_then(|text| {
        let version = TlsVersion::parse(text);
        if version.is_none() {
            refused.push(format!(
                "`min_tls_version` is \"{text}\"; expected \"1.2\" or \"1.3\""
            ));
        }
        version
    });
    for why in refused {
        notes.push(format!(
            "{}: {why}; the provider refuses this license, and the rules applied the default",
            resource.address
        ));
    }

    LicenseTerms {
        min_tls_version: min_tls_version.unwrap_or(defaults.min_tls_version),
        customer_managed_keys: flag("customer_managed_keys")
            .unwrap_or(defaults.customer_managed_keys),
        key_rotation_days: key_rotation_days.unwrap_or(defaults.key_rotation_days),
        mfa_required: flag("mfa_required").unwrap_or(defaults.mfa_required),
        log_retention_days,
        incident_response_hours,
        breach_notification_days: breach_notification_days
            .unwrap_or(defaults.breach_notification_days),
        review_interval_days: review_interval_days.unwrap_or(defaults.review_interval_days),
        audit_rights: flag("audit_rights").unwrap_or(defaults.audit_rights),
        security_updates_required: flag("security_updates_required")
            .unwrap_or(defaults.security_updates_required),
        terminate_on_noncompliance: flag("terminate_on_noncompliance")
            .unwrap_or(defaults.terminate_on_noncompliance),
    }
}

fn boundary(resource: &Resource, index: &Index) -> Boundary {
    let (member_addresses, member_literals, has_unknown_members) =
        members_of(resource, "members", index);
    let regions = match resource.attr("regions") {
        Value::List(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    Boundary {
        address: resource.address.clone(),
        regions,
        member_addresses,
        member_literals,
        has_unknown_members,
    }
}

/// The resources an attribute names: through references where it has them, by literal
/// otherwise. Returns (addresses, literals, whether some element could not be known).
fn members_of(
    resource: &Resource,
    attribute: &str,
    index: &Index,
) -> (AddressSet<String>, AddressSet<String>, bool) {
    let mut addresses = AddressSet::default();
    let mut literals = AddressSet::default();
    let mut unknown = false;

    for reference in resource.references_of(attribute) {
        for target in index.resolve(reference) {
            addresses.insert(target.address.clone());
        }
    }
    for value in resource.lookup(attribute) {
        match value {
            Value::String(literal) => {
                literals.insert(literal.clone());
            }
            Value::List(items) => {
                for item in items {
                    match item {
                        Value::String(literal) => {
                            literals.insert(literal.clone());
                        }
                        _ => unknown = true,
                    }
                }
            }
            _ => unknown = true,
        }
    }
    // An element that is unknown only because it is a reference we resolved is known enough.
    if unknown && !addresses.is_empty() {
        unknown = resource.lookup(attribute).iter().any(|v| match v {
            Value::List(items) => items.len() > addresses.len() + literals.len(),
            _ => false,
        });
    }
    (addresses, literals, unknown)
}
