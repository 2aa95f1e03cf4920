use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// A Cloud SQL instance (`google_sql_database_instance`) that accepts unencrypted
    /// connections: `settings.ip_configuration.ssl_mode` must be `ENCRYPTED_ONLY` or
    /// `TRUSTED_CLIENT_CERTIFICATE_REQUIRED`. The older `require_ssl = true` is accepted where
    /// `ssl_mode` is not set. With neither, Cloud SQL keeps
    /// `ALLOW_UNENCRYPTED_AND_ENCRYPTED`.
    ///
    /// ## Why it matters
    ///
    /// An instance that allows unencrypted connections leaves it to each client whether PHI
    /// crosses the network in clear text. The transmission security standard
    /// (45 CFR 164.312(e)(1)) and its encryption specification (164.312(e)(2)(ii)) ask the
    /// server to refuse them.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "google_sql_database_instance" "intake" {
    ///   name             = "intake"
    ///   database_version = "POSTGRES_16"
    ///   settings {
    ///     tier = "db-custom-2-7680"
    ///     ip_configuration {
    ///       ssl_mode = "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "google_sql_database_instance" "intake" {
    ///   name             = "intake"
    ///   database_version = "POSTGRES_16"
    ///   settings {
    ///     tier = "db-custom-2-7680"
    ///     ip_configuration {
    ///       ssl_mode = "ENCRYPTED_ONLY"
    ///     }
    ///   }
    /// }
    /// ```
    pub struct CloudSqlSslNotRequired {
        id: "EIT012",
        name: "cloud-sql-ssl-not-required",
        category: EncryptionInTransit,
        severity: High,
        title: "Cloud SQL instance accepts unencrypted connections",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| resource_type == "google_sql_database_instance",
        check: check,
    }
}

const SSL_MODE: &str = "settings.ip_configuration.ssl_mode";
const REQUIRE_SSL: &str = "settings.ip_configuration.require_ssl";

/// The SSL modes that refuse unencrypted connections.
const ENCRYPTED_MODES: &[&str] = &["ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"];

const FIX: &str = "set settings.ip_configuration.ssl_mode = \"ENCRYPTED_ONLY\" (or \
                   \"TRUSTED_CLIENT_CERTIFICATE_REQUIRED\")";

fn check(_cx: &Context, instance: &Resource) -> Verdict {
    let mode = instance.attr(SSL_MODE);
    if !mode.is_null() {
        return match mode
            .test(&|m: &Value| m.as_str().is_some_and(|m| ENCRYPTED_MODES.contains(&m)))
        {
            Truth::Yes => Verdict::Pass,
            Truth::Undetermined => {
                Verdict::undetermined(format!("{SSL_MODE} is not known until apply"))
            }
            Truth::No => Verdict::fail(
                Some(SSL_MODE),
                format!(
                    "ssl_mode is {}, which accepts unencrypted connections",
                    mode.as_str().unwrap_or("not an encrypted-only mode")
                ),
                FIX,
            ),
        };
    }

    match instance
        .attr(REQUIRE_SSL)
        .test(&|r: &Value| r.as_bool() == Some(true))
    {
        Truth::Yes => Verdict::Pass,
        Truth::Undetermined => {
            Verdict::undetermined(format!("{REQUIRE_SSL} is not known until apply"))
        }
        Truth::No => Verdict::fail(
            Some("settings.ip_configuration"),
            "neither ssl_mode nor require_ssl is set, so the instance keeps \
             ALLOW_UNENCRYPTED_AND_ENCRYPTED and accepts unencrypted connections",
            FIX,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    fn verdict(ip_configuration: serde_json::Value) -> Verdict {
        let instance = resource(
            "google_sql_database_instance",
            "intake",
            json!({
                "name": "intake",
                "database_version": "POSTGRES_16",
                "settings": [{"tier": "db-custom-2-7680", "ip_configuration": [ip_configuration]}]
            }),
        );
        judge(
            &CloudSqlSslNotRequired,
            vec![instance],
            "google_sql_database_instance.intake",
        )
    }

    #[test]
    fn allowing_unencrypted_connections_fails() {
        let loose = verdict(json!({"ssl_mode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}));
        assert!(failure_message(loose).contains("ALLOW_UNENCRYPTED_AND_ENCRYPTED"));
        let unset = verdict(json!({"ipv4_enabled": false}));
        assert!(failure_message(unset).contains("neither ssl_mode nor require_ssl"));
    }

    #[test]
    fn encrypted_only_or_legacy_require_ssl_passes() {
        assert_eq!(
            verdict(json!({"ssl_mode": "ENCRYPTED_ONLY"})),
            Verdict::Pass
        );
        assert_eq!(verdict(json!({"require_ssl": true})), Verdict::Pass);
    }

    #[test]
    fn an_unknown_mode_is_undetermined() {
        let mut settings = crate::value::Map::new();
        settings.insert("ip_configuration".to_string(), Value::Unknown);
        let mut instance = resource("google_sql_database_instance", "intake", json!({}));
        if let Value::Map(values) = &mut instance.values {
            values.insert("settings".into(), Value::List(vec![Value::Map(settings)]));
        }
        let verdict = judge(
            &CloudSqlSslNotRequired,
            vec![instance],
            "google_sql_database_instance.intake",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
