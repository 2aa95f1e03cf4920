use super::{protocol_below_minimum, Judged, Problems};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// A CloudFront distribution that lets PHI travel without adequate encryption on either of
    /// its two legs:
    ///
    /// - viewer to CloudFront: a cache behavior (`default_cache_behavior` or any
    ///   `ordered_cache_behavior`) with `viewer_protocol_policy = "allow-all"`, which serves
    ///   plain HTTP;
    /// - CloudFront to origin: a custom origin with `origin_protocol_policy = "http-only"`, or
    ///   `"match-viewer"` while some behavior allows HTTP viewers, or `origin_ssl_protocols`
    ///   listing a protocol older than the license minimum (`SSLv3`, `TLSv1`, `TLSv1.1`).
    ///
    /// ## Why it matters
    ///
    /// Transmission security (45 CFR 164.312(e)(1), with its encryption specification
    /// 164.312(e)(2)(ii)) covers the whole path. HTTPS between the browser and CloudFront does
    /// not help when CloudFront fetches the same record from the origin in clear text.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_cloudfront_distribution" "files" {
    ///   origin {
    ///     domain_name = "files.example.org"
    ///     origin_id   = "files"
    ///     custom_origin_config {
    ///       http_port              = 80
    ///       https_port             = 443
    ///       origin_protocol_policy = "match-viewer"
    ///       origin_ssl_protocols   = ["TLSv1", "TLSv1.2"]
    ///     }
    ///   }
    ///   default_cache_behavior {
    ///     target_origin_id       = "files"
    ///     viewer_protocol_policy = "allow-all"
    ///     # ...
    ///   }
    ///   # ...
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_cloudfront_distribution" "files" {
    ///   origin {
    ///     domain_name = "files.example.org"
    ///     origin_id   = "files"
    ///     custom_origin_config {
    ///       http_port              = 80
    ///       https_port             = 443
    ///       origin_protocol_policy = "https-only"
    ///       origin_ssl_protocols   = ["TLSv1.2"]
    ///     }
    ///   }
    ///   default_cache_behavior {
    ///     target_origin_id       = "files"
    ///     viewer_protocol_policy = "redirect-to-https"
    ///     # ...
    ///   }
    ///   # ...
    /// }
    /// ```
    pub struct CloudfrontAllowsHttp {
        id: "EIT004",
        name: "cloudfront-allows-http",
        category: EncryptionInTransit,
        severity: High,
        title: "CloudFront distribution carries traffic over plain HTTP or weak origin TLS",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| resource_type == "aws_cloudfront_distribution",
        check: check,
    }
}

const BEHAVIORS: &[&str] = &["default_cache_behavior", "ordered_cache_behavior"];

const FIX: &str = "set viewer_protocol_policy to \"redirect-to-https\" or \"https-only\" on every \
                   cache behavior, origin_protocol_policy to \"https-only\", and \
                   origin_ssl_protocols to [\"TLSv1.2\"]";

fn check(cx: &Context, distribution: &Resource) -> Verdict {
    let mut problems = Problems::default();

    let mut viewers_may_use_http = Truth::No;
    for behavior in BEHAVIORS {
        let attribute = format!("{behavior}.viewer_protocol_policy");
        for policy in distribution.lookup(&attribute) {
            match policy.test(&|p: &Value| p.as_str() == Some("allow-all")) {
                Truth::Yes => {
                    viewers_may_use_http = Truth::Yes;
                    problems.add(
                        &attribute,
                        Judged::Weak(format!(
                            "{behavior} has viewer_protocol_policy \"allow-all\": viewers may \
                             use plain HTTP"
                        )),
                    );
                }
                Truth::Undetermined => {
                    if viewers_may_use_http == Truth::No {
                        viewers_may_use_http = Truth::Undetermined;
                    }
                    problems.add(
                        &attribute,
                        Judged::Unknown(format!("{attribute} is not known until apply")),
                    );
                }
                Truth::No => {}
            }
        }
    }

    for origin in distribution.lookup("origin.custom_origin_config") {
        judge_origin(cx, origin, viewers_may_use_http, &mut problems);
    }
    problems.verdict(FIX)
}

fn judge_origin(
    cx: &Context,
    origin: &Value,
    viewers_may_use_http: Truth,
    problems: &mut Problems,
) {
    let policy_attribute = "origin.custom_origin_config.origin_protocol_policy";
    let policy = origin.get("origin_protocol_policy").unwrap_or(&Value::Null);
    match policy.as_str() {
        Some("http-only") => problems.add(
            policy_attribute,
            Judged::Weak(
                "an origin has origin_protocol_policy \"http-only\": CloudFront fetches \
                          from it in clear text"
                    .to_string(),
            ),
        ),
        Some("match-viewer") => match viewers_may_use_http {
            Truth::Yes => problems.add(
                policy_attribute,
                Judged::Weak(
                    "an origin has origin_protocol_policy \"match-viewer\" while \
                              viewers may use HTTP, so CloudFront fetches from it in clear text"
                        .to_string(),
                ),
            ),
            Truth::Undetermined => problems.add(
                policy_attribute,
                Judged::Unknown(
                    "an origin matches the viewer protocol, which is not known \
                                 until apply"
                        .to_string(),
                ),
            ),
            Truth::No => {}
        },
        Some(_) => {}
        None if policy.is_null() => {}
        None => problems.add(
            policy_attribute,
            Judged::Unknown(format!("{policy_attribute} is not known until apply")),
        ),
    }

    let protocols_attribute = "origin.custom_origin_config.origin_ssl_protocols";
    let Some(protocols) = origin.get("origin_ssl_protocols") else {
        return;
    };
    let Some(protocols) = protocols.as_list() else {
        if !protocols.is_null() {
            problems.add(
                protocols_attribute,
                Judged::Unknown(format!("{protocols_attribute} is not known until apply")),
            );
        }
        return;
    };
    let weak: Vec<&str> = protocols
        .iter()
        .filter_map(Value::as_str)
        .filter(|protocol| protocol_below_minimum(cx, protocol) == Some(true))
        .collect();
    if !weak.is_empty() {
        problems.add(
            protocols_attribute,
            Judged::Weak(format!(
                "an origin allows {} between CloudFront and the origin; the license requires TLS \
                 {} or later",
                weak.join(", "),
                cx.terms().min_tls_version
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    fn verdict(viewer_policy: &str, origin_policy: &str, protocols: &[&str]) -> Verdict {
        let distribution = resource(
            "aws_cloudfront_distribution",
            "d",
            json!({
                "origin": [{
                    "domain_name": "files.example.org",
                    "origin_id": "files",
                    "custom_origin_config": [{
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": origin_policy,
                        "origin_ssl_protocols": protocols
                    }]
                }],
                "default_cache_behavior": [{
                    "target_origin_id": "files",
                    "viewer_protocol_policy": viewer_policy
                }]
            }),
        );
        judge(
            &CloudfrontAllowsHttp,
            vec![distribution],
            "aws_cloudfront_distribution.d",
        )
    }

    #[test]
    fn https_on_both_legs_passes() {
        assert_eq!(
            verdict("redirect-to-https", "https-only", &["TLSv1.2"]),
            Verdict::Pass
        );
    }

    #[test]
    fn allow_all_with_match_viewer_and_tls10_fails_on_every_count() {
        let message = failure_message(verdict("allow-all", "match-viewer", &["TLSv1", "TLSv1.2"]));
        assert!(message.contains("allow-all"), "{message}");
        assert!(message.contains("match-viewer"), "{message}");
        assert!(
            message.contains("TLSv1,") || message.contains("allows TLSv1 "),
            "{message}"
        );
    }

    #[test]
    fn an_http_only_origin_fails_even_behind_https_viewers() {
        let message = failure_message(verdict("https-only", "http-only", &["TLSv1.2"]));
        assert!(message.contains("http-only"), "{message}");
    }

    #[test]
    fn an_unknown_viewer_policy_is_undetermined() {
        let mut distribution = resource(
            "aws_cloudfront_distribution",
            "d",
            json!({"default_cache_behavior": [{"target_origin_id": "files"}]}),
        );
        if let Value::Map(values) = &mut distribution.values {
            let mut behavior = crate::value::Map::new();
            behavior.insert("viewer_protocol_policy".to_string(), Value::Unknown);
            values.insert(
                "default_cache_behavior".into(),
                Value::List(vec![Value::Map(behavior)]),
            );
        }
        let verdict = judge(
            &CloudfrontAllowsHttp,
            vec![distribution],
            "aws_cloudfront_distribution.d",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
