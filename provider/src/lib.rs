//! `terraform-provider-hipaa`: a Terraform provider (plugin protocol 6) declaring a HIPAA
//! licensing model, with every change kept in a tamper-evident ledger.

pub mod dates;
pub mod diagnostics;
pub mod docs;
pub mod grpc;
pub mod handshake;
pub mod log;
pub mod msgpack;
pub mod resource;
pub mod resources;
pub mod schema;
pub mod server;
pub mod tls;
pub mod value;
