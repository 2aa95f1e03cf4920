use super::{judge_policy, Problems};
use crate::rules::prelude::*;
use compliance::tls::{self, PolicyFamily};

declare_rule! {
    /// ## What it checks
    ///
    /// An HTTPS or TLS listener of an Application or Network Load Balancer (`aws_lb_listener`,
    /// `aws_alb_listener`) whose `ssl_policy` accepts a TLS version older than the license
    /// minimum (TLS 1.2 unless a `hipaa_license` says otherwise).
    ///
    /// The policy is judged by what it really accepts, not by its name:
    /// `ELBSecurityPolicy-TLS13-1-0-2021-06` offers TLS 1.3 and still accepts TLS 1.0. A listener
    /// without `ssl_policy` gets `ELBSecurityPolicy-2016-08` from the API (only the console
    /// picks a modern default), which accepts TLS 1.0. A policy name the scanner does not know
    /// is reported as undetermined.
    ///
    /// ## Why it matters
    ///
    /// The transmission security standard (45 CFR 164.312(e)(1)) and its encryption
    /// specification (164.312(e)(2)(ii)) ask that PHI crossing a network be protected against
    /// interception. TLS 1.0 and 1.1 have known weaknesses and are no longer accepted as strong
    /// cryptography (NIST SP 800-52r2); a client, or an attacker downgrading it, can still use
    /// them while the policy offers them.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_lb_listener" "portal" {
    ///   load_balancer_arn = aws_lb.portal.arn
    ///   port              = 443
    ///   protocol          = "HTTPS"
    ///   ssl_policy        = "ELBSecurityPolicy-TLS13-1-0-2021-06"
    ///   certificate_arn   = aws_acm_certificate.portal.arn
    ///   default_action {
    ///     type             = "forward"
    ///     target_group_arn = aws_lb_target_group.portal.arn
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_lb_listener" "portal" {
    ///   load_balancer_arn = aws_lb.portal.arn
    ///   port              = 443
    ///   protocol          = "HTTPS"
    ///   ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    ///   certificate_arn   = aws_acm_certificate.portal.arn
    ///   default_action {
    ///     type             = "forward"
    ///     target_group_arn = aws_lb_target_group.portal.arn
    ///   }
    /// }
    /// ```
    pub struct LbListenerWeakTls {
        id: "EIT001",
        name: "lb-listener-weak-tls",
        category: EncryptionInTransit,
        severity: High,
        title: "Load balancer listener accepts a TLS version below the licensed minimum",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| LISTENER_TYPES.contains(&resource_type),
        check: check,
    }
}

const LISTENER_TYPES: &[&str] = &["aws_lb_listener", "aws_alb_listener"];

/// Listener protocols that terminate TLS at the load balancer.
const TLS_PROTOCOLS: &[&str] = &["HTTPS", "TLS"];

const FIX: &str = "set ssl_policy to a policy whose lowest version meets the license, e.g. \
                   ELBSecurityPolicy-TLS13-1-2-2021-06";

fn check(cx: &Context, listener: &Resource) -> Verdict {
    let terminates_tls = listener.attr("protocol").test(&|protocol: &Value| {
        protocol
            .as_str()
            .is_some_and(|p| TLS_PROTOCOLS.contains(&p.to_ascii_uppercase().as_str()))
    });
    match terminates_tls {
        Truth::No => return Verdict::NotApplicable,
        Truth::Undetermined => return Verdict::undetermined("protocol is not known until apply"),
        Truth::Yes => {}
    }

    let family = PolicyFamily::ElasticLoadBalancing;
    let judged = judge_policy(
        cx,
        family,
        "ssl_policy",
        listener.attr("ssl_policy"),
        tls::default_policy(family),
    );
    let mut problems = Problems::default();
    problems.add("ssl_policy", judged);
    problems.verdict(FIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_value};
    use serde_json::json;

    fn listener(name: &str, values: serde_json::Value) -> Resource {
        resource("aws_lb_listener", name, values)
    }

    fn verdict(values: serde_json::Value) -> Verdict {
        judge(
            &LbListenerWeakTls,
            vec![listener("l", values)],
            "aws_lb_listener.l",
        )
    }

    #[test]
    fn an_omitted_policy_is_the_tls10_api_default() {
        let message = failure_message(verdict(json!({"protocol": "HTTPS", "port": 443})));
        assert!(message.contains("ELBSecurityPolicy-2016-08"), "{message}");
        assert!(message.contains("TLS 1.0"), "{message}");
    }

    #[test]
    fn a_tls13_name_that_still_accepts_tls10_fails() {
        let message = failure_message(verdict(json!({
            "protocol": "HTTPS",
            "ssl_policy": "ELBSecurityPolicy-TLS13-1-0-2021-06"
        })));
        assert!(message.contains("accepts TLS 1.0"), "{message}");
    }

    #[test]
    fn a_tls12_floor_passes_and_plain_listeners_are_not_judged() {
        let modern =
            json!({"protocol": "TLS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"});
        assert_eq!(verdict(modern), Verdict::Pass);
        assert_eq!(verdict(json!({"protocol": "HTTP"})), Verdict::NotApplicable);
    }

    #[test]
    fn an_unknown_or_unlisted_policy_is_undetermined() {
        let unlisted = verdict(json!({"protocol": "HTTPS", "ssl_policy": "MyCustomPolicy"}));
        assert!(
            matches!(unlisted, Verdict::Undetermined(reason) if reason.contains("MyCustomPolicy"))
        );

        let unknown = with_value(
            listener("l", json!({"protocol": "HTTPS"})),
            "ssl_policy",
            Value::Unknown,
        );
        let verdict = judge(&LbListenerWeakTls, vec![unknown], "aws_lb_listener.l");
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }

    #[test]
    fn a_license_may_demand_tls13() {
        let license = resource("hipaa_license", "strict", json!({"min_tls_version": "1.3"}));
        let modern = listener(
            "l",
            json!({"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}),
        );
        let verdict = judge(
            &LbListenerWeakTls,
            vec![license, modern],
            "aws_lb_listener.l",
        );
        assert!(failure_message(verdict).contains("requires TLS 1.3"));
    }
}
