//! What CI systems and editors rely on: `--help` with examples for every command, shell
//! completions, colour only on a terminal and never under NO_COLOR, the pre-commit hook and the
//! GitHub Actions guide.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hipaa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the hipaa binary runs")
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Every command path, e.g. `["ledger", "verify"]`, read from `hipaa help` itself.
fn commands(path: &[&str]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let help = stdout(&hipaa(&args));
    let Some(start) = help.find("Commands:\n") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for line in help[start + "Commands:\n".len()..].lines() {
        if !line.starts_with("  ") {
            break;
        }
        let name = line.split_whitespace().next().unwrap_or_default();
        if name.is_empty() || name == "help" {
            continue;
        }
        let mut command: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        command.push(name.to_string());
        let refs: Vec<&str> = command.iter().map(String::as_str).collect();
        let nested = commands(&refs);
        if nested.is_empty() {
            found.push(command);
        } else {
            found.extend(nested);
        }
    }
    found
}

#[test]
fn every_command_has_help_with_examples() {
    let all = commands(&[]);
    let names: Vec<String> = all.iter().map(|c| c.join(" ")).collect();
    for expected in [
        "scan",
        "report",
        "access-review",
        "rules",
        "explain",
        "ledger verify",
        "completions",
    ] {
        assert!(names.contains(&expected.to_string()), "{names:?}");
    }
    for command in &all {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.push("--help");
        let run = hipaa(&args);
        assert_eq!(run.status.code(), Some(0), "{command:?}");
        let help = stdout(&run);
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`hipaa {}` has no examples:\n{help}", command.join(" ")));
        assert!(
            examples.contains(&format!("hipaa {}", command.join(" "))),
            "`hipaa {}`'s examples do not show it:\n{help}",
            command.join(" ")
        );
    }
    assert!(stdout(&hipaa(&["--help"])).contains("Examples:\n"));
}

#[test]
fn completions_are_written_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef hipaa"),
        ("fish", "complete -c hipaa"),
    ] {
        let run = hipaa(&["completions", shell]);
        assert_eq!(run.status.code(), Some(0), "{shell}");
        let script = stdout(&run);
        assert!(script.contains(marker), "{shell}:\n{script}");
        for word in ["access-review", "no-inline-suppressions", "write-baseline"] {
            assert!(script.contains(word), "{shell} completes no {word}");
        }
    }
    assert_eq!(hipaa(&["completions", "tcsh"]).status.code(), Some(2));
}

/// Runs `hipaa` on a pseudo-terminal through `script`, so that stdout is a terminal.
fn on_terminal(no_color: Option<&str>) -> Option<String> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| Path::new(p).is_file())?;
    let target = repository().join("examples/needs-work");
    let command = format!(
        "'{}' scan '{}'",
        env!("CARGO_BIN_EXE_hipaa"),
        target.display()
    );
    let mut run = Command::new(script);
    run.args(["-q", "-e", "-c", &command, "/dev/null"]);
    run.env_remove("NO_COLOR");
    if let Some(value) = no_color {
        run.env("NO_COLOR", value);
    }
    let output = run.output().ok()?;
    Some(stdout(&output))
}

#[test]
fn colour_only_on_a_terminal_and_never_under_no_color() {
    let piped = stdout(&hipaa(&[
        "scan",
        repository().join("examples/needs-work").to_str().unwrap(),
    ]));
    assert!(piped.contains("high[EAR001]"));
    assert!(!piped.contains('\u{1b}'), "no colour into a pipe");

    let Some(terminal) = on_terminal(None) else {
        eprintln!("\n!!!!! SKIPPED: `script` is not installed; colour on a terminal is untested\n");
        return;
    };
    assert!(
        terminal.contains("\u{1b}[1;31mhigh\u{1b}[0m"),
        "{terminal:?}"
    );

    let no_color = on_terminal(Some("1")).expect("script ran a moment ago");
    assert!(no_color.contains("high[EAR001]"), "{no_color:?}");
    assert!(!no_color.contains('\u{1b}'), "{no_color:?}");
}

#[test]
fn the_pre_commit_hook_runs_hipaa_scan_on_terraform_changes() {
    let hooks = std::fs::read_to_string(repository().join(".pre-commit-hooks.yaml")).unwrap();
    let field = |name: &str| {
        hooks
            .lines()
            .map(str::trim_start)
            .map(|line| line.strip_prefix("- ").unwrap_or(line))
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in .pre-commit-hooks.yaml"))
            .to_string()
    };
    assert_eq!(field("id"), "hipaa-scan");
    assert_eq!(field("entry"), "hipaa scan");
    assert_eq!(field("language"), "system");
    assert_eq!(field("pass_filenames"), "false");
    assert_eq!(field("files"), "\\.tf$");
    let entry = field("entry");
    let mut args: Vec<&str> = entry.split_whitespace().skip(1).collect();
    args.push("--help");
    assert_eq!(hipaa(&args).status.code(), Some(0));
}

#[test]
fn the_github_actions_guide_uploads_sarif_from_commands_that_exist() {
    let guide =
        std::fs::read_to_string(repository().join("docs/guides/github-actions.md")).unwrap();
    assert!(guide.contains("uses: github/codeql-action/upload-sarif@"));
    assert!(guide.contains("security-events: write"));
    let commands: Vec<&str> = guide
        .lines()
        .filter_map(|line| line.trim().strip_prefix("run: hipaa "))
        .chain(
            guide
                .lines()
                .filter_map(|line| line.trim().strip_prefix("- run: hipaa ")),
        )
        .collect();
    assert!(commands.len() >= 3, "{commands:?}");
    for command in commands {
        let subcommand = command.split_whitespace().next().unwrap();
        let run = hipaa(&[subcommand, "--help"]);
        assert_eq!(run.status.code(), Some(0), "hipaa {command}");
        for flag in command.split_whitespace().filter(|w| w.starts_with("--")) {
            assert!(
                stdout(&run).contains(flag),
                "hipaa {subcommand} has no {flag}"
            );
        }
    }
}
