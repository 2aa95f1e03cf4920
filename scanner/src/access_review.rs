//! `hipaa access-review`: who may touch which PHI system, with which permissions, under which
//! role, with or without multi-factor authentication; one row per member, role and PHI system,
//! for a periodic access review (45 CFR 164.308(a)(4), 164.312(a)(1), 164.312(d)).
//!
//! A role is bound to a license, not to a system, so it reaches every PHI system declared under
//! the same license. A role with no members, or a license with no PHI system, still gives a row,
//! with the missing part empty, so that nothing declared is left out of the review.

use crate::evidence::{self, Declarations};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessReviewFormat {
    Csv,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessRow {
    pub member: String,
    pub role: String,
    pub permissions: Vec<String>,
    /// `None` when not known before apply.
    pub mfa_required: Option<bool>,
    pub max_session_minutes: String,
    pub phi_system: String,
    /// The resource the PHI system names (an address or a cloud identifier).
    pub resource: String,
    pub license: String,
}

/// The rows, ordered by member, role and system.
pub fn rows(declarations: &Declarations) -> Vec<AccessRow> {
    let mut rows = Vec::new();
    for role in &declarations.roles {
        let systems: Vec<_> = declarations
            .phi_systems
            .iter()
            .filter(|system| system.license_id == role.license_id)
            .map(|system| (system.name.clone(), system.resource.clone()))
            .collect();
        let systems = if systems.is_empty() {
            vec![(String::new(), String::new())]
        } else {
            systems
        };
        let members = if role.members.is_empty() {
            vec![String::new()]
        } else {
            role.members.clone()
        };
        for member in &members {
            for (system, resource) in &systems {
                rows.push(AccessRow {
                    member: member.clone(),
                    role: role.name.clone(),
                    permissions: role.permissions.clone(),
                    mfa_required: role.mfa_required,
                    max_session_minutes: role.max_session_minutes.clone(),
                    phi_system: system.clone(),
                    resource: resource.clone(),
                    license: evidence::license_name(declarations, &role.license_id),
                });
            }
        }
    }
    rows.sort_by(|a, b| {
        (&a.member, &a.role, &a.phi_system).cmp(&(&b.member, &b.role, &b.phi_system))
    });
    rows
}

pub fn render(rows: &[AccessRow], format: AccessReviewFormat) -> String {
    match format {
        AccessReviewFormat::Json => {
            let mut text = serde_json::to_string_pretty(rows).unwrap_or_default();
            text.push('\n');
            text
        }
        AccessReviewFormat::Csv => csv(rows),
    }
}

const CSV_HEADER: &[&str] = &[
    "member",
    "role",
    "permissions",
    "mfa_required",
    "max_session_minutes",
    "phi_system",
    "resource",
    "license",
];

/// RFC 4180 CSV; permissions are joined with `;` in one cell.
fn csv(rows: &[AccessRow]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for row in rows {
        let mfa = match row.mfa_required {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        let cells = [
            row.member.as_str(),
            &row.role,
            &row.permissions.join(";"),
            mfa,
            &row.max_session_minutes,
            &row.phi_system,
            &row.resource,
            &row.license,
        ];
        let cells: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Quotes a cell that needs it, and defuses one a spreadsheet would run as a formula.
fn csv_cell(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{AccessRole, License, PhiSystem};

    fn declarations() -> Declarations {
        let system = |name: &str, license: &str| PhiSystem {
            id: name.into(),
            name: name.into(),
            resource: format!("aws_s3_bucket.{name}"),
            handles: vec![],
            data_classes: vec![],
            owner: String::new(),
            license_id: license.into(),
            agreements: vec![],
        };
        let role = |name: &str, members: &[&str], mfa: bool| AccessRole {
            id: name.into(),
            name: name.into(),
            license_id: "lic".into(),
            permissions: vec!["ehr:read".into(), "ehr:write".into()],
            members: members.iter().map(|m| m.to_string()).collect(),
            mfa_required: Some(mfa),
            max_session_minutes: "60".into(),
        };
        Declarations {
            licenses: vec![License {
                id: "lic".into(),
                name: "clinic".into(),
                version: "1".into(),
                terms: vec![],
                history: vec![],
            }],
            phi_systems: vec![system("ehr", "lic"), system("other", "lic-2")],
            roles: vec![
                role("clinicians", &["group:nurses", "=cmd|' /C calc'!A0"], true),
                role("batch", &[], false),
            ],
            ..Declarations::default()
        }
    }

    #[test]
    fn each_member_gets_a_row_per_system_under_the_roles_license() {
        let rows = rows(&declarations());
        let summary: Vec<(&str, &str, &str, Option<bool>)> = rows
            .iter()
            .map(|r| {
                (
                    r.member.as_str(),
                    r.role.as_str(),
                    r.phi_system.as_str(),
                    r.mfa_required,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("", "batch", "ehr", Some(false)),
                ("=cmd|' /C calc'!A0", "clinicians", "ehr", Some(true)),
                ("group:nurses", "clinicians", "ehr", Some(true)),
            ]
        );
        assert!(rows.iter().all(|r| r.license == "clinic"));
    }

    #[test]
    fn csv_quotes_and_defuses_cells() {
        let text = render(&rows(&declarations()), AccessReviewFormat::Csv);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "member,role,permissions,mfa_required,max_session_minutes,phi_system,resource,license"
        );
        assert_eq!(
            lines[1],
            ",batch,ehr:read;ehr:write,no,60,ehr,aws_s3_bucket.ehr,clinic"
        );
        assert!(
            lines[2].starts_with("'=cmd|' /C calc'!A0,clinicians,"),
            "{}",
            lines[2]
        );
        assert_eq!(csv_cell("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
