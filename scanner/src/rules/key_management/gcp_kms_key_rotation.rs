use super::{format_days, seconds_duration_days};
use crate::rules::encryption_at_rest::{all_of, decide};
use crate::rules::prelude::*;

const PERIOD: &str = "rotation_period";

declare_rule! {
    /// ## What it checks
    ///
    /// Every `google_kms_crypto_key` used for symmetric encryption (`purpose` unset or
    /// `ENCRYPT_DECRYPT`) must have a `rotation_period` (a duration in seconds, e.g.
    /// `"7776000s"` for 90 days) no longer than the license's `key_rotation_days` (365 days
    /// unless a `hipaa_license` says less). Without a period, Cloud KMS never rotates the key.
    ///
    /// Keys for signing, asymmetric decryption, MACs and raw encryption are not looked at:
    /// Cloud KMS rotates only symmetric encryption keys automatically.
    ///
    /// ## Why it matters
    ///
    /// A key that never rotates protects every byte it ever encrypted: once it leaks, all of
    /// that ePHI is exposed. Rotation bounds what one key version protects, part of the key
    /// management behind encryption under 164.312(a)(2)(iv), and the period the license names
    /// is a safeguard of the licensee's risk management (164.308(a)(1)(ii)(B)).
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "google_kms_crypto_key" "records" {
    ///   name     = "records"
    ///   key_ring = google_kms_key_ring.phi.id
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "google_kms_crypto_key" "records" {
    ///   name            = "records"
    ///   key_ring        = google_kms_key_ring.phi.id
    ///   rotation_period = "7776000s" # 90 days
    /// }
    /// ```
    pub struct GcpKmsKeyRotation {
        id: "KEY003",
        name: "gcp-kms-key-rotation",
        category: KeyManagement,
        severity: High,
        title: "Cloud KMS key is not rotated within the license's period",
        hipaa: ["164.312(a)(2)(iv)", "164.308(a)(1)(ii)(B)"],
        applies_to: |resource_type| resource_type == "google_kms_crypto_key",
        check: check,
    }
}

fn check(cx: &Context, key: &Resource) -> Verdict {
    match is_symmetric_encryption(key) {
        Truth::Yes => {}
        Truth::No => return Verdict::NotApplicable,
        Truth::Undetermined => {
            return Verdict::undetermined("the key's `purpose` is not known before apply")
        }
    }
    let limit = f64::from(cx.terms().key_rotation_days);
    let fix = format!(
        "set `{PERIOD}` to at most {} days in seconds, e.g. \"{}s\"",
        format_days(limit),
        limit * 86_400.0
    );

    let period = key.attr(PERIOD);
    if period.is_null() {
        return Verdict::fail(
            Some(PERIOD),
            "Cloud KMS key is never rotated: `rotation_period` is not set",
            fix,
        );
    }

    let within_limit = decide(
        period,
        &|value| match value.as_str().and_then(seconds_duration_days) {
            Some(days) => Truth::from_bool(days <= limit),
            None if value.is_null() => Truth::No,
            None => Truth::Undetermined,
        },
    );
    match within_limit {
        Truth::Yes => Verdict::Pass,
        Truth::Undetermined => Verdict::undetermined(format!(
            "`{PERIOD}` is not known before apply, depends on a condition, or is not a duration \
             in seconds"
        )),
        Truth::No => Verdict::fail(
            Some(PERIOD),
            match period.as_str().and_then(seconds_duration_days) {
                Some(days) => format!(
                    "Cloud KMS key rotates every {} days; the license allows at most {} days",
                    format_days(days),
                    format_days(limit)
                ),
                None => format!(
                    "Cloud KMS key may rotate less often than every {} days, or never, \
                     whichever way its condition goes",
                    format_days(limit)
                ),
            },
            fix,
        ),
    }
}

/// `purpose` unset means `ENCRYPT_DECRYPT`.
fn is_symmetric_encryption(key: &Resource) -> Truth {
    all_of(key.lookup("purpose").into_iter().map(|value| {
        decide(value, &|branch| match branch.as_str() {
            Some(purpose) => Truth::from_bool(purpose.eq_ignore_ascii_case("ENCRYPT_DECRYPT")),
            None => Truth::from_bool(branch.is_null()),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    const KEY_RING: &str = "projects/acme/locations/us/keyRings/phi";

    fn verdict(resources: Vec<Resource>, address: &str) -> Verdict {
        judge(&GcpKmsKeyRotation, resources, address)
    }

    #[test]
    fn azure_gcp_core_keys() {
        let no_rotation = resource(
            "google_kms_crypto_key",
            "no_rotation",
            json!({"name": "records", "key_ring": KEY_RING}),
        );
        let quarterly = resource(
            "google_kms_crypto_key",
            "quarterly",
            json!({"name": "claims", "key_ring": KEY_RING, "rotation_period": "7776000s"}),
        );
        let resources = vec![no_rotation, quarterly];
        assert_eq!(
            failure_message(verdict(
                resources.clone(),
                "google_kms_crypto_key.no_rotation"
            )),
            "Cloud KMS key is never rotated: `rotation_period` is not set"
        );
        assert_eq!(
            verdict(resources, "google_kms_crypto_key.quarterly"),
            Verdict::Pass
        );
    }

    #[test]
    fn a_period_longer_than_the_license_fails() {
        let license = resource("hipaa_license", "l", json!({"key_rotation_days": 30}));
        let quarterly = resource(
            "google_kms_crypto_key",
            "quarterly",
            json!({"rotation_period": "7776000s"}),
        );
        let verdict = verdict(vec![license, quarterly], "google_kms_crypto_key.quarterly");
        let Verdict::Fail(violation) = verdict else {
            panic!("expected a failure, got {verdict:?}");
        };
        assert_eq!(
            violation.message,
            "Cloud KMS key rotates every 90 days; the license allows at most 30 days"
        );
        assert_eq!(
            violation.fix,
            "set `rotation_period` to at most 30 days in seconds, e.g. \"2592000s\""
        );
    }

    #[test]
    fn signing_keys_are_not_applicable_and_unknown_periods_undetermined() {
        let signing = resource(
            "google_kms_crypto_key",
            "signing",
            json!({"purpose": "ASYMMETRIC_SIGN"}),
        );
        assert_eq!(
            verdict(vec![signing], "google_kms_crypto_key.signing"),
            Verdict::NotApplicable
        );

        let mut unknown = resource("google_kms_crypto_key", "u", json!({}));
        if let Value::Map(map) = &mut unknown.values {
            map.insert(PERIOD.to_string(), Value::Unknown);
        }
        assert!(matches!(
            verdict(vec![unknown], "google_kms_crypto_key.u"),
            Verdict::Undetermined(_)
        ));
    }
}
