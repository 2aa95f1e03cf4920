use super::{format_days, is_symmetric_encryption_key, kms_rotation_enabled, literal_choices};
use crate::rules::encryption_at_rest::decide;
use crate::rules::prelude::*;
use compliance::license::DEFAULT_KEY_ROTATION_DAYS;

declare_rule! {
    /// ## What it checks
    ///
    /// An `aws_kms_key` with automatic rotation on must rotate at least as often as the license
    /// demands (`key_rotation_days`, 365 days unless a `hipaa_license` says less).
    /// `rotation_period_in_days` unset means AWS's default of 365 days.
    ///
    /// Keys with rotation off are reported by `kms-key-rotation-disabled`, and keys AWS cannot
    /// rotate are not looked at.
    ///
    /// ## Why it matters
    ///
    /// The rotation period a license names is the licensee's promise of how much ePHI one key
    /// version may protect, a safeguard chosen by its risk management (164.308(a)(1)(ii)(B))
    /// for the encryption that 164.312(a)(2)(iv) asks for. A key on the AWS default of a year
    /// does not keep a promise of 90 days.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "hipaa_license" "strict" {
    ///   name              = "acme-strict"
    ///   version           = "2026.2"
    ///   key_rotation_days = 90
    /// }
    ///
    /// resource "aws_kms_key" "phi" {
    ///   enable_key_rotation = true
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_kms_key" "phi" {
    ///   enable_key_rotation     = true
    ///   rotation_period_in_days = 90
    /// }
    /// ```
    pub struct KmsKeyRotationTooSlow {
        id: "KEY002",
        name: "kms-key-rotation-too-slow",
        category: KeyManagement,
        severity: Medium,
        title: "KMS key rotates less often than the license demands",
        hipaa: ["164.312(a)(2)(iv)", "164.308(a)(1)(ii)(B)"],
        applies_to: |resource_type| resource_type == "aws_kms_key",
        check: check,
    }
}

const PERIOD: &str = "rotation_period_in_days";

fn check(cx: &Context, key: &Resource) -> Verdict {
    if is_symmetric_encryption_key(key) != Truth::Yes || kms_rotation_enabled(key) != Truth::Yes {
        return Verdict::NotApplicable;
    }
    let limit = f64::from(cx.terms().key_rotation_days);
    let period = key.attr(PERIOD);

    let too_slow = decide(period, &|value| match value {
        Value::Null => Truth::from_bool(f64::from(DEFAULT_KEY_ROTATION_DAYS) > limit),
        known => match known.as_f64() {
            Some(days) => Truth::from_bool(days > limit),
            None => Truth::Undetermined,
        },
    });

    match too_slow {
        Truth::No => Verdict::Pass,
        Truth::Undetermined => Verdict::undetermined(format!(
            "`{PERIOD}` is not known before apply or depends on a condition"
        )),
        Truth::Yes => Verdict::fail(
            Some(PERIOD),
            format!(
                "KMS key rotates every {}; the license allows at most {} days",
                describe_periods(period),
                format_days(limit)
            ),
            format!("set `{PERIOD} = {}` or less", format_days(limit)),
        ),
    }
}

/// The period or periods a key may rotate on, for the message.
fn describe_periods(period: &Value) -> String {
    let mut periods: Vec<String> = Vec::new();
    for choice in literal_choices(period) {
        let text = match choice {
            Value::Null => format!("{DEFAULT_KEY_ROTATION_DAYS} days (AWS's default)"),
            days => days
                .as_f64()
                .map(|days| format!("{} days", format_days(days)))
                .unwrap_or_default(),
        };
        if !text.is_empty() && !periods.contains(&text) {
            periods.push(text);
        }
    }
    periods.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    fn license(days: u32) -> Resource {
        resource(
            "hipaa_license",
            "strict",
            json!({"customer_managed_keys": true, "key_rotation_days": days}),
        )
    }

    fn key(name: &str, values: serde_json::Value) -> Resource {
        resource("aws_kms_key", name, values)
    }

    #[test]
    fn a_two_year_period_fails_the_default_terms() {
        // kms-rotation: slow_rotation
        let slow = key(
            "slow_rotation",
            json!({"enable_key_rotation": true, "rotation_period_in_days": 730}),
        );
        let verdict = judge(
            &KmsKeyRotationTooSlow,
            vec![slow],
            "aws_kms_key.slow_rotation",
        );
        assert_eq!(
            failure_message(verdict),
            "KMS key rotates every 730 days; the license allows at most 365 days"
        );
    }

    #[test]
    fn a_yearly_key_passes_the_default_terms() {
        // kms-rotation: yearly and default_period
        let yearly = key(
            "yearly",
            json!({"enable_key_rotation": true, "rotation_period_in_days": 365}),
        );
        let default_period = key("default_period", json!({"enable_key_rotation": true}));
        let resources = vec![yearly, default_period];
        for address in ["aws_kms_key.yearly", "aws_kms_key.default_period"] {
            assert_eq!(
                judge(&KmsKeyRotationTooSlow, resources.clone(), address),
                Verdict::Pass
            );
        }
    }

    #[test]
    fn a_ninety_day_license_fails_the_default_period() {
        // license-requires-cmk: phi passes, yearly fails
        let phi = key(
            "phi",
            json!({"enable_key_rotation": true, "rotation_period_in_days": 90}),
        );
        let yearly = key("yearly", json!({"enable_key_rotation": true}));
        let resources = vec![license(90), phi, yearly];
        assert_eq!(
            judge(&KmsKeyRotationTooSlow, resources.clone(), "aws_kms_key.phi"),
            Verdict::Pass
        );
        assert_eq!(
            failure_message(judge(
                &KmsKeyRotationTooSlow,
                resources,
                "aws_kms_key.yearly"
            )),
            "KMS key rotates every 365 days (AWS's default); the license allows at most 90 days"
        );
    }

    #[test]
    fn keys_without_rotation_are_left_to_kms_key_rotation_disabled() {
        let off = key("off", json!({"rotation_period_in_days": 730}));
        assert_eq!(
            judge(&KmsKeyRotationTooSlow, vec![off], "aws_kms_key.off"),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn an_unknown_period_is_undetermined() {
        let mut unknown = key("k", json!({"enable_key_rotation": true}));
        if let Value::Map(map) = &mut unknown.values {
            map.insert(PERIOD.to_string(), Value::Unknown);
        }
        let verdict = judge(&KmsKeyRotationTooSlow, vec![unknown], "aws_kms_key.k");
        assert!(matches!(verdict, Verdict::Undetermined(_)));
    }
}
