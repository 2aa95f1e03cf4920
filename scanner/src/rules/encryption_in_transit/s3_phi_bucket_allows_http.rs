use crate::model::Mode;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// An S3 bucket that holds PHI (a boundary member, the resource of a `hipaa_phi_system`, or
    /// a bucket PHI flows into by replication, log delivery and the like) without a bucket
    /// policy that denies requests made over plain HTTP. The policy may be an
    /// `aws_s3_bucket_policy` linked to the bucket or the bucket's inline `policy`; it must
    /// hold a `Deny` statement for every principal and every S3 action (`s3:*` or `*`) on the
    /// condition `"Bool": {"aws:SecureTransport": "false"}`.
    ///
    /// A policy written with `jsonencode` and references may not be known before apply; so is a
    /// policy read from a data source. A policy built by a `data "aws_iam_policy_document"` of
    /// this configuration is read from its `statement` blocks; any other unknown policy leaves
    /// the check undetermined.
    ///
    /// ## Why it matters
    ///
    /// S3 answers plain HTTP requests unless the bucket policy refuses them: an SDK or a tool
    /// configured with an `http://` endpoint sends and receives objects, PHI included, in clear
    /// text. The transmission security standard (45 CFR 164.312(e)(1)) and its encryption
    /// specification (164.312(e)(2)(ii)) have to be enforced by the bucket, not left to every
    /// client.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_s3_bucket" "records" {
    ///   bucket = "acme-patient-records"
    /// }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```hcl
    /// resource "aws_s3_bucket" "records" {
    ///   bucket = "acme-patient-records"
    /// }
    ///
    /// resource "aws_s3_bucket_policy" "records" {
    ///   bucket = aws_s3_bucket.records.id
    ///   policy = jsonencode({
    ///     Version = "2012-10-17"
    ///     Statement = [{
    ///       Sid       = "DenyPlainHttp"
    ///       Effect    = "Deny"
    ///       Principal = "*"
    ///       Action    = "s3:*"
    ///       Resource  = [aws_s3_bucket.records.arn, "${aws_s3_bucket.records.arn}/*"]
    ///       Condition = { Bool = { "aws:SecureTransport" = "false" } }
    ///     }]
    ///   })
    /// }
    /// ```
    pub struct S3PhiBucketAllowsHttp {
        id: "EIT009",
        name: "s3-phi-bucket-allows-http",
        category: EncryptionInTransit,
        severity: High,
        title: "S3 bucket holding PHI accepts requests over plain HTTP",
        hipaa: ["164.312(e)(1)", "164.312(e)(2)(ii)"],
        applies_to: |resource_type| resource_type == "aws_s3_bucket",
        check: check,
    }
}

const POLICY_TYPE: &str = "aws_s3_bucket_policy";
const POLICY_DOCUMENT_TYPE: &str = "aws_iam_policy_document";
const SECURE_TRANSPORT: &str = "aws:securetransport";
/// Condition operators that test a boolean key.
const BOOL_OPERATORS: &[&str] = &["bool", "boolifexists"];
/// Actions that cover every S3 request.
const ALL_ACTIONS: &[&str] = &["*", "s3:*"];

const FIX: &str = "add an aws_s3_bucket_policy with a statement that denies \"s3:*\" to \
                   Principal \"*\" on the bucket and its objects when \"aws:SecureTransport\" is \
                   \"false\"";

fn check(cx: &Context, bucket: &Resource) -> Verdict {
    match cx.holds_phi(bucket) {
        Truth::No => return Verdict::NotApplicable,
        Truth::Undetermined => {
            return Verdict::undetermined(
                "whether the bucket receives PHI depends on a data flow that is not known until \
                 apply",
            )
        }
        Truth::Yes => {}
    }

    let mut answer = Truth::No;
    let inline = (bucket, "policy");
    let linked = cx.linked_from(bucket, POLICY_TYPE);
    let policies = std::iter::once(inline).chain(linked.iter().map(|policy| (*policy, "policy")));
    for (holder, attribute) in policies {
        match denies_plain_http(cx, holder, attribute) {
            Truth::Yes => return Verdict::Pass,
            Truth::Undetermined => answer = Truth::Undetermined,
            Truth::No => {}
        }
    }

    if answer == Truth::Undetermined {
        return Verdict::undetermined(
            "the bucket policy is not known until apply, so whether it denies plain HTTP cannot \
             be read",
        );
    }
    let message = if linked.is_empty() {
        "the bucket holds PHI and no bucket policy denies requests without TLS \
         (aws:SecureTransport = false)"
    } else {
        "the bucket holds PHI and its bucket policy does not deny requests without TLS \
         (aws:SecureTransport = false) for every principal and action"
    };
    Verdict::fail(None, message, FIX)
}

/// Whether the policy at `attribute` of `holder` denies plain HTTP.
fn denies_plain_http(cx: &Context, holder: &Resource, attribute: &str) -> Truth {
    let documents: Vec<&Resource> = holder
        .references_of(attribute)
        .iter()
        .flat_map(|reference| cx.index.resolve(reference))
        .filter(|r| r.mode == Mode::Data && r.resource_type == POLICY_DOCUMENT_TYPE)
        .collect();
    if !documents.is_empty() {
        let mut answer = Truth::No;
        for document in documents {
            match document_denies_plain_http(document) {
                Truth::Yes => return Truth::Yes,
                Truth::Undetermined => answer = Truth::Undetermined,
                Truth::No => {}
            }
        }
        return answer;
    }

    match holder.attr(attribute) {
        Value::Null => Truth::No,
        Value::String(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => json_denies_plain_http(&json),
            // Not JSON: a template or a file() the loader could not expand.
            Err(_) => Truth::Undetermined,
        },
        other => other.test(&|v: &Value| match v.as_str() {
            Some(text) => serde_json::from_str::<serde_json::Value>(text)
                .map(|json| json_denies_plain_http(&json) == Truth::Yes)
                .unwrap_or(false),
            None => false,
        }),
    }
}

fn json_denies_plain_http(policy: &serde_json::Value) -> Truth {
    let statements: Vec<&serde_json::Value> = match policy.get("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(statement @ serde_json::Value::Object(_)) => vec![statement],
        _ => return Truth::No,
    };
    Truth::from_bool(statements.into_iter().any(json_statement_denies))
}

fn json_statement_denies(statement: &serde_json::Value) -> bool {
    let effect = statement.get("Effect").and_then(|e| e.as_str());
    if !effect.is_some_and(|e| e.eq_ignore_ascii_case("Deny")) {
        return false;
    }
    let everyone = match statement.get("Principal") {
        Some(serde_json::Value::String(p)) => p == "*",
        Some(serde_json::Value::Object(map)) => map
            .get("AWS")
            .is_some_and(|aws| json_strings(aws).contains(&"*")),
        _ => false,
    };
    let all_actions = statement.get("Action").is_some_and(|actions| {
        json_strings(actions)
            .iter()
            .any(|a| ALL_ACTIONS.contains(a))
    });
    let insecure_condition = statement
        .get("Condition")
        .and_then(|c| c.as_object())
        .is_some_and(|conditions| {
            conditions.iter().any(|(operator, keys)| {
                BOOL_OPERATORS.contains(&operator.to_ascii_lowercase().as_str())
                    && keys.as_object().is_some_and(|keys| {
                        keys.iter().any(|(key, value)| {
                            key.eq_ignore_ascii_case(SECURE_TRANSPORT) && json_is_false(value)
                        })
                    })
            })
        });
    everyone && all_actions && insecure_condition
}

fn json_strings(value: &serde_json::Value) -> Vec<&str> {
    match value {
        serde_json::Value::String(text) => vec![text.as_str()],
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect(),
        _ => Vec::new(),
    }
}

fn json_is_false(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Bool(flag) => !flag,
        serde_json::Value::String(text) => text.eq_ignore_ascii_case("false"),
        serde_json::Value::Array(items) => items.iter().any(json_is_false),
        _ => false,
    }
}

/// Reads the `statement` blocks of a `data "aws_iam_policy_document"`.
fn document_denies_plain_http(document: &Resource) -> Truth {
    let mut answer = Truth::No;
    for statement in document.lookup("statement") {
        let Value::Map(_) = statement else {
            answer = Truth::Undetermined;
            continue;
        };
        let effect = statement
            .get("effect")
            .and_then(Value::as_str)
            .unwrap_or("Allow");
        if !effect.eq_ignore_ascii_case("Deny") {
            continue;
        }
        let everyone = statement.lookup("principals").iter().any(|principals| {
            let kind = principals.get("type").and_then(Value::as_str);
            let identifiers = principals.get("identifiers").and_then(Value::as_list);
            matches!(kind, Some("*") | Some("AWS"))
                && identifiers.is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some("*")))
        });
        let all_actions = statement
            .get("actions")
            .and_then(Value::as_list)
            .is_some_and(|actions| {
                actions
                    .iter()
                    .any(|a| a.as_str().is_some_and(|a| ALL_ACTIONS.contains(&a)))
            });
        let insecure_condition = statement.lookup("condition").iter().any(|condition| {
            let test = condition
                .get("test")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let variable = condition
                .get("variable")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let values = condition.get("values").and_then(Value::as_list);
            BOOL_OPERATORS.contains(&test.to_ascii_lowercase().as_str())
                && variable.eq_ignore_ascii_case(SECURE_TRANSPORT)
                && values.is_some_and(|values| {
                    values.iter().any(|v| {
                        v.as_str().is_some_and(|v| v.eq_ignore_ascii_case("false"))
                            || *v == Value::Bool(false)
                    })
                })
        });
        if everyone && all_actions && insecure_condition {
            return Truth::Yes;
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference, with_value};
    use serde_json::json;

    fn phi_bucket() -> Vec<Resource> {
        let bucket = resource(
            "aws_s3_bucket",
            "records",
            json!({"bucket": "acme-records"}),
        );
        let system = with_reference(
            resource("hipaa_phi_system", "records", json!({"name": "records"})),
            "resource",
            "aws_s3_bucket.records",
            "arn",
        );
        vec![bucket, system]
    }

    fn bucket_policy(policy: serde_json::Value) -> Resource {
        with_reference(
            resource(
                "aws_s3_bucket_policy",
                "records",
                json!({"bucket": "acme-records", "policy": policy.to_string()}),
            ),
            "bucket",
            "aws_s3_bucket.records",
            "id",
        )
    }

    fn deny_http() -> serde_json::Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::acme-records", "arn:aws:s3:::acme-records/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        })
    }

    #[test]
    fn a_phi_bucket_without_a_policy_fails() {
        let verdict = judge(
            &S3PhiBucketAllowsHttp,
            phi_bucket(),
            "aws_s3_bucket.records",
        );
        assert!(failure_message(verdict).contains("no bucket policy"));
    }

    #[test]
    fn a_policy_denying_insecure_transport_passes() {
        let mut resources = phi_bucket();
        resources.push(bucket_policy(deny_http()));
        let verdict = judge(&S3PhiBucketAllowsHttp, resources, "aws_s3_bucket.records");
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn a_deny_limited_to_some_actions_is_not_enough() {
        let mut partial = deny_http();
        partial["Statement"][0]["Action"] = json!("s3:PutObject");
        let mut resources = phi_bucket();
        resources.push(bucket_policy(partial));
        let verdict = judge(&S3PhiBucketAllowsHttp, resources, "aws_s3_bucket.records");
        assert!(failure_message(verdict).contains("does not deny"));
    }

    #[test]
    fn a_policy_document_data_source_is_read() {
        let document = Resource {
            mode: Mode::Data,
            address: "data.aws_iam_policy_document.tls".to_string(),
            ..resource(
                "aws_iam_policy_document",
                "tls",
                json!({"statement": [{
                    "effect": "Deny",
                    "actions": ["s3:*"],
                    "resources": ["arn:aws:s3:::acme-records/*"],
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "condition": [{
                        "test": "Bool",
                        "variable": "aws:SecureTransport",
                        "values": ["false"]
                    }]
                }]}),
            )
        };
        let policy = with_value(
            with_reference(
                bucket_policy(json!({})),
                "policy",
                "data.aws_iam_policy_document.tls",
                "json",
            ),
            "policy",
            Value::Unknown,
        );
        let mut resources = phi_bucket();
        resources.extend([policy, document]);
        let verdict = judge(&S3PhiBucketAllowsHttp, resources, "aws_s3_bucket.records");
        assert_eq!(verdict, Verdict::Pass);
    }

    #[test]
    fn an_unknown_policy_is_undetermined_and_other_buckets_are_not_judged() {
        let policy = with_value(bucket_policy(json!({})), "policy", Value::Unknown);
        let mut resources = phi_bucket();
        resources.push(policy);
        let verdict = judge(&S3PhiBucketAllowsHttp, resources, "aws_s3_bucket.records");
        assert!(matches!(verdict, Verdict::Undetermined(_)));

        let website = resource("aws_s3_bucket", "website", json!({"bucket": "acme-web"}));
        let verdict = judge(
            &S3PhiBucketAllowsHttp,
            vec![website],
            "aws_s3_bucket.website",
        );
        assert_eq!(verdict, Verdict::NotApplicable);
    }

    #[test]
    fn a_bucket_receiving_phi_by_replication_is_judged() {
        let mut resources = phi_bucket();
        resources.push(resource(
            "aws_s3_bucket",
            "copy",
            json!({"bucket": "acme-copy"}),
        ));
        resources.push(with_reference(
            with_reference(
                resource(
                    "aws_s3_bucket_replication_configuration",
                    "records",
                    json!({"rule": [{"destination": [{}]}]}),
                ),
                "bucket",
                "aws_s3_bucket.records",
                "id",
            ),
            "rule.destination.bucket",
            "aws_s3_bucket.copy",
            "arn",
        ));
        let verdict = judge(&S3PhiBucketAllowsHttp, resources, "aws_s3_bucket.copy");
        assert!(matches!(verdict, Verdict::Fail(_)));
    }
}
