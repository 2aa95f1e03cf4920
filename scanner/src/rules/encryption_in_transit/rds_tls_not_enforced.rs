use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// An RDS instance (`aws_db_instance`) or cluster (`aws_rds_cluster`) whose parameter group
    /// does not refuse unencrypted connections: `rds.force_ssl = 1` for PostgreSQL and SQL
    /// Server, `require_secure_transport = ON` (or 1) for MySQL, MariaDB and Aurora MySQL. The
    /// instance reads `parameter_group_name`, the cluster `db_cluster_parameter_group_name`.
    ///
    /// A setting the parameter group leaves alone keeps the engine default. RDS for PostgreSQL
    /// 15 and later default `rds.force_ssl` to 1; every other engine here defaults to accepting
    /// plain connections. An instance with no parameter group named uses the engine's default
    /// group, which cannot be changed, so the engine default decides. A parameter group that
    /// this configuration does not manage cannot be read: the check is then undetermined,
    /// unless the engine default already enforces TLS. An instance without `engine_version`
    /// gets the engine's current default version (PostgreSQL 15 or later today).
    ///
    /// Oracle and Db2 enforce TLS through option groups and listener ports; they are not
    /// judged here.
    ///
    /// ## Why it matters
    ///
    /// A database that accepts plain connections lets a misconfigured client send queries and
    /// results, PHI included, in clear text; the client decides, not the server. Transmission
    /// security (45 CFR 164.312(e)(1), with its encryption specification 164.312(e)(2)(ii)) has
    /// to be enforced where the data lives.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_db_instance" "ehr" {
    ///   identifier     = "ehr"
    ///   engine         = "mysql"
    ///   instance_class = "db.t4g.medium"
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_db_parameter_group" "ehr" {
    ///   name   = "ehr-mysql8"
    ///   family = "mysql8.0"
    ///   parameter {
    ///     name  = "require_secure_transport"
    ///     value = "ON"
    ///   }
    /// }
    ///
    /// resource "aws_db_instance" "ehr" {
    ///   identifier           = "ehr"
    ///   engine               = "mysql"
    ///   instance_class       = "db.t4g.medium"
    ///   parameter_group_name = aws_db_parameter_group.ehr.name
    /// }
    /// ```
    pub struct RdsTlsNotEnforced {
        id: "EIT008",
        name: "rds-tls-not-enforced",
        category: EncryptionInTransit,
        severity: Medium,
        title: "Database accepts unencrypted connections",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| {
            PARAMETER_GROUP_ATTRIBUTES
                .iter()
                .any(|(database_type, _)| *database_type == resource_type)
        },
        check: check,
    }
}

/// Where each database type names its parameter group.
const PARAMETER_GROUP_ATTRIBUTES: &[(&str, &str)] = &[
    ("aws_db_instance", "parameter_group_name"),
    ("aws_rds_cluster", "db_cluster_parameter_group_name"),
];

/// How an engine is told to refuse unencrypted connections.
struct EngineTls {
    engines: &'static [&'static str],
    parameter: &'static str,
    /// Values of the parameter that enforce TLS, compared without case.
    enforcing: &'static [&'static str],
    /// The first major version whose default enforces TLS, if any does.
    enforced_by_default_from: Option<u32>,
}

/// RDS user guide: "Using SSL with a PostgreSQL DB instance" (rds.force_ssl defaults to 1 from
/// version 15), "Using SSL with a Microsoft SQL Server DB instance", "SSL/TLS support for MySQL
/// DB instances", and the Aurora guides (both Aurora engines default to accepting plain
/// connections).
const ENGINES: &[EngineTls] = &[
    EngineTls {
        engines: &["postgres"],
        parameter: "rds.force_ssl",
        enforcing: &["1"],
        enforced_by_default_from: Some(15),
    },
    EngineTls {
        engines: &["aurora-postgresql"],
        parameter: "rds.force_ssl",
        enforcing: &["1"],
        enforced_by_default_from: None,
    },
    EngineTls {
        engines: &[
            "sqlserver-ee",
            "sqlserver-se",
            "sqlserver-ex",
            "sqlserver-web",
        ],
        parameter: "rds.force_ssl",
        enforcing: &["1"],
        enforced_by_default_from: None,
    },
    EngineTls {
        engines: &["mysql", "mariadb", "aurora-mysql", "aurora"],
        parameter: "require_secure_transport",
        enforcing: &["1", "ON"],
        enforced_by_default_from: None,
    },
];

fn check(cx: &Context, database: &Resource) -> Verdict {
    let engine = match database.attr("engine") {
        Value::String(engine) => engine.to_ascii_lowercase(),
        Value::Null => {
            return Verdict::undetermined(
                "engine is not set here (a replica or a restored snapshot takes its source's)",
            )
        }
        _ => return Verdict::undetermined("engine is not known until apply"),
    };
    let Some(rule) = ENGINES
        .iter()
        .find(|e| e.engines.contains(&engine.as_str()))
    else {
        return Verdict::NotApplicable;
    };
    let Some((_, group_attribute)) = PARAMETER_GROUP_ATTRIBUTES
        .iter()
        .find(|(database_type, _)| *database_type == database.resource_type)
    else {
        return Verdict::NotApplicable;
    };
    let fix = format!(
        "use a parameter group of your own that sets {} = {}, and name it in `{group_attribute}`",
        rule.parameter,
        rule.enforcing.last().copied().unwrap_or("1"),
    );
    let default = engine_default(rule, database);

    if database.attr(group_attribute).is_null() {
        return match default {
            Truth::Yes => Verdict::Pass,
            Truth::Undetermined => Verdict::undetermined(
                "engine_version is not known until apply, and the default of the parameter \
                 depends on it",
            ),
            Truth::No => Verdict::fail(
                Some(group_attribute),
                format!(
                    "no parameter group is named, so the {engine} default group applies, where \
                     {} does not enforce TLS: clients may connect unencrypted",
                    rule.parameter
                ),
                fix,
            ),
        };
    }

    let groups = cx.linked_to(database, group_attribute);
    if groups.is_empty() {
        return match default {
            Truth::Yes => Verdict::Pass,
            _ => Verdict::undetermined(format!(
                "the parameter group named in {group_attribute} is not managed in this \
                 configuration, so its {} cannot be read",
                rule.parameter
            )),
        };
    }

    let mut answer = Verdict::Pass;
    for group in groups {
        match setting(group, rule.parameter) {
            Some(value) => match value.test(&|v: &Value| enforces(rule, v)) {
                Truth::Yes => {}
                Truth::No => {
                    return Verdict::fail(
                        Some(group_attribute),
                        format!(
                            "parameter group {} sets {} to a value that does not enforce TLS: \
                             clients may connect unencrypted",
                            group.address, rule.parameter
                        ),
                        fix,
                    )
                }
                Truth::Undetermined => {
                    answer = Verdict::undetermined(format!(
                        "{} in parameter group {} is not known until apply",
                        rule.parameter, group.address
                    ))
                }
            },
            None => match default {
                Truth::Yes => {}
                Truth::No => {
                    return Verdict::fail(
                        Some(group_attribute),
                        format!(
                            "parameter group {} does not set {}, and the {engine} default does \
                             not enforce TLS: clients may connect unencrypted",
                            group.address, rule.parameter
                        ),
                        fix,
                    )
                }
                Truth::Undetermined => {
                    answer = Verdict::undetermined(
                        "engine_version is not known until apply, and the default of the \
                         parameter depends on it",
                    )
                }
            },
        }
    }
    answer
}

/// Whether the engine's own default enforces TLS for this database's version.
fn engine_default(rule: &EngineTls, database: &Resource) -> Truth {
    let Some(from) = rule.enforced_by_default_from else {
        return Truth::No;
    };
    match database.attr("engine_version") {
        // RDS picks the engine's current default version, above the threshold for every
        // engine that has one.
        Value::Null => Truth::Yes,
        version => version.test(&|v: &Value| major_version(v).is_some_and(|major| major >= from)),
    }
}

fn major_version(version: &Value) -> Option<u32> {
    match version {
        Value::String(text) => text.split('.').next()?.trim().parse().ok(),
        Value::Number(number) => Some(number.trunc() as u32),
        _ => None,
    }
}

/// The value a parameter group gives a parameter, if it sets it.
fn setting<'a>(group: &'a Resource, parameter: &str) -> Option<&'a Value> {
    group.lookup("parameter").into_iter().find_map(|entry| {
        let name = entry.get("name")?.as_str()?;
        if name.eq_ignore_ascii_case(parameter) {
            entry.get("value")
        } else {
            None
        }
    })
}

fn enforces(rule: &EngineTls, value: &Value) -> bool {
    let text = match value {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => format!("{number}"),
        Value::Bool(flag) => u8::from(*flag).to_string(),
        _ => return false,
    };
    rule.enforcing.iter().any(|e| e.eq_ignore_ascii_case(&text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference};
    use serde_json::json;

    fn instance(values: serde_json::Value) -> Resource {
        resource("aws_db_instance", "ehr", values)
    }

    fn group(parameters: serde_json::Value) -> Resource {
        resource(
            "aws_db_parameter_group",
            "ehr",
            json!({"name": "ehr", "family": "mysql8.0", "parameter": parameters}),
        )
    }

    #[test]
    fn mysql_on_the_default_group_fails() {
        let verdict = judge(
            &RdsTlsNotEnforced,
            vec![instance(json!({"engine": "mysql"}))],
            "aws_db_instance.ehr",
        );
        let Verdict::Fail(violation) = verdict else {
            panic!("expected a failure, got {verdict:?}");
        };
        assert!(
            violation.message.contains("require_secure_transport"),
            "{}",
            violation.message
        );
        assert_eq!(
            violation.fix,
            "use a parameter group of your own that sets require_secure_transport = ON, and \
             name it in `parameter_group_name`"
        );
    }

    #[test]
    fn a_group_that_requires_secure_transport_passes() {
        let db = with_reference(
            instance(json!({"engine": "mysql", "parameter_group_name": "ehr"})),
            "parameter_group_name",
            "aws_db_parameter_group.ehr",
            "name",
        );
        let enforcing = group(json!([{"name": "require_secure_transport", "value": "ON"}]));
        let verdict = judge(
            &RdsTlsNotEnforced,
            vec![db.clone(), enforcing],
            "aws_db_instance.ehr",
        );
        assert_eq!(verdict, Verdict::Pass);

        let lax = group(json!([{"name": "require_secure_transport", "value": "OFF"}]));
        let verdict = judge(&RdsTlsNotEnforced, vec![db, lax], "aws_db_instance.ehr");
        assert!(failure_message(verdict).contains("aws_db_parameter_group.ehr"));
    }

    #[test]
    fn postgres_15_and_later_enforce_tls_by_default() {
        let modern = instance(json!({"engine": "postgres", "engine_version": "16.3"}));
        let verdict = judge(&RdsTlsNotEnforced, vec![modern], "aws_db_instance.ehr");
        assert_eq!(verdict, Verdict::Pass);

        let old = instance(json!({"engine": "postgres", "engine_version": "14.10"}));
        let verdict = judge(&RdsTlsNotEnforced, vec![old], "aws_db_instance.ehr");
        assert!(failure_message(verdict).contains("rds.force_ssl"));
    }

    #[test]
    fn a_group_outside_the_configuration_is_undetermined() {
        let db = instance(json!({"engine": "sqlserver-se", "parameter_group_name": "shared"}));
        let verdict = judge(&RdsTlsNotEnforced, vec![db], "aws_db_instance.ehr");
        assert!(
            matches!(verdict, Verdict::Undetermined(reason) if reason.contains("rds.force_ssl"))
        );
    }

    #[test]
    fn an_aurora_cluster_reads_its_cluster_parameter_group() {
        let cluster = with_reference(
            resource(
                "aws_rds_cluster",
                "portal",
                json!({"engine": "aurora-postgresql", "db_cluster_parameter_group_name": "portal"}),
            ),
            "db_cluster_parameter_group_name",
            "aws_rds_cluster_parameter_group.portal",
            "name",
        );
        let group = resource(
            "aws_rds_cluster_parameter_group",
            "portal",
            json!({"name": "portal", "parameter": [{"name": "rds.force_ssl", "value": "1"}]}),
        );
        let verdict = judge(
            &RdsTlsNotEnforced,
            vec![cluster, group],
            "aws_rds_cluster.portal",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn oracle_is_not_judged() {
        let oracle = instance(json!({"engine": "oracle-ee"}));
        let verdict = judge(&RdsTlsNotEnforced, vec![oracle], "aws_db_instance.ehr");
        assert_eq!(verdict, Verdict::NotApplicable);
    }
}
