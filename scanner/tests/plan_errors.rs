//! Plans that cannot be read give an error naming the file, the line and what was expected,
//! and never a panic.

use hipaa_scanner::error::InputError;
use hipaa_scanner::plan;
use std::path::{Path, PathBuf};

/// Writes `text` to a file of its own under the system's temporary directory.
fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hipaa-plan-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load_error(name: &str, text: &str) -> InputError {
    let path = write(name, text);
    match plan::load(&path) {
        Ok(project) => panic!("{name} loaded {} resources", project.resources.len()),
        Err(error) => {
            println!("{error}");
            assert_eq!(error.file, path);
            error
        }
    }
}

fn fixture_text() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/plan-unknown-kms-key/plan.json");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn a_truncated_plan_says_it_ends_early_and_where() {
    let text = fixture_text();
    let cut = &text[..text.len() / 2];
    let error = load_error("truncated.json", cut);

    assert!(error.message.contains("ends early"), "{error}");
    let lines = cut.lines().count() as u32;
    assert_eq!(error.line, Some(lines));
    assert!(error.column.is_some());
}

#[test]
fn text_that_is_not_json_is_refused_at_its_first_character() {
    let error = load_error(
        "text.json",
        "Terraform will perform the following actions:\n",
    );
    assert!(error.message.contains("not valid JSON"), "{error}");
    assert_eq!((error.line, error.column), (Some(1), Some(1)));
}

#[test]
fn json_that_is_not_a_plan_says_what_was_expected() {
    let error = load_error(
        "package.json",
        "{\n  \"name\": \"web\",\n  \"version\": \"1.0.0\"\n}\n",
    );
    assert!(error.message.contains("not a Terraform plan"), "{error}");
    assert!(error.message.contains("planned_values"), "{error}");
    assert_eq!(error.line, Some(1));

    let error = load_error("list.json", "[1, 2, 3]");
    assert!(error.message.contains("a Terraform plan"), "{error}");
    assert_eq!(error.line, Some(1));
}

#[test]
fn a_state_file_is_told_apart_from_a_plan() {
    let state =
        r#"{"format_version":"1.0","terraform_version":"1.11.4","values":{"root_module":{}}}"#;
    let error = load_error("state.json", state);
    assert!(error.message.contains("state, not a plan"), "{error}");
}

#[test]
fn a_field_of_the_wrong_type_is_named_with_its_line() {
    let text = "{\n  \"format_version\": \"1.2\",\n  \"planned_values\": {},\n  \
                \"resource_changes\": {\"address\": \"aws_s3_bucket.b\"}\n}\n";
    let error = load_error("wrong-type.json", text);
    assert!(error.message.contains("`resource_changes`"), "{error}");
    assert!(error.message.contains("expected a list"), "{error}");
    assert_eq!(error.line, Some(4));

    let text = fixture_text();
    let actions = "\"actions\": [\n          \"create\"\n        ]";
    assert!(text.contains(actions));
    let text = text.replacen(actions, "\"actions\": \"create\"", 1);
    let error = load_error("wrong-actions.json", &text);
    assert!(
        error.message.contains("resource_changes[0].change.actions"),
        "{error}"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));

    let at_top = load_error("deep-top.json", &deep);
    assert_eq!(at_top.line, Some(1));

    let ignored = format!("{{\"format_version\": \"1.2\", \"variables\": {deep}}}");
    let error = load_error("deep-ignored.json", &ignored);
    assert!(error.message.contains("not a Terraform plan"), "{error}");

    let modules = format!(
        "{{\"format_version\": \"1.2\", \"planned_values\": {{\"root_module\": {}{}}}}}",
        "{\"child_modules\": [".repeat(depth),
        "]}".repeat(depth)
    );
    let error = load_error("deep-modules.json", &modules);
    assert!(error.message.contains("nested deeper"), "{error}");
    assert!(
        error.message.contains("planned_values.root_module"),
        "{error}"
    );
    assert!(error.message.len() < 250, "{error}");

    // Inside an attribute value: the error names the value and its line.
    let text = format!(
        "{{\n\"format_version\": \"1.2\",\n\"planned_values\": {{}},\n\"resource_changes\": [{{\
         \"address\": \"aws_s3_bucket.b\", \"mode\": \"managed\", \"type\": \"aws_s3_bucket\", \
         \"name\": \"b\",\n\"change\": {{\"actions\": [\"create\"],\n\
         \"after\": {{\"tags\": {deep}}}\
         }}}}]\n}}\n"
    );
    let inside = load_error("deep-value.json", &text);
    assert!(inside.message.contains("nested deeper"), "{inside}");
    assert!(
        inside
            .message
            .contains("resource_changes[0].change.after.tags"),
        "{inside}"
    );
    assert_eq!(inside.line, Some(6));
    assert!(inside.column.unwrap() > 128);
}

#[test]
fn a_missing_file_is_named() {
    let path = std::env::temp_dir().join("hipaa-no-such-plan.json");
    let error = plan::load(&path).unwrap_err();
    assert_eq!(error.file, path);
    assert!(error.message.contains("cannot read"), "{error}");
}

#[test]
fn every_cut_of_a_plan_is_an_error_with_a_line() {
    let text = fixture_text();
    let end = text.trim_end().len();
    for cut in (0..end).step_by(5) {
        let error = load_error("cut.json", &text[..cut]);
        assert!(error.line.is_some(), "cut at {cut}: {error}");
    }
}

#[test]
fn damaged_plans_never_panic() {
    let text = fixture_text().into_bytes();
    for (at, replacement) in (0..text.len())
        .step_by(11)
        .zip([b'"', b'{', b']', b'1', b'\\'].iter().cycle())
    {
        let mut damaged = text.clone();
        damaged[at] = *replacement;
        let path = write("damaged.json", &String::from_utf8_lossy(&damaged));
        if let Err(error) = plan::load(&path) {
            assert!(!error.message.is_empty());
        }
    }
}

#[test]
fn a_directory_is_not_read_as_a_plan() {
    let dir = std::env::temp_dir();
    let error = plan::load(&dir).unwrap_err();
    assert!(error.message.contains("cannot read"), "{error}");
}
