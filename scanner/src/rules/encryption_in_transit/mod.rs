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

/// The encryption-in-transit parts of the shared cases, mirrored by hand and run through the
/// whole engine: a resource expected to pass may have no finding of this category at all.
#[cfg(test)]
mod cases {
    use crate::finding::Category;
    use crate::model::Resource;
    use crate::rules::testing::{failing_in, resource};
    use serde_json::json;

    fn failing(resources: Vec<Resource>) -> Vec<String> {
        failing_in(Category::EncryptionInTransit, resources)
    }

    const LB_ARN: &str = concat!(
        "arn:aws:elasticloadbalancing:us-east-1:111122223333:",
        "loadbalancer/app/portal/0123456789abcdef"
    );
    const TG_ARN: &str =
        "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/portal/0123456789abcdef";
    const CERT_ARN: &str = "arn:aws:acm:us-east-1:111122223333:certificate/abcd";

    #[test]
    fn lb_listener_tls() {
        let forward = json!([{"type": "forward", "target_group_arn": TG_ARN}]);
        let https = |name: &str, port: u16, policy: Option<&str>| {
            let mut values = json!({
                "load_balancer_arn": LB_ARN,
                "port": port,
                "protocol": "HTTPS",
                "certificate_arn": CERT_ARN,
                "default_action": forward.clone()
            });
            if let Some(policy) = policy {
                values["ssl_policy"] = json!(policy);
            }
            resource("aws_lb_listener", name, values)
        };
        let resources = vec![
            https("no_policy", 443, None),
            https(
                "tls13_allows_tls10",
                8443,
                Some("ELBSecurityPolicy-TLS13-1-0-2021-06"),
            ),
            https("modern", 9443, Some("ELBSecurityPolicy-TLS13-1-2-2021-06")),
            resource(
                "aws_lb_listener",
                "redirect",
                json!({
                    "load_balancer_arn": LB_ARN,
                    "port": 80,
                    "protocol": "HTTP",
                    "default_action": [{
                        "type": "redirect",
                        "redirect": [{
                            "port": "443",
                            "protocol": "HTTPS",
                            "status_code": "HTTP_301"
                        }]
                    }]
                }),
            ),
            resource(
                "aws_lb_listener",
                "plain_http",
                json!({
                    "load_balancer_arn": LB_ARN,
                    "port": 8080,
                    "protocol": "HTTP",
                    "default_action": forward.clone()
                }),
            ),
        ];
        assert_eq!(
            failing(resources),
            vec![
                "aws_lb_listener.no_policy",
                "aws_lb_listener.plain_http",
                "aws_lb_listener.tls13_allows_tls10",
            ]
        );
    }

    #[test]
    fn cloudfront_tls() {
        let distribution = |name: &str, origin_policy: &str, protocols: &[&str], viewer: &str| {
            json!({
                "enabled": true,
                "origin": [{
                    "domain_name": format!("{name}.example.org"),
                    "origin_id": name,
                    "custom_origin_config": [{
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": origin_policy,
                        "origin_ssl_protocols": protocols
                    }]
                }],
                "default_cache_behavior": [{
                    "target_origin_id": name,
                    "viewer_protocol_policy": viewer,
                    "allowed_methods": ["GET", "HEAD"],
                    "cached_methods": ["GET", "HEAD"]
                }],
                "restrictions": [{"geo_restriction": [{"restriction_type": "none"}]}]
            })
        };
        let with_certificate = |mut values: serde_json::Value, certificate: serde_json::Value| {
            values["viewer_certificate"] = json!([certificate]);
            values
        };
        let custom = |version: &str| {
            json!({
                "acm_certificate_arn": CERT_ARN,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": version
            })
        };
        let resources = vec![
            resource(
                "aws_cloudfront_distribution",
                "portal",
                with_certificate(
                    distribution("portal", "https-only", &["TLSv1.2"], "redirect-to-https"),
                    custom("TLSv1.2_2025"),
                ),
            ),
            resource(
                "aws_cloudfront_distribution",
                "legacy",
                with_certificate(
                    distribution("legacy", "https-only", &["TLSv1.2"], "redirect-to-https"),
                    custom("TLSv1_2016"),
                ),
            ),
            resource(
                "aws_cloudfront_distribution",
                "default_cert",
                with_certificate(
                    distribution("files", "match-viewer", &["TLSv1", "TLSv1.2"], "allow-all"),
                    json!({"cloudfront_default_certificate": true}),
                ),
            ),
        ];
        assert_eq!(
            failing(resources),
            vec![
                "aws_cloudfront_distribution.default_cert",
                "aws_cloudfront_distribution.legacy",
            ]
        );
    }

    #[test]
    fn azure_gcp_core_transit_parts() {
        let storage = |name: &str, version: &str| {
            resource(
                "azurerm_storage_account",
                name,
                json!({
                    "name": format!("acme{name}"),
                    "resource_group_name": "phi",
                    "location": "eastus",
                    "account_tier": "Standard",
                    "account_replication_type": "GRS",
                    "min_tls_version": version
                }),
            )
        };
        let sql = |name: &str, mode: &str| {
            resource(
                "google_sql_database_instance",
                name,
                json!({
                    "name": name,
                    "database_version": "POSTGRES_16",
                    "region": "us-central1",
                    "settings": [{
                        "tier": "db-custom-2-7680",
                        "ip_configuration": [{"ssl_mode": mode}]
                    }]
                }),
            )
        };
        let resources = vec![
            storage("old_tls", "TLS1_0"),
            storage("current_tls", "TLS1_2"),
            sql("loose", "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
            sql("strict", "ENCRYPTED_ONLY"),
        ];
        assert_eq!(
            failing(resources),
            vec![
                "azurerm_storage_account.old_tls",
                "google_sql_database_instance.loose",
            ]
        );
    }

    #[test]
    fn dynamic_block_encryption_elasticache() {
        let sessions = resource(
            "aws_elasticache_replication_group",
            "sessions",
            json!({
                "replication_group_id": "sessions",
                "description": "session cache",
                "node_type": "cache.r6g.large",
                "at_rest_encryption_enabled": false,
                "transit_encryption_enabled": false
            }),
        );
        assert_eq!(
            failing(vec![sessions]),
            vec!["aws_elasticache_replication_group.sessions"]
        );
    }
}
