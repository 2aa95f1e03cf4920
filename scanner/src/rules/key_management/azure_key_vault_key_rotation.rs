use super::{format_days, iso8601_days};
use crate::rules::encryption_at_rest::{all_of, decide};
use crate::rules::prelude::*;

const AUTOMATIC: &str = "rotation_policy.automatic";
const AFTER_CREATION: &str = "rotation_policy.automatic.time_after_creation";
const BEFORE_EXPIRY: &str = "rotation_policy.automatic.time_before_expiry";
const EXPIRE_AFTER: &str = "rotation_policy.expire_after";

declare_rule! {
    /// ## What it checks
    ///
    /// Every `azurerm_key_vault_key` must rotate itself: its `rotation_policy` needs an
    /// `automatic` block, and the rotation period must not be longer than the license's
    /// `key_rotation_days` (365 days unless a `hipaa_license` says less).
    ///
    /// The period is `time_after_creation`, or, when only `time_before_expiry` is set, the
    /// policy's `expire_after` less `time_before_expiry`. Durations are ISO-8601 (`P90D`,
    /// `P3M`, `P1Y`); a month counts as 30 days and a year as 365. A policy that rotates only
    /// before expiry but sets no `expire_after` is undetermined: when it rotates depends on the
    /// key's own expiry date.
    ///
    /// ## Why it matters
    ///
    /// A key that never rotates protects every byte it ever encrypted: once it leaks, all of
    /// that ePHI is exposed. Rotation bounds what one key version protects, part of the key
    /// management behind encryption under 164.312(a)(2)(iv), and the period the license names
    /// is a safeguard of the licensee's risk management (164.308(a)(1)(ii)(B)). Key Vault keeps
    /// earlier versions, so data encrypted before a rotation stays readable.
    ///
    /// ## Example
    ///
    /// ```hcl
    /// resource "azurerm_key_vault_key" "records" {
    ///   name         = "records"
    ///   key_vault_id = azurerm_key_vault.phi.id
    ///   key_type     = "RSA"
    ///   key_size     = 3072
    ///   key_opts     = ["wrapKey", "unwrapKey"]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "azurerm_key_vault_key" "records" {
    ///   name         = "records"
    ///   key_vault_id = azurerm_key_vault.phi.id
    ///   key_type     = "RSA"
    ///   key_size     = 3072
    ///   key_opts     = ["wrapKey", "unwrapKey"]
    ///
    ///   rotation_policy {
    ///     expire_after = "P400D"
    ///     automatic {
    ///       time_after_creation = "P180D"
    ///     }
    ///   }
    /// }
    /// ```
    pub struct AzureKeyVaultKeyRotation {
        id: "KEY004",
        name: "azure-key-vault-key-rotation",
        category: KeyManagement,
        severity: High,
        title: "Key Vault key is not rotated within the license's period",
        hipaa: ["164.312(a)(2)(iv)", "164.308(a)(1)(ii)(B)"],
        applies_to: |resource_type| resource_type == "azurerm_key_vault_key",
        check: check,
    }
}

fn check(cx: &Context, key: &Resource) -> Verdict {
    let limit = f64::from(cx.terms().key_rotation_days);
    let fix = format!(
        "add `rotation_policy {{ automatic {{ time_after_creation = \"P{}D\" }} }}` or shorter",
        format_days(limit)
    );

    let automatic = key.lookup(AUTOMATIC);
    if automatic.is_empty() {
        return Verdict::fail(
            Some("rotation_policy"),
            "Key Vault key is never rotated: it has no `rotation_policy` with an `automatic` \
             block",
            fix,
        );
    }
    if automatic.iter().any(|block| !block.is_known()) {
        return Verdict::undetermined(format!("`{AUTOMATIC}` is not known before apply"));
    }

    let (attribute, period) = match rotation_period(key) {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    if period <= limit {
        return Verdict::Pass;
    }
    Verdict::fail(
        Some(attribute),
        format!(
            "Key Vault key rotates every {} days; the license allows at most {} days",
            format_days(period),
            format_days(limit)
        ),
        fix,
    )
}

/// The rotation period in days and the attribute it is read from, or the verdict when it
/// cannot be read.
fn rotation_period(key: &Resource) -> Result<(&'static str, f64), Verdict> {
    let after_creation = key.lookup(AFTER_CREATION);
    if !after_creation.is_empty() {
        return Ok((
            AFTER_CREATION,
            longest_days(&after_creation, AFTER_CREATION)?,
        ));
    }

    let before_expiry = key.lookup(BEFORE_EXPIRY);
    if before_expiry.is_empty() {
        return Err(Verdict::fail(
            Some(AUTOMATIC),
            "Key Vault key is never rotated: its `automatic` block sets neither \
             `time_after_creation` nor `time_before_expiry`",
            "set `time_after_creation` in `rotation_policy.automatic`",
        ));
    }
    let expire_after = key.lookup(EXPIRE_AFTER);
    if expire_after.is_empty() {
        return Err(Verdict::undetermined(
            "the key rotates before it expires, but its rotation policy sets no \
             `expire_after`, so when that is depends on the key's own expiry date",
        ));
    }
    let lifetime = longest_days(&expire_after, EXPIRE_AFTER)?;
    let notice = longest_days(&before_expiry, BEFORE_EXPIRY)?;
    Ok((BEFORE_EXPIRY, (lifetime - notice).max(0.0)))
}

/// The longest duration among the values, each of which must be a known ISO-8601 duration.
fn longest_days(values: &[&Value], path: &str) -> Result<f64, Verdict> {
    let parsed = values
        .iter()
        .map(|value| value.as_str().and_then(iso8601_days))
        .collect::<Option<Vec<f64>>>();
    let readable = all_of(values.iter().map(|value| {
        decide(value, &|branch| {
            Truth::from_bool(branch.as_str().and_then(iso8601_days).is_some())
        })
    }));
    match (parsed, readable) {
        (Some(days), Truth::Yes) => Ok(days.into_iter().fold(0.0, f64::max)),
        _ => Err(Verdict::undetermined(format!(
            "`{path}` is not known before apply, depends on a condition, or is not an ISO-8601 \
             duration"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{failure_message, judge, resource};
    use serde_json::json;

    const VAULT: &str =
        "/subscriptions/0000/resourceGroups/phi/providers/Microsoft.KeyVault/vaults/acme";

    fn key(name: &str, policy: Option<serde_json::Value>) -> Resource {
        let mut values = json!({
            "name": name,
            "key_vault_id": VAULT,
            "key_type": "RSA",
            "key_size": 3072
        });
        if let Some(policy) = policy {
            values["rotation_policy"] = json!([policy]);
        }
        resource("azurerm_key_vault_key", name, values)
    }

    fn verdict(resources: Vec<Resource>, name: &str) -> Verdict {
        judge(
            &AzureKeyVaultKeyRotation,
            resources,
            &format!("azurerm_key_vault_key.{name}"),
        )
    }

    #[test]
    fn azure_gcp_core_keys() {
        let no_rotation = key("no_rotation", None);
        let rotating = key(
            "rotating",
            Some(json!({
                "expire_after": "P400D",
                "notify_before_expiry": "P30D",
                "automatic": [{"time_after_creation": "P180D"}]
            })),
        );
        let resources = vec![no_rotation, rotating];
        let Verdict::Fail(violation) = verdict(resources.clone(), "no_rotation") else {
            panic!("expected a failure");
        };
        assert_eq!(violation.attribute.as_deref(), Some("rotation_policy"));
        assert!(violation
            .message
            .starts_with("Key Vault key is never rotated"));
        assert_eq!(verdict(resources, "rotating"), Verdict::Pass);
    }

    #[test]
    fn a_period_longer_than_the_license_fails() {
        let license = resource("hipaa_license", "l", json!({"key_rotation_days": 90}));
        let half_yearly = key(
            "k",
            Some(json!({"automatic": [{"time_after_creation": "P6M"}]})),
        );
        assert_eq!(
            failure_message(verdict(vec![license, half_yearly], "k")),
            "Key Vault key rotates every 180 days; the license allows at most 90 days"
        );
    }

    #[test]
    fn rotation_before_expiry_counts_from_the_policy_lifetime() {
        let license = resource("hipaa_license", "l", json!({"key_rotation_days": 90}));
        let fits = key(
            "fits",
            Some(json!({
                "expire_after": "P120D",
                "automatic": [{"time_before_expiry": "P30D"}]
            })),
        );
        let too_long = key(
            "too_long",
            Some(json!({
                "expire_after": "P1Y",
                "automatic": [{"time_before_expiry": "P30D"}]
            })),
        );
        let resources = vec![license, fits, too_long];
        assert_eq!(verdict(resources.clone(), "fits"), Verdict::Pass);
        assert!(failure_message(verdict(resources, "too_long")).contains("every 335 days"));
    }

    #[test]
    fn what_cannot_be_read_is_undetermined() {
        let no_lifetime = key(
            "no_lifetime",
            Some(json!({"automatic": [{"time_before_expiry": "P30D"}]})),
        );
        assert!(matches!(
            verdict(vec![no_lifetime], "no_lifetime"),
            Verdict::Undetermined(_)
        ));

        let mut unknown = key("unknown", None);
        if let Value::Map(map) = &mut unknown.values {
            map.insert("rotation_policy".to_string(), Value::Unknown);
        }
        assert!(matches!(
            verdict(vec![unknown], "unknown"),
            Verdict::Undetermined(_)
        ));

        let garbled = key(
            "garbled",
            Some(json!({"automatic": [{"time_after_creation": "180 days"}]})),
        );
        assert!(matches!(
            verdict(vec![garbled], "garbled"),
            Verdict::Undetermined(_)
        ));
    }
}
