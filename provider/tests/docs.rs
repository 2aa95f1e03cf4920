//! The committed `docs/` must be exactly what the provider's schemas and `examples/` render.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn files_under(root: &Path, dir: &Path, found: &mut BTreeSet<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(root, &path, found);
        } else {
            found.insert(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

#[test]
fn committed_docs_match_the_schema() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let docs = repository.join("docs");
    let rendered = terraform_provider_hipaa::docs::render(&repository.join("examples")).unwrap();
    let refresh = "docs are stale: run `cargo run -p terraform-provider-hipaa -- docs --out docs`";

    for (relative, expected) in &rendered {
        let committed = std::fs::read_to_string(docs.join(relative)).unwrap_or_default();
        assert!(
            committed == *expected,
            "{refresh} ({} differs)",
            relative.display()
        );
    }

    let mut committed_files = BTreeSet::new();
    files_under(&docs, &docs, &mut committed_files);
    // Guides are written by hand (the registry shows them beside the generated pages).
    committed_files.retain(|file| !file.starts_with("guides"));
    let expected_files: BTreeSet<PathBuf> = rendered.keys().cloned().collect();
    assert_eq!(committed_files, expected_files, "{refresh}");
}

#[test]
fn every_resource_page_documents_every_attribute() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let rendered = terraform_provider_hipaa::docs::render(&repository.join("examples")).unwrap();
    let license = &rendered[&PathBuf::from("resources/license.md")];
    for attribute in [
        "breach_notification_days",
        "terminate_on_noncompliance",
        "id",
    ] {
        assert!(
            license.contains(&format!("- `{attribute}` (")),
            "{attribute}"
        );
    }
    assert!(license.contains("Defaults to `60`."));
    assert!(license.contains("terraform import hipaa_license.example <id>"));
    assert!(rendered.contains_key(&PathBuf::from("functions/tls_policy_min_version.md")));
    assert!(rendered.contains_key(&PathBuf::from("data-sources/compliance_status.md")));
}

/// The scanner matches a boundary member or a PHI system's `resource` by reference, or by a
/// literal ARN, `id` or address; both attributes must say so, and the examples refer to `arn`.
#[test]
fn members_and_systems_are_described_as_the_scanner_matches_them() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let rendered = terraform_provider_hipaa::docs::render(&repository.join("examples")).unwrap();
    for (page, attribute, reference) in [
        (
            "resources/boundary.md",
            "members",
            "members = [aws_s3_bucket.claims.arn",
        ),
        (
            "resources/phi_system.md",
            "resource",
            "resource     = aws_s3_bucket.claims.arn",
        ),
    ] {
        let text = &rendered[&PathBuf::from(page)];
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("- `{attribute}` (")))
            .unwrap_or_else(|| panic!("{page} documents {attribute}"));
        for phrase in [
            "ARN (what a live audit sees) or its Terraform address",
            "refer to the resource's `arn`, e.g. `aws_s3_bucket.claims.arn`",
            "matched against a resource's ARN, its `id` and its address",
        ] {
            assert!(line.contains(phrase), "{page}: {phrase:?} in {line}");
        }
        assert!(text.contains(reference), "{page} example: {reference}");
    }
}
