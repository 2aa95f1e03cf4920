//! A fast hash for the tables keyed by resource addresses, types and names that loading and
//! judging build for every resource.
//!
//! The standard library's SipHash resists inputs crafted to collide, which these tables do not
//! need: their keys come from the configuration being scanned, so the worst a crafted input can
//! do is slow down the scan of itself. SipHash showed in profiles of large scans; this hash
//! takes eight bytes per step instead.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by addresses or other names from the scanned input.
pub type AddressMap<K, V> = HashMap<K, V, BuildHasherDefault<AddressHasher>>;

/// A set of addresses or other names from the scanned input.
pub type AddressSet<K> = HashSet<K, BuildHasherDefault<AddressHasher>>;

/// Multiplies in each eight-byte word after rotating the state, so that every input bit
/// reaches the high bits `HashMap` uses; the odd constant spreads them.
#[derive(Default, Clone, Copy)]
pub struct AddressHasher(u64);

const SPREAD: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl AddressHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SPREAD);
    }
}

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            self.add(u64::from_le_bytes(eight));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut eight = [0u8; 8];
            eight[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" apart from "a\0".
            self.add(u64::from_le_bytes(eight) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash_of(text: &str) -> u64 {
        BuildHasherDefault::<AddressHasher>::default().hash_one(text)
    }

    #[test]
    fn similar_addresses_hash_apart() {
        let addresses = [
            "aws_s3_bucket.a",
            "aws_s3_bucket.b",
            "aws_s3_bucket.a[0]",
            "aws_s3_bucket.a[1]",
            "module.m.aws_s3_bucket.a",
            "a",
            "a\0",
            "",
        ];
        let mut hashes: Vec<u64> = addresses.iter().map(|a| hash_of(a)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), addresses.len());
    }

    #[test]
    fn keys_spread_over_the_buckets_a_table_uses() {
        // HashMap picks buckets by the top bits: a thousand numbered addresses must land in
        // most of 1,024 buckets, as a fair hash would (about 632 of them).
        let mut used = AddressSet::default();
        for i in 0..1000 {
            used.insert(hash_of(&format!("aws_s3_bucket.b[{i}]")) >> 54);
        }
        assert!(used.len() > 550, "{}", used.len());
    }
}
