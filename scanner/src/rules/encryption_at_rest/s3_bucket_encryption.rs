use super::{all_of, decide};
use crate::rules::prelude::*;

/// The separate resource that holds a bucket's default encryption (AWS provider v4 and later).
const SSE_CONFIGURATION: &str = "aws_s3_bucket_server_side_encryption_configuration";
/// The legacy block inside `aws_s3_bucket`.
const INLINE_BLOCK: &str = "server_side_encryption_configuration";
const ALGORITHM: &str = "rule.apply_server_side_encryption_by_default.sse_algorithm";
const KEY: &str = "rule.apply_server_side_encryption_by_default.kms_master_key_id";

/// The algorithms that encrypt with a KMS key; the key is AWS managed (`aws/s3`) unless one is
/// named.
const KMS_ALGORITHMS: &[&str] = &["aws:kms", "aws:kms:dsse"];
/// SSE-S3: AES-256 with keys S3 owns.
const S3_MANAGED_ALGORITHM: &str = "AES256";

declare_rule! {
    /// ## What it checks
    ///
    /// The default encryption of every S3 bucket, read from the legacy inline
    /// `server_side_encryption_configuration` block and from each
    /// `aws_s3_bucket_server_side_encryption_configuration` that names the bucket (by reference,
    /// through locals and variables, or by its literal name).
    ///
    /// Since January 2023 S3 encrypts every new object with SSE-S3 (AES-256) whatever the
    /// bucket says, so a bucket without any configuration, with `AES256`, or with `aws:kms` /
    /// `aws:kms:dsse` and the AWS managed `aws/s3` key passes, unless the license demands
    /// customer-managed keys. Then only `aws:kms` or `aws:kms:dsse` with a key the licensee
    /// manages passes; a key created in the same plan counts.
    ///
    /// A conditional algorithm passes when every branch is acceptable, and is undetermined when
    /// the branches disagree.
    ///
    /// ## Why it matters
    ///
    /// S3 buckets are where exports, images and backups of ePHI end up. Encryption at rest is
    /// the specification of 164.312(a)(2)(iv), and encrypted media is what keeps the
    /// provider's handling and re-use of storage within 164.310(d)(1). With SSE-S3 and the AWS
    /// managed key, anyone allowed to read the object reads it decrypted: a license that
    /// promises customer-managed keys promises that decryption itself can be limited, logged
    /// and revoked.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "hipaa_license" "strict" {
    ///   name                  = "acme-strict"
    ///   version               = "2026.2"
    ///   customer_managed_keys = true
    /// }
    ///
    /// resource "aws_s3_bucket" "notes" {
    ///   bucket = "acme-clinical-notes"
    /// }
    ///
    /// resource "aws_s3_bucket_server_side_encryption_configuration" "notes" {
    ///   bucket = aws_s3_bucket.notes.id
    ///   rule {
    ///     apply_server_side_encryption_by_default {
    ///       sse_algorithm = "AES256"
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_s3_bucket_server_side_encryption_configuration" "notes" {
    ///   bucket = aws_s3_bucket.notes.id
    ///   rule {
    ///     apply_server_side_encryption_by_default {
    ///       sse_algorithm     = "aws:kms"
    ///       kms_master_key_id = aws_kms_key.phi.arn
    ///     }
    ///     bucket_key_enabled = true
    ///   }
    /// }
    /// ```
    pub struct S3BucketEncryption {
        id: "EAR003",
        name: "s3-bucket-encryption",
        category: EncryptionAtRest,
        severity: High,
        title: "S3 bucket is not encrypted with an acceptable key",
        hipaa: ["164.312(a)(2)(iv)", "164.310(d)(1)"],
        applies_to: |resource_type| resource_type == "aws_s3_bucket",
        check: check,
    }
}

/// One place that sets a bucket's default encryption.
struct Setting<'a> {
    owner: &'a Resource,
    /// Prefix of the paths inside `owner`: empty for the separate resource, the block name and a
    /// dot for the inline block.
    prefix: &'static str,
    /// For messages: the separate resource's address, or the inline block.
    described: String,
    /// The bucket's attribute at fault, for the inline block.
    attribute: Option<&'static str>,
}

fn check(cx: &Context, bucket: &Resource) -> Verdict {
    let demands_cmk = cx.terms().customer_managed_keys;

    let mut settings: Vec<Setting> = cx
        .linked_from(bucket, SSE_CONFIGURATION)
        .into_iter()
        .map(|linked| Setting {
            owner: linked,
            prefix: "",
            described: linked.address.clone(),
            attribute: None,
        })
        .collect();
    match bucket.attr(INLINE_BLOCK) {
        Value::Null => {}
        // In a plan the inline block is computed by the provider when the code does not set it;
        // beside a separate configuration it only mirrors that configuration.
        Value::Unknown if !settings.is_empty() => {}
        Value::Unknown if !demands_cmk => return Verdict::Pass,
        Value::Unknown => {
            return Verdict::undetermined(format!(
                "`{INLINE_BLOCK}` is not known before apply and no separate {SSE_CONFIGURATION} \
                 names this bucket"
            ))
        }
        _ => settings.push(Setting {
            owner: bucket,
            prefix: "server_side_encryption_configuration.",
            described: format!("its `{INLINE_BLOCK}` block"),
            attribute: Some(
                "server_side_encryption_configuration.rule.apply_server_side_encryption_by_default\
                 .sse_algorithm",
            ),
        }),
    }

    if settings.is_empty() {
        return if demands_cmk {
            Verdict::fail(
                None,
                "S3 bucket has no default encryption configuration, so S3 encrypts it with \
                 SSE-S3 and keys AWS manages; the license demands customer-managed keys",
                fix(),
            )
        } else {
            Verdict::Pass
        };
    }

    let mut undetermined = None;
    for setting in &settings {
        match judge_setting(cx, setting, demands_cmk) {
            Truth::Yes => {}
            Truth::No => return failure(setting),
            Truth::Undetermined => {
                undetermined.get_or_insert_with(|| {
                    format!(
                        "the algorithm or key set by {} is not known before apply or depends on \
                         a condition whose branches disagree",
                        setting.described
                    )
                });
            }
        }
    }
    match undetermined {
        Some(reason) => Verdict::undetermined(reason),
        None => Verdict::Pass,
    }
}

/// Whether one configuration's default encryption is acceptable under the license.
fn judge_setting(cx: &Context, setting: &Setting, demands_cmk: bool) -> Truth {
    let algorithms = setting
        .owner
        .lookup(&format!("{}{ALGORITHM}", setting.prefix));
    // A configuration without a default rule leaves S3's own SSE-S3 in place.
    if algorithms.is_empty() {
        return Truth::from_bool(!demands_cmk);
    }

    let key = if demands_cmk {
        cx.is_customer_managed_key(setting.owner, &format!("{}{KEY}", setting.prefix))
    } else {
        Truth::Yes
    };
    all_of(algorithms.into_iter().map(|algorithm| {
        decide(algorithm, &|branch| match branch.as_str() {
            Some(name) if is_one_of(name, KMS_ALGORITHMS) => key,
            Some(name) if name.eq_ignore_ascii_case(S3_MANAGED_ALGORITHM) => {
                Truth::from_bool(!demands_cmk)
            }
            // Not an algorithm S3 accepts; the provider would refuse it.
            _ => Truth::Undetermined,
        })
    }))
}

fn failure(setting: &Setting) -> Verdict {
    let algorithms = literal_algorithms(setting);
    let how = if algorithms.is_empty() {
        "sets no default algorithm, leaving SSE-S3".to_string()
    } else {
        format!(
            "encrypts with {} and a key AWS manages",
            algorithms.join(" or ")
        )
    };
    Verdict::fail(
        setting.attribute,
        format!(
            "S3 bucket's default encryption, set by {}, {how}; the license demands \
             customer-managed keys",
            setting.described
        ),
        fix(),
    )
}

/// The algorithm names a configuration writes, every branch of a conditional included. Names are
/// not secret; key identifiers are never printed.
fn literal_algorithms(setting: &Setting) -> Vec<String> {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(name) if !out.contains(name) => out.push(name.clone()),
            Value::AnyOf(branches) => branches.iter().for_each(|b| collect(b, out)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    for value in setting
        .owner
        .lookup(&format!("{}{ALGORITHM}", setting.prefix))
    {
        collect(value, &mut names);
    }
    names
}

fn is_one_of(name: &str, accepted: &[&str]) -> bool {
    accepted.iter().any(|a| a.eq_ignore_ascii_case(name))
}

fn fix() -> String {
    format!(
        "in an {SSE_CONFIGURATION} for this bucket, set `sse_algorithm = \"aws:kms\"` and \
         `kms_master_key_id` to a customer-managed key (e.g. `aws_kms_key.phi.arn`)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource, with_reference};
    use serde_json::json;

    fn cmk_license() -> Resource {
        resource(
            "hipaa_license",
            "main",
            json!({"name": "acme-phi", "customer_managed_keys": true}),
        )
    }

    fn bucket(name: &str, bucket_name: &str) -> Resource {
        resource("aws_s3_bucket", name, json!({ "bucket": bucket_name }))
    }

    /// A separate configuration linked to `aws_s3_bucket.<bucket>` by an `.id` reference.
    fn sse(name: &str, bucket: &str, default: serde_json::Value) -> Resource {
        let config = resource(
            SSE_CONFIGURATION,
            name,
            json!({"rule": [{"apply_server_side_encryption_by_default": [default]}]}),
        );
        with_reference(config, "bucket", &format!("aws_s3_bucket.{bucket}"), "id")
    }

    fn kms_key(name: &str) -> Resource {
        resource("aws_kms_key", name, json!({"enable_key_rotation": true}))
    }

    fn with_key_reference(config: Resource, key: &str) -> Resource {
        with_reference(config, KEY, &format!("aws_kms_key.{key}"), "arn")
    }

    #[test]
    fn split_configurations_linked_by_reference() {
        // s3-split-sse-references
        let resources = vec![
            cmk_license(),
            kms_key("records"),
            bucket("claims", "acme-claims-archive"),
            with_key_reference(
                sse("claims", "claims", json!({"sse_algorithm": "aws:kms"})),
                "records",
            ),
            bucket("notes", "acme-clinical-notes"),
            sse("notes", "notes", json!({"sse_algorithm": "AES256"})),
            bucket("intake", "acme-intake-forms"),
        ];
        let verdict = |address: &str| judge(&S3BucketEncryption, resources.clone(), address);

        assert_eq!(verdict("aws_s3_bucket.claims"), Verdict::Pass);
        assert_eq!(
            failure_message(verdict("aws_s3_bucket.notes")),
            "S3 bucket's default encryption, set by \
             aws_s3_bucket_server_side_encryption_configuration.notes, encrypts with AES256 and \
             a key AWS manages; the license demands customer-managed keys"
        );
        assert!(failure_message(verdict("aws_s3_bucket.intake"))
            .starts_with("S3 bucket has no default encryption configuration"));
    }

    #[test]
    fn literal_names_and_inline_blocks_count_and_near_names_do_not() {
        // s3-split-sse-literal-and-local
        let key_arn = "arn:aws:kms:us-east-1:111122223333:key/2222cccc-3333-4444-5555-666677778888";
        let billing_sse = resource(
            SSE_CONFIGURATION,
            "billing",
            json!({
                "bucket": "acme-billing-exports",
                "rule": [{"apply_server_side_encryption_by_default": [
                    {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn}
                ]}]
            }),
        );
        let exports = resource(
            "aws_s3_bucket",
            "exports",
            json!({
                "bucket": "acme-patient-exports",
                "server_side_encryption_configuration": [{"rule": [{
                    "apply_server_side_encryption_by_default": [
                        {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn}
                    ]
                }]}]
            }),
        );
        let resources = vec![
            cmk_license(),
            bucket("billing", "acme-billing-exports"),
            billing_sse,
            exports,
            bucket("billing_old", "acme-billing-export"),
        ];
        let verdict = |address: &str| judge(&S3BucketEncryption, resources.clone(), address);

        assert_eq!(verdict("aws_s3_bucket.billing"), Verdict::Pass);
        assert_eq!(verdict("aws_s3_bucket.exports"), Verdict::Pass);
        assert!(matches!(
            verdict("aws_s3_bucket.billing_old"),
            Verdict::Fail(_)
        ));
    }

    #[test]
    fn an_inline_block_with_an_aws_key_points_at_its_algorithm() {
        let bucket = resource(
            "aws_s3_bucket",
            "old",
            json!({"server_side_encryption_configuration": [{"rule": [{
                "apply_server_side_encryption_by_default": [
                    {"sse_algorithm": "aws:kms", "kms_master_key_id": "alias/aws/s3"}
                ]
            }]}]}),
        );
        let verdict = judge(
            &S3BucketEncryption,
            vec![cmk_license(), bucket],
            "aws_s3_bucket.old",
        );
        let Verdict::Fail(violation) = verdict else {
            panic!("expected a failure, got {verdict:?}");
        };
        assert_eq!(
            violation.attribute.as_deref(),
            Some(
                "server_side_encryption_configuration.rule.apply_server_side_encryption_by_default\
                 .sse_algorithm"
            )
        );
        assert!(violation.message.contains("aws:kms and a key AWS manages"));
        assert!(!violation.message.contains("alias/aws/s3"));
    }

    #[test]
    fn without_a_cmk_license_every_bucket_is_encrypted() {
        let resources = vec![
            bucket("unconfigured", "a"),
            bucket("aes", "b"),
            sse("aes", "aes", json!({"sse_algorithm": "AES256"})),
        ];
        for address in ["aws_s3_bucket.unconfigured", "aws_s3_bucket.aes"] {
            assert_eq!(
                judge(&S3BucketEncryption, resources.clone(), address),
                Verdict::Pass
            );
        }
    }

    #[test]
    fn a_conditional_algorithm_passes_when_every_branch_is_acceptable() {
        // s3-conditional-algorithm: `var.use_kms ? "aws:kms" : "AES256"`, no license.
        let mut config = sse("imaging", "imaging", json!({}));
        let either = Value::AnyOf(vec!["aws:kms".into(), "AES256".into()]);
        config.values = Value::from(
            &json!({"rule": [{"apply_server_side_encryption_by_default": [
                {"sse_algorithm": null}
            ]}]}),
        );
        set_algorithm(&mut config, either.clone());
        let resources = vec![bucket("imaging", "acme-imaging"), config.clone()];
        assert_eq!(
            judge(&S3BucketEncryption, resources, "aws_s3_bucket.imaging"),
            Verdict::Pass
        );

        // Under a CMK license the AES256 branch is not acceptable and the kms branch names no
        // key: both fail, so the bucket fails.
        let resources = vec![cmk_license(), bucket("imaging", "acme-imaging"), config];
        let message = failure_message(judge(
            &S3BucketEncryption,
            resources,
            "aws_s3_bucket.imaging",
        ));
        assert!(message.contains("aws:kms or AES256"), "{message}");
    }

    #[test]
    fn a_conditional_whose_branches_disagree_is_undetermined() {
        let mut config = sse("imaging", "imaging", json!({}));
        config.values = Value::from(
            &json!({"rule": [{"apply_server_side_encryption_by_default": [
                {"sse_algorithm": null}
            ]}]}),
        );
        set_algorithm(
            &mut config,
            Value::AnyOf(vec!["aws:kms".into(), "AES256".into()]),
        );
        let config = with_key_reference(config, "phi");
        let resources = vec![
            cmk_license(),
            kms_key("phi"),
            bucket("imaging", "acme-imaging"),
            config,
        ];
        let verdict = judge(&S3BucketEncryption, resources, "aws_s3_bucket.imaging");
        assert!(matches!(verdict, Verdict::Undetermined(_)), "{verdict:?}");
    }

    #[test]
    fn a_plan_with_a_computed_inline_block_and_an_unknown_key() {
        // plan-unknown-kms-key: the bucket's inline block is computed, the separate
        // configuration names a key created in the same plan.
        let mut lab = bucket("lab", "acme-lab-results");
        if let Value::Map(map) = &mut lab.values {
            map.insert(INLINE_BLOCK.to_string(), Value::Unknown);
        }
        let config = with_key_reference(
            sse(
                "lab",
                "lab",
                json!({"sse_algorithm": "aws:kms", "kms_master_key_id": null}),
            ),
            "lab",
        );
        let resources = vec![cmk_license(), kms_key("lab"), lab.clone(), config];
        assert_eq!(
            judge(&S3BucketEncryption, resources, "aws_s3_bucket.lab"),
            Verdict::Pass
        );

        // Alone, a computed inline block cannot be judged under a CMK license.
        let verdict = judge(
            &S3BucketEncryption,
            vec![cmk_license(), lab],
            "aws_s3_bucket.lab",
        );
        assert!(matches!(verdict, Verdict::Undetermined(_)), "{verdict:?}");
    }

    fn set_algorithm(config: &mut Resource, algorithm: Value) {
        let Value::Map(root) = &mut config.values else {
            return;
        };
        let Some(Value::List(rules)) = root.get_mut("rule") else {
            return;
        };
        let Some(Value::Map(rule)) = rules.first_mut() else {
            return;
        };
        let Some(Value::List(defaults)) = rule.get_mut("apply_server_side_encryption_by_default")
        else {
            return;
        };
        if let Some(Value::Map(default)) = defaults.first_mut() {
            default.insert("sse_algorithm".to_string(), algorithm);
        }
    }
}
