//! Loads the project's Terraform test cases and checks addresses, values, references and lines.

use hipaa_scanner::hcl::{load, load_policy_file, HclOptions};
use hipaa_scanner::links::Index;
use hipaa_scanner::model::{InstanceKey, Mode, Project, Reference, Resource};
use hipaa_scanner::policy::Policy;
use hipaa_scanner::value::Value;
use std::path::{Path, PathBuf};

/// A fixture of this loader's own, or one of the project's shared cases (`tests/cases/`).
fn fixture(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = manifest.join("tests/fixtures/hcl").join(name);
    if own.exists() {
        own
    } else {
        manifest.join("../tests/cases").join(name)
    }
}

fn load_case(name: &str) -> Project {
    load(&fixture(name), &HclOptions::default())
        .unwrap_or_else(|err| panic!("{name} does not load: {err}"))
}

fn resource<'a>(project: &'a Project, address: &str) -> &'a Resource {
    project
        .resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| {
            let known: Vec<&str> = project
                .resources
                .iter()
                .map(|r| r.address.as_str())
                .collect();
            panic!("no {address}; resources are {known:?}")
        })
}

fn reference(address: &str, attribute: Option<&str>) -> Reference {
    Reference {
        address: address.to_string(),
        attribute: attribute.map(str::to_string),
    }
}

/// A directory of its own under the system's temporary directory, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hipaa-hcl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

const HCL_CASES: &[&str] = &[
    "azure-gcp-core",
    "boundary-phi-replication",
    "boundary-region",
    "cloudfront-tls",
    "dynamic-block-encryption",
    "kms-rotation",
    "lb-listener-tls",
    "license-requires-cmk",
    "module-count-for-each",
    "rds-storage-encryption",
    "s3-conditional-algorithm",
    "s3-split-sse-literal-and-local",
    "s3-split-sse-references",
];

#[test]
fn every_case_loads_with_locations_and_files() {
    for case in HCL_CASES {
        let project = load_case(case);
        assert!(!project.resources.is_empty(), "{case} has no resources");
        assert!(
            project.files.iter().any(|f| f.ends_with("main.tf")),
            "{case} files: {:?}",
            project.files
        );
        for r in &project.resources {
            let location = r.location.as_ref().expect("every resource has a location");
            assert!(
                project.files.contains(&location.file),
                "{case}: {} points at a file not read",
                r.address
            );
            assert!(location.line >= 1);
            assert!(r.values.as_map().is_some(), "{}", r.address);
        }
    }
}

#[test]
fn modules_expand_with_count_and_for_each() {
    let project = load_case("module-count-for-each");
    let intake = resource(&project, "module.volumes[\"intake\"].aws_ebs_volume.this");
    assert_eq!(intake.attr("encrypted"), &Value::Bool(false));
    assert_eq!(intake.attr("tags.Name"), &Value::from("intake"));
    assert_eq!(intake.module, "module.volumes[\"intake\"]");
    assert_eq!(intake.key, None);
    let location = intake.location.as_ref().unwrap();
    assert!(
        location.file.ends_with("modules/volume/main.tf"),
        "{location}"
    );
    assert_eq!(location.line, 10);
    assert_eq!(intake.attribute_lines.get("encrypted"), Some(&13));

    let triage = resource(&project, "module.volumes[\"triage\"].aws_ebs_volume.this");
    assert_eq!(triage.attr("tags.Name"), &Value::from("triage"));

    let archive = resource(&project, "module.archive[0].aws_db_instance.this");
    assert_eq!(archive.attr("storage_encrypted"), &Value::Bool(true));
    assert_eq!(archive.attr("identifier"), &Value::from("archive"));

    assert!(
        !project
            .resources
            .iter()
            .any(|r| r.address.contains("disabled")),
        "a module with count 0 has no resources"
    );
    assert_eq!(project.resources.len(), 3);
    assert_eq!(project.files.len(), 3);
}

#[test]
fn split_s3_encryption_refers_to_its_bucket() {
    let project = load_case("s3-split-sse-references");
    let scans = resource(
        &project,
        "aws_s3_bucket_server_side_encryption_configuration.scans",
    );
    assert_eq!(
        scans.references_of("bucket"),
        &[reference("aws_s3_bucket.scans", Some("bucket"))]
    );
    assert_eq!(
        scans.attr("bucket"),
        &Value::from("acme-radiology-scans"),
        "a configured attribute of another resource is known"
    );
    assert_eq!(
        scans.references_of("rule.apply_server_side_encryption_by_default.kms_master_key_id"),
        &[reference("aws_kms_key.records", Some("key_id"))]
    );
    assert_eq!(
        scans
            .attribute_lines
            .get("rule.apply_server_side_encryption_by_default.kms_master_key_id"),
        Some(&40)
    );
    assert_eq!(scans.attr("rule.bucket_key_enabled"), &Value::Bool(true));

    let claims = resource(
        &project,
        "aws_s3_bucket_server_side_encryption_configuration.claims",
    );
    assert_eq!(claims.attr("bucket"), &Value::Unknown, "an id is computed");
    assert_eq!(
        claims.references_of("bucket"),
        &[reference("aws_s3_bucket.claims", Some("id"))]
    );

    // The rest of the scanner joins the configuration to its bucket through the reference.
    let index = Index::build(&project);
    let bucket = resource(&project, "aws_s3_bucket.claims");
    let linked = index.linked_from(bucket, "aws_s3_bucket_server_side_encryption_configuration");
    assert_eq!(linked.len(), 1);
    assert_eq!(
        linked[0].address,
        "aws_s3_bucket_server_side_encryption_configuration.claims"
    );
}

#[test]
fn locals_and_variables_give_literal_names() {
    let project = load_case("s3-split-sse-literal-and-local");
    let lab = resource(&project, "aws_s3_bucket.lab");
    assert_eq!(lab.attr("bucket"), &Value::from("acme-prod-lab-results"));
    let config = resource(
        &project,
        "aws_s3_bucket_server_side_encryption_configuration.lab",
    );
    assert_eq!(config.attr("bucket"), &Value::from("acme-prod-lab-results"));
    assert_eq!(
        config.attr("rule.apply_server_side_encryption_by_default.kms_master_key_id"),
        &Value::from("arn:aws:kms:us-east-1:111122223333:key/2222cccc-3333-4444-5555-666677778888")
    );
    assert!(config.references.is_empty());

    let exports = resource(&project, "aws_s3_bucket.exports");
    assert_eq!(
        exports.attr(
            "server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.\
             sse_algorithm"
        ),
        &Value::from("aws:kms")
    );

    let index = Index::build(&project);
    let linked = index.linked_from(lab, "aws_s3_bucket_server_side_encryption_configuration");
    assert_eq!(
        linked.len(),
        1,
        "linked by the literal name the local gives"
    );
}

#[test]
fn aliased_providers_give_their_region() {
    let project = load_case("boundary-region");
    let eu = resource(&project, "aws_db_instance.eu");
    assert_eq!(eu.provider.name, "aws");
    assert_eq!(eu.provider.alias.as_deref(), Some("eu"));
    assert_eq!(eu.provider.region, Some(Value::from("eu-west-1")));
    let us = resource(&project, "aws_db_instance.us");
    assert_eq!(us.provider.alias, None);
    assert_eq!(us.provider.region, Some(Value::from("us-east-1")));

    let boundary = resource(&project, "hipaa_boundary.us_only");
    assert_eq!(
        boundary.references_of("members"),
        &[
            reference("aws_db_instance.eu", Some("arn")),
            reference("aws_db_instance.us", Some("arn")),
        ]
    );
    let license = resource(&project, "hipaa_license.main");
    assert_eq!(license.provider.name, "hipaa");
    assert_eq!(license.provider.region, None);
}

#[test]
fn dynamic_blocks_expand_per_element() {
    let project = load_case("dynamic-block-encryption");
    let visits = resource(&project, "aws_dynamodb_table.visits");
    assert_eq!(
        visits.lookup("server_side_encryption.kms_key_arn"),
        vec![&Value::from(
            "arn:aws:kms:us-east-1:111122223333:key/1111bbbb-2222-3333-4444-555566667777"
        )]
    );
    assert_eq!(
        visits.attr("server_side_encryption.enabled"),
        &Value::Bool(true)
    );
    assert_eq!(
        visits.attribute_lines.get("server_side_encryption"),
        Some(&25)
    );
    assert_eq!(
        visits
            .attribute_lines
            .get("server_side_encryption.kms_key_arn"),
        Some(&29)
    );

    let referrals = resource(&project, "aws_dynamodb_table.referrals");
    assert!(referrals
        .lookup("server_side_encryption.enabled")
        .is_empty());
    assert_eq!(
        referrals.values.get("server_side_encryption"),
        Some(&Value::List(vec![])),
        "a dynamic block over nothing makes no block"
    );
    assert_eq!(
        referrals.attr("attribute.name"),
        &Value::from("referral_id"),
        "static blocks are lists of objects"
    );
}

#[test]
fn broken_hcl_is_an_input_error_naming_file_and_line() {
    let err = load(&fixture("malformed-hcl"), &HclOptions::default()).unwrap_err();
    assert!(err.file.ends_with("malformed-hcl/main.tf"), "{err}");
    let line = err.line.expect("a line");
    assert!((3..=4).contains(&line), "{err}");
    assert!(err.column.is_some());
    assert!(err.message.contains("expected"), "{err}");
}

#[test]
fn other_cases_read_as_written() {
    let conditional = load_case("s3-conditional-algorithm");
    let scratch_volume = resource(&conditional, "aws_ebs_volume.scratch");
    assert_eq!(scratch_volume.attr("encrypted"), &Value::Bool(false));
    let imaging = resource(
        &conditional,
        "aws_s3_bucket_server_side_encryption_configuration.imaging",
    );
    assert_eq!(
        imaging.attr("rule.apply_server_side_encryption_by_default.sse_algorithm"),
        &Value::from("AES256")
    );

    let core = load_case("azure-gcp-core");
    let rotating = resource(&core, "azurerm_key_vault_key.rotating");
    assert_eq!(
        rotating.attr("rotation_policy.automatic.time_after_creation"),
        &Value::from("P180D")
    );
    let loose = resource(&core, "google_sql_database_instance.loose");
    assert_eq!(
        loose.attr("settings.ip_configuration.ssl_mode"),
        &Value::from("ALLOW_UNENCRYPTED_AND_ENCRYPTED")
    );
    assert_eq!(loose.provider.name, "google");

    let cloudfront = load_case("cloudfront-tls");
    let portal = resource(&cloudfront, "aws_cloudfront_distribution.portal");
    assert_eq!(
        portal.attr("origin.domain_name"),
        &Value::from("portal.example.org")
    );
    assert_eq!(
        portal.attr("origin.custom_origin_config.origin_ssl_protocols"),
        &Value::List(vec!["TLSv1.2".into()])
    );

    let replication = load_case("boundary-phi-replication");
    let copy = resource(
        &replication,
        "aws_s3_bucket_replication_configuration.records",
    );
    assert_eq!(
        copy.references_of("rule.destination.bucket"),
        &[reference("aws_s3_bucket.analytics_copy", Some("arn"))]
    );

    let cmk = load_case("license-requires-cmk");
    let other = resource(
        &cmk,
        "aws_s3_bucket_server_side_encryption_configuration.other_team",
    );
    assert_eq!(other.attr("bucket"), &Value::from("other-team-bucket"));
    assert!(other.references_of("bucket").is_empty());
}

#[test]
fn variable_values_follow_terraform_precedence() {
    let dir = fixture("variables-and-tfvars");
    let project = load(&dir, &HclOptions::default()).unwrap();
    let db = resource(&project, "aws_db_instance.main");
    assert_eq!(
        db.attr("identifier"),
        &Value::from("db-staging"),
        "terraform.tfvars"
    );
    assert_eq!(
        db.attr("allocated_storage"),
        &Value::Number(20.0),
        "a.auto.tfvars.json"
    );
    let named = resource(&project, "aws_s3_bucket.named");
    assert_eq!(
        named.attr("bucket"),
        &Value::from("b-auto"),
        "auto files in name order come after terraform.tfvars"
    );
    assert_eq!(project.files.len(), 5, "{:?}", project.files);

    let with_file = HclOptions {
        var_files: vec![dir.join("extra.tfvars")],
        vars: Vec::new(),
    };
    let project = load(&dir, &with_file).unwrap();
    let db = resource(&project, "aws_db_instance.main");
    assert_eq!(
        db.attr("allocated_storage"),
        &Value::Number(30.0),
        "--var-file"
    );
    assert!(project.files.contains(&dir.join("extra.tfvars")));

    let with_vars = HclOptions {
        var_files: vec![dir.join("extra.tfvars")],
        vars: vec![
            ("size".to_string(), "40".to_string()),
            ("env".to_string(), "prod".to_string()),
            ("kms_enabled".to_string(), "true".to_string()),
        ],
    };
    let project = load(&dir, &with_vars).unwrap();
    let db = resource(&project, "aws_db_instance.main");
    assert_eq!(
        db.attr("allocated_storage"),
        &Value::Number(40.0),
        "--var wins"
    );
    assert_eq!(db.attr("identifier"), &Value::from("db-prod"));
    assert_eq!(db.attr("storage_encrypted"), &Value::Bool(true));
}

#[test]
fn sensitive_unknown_and_conditional_values() {
    let project = load_case("variables-and-tfvars");
    let db = resource(&project, "aws_db_instance.main");
    assert_eq!(db.attr("password"), &Value::Sensitive);
    assert!(
        !format!("{project:?}").contains("correct-horse-battery"),
        "the default of a sensitive variable is never kept"
    );

    let volume = resource(&project, "aws_ebs_volume.undecided");
    assert_eq!(
        volume.attr("encrypted"),
        &Value::Unknown,
        "a variable with no value"
    );
    assert_eq!(
        volume.attr("type"),
        &Value::AnyOf(vec!["gp3".into(), "io2".into()]),
        "an unknown condition offers both branches"
    );
    assert_eq!(
        volume.attr("iops"),
        &Value::Number(3000.0),
        "equal branches are one value"
    );
}

#[test]
fn a_single_file_reads_its_whole_folder() {
    let project = load(
        &fixture("variables-and-tfvars").join("main.tf"),
        &HclOptions::default(),
    )
    .unwrap();
    let db = resource(&project, "aws_db_instance.main");
    assert_eq!(db.attr("identifier"), &Value::from("db-staging"));
    assert!(project.files.iter().any(|f| f.ends_with("variables.tf")));
}

#[test]
fn references_name_instances_and_cross_modules() {
    let project = load_case("references");

    let bucket = resource(&project, "aws_s3_bucket.data[\"records\"]");
    assert_eq!(bucket.key, Some(InstanceKey::Key("records".into())));
    assert_eq!(bucket.attr("bucket"), &Value::from("acme-records"));

    let config = resource(
        &project,
        "aws_s3_bucket_server_side_encryption_configuration.data[\"imaging\"]",
    );
    assert_eq!(
        config.references_of("bucket"),
        &[reference("aws_s3_bucket.data[\"imaging\"]", None)]
    );
    assert_eq!(
        config.references_of("rule.apply_server_side_encryption_by_default.kms_master_key_id"),
        &[reference(
            "aws_kms_key.per_bucket[\"imaging\"]",
            Some("arn")
        )]
    );

    let disk = resource(&project, "aws_ebs_volume.disk[1]");
    assert_eq!(disk.key, Some(InstanceKey::Index(1)));
    assert_eq!(
        disk.references_of("kms_key_id"),
        &[reference("aws_kms_key.disk[1]", Some("arn"))]
    );
    assert_eq!(
        resource(&project, "aws_kms_key.disk[0]").attr("description"),
        &Value::from("disk 0")
    );

    let inner = resource(
        &project,
        "module.store.aws_s3_bucket_server_side_encryption_configuration.this",
    );
    assert_eq!(
        inner.references_of("bucket"),
        &[reference("module.store.aws_s3_bucket.this", Some("id"))]
    );
    assert_eq!(
        inner.references_of("rule.apply_server_side_encryption_by_default.kms_master_key_id"),
        &[reference(
            "aws_kms_key.per_bucket[\"records\"]",
            Some("arn")
        )],
        "a module argument carries the caller's reference"
    );
    let location = inner.location.as_ref().unwrap();
    assert!(location.file.ends_with("modules/store/main.tf"));
    assert_eq!(location.line, 13);

    let policy = resource(&project, "aws_s3_bucket_policy.exports");
    assert_eq!(
        policy.references_of("bucket"),
        &[reference("module.store.aws_s3_bucket.this", Some("id"))],
        "a module output carries the module's reference"
    );
    assert_eq!(
        policy.attr("policy"),
        &Value::from(r#"{"Statement":[],"Version":"2012-10-17"}"#)
    );

    let boundary = resource(&project, "hipaa_boundary.main");
    assert_eq!(
        boundary.references_of("members"),
        &[
            reference("aws_s3_bucket.data[\"imaging\"]", None),
            reference("aws_s3_bucket.data[\"records\"]", None),
            reference("module.store.aws_s3_bucket.this", Some("arn")),
        ]
    );

    let index = Index::build(&project);
    let linked = index.linked_from(
        resource(&project, "module.store.aws_s3_bucket.this"),
        "aws_s3_bucket_policy",
    );
    assert_eq!(linked.len(), 1);
}

#[test]
fn module_calls_honour_provider_mappings() {
    let project = load_case("providers-in-modules");
    let eu = resource(&project, "module.eu.aws_s3_bucket.this");
    assert_eq!(eu.provider.alias.as_deref(), Some("eu"));
    assert_eq!(eu.provider.region, Some(Value::from("eu-west-1")));
    assert_eq!(
        eu.attr("bucket"),
        &Value::from("acme-default"),
        "terraform.workspace"
    );
    let inherited = resource(&project, "module.inherited.aws_s3_bucket.this");
    assert_eq!(inherited.provider.alias, None);
    assert_eq!(
        inherited.provider.region,
        Some(Value::from("us-east-1")),
        "the default provider, its region from a variable"
    );
    let google = resource(&project, "google_storage_bucket.g");
    assert_eq!(google.provider.region, Some(Value::from("us-central1")));

    let aliased = resource(&project, "module.aliased.aws_sqs_queue.q");
    assert_eq!(aliased.provider.alias.as_deref(), Some("eu"));
    assert_eq!(aliased.provider.region, Some(Value::from("eu-west-1")));
    let unmapped = resource(&project, "module.aliased.aws_sqs_queue.default");
    assert_eq!(
        unmapped.provider.region, None,
        "a `providers` map replaces the inherited defaults"
    );
}

#[test]
fn remote_and_missing_modules_are_skipped() {
    let project = load_case("modules-remote");
    let skipped: Vec<(&str, &str)> = project
        .skipped_modules
        .iter()
        .map(|s| (s.address.as_str(), s.reason.as_str()))
        .collect();
    assert!(
        skipped.contains(&("module.vpc", "not downloaded; run terraform init")),
        "{skipped:?}"
    );
    let vpc = &project.skipped_modules[0];
    assert_eq!(vpc.source, "terraform-aws-modules/vpc/aws");
    assert!(skipped
        .iter()
        .any(|(address, reason)| *address == "module.missing" && reason.contains("not found")));

    let downloaded = resource(
        &project,
        "module.downloaded.module.inner.aws_s3_bucket.inner",
    );
    assert_eq!(downloaded.attr("bucket"), &Value::from("acme-inner"));
    assert!(downloaded
        .location
        .as_ref()
        .unwrap()
        .file
        .ends_with(".terraform/modules/downloaded/inner/main.tf"));

    let policy = resource(&project, "aws_s3_bucket_policy.p");
    assert_eq!(
        policy.attr("bucket"),
        &Value::Unknown,
        "outputs of a skipped module"
    );
}

#[test]
fn unknown_count_and_for_each_give_one_instance_and_a_note() {
    let project = load_case("unknown-expansion");
    let counted = resource(&project, "aws_ebs_volume.counted");
    assert_eq!(counted.key, None);
    assert_eq!(counted.attr("tags.Index"), &Value::Unknown);
    let each = resource(&project, "aws_s3_bucket.each");
    assert_eq!(each.attr("bucket"), &Value::Unknown);
    assert!(project
        .notes
        .iter()
        .any(|n| n.starts_with("aws_ebs_volume.counted:") && n.contains("count")));
    assert!(project
        .notes
        .iter()
        .any(|n| n.starts_with("aws_s3_bucket.each:") && n.contains("for_each")));
    assert!(!project
        .resources
        .iter()
        .any(|r| r.address.contains(".none")));

    let table = resource(&project, "aws_dynamodb_table.unknown_blocks");
    assert_eq!(table.attr("server_side_encryption"), &Value::Unknown);
    assert_eq!(
        table.references_of("server_side_encryption.kms_key_arn"),
        &[reference("aws_kms_key.tables", Some("arn"))],
        "the content of a dynamic block of unknown size still records its references"
    );
    assert_eq!(
        table
            .attribute_lines
            .get("server_side_encryption.kms_key_arn"),
        Some(&42)
    );
}

#[test]
fn a_policy_file_refers_to_the_scanned_resources() {
    let policy_project = load_policy_file(&fixture("policy/hipaa.tf")).unwrap();
    let boundary = resource(&policy_project, "hipaa_boundary.prod");
    assert_eq!(
        boundary.references_of("members"),
        &[reference("aws_s3_bucket.records", Some("arn"))]
    );
    assert_eq!(
        boundary.references_of("license_id"),
        &[reference("hipaa_license.main", Some("id"))]
    );
    assert_eq!(policy_project.files, vec![fixture("policy/hipaa.tf")]);

    let mut project = load_case("boundary-phi-replication");
    project
        .resources
        .retain(|r| !r.resource_type.starts_with("hipaa_"));
    project.merge(policy_project);
    let index = Index::build(&project);
    let policy = Policy::from_project(&project, &index);
    let declared = policy
        .boundaries
        .iter()
        .find(|b| b.address == "hipaa_boundary.prod")
        .expect("the boundary of the policy file");
    assert!(declared.member_addresses.contains("aws_s3_bucket.records"));
    assert!(declared
        .member_literals
        .contains("module.store.aws_s3_bucket.this"));
}

#[test]
fn data_sources_are_data_mode_resources() {
    let dir = scratch("data");
    std::fs::write(
        dir.join("main.tf"),
        r#"
data "aws_kms_key" "records" {
  key_id = "alias/records"
}

resource "aws_ebs_volume" "v" {
  availability_zone = "us-east-1a"
  encrypted         = true
  kms_key_id        = data.aws_kms_key.records.arn
}
"#,
    )
    .unwrap();
    let project = load(&dir, &HclOptions::default()).unwrap();
    let key = resource(&project, "data.aws_kms_key.records");
    assert_eq!(key.mode, Mode::Data);
    assert_eq!(key.attr("key_id"), &Value::from("alias/records"));
    let volume = resource(&project, "aws_ebs_volume.v");
    assert_eq!(
        volume.references_of("kms_key_id"),
        &[reference("data.aws_kms_key.records", Some("arn"))]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_inputs_are_errors_naming_the_file() {
    let err = load(Path::new("/nonexistent/hipaa/dir"), &HclOptions::default()).unwrap_err();
    assert_eq!(err.file, PathBuf::from("/nonexistent/hipaa/dir"));

    let dir = scratch("bad-inputs");
    std::fs::write(
        dir.join("main.tf"),
        b"resource \"a_b\" \"c\" {\n  x = \"\xff\"\n}\n",
    )
    .unwrap();
    let err = load(&dir, &HclOptions::default()).unwrap_err();
    assert_eq!(err.file, dir.join("main.tf"));
    assert_eq!(err.line, Some(2));
    assert!(err.message.contains("UTF-8"), "{err}");

    std::fs::write(
        dir.join("main.tf"),
        "module \"m\" {\n  source = \"./m\"\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("m")).unwrap();
    std::fs::write(
        dir.join("m/main.tf"),
        "resource \"a_b\" \"c\" {\n  x = = 1\n}\n",
    )
    .unwrap();
    let err = load(&dir, &HclOptions::default()).unwrap_err();
    assert_eq!(
        err.file,
        dir.join("m/main.tf"),
        "the module's own file is named"
    );
    assert_eq!(err.line, Some(2));

    std::fs::write(dir.join("m/main.tf"), "").unwrap();
    std::fs::write(dir.join("main.tf"), "\nmodule \"m\" {\n  name = \"x\"\n}\n").unwrap();
    let err = load(&dir, &HclOptions::default()).unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(err.message.contains("source"), "{err}");
    std::fs::write(
        dir.join("main.tf"),
        "module \"m\" {\n  source = \"./m\"\n}\n",
    )
    .unwrap();

    std::fs::write(dir.join("terraform.tfvars"), "x = 1\nblock {\n}\n").unwrap();
    let err = load(&dir, &HclOptions::default()).unwrap_err();
    assert_eq!(err.file, dir.join("terraform.tfvars"));
    assert_eq!(err.line, Some(2));

    std::fs::remove_file(dir.join("terraform.tfvars")).unwrap();
    std::fs::write(dir.join("values.auto.tfvars.json"), "{\"x\": [1,}").unwrap();
    let err = load(&dir, &HclOptions::default()).unwrap_err();
    assert_eq!(err.file, dir.join("values.auto.tfvars.json"));
    assert_eq!(err.line, Some(1));

    let err = load(&dir.join("values.auto.tfvars.json"), &HclOptions::default()).unwrap_err();
    assert!(err.message.contains("expected a directory"), "{err}");

    let empty = scratch("empty");
    let err = load(&empty, &HclOptions::default()).unwrap_err();
    assert!(err.message.contains(".tf"), "{err}");

    let missing_file = HclOptions {
        var_files: vec![dir.join("nope.tfvars")],
        vars: Vec::new(),
    };
    std::fs::remove_file(dir.join("values.auto.tfvars.json")).unwrap();
    let err = load(&dir, &missing_file).unwrap_err();
    assert_eq!(err.file, dir.join("nope.tfvars"));

    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(empty);
}

#[test]
fn ten_thousand_resources_load() {
    let dir = scratch("large");
    let mut text = String::from(
        r#"
locals {
  names = toset([for i in range(5000) : "bucket-${i}"])
}

resource "aws_s3_bucket" "many" {
  for_each = local.names
  bucket   = "acme-${each.key}"
}

resource "aws_s3_bucket_versioning" "many" {
  for_each = aws_s3_bucket.many
  bucket   = each.value.bucket
  versioning_configuration {
    status = "Enabled"
  }
}
"#,
    );
    for i in 0..200 {
        text.push_str(&format!(
            "resource \"aws_sqs_queue\" \"q{i}\" {{\n  name = \"queue-{i}\"\n  kms_master_key_id = \
             aws_kms_key.k.arn\n}}\n"
        ));
    }
    text.push_str("resource \"aws_kms_key\" \"k\" {}\n");
    std::fs::write(dir.join("main.tf"), text).unwrap();

    let project = load(&dir, &HclOptions::default()).unwrap();
    assert_eq!(project.resources.len(), 10_201);
    let versioning = resource(&project, "aws_s3_bucket_versioning.many[\"bucket-4321\"]");
    assert_eq!(versioning.attr("bucket"), &Value::from("acme-bucket-4321"));
    assert_eq!(
        versioning.references_of("bucket"),
        &[reference("aws_s3_bucket.many[\"bucket-4321\"]", None)]
    );
    let index = Index::build(&project);
    let bucket = resource(&project, "aws_s3_bucket.many[\"bucket-17\"]");
    assert_eq!(
        index.linked_from(bucket, "aws_s3_bucket_versioning").len(),
        1
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn cut_and_garbled_files_give_errors_not_panics() {
    let dir = scratch("garbled");
    for case in [
        "references",
        "dynamic-block-encryption",
        "s3-split-sse-literal-and-local",
    ] {
        let text = std::fs::read(fixture(case).join("main.tf")).unwrap();
        let noise = [b'{', b'"', b'}', b'$', b'%', b'[', b'?', b'*'];
        for cut in (0..text.len()).step_by(5) {
            // One byte turned into a brace, quote or operator, and the file cut short.
            let mut garbled = text.clone();
            garbled[cut / 2] = noise[cut % noise.len()];
            garbled.truncate(cut.max(text.len() - cut));
            std::fs::write(dir.join("main.tf"), &garbled).unwrap();
            let outcome = std::panic::catch_unwind(|| load(&dir, &HclOptions::default()));
            match outcome {
                Ok(Ok(_)) => {}
                Ok(Err(err)) => assert_eq!(err.file, dir.join("main.tf"), "{err}"),
                Err(_) => panic!("{case} cut at {cut} made the loader panic"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn files_whose_names_are_not_utf8_are_read() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    // Terraform reads them like any other file; they are named with the bad bytes replaced.
    let dir = scratch("not-utf8-names");
    let source = OsStr::from_bytes(b"bucket\xfe.tf");
    let values = OsStr::from_bytes(b"prod\xff.auto.tfvars");
    std::fs::write(
        dir.join("main.tf"),
        "variable \"name\" {\n  type = string\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(source),
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = var.name\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join(values), "name = \"phi-records\"\n").unwrap();

    let project = load(&dir, &HclOptions::default()).unwrap();
    let bucket = resource(&project, "aws_s3_bucket.b");
    assert_eq!(bucket.attr("bucket"), &Value::from("phi-records"));
    let shown = dir.join("bucket\u{fffd}.tf");
    assert_eq!(bucket.location.as_ref().map(|l| &l.file), Some(&shown));
    assert!(project.files.contains(&shown), "{:?}", project.files);
    assert!(project
        .files
        .contains(&dir.join("prod\u{fffd}.auto.tfvars")));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_key_given_twice_in_an_object_takes_its_last_value() {
    // Terraform accepts an object constructor that repeats a key; the last value wins.
    let dir = scratch("repeated-key");
    let text = r#"locals {
  listeners = {
    front = {
      protocol = "HTTP"
      port     = 80
      "protocol" = "HTTPS"
      port     = 443
    }
    front = {
      protocol = "HTTP"
      port     = 8080
      protocol = "HTTPS"
      port     = 8443
    }
  }
}

resource "aws_lb_listener" "this" {
  for_each          = local.listeners
  load_balancer_arn = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/x/1"
  port              = each.value.port
  protocol          = each.value.protocol
}
"#;
    std::fs::write(dir.join("main.tf"), text).unwrap();

    let project = load(&dir, &HclOptions::default()).expect("a repeated key is accepted");
    assert_eq!(project.resources.len(), 1);
    let listener = resource(&project, r#"aws_lb_listener.this["front"]"#);
    assert_eq!(listener.attr("protocol"), &Value::from("HTTPS"));
    assert_eq!(listener.attr("port"), &Value::Number(8443.0));
    assert_eq!(listener.location.as_ref().map(|l| l.line), Some(18));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn optional_object_attributes_read_as_null_or_their_default() {
    let project = load_case("optional-object-attributes");
    let listener = |key: &str| {
        resource(
            &project,
            &format!(r#"module.front.aws_lb_listener.this["{key}"]"#),
        )
    };

    let secure = listener("secure");
    assert_eq!(
        secure.attr("ssl_policy"),
        &Value::from("ELBSecurityPolicy-TLS13-1-2-2021-06")
    );
    assert!(secure.lookup("default_action").is_empty());

    let legacy = listener("legacy");
    assert_eq!(legacy.attr("port"), &Value::Number(8443.0));
    assert_eq!(
        legacy.attr("ssl_policy"),
        &Value::from("ELBSecurityPolicy-2016-08")
    );

    let redirect = listener("redirect");
    assert_eq!(redirect.attr("protocol"), &Value::from("HTTP"));
    assert_eq!(redirect.attr("ssl_policy"), &Value::Null);
    assert_eq!(
        redirect.attr("default_action.redirect.protocol"),
        &Value::from("HTTPS")
    );
    assert_eq!(
        redirect.attr("default_action.redirect.status_code"),
        &Value::from("HTTP_301")
    );
    assert_eq!(project.resources.len(), 3);
}

#[test]
fn a_folder_holding_only_a_plan_says_to_name_the_plan_file() {
    let dir = scratch("only-a-plan");
    std::fs::write(dir.join("plan.out.json"), "{}").unwrap();
    let err = load(&dir, &HclOptions::default()).unwrap_err();
    assert_eq!(err.file, dir);
    assert!(
        err.message.ends_with(
            "expected at least one .tf file (to scan a plan, name its file: plan.out.json)"
        ),
        "{err}"
    );

    std::fs::write(dir.join("other.json"), "{}").unwrap();
    let err = load(&dir, &HclOptions::default()).unwrap_err();
    assert!(
        err.message
            .ends_with("name its file: other.json or 1 other .json file)"),
        "{err}"
    );

    let empty = scratch("nothing");
    let err = load(&empty, &HclOptions::default()).unwrap_err();
    assert!(
        err.message.ends_with("expected at least one .tf file"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(empty);
}

/// Local modules are read ahead of their evaluation; what a scan says must not depend on it.
/// A module named by two spellings of its path is read once, under the spelling of the first
/// call evaluated, and a broken module is reported as it would be without reading ahead.
#[test]
fn modules_read_ahead_load_as_modules_read_in_turn() {
    let dir = scratch("read-ahead");
    let module = dir.join("modules/store");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("main.tf"),
        "variable \"name\" {}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = var.name\n}\n",
    )
    .unwrap();
    let nested = dir.join("modules/store/inner");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(nested.join("main.tf"), "locals {\n  a = 1\n}\n").unwrap();
    std::fs::write(
        dir.join("main.tf"),
        "module \"first\" {\n  source = \"./modules/store\"\n  name = \"one\"\n}\n\
         module \"second\" {\n  source = \"./modules/../modules/store\"\n  name = \"two\"\n}\n",
    )
    .unwrap();

    let project = load(&dir, &HclOptions::default()).unwrap();
    let files: Vec<String> = project
        .resources
        .iter()
        .map(|r| r.location.as_ref().unwrap().file.display().to_string())
        .collect();
    let expected = dir.join("modules/store/main.tf").display().to_string();
    assert_eq!(files, vec![expected.clone(), expected]);

    std::fs::write(nested.join("main.tf"), "locals {\n  a = \n}\n").unwrap();
    std::fs::write(
        module.join("main.tf"),
        "module \"inner\" {\n  source = \"./inner\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.tf"),
        "module \"first\" {\n  source = \"./modules/store\"\n}\n",
    )
    .unwrap();
    let error = load(&dir, &HclOptions::default()).unwrap_err();
    assert_eq!(error.file, dir.join("modules/store/inner/main.tf"));
    assert_eq!(error.line, Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
