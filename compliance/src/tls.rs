//! TLS versions, and the named TLS policies of every service we judge with the lowest protocol
//! version each one lets a client negotiate.
//!
//! A policy name says little about what it allows: `ELBSecurityPolicy-TLS13-1-0-2021-06` offers
//! TLS 1.3 *and* still accepts TLS 1.0. So every name is listed here with what it really
//! allows, and a name that is not listed is reported as undetermined, never guessed.

use serde::Serialize;
use std::fmt;
use PolicyFamily::{
    ApiGateway, Azure, CloudFront, ElasticLoadBalancing, GoogleSslPolicy, OpenSearch,
};
use TlsVersion::{Ssl3, Tls10, Tls11, Tls12, Tls13};

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
    #[serde(rename = "cloudfront")]
    CloudFront,
    /// `security_policy` of API Gateway custom domain names.
    ApiGateway,
    /// `domain_endpoint_options.tls_security_policy` of OpenSearch and Elasticsearch domains.
    #[serde(rename = "opensearch")]
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
pub const TABLE_VERSION: &str = "2026-12-04";

impl TlsPolicy {
    const fn new(family: PolicyFamily, name: &'static str, min_version: TlsVersion) -> TlsPolicy {
        TlsPolicy {
            family,
            name,
            min_version,
            note: "",
        }
    }

    const fn noted(self, note: &'static str) -> TlsPolicy {
        TlsPolicy { note, ..self }
    }
}

const fn elb(name: &'static str, min_version: TlsVersion) -> TlsPolicy {
    TlsPolicy::new(ElasticLoadBalancing, name, min_version)
}

const fn cloudfront(name: &'static str, min_version: TlsVersion) -> TlsPolicy {
    TlsPolicy::new(CloudFront, name, min_version)
}

const fn api_gateway(name: &'static str, min_version: TlsVersion) -> TlsPolicy {
    TlsPolicy::new(ApiGateway, name, min_version)
}

const fn opensearch(name: &'static str, min_version: TlsVersion) -> TlsPolicy {
    TlsPolicy::new(OpenSearch, name, min_version)
}

const fn azure(name: &'static str, min_version: TlsVersion) -> TlsPolicy {
    TlsPolicy::new(Azure, name, min_version)
}

const fn google(name: &'static str, min_version: TlsVersion) -> TlsPolicy {
    TlsPolicy::new(GoogleSslPolicy, name, min_version)
}

const TLS13_ALSO_TLS10: &str = "offers TLS 1.3 but still accepts TLS 1.0 and 1.1";
const TLS13_ALSO_TLS11: &str = "offers TLS 1.3 but still accepts TLS 1.1";
const NO_MINIMUM: &str = "no minimum: every version the server speaks is accepted";

/// Every policy name this project knows, by family.
pub const POLICIES: &[TlsPolicy] = &[
    // Elastic Load Balancing: "Security policies for your Application Load Balancer" and "...for
    // your Network Load Balancer" (protocols-by-policy tables of the TLS, FIPS, FS and
    // post-quantum sections), and "Predefined SSL security policies for Classic Load
    // Balancers". In the TLS13 names the number after "TLS13" is the lowest version allowed.
    elb("ELBSecurityPolicy-TLS13-1-0-2021-06", Tls10).noted(TLS13_ALSO_TLS10),
    elb("ELBSecurityPolicy-TLS13-1-1-2021-06", Tls11).noted(TLS13_ALSO_TLS11),
    elb("ELBSecurityPolicy-TLS13-1-2-2021-06", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-3-2021-06", Tls13),
    elb("ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", Tls10).noted(TLS13_ALSO_TLS10),
    elb("ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", Tls11).noted(TLS13_ALSO_TLS11),
    elb("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", Tls13),
    elb("ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07", Tls12),
    elb(
        "ELBSecurityPolicy-TLS13-1-2-Ext0-RFC9151-FIPS-2023-07",
        Tls12,
    ),
    elb(
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07",
        Tls12,
    ),
    elb(
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07",
        Tls12,
    ),
    elb(
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07",
        Tls12,
    ),
    elb(
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07",
        Tls12,
    ),
    elb("ELBSecurityPolicy-TLS13-1-3-RFC9151-FIPS-2023-07", Tls13),
    elb("ELBSecurityPolicy-TLS13-1-0-PQ-2025-09", Tls10).noted(TLS13_ALSO_TLS10),
    elb("ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", Tls13),
    elb("ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09", Tls10).noted(TLS13_ALSO_TLS10),
    elb("ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09", Tls12),
    elb("ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09", Tls13),
    elb("ELBSecurityPolicy-FS-2018-06", Tls10).noted("forward secrecy only"),
    elb("ELBSecurityPolicy-FS-1-1-2019-08", Tls11),
    elb("ELBSecurityPolicy-FS-1-2-2019-08", Tls12),
    elb("ELBSecurityPolicy-FS-1-2-Res-2019-08", Tls12),
    elb("ELBSecurityPolicy-FS-1-2-Res-2020-10", Tls12),
    elb("ELBSecurityPolicy-TLS-1-0-2015-04", Tls10),
    elb("ELBSecurityPolicy-TLS-1-1-2017-01", Tls11),
    elb("ELBSecurityPolicy-TLS-1-2-2017-01", Tls12),
    elb("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", Tls12),
    elb("ELBSecurityPolicy-2016-08", Tls10).noted("the API default"),
    elb("ELBSecurityPolicy-2015-05", Tls10),
    // Classic Load Balancer predefined policies older than 2015-05. The two oldest still
    // enable SSLv3 (they predate the POODLE advisory of October 2014).
    elb("ELBSecurityPolicy-2015-03", Tls10),
    elb("ELBSecurityPolicy-2015-02", Tls10),
    elb("ELBSecurityPolicy-2014-10", Tls10),
    elb("ELBSecurityPolicy-2014-01", Ssl3).noted("enables SSLv3"),
    elb("ELBSecurityPolicy-2011-08", Ssl3).noted("enables SSLv3"),
    // CloudFront: "Supported protocols and ciphers between viewers and CloudFront". The year in
    // a name is when the cipher list was set, not a protocol version.
    cloudfront("SSLv3", Ssl3),
    cloudfront("TLSv1", Tls10),
    cloudfront("TLSv1_2016", Tls10),
    cloudfront("TLSv1.1_2016", Tls11),
    cloudfront("TLSv1.2_2018", Tls12),
    cloudfront("TLSv1.2_2019", Tls12),
    cloudfront("TLSv1.2_2021", Tls12),
    cloudfront("TLSv1.2_2025", Tls12),
    cloudfront("TLSv1.3_2025", Tls13),
    // API Gateway: "Choose a security policy for your custom domain in API Gateway" and
    // "Supported security policies" (legacy TLS_1_0 and TLS_1_2, and the enhanced
    // SecurityPolicy_* names). The *_EDGE names are served by CloudFront and match its
    // policies of the same protocol floor.
    api_gateway("TLS_1_0", Tls10).noted("accepts TLS 1.0, 1.1, 1.2 and 1.3"),
    api_gateway("TLS_1_2", Tls12),
    api_gateway("SecurityPolicy_TLS13_1_3_2025_09", Tls13),
    api_gateway("SecurityPolicy_TLS13_1_3_FIPS_2025_09", Tls13),
    api_gateway("SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09", Tls12),
    api_gateway("SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09", Tls12),
    api_gateway("SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09", Tls12),
    api_gateway("SecurityPolicy_TLS13_1_2_PQ_2025_09", Tls12),
    api_gateway("SecurityPolicy_TLS13_1_2_2021_06", Tls12),
    api_gateway("SecurityPolicy_TLS13_2025_EDGE", Tls13),
    api_gateway("SecurityPolicy_TLS12_PFS_2025_EDGE", Tls12),
    api_gateway("SecurityPolicy_TLS12_2018_EDGE", Tls12),
    // OpenSearch Service: API reference, DomainEndpointOptions.TLSSecurityPolicy.
    opensearch("Policy-Min-TLS-1-0-2019-07", Tls10).noted("the service default"),
    opensearch("Policy-Min-TLS-1-2-2019-07", Tls12),
    opensearch("Policy-Min-TLS-1-2-PFS-2023-10", Tls12),
    // Azure: the values azurerm accepts for min_tls_version (storage), minimum_tls_version
    // (SQL, Redis, App Service, Event Hubs, Service Bus), ssl_minimal_tls_version_enforced
    // (PostgreSQL and MySQL single server) and minimal_tls_version (Cosmos DB).
    azure("TLS1_0", Tls10),
    azure("TLS1_1", Tls11),
    azure("TLS1_2", Tls12),
    azure("TLS1_3", Tls13),
    azure("1.0", Tls10),
    azure("1.1", Tls11),
    azure("1.2", Tls12),
    azure("1.3", Tls13),
    azure("Tls", Tls10),
    azure("Tls11", Tls11),
    azure("Tls12", Tls12),
    azure("Disabled", Tls10).noted(NO_MINIMUM),
    azure("TLSEnforcementDisabled", Tls10).noted(NO_MINIMUM),
    // Google Cloud: "SSL policies overview", min_tls_version of google_compute_ssl_policy.
    google("TLS_1_0", Tls10).noted("the default of SSL policies and proxies"),
    google("TLS_1_1", Tls11),
    google("TLS_1_2", Tls12),
    google("TLS_1_3", Tls13),
];

/// The policy a service applies when none is named, where that differs from "undetermined".
pub fn default_policy(family: PolicyFamily) -> Option<&'static str> {
    match family {
        // The API, CLI, CloudFormation and Terraform all default to this (TLS 1.0) policy;
        // only the console picks a TLS 1.3 policy.
        PolicyFamily::ElasticLoadBalancing => Some("ELBSecurityPolicy-2016-08"),
        // The default CloudFront applies to a distribution that names no policy, and the one it
        // forces on the default *.cloudfront.net certificate whatever is named.
        PolicyFamily::CloudFront => Some("TLSv1"),
        // "Supported security policies", default security policies: regional, edge-optimized
        // and private custom domain names all default to TLS_1_2 (APIs reached on their
        // default execute-api endpoint do not; see the API Gateway rule).
        PolicyFamily::ApiGateway => Some("TLS_1_2"),
        // A domain created without DomainEndpointOptions keeps the TLS 1.0 policy.
        PolicyFamily::OpenSearch => Some("Policy-Min-TLS-1-0-2019-07"),
        // An SSL policy without min_tls_version, and a proxy without an SSL policy, use
        // TLS_1_0.
        PolicyFamily::GoogleSslPolicy => Some("TLS_1_0"),
        // Each Azure resource type has its own default; the Azure rule keeps them.
        PolicyFamily::Azure => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILIES: [PolicyFamily; 6] = [
        ElasticLoadBalancing,
        CloudFront,
        ApiGateway,
        OpenSearch,
        Azure,
        GoogleSslPolicy,
    ];

    #[test]
    fn every_family_has_policies() {
        for family in FAMILIES {
            let count = POLICIES.iter().filter(|p| p.family == family).count();
            assert!(count >= 3, "{family:?} has only {count} policies");
        }
    }

    #[test]
    fn no_name_is_listed_twice_in_a_family() {
        for (i, a) in POLICIES.iter().enumerate() {
            for b in &POLICIES[i + 1..] {
                assert!(
                    !(a.family == b.family && a.name == b.name),
                    "{:?} {} is listed twice",
                    a.family,
                    a.name
                );
            }
        }
    }

    #[test]
    fn a_tls13_policy_name_does_not_mean_tls13_only() {
        let allows = |family, name| lookup(family, name).map(|p| p.min_version);
        assert_eq!(
            allows(ElasticLoadBalancing, "ELBSecurityPolicy-TLS13-1-0-2021-06"),
            Some(Tls10)
        );
        assert_eq!(
            allows(ElasticLoadBalancing, "ELBSecurityPolicy-TLS13-1-2-2021-06"),
            Some(Tls12)
        );
        assert_eq!(
            allows(
                ElasticLoadBalancing,
                "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09"
            ),
            Some(Tls13)
        );
        assert_eq!(allows(CloudFront, "TLSv1.2_2025"), Some(Tls12));
        assert_eq!(allows(CloudFront, "TLSv1_2016"), Some(Tls10));
        assert_eq!(
            allows(OpenSearch, "Policy-Min-TLS-1-2-PFS-2023-10"),
            Some(Tls12)
        );
        assert_eq!(allows(Azure, "TLSEnforcementDisabled"), Some(Tls10));
        assert_eq!(allows(CloudFront, "ELBSecurityPolicy-2016-08"), None);
    }

    #[test]
    fn every_default_policy_is_in_the_table() {
        for family in FAMILIES {
            if let Some(name) = default_policy(family) {
                assert!(lookup(family, name).is_some(), "{family:?} default {name}");
            }
        }
        let elb_default = default_policy(ElasticLoadBalancing)
            .and_then(|name| lookup(ElasticLoadBalancing, name));
        assert_eq!(elb_default.map(|p| p.min_version), Some(Tls10));
    }

    #[test]
    fn versions_are_read_in_the_forms_people_write() {
        assert_eq!(TlsVersion::parse("TLS1_2"), Some(Tls12));
        assert_eq!(TlsVersion::parse("TLSv1.1"), Some(Tls11));
        assert_eq!(TlsVersion::parse("TLSv1"), Some(Tls10));
        assert_eq!(TlsVersion::parse("SSLv3"), Some(Ssl3));
        assert_eq!(TlsVersion::parse("1.3"), Some(Tls13));
        assert_eq!(TlsVersion::parse("modern"), None);
    }
}
