//! The generators' output is what the scanner's loaders and hcl-edit read.

use hipaa_bench::{hcl, plan};
use hipaa_scanner::model::{Project, Reference, Resource};
use hipaa_scanner::value::Value;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hipaa-gen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generate_plan(name: &str, resources: usize) -> (PathBuf, plan::PlanStats) {
    let path = scratch(name).join("plan.json");
    let file = std::fs::File::create(&path).unwrap();
    let stats = plan::write_plan(file, resources, 7).unwrap();
    (path, stats)
}

fn find<'p>(project: &'p Project, address: &str) -> &'p Resource {
    project
        .resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("no {address}"))
}

#[test]
fn a_generated_plan_loads_with_exactly_the_resources_asked_for() {
    for resources in [1, 7, 10, 11, 300] {
        let (path, stats) = generate_plan(&format!("count-{resources}"), resources);
        let project = hipaa_scanner::plan::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stats.resources, resources);
        assert_eq!(project.resources.len(), resources, "{}", path.display());
    }
}

#[test]
fn a_generated_plan_has_unknowns_secrets_deletions_and_references() {
    let (path, stats) = generate_plan("shapes", 2000);
    let project = hipaa_scanner::plan::load(&path).unwrap();
    assert!(stats.deleted > 0);
    assert!(project.resources.iter().all(|r| r.name != "legacy_exports"));

    let databases: Vec<&Resource> = project
        .resources
        .iter()
        .filter(|r| r.resource_type == "aws_db_instance")
        .collect();
    assert!(databases.len() > 50);
    assert!(databases
        .iter()
        .all(|db| db.attr("password") == &Value::Sensitive));
    let unencrypted = databases
        .iter()
        .filter(|db| db.attr("storage_encrypted") == &Value::Bool(false))
        .count();
    assert!(
        unencrypted * 5 > databases.len() && unencrypted * 2 < databases.len(),
        "{unencrypted} of {}",
        databases.len()
    );
    // Keys created in the same plan: what refers to them is unknown until apply.
    assert!(project.resources.iter().any(|r| {
        r.lookup("server_side_encryption.kms_key_arn") == [&Value::Unknown]
            || r.attr("kms_key_id") == &Value::Unknown
    }));

    let module = r#"module.tenants_0["clinic-0000"]"#;
    let table = find(&project, &format!("{module}.aws_dynamodb_table.sessions"));
    assert_eq!(
        table.references_of("server_side_encryption.kms_key_arn"),
        [Reference {
            address: "aws_kms_key.platform".into(),
            attribute: Some("arn".into()),
        }]
    );
    let logs = find(
        &project,
        &format!("{module}.module.logging.aws_cloudwatch_log_group.this"),
    );
    assert_eq!(
        logs.references_of("kms_key_id"),
        [Reference {
            address: format!("{module}.aws_kms_key.tenant"),
            attribute: Some("arn".into()),
        }]
    );
    assert_eq!(logs.module, format!("{module}.module.logging"));

    let dr = project
        .resources
        .iter()
        .find(|r| r.module.starts_with("module.tenants_3["))
        .expect("a tenant of the fourth group");
    assert_eq!(dr.provider.alias.as_deref(), Some("dr"));
    assert_eq!(dr.provider.region, Some(Value::from("us-west-2")));
}

#[test]
fn the_same_seed_gives_the_same_plan() {
    let (first, _) = generate_plan("seed-a", 150);
    let (second, _) = generate_plan("seed-b", 150);
    assert_eq!(
        std::fs::read(first).unwrap(),
        std::fs::read(second).unwrap()
    );
}

fn tf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            tf_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "tf") {
            out.push(path);
        }
    }
}

#[test]
fn a_generated_tree_parses_and_uses_modules_for_each_and_dynamic_blocks() {
    let dir = scratch("tree");
    let stats = hcl::write_tree(&dir, 1000, 7).unwrap();
    assert_eq!(stats.tenants, 44);
    assert_eq!(stats.modules, 4);

    let mut files = Vec::new();
    tf_files(&dir, &mut files);
    assert_eq!(files.len(), stats.files);

    let mut calls = 0;
    let mut dynamic = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let body = hcl_edit::parser::parse_body(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        calls += body.get_blocks("module").count();
        for resource in body.get_blocks("resource") {
            dynamic += resource.body.get_blocks("dynamic").count();
        }
    }
    // Three tenant groups from the root, one logging call from each tenant module.
    assert_eq!(calls, 6);
    assert_eq!(dynamic, 9);

    let calls_text = std::fs::read_to_string(dir.join("tenants.tf")).unwrap();
    assert!(calls_text.contains("for_each = local.tenant_group_2"));
    let locals = std::fs::read_to_string(dir.join("locals.tf")).unwrap();
    assert_eq!(locals.matches("volumes_encrypted = ").count(), 44);
}
