//! `hipaa_tls_policy`: what a named TLS policy really allows, from the shared policy table.

use crate::diagnostics::Diagnostics;
use crate::resource::{get_str, Context, DataSource, Object};
use crate::schema::{Attribute, Schema};
use crate::value::{Type, Value};
use hipaa_compliance::tls::{self, TlsVersion};

pub const TYPE_NAME: &str = "hipaa_tls_policy";

/// The lowest TLS version HIPAA guidance accepts for PHI in transit.
const LOWEST_COMPLIANT: TlsVersion = TlsVersion::Tls12;

pub struct TlsPolicyData;

/// What the table says about one policy name.
pub struct PolicyFacts {
    pub found: bool,
    pub min_version: Option<String>,
    pub compliant: bool,
    pub family: Option<String>,
}

pub fn facts(name: &str) -> PolicyFacts {
    match tls::lookup_any(name) {
        Some(policy) => PolicyFacts {
            found: true,
            min_version: Some(policy.min_version.to_string()),
            compliant: policy.min_version >= LOWEST_COMPLIANT,
            family: serde_json::to_value(policy.family)
                .ok()
                .and_then(|family| family.as_str().map(str::to_string)),
        },
        None => PolicyFacts {
            found: false,
            min_version: None,
            compliant: false,
            family: None,
        },
    }
}

impl DataSource for TlsPolicyData {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            description: "Looks up a named TLS policy (load balancer, CloudFront, API Gateway, \
                          OpenSearch, Azure or Google) and tells the lowest TLS version it lets \
                          a client negotiate. A name that is not in the table is reported as \
                          not found, never guessed.",
            attributes: vec![
                Attribute::required(
                    "name",
                    Type::String,
                    "The policy name, e.g. `ELBSecurityPolicy-TLS13-1-2-2021-06`.",
                ),
                Attribute::computed("found", Type::Bool, "Whether the policy is in the table."),
                Attribute::computed(
                    "min_version",
                    Type::String,
                    "The lowest TLS version the policy allows, e.g. `1.2`; null when not found.",
                ),
                Attribute::computed(
                    "compliant",
                    Type::Bool,
                    "Whether the policy refuses everything below TLS 1.2 (45 CFR \
                     164.312(e)(2)(ii)); false when not found.",
                ),
                Attribute::computed(
                    "family",
                    Type::String,
                    "The kind of service the policy belongs to, e.g. `elastic_load_balancing`; \
                     null when not found.",
                ),
            ],
            blocks: Vec::new(),
        }
    }

    fn read(&self, _context: &Context, config: &Object, _diagnostics: &mut Diagnostics) -> Object {
        let name = get_str(config, "name").unwrap_or_default();
        let facts = facts(name);
        let optional = |text: Option<String>| text.map(Value::String).unwrap_or(Value::Null);
        Object::from([
            ("name".to_string(), Value::string(name)),
            ("found".to_string(), Value::Bool(facts.found)),
            ("min_version".to_string(), optional(facts.min_version)),
            ("compliant".to_string(), Value::Bool(facts.compliant)),
            ("family".to_string(), optional(facts.family)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls13_policy_that_still_accepts_tls10_is_not_compliant() {
        let facts = facts("ELBSecurityPolicy-TLS13-1-0-2021-06");
        assert!(facts.found);
        assert_eq!(facts.min_version.as_deref(), Some("1.0"));
        assert!(!facts.compliant);
        assert_eq!(facts.family.as_deref(), Some("elastic_load_balancing"));
    }

    #[test]
    fn a_modern_policy_is_compliant() {
        let facts = facts("TLSv1.2_2025");
        assert_eq!(facts.min_version.as_deref(), Some("1.2"));
        assert!(facts.compliant);
        assert_eq!(facts.family.as_deref(), Some("cloudfront"));
    }

    #[test]
    fn an_unknown_name_is_not_guessed() {
        let facts = facts("ELBSecurityPolicy-Imaginary-2030");
        assert!(!facts.found);
        assert_eq!(facts.min_version, None);
        assert!(!facts.compliant);
    }
}
