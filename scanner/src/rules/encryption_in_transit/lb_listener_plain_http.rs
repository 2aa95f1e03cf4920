use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// A plain HTTP listener of a load balancer (`protocol = "HTTP"`, or no protocol on an
    /// Application Load Balancer, where HTTP is the default) whose default action sends requests
    /// on to targets instead of redirecting them to HTTPS. A `fixed-response` action returns a
    /// canned answer and carries no PHI, so it passes; a `redirect` passes only when it
    /// redirects to `HTTPS` (a redirect that omits `protocol` keeps HTTP).
    ///
    /// Listener rules (`aws_lb_listener_rule`) attached to the listener are not followed yet: a
    /// rule that forwards HTTP traffic is not found by this check.
    ///
    /// ## Why it matters
    ///
    /// Requests forwarded from an HTTP listener cross the network in clear text: anyone on the
    /// path reads the PHI in them, against the transmission security standard of
    /// 45 CFR 164.312(e)(1) and its encryption specification 164.312(e)(2)(ii).
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_lb_listener" "web" {
    ///   load_balancer_arn = aws_lb.portal.arn
    ///   port              = 80
    ///   protocol          = "HTTP"
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
    /// resource "aws_lb_listener" "web" {
    ///   load_balancer_arn = aws_lb.portal.arn
    ///   port              = 80
    ///   protocol          = "HTTP"
    ///   default_action {
    ///     type = "redirect"
    ///     redirect {
    ///       port        = "443"
    ///       protocol    = "HTTPS"
    ///       status_code = "HTTP_301"
    ///     }
    ///   }
    /// }
    /// ```
    pub struct LbListenerPlainHttp {
        id: "EIT002",
        name: "lb-listener-plain-http",
        category: EncryptionInTransit,
        severity: High,
        title: "Load balancer listener serves plain HTTP instead of redirecting to HTTPS",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| LISTENER_TYPES.contains(&resource_type),
        check: check,
    }
}

const LISTENER_TYPES: &[&str] = &["aws_lb_listener", "aws_alb_listener"];
const LOAD_BALANCER_TYPES: &[&str] = &["aws_lb", "aws_alb"];

/// What each default action type does with a request on a plain HTTP listener.
#[derive(Clone, Copy, PartialEq)]
enum Handling {
    /// Answers without touching a target.
    Answers,
    /// Sends the request on, with whatever it carries.
    PassesOn,
    /// Depends on the redirect's protocol.
    Redirects,
}

const ACTIONS: &[(&str, Handling)] = &[
    ("fixed-response", Handling::Answers),
    ("redirect", Handling::Redirects),
    ("forward", Handling::PassesOn),
    ("authenticate-oidc", Handling::PassesOn),
    ("authenticate-cognito", Handling::PassesOn),
];

const FIX: &str = "make the default action a redirect to HTTPS (redirect { protocol = \"HTTPS\" \
                   port = \"443\" status_code = \"HTTP_301\" }) and serve the application on an \
                   HTTPS listener";

fn check(cx: &Context, listener: &Resource) -> Verdict {
    match serves_plain_http(cx, listener) {
        Truth::No => return Verdict::NotApplicable,
        Truth::Undetermined => {
            return Verdict::undetermined(
                "the listener protocol cannot be known before apply (unset, with a load \
                 balancer whose type is not known)",
            )
        }
        Truth::Yes => {}
    }

    let mut unknown = false;
    for action in listener.lookup("default_action") {
        let Value::Map(_) = action else {
            unknown = true;
            continue;
        };
        let kind = action.get("type").unwrap_or(&Value::Null);
        let handling = kind
            .as_str()
            .and_then(|kind| ACTIONS.iter().find(|(name, _)| *name == kind))
            .map(|(_, handling)| *handling);
        match handling {
            Some(Handling::Answers) => {}
            Some(Handling::Redirects) => match redirects_to_https(action) {
                Truth::Yes => {}
                Truth::No => {
                    return Verdict::fail(
                        Some("default_action.redirect.protocol"),
                        "the HTTP listener redirects without switching to HTTPS, so requests \
                         stay in clear text",
                        FIX,
                    )
                }
                Truth::Undetermined => unknown = true,
            },
            Some(Handling::PassesOn) => {
                let kind = kind.as_str().unwrap_or_default();
                return Verdict::fail(
                    Some("default_action.type"),
                    format!(
                        "the listener accepts plain HTTP and its default action is {kind}: \
                         requests reach the targets unencrypted"
                    ),
                    FIX,
                );
            }
            None => unknown = true,
        }
    }
    if unknown {
        return Verdict::undetermined("a default action is not known until apply");
    }
    Verdict::Pass
}

/// Whether the listener speaks plain HTTP: said so, or left unset on an Application Load
/// Balancer (a Network Load Balancer's default is TCP, which this rule does not judge).
fn serves_plain_http(cx: &Context, listener: &Resource) -> Truth {
    let protocol = listener.attr("protocol");
    if !protocol.is_null() {
        return protocol
            .test(&|p: &Value| p.as_str().is_some_and(|p| p.eq_ignore_ascii_case("HTTP")));
    }

    let balancers: Vec<&Resource> = listener
        .references_of("load_balancer_arn")
        .iter()
        .flat_map(|reference| cx.index.resolve(reference))
        .filter(|lb| LOAD_BALANCER_TYPES.contains(&lb.resource_type.as_str()))
        .collect();
    if balancers.is_empty() {
        return Truth::Undetermined;
    }
    let mut answer = Truth::Yes;
    for balancer in balancers {
        let kind = balancer.attr("load_balancer_type");
        let is_application = if kind.is_null() {
            Truth::Yes
        } else {
            kind.test(&|k: &Value| k.as_str() == Some("application"))
        };
        match is_application {
            Truth::No => return Truth::No,
            Truth::Undetermined => answer = Truth::Undetermined,
            Truth::Yes => {}
        }
    }
    answer
}

fn redirects_to_https(action: &Value) -> Truth {
    let protocol = action.at("redirect.protocol");
    if protocol.is_null() {
        // The default, "#{protocol}", keeps the request's own protocol.
        return Truth::No;
    }
    protocol.test(&|p: &Value| p.as_str().is_some_and(|p| p.eq_ignore_ascii_case("HTTPS")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference, with_value};
    use serde_json::json;

    fn verdict(values: serde_json::Value) -> Verdict {
        let listener = resource("aws_lb_listener", "l", values);
        judge(&LbListenerPlainHttp, vec![listener], "aws_lb_listener.l")
    }

    #[test]
    fn forwarding_plain_http_fails() {
        let message = failure_message(verdict(json!({
            "port": 8080,
            "protocol": "HTTP",
            "default_action": [{"type": "forward", "target_group_arn": "arn:aws:tg"}]
        })));
        assert!(message.contains("forward"), "{message}");
    }

    #[test]
    fn redirecting_to_https_or_answering_passes() {
        let redirect = json!({
            "protocol": "HTTP",
            "default_action": [{
                "type": "redirect",
                "redirect": [{"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}]
            }]
        });
        assert_eq!(verdict(redirect), Verdict::Pass);
        let fixed = json!({
            "protocol": "HTTP",
            "default_action": [{
                "type": "fixed-response",
                "fixed_response": [{"status_code": "404"}]
            }]
        });
        assert_eq!(verdict(fixed), Verdict::Pass);
    }

    #[test]
    fn a_redirect_that_keeps_the_protocol_fails() {
        let same_protocol = json!({
            "protocol": "HTTP",
            "default_action": [{"type": "redirect", "redirect": [{"host": "portal.example.org"}]}]
        });
        assert!(failure_message(verdict(same_protocol)).contains("without switching"));
    }

    #[test]
    fn https_listeners_are_not_judged() {
        let https = json!({"protocol": "HTTPS", "default_action": [{"type": "forward"}]});
        assert_eq!(verdict(https), Verdict::NotApplicable);
    }

    #[test]
    fn an_unset_protocol_follows_the_load_balancer_type() {
        let forward = json!({"default_action": [{"type": "forward"}]});
        let listener = with_reference(
            resource("aws_lb_listener", "l", forward.clone()),
            "load_balancer_arn",
            "aws_lb.app",
            "arn",
        );
        let alb = resource("aws_lb", "app", json!({"name": "app"}));
        let verdict = judge(
            &LbListenerPlainHttp,
            vec![listener.clone(), alb],
            "aws_lb_listener.l",
        );
        assert!(matches!(verdict, Verdict::Fail(_)));

        let nlb = resource("aws_lb", "app", json!({"load_balancer_type": "network"}));
        let verdict = judge(
            &LbListenerPlainHttp,
            vec![listener, nlb],
            "aws_lb_listener.l",
        );
        assert_eq!(verdict, Verdict::NotApplicable);

        let orphan = resource("aws_lb_listener", "l", forward);
        let verdict = judge(&LbListenerPlainHttp, vec![orphan], "aws_lb_listener.l");
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }

    #[test]
    fn an_unknown_protocol_is_undetermined() {
        let listener = with_value(
            resource(
                "aws_lb_listener",
                "l",
                json!({"default_action": [{"type": "forward"}]}),
            ),
            "protocol",
            Value::Unknown,
        );
        let verdict = judge(&LbListenerPlainHttp, vec![listener], "aws_lb_listener.l");
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
