//! End-to-end runs of the real `terraform` binary against the provider built by cargo, through
//! a CLI configuration of our own with `dev_overrides` (so no `terraform init`, no registry).
//!
//! With `CI=true` a missing `terraform` fails the tests; elsewhere they are skipped with a
//! note on stderr.

use hipaa_cloud::emulator::{BucketSeed, Emulator, SeedEncryption};
use hipaa_cloud::{S3Ledger, S3LedgerSettings};
use hipaa_ledger::{Action, DirectoryLedger, Entry, LedgerBackend, Problem};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SOURCE: &str = "example.com/acme/hipaa";

/// A working directory with its own CLI configuration, removed afterwards.
struct Workspace {
    dir: PathBuf,
    /// Extra environment for terraform and so for the provider it starts.
    env: Vec<(&'static str, String)>,
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).to_string(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn terraform_available() -> bool {
    let found = Command::new("terraform").arg("version").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "terraform is not on the PATH, and CI=true requires these tests to run"
        );
        eprintln!("skipping: terraform is not on the PATH");
    }
    found
}

impl Workspace {
    fn new(name: &str) -> Workspace {
        let dir = std::env::temp_dir().join(format!("hipaa-tf-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();

        let binary = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-hipaa"));
        let plugin_dir = binary.parent().unwrap();
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n}}\n\
             disable_checkpoint = true\n",
            plugin_dir.display()
        );
        std::fs::write(dir.join("cli.tfrc"), cli_config).unwrap();
        Workspace {
            dir,
            env: Vec::new(),
        }
    }

    fn write_config(&self, body: &str) {
        let config = format!(
            "terraform {{\n  required_providers {{\n    hipaa = {{ source = \"{SOURCE}\" }}\n  \
             }}\n}}\n\n{body}"
        );
        std::fs::write(self.dir.join("main.tf"), config).unwrap();
    }

    /// A terraform command run in this workspace with its CLI configuration.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("terraform");
        command
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .args(args)
            .arg("-no-color")
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", self.dir.join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_DISABLE_PLUGIN_TLS");
        command
    }

    fn terraform(&self, args: &[&str]) -> Run {
        self.command(args)
            .output()
            .expect("running terraform")
            .into()
    }

    /// Every resource in the state: type, id and name.
    fn state_resources(&self) -> Vec<(String, String, String)> {
        let shown = self.terraform(&["show", "-json"]);
        assert_eq!(shown.code, Some(0), "{shown:?}");
        let state: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
        let resources = state["values"]["root_module"]["resources"].as_array();
        resources
            .into_iter()
            .flatten()
            .map(|resource| {
                let text =
                    |value: &serde_json::Value| value.as_str().unwrap_or_default().to_string();
                (
                    text(&resource["type"]),
                    text(&resource["values"]["id"]),
                    text(&resource["values"]["name"]),
                )
            })
            .collect()
    }

    fn apply(&self) -> Run {
        let run = self.terraform(&["apply", "-auto-approve", "-input=false"]);
        assert_eq!(run.code, Some(0), "apply failed: {run:?}");
        run
    }

    /// The idempotency check of Terraform's own acceptance tests: nothing left to do.
    fn assert_plan_empty(&self) {
        let run = self.terraform(&["plan", "-detailed-exitcode", "-input=false"]);
        assert_eq!(run.code, Some(0), "plan after apply is not empty: {run:?}");
    }

    fn ledger_dir(&self) -> PathBuf {
        self.dir.join(".hipaa-ledger")
    }

    fn ledger(&self) -> Vec<hipaa_ledger::Record> {
        DirectoryLedger::open(self.ledger_dir()).records().unwrap()
    }

    fn output(&self, name: &str) -> String {
        let run = self.terraform(&["output", "-raw", name]);
        assert_eq!(run.code, Some(0), "{run:?}");
        run.stdout
    }
}

/// Asserts that the ledger in `ledger_dir` holds a live record, under the same name, of every
/// resource in the workspace's state; returns how many there are.
fn assert_state_recorded(workspace: &Workspace, ledger_dir: &Path) -> usize {
    let ledger = DirectoryLedger::open(ledger_dir);
    let resources = workspace.state_resources();
    for (resource_type, id, name) in &resources {
        let latest = ledger.latest(resource_type, id).unwrap();
        let latest = latest.unwrap_or_else(|| panic!("{resource_type} {id} is not in the ledger"));
        assert_ne!(latest.action, Action::Retire, "{resource_type} {id}");
        assert_eq!(
            latest.attributes["name"],
            serde_json::json!(name),
            "{resource_type} {id}"
        );
    }
    resources.len()
}

fn license(extra: &str) -> String {
    format!(
        "resource \"hipaa_license\" \"main\" {{\n  name    = \"acme\"\n  version = \"2025.1\"\n\
         {extra}}}\n\noutput \"license_id\" {{\n  value = hipaa_license.main.id\n}}\n"
    )
}

/// Asserts that a failed run reports `summary` pinned to the configuration line `line`.
fn assert_error_at(run: &Run, summary: &str, line: &str) {
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains(&format!("Error: {summary}")), "{run:?}");
    let snippet = run
        .stderr
        .lines()
        .any(|text| text.contains(':') && text.trim_start_matches(['│', ' ']).contains(line));
    assert!(snippet, "error not pinned to `{line}`: {run:?}");
}

#[test]
fn license_apply_update_validate_destroy() {
    if !terraform_available() {
        return;
    }
    let workspace = Workspace::new("license");

    workspace.write_config(&license(""));
    let created = workspace.apply();
    assert!(created.stdout.contains("1 added"), "{created:?}");
    workspace.assert_plan_empty();
    let id = workspace.output("license_id");
    assert!(id.starts_with("lic-"), "{id}");

    // In place: the id stays, the ledger keeps both versions.
    workspace
        .write_config(&license("  version = \"2025.2\"\n").replace("  version = \"2025.1\"\n", ""));
    let updated = workspace.apply();
    assert!(updated.stdout.contains("1 changed"), "{updated:?}");
    assert_eq!(workspace.output("license_id"), id);
    workspace.assert_plan_empty();
    let versions: Vec<_> = workspace
        .ledger()
        .iter()
        .map(|record| (record.action, record.attributes["version"].clone()))
        .collect();
    assert_eq!(
        versions,
        vec![
            (Action::Create, serde_json::json!("2025.1")),
            (Action::Update, serde_json::json!("2025.2")),
        ]
    );

    // A term HIPAA forbids fails the plan at its attribute.
    workspace.write_config(&license("  breach_notification_days = 90\n"));
    let refused = workspace.terraform(&["plan", "-input=false"]);
    assert_error_at(
        &refused,
        "License term not allowed by HIPAA",
        "breach_notification_days = 90",
    );
    assert!(refused.stderr.contains("164.410(b)"), "{refused:?}");

    workspace.write_config(&license("  terminate_on_noncompliance = false\n"));
    let refused = workspace.terraform(&["plan", "-input=false"]);
    assert_error_at(
        &refused,
        "License term not allowed by HIPAA",
        "terminate_on_noncompliance",
    );

    // A new name cannot be changed in place.
    workspace.write_config(&license("").replace("\"acme\"", "\"acme-2\""));
    let replace = workspace.terraform(&["plan", "-input=false"]);
    assert!(replace.stdout.contains("must be replaced"), "{replace:?}");
    assert!(
        replace.stdout.contains("# forces replacement"),
        "{replace:?}"
    );

    workspace.write_config(&license(""));
    let destroyed = workspace.terraform(&["destroy", "-auto-approve", "-input=false"]);
    assert_eq!(destroyed.code, Some(0), "{destroyed:?}");
    let records = workspace.ledger();
    // Destroy applies no pending change of terms: create, update, retire.
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records.last().unwrap().action, Action::Retire);
    assert_eq!(records.last().unwrap().resource_id, id);
    let report = hipaa_ledger::verify(&workspace.ledger_dir()).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
}

#[test]
fn complete_example_stack_applies_imports_and_retires() {
    if !terraform_available() {
        return;
    }
    let workspace = Workspace::new("stack");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/provider/main.tf");
    std::fs::copy(example, workspace.dir.join("main.tf")).unwrap();

    // The example asks for the day of the latest review; without it nothing is planned.
    let unanswered = workspace.terraform(&["plan", "-input=false"]);
    assert_eq!(unanswered.code, Some(1), "{unanswered:?}");
    assert!(
        unanswered.stderr.contains("No value for required variable"),
        "{unanswered:?}"
    );
    let today =
        terraform_provider_hipaa::dates::format_date(terraform_provider_hipaa::dates::today());
    std::fs::write(
        workspace.dir.join("terraform.tfvars"),
        format!("last_review_date = \"{today}\"\n"),
    )
    .unwrap();

    let applied = workspace.apply();
    assert!(applied.stdout.contains("6 added"), "{applied:?}");
    assert_eq!(workspace.output("compliant"), "true");
    assert_eq!(workspace.output("load_balancer_min_tls"), "1.2");
    workspace.assert_plan_empty();

    // Import round trip: forget the license, import it by id, and nothing is left to do.
    let list = workspace.terraform(&["state", "show", "hipaa_phi_system.claims"]);
    assert!(list.stdout.contains("baa_ids"), "{list:?}");
    let id_line = workspace.terraform(&["state", "show", "hipaa_license.clinic"]);
    let id = id_line
        .stdout
        .lines()
        .find_map(|line| {
            line.trim().strip_prefix("id ").map(|rest| {
                rest.trim_start_matches([' ', '='])
                    .trim_matches('"')
                    .to_string()
            })
        })
        .expect("license id in state");
    let removed = workspace.terraform(&["state", "rm", "hipaa_license.clinic"]);
    assert_eq!(removed.code, Some(0), "{removed:?}");
    let imported = workspace.terraform(&["import", "-input=false", "hipaa_license.clinic", &id]);
    assert_eq!(imported.code, Some(0), "{imported:?}");
    workspace.assert_plan_empty();

    let unknown = workspace.terraform(&["import", "-input=false", "hipaa_baa.other", "baa-none"]);
    assert_ne!(unknown.code, Some(0), "{unknown:?}");

    let destroyed = workspace.terraform(&["destroy", "-auto-approve", "-input=false"]);
    assert_eq!(destroyed.code, Some(0), "{destroyed:?}");
    let records = workspace.ledger();
    let mut retired: Vec<_> = records
        .iter()
        .filter(|record| record.action == Action::Retire)
        .map(|record| record.resource_type.clone())
        .collect();
    retired.sort();
    assert_eq!(
        retired,
        [
            "hipaa_access_role",
            "hipaa_baa",
            "hipaa_boundary",
            "hipaa_license",
            "hipaa_phi_system",
            "hipaa_security_review"
        ]
    );
    assert_eq!(
        records.len(),
        12,
        "six creates and six retirements, nothing deleted"
    );
    assert!(hipaa_ledger::verify(&workspace.ledger_dir())
        .unwrap()
        .is_intact());

    // An edit behind the provider's back, say a BAA's start moved earlier, breaks the chain at
    // that record.
    let baa_record = records
        .iter()
        .find(|r| r.resource_type == "hipaa_baa")
        .expect("the BAA was recorded");
    let file = workspace
        .ledger_dir()
        .join(format!("{:020}.json", baa_record.sequence));
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen("2025-01-01", "2024-06-01", 1);
    assert_ne!(text, edited, "the record holds the agreement's dates");
    std::fs::write(&file, edited).unwrap();
    let report = hipaa_ledger::verify(&workspace.ledger_dir()).unwrap();
    assert_eq!(
        report.problems,
        [hipaa_ledger::Problem::Edited {
            sequence: baa_record.sequence
        }]
    );
}

#[test]
fn mfa_expired_agreements_and_unknown_policies_fail_the_plan() {
    if !terraform_available() {
        return;
    }
    let workspace = Workspace::new("checks");
    workspace.write_config(&license(""));
    workspace.apply();

    // A role without MFA under a license that requires it.
    let role =
        "resource \"hipaa_access_role\" \"ops\" {\n  license_id   = hipaa_license.main.id\n  \
                name         = \"ops\"\n  permissions  = [\"claims:read\"]\n  \
                mfa_required = false\n}\n";
    workspace.write_config(&format!("{}{role}", license("")));
    let refused = workspace.terraform(&["plan", "-input=false"]);
    assert_error_at(
        &refused,
        "License requires multi-factor authentication",
        "mfa_required = false",
    );

    // An agreement that has already expired.
    let expired = "resource \"hipaa_baa\" \"old\" {\n  vendor          = \"Old Vendor\"\n  \
                   services        = [\"s3\"]\n  effective_date  = \"2020-01-01\"\n  \
                   expiration_date = \"2021-01-01\"\n}\n";
    workspace.write_config(&format!("{}{expired}", license("")));
    let refused = workspace.terraform(&["plan", "-input=false"]);
    assert_error_at(
        &refused,
        "Business associate agreement expired",
        "expiration_date = \"2021-01-01\"",
    );

    // An agreement that expired after it was recorded, named by a PHI system.
    let ledger = DirectoryLedger::open(workspace.ledger_dir());
    let attributes = [
        ("vendor", serde_json::json!("Lapsed Vendor")),
        ("effective_date", serde_json::json!("2020-01-01")),
        ("expiration_date", serde_json::json!("2021-01-01")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect();
    ledger
        .append(Entry {
            action: Action::Create,
            resource_type: "hipaa_baa".to_string(),
            resource_id: "baa-lapsed".to_string(),
            attributes,
        })
        .unwrap();
    let system = "resource \"hipaa_boundary\" \"b\" {\n  license_id = hipaa_license.main.id\n  \
                  name       = \"b\"\n  regions    = [\"us-east-1\"]\n}\n\
                  resource \"hipaa_phi_system\" \"s\" {\n  license_id  = hipaa_license.main.id\n  \
                  boundary_id = hipaa_boundary.b.id\n  name        = \"s\"\n  \
                  resource    = \"aws_s3_bucket.s\"\n  handles     = [\"store\"]\n  \
                  owner       = \"team\"\n  baa_ids     = [\"baa-lapsed\"]\n}\n";
    workspace.write_config(&format!("{}{system}", license("")));
    let refused = workspace.terraform(&["plan", "-input=false"]);
    assert_error_at(
        &refused,
        "Business associate agreement expired",
        "[\"baa-lapsed\"]",
    );

    // The function names the policy it does not know.
    let call = "output \"tls\" {\n  value = provider::hipaa::tls_policy_min_version(\"NoSuchPolicy\")\n}\n";
    workspace.write_config(&format!("{}{call}", license("")));
    let refused = workspace.terraform(&["plan", "-input=false"]);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("Error: Invalid function argument"),
        "{refused:?}"
    );
    assert!(
        refused
            .stderr
            .contains("\"NoSuchPolicy\" is not in the TLS policy"),
        "{refused:?}"
    );

    // Retired out of band (another run destroyed it): read finds it gone, and the plan
    // creates it again.
    workspace.write_config(&license(""));
    let id = workspace.output("license_id");
    ledger
        .append(Entry {
            action: Action::Retire,
            resource_type: "hipaa_license".to_string(),
            resource_id: id,
            attributes: Default::default(),
        })
        .unwrap();
    let recreate = workspace.terraform(&["plan", "-detailed-exitcode", "-input=false"]);
    assert_eq!(recreate.code, Some(2), "{recreate:?}");
    assert!(
        recreate
            .stdout
            .contains("hipaa_license.main will be created"),
        "{recreate:?}"
    );
}

#[test]
fn two_runs_at_once_share_one_intact_ledger() {
    if !terraform_available() {
        return;
    }
    let shared = Workspace::new("shared-ledger");
    let ledger_dir = shared.dir.join("ledger");
    let runs: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|name| {
            let workspace = Workspace::new(&format!("concurrent-{name}"));
            workspace.write_config(&format!(
                "provider \"hipaa\" {{\n  ledger_dir = \"{}\"\n}}\n\n{}",
                ledger_dir.display(),
                licenses_and_boundaries(name)
            ));
            std::thread::spawn(move || {
                workspace.apply();
                workspace
            })
        })
        .collect();
    let workspaces: Vec<Workspace> = runs.into_iter().map(|run| run.join().unwrap()).collect();

    let report = hipaa_ledger::verify(&ledger_dir).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 20);
    // Every record is there, each exactly once: ten resources of each configuration.
    let mut recorded: Vec<String> = DirectoryLedger::open(&ledger_dir)
        .records()
        .unwrap()
        .iter()
        .map(|record| format!("{} {}", record.resource_type, record.attributes["name"]))
        .collect();
    recorded.sort();
    let mut expected: Vec<String> = ["first", "second"]
        .iter()
        .flat_map(|name| {
            let licenses = (0..6).map(move |n| format!("hipaa_license \"{name}-{n}\""));
            let boundaries = (0..4).map(move |n| format!("hipaa_boundary \"{name}-b{n}\""));
            licenses.chain(boundaries)
        })
        .collect();
    expected.sort();
    assert_eq!(recorded, expected);
    for workspace in &workspaces {
        assert_eq!(assert_state_recorded(workspace, &ledger_dir), 10);
        workspace.assert_plan_empty();
    }
}

/// Six licenses and four boundaries, each bound to one of the licenses, all named after
/// `name`.
fn licenses_and_boundaries(name: &str) -> String {
    format!(
        "resource \"hipaa_license\" \"many\" {{\n  count   = 6\n  \
         name    = \"{name}-${{count.index}}\"\n  version = \"1\"\n}}\n\n\
         resource \"hipaa_boundary\" \"many\" {{\n  count      = 4\n  \
         license_id = hipaa_license.many[count.index].id\n  \
         name       = \"{name}-b${{count.index}}\"\n  regions    = [\"us-east-1\"]\n}}\n"
    )
}

/// The diagnostics of a run made with `-json`, in the order Terraform reported them.
fn diagnostics_of(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["type"] == "diagnostic")
        .map(|message| message["diagnostic"].clone())
        .collect()
}

/// A license, a boundary, an agreement in force and a PHI system it covers.
fn agreement_stack(expiration_date: &str, with_agreement: bool) -> String {
    let agreement = format!(
        "resource \"hipaa_baa\" \"vendor\" {{\n  vendor          = \"Claims Vendor\"\n  \
         services        = [\"s3\"]\n  effective_date  = \"2024-01-01\"\n  \
         expiration_date = \"{expiration_date}\"\n}}\n\n"
    );
    let baa_ids = if with_agreement {
        "[hipaa_baa.vendor.id]"
    } else {
        "[]"
    };
    format!(
        "{}\nresource \"hipaa_boundary\" \"b\" {{\n  license_id = hipaa_license.main.id\n  \
         name       = \"b\"\n  regions    = [\"us-east-1\"]\n}}\n\n{}\
         resource \"hipaa_phi_system\" \"claims\" {{\n  license_id  = hipaa_license.main.id\n  \
         boundary_id = hipaa_boundary.b.id\n  name        = \"claims\"\n  \
         resource    = \"aws_s3_bucket.claims\"\n  handles     = [\"store\"]\n  \
         owner       = \"team\"\n  baa_ids     = {baa_ids}\n}}\n",
        license(""),
        if with_agreement {
            agreement
        } else {
            String::new()
        },
    )
}

/// The last day of the agreement in [`lapsed_stack`], long past.
const LAPSED_ON: &str = "2024-12-31";

/// A stack whose agreement was in force when it was applied and has expired since. A test
/// cannot wait for the calendar, so the lapse is recorded the way a later run of the same
/// configuration would find it: the ledger's newest record of the agreement and the
/// configuration both carry an expiration date that is now past.
fn lapsed_stack(name: &str) -> Workspace {
    let workspace = Workspace::new(name);
    workspace.write_config(&agreement_stack("2099-12-31", true));
    workspace.apply();

    let ledger = DirectoryLedger::open(workspace.ledger_dir());
    let recorded = workspace
        .ledger()
        .into_iter()
        .find(|record| record.resource_type == "hipaa_baa")
        .expect("the agreement was recorded");
    let mut attributes = recorded.attributes.clone();
    attributes.insert("expiration_date".to_string(), serde_json::json!(LAPSED_ON));
    ledger
        .append(Entry {
            action: Action::Update,
            resource_type: "hipaa_baa".to_string(),
            resource_id: recorded.resource_id,
            attributes,
        })
        .unwrap();
    workspace.write_config(&agreement_stack(LAPSED_ON, true));
    workspace
}

fn retired_types(workspace: &Workspace) -> Vec<String> {
    let mut retired: Vec<String> = workspace
        .ledger()
        .into_iter()
        .filter(|record| record.action == Action::Retire)
        .map(|record| record.resource_type)
        .collect();
    retired.sort();
    retired
}

#[test]
fn an_expired_agreement_warns_refuses_changes_and_is_destroyed() {
    if !terraform_available() {
        return;
    }
    let workspace = lapsed_stack("lapsed-destroy");

    // Unchanged, the agreement and the system naming it plan nothing and say what to do.
    let plan = workspace.terraform(&["plan", "-detailed-exitcode", "-input=false", "-json"]);
    assert_eq!(plan.code, Some(0), "{plan:?}");
    let mut warnings: Vec<(String, String)> = diagnostics_of(&plan)
        .into_iter()
        // Only warnings about resources; the dev_overrides one has no address.
        .filter(|d| d["severity"] == "warning" && d["address"].is_string())
        .map(|d| {
            (
                d["address"].as_str().unwrap_or_default().to_string(),
                d["summary"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // Terraform reports them in no fixed order.
    warnings.sort();
    let summary = "Business associate agreement expired".to_string();
    assert_eq!(
        warnings,
        [
            ("hipaa_baa.vendor".to_string(), summary.clone()),
            ("hipaa_phi_system.claims".to_string(), summary)
        ],
        "{plan:?}"
    );
    for advice in [
        "`expiration_date`",
        "`terraform destroy -target`",
        "unchanged",
    ] {
        assert!(plan.stdout.contains(advice), "{advice}: {plan:?}");
    }

    // A change to the expired agreement is refused.
    workspace
        .write_config(&agreement_stack(LAPSED_ON, true).replace("[\"s3\"]", "[\"s3\", \"rds\"]"));
    let refused = workspace.terraform(&["plan", "-input=false"]);
    assert_error_at(
        &refused,
        "Business associate agreement expired",
        &format!("expiration_date = \"{LAPSED_ON}\""),
    );

    workspace.write_config(&agreement_stack(LAPSED_ON, true));
    let destroyed = workspace.terraform(&["destroy", "-auto-approve", "-input=false"]);
    assert_eq!(destroyed.code, Some(0), "{destroyed:?}");
    assert_eq!(
        retired_types(&workspace),
        [
            "hipaa_baa",
            "hipaa_boundary",
            "hipaa_license",
            "hipaa_phi_system"
        ]
    );
}

#[test]
fn an_expired_agreement_is_destroyed_by_target_or_removed_from_the_configuration() {
    if !terraform_available() {
        return;
    }
    let targeted = lapsed_stack("lapsed-target");
    let destroyed = targeted.terraform(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-target=hipaa_baa.vendor",
    ]);
    assert_eq!(destroyed.code, Some(0), "{destroyed:?}");
    // The system naming the agreement depends on it, so it goes too.
    assert_eq!(retired_types(&targeted), ["hipaa_baa", "hipaa_phi_system"]);

    let removed = lapsed_stack("lapsed-remove");
    removed.write_config(&agreement_stack(LAPSED_ON, false));
    let applied = removed.apply();
    assert!(
        applied.stdout.contains("0 added, 1 changed, 1 destroyed"),
        "{applied:?}"
    );
    assert_eq!(retired_types(&removed), ["hipaa_baa"]);
    removed.assert_plan_empty();
}

#[test]
fn a_bad_value_gets_one_clear_error() {
    if !terraform_available() {
        return;
    }
    let workspace = Workspace::new("one-error");
    let cases = [
        (
            license("  min_tls_version = \"1.1\"\n"),
            "License term not allowed by HIPAA",
            "TLS 1.1 is not acceptable for PHI in transit",
        ),
        (
            "resource \"hipaa_baa\" \"b\" {\n  vendor          = \"Vendor\"\n  \
             services        = [\"s3\"]\n  effective_date  = \"2026-02-30\"\n  \
             expiration_date = \"2099-12-31\"\n}\n"
                .to_string(),
            "Date does not exist",
            "\"2026-02-30\" names day 30, which does not exist: February 2026 has 28 days.",
        ),
    ];
    for (config, summary, detail) in cases {
        workspace.write_config(&config);
        let run = workspace.terraform(&["validate", "-json"]);
        assert_eq!(run.code, Some(1), "{run:?}");
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let errors: Vec<(&str, &str)> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| {
                (
                    d["summary"].as_str().unwrap_or_default(),
                    d["detail"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(errors.len(), 1, "{run:?}");
        assert_eq!(errors[0].0, summary, "{run:?}");
        assert!(errors[0].1.contains(detail), "{run:?}");
    }
}

/// A versioned bucket in the emulator whose default encryption is SSE-KMS; returns the ledger
/// settings that reach it and the `ledger` block that says the same to the provider.
fn s3_ledger_bucket(moto: &Emulator, bucket: &str) -> (S3LedgerSettings, String) {
    let key = moto.create_key("ledger", true);
    moto.seed_bucket(&BucketSeed {
        name: bucket.to_string(),
        encryption: SeedEncryption::Kms(Some(key.clone())),
        versioning: true,
        ..BucketSeed::default()
    });
    let block = format!(
        "ledger {{\n    s3_bucket  = \"{bucket}\"\n    prefix     = \"prod\"\n    \
         kms_key_id = \"{key}\"\n    region     = \"us-east-1\"\n    \
         endpoint   = \"{}\"\n  }}",
        moto.endpoint()
    );
    let settings = S3LedgerSettings {
        bucket: bucket.to_string(),
        prefix: "prod".to_string(),
        kms_key_id: Some(key),
        aws: moto.settings(),
    };
    (settings, block)
}

fn emulator() -> Option<Emulator> {
    Emulator::start(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

#[test]
fn the_example_stack_keeps_its_ledger_in_s3_and_an_edit_there_fails_verification() {
    if !terraform_available() {
        return;
    }
    let Some(moto) = emulator() else { return };
    let (settings, block) = s3_ledger_bucket(&moto, "acme-ledger");
    let mut workspace = Workspace::new("s3-stack");
    workspace.env = moto.env();
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/provider/main.tf"),
    )
    .unwrap();
    let today =
        terraform_provider_hipaa::dates::format_date(terraform_provider_hipaa::dates::today());
    let example = example.replace("ledger_dir = \".hipaa-ledger\"", &block);
    std::fs::write(workspace.dir.join("main.tf"), example).unwrap();
    std::fs::write(
        workspace.dir.join("terraform.tfvars"),
        format!("last_review_date = \"{today}\"\n"),
    )
    .unwrap();

    let applied = workspace.apply();
    assert!(applied.stdout.contains("6 added"), "{applied:?}");
    assert_eq!(workspace.output("compliant"), "true");
    workspace.assert_plan_empty();
    assert!(!workspace.ledger_dir().exists(), "nothing is kept locally");

    // The provider's own log, at its most talkative, holds no credential.
    let log_path = workspace.dir.join("provider.log");
    workspace.env.push(("TF_LOG_PROVIDER", "TRACE".to_string()));
    workspace
        .env
        .push(("TF_LOG_PATH", log_path.display().to_string()));
    let traced = workspace.terraform(&["plan", "-input=false"]);
    assert_eq!(traced.code, Some(0), "{traced:?}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("ledger configured"),
        "the provider logged nothing"
    );
    assert!(!log.contains(hipaa_cloud::emulator::SECRET_KEY));

    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    let report = ledger.verify().unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 6);
    let third = moto.get_object("acme-ledger", "prod/00000000000000000003.json");
    assert_eq!(third.encryption.as_deref(), Some("aws:kms"));
    assert_eq!(third.kms_key_id, settings.kms_key_id);

    // Backdate the record by a day: the kind of edit a hash must catch.
    let mut record: serde_json::Value = serde_json::from_str(&third.text).unwrap();
    let recorded_at = record["recorded_at"].as_u64().unwrap();
    record["recorded_at"] = serde_json::json!(recorded_at - 86_400);
    let edited = record.to_string();
    moto.put_object("acme-ledger", "prod/00000000000000000003.json", &edited);
    let report = ledger.verify().unwrap();
    assert!(!report.is_intact());
    assert!(
        report.problems.contains(&Problem::Edited { sequence: 3 }),
        "{:?}",
        report.problems
    );
}

#[test]
fn two_applies_at_once_keep_every_record_in_one_s3_ledger() {
    if !terraform_available() {
        return;
    }
    let Some(moto) = emulator() else { return };
    let (settings, block) = s3_ledger_bucket(&moto, "acme-ledger");
    let runs: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|name| {
            let mut workspace = Workspace::new(&format!("s3-concurrent-{name}"));
            workspace.env = moto.env();
            workspace.write_config(&format!(
                "provider \"hipaa\" {{\n  {block}\n}}\n\n\
                 resource \"hipaa_license\" \"many\" {{\n  count   = 10\n  \
                 name    = \"{name}-${{count.index}}\"\n  version = \"1\"\n}}\n"
            ));
            std::thread::spawn(move || {
                workspace.apply();
                workspace
            })
        })
        .collect();
    let workspaces: Vec<Workspace> = runs.into_iter().map(|run| run.join().unwrap()).collect();

    let ledger = S3Ledger::open_with(&moto.sdk_config(), &settings);
    let report = ledger.verify().unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 20);
    let mut names: Vec<String> = ledger
        .records()
        .unwrap()
        .iter()
        .map(|record| record.attributes["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let mut expected: Vec<String> = ["first", "second"]
        .iter()
        .flat_map(|name| (0..10).map(move |n| format!("{name}-{n}")))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    for workspace in &workspaces {
        workspace.assert_plan_empty();
    }
}

#[test]
fn a_ledger_bucket_without_sse_kms_is_refused_with_the_reason() {
    if !terraform_available() {
        return;
    }
    let Some(moto) = emulator() else { return };
    moto.seed_bucket(&BucketSeed {
        name: "acme-plain".to_string(),
        encryption: SeedEncryption::S3Managed,
        ..BucketSeed::default()
    });
    let mut workspace = Workspace::new("s3-refused");
    workspace.env = moto.env();
    workspace.write_config(&format!(
        "provider \"hipaa\" {{\n  ledger {{\n    s3_bucket  = \"acme-plain\"\n    \
         kms_key_id = \"alias/ledger\"\n    endpoint   = \"{}\"\n  }}\n}}\n\n{}",
        moto.endpoint(),
        license("")
    ));

    let run = workspace.terraform(&["plan", "-input=false"]);

    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("Error: Ledger bucket refused"),
        "{run:?}"
    );
    let flat = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("s3://acme-plain: the bucket has default encryption AES256, not SSE-KMS"),
        "{run:?}"
    );
}

/// splitmix64: kill moments that can be replayed from the seed printed with a failure.
struct KillMoments(u64);

impl KillMoments {
    fn next_millis(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        low + (z ^ (z >> 31)) % (high - low)
    }
}

/// The providers running now that `terraform` (pid `host`) launched, by pid, with their socket
/// directories. A provider names its socket directory after its pid; the parent pid in
/// `/proc` confirms it is this run's.
fn providers_of(host: u32, sockets: &Path) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(sockets) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?.to_string();
            let pid: u32 = name
                .strip_prefix("hipaa-plugin-")?
                .split('-')
                .next()?
                .parse()
                .ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces; the fields after its closing parenthesis don't.
            let parent: u32 = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (parent == host).then_some((pid, path))
        })
        .collect()
}

/// How many records (and files being written) the ledger directory holds now.
fn record_count(ledger_dir: &Path) -> usize {
    std::fs::read_dir(ledger_dir).map_or(0, |entries| entries.count())
}

/// Waits (bounded) until `path` is gone; whether it went.
fn wait_until_gone(path: &Path) -> bool {
    for _ in 0..200 {
        if !path.exists() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn applies_killed_at_random_moments_leave_a_whole_ledger_that_a_clean_apply_completes() {
    if !terraform_available() {
        return;
    }
    let mut workspace = Workspace::new("killed");
    let sockets = workspace.dir.join("sockets");
    std::fs::create_dir_all(&sockets).unwrap();
    workspace
        .env
        .push(("PLUGIN_UNIX_SOCKET_DIR", sockets.display().to_string()));
    let seed = std::env::var("HIPAA_KILL_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let replay = format!("replay with HIPAA_KILL_SEED={seed}");
    let mut moments = KillMoments(seed);

    // Each round renames everything, so each apply replaces every object: retirements and
    // creations are being recorded whenever the kill comes.
    for round in 0..6 {
        workspace.write_config(&licenses_and_boundaries(&format!("round{round}")));
        let mut terraform = workspace
            .command(&["apply", "-auto-approve", "-input=false"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let host = terraform.id();
        // The moment is random within the stretch that matters: once the first record of this
        // apply is written, while the others are being written.
        let recorded = record_count(&workspace.ledger_dir());
        while record_count(&workspace.ledger_dir()) == recorded
            && terraform.try_wait().unwrap().is_none()
        {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let delay = moments.next_millis(0, 150);
        std::thread::sleep(std::time::Duration::from_millis(delay));

        // Even rounds kill the provider Terraform is talking to, odd rounds Terraform itself.
        let providers = providers_of(host, &sockets);
        let kill_provider = round % 2 == 0 && !providers.is_empty();
        if kill_provider {
            for (pid, _) in &providers {
                let killed = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .unwrap();
                // On a slow machine the apply may have finished between listing the provider
                // and killing it; a provider already gone leaves this round a plain apply.
                let gone = !Path::new(&format!("/proc/{pid}")).exists();
                assert!(
                    killed.success() || gone,
                    "round {round}: kill {pid}; {replay}"
                );
            }
        } else {
            terraform.kill().unwrap();
        }
        terraform.wait().unwrap();

        for (pid, socket_dir) in providers {
            if kill_provider {
                // Killed, it could not remove its socket directory.
                let _ = std::fs::remove_dir_all(socket_dir);
            } else {
                // Its host gone, a provider stops by itself.
                assert!(
                    wait_until_gone(&socket_dir),
                    "round {round}: provider {pid} outlived terraform; {replay}"
                );
            }
        }
        if workspace.ledger_dir().exists() {
            let report = hipaa_ledger::verify(&workspace.ledger_dir()).unwrap();
            assert!(
                report.is_intact(),
                "round {round}, killed after {delay} ms: {:?}; {replay}",
                report.problems
            );
        }
    }

    // A clean apply converges, and every object in the state has its record.
    workspace.apply();
    workspace.assert_plan_empty();
    let report = hipaa_ledger::verify(&workspace.ledger_dir()).unwrap();
    assert!(report.is_intact(), "{:?}; {replay}", report.problems);
    assert_eq!(
        assert_state_recorded(&workspace, &workspace.ledger_dir()),
        10,
        "{replay}"
    );
}
