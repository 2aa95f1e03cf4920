use super::{judge_policy, Judged, Problems};
use crate::rules::prelude::*;
use compliance::tls::{self, PolicyFamily};

declare_rule! {
    /// ## What it checks
    ///
    /// A CloudFront distribution whose viewer security policy
    /// (`viewer_certificate.minimum_protocol_version`) accepts a TLS version older than the
    /// license minimum. The policy names are judged by the protocols CloudFront documents for
    /// them: `TLSv1.2_2018` to `TLSv1.2_2025` accept TLS 1.2 and later, `TLSv1_2016` and `TLSv1`
    /// still accept TLS 1.0.
    ///
    /// A distribution served on the default `*.cloudfront.net` certificate
    /// (`cloudfront_default_certificate = true`) fails whatever it names: CloudFront then forces
    /// the `TLSv1` policy, which accepts TLS 1.0. An omitted `minimum_protocol_version` is
    /// `TLSv1` as well.
    ///
    /// ## Why it matters
    ///
    /// Viewers of a distribution in front of a patient portal or an API send and receive PHI.
    /// The transmission security standard (45 CFR 164.312(e)(1)) and its encryption
    /// specification (164.312(e)(2)(ii)) call for protection that TLS 1.0 and 1.1 no longer
    /// give.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_cloudfront_distribution" "portal" {
    ///   # ...
    ///   viewer_certificate {
    ///     acm_certificate_arn      = aws_acm_certificate.portal.arn
    ///     ssl_support_method       = "sni-only"
    ///     minimum_protocol_version = "TLSv1_2016"
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_cloudfront_distribution" "portal" {
    ///   # ...
    ///   viewer_certificate {
    ///     acm_certificate_arn      = aws_acm_certificate.portal.arn
    ///     ssl_support_method       = "sni-only"
    ///     minimum_protocol_version = "TLSv1.2_2021"
    ///   }
    /// }
    /// ```
    pub struct CloudfrontWeakTls {
        id: "EIT003",
        name: "cloudfront-weak-tls",
        category: EncryptionInTransit,
        severity: High,
        title: "CloudFront distribution accepts a TLS version below the licensed minimum",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| resource_type == "aws_cloudfront_distribution",
        check: check,
    }
}

/// What CloudFront applies to the default certificate whatever the configuration names.
const DEFAULT_CERTIFICATE_POLICY: &str = "TLSv1";

const FIX: &str = "serve the distribution on your own certificate (acm_certificate_arn with \
                   ssl_support_method = \"sni-only\") and set minimum_protocol_version to \
                   TLSv1.2_2021 or later";

fn check(cx: &Context, distribution: &Resource) -> Verdict {
    let family = PolicyFamily::CloudFront;
    let mut problems = Problems::default();

    let default_certificate = distribution
        .attr("viewer_certificate.cloudfront_default_certificate")
        .test(&|v: &Value| v.as_bool() == Some(true));
    match default_certificate {
        Truth::Yes => {
            let forced = judge_policy(
                cx,
                family,
                "viewer_certificate.minimum_protocol_version",
                &Value::from(DEFAULT_CERTIFICATE_POLICY),
                None,
            );
            if let Judged::Weak(_) = forced {
                problems.add(
                    "viewer_certificate.cloudfront_default_certificate",
                    Judged::Weak(format!(
                        "the distribution uses the default *.cloudfront.net certificate, for \
                         which CloudFront forces the {DEFAULT_CERTIFICATE_POLICY} policy: it \
                         accepts TLS 1.0 and the license requires TLS {} or later",
                        cx.terms().min_tls_version
                    )),
                );
            }
            return problems.verdict(FIX);
        }
        Truth::Undetermined => {
            return Verdict::undetermined(
                "viewer_certificate.cloudfront_default_certificate is not known until apply",
            )
        }
        Truth::No => {}
    }

    let attribute = "viewer_certificate.minimum_protocol_version";
    let judged = judge_policy(
        cx,
        family,
        attribute,
        distribution.attr(attribute),
        tls::default_policy(family),
    );
    problems.add(attribute, judged);
    problems.verdict(FIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    fn verdict(certificate: serde_json::Value) -> Verdict {
        let distribution = resource(
            "aws_cloudfront_distribution",
            "d",
            json!({"enabled": true, "viewer_certificate": [certificate]}),
        );
        judge(
            &CloudfrontWeakTls,
            vec![distribution],
            "aws_cloudfront_distribution.d",
        )
    }

    #[test]
    fn the_2025_tls12_policy_passes() {
        let portal = json!({
            "acm_certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/abcd",
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": "TLSv1.2_2025"
        });
        assert_eq!(verdict(portal), Verdict::Pass);
    }

    #[test]
    fn tlsv1_2016_still_accepts_tls10() {
        let legacy = json!({
            "acm_certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/abcd",
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": "TLSv1_2016"
        });
        let message = failure_message(verdict(legacy));
        assert!(
            message.contains("TLSv1_2016") && message.contains("TLS 1.0"),
            "{message}"
        );
    }

    #[test]
    fn the_default_certificate_fails_whatever_it_names() {
        let default_cert = json!({
            "cloudfront_default_certificate": true,
            "minimum_protocol_version": "TLSv1.2_2021"
        });
        let message = failure_message(verdict(default_cert));
        assert!(message.contains("*.cloudfront.net"), "{message}");
    }

    #[test]
    fn an_unlisted_policy_is_undetermined() {
        let future = json!({
            "acm_certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/abcd",
            "minimum_protocol_version": "TLSv1.4_2030"
        });
        assert!(matches!(verdict(future), Verdict::Undetermined(_)));
    }
}
