//! Compliance knowledge shared by the `hipaa` scanner and `terraform-provider-hipaa`.
//!
//! Everything here is data about HIPAA and about cloud services, kept in tables so that the
//! scanner's rules and the provider's validators agree on one answer:
//!
//! - [`calendar`]: `YYYY-MM-DD` dates as days since 1970, read the same way everywhere.
//! - [`citations`]: the 45 CFR Part 164 Subpart C standards and specifications the rules serve.
//! - [`license`]: the terms of a HIPAA licensing model, their defaults and the limits HIPAA puts
//!   on them.
//! - [`tls`]: TLS versions and every named TLS policy of the services we judge, with the lowest
//!   protocol version each one allows.
//! - [`encryption`]: per resource type, which attributes encrypt it at rest and with which key.
//! - [`dataflow`]: the resource attributes along which data (and so PHI) is copied elsewhere.

pub mod calendar;
pub mod citations;
pub mod dataflow;
pub mod encryption;
pub mod license;
pub mod tls;
