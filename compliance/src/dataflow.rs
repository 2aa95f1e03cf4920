//! The attributes along which a resource copies its data to another resource: replication,
//! snapshot and backup copies, log delivery, subscriptions and stream destinations.
//!
//! When the source holds PHI, the destination holds PHI too, and must be inside the compliance
//! boundary. Each row names the resource type that declares the flow, the attribute that names
//! the source and the attribute that names the destination.

use serde::Serialize;

/// One kind of data flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataFlow {
    /// The resource type that declares the flow.
    pub resource_type: &'static str,
    /// Dotted attribute path naming the source; `None` when the declaring resource is the source.
    pub source: Option<&'static str>,
    /// Dotted attribute path naming the destination.
    pub destination: &'static str,
    /// What the flow is, for messages: "replication", "log delivery", ...
    pub kind: &'static str,
}

/// Every flow the boundary rules follow.
pub const FLOWS: &[DataFlow] = &[];

/// The flows a resource type declares.
pub fn flows_of(resource_type: &str) -> impl Iterator<Item = &'static DataFlow> + '_ {
    FLOWS
        .iter()
        .filter(move |flow| flow.resource_type == resource_type)
}
