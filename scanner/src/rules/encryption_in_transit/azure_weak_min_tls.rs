use super::{judge_flag, judge_policy, Problems};
use crate::rules::prelude::*;
use compliance::tls::PolicyFamily;

declare_rule! {
    /// ## What it checks
    ///
    /// Azure resources that accept a TLS version older than the license minimum, or plain
    /// connections, per the table below: storage accounts, SQL servers and managed instances,
    /// Redis caches, App Service and Function apps, PostgreSQL and MySQL single servers, Event
    /// Hubs and Service Bus namespaces, and Cosmos DB accounts.
    ///
    /// An unset minimum version takes the azurerm provider's default, which is TLS 1.2 for every
    /// resource listed (storage accounts since azurerm 3.0). Besides the version, the rule
    /// checks the switches that let plain connections in: HTTP on a storage account
    /// (`https_traffic_only_enabled`, formerly `enable_https_traffic_only`), the non-TLS port of
    /// a Redis cache, `ssl_enforcement_enabled` of PostgreSQL and MySQL servers, and
    /// `https_only` of web and function apps (false by default).
    ///
    /// ## Why it matters
    ///
    /// Transmission security (45 CFR 164.312(e)(1), with its encryption specification
    /// 164.312(e)(2)(ii)) asks that PHI crossing a network be encrypted with current
    /// protocols. TLS 1.0 and 1.1 are deprecated, and a service that still offers them, or
    /// plain HTTP, lets a client or an attacker pick them.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "azurerm_storage_account" "records" {
    ///   name                     = "acmerecords"
    ///   resource_group_name      = "phi"
    ///   location                 = "eastus"
    ///   account_tier             = "Standard"
    ///   account_replication_type = "GRS"
    ///   min_tls_version          = "TLS1_0"
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "azurerm_storage_account" "records" {
    ///   name                     = "acmerecords"
    ///   resource_group_name      = "phi"
    ///   location                 = "eastus"
    ///   account_tier             = "Standard"
    ///   account_replication_type = "GRS"
    ///   min_tls_version          = "TLS1_2"
    /// }
    /// ```
    pub struct AzureWeakMinTls {
        id: "EIT010",
        name: "azure-weak-min-tls",
        category: EncryptionInTransit,
        severity: High,
        title: "Azure resource accepts a TLS version below the licensed minimum or plain traffic",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| {
            MINIMUM_VERSIONS.iter().any(|m| m.resource_type == resource_type)
        },
        check: check,
    }
}

/// Where a resource type sets its lowest TLS version, and what azurerm applies when unset.
struct MinimumVersion {
    resource_type: &'static str,
    attribute: &'static str,
    default: &'static str,
}

const fn minimum(
    resource_type: &'static str,
    attribute: &'static str,
    default: &'static str,
) -> MinimumVersion {
    MinimumVersion {
        resource_type,
        attribute,
        default,
    }
}

/// azurerm resource documentation, argument reference of each type.
const MINIMUM_VERSIONS: &[MinimumVersion] = &[
    minimum("azurerm_storage_account", "min_tls_version", "TLS1_2"),
    minimum("azurerm_mssql_server", "minimum_tls_version", "1.2"),
    minimum(
        "azurerm_mssql_managed_instance",
        "minimum_tls_version",
        "1.2",
    ),
    minimum("azurerm_redis_cache", "minimum_tls_version", "1.2"),
    minimum(
        "azurerm_linux_web_app",
        "site_config.minimum_tls_version",
        "1.2",
    ),
    minimum(
        "azurerm_windows_web_app",
        "site_config.minimum_tls_version",
        "1.2",
    ),
    minimum(
        "azurerm_linux_function_app",
        "site_config.minimum_tls_version",
        "1.2",
    ),
    minimum(
        "azurerm_windows_function_app",
        "site_config.minimum_tls_version",
        "1.2",
    ),
    minimum("azurerm_app_service", "site_config.min_tls_version", "1.2"),
    minimum("azurerm_function_app", "site_config.min_tls_version", "1.2"),
    minimum(
        "azurerm_postgresql_server",
        "ssl_minimal_tls_version_enforced",
        "TLS1_2",
    ),
    minimum(
        "azurerm_mysql_server",
        "ssl_minimal_tls_version_enforced",
        "TLS1_2",
    ),
    minimum("azurerm_eventhub_namespace", "minimum_tls_version", "1.2"),
    minimum("azurerm_servicebus_namespace", "minimum_tls_version", "1.2"),
    minimum("azurerm_cosmosdb_account", "minimal_tls_version", "Tls12"),
];

/// A switch that lets plain connections in when it is not `safe`.
struct PlaintextSwitch {
    resource_type: &'static str,
    /// The attribute's names, newest first (azurerm 4 renamed several).
    attributes: &'static [&'static str],
    safe: bool,
    /// The provider default; `None` where the attribute is required.
    default: Option<bool>,
    weak: &'static str,
}

const APP_HTTPS_ONLY: &[&str] = &["https_only"];
const APP_ACCEPTS_HTTP: &str = "https_only is not true, so the app also answers plain HTTP";

const PLAINTEXT_SWITCHES: &[PlaintextSwitch] = &[
    PlaintextSwitch {
        resource_type: "azurerm_storage_account",
        attributes: &["https_traffic_only_enabled", "enable_https_traffic_only"],
        safe: true,
        default: Some(true),
        weak: "HTTPS-only traffic is switched off, so the account accepts plain HTTP",
    },
    PlaintextSwitch {
        resource_type: "azurerm_redis_cache",
        attributes: &["non_ssl_port_enabled", "enable_non_ssl_port"],
        safe: false,
        default: Some(false),
        weak: "the non-TLS port 6379 is open",
    },
    PlaintextSwitch {
        resource_type: "azurerm_postgresql_server",
        attributes: &["ssl_enforcement_enabled"],
        safe: true,
        default: None,
        weak: "ssl_enforcement_enabled is false, so clients may connect without TLS",
    },
    PlaintextSwitch {
        resource_type: "azurerm_mysql_server",
        attributes: &["ssl_enforcement_enabled"],
        safe: true,
        default: None,
        weak: "ssl_enforcement_enabled is false, so clients may connect without TLS",
    },
    PlaintextSwitch {
        resource_type: "azurerm_linux_web_app",
        attributes: APP_HTTPS_ONLY,
        safe: true,
        default: Some(false),
        weak: APP_ACCEPTS_HTTP,
    },
    PlaintextSwitch {
        resource_type: "azurerm_windows_web_app",
        attributes: APP_HTTPS_ONLY,
        safe: true,
        default: Some(false),
        weak: APP_ACCEPTS_HTTP,
    },
    PlaintextSwitch {
        resource_type: "azurerm_linux_function_app",
        attributes: APP_HTTPS_ONLY,
        safe: true,
        default: Some(false),
        weak: APP_ACCEPTS_HTTP,
    },
    PlaintextSwitch {
        resource_type: "azurerm_windows_function_app",
        attributes: APP_HTTPS_ONLY,
        safe: true,
        default: Some(false),
        weak: APP_ACCEPTS_HTTP,
    },
    PlaintextSwitch {
        resource_type: "azurerm_app_service",
        attributes: APP_HTTPS_ONLY,
        safe: true,
        default: Some(false),
        weak: APP_ACCEPTS_HTTP,
    },
    PlaintextSwitch {
        resource_type: "azurerm_function_app",
        attributes: APP_HTTPS_ONLY,
        safe: true,
        default: Some(false),
        weak: APP_ACCEPTS_HTTP,
    },
];

const FIX: &str = "set the minimum TLS version to 1.2 (\"TLS1_2\" or \"1.2\" as the resource \
                   spells it) and keep plain connections switched off";

fn check(cx: &Context, resource: &Resource) -> Verdict {
    let mut problems = Problems::default();

    if let Some(minimum) = MINIMUM_VERSIONS
        .iter()
        .find(|m| m.resource_type == resource.resource_type)
    {
        let judged = judge_policy(
            cx,
            PolicyFamily::Azure,
            minimum.attribute,
            resource.attr(minimum.attribute),
            Some(minimum.default),
        );
        problems.add(minimum.attribute, judged);
    }

    for switch in PLAINTEXT_SWITCHES
        .iter()
        .filter(|s| s.resource_type == resource.resource_type)
    {
        // The name in use, or the newest name when none is set.
        let Some(attribute) = switch
            .attributes
            .iter()
            .find(|name| !resource.attr(name).is_null())
            .or(switch.attributes.first())
        else {
            continue;
        };
        let judged = judge_flag(
            attribute,
            resource.attr(attribute),
            switch.safe,
            switch.default,
            switch.weak,
        );
        problems.add(attribute, judged);
    }
    problems.verdict(FIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_value};
    use serde_json::json;

    fn storage(values: serde_json::Value) -> Verdict {
        let account = resource("azurerm_storage_account", "a", values);
        judge(&AzureWeakMinTls, vec![account], "azurerm_storage_account.a")
    }

    #[test]
    fn a_storage_account_on_tls10_fails() {
        let message = failure_message(storage(
            json!({"name": "acmeoldtls", "min_tls_version": "TLS1_0"}),
        ));
        assert!(
            message.contains("TLS1_0") && message.contains("TLS 1.0"),
            "{message}"
        );
    }

    #[test]
    fn tls12_and_the_provider_default_pass() {
        assert_eq!(storage(json!({"min_tls_version": "TLS1_2"})), Verdict::Pass);
        assert_eq!(storage(json!({"name": "acmedefault"})), Verdict::Pass);
    }

    #[test]
    fn plain_http_fails_even_with_tls12() {
        let http = json!({"min_tls_version": "TLS1_2", "https_traffic_only_enabled": false});
        assert!(failure_message(storage(http)).contains("plain HTTP"));
    }

    #[test]
    fn sql_and_redis_versions_are_read_in_their_own_spelling() {
        let sql = resource(
            "azurerm_mssql_server",
            "s",
            json!({"minimum_tls_version": "1.0"}),
        );
        let verdict = judge(&AzureWeakMinTls, vec![sql], "azurerm_mssql_server.s");
        assert!(matches!(verdict, Verdict::Fail(_)));

        let disabled = resource(
            "azurerm_mssql_server",
            "s",
            json!({"minimum_tls_version": "Disabled"}),
        );
        let verdict = judge(&AzureWeakMinTls, vec![disabled], "azurerm_mssql_server.s");
        assert!(failure_message(verdict).contains("no minimum"));

        let redis = resource(
            "azurerm_redis_cache",
            "r",
            json!({"minimum_tls_version": "1.2"}),
        );
        let verdict = judge(&AzureWeakMinTls, vec![redis], "azurerm_redis_cache.r");
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn a_web_app_without_https_only_fails() {
        let app = resource(
            "azurerm_linux_web_app",
            "portal",
            json!({"site_config": [{"minimum_tls_version": "1.2"}]}),
        );
        let verdict = judge(&AzureWeakMinTls, vec![app], "azurerm_linux_web_app.portal");
        assert!(failure_message(verdict).contains("https_only"));
    }

    #[test]
    fn an_unknown_version_is_undetermined() {
        let account = with_value(
            resource("azurerm_storage_account", "a", json!({})),
            "min_tls_version",
            Value::Unknown,
        );
        let verdict = judge(&AzureWeakMinTls, vec![account], "azurerm_storage_account.a");
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
