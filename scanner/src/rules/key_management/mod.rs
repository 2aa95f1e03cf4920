//! Rules about the keys themselves: automatic rotation of AWS KMS keys, Cloud KMS keys and Azure
//! Key Vault keys, on and within the period the license allows.
//!
//! Also the duration readers the rotation rules share: whole days from Google's seconds
//! (`"7776000s"`) and from ISO-8601 durations (`"P90D"`, `"P1Y"`).

mod azure_key_vault_key_rotation;
mod gcp_kms_key_rotation;
mod kms_key_rotation_disabled;
mod kms_key_rotation_too_slow;

pub use azure_key_vault_key_rotation::AzureKeyVaultKeyRotation;
pub use gcp_kms_key_rotation::GcpKmsKeyRotation;
pub use kms_key_rotation_disabled::KmsKeyRotationDisabled;
pub use kms_key_rotation_too_slow::KmsKeyRotationTooSlow;

use super::encryption_at_rest::{all_of, decide};
use crate::model::Resource;
use crate::value::{Truth, Value};

const SECONDS_PER_DAY: f64 = 86_400.0;

/// ISO-8601 durations have no fixed length for months and years; a month counts as 30 days and a
/// year as 365 (a leap year is a day longer). A rotation period written as `P1Y` therefore meets
/// a 365-day limit, and `P3M` (90 days) meets a 90-day one, as their writers mean.
const DAYS_PER_MONTH: f64 = 30.0;
const DAYS_PER_YEAR: f64 = 365.0;
const DAYS_PER_WEEK: f64 = 7.0;

/// Whether an `aws_kms_key` is a symmetric encryption key, the only kind AWS rotates itself.
/// Unset spec and usage mean `SYMMETRIC_DEFAULT` and `ENCRYPT_DECRYPT`.
pub(crate) fn is_symmetric_encryption_key(key: &Resource) -> Truth {
    let holds = |path: &str, wanted: &'static str| {
        all_of(key.lookup(path).into_iter().map(|value| {
            decide(value, &|branch| match branch.as_str() {
                Some(text) => Truth::from_bool(text.trim().eq_ignore_ascii_case(wanted)),
                None => Truth::Undetermined,
            })
        }))
    };
    all_of([
        holds("customer_master_key_spec", "SYMMETRIC_DEFAULT"),
        holds("key_spec", "SYMMETRIC_DEFAULT"),
        holds("key_usage", "ENCRYPT_DECRYPT"),
    ])
}

/// Whether `enable_key_rotation` is on; unset means off.
pub(crate) fn kms_rotation_enabled(key: &Resource) -> Truth {
    decide(
        key.attr("enable_key_rotation"),
        &|value| match value.as_bool() {
            Some(on) => Truth::from_bool(on),
            None if value.is_null() => Truth::No,
            None => Truth::Undetermined,
        },
    )
}

/// Days in a Google duration: seconds with an `s` suffix, e.g. `"7776000s"` (90 days).
pub(crate) fn seconds_duration_days(text: &str) -> Option<f64> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds / SECONDS_PER_DAY)
}

/// Days in an ISO-8601 duration such as `P90D`, `P1Y6M`, `P2W` or `P1DT12H` (months and years
/// are approximated, see [`DAYS_PER_MONTH`]). `None` for anything else.
pub(crate) fn iso8601_days(text: &str) -> Option<f64> {
    let body = text.trim().strip_prefix(['P', 'p'])?;
    let (date, time) = match body.split_once(['T', 't']) {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (body, None),
    };

    const DATE_UNITS: &[(char, f64)] = &[
        ('Y', DAYS_PER_YEAR),
        ('M', DAYS_PER_MONTH),
        ('W', DAYS_PER_WEEK),
        ('D', 1.0),
    ];
    const TIME_UNITS: &[(char, f64)] = &[
        ('H', 1.0 / 24.0),
        ('M', 1.0 / 1440.0),
        ('S', 1.0 / 86_400.0),
    ];

    let mut days = 0.0;
    let mut parts = 0;
    for (section, units) in [(Some(date), DATE_UNITS), (time, TIME_UNITS)] {
        let Some(section) = section else {
            continue;
        };
        let (section_days, count) = sum_components(section, units)?;
        days += section_days;
        parts += count;
    }
    (parts > 0).then_some(days)
}

/// Adds up `<number><unit>` components, each unit at most once and in the order of `units`.
fn sum_components(section: &str, units: &[(char, f64)]) -> Option<(f64, usize)> {
    let mut days = 0.0;
    let mut count = 0;
    let mut next_unit = 0;
    let mut number = String::new();
    for c in section.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            number.push(if c == ',' { '.' } else { c });
            continue;
        }
        let position = units[next_unit..]
            .iter()
            .position(|(unit, _)| unit.eq_ignore_ascii_case(&c))?;
        let value: f64 = number.parse().ok()?;
        days += value * units[next_unit + position].1;
        next_unit += position + 1;
        count += 1;
        number.clear();
    }
    number.is_empty().then_some((days, count))
}

/// Days as a person reads them: `90`, `182.5`.
pub(crate) fn format_days(days: f64) -> String {
    if (days - days.round()).abs() < 0.05 {
        format!("{}", days.round())
    } else {
        format!("{days:.1}")
    }
}

/// The literal strings or numbers a value may take, every branch of a conditional included, for
/// messages about non-secret settings.
pub(crate) fn literal_choices(value: &Value) -> Vec<&Value> {
    match value {
        Value::AnyOf(branches) => branches.iter().flat_map(literal_choices).collect(),
        Value::String(_) | Value::Number(_) | Value::Null => vec![value],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::resource;
    use serde_json::json;

    #[test]
    fn iso_durations_become_days() {
        assert_eq!(iso8601_days("P180D"), Some(180.0));
        assert_eq!(iso8601_days("P1Y"), Some(365.0));
        assert_eq!(iso8601_days("P3M"), Some(90.0));
        assert_eq!(iso8601_days("P2W"), Some(14.0));
        assert_eq!(iso8601_days("P1Y2M10D"), Some(435.0));
        assert_eq!(iso8601_days("P1DT12H"), Some(1.5));
        assert_eq!(iso8601_days("p0.5d"), Some(0.5));
    }

    #[test]
    fn malformed_iso_durations_are_refused() {
        for text in ["", "P", "180D", "PT", "P1D2Y", "P1DD", "P1Q", "P12", "P1DT"] {
            assert_eq!(iso8601_days(text), None, "{text:?}");
        }
    }

    #[test]
    fn google_durations_are_seconds() {
        assert_eq!(seconds_duration_days("7776000s"), Some(90.0));
        assert_eq!(seconds_duration_days("86400.0s"), Some(1.0));
        assert_eq!(seconds_duration_days("90d"), None);
        assert_eq!(seconds_duration_days("-1s"), None);
    }

    #[test]
    fn days_print_without_needless_decimals() {
        assert_eq!(format_days(90.0), "90");
        assert_eq!(format_days(182.5), "182.5");
    }

    #[test]
    fn only_symmetric_encryption_keys_count() {
        let plain = resource("aws_kms_key", "a", json!({}));
        let signing = resource(
            "aws_kms_key",
            "b",
            json!({"key_usage": "SIGN_VERIFY", "customer_master_key_spec": "ECC_NIST_P256"}),
        );
        let hmac = resource(
            "aws_kms_key",
            "c",
            json!({"key_usage": "GENERATE_VERIFY_MAC", "key_spec": "HMAC_256"}),
        );
        assert_eq!(is_symmetric_encryption_key(&plain), Truth::Yes);
        assert_eq!(is_symmetric_encryption_key(&signing), Truth::No);
        assert_eq!(is_symmetric_encryption_key(&hmac), Truth::No);
    }
}
