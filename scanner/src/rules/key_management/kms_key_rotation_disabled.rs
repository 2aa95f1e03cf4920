use super::{is_symmetric_encryption_key, kms_rotation_enabled};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it checks
    ///
    /// Every `aws_kms_key` that is a symmetric encryption key (`customer_master_key_spec` or
    /// `key_spec` unset or `SYMMETRIC_DEFAULT`, `key_usage` unset or `ENCRYPT_DECRYPT`) must
    /// have `enable_key_rotation = true`; it is off when unset.
    ///
    /// Asymmetric and HMAC keys, and keys in a custom key store (`custom_key_store_id`), are not
    /// looked at: AWS cannot rotate them automatically, so rotating them is a manual procedure.
    /// `aws_kms_replica_key` is not looked at either: a multi-Region replica shares its primary's
    /// key material and rotates when its primary does, so the primary `aws_kms_key` is the one
    /// judged.
    ///
    /// ## Why it matters
    ///
    /// A key that never rotates protects every byte it ever encrypted: once it leaks, all of
    /// that ePHI is exposed. Rotation bounds what one key version protects, which is part of
    /// the key management behind encryption under 164.312(a)(2)(iv), and a safeguard that a
    /// risk management plan (164.308(a)(1)(ii)(B)) relies on. With automatic rotation AWS keeps
    /// old versions for decryption, so turning it on costs no outage.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "aws_kms_key" "phi" {
    ///   description = "PHI data key"
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_kms_key" "phi" {
    ///   description         = "PHI data key"
    ///   enable_key_rotation = true
    /// }
    /// ```
    pub struct KmsKeyRotationDisabled {
        id: "KEY001",
        name: "kms-key-rotation-disabled",
        category: KeyManagement,
        severity: High,
        title: "KMS key rotation is not enabled",
        hipaa: ["164.312(a)(2)(iv)", "164.308(a)(1)(ii)(B)"],
        applies_to: |resource_type| resource_type == "aws_kms_key",
        check: check,
    }
}

fn check(_cx: &Context, key: &Resource) -> Verdict {
    match is_symmetric_encryption_key(key) {
        Truth::Yes => {}
        Truth::No => return Verdict::NotApplicable,
        Truth::Undetermined => {
            return Verdict::undetermined(
                "the key's spec or usage is not known before apply, so whether AWS can rotate \
                 it is not known",
            )
        }
    }
    // Keys in CloudHSM or external key stores cannot be rotated automatically.
    if !key.lookup("custom_key_store_id").is_empty() {
        return Verdict::NotApplicable;
    }

    match kms_rotation_enabled(key) {
        Truth::Yes => Verdict::Pass,
        Truth::Undetermined => {
            Verdict::undetermined("`enable_key_rotation` is not known before apply")
        }
        Truth::No => Verdict::fail(
            Some("enable_key_rotation"),
            if key.attr("enable_key_rotation").is_null() {
                "KMS key is never rotated: `enable_key_rotation` is not set"
            } else {
                "KMS key is never rotated: `enable_key_rotation` is false"
            },
            "set `enable_key_rotation = true`",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    fn verdict(key: Resource) -> Verdict {
        let address = key.address.clone();
        judge(&KmsKeyRotationDisabled, vec![key], &address)
    }

    #[test]
    fn a_key_without_rotation_fails() {
        // kms-rotation: no_rotation
        let key = resource(
            "aws_kms_key",
            "no_rotation",
            json!({"description": "rotation never enabled"}),
        );
        assert_eq!(
            failure_message(verdict(key)),
            "KMS key is never rotated: `enable_key_rotation` is not set"
        );

        let off = resource("aws_kms_key", "off", json!({"enable_key_rotation": false}));
        assert!(failure_message(verdict(off)).ends_with("is false"));
    }

    #[test]
    fn a_rotating_key_passes() {
        let key = resource(
            "aws_kms_key",
            "lab",
            json!({
                "enable_key_rotation": true,
                "key_usage": "ENCRYPT_DECRYPT",
                "customer_master_key_spec": "SYMMETRIC_DEFAULT"
            }),
        );
        assert_eq!(verdict(key), Verdict::Pass);
    }

    #[test]
    fn keys_aws_cannot_rotate_are_not_applicable() {
        // kms-rotation: signing
        let signing = resource(
            "aws_kms_key",
            "signing",
            json!({"key_usage": "SIGN_VERIFY", "customer_master_key_spec": "ECC_NIST_P256"}),
        );
        assert_eq!(verdict(signing), Verdict::NotApplicable);

        let hsm = resource(
            "aws_kms_key",
            "hsm",
            json!({"custom_key_store_id": "cks-1234"}),
        );
        assert_eq!(verdict(hsm), Verdict::NotApplicable);
    }

    #[test]
    fn an_unknown_setting_is_undetermined() {
        let mut key = resource("aws_kms_key", "k", json!({}));
        if let Value::Map(map) = &mut key.values {
            map.insert("enable_key_rotation".to_string(), Value::Unknown);
        }
        assert!(matches!(verdict(key), Verdict::Undetermined(_)));
    }
}
