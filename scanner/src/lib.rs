//! The `hipaa` scanner: reads Terraform configuration and plans into one resource model, learns
//! the HIPAA licensing model they declare, and judges every resource against it.

pub mod access_review;
pub mod address_hash;
pub mod audit;
pub mod cli;
pub mod context;
pub mod dates;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod files;
pub mod finding;
pub mod flows;
pub mod hcl;
pub mod links;
pub mod model;
pub mod output;
pub mod plan;
pub mod policy;
pub mod report;
pub mod rules;
pub mod runs;
pub mod settings;
pub mod suppress;
pub mod value;
pub mod workflow;
