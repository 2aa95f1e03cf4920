//! What the scanner makes of the licensing model it is given: terms HIPAA forbids, boundary
//! members that name nothing or name a bucket by its ARN, policy files, and variable values
//! of the wrong type. Each runs the real binary on a small configuration written here.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn workspace(name: &str, main_tf: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("declarations")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), main_tf).unwrap();
    dir
}

fn hipaa(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(args)
        .output()
        .expect("the hipaa binary runs")
}

fn scan_json(dir: &Path) -> Value {
    let run = hipaa(&["scan", "--format", "json", dir.to_str().unwrap()]);
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("JSON output")
}

fn rule_ids(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule_id"].as_str().unwrap(),
                f["resource"].as_str().unwrap()
            )
        })
        .collect();
    ids.sort();
    ids
}

fn notes(report: &Value) -> String {
    report["summary"]["notes"].to_string()
}

const PHI_BUCKET: &str = r#"
resource "hipaa_license" "clinic" {
  name    = "clinic"
  version = "1"
}

resource "aws_s3_bucket" "scans" {
  bucket = "clinic-scans"
}

resource "aws_s3_bucket" "copy" {
  bucket = "clinic-copy"
}

resource "aws_s3_bucket_replication_configuration" "scans" {
  bucket = aws_s3_bucket.scans.id
  role   = "arn:aws:iam::111122223333:role/replication"
  rule {
    id     = "copy"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.copy.arn
    }
  }
}
"#;

fn with_boundary(member: &str) -> String {
    format!(
        "{PHI_BUCKET}\nresource \"hipaa_boundary\" \"prod\" {{\n  license_id = \
         hipaa_license.clinic.id\n  name = \"prod\"\n  members = [{member}]\n}}\n"
    )
}

#[test]
fn a_license_weaker_than_hipaa_is_judged_by_hipaa_and_said_so() {
    let dir = workspace(
        "weak-license",
        r#"
resource "hipaa_license" "lax" {
  name              = "lax"
  version           = "1"
  key_rotation_days = 1000
  min_tls_version   = "1.0"
}

resource "aws_kms_key" "slow" {
  enable_key_rotation     = true
  rotation_period_in_days = 900
}

resource "aws_lb_listener" "old" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/a/1"
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-2016-08"
  certificate_arn   = "arn:aws:acm:us-east-1:111122223333:certificate/1"
  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/a/1"
  }
}
"#,
    );

    let report = scan_json(&dir);

    assert_eq!(
        rule_ids(&report),
        ["EIT001 aws_lb_listener.old", "KEY002 aws_kms_key.slow"]
    );
    assert!(notes(&report).contains("got 1000"), "{}", notes(&report));
    assert!(notes(&report).contains("TLS 1.0 is not acceptable"));
}

#[test]
fn license_terms_that_are_no_terms_are_noted_as_written() {
    let dir = workspace(
        "nonsense-license",
        r#"
resource "hipaa_license" "odd" {
  name              = "odd"
  version           = "1"
  key_rotation_days = -5
  min_tls_version   = "0.9"
}

resource "aws_kms_key" "slow" {
  enable_key_rotation     = true
  rotation_period_in_days = 900
}
"#,
    );

    let report = scan_json(&dir);

    // The defaults stand in: HIPAA's 365 days still judges the key.
    assert_eq!(rule_ids(&report), ["KEY002 aws_kms_key.slow"]);
    let notes = notes(&report);
    assert!(
        notes.contains("`key_rotation_days` is -5; expected a whole number"),
        "{notes}"
    );
    // The notes are JSON here, their quotes escaped.
    assert!(
        notes.contains(r#"`min_tls_version` is \"0.9\"; expected"#),
        "{notes}"
    );
    assert!(!notes.contains("got 0"), "{notes}");
}

#[test]
fn a_boundary_member_naming_nothing_is_noted() {
    let dir = workspace("typo-member", &with_boundary("aws_s3_bucket.scnas.arn"));

    let report = scan_json(&dir);

    assert!(
        notes(&report).contains("refers to aws_s3_bucket.scnas, which this configuration"),
        "{}",
        notes(&report)
    );
}

#[test]
fn a_bucket_named_by_its_arn_is_a_member_before_apply() {
    let by_reference = scan_json(&workspace(
        "member-by-reference",
        &with_boundary("aws_s3_bucket.scans.arn"),
    ));
    let by_arn = scan_json(&workspace(
        "member-by-arn",
        &with_boundary("\"arn:aws:s3:::clinic-scans\""),
    ));

    assert!(rule_ids(&by_reference).contains(&"BND001 aws_s3_bucket.copy".to_string()));
    assert_eq!(rule_ids(&by_arn), rule_ids(&by_reference));
}

#[test]
fn a_policy_file_holds_only_declarations_of_the_model() {
    let dir = workspace("policy-with-infrastructure", PHI_BUCKET);
    let policy = dir.join("policy.hcl");
    std::fs::write(
        &policy,
        "resource \"hipaa_license\" \"p\" {\n  name = \"p\"\n  version = \"1\"\n}\n\n\
         resource \"aws_s3_bucket\" \"stray\" {\n  bucket = \"stray\"\n}\n",
    )
    .unwrap();

    let run = hipaa(&[
        "scan",
        dir.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);

    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr.contains("policy.hcl:6"), "{stderr}");
    assert!(
        stderr.contains("aws_s3_bucket.stray is not a declaration"),
        "{stderr}"
    );
}

#[test]
fn a_variable_value_of_the_wrong_type_is_an_input_error() {
    let dir = workspace(
        "variable-type",
        "variable \"encrypt\" {\n  type    = bool\n  default = false\n}\n\n\
         resource \"aws_ebs_volume\" \"v\" {\n  availability_zone = \"us-east-1a\"\n  \
         size = 1\n  encrypted = var.encrypt\n}\n",
    );
    std::fs::write(dir.join("staging.tfvars"), "\nencrypt = \"perhaps\"\n").unwrap();
    let target = dir.to_str().unwrap();

    let from_cli = hipaa(&["scan", target, "--var", "encrypt=maybe"]);
    assert_eq!(from_cli.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&from_cli.stderr).contains("expected a bool"));

    let file = dir.join("staging.tfvars");
    let from_file = hipaa(&["scan", target, "--var-file", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&from_file.stderr);
    assert_eq!(from_file.status.code(), Some(2));
    assert!(stderr.contains("staging.tfvars:2"), "{stderr}");

    let fitting = hipaa(&["scan", target, "--var", "encrypt=true"]);
    assert_eq!(fitting.status.code(), Some(0));
}
