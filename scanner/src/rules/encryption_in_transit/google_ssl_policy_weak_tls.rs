use super::{judge_policy, Judged, Problems};
use crate::rules::prelude::*;
use compliance::tls::{self, PolicyFamily};

declare_rule! {
    /// ## What it checks
    ///
    /// Google Cloud load balancer TLS that accepts a version older than the license minimum:
    ///
    /// - an SSL policy (`google_compute_ssl_policy`, `google_compute_region_ssl_policy`) whose
    ///   `min_tls_version` is too old. Unset, it is `TLS_1_0`;
    /// - a target HTTPS or SSL proxy with no `ssl_policy`: Google then applies its default SSL
    ///   policy, which accepts TLS 1.0. A proxy that names a policy of this configuration is
    ///   judged by that policy; one that names a policy managed elsewhere is undetermined.
    ///
    /// ## Why it matters
    ///
    /// The external load balancer terminates the TLS sessions that carry PHI to the
    /// application. The transmission security standard (45 CFR 164.312(e)(1)) and its
    /// encryption specification (164.312(e)(2)(ii)) call for protection that TLS 1.0 and 1.1
    /// no longer give.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "google_compute_ssl_policy" "portal" {
    ///   name    = "portal"
    ///   profile = "MODERN"
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "google_compute_ssl_policy" "portal" {
    ///   name            = "portal"
    ///   profile         = "MODERN"
    ///   min_tls_version = "TLS_1_2"
    /// }
    /// ```
    pub struct GoogleSslPolicyWeakTls {
        id: "EIT011",
        name: "google-ssl-policy-weak-tls",
        category: EncryptionInTransit,
        severity: High,
        title: "Google Cloud SSL policy accepts a TLS version below the licensed minimum",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| {
            POLICY_TYPES.contains(&resource_type) || PROXY_TYPES.contains(&resource_type)
        },
        check: check,
    }
}

const POLICY_TYPES: &[&str] = &[
    "google_compute_ssl_policy",
    "google_compute_region_ssl_policy",
];
const PROXY_TYPES: &[&str] = &[
    "google_compute_target_https_proxy",
    "google_compute_region_target_https_proxy",
    "google_compute_target_ssl_proxy",
];

const FIX: &str = "use a google_compute_ssl_policy with min_tls_version = \"TLS_1_2\" and name it \
                   in the proxy's ssl_policy";

fn check(cx: &Context, resource: &Resource) -> Verdict {
    let family = PolicyFamily::GoogleSslPolicy;
    let mut problems = Problems::default();

    if POLICY_TYPES.contains(&resource.resource_type.as_str()) {
        problems.add(
            "min_tls_version",
            judge_policy(
                cx,
                family,
                "min_tls_version",
                resource.attr("min_tls_version"),
                tls::default_policy(family),
            ),
        );
        return problems.verdict(FIX);
    }

    if resource.attr("ssl_policy").is_null() && resource.references_of("ssl_policy").is_empty() {
        let default = tls::default_policy(family).unwrap_or("TLS_1_0");
        let judged = match judge_policy(cx, family, "ssl_policy", &Value::from(default), None) {
            Judged::Weak(_) => Judged::Weak(format!(
                "the proxy names no ssl_policy, so Google's default policy applies: it accepts \
                 TLS 1.0 and the license requires TLS {} or later",
                cx.terms().min_tls_version
            )),
            other => other,
        };
        problems.add("ssl_policy", judged);
        return problems.verdict(FIX);
    }

    let policies: Vec<&Resource> = resource
        .references_of("ssl_policy")
        .iter()
        .flat_map(|reference| cx.index.resolve(reference))
        .filter(|policy| POLICY_TYPES.contains(&policy.resource_type.as_str()))
        .collect();
    if policies.is_empty() {
        return Verdict::undetermined(
            "ssl_policy names a policy that is not managed in this configuration",
        );
    }
    for policy in policies {
        let judged = match judge_policy(
            cx,
            family,
            "min_tls_version",
            policy.attr("min_tls_version"),
            tls::default_policy(family),
        ) {
            Judged::Weak(message) => Judged::Weak(format!("its {}: {message}", policy.address)),
            other => other,
        };
        problems.add("ssl_policy", judged);
    }
    problems.verdict(FIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference, with_value};
    use serde_json::json;

    fn policy(values: serde_json::Value) -> Resource {
        resource("google_compute_ssl_policy", "portal", values)
    }

    #[test]
    fn an_unset_minimum_is_tls10() {
        let verdict = judge(
            &GoogleSslPolicyWeakTls,
            vec![policy(json!({"name": "portal", "profile": "MODERN"}))],
            "google_compute_ssl_policy.portal",
        );
        assert!(failure_message(verdict).contains("TLS_1_0"));
    }

    #[test]
    fn tls12_passes() {
        let verdict = judge(
            &GoogleSslPolicyWeakTls,
            vec![policy(json!({"min_tls_version": "TLS_1_2"}))],
            "google_compute_ssl_policy.portal",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn a_proxy_is_judged_by_its_policy_or_the_default() {
        let bare = resource(
            "google_compute_target_https_proxy",
            "p",
            json!({"name": "p"}),
        );
        let verdict = judge(
            &GoogleSslPolicyWeakTls,
            vec![bare],
            "google_compute_target_https_proxy.p",
        );
        assert!(failure_message(verdict).contains("default policy"));

        let proxy = with_reference(
            resource(
                "google_compute_target_https_proxy",
                "p",
                json!({"name": "p"}),
            ),
            "ssl_policy",
            "google_compute_ssl_policy.portal",
            "id",
        );
        let strict = policy(json!({"min_tls_version": "TLS_1_2"}));
        let verdict = judge(
            &GoogleSslPolicyWeakTls,
            vec![proxy, strict],
            "google_compute_target_https_proxy.p",
        );
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn unknown_or_foreign_policies_are_undetermined() {
        let unknown = with_value(policy(json!({})), "min_tls_version", Value::Unknown);
        let verdict = judge(
            &GoogleSslPolicyWeakTls,
            vec![unknown],
            "google_compute_ssl_policy.portal",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));

        let foreign = resource(
            "google_compute_target_ssl_proxy",
            "p",
            json!({"ssl_policy": "projects/acme/global/sslPolicies/shared"}),
        );
        let verdict = judge(
            &GoogleSslPolicyWeakTls,
            vec![foreign],
            "google_compute_target_ssl_proxy.p",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
