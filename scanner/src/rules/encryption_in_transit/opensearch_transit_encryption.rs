use super::{judge_flag, judge_policy, Judged, Problems};
use crate::rules::prelude::*;
use compliance::tls::{self, PolicyFamily};

declare_rule! {
    /// ## What it checks
    ///
    /// An OpenSearch or Elasticsearch domain (`aws_opensearch_domain`,
    /// `aws_elasticsearch_domain`) that does not encrypt every connection:
    ///
    /// - `domain_endpoint_options.enforce_https` is not true. Without a
    ///   `domain_endpoint_options` block the domain keeps the service default, which accepts
    ///   HTTP; inside the block the provider defaults `enforce_https` to true;
    /// - `domain_endpoint_options.tls_security_policy` accepts a TLS version older than the
    ///   license minimum. Unset, the domain keeps `Policy-Min-TLS-1-0-2019-07`, which accepts
    ///   TLS 1.0;
    /// - `node_to_node_encryption.enabled` is not true: traffic between the nodes of the domain
    ///   is then unencrypted.
    ///
    /// ## Why it matters
    ///
    /// Search domains index clinical notes, claims and logs full of PHI. Transmission security
    /// (45 CFR 164.312(e)(1), with its encryption specification 164.312(e)(2)(ii)) applies to
    /// client connections and to the replication traffic between nodes alike.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_opensearch_domain" "notes" {
    ///   domain_name = "notes"
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_opensearch_domain" "notes" {
    ///   domain_name = "notes"
    ///   domain_endpoint_options {
    ///     enforce_https       = true
    ///     tls_security_policy = "Policy-Min-TLS-1-2-PFS-2023-10"
    ///   }
    ///   node_to_node_encryption {
    ///     enabled = true
    ///   }
    /// }
    /// ```
    pub struct OpensearchTransitEncryption {
        id: "EIT006",
        name: "opensearch-transit-encryption",
        category: EncryptionInTransit,
        severity: High,
        title: "OpenSearch domain does not encrypt all traffic with an acceptable TLS version",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| DOMAIN_TYPES.contains(&resource_type),
        check: check,
    }
}

const DOMAIN_TYPES: &[&str] = &["aws_opensearch_domain", "aws_elasticsearch_domain"];

const FIX: &str = "add domain_endpoint_options { enforce_https = true, tls_security_policy = \
                   \"Policy-Min-TLS-1-2-PFS-2023-10\" } and node_to_node_encryption { enabled = \
                   true }";

fn check(cx: &Context, domain: &Resource) -> Verdict {
    let mut problems = Problems::default();

    let endpoint_options = domain.attr("domain_endpoint_options");
    let https = match endpoint_options {
        Value::Null => Judged::Weak(
            "there is no domain_endpoint_options block, so the domain accepts plain HTTP"
                .to_string(),
        ),
        Value::Map(_) => judge_flag(
            "domain_endpoint_options.enforce_https",
            domain.attr("domain_endpoint_options.enforce_https"),
            true,
            Some(true),
            "domain_endpoint_options.enforce_https is false, so the domain accepts plain HTTP",
        ),
        _ => Judged::Unknown("domain_endpoint_options is not known until apply".to_string()),
    };
    problems.add("domain_endpoint_options.enforce_https", https);

    let family = PolicyFamily::OpenSearch;
    let attribute = "domain_endpoint_options.tls_security_policy";
    problems.add(
        attribute,
        judge_policy(
            cx,
            family,
            attribute,
            domain.attr(attribute),
            tls::default_policy(family),
        ),
    );

    let node_to_node = "node_to_node_encryption.enabled";
    problems.add(
        node_to_node,
        judge_flag(
            node_to_node,
            domain.attr(node_to_node),
            true,
            Some(false),
            "node_to_node_encryption is not enabled, so nodes exchange data unencrypted",
        ),
    );
    problems.verdict(FIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_value};
    use serde_json::json;

    fn verdict(values: serde_json::Value) -> Verdict {
        let domain = resource("aws_opensearch_domain", "notes", values);
        judge(
            &OpensearchTransitEncryption,
            vec![domain],
            "aws_opensearch_domain.notes",
        )
    }

    #[test]
    fn a_bare_domain_fails_on_https_tls_and_node_traffic() {
        let message = failure_message(verdict(json!({"domain_name": "notes"})));
        assert!(message.contains("plain HTTP"), "{message}");
        assert!(message.contains("Policy-Min-TLS-1-0-2019-07"), "{message}");
        assert!(message.contains("node_to_node_encryption"), "{message}");
    }

    #[test]
    fn https_with_a_tls12_policy_and_node_encryption_passes() {
        let good = json!({
            "domain_name": "notes",
            "domain_endpoint_options": [{
                "enforce_https": true,
                "tls_security_policy": "Policy-Min-TLS-1-2-PFS-2023-10"
            }],
            "node_to_node_encryption": [{"enabled": true}]
        });
        assert_eq!(verdict(good), Verdict::Pass);
    }

    #[test]
    fn enforce_https_false_fails() {
        let http = json!({
            "domain_endpoint_options": [{
                "enforce_https": false,
                "tls_security_policy": "Policy-Min-TLS-1-2-2019-07"
            }],
            "node_to_node_encryption": [{"enabled": true}]
        });
        assert!(failure_message(verdict(http)).contains("enforce_https is false"));
    }

    #[test]
    fn unknown_endpoint_options_are_undetermined() {
        let domain = with_value(
            resource(
                "aws_opensearch_domain",
                "notes",
                json!({"node_to_node_encryption": [{"enabled": true}]}),
            ),
            "domain_endpoint_options",
            Value::Unknown,
        );
        let verdict = judge(
            &OpensearchTransitEncryption,
            vec![domain],
            "aws_opensearch_domain.notes",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
