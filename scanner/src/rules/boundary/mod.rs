//! The compliance boundary (45 CFR 164.312(a)(1), 164.308(b)(1), 164.314(a)(1)): PHI stays in
//! the resources a `hipaa_boundary` declares, in the regions it allows.
//!
//! These rules judge against the declarations of the scanned code, so they stay silent
//! (not applicable) when no boundary is declared.

mod boundary_member_outside_region;
mod phi_flows_outside_boundary;
mod phi_system_outside_boundary;

pub use boundary_member_outside_region::BoundaryMemberOutsideRegion;
pub use phi_flows_outside_boundary::PhiFlowsOutsideBoundary;
pub use phi_system_outside_boundary::PhiSystemOutsideBoundary;

/// Whether a resource type is one of the licensing model's own declarations, which the
/// boundary rules never judge as infrastructure.
fn is_declaration(resource_type: &str) -> bool {
    resource_type.starts_with("hipaa_")
}
