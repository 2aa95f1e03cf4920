//! The terms of a HIPAA licensing model: what a license may demand of the systems bound to it,
//! the defaults that apply when a term is not written down, and the limits HIPAA itself puts on
//! the terms.
//!
//! The provider validates `hipaa_license` against [`LicenseTerms::violations`] at plan time; the
//! scanner reads the same terms to tighten its rules.

use crate::tls::TlsVersion;
use serde::Serialize;

/// The breach notification limit of 45 CFR 164.410(b): without unreasonable delay and in no case
/// later than 60 calendar days after discovery.
pub const MAX_BREACH_NOTIFICATION_DAYS: u32 = 60;

/// The rotation period AWS KMS uses when rotation is on and no period is given.
pub const DEFAULT_KEY_ROTATION_DAYS: u32 = 365;

/// Documentation must be kept six years (164.316(b)(2)(i)); audit logs are documentation of
/// activity review, so a license may not keep them for less.
pub const MIN_LOG_RETENTION_DAYS: u32 = 6 * 365;

/// The terms of one license, with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseTerms {
    /// The lowest TLS version any PHI connection may use.
    pub min_tls_version: TlsVersion,
    /// Whether PHI must be encrypted with keys the licensee manages (not AWS- or
    /// Google-owned keys).
    pub customer_managed_keys: bool,
    /// The longest a data key may stay in use before it is rotated.
    pub key_rotation_days: u32,
    /// Whether every human access role must require multi-factor authentication.
    pub mfa_required: bool,
    /// How long audit logs must be kept, when the license says.
    pub log_retention_days: Option<u32>,
    /// How soon after discovery an incident must be answered, when the license says.
    pub incident_response_hours: Option<u32>,
    /// The longest a breach may go unreported to the covered entity.
    pub breach_notification_days: u32,
    /// How often the security posture must be reviewed.
    pub review_interval_days: u32,
    pub audit_rights: bool,
    pub security_updates_required: bool,
    /// Whether the covered entity may end the license when its terms are broken.
    pub terminate_on_noncompliance: bool,
}

impl Default for LicenseTerms {
    fn default() -> Self {
        LicenseTerms {
            min_tls_version: TlsVersion::Tls12,
            customer_managed_keys: false,
            key_rotation_days: DEFAULT_KEY_ROTATION_DAYS,
            mfa_required: true,
            log_retention_days: None,
            incident_response_hours: None,
            breach_notification_days: MAX_BREACH_NOTIFICATION_DAYS,
            review_interval_days: 90,
            audit_rights: true,
            security_updates_required: true,
            terminate_on_noncompliance: true,
        }
    }
}

/// A term that HIPAA does not allow, with the attribute that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermViolation {
    /// The `hipaa_license` attribute at fault, e.g. `breach_notification_days`.
    pub attribute: &'static str,
    pub message: String,
    /// The 45 CFR paragraph the term breaks.
    pub citation: &'static str,
}

impl LicenseTerms {
    /// The terms that break HIPAA or cannot be met, in attribute order.
    pub fn violations(&self) -> Vec<TermViolation> {
        let mut found = Vec::new();

        if self.min_tls_version < TlsVersion::Tls12 {
            found.push(TermViolation {
                attribute: "min_tls_version",
                message: format!(
                    "TLS {} is not acceptable for PHI in transit; use \"1.2\" or \"1.3\"",
                    self.min_tls_version
                ),
                citation: "164.312(e)(2)(ii)",
            });
        }
        if !(1..=DEFAULT_KEY_ROTATION_DAYS).contains(&self.key_rotation_days) {
            found.push(TermViolation {
                attribute: "key_rotation_days",
                message: format!(
                    "keys must rotate at least every {DEFAULT_KEY_ROTATION_DAYS} days, got {}",
                    self.key_rotation_days
                ),
                citation: "164.312(a)(2)(iv)",
            });
        }
        if let Some(days) = self.log_retention_days {
            if days < MIN_LOG_RETENTION_DAYS {
                found.push(TermViolation {
                    attribute: "log_retention_days",
                    message: format!(
                        "audit logs are documentation that must be kept six years \
                         ({MIN_LOG_RETENTION_DAYS} days), got {days}"
                    ),
                    citation: "164.316(b)(2)(i)",
                });
            }
        }
        if self.incident_response_hours == Some(0) {
            found.push(TermViolation {
                attribute: "incident_response_hours",
                message: "incident response time must be at least one hour".to_string(),
                citation: "164.308(a)(6)(ii)",
            });
        }
        if self.breach_notification_days > MAX_BREACH_NOTIFICATION_DAYS {
            found.push(TermViolation {
                attribute: "breach_notification_days",
                message: format!(
                    "a breach must be reported within {MAX_BREACH_NOTIFICATION_DAYS} days of \
                     discovery, got {}",
                    self.breach_notification_days
                ),
                citation: "164.410(b)",
            });
        }
        if self.review_interval_days == 0 || self.review_interval_days > 365 {
            found.push(TermViolation {
                attribute: "review_interval_days",
                message: format!(
                    "security reviews must happen at least once a year, got every {} days",
                    self.review_interval_days
                ),
                citation: "164.308(a)(8)",
            });
        }
        if !self.terminate_on_noncompliance {
            found.push(TermViolation {
                attribute: "terminate_on_noncompliance",
                message: "the license must let the covered entity terminate it when its terms \
                          are broken"
                    .to_string(),
                citation: "164.314(a)(1)",
            });
        }
        found
    }

    /// The terms with every one HIPAA forbids replaced by HIPAA's own limit: a license cannot
    /// make the rules weaker than the regulation. [`LicenseTerms::violations`] says which terms
    /// were replaced.
    pub fn within_hipaa(&self) -> LicenseTerms {
        LicenseTerms {
            min_tls_version: self.min_tls_version.max(TlsVersion::Tls12),
            key_rotation_days: self.key_rotation_days.clamp(1, DEFAULT_KEY_ROTATION_DAYS),
            breach_notification_days: self
                .breach_notification_days
                .min(MAX_BREACH_NOTIFICATION_DAYS),
            log_retention_days: self
                .log_retention_days
                .map(|days| days.max(MIN_LOG_RETENTION_DAYS)),
            review_interval_days: self.review_interval_days.clamp(1, 365),
            terminate_on_noncompliance: true,
            ..self.clone()
        }
    }

    /// The strictest terms that satisfy both licenses: where two licenses apply to one
    /// configuration, a resource must meet both.
    pub fn strictest(&self, other: &LicenseTerms) -> LicenseTerms {
        LicenseTerms {
            min_tls_version: self.min_tls_version.max(other.min_tls_version),
            customer_managed_keys: self.customer_managed_keys || other.customer_managed_keys,
            key_rotation_days: self.key_rotation_days.min(other.key_rotation_days),
            mfa_required: self.mfa_required || other.mfa_required,
            log_retention_days: max_option(self.log_retention_days, other.log_retention_days),
            incident_response_hours: min_option(
                self.incident_response_hours,
                other.incident_response_hours,
            ),
            breach_notification_days: self
                .breach_notification_days
                .min(other.breach_notification_days),
            review_interval_days: self.review_interval_days.min(other.review_interval_days),
            audit_rights: self.audit_rights || other.audit_rights,
            security_updates_required: self.security_updates_required
                || other.security_updates_required,
            terminate_on_noncompliance: self.terminate_on_noncompliance
                || other.terminate_on_noncompliance,
        }
    }
}

fn max_option(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_option(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn terms_hipaa_forbids_are_replaced_by_its_limits() {
        let weak = LicenseTerms {
            min_tls_version: TlsVersion::Tls10,
            key_rotation_days: 1000,
            breach_notification_days: 90,
            ..LicenseTerms::default()
        };
        let judged = weak.within_hipaa();
        assert_eq!(judged.min_tls_version, TlsVersion::Tls12);
        assert_eq!(judged.key_rotation_days, 365);
        assert_eq!(judged.breach_notification_days, 60);
        assert_eq!(judged.violations(), vec![]);

        let strict = LicenseTerms {
            key_rotation_days: 90,
            ..LicenseTerms::default()
        };
        assert_eq!(strict.within_hipaa(), strict);
    }

    use super::*;

    #[test]
    fn defaults_are_compliant() {
        assert_eq!(LicenseTerms::default().violations(), vec![]);
    }

    #[test]
    fn ninety_day_breach_notice_is_refused_at_its_attribute() {
        let terms = LicenseTerms {
            breach_notification_days: 90,
            ..LicenseTerms::default()
        };
        let violations = terms.violations();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].attribute, "breach_notification_days");
        assert_eq!(violations[0].citation, "164.410(b)");
    }

    #[test]
    fn strictest_takes_the_tighter_of_each_term() {
        let loose = LicenseTerms::default();
        let strict = LicenseTerms {
            customer_managed_keys: true,
            key_rotation_days: 90,
            min_tls_version: TlsVersion::Tls13,
            ..LicenseTerms::default()
        };
        let both = loose.strictest(&strict);
        assert!(both.customer_managed_keys);
        assert_eq!(both.key_rotation_days, 90);
        assert_eq!(both.min_tls_version, TlsVersion::Tls13);
    }
}
