use super::{judge_policy, Judged, Problems};
use crate::rules::prelude::*;
use compliance::tls::{self, PolicyFamily};

declare_rule! {
    /// ## What it checks
    ///
    /// API Gateway endpoints whose security policy accepts a TLS version older than the license
    /// minimum:
    ///
    /// - custom domain names of REST APIs (`aws_api_gateway_domain_name.security_policy`) and of
    ///   HTTP and WebSocket APIs (`aws_apigatewayv2_domain_name`,
    ///   `domain_name_configuration.security_policy`). Unset, the service applies `TLS_1_2` to
    ///   domain names;
    /// - REST APIs (`aws_api_gateway_rest_api`) still reachable on their default `execute-api`
    ///   endpoint. Unless `security_policy` says otherwise, API Gateway serves that endpoint
    ///   with `TLS_1_0` for regional and edge-optimized APIs (`TLS_1_2` for private ones). An API
    ///   with `disable_execute_api_endpoint = true` is reached only through its custom domain
    ///   names and is not judged here.
    ///
    /// ## Why it matters
    ///
    /// API requests and responses carry PHI. The transmission security standard
    /// (45 CFR 164.312(e)(1)) and its encryption specification (164.312(e)(2)(ii)) call for
    /// protection that TLS 1.0 and 1.1 no longer give.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_api_gateway_domain_name" "api" {
    ///   domain_name              = "api.example.org"
    ///   regional_certificate_arn = aws_acm_certificate.api.arn
    ///   security_policy          = "TLS_1_0"
    ///   endpoint_configuration {
    ///     types = ["REGIONAL"]
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_api_gateway_domain_name" "api" {
    ///   domain_name              = "api.example.org"
    ///   regional_certificate_arn = aws_acm_certificate.api.arn
    ///   security_policy          = "TLS_1_2"
    ///   endpoint_configuration {
    ///     types = ["REGIONAL"]
    ///   }
    /// }
    /// ```
    pub struct ApiGatewayWeakTls {
        id: "EIT005",
        name: "api-gateway-weak-tls",
        category: EncryptionInTransit,
        severity: High,
        title: "API Gateway endpoint accepts a TLS version below the licensed minimum",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| {
            resource_type == REST_API || SECURITY_POLICY_ATTRIBUTES
                .iter()
                .any(|(domain_type, _)| *domain_type == resource_type)
        },
        check: check,
    }
}

const REST_API: &str = "aws_api_gateway_rest_api";

/// Where each domain name type keeps its security policy.
const SECURITY_POLICY_ATTRIBUTES: &[(&str, &str)] = &[
    ("aws_api_gateway_domain_name", "security_policy"),
    (
        "aws_apigatewayv2_domain_name",
        "domain_name_configuration.security_policy",
    ),
];

/// The policy API Gateway applies to a REST API's default endpoint, by endpoint type
/// ("Supported security policies", default security policies).
const DEFAULT_ENDPOINT_POLICIES: &[(&str, &str)] = &[
    ("REGIONAL", "TLS_1_0"),
    ("EDGE", "TLS_1_0"),
    ("PRIVATE", "TLS_1_2"),
];

/// The endpoint type of a REST API that names none.
const DEFAULT_ENDPOINT_TYPE: &str = "EDGE";

const FIX: &str = "set security_policy to TLS_1_2 or an enhanced SecurityPolicy_TLS13_* policy; \
                   a REST API may instead disable its default endpoint \
                   (disable_execute_api_endpoint = true) and be served through a custom domain";

fn check(cx: &Context, resource: &Resource) -> Verdict {
    let family = PolicyFamily::ApiGateway;
    let mut problems = Problems::default();

    if let Some((_, attribute)) = SECURITY_POLICY_ATTRIBUTES
        .iter()
        .find(|(domain_type, _)| *domain_type == resource.resource_type)
    {
        let judged = judge_policy(
            cx,
            family,
            attribute,
            resource.attr(attribute),
            tls::default_policy(family),
        );
        problems.add(attribute, judged);
        return problems.verdict(FIX);
    }

    match resource
        .attr("disable_execute_api_endpoint")
        .test(&|v: &Value| v.as_bool() == Some(true))
    {
        Truth::Yes => return Verdict::NotApplicable,
        Truth::Undetermined => {
            return Verdict::undetermined("disable_execute_api_endpoint is not known until apply")
        }
        Truth::No => {}
    }

    let policy = resource.attr("security_policy");
    if !policy.is_null() {
        problems.add(
            "security_policy",
            judge_policy(cx, family, "security_policy", policy, None),
        );
        return problems.verdict(FIX);
    }

    let judged = match default_endpoint_policy(resource) {
        Ok(default) => {
            match judge_policy(cx, family, "security_policy", &Value::Null, Some(default)) {
                Judged::Weak(_) => Judged::Weak(format!(
                    "the API is reachable on its default execute-api endpoint, which API Gateway \
                 serves with {default}: it accepts TLS 1.0 and the license requires TLS {} or \
                 later",
                    cx.terms().min_tls_version
                )),
                other => other,
            }
        }
        Err(reason) => Judged::Unknown(reason),
    };
    problems.add("disable_execute_api_endpoint", judged);
    problems.verdict(FIX)
}

fn default_endpoint_policy(api: &Resource) -> Result<&'static str, String> {
    let types = api.attr("endpoint_configuration.types");
    let endpoint_type = match types {
        Value::Null => DEFAULT_ENDPOINT_TYPE.to_string(),
        Value::List(items) => match items.first().and_then(Value::as_str) {
            Some(endpoint_type) => endpoint_type.to_string(),
            None => return Err("endpoint_configuration.types is not known until apply".into()),
        },
        _ => return Err("endpoint_configuration.types is not known until apply".into()),
    };
    DEFAULT_ENDPOINT_POLICIES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(&endpoint_type))
        .map(|(_, policy)| *policy)
        .ok_or_else(|| format!("endpoint type {endpoint_type} has no known default policy"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_value};
    use serde_json::json;

    fn verdict(resource_type: &str, values: serde_json::Value) -> Verdict {
        let address = format!("{resource_type}.api");
        judge(
            &ApiGatewayWeakTls,
            vec![resource(resource_type, "api", values)],
            &address,
        )
    }

    #[test]
    fn a_tls10_domain_name_fails_and_tls12_passes() {
        let old = json!({"domain_name": "api.example.org", "security_policy": "TLS_1_0"});
        let message = failure_message(verdict("aws_api_gateway_domain_name", old));
        assert!(message.contains("TLS_1_0"), "{message}");

        let current = json!({"domain_name": "api.example.org", "security_policy": "TLS_1_2"});
        assert_eq!(
            verdict("aws_api_gateway_domain_name", current),
            Verdict::Pass
        );
    }

    #[test]
    fn an_unset_domain_policy_is_the_tls12_service_default() {
        let unset = json!({"domain_name": "api.example.org"});
        assert_eq!(verdict("aws_api_gateway_domain_name", unset), Verdict::Pass);
        let v2 = json!({
            "domain_name": "ws.example.org",
            "domain_name_configuration": [{
                "security_policy": "TLS_1_2",
                "endpoint_type": "REGIONAL"
            }]
        });
        assert_eq!(verdict("aws_apigatewayv2_domain_name", v2), Verdict::Pass);
    }

    #[test]
    fn a_rest_api_on_its_default_endpoint_fails_unless_disabled_or_private() {
        let regional =
            json!({"name": "intake", "endpoint_configuration": [{"types": ["REGIONAL"]}]});
        let message = failure_message(verdict(REST_API, regional));
        assert!(message.contains("execute-api"), "{message}");

        let disabled = json!({"name": "intake", "disable_execute_api_endpoint": true});
        assert_eq!(verdict(REST_API, disabled), Verdict::NotApplicable);

        let private = json!({"name": "intake", "endpoint_configuration": [{"types": ["PRIVATE"]}]});
        assert_eq!(verdict(REST_API, private), Verdict::Pass);
    }

    #[test]
    fn an_unknown_policy_is_undetermined() {
        let domain = with_value(
            resource("aws_api_gateway_domain_name", "api", json!({})),
            "security_policy",
            Value::Unknown,
        );
        let verdict = judge(
            &ApiGatewayWeakTls,
            vec![domain],
            "aws_api_gateway_domain_name.api",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
