//! Encryption in transit (45 CFR 164.312(e)): every connection that may carry PHI is encrypted,
//! with a TLS version the license accepts.
//!
//! The rules share the way they judge a named TLS policy: the name is looked up in
//! `hipaa_compliance::tls`, an omitted name stands for the service default, and an unlisted
//! name is undetermined rather than guessed.

mod api_gateway_weak_tls;
mod azure_weak_min_tls;
mod cloud_sql_ssl_not_required;
mod cloudfront_allows_http;
mod cloudfront_weak_tls;
mod elasticache_transit_encryption;
mod google_ssl_policy_weak_tls;
mod lb_listener_plain_http;
mod lb_listener_weak_tls;
mod opensearch_transit_encryption;
mod rds_tls_not_enforced;
mod s3_phi_bucket_allows_http;

pub use api_gateway_weak_tls::ApiGatewayWeakTls;
pub use azure_weak_min_tls::AzureWeakMinTls;
pub use cloud_sql_ssl_not_required::CloudSqlSslNotRequired;
pub use cloudfront_allows_http::CloudfrontAllowsHttp;
pub use cloudfront_weak_tls::CloudfrontWeakTls;
pub use elasticache_transit_encryption::ElasticacheTransitEncryption;
pub use google_ssl_policy_weak_tls::GoogleSslPolicyWeakTls;
pub use lb_listener_plain_http::LbListenerPlainHttp;
pub use lb_listener_weak_tls::LbListenerWeakTls;
pub use opensearch_transit_encryption::OpensearchTransitEncryption;
pub use rds_tls_not_enforced::RdsTlsNotEnforced;
pub use s3_phi_bucket_allows_http::S3PhiBucketAllowsHttp;

use crate::context::Context;
use crate::rules::Verdict;
use crate::value::{Truth, Value};
use hipaa_compliance::tls::{self, PolicyFamily, TlsVersion};

/// What a rule found out about one setting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Judged {
    Meets,
    /// The setting lets PHI travel unprotected or with too old a protocol; says how.
    Weak(String),
    /// The setting cannot be known before apply, or names something this scanner does not
    /// know; says which.
    Unknown(String),
}

/// Judges the TLS policy named by `value` (the attribute `attribute`) against the license.
/// An omitted value stands for `default`, the policy the service applies; a conditional value
/// is decided only when every branch agrees.
pub(crate) fn judge_policy(
    cx: &Context,
    family: PolicyFamily,
    attribute: &str,
    value: &Value,
    default: Option<&'static str>,
) -> Judged {
    let required = cx.terms().min_tls_version;

    let name = match value {
        Value::Null => match default {
            Some(name) => return judge_name(family, attribute, name, true, required),
            None => {
                return Judged::Unknown(format!(
                    "{attribute} is not set and the service default is not known"
                ))
            }
        },
        Value::String(name) => name.clone(),
        // Someone wrote `minimum_tls_version = 1.2` without quotes.
        Value::Number(number) => format!("{number:.1}"),
        Value::AnyOf(branches) => {
            let judged: Vec<Judged> = branches
                .iter()
                .map(|branch| judge_policy(cx, family, attribute, branch, default))
                .collect();
            return agree(attribute, judged);
        }
        Value::Unknown | Value::Sensitive => {
            return Judged::Unknown(format!("{attribute} is not known until apply"))
        }
        _ => return Judged::Unknown(format!("{attribute} is not a policy name")),
    };
    judge_name(family, attribute, &name, false, required)
}

fn judge_name(
    family: PolicyFamily,
    attribute: &str,
    name: &str,
    defaulted: bool,
    required: TlsVersion,
) -> Judged {
    let Some(policy) = tls::lookup(family, name) else {
        return Judged::Unknown(format!(
            "{attribute} names {name}, which is not in the TLS policy table (checked {})",
            tls::TABLE_VERSION
        ));
    };
    if policy.min_version >= required {
        return Judged::Meets;
    }

    let named = if defaulted {
        format!("{attribute} is not set, so the default {name} applies")
    } else {
        format!("{attribute} is {name}")
    };
    let note = if policy.note.is_empty() {
        String::new()
    } else {
        format!(" ({})", policy.note)
    };
    Judged::Weak(format!(
        "{named}, which accepts TLS {}{note}; the license requires TLS {required} or later",
        policy.min_version
    ))
}

/// Combines the judgements of the branches of a conditional value.
fn agree(attribute: &str, judged: Vec<Judged>) -> Judged {
    if judged.iter().all(|j| *j == Judged::Meets) {
        return Judged::Meets;
    }
    if judged.iter().all(|j| matches!(j, Judged::Weak(_))) {
        return judged.into_iter().next().unwrap_or(Judged::Meets);
    }
    Judged::Unknown(format!(
        "{attribute} depends on a condition that cannot be known statically"
    ))
}

/// Judges a flag that must be `expected` for traffic to be protected; an omitted flag takes the
/// provider's `default`, or is unknown when there is none.
pub(crate) fn judge_flag(
    attribute: &str,
    value: &Value,
    expected: bool,
    default: Option<bool>,
    weak: &str,
) -> Judged {
    let truth = match (value, default) {
        (Value::Null, Some(default)) => Truth::from_bool(default == expected),
        (Value::Null, None) => {
            return Judged::Unknown(format!("{attribute} is not set and has no default"))
        }
        (value, _) => value.test(&|v: &Value| v.as_bool() == Some(expected)),
    };
    match truth {
        Truth::Yes => Judged::Meets,
        Truth::No => Judged::Weak(weak.to_string()),
        Truth::Undetermined => Judged::Unknown(format!("{attribute} is not known until apply")),
    }
}

/// The problems a rule found with one resource, turned into one verdict: a failure naming
/// every weakness, else undetermined naming every unknown, else a pass.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    weak: Vec<(String, String)>,
    unknown: Vec<String>,
}

impl Problems {
    pub fn add(&mut self, attribute: &str, judged: Judged) {
        match judged {
            Judged::Meets => {}
            Judged::Weak(message) => self.weak.push((attribute.to_string(), message)),
            Judged::Unknown(reason) => self.unknown.push(reason),
        }
    }

    pub fn verdict(self, fix: &str) -> Verdict {
        if let Some((attribute, _)) = self.weak.first() {
            let attribute = attribute.clone();
            let message = self
                .weak
                .into_iter()
                .map(|(_, message)| message)
                .collect::<Vec<_>>()
                .join("; ");
            return Verdict::fail(Some(&attribute), message, fix);
        }
        if !self.unknown.is_empty() {
            return Verdict::undetermined(self.unknown.join("; "));
        }
        Verdict::Pass
    }
}

/// Compares a protocol name such as `TLSv1.1` with the license; names that are not protocols
/// are unknown.
pub(crate) fn protocol_below_minimum(cx: &Context, protocol: &str) -> Option<bool> {
    TlsVersion::parse(protocol).map(|version| version < cx.terms().min_tls_version)
}
