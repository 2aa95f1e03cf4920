//! The plan loader against the shared plan cases and a plan written by Terraform 1.11 itself.

use hipaa_scanner::model::{InstanceKey, Mode, Project, Reference, Resource};
use hipaa_scanner::plan;
use hipaa_scanner::value::Value;
use std::path::{Path, PathBuf};

/// A plan of this loader's own fixtures, or of the project's shared cases (`tests/cases/`).
fn fixture(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = manifest.join("tests/fixtures/plan").join(name);
    let folder = if own.exists() {
        own
    } else {
        manifest.join("../tests/cases").join(name)
    };
    folder.join("plan.json")
}

fn load(name: &str) -> Project {
    let path = fixture(name);
    plan::load(&path).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn resource<'p>(project: &'p Project, address: &str) -> &'p Resource {
    project
        .resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("no {address} among {:?}", addresses(project)))
}

fn addresses(project: &Project) -> Vec<&str> {
    project
        .resources
        .iter()
        .map(|r| r.address.as_str())
        .collect()
}

fn reference(address: &str, attribute: &str) -> Reference {
    Reference {
        address: address.to_string(),
        attribute: Some(attribute.to_string()),
    }
}

#[test]
fn a_child_module_resource_keeps_its_full_address_and_values() {
    let project = load("plan-child-module-ebs");

    assert_eq!(addresses(&project), ["module.storage.aws_ebs_volume.data"]);
    let volume = resource(&project, "module.storage.aws_ebs_volume.data");
    assert_eq!(volume.module, "module.storage");
    assert_eq!(volume.resource_type, "aws_ebs_volume");
    assert_eq!(volume.name, "data");
    assert_eq!(volume.mode, Mode::Managed);
    assert_eq!(volume.key, None);
    assert_eq!(volume.attr("encrypted"), &Value::Bool(false));
    assert_eq!(volume.attr("size"), &Value::Number(500.0));
    // The configuration leaves the key unset, so AWS picks its managed key: unset, as in HCL.
    assert_eq!(volume.attr("kms_key_id"), &Value::Null);
    assert_eq!(volume.provider.name, "aws");
    assert_eq!(volume.provider.region, Some(Value::from("us-east-1")));
    assert_eq!(volume.location, None);
    assert_eq!(project.files, vec![fixture("plan-child-module-ebs")]);
}

#[test]
fn a_sensitive_password_is_marked_and_its_content_gone() {
    let project = load("plan-sensitive-values");

    let database = resource(&project, "aws_db_instance.billing");
    assert_eq!(database.attr("password"), &Value::Sensitive);
    assert_eq!(database.attr("storage_encrypted"), &Value::Bool(false));
    assert_eq!(database.attr("username"), &Value::from("billing"));
    let printed = format!("{project:?}");
    assert!(!printed.contains("Xq7-correct-horse-battery-staple-91"));
    assert!(printed.contains("billing"));
}

#[test]
fn a_key_created_in_the_same_plan_is_unknown_but_referenced() {
    let project = load("plan-unknown-kms-key");
    assert_eq!(project.resources.len(), 6);

    let sse = resource(
        &project,
        "aws_s3_bucket_server_side_encryption_configuration.lab",
    );
    let key_path = "rule.apply_server_side_encryption_by_default.kms_master_key_id";
    assert_eq!(sse.attr(key_path), &Value::Unknown);
    assert_eq!(
        sse.attr("rule.apply_server_side_encryption_by_default.sse_algorithm"),
        &Value::from("aws:kms")
    );
    assert_eq!(
        sse.references_of(key_path),
        [reference("aws_kms_key.lab", "arn")]
    );
    assert_eq!(
        sse.references_of("bucket"),
        [reference("aws_s3_bucket.lab", "id")]
    );
    assert_eq!(sse.attr("bucket"), &Value::Unknown);

    let volume = resource(&project, "aws_ebs_volume.lab");
    assert_eq!(volume.attr("kms_key_id"), &Value::Unknown);
    assert_eq!(
        volume.references_of("kms_key_id"),
        [reference("aws_kms_key.lab", "arn")]
    );
    assert_eq!(volume.provider.region, Some(Value::from("us-east-1")));

    let license = resource(&project, "hipaa_license.main");
    assert_eq!(license.provider.name, "hipaa");
    assert_eq!(license.provider.region, None);
}

#[test]
fn terraform_output_deletes_nothing_it_keeps_and_keeps_every_kind_of_change() {
    let project = load("terraform-data");
    let found = addresses(&project);

    assert!(!found.contains(&"terraform_data.gone"), "{found:?}");
    assert_eq!(project.resources.len(), 17, "{found:?}");

    let replaced = resource(&project, "terraform_data.changing");
    assert_eq!(replaced.attr("input"), &Value::from("v2"));
    // Computed by the provider and not set by the configuration: left unset, as HCL leaves
    // them, rather than unknown.
    assert_eq!(replaced.attr("output"), &Value::Null);
    assert_eq!(replaced.attr("id"), &Value::Null);

    let deferred = resource(&project, "data.terraform_remote_state.later");
    assert_eq!(deferred.mode, Mode::Data);
    assert_eq!(deferred.attr("config.path"), &Value::Unknown);
    assert_eq!(
        deferred.references_of("config"),
        [reference("terraform_data.changing", "output")]
    );

    let read_while_planning = resource(&project, "data.terraform_remote_state.rs");
    assert_eq!(read_while_planning.mode, Mode::Data);
    assert_eq!(read_while_planning.attr("backend"), &Value::from("local"));

    let counted = resource(&project, "terraform_data.counted[1]");
    assert_eq!(counted.key, Some(InstanceKey::Index(1)));
    assert_eq!(counted.name, "counted");
    assert_eq!(
        counted.references_of("input"),
        [reference("terraform_data.key", "id")]
    );
}

#[test]
fn module_instances_with_for_each_keys_resolve_their_references() {
    let project = load("terraform-data");

    let this = resource(&project, r#"module.store["a"].terraform_data.this"#);
    assert_eq!(this.module, r#"module.store["a"]"#);
    assert_eq!(this.key, None);
    assert_eq!(this.name, "this");
    // `var.key_id` is the call's argument `terraform_data.key.id` in the root module.
    assert_eq!(
        this.references_of("input"),
        [reference("terraform_data.key", "id")]
    );
    assert_eq!(
        this.references_of("triggers_replace"),
        [reference(
            r#"module.store["a"].terraform_data.inner[0]"#,
            "id"
        )]
    );

    let inner = resource(&project, r#"module.store["b"].terraform_data.inner[0]"#);
    assert_eq!(inner.module, r#"module.store["b"]"#);
    assert_eq!(inner.key, Some(InstanceKey::Index(0)));

    // `var.key_id` of module.single is `module.store["a"].out`, the output of that instance.
    let single = resource(&project, "module.single.terraform_data.this");
    assert_eq!(
        single.references_of("input"),
        [reference(
            r#"module.store["a"].terraform_data.this"#,
            "output"
        )]
    );
}

#[test]
fn provider_aliases_follow_the_configuration_passed_into_modules() {
    let project = load("terraform-data");

    let aliased = resource(&project, "terraform_data.aliased");
    assert_eq!(aliased.provider.name, "terraform");
    assert_eq!(aliased.provider.alias.as_deref(), Some("other"));
    assert_eq!(
        aliased.references_of("input"),
        [reference("terraform_data.counted[1]", "output")]
    );

    let passed = resource(&project, r#"module.store["b"].terraform_data.modaliased"#);
    assert_eq!(passed.provider.alias.as_deref(), Some("other"));
    let default = resource(&project, "module.single.terraform_data.modaliased");
    assert_eq!(default.provider.alias, None);
}

#[test]
fn a_sensitive_variable_stays_hidden_where_terraform_marks_it() {
    let project = load("terraform-data");
    let secret = resource(&project, "terraform_data.secret");
    assert_eq!(secret.attr("input"), &Value::Sensitive);
}

#[test]
fn json_files_are_taken_for_plans() {
    assert!(plan::looks_like_plan(Path::new("out/plan.json")));
    assert!(plan::looks_like_plan(Path::new("PLAN.JSON")));
    assert!(!plan::looks_like_plan(Path::new("main.tf")));
    assert!(!plan::looks_like_plan(Path::new("plan.tfplan")));
}

#[test]
fn sections_in_another_order_give_the_same_resources() {
    let path = fixture("plan-unknown-kms-key");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let reordered = format!(
        "{{\"resource_changes\": {}, \"configuration\": {}, \"planned_values\": {}, \
         \"format_version\": \"1.2\"}}",
        plan["resource_changes"], plan["configuration"], plan["planned_values"]
    );
    let other = std::env::temp_dir().join(format!("hipaa-reordered-{}.json", std::process::id()));
    std::fs::write(&other, reordered).unwrap();

    let mut expected = plan::load(&path).unwrap().resources;
    let mut found = plan::load(&other).unwrap().resources;
    expected.sort_by(|a, b| a.address.cmp(&b.address));
    found.sort_by(|a, b| a.address.cmp(&b.address));
    assert_eq!(found.len(), 6);
    assert_eq!(found, expected);
}

/// A plan of `count` resources shaped as Terraform writes one, padded to a few kilobytes each:
/// managed resources in a module, data sources read while planning, destroyed resources, and
/// unknown and sensitive markers.
fn large_plan(count: usize) -> String {
    let padding = "x".repeat(2_500);
    let mut planned = Vec::new();
    let mut changes = Vec::new();
    let mut prior = Vec::new();
    for n in 0..count {
        let address = format!(r#"module.tenant[\"t{n}\"].aws_ebs_volume.data"#);
        let values = format!(
            r#"{{"description":"{padding}","encrypted":{},"password":"secret{n}","size":{n},
                "tags":{{"n":"{n}"}}}}"#,
            n % 3 != 0
        );
        planned.push(format!(
            r#"{{"address":"{address}","mode":"managed","type":"aws_ebs_volume","name":"data",
                "index":"t{n}","values":{values},"sensitive_values":{{"password":true}}}}"#
        ));
        let actions = if n % 50 == 7 {
            r#"["delete"]"#
        } else {
            r#"["create"]"#
        };
        let changed = format!(
            r#"{{"address":"{address}","module_address":"module.tenant[\"t{n}\"]",
                "mode":"managed","type":"aws_ebs_volume","name":"data","index":"t{n}",
                "change":{{"actions":{actions},"before":null,"after":{values},
                "after_unknown":{{"arn":true,"kms_key_id":true}},
                "after_sensitive":{{"password":true}}}}}}"#
        );
        changes.push(changed);
        if n % 100 == 0 {
            prior.push(format!(
                r#"{{"address":"data.aws_caller_identity.c{n}","mode":"data",
                    "type":"aws_caller_identity","name":"c{n}","values":{{"account_id":"{n}"}}}}"#
            ));
        }
    }
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.11.4","variables":{{}},
          "planned_values":{{"root_module":{{"child_modules":[{{"resources":[{}],
            "address":"module.tenant"}}]}}}},
          "resource_changes":[{}],
          "prior_state":{{"format_version":"1.0","values":{{"root_module":{{"resources":[{}]}}}}}},
          "configuration":{{"root_module":{{}}}},"timestamp":"2026-01-01T00:00:00Z",
          "applyable":true,"complete":true,"errored":false}}"#,
        planned.join(","),
        changes.join(","),
        prior.join(",")
    )
}

#[test]
fn a_large_plan_file_reads_as_the_same_plan_streamed() {
    // Large enough that a plan file is read in two parts at once (see plan/split.rs).
    let text = large_plan(3_000);
    assert!(text.len() > 16 << 20, "{} bytes", text.len());
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("large-plan.json");
    std::fs::write(&path, &text).unwrap();

    let from_file = plan::load(&path).unwrap().resources;
    let streamed = plan::load_stream(&path, text.as_bytes()).unwrap().resources;

    // 3,000 volumes less the 60 destroyed, and 30 data sources.
    assert_eq!(from_file.len(), 2_940 + 30);
    let volume = from_file
        .iter()
        .find(|r| r.address == "module.tenant[\"t4\"].aws_ebs_volume.data")
        .unwrap();
    assert_eq!(volume.attr("encrypted"), &Value::Bool(true));
    assert_eq!(volume.attr("password"), &Value::Sensitive);
    assert_eq!(volume.attr("tags.n"), &Value::from("4"));
    assert_eq!(from_file, streamed);
    std::fs::remove_file(&path).unwrap();
}
