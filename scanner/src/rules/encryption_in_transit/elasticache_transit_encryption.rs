use super::{judge_flag, Judged, Problems};
use crate::rules::prelude::*;
use compliance::encryption::{Inheritance, ELASTICACHE_GLOBAL_PRIMARY};

declare_rule! {
    /// ## What it checks
    ///
    /// An ElastiCache replication group (`aws_elasticache_replication_group`) or a standalone
    /// cache cluster (`aws_elasticache_cluster` outside a replication group) without in-transit
    /// encryption: `transit_encryption_enabled` false or unset (its default is false), or
    /// `transit_encryption_mode = "preferred"`, which still accepts unencrypted clients while a
    /// group migrates to TLS. A secondary group of a global datastore
    /// (`global_replication_group_id`) cannot set these itself: it is judged by the primary group
    /// of its datastore, and is undetermined when that group is not in the configuration.
    ///
    /// ## Why it matters
    ///
    /// Session stores and caches in front of clinical systems hold PHI. Without in-transit
    /// encryption, every read and write crosses the network in clear text, against the
    /// transmission security standard (45 CFR 164.312(e)(1)) and its encryption specification
    /// (164.312(e)(2)(ii)).
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_elasticache_replication_group" "sessions" {
    ///   replication_group_id       = "sessions"
    ///   description                = "session cache"
    ///   node_type                  = "cache.r6g.large"
    ///   transit_encryption_enabled = false
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_elasticache_replication_group" "sessions" {
    ///   replication_group_id       = "sessions"
    ///   description                = "session cache"
    ///   node_type                  = "cache.r6g.large"
    ///   transit_encryption_enabled = true
    ///   transit_encryption_mode    = "required"
    /// }
    /// ```
    pub struct ElasticacheTransitEncryption {
        id: "EIT007",
        name: "elasticache-transit-encryption",
        category: EncryptionInTransit,
        severity: High,
        title: "ElastiCache accepts unencrypted connections",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| CACHE_TYPES.contains(&resource_type),
        check: check,
    }
}

const CACHE_TYPES: &[&str] = &[
    "aws_elasticache_replication_group",
    "aws_elasticache_cluster",
];

/// The transit encryption mode that still lets clients connect without TLS.
const PERMISSIVE_MODE: &str = "preferred";

const FIX: &str = "set transit_encryption_enabled = true (and transit_encryption_mode = \
                   \"required\" once clients use TLS)";

fn check(cx: &Context, cache: &Resource) -> Verdict {
    // A member cluster takes its encryption from its replication group, judged there.
    if cache.resource_type == "aws_elasticache_cluster"
        && !cache.attr("replication_group_id").is_null()
    {
        return Verdict::NotApplicable;
    }

    // A secondary group of a global datastore takes the datastore's settings, which are
    // those of its primary group: it is judged by that group.
    let global = &ELASTICACHE_GLOBAL_PRIMARY[0];
    if cache.resource_type == "aws_elasticache_replication_group"
        && !cache.attr(global.source_path).is_null()
    {
        return judge_by_primary(cx, cache, global);
    }
    own_settings(cache)
}

/// The verdict of a group or cluster by its own transit encryption arguments.
fn own_settings(cache: &Resource) -> Verdict {
    let mut problems = Problems::default();
    let enabled = judge_flag(
        "transit_encryption_enabled",
        cache.attr("transit_encryption_enabled"),
        true,
        Some(false),
        "transit_encryption_enabled is not true, so clients connect without TLS",
    );
    let encrypted = enabled == Judged::Meets;
    problems.add("transit_encryption_enabled", enabled);

    if encrypted {
        let mode = cache.attr("transit_encryption_mode");
        let judged = match mode.test(&|m: &Value| m.as_str() == Some(PERMISSIVE_MODE)) {
            Truth::Yes => Judged::Weak(format!(
                "transit_encryption_mode is \"{PERMISSIVE_MODE}\", which still accepts \
                 unencrypted connections"
            )),
            Truth::No => Judged::Meets,
            Truth::Undetermined => {
                Judged::Unknown("transit_encryption_mode is not known until apply".to_string())
            }
        };
        problems.add("transit_encryption_mode", judged);
    }
    problems.verdict(FIX)
}

/// The verdict of a secondary group: that of the primary group it takes its settings from.
fn judge_by_primary(cx: &Context, secondary: &Resource, global: &Inheritance) -> Verdict {
    let primaries = cx.inherited_sources(secondary, global);
    if primaries.is_empty() {
        return Verdict::undetermined(format!(
            "transit encryption is set by the global datastore named in `{}`, whose primary \
             group this configuration does not show",
            global.source_path
        ));
    }

    let mut answer = Verdict::Pass;
    for primary in primaries {
        // The primary's own arguments: a primary that names a datastore in turn would be
        // refused by ElastiCache, and following it could go round in a circle.
        match own_settings(primary) {
            Verdict::Pass | Verdict::NotApplicable => {}
            Verdict::Fail(violation) => {
                return Verdict::fail(
                    Some(global.source_path),
                    format!(
                        "it takes its transit encryption from its {} {}: {}",
                        global.source, primary.address, violation.message
                    ),
                    violation.fix,
                )
            }
            Verdict::Undetermined(reason) => {
                answer = Verdict::undetermined(format!(
                    "it takes its transit encryption from its {} {}: {reason}",
                    global.source, primary.address
                ))
            }
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, global_datastore, judge, resource, with_value};
    use serde_json::json;

    fn verdict(values: serde_json::Value) -> Verdict {
        let group = resource("aws_elasticache_replication_group", "sessions", values);
        judge(
            &ElasticacheTransitEncryption,
            vec![group],
            "aws_elasticache_replication_group.sessions",
        )
    }

    #[test]
    fn disabled_or_unset_transit_encryption_fails() {
        let off = json!({"replication_group_id": "sessions", "transit_encryption_enabled": false});
        assert!(failure_message(verdict(off)).contains("without TLS"));
        let unset = json!({"replication_group_id": "sessions"});
        assert!(matches!(verdict(unset), Verdict::Fail(_)));
    }

    #[test]
    fn preferred_mode_still_accepts_plaintext() {
        let preferred = json!({
            "transit_encryption_enabled": true,
            "transit_encryption_mode": "preferred"
        });
        assert!(failure_message(verdict(preferred)).contains("preferred"));
    }

    #[test]
    fn required_encryption_passes_and_member_clusters_are_left_to_their_group() {
        let required =
            json!({"transit_encryption_enabled": true, "transit_encryption_mode": "required"});
        assert_eq!(verdict(required), Verdict::Pass);

        let member = resource(
            "aws_elasticache_cluster",
            "node",
            json!({"replication_group_id": "sessions"}),
        );
        let verdict = judge(
            &ElasticacheTransitEncryption,
            vec![member],
            "aws_elasticache_cluster.node",
        );
        assert_eq!(verdict, Verdict::NotApplicable);
    }

    #[test]
    fn an_unknown_flag_is_undetermined() {
        let group = with_value(
            resource("aws_elasticache_replication_group", "sessions", json!({})),
            "transit_encryption_enabled",
            Value::Unknown,
        );
        let verdict = judge(
            &ElasticacheTransitEncryption,
            vec![group],
            "aws_elasticache_replication_group.sessions",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }

    #[test]
    fn a_global_secondary_is_judged_by_the_primary_of_its_datastore() {
        let secondary = "aws_elasticache_replication_group.secondary";
        let encrypted = global_datastore(json!({"transit_encryption_enabled": true}));
        assert_eq!(
            judge(&ElasticacheTransitEncryption, encrypted, secondary),
            Verdict::Pass
        );

        let plain = global_datastore(json!({"transit_encryption_enabled": false}));
        let message = failure_message(judge(&ElasticacheTransitEncryption, plain, secondary));
        assert!(
            message.starts_with(
                "it takes its transit encryption from its global datastore's primary group \
                 aws_elasticache_replication_group.primary: transit_encryption_enabled"
            ),
            "{message}"
        );

        // The datastore is not in the configuration: its settings cannot be seen.
        let alone = global_datastore(json!({})).split_off(2);
        let verdict = judge(&ElasticacheTransitEncryption, alone, secondary);
        let Verdict::Undetermined(reason) = verdict else {
            panic!("expected undetermined, got {verdict:?}");
        };
        assert!(reason.contains("global_replication_group_id"), "{reason}");
    }
}
