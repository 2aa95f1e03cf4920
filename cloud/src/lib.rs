//! What needs AWS: the attestation ledger kept in S3 with SSE-KMS ([`s3_ledger`]), and the
//! collectors of the live account audit ([`inventory`]), which read S3 buckets and KMS keys
//! into plain data the scanner's rules judge. Only this crate depends on the AWS SDK.

pub mod aws;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod inventory;
pub mod s3_ledger;

pub use aws::AwsSettings;
pub use s3_ledger::{S3Ledger, S3LedgerSettings};
