//! Rust bindings of the gRPC services a Terraform provider serves: `tfplugin6.Provider`
//! (protocol 6.8, what Terraform 1.11 speaks) and go-plugin's `plugin.GRPCController`,
//! `plugin.GRPCStdio` and `plugin.GRPCBroker`.
//!
//! The `.proto` files under `proto/` are this project's own, wire-compatible with Terraform's
//! and go-plugin's definitions (same packages, names and field numbers).

#[allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
