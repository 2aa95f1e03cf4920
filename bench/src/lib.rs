//! Realistic Terraform inputs of any size, for measuring and exercising the scanner.
//!
//! Both generators describe the same estate: a platform account with shared KMS keys, and
//! tenants (clinics) onboarded in groups, each with a stack of storage, database, network,
//! messaging and logging resources. About a third of the settings that matter to HIPAA are
//! wrong (encryption off, weak TLS policies, key rotation off), chosen by a seeded generator so
//! that the same arguments always give the same output.

pub mod floor;
pub mod hcl;
pub mod measure;
pub mod plan;
pub mod report;

/// Tenants per module call; a call is one `for_each` over a group of tenants.
pub const TENANTS_PER_GROUP: usize = 20;

/// A small, fast, seeded generator (SplitMix64); the output only needs to look varied and be
/// reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// True with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Lowercase hex digits, as in resource ids.
    pub fn hex(&mut self, digits: usize) -> String {
        let mut out = String::with_capacity(digits);
        while out.len() < digits {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(digits);
        out
    }

    /// A random-looking UUID.
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// The TLS a tenant's load balancer listener offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerTls {
    /// HTTPS with a TLS 1.2+ policy.
    Modern,
    /// HTTPS with a policy that still allows TLS 1.0.
    Legacy,
    /// Plain HTTP.
    Plain,
}

impl ListenerTls {
    pub fn ssl_policy(self) -> Option<&'static str> {
        match self {
            ListenerTls::Modern => Some("ELBSecurityPolicy-TLS13-1-2-2021-06"),
            ListenerTls::Legacy => Some("ELBSecurityPolicy-2016-08"),
            ListenerTls::Plain => None,
        }
    }
}

/// What one tenant's stack looks like; each setting is right with probability two in three.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The `for_each` key, e.g. `clinic-0042`.
    pub key: String,
    /// The module call it belongs to, e.g. `tenants_2`.
    pub group: usize,
    pub bucket_encrypted: bool,
    /// With a customer-managed key rather than AES256.
    pub bucket_uses_kms: bool,
    pub volumes_encrypted: bool,
    pub db_encrypted: bool,
    pub db_forces_ssl: bool,
    pub key_rotation: bool,
    pub listener: ListenerTls,
    pub cdn_modern_tls: bool,
    pub table_uses_cmk: bool,
    pub queue_encrypted: bool,
    pub topic_encrypted: bool,
    pub logs_encrypted: bool,
    pub files_encrypted: bool,
    pub cache_in_transit: bool,
    pub has_cluster: bool,
    /// Onboarded by this plan: everything is created, and computed values are unknown.
    pub is_new: bool,
}

const PLACES: &[&str] = &[
    "clinic", "lab", "imaging", "pharmacy", "cardio", "ortho", "peds", "oncology", "dental",
    "rehab",
];

impl Tenant {
    /// The tenant numbered `n`, its settings drawn from `seed`.
    pub fn new(n: usize, seed: u64) -> Tenant {
        let mut rng = Rng::new(seed ^ (n as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut good = || rng.chance(2, 3);
        let bucket_encrypted = good();
        let bucket_uses_kms = good();
        let volumes_encrypted = good();
        let db_encrypted = good();
        let db_forces_ssl = good();
        let key_rotation = good();
        let listener_ok = good();
        let cdn_modern_tls = good();
        let table_uses_cmk = good();
        let queue_encrypted = good();
        let topic_encrypted = good();
        let logs_encrypted = good();
        let files_encrypted = good();
        let cache_in_transit = good();
        let mut rng = Rng::new(seed.wrapping_add(n as u64));
        let listener = match (listener_ok, rng.chance(1, 2)) {
            (true, _) => ListenerTls::Modern,
            (false, true) => ListenerTls::Legacy,
            (false, false) => ListenerTls::Plain,
        };
        Tenant {
            key: format!("{}-{n:04}", PLACES[n % PLACES.len()]),
            group: n / TENANTS_PER_GROUP,
            bucket_encrypted,
            bucket_uses_kms,
            volumes_encrypted,
            db_encrypted,
            db_forces_ssl,
            key_rotation,
            listener,
            cdn_modern_tls,
            table_uses_cmk,
            queue_encrypted,
            topic_encrypted,
            logs_encrypted,
            files_encrypted,
            cache_in_transit,
            has_cluster: rng.chance(1, 4),
            is_new: rng.chance(1, 5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_repeats_itself_for_a_seed() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut rng = Rng::new(7);
        assert_ne!(rng.next_u64(), rng.next_u64());
        assert_eq!(Rng::new(1).uuid().len(), 36);
    }

    #[test]
    fn about_a_third_of_the_settings_are_wrong() {
        let tenants: Vec<Tenant> = (0..3000).map(|n| Tenant::new(n, 42)).collect();
        let wrong = tenants.iter().filter(|t| !t.volumes_encrypted).count();
        assert!((800..1200).contains(&wrong), "{wrong} of 3000");
        let rotation_off = tenants.iter().filter(|t| !t.key_rotation).count();
        assert!(
            (800..1200).contains(&rotation_off),
            "{rotation_off} of 3000"
        );
        assert_eq!(tenants[41].group, 2);
        assert_eq!(tenants[41].key, "lab-0041");
    }
}
