//! `hipaa report` over `examples/` with a ledger written by the code the provider uses: the
//! HTML opens in headless Chromium (a screenshot is taken and the rendered DOM is read back),
//! and the Markdown says the same. The counts expected are computed here from `hipaa scan
//! --format json` and `hipaa rules --format json`, not taken from the report code.
//!
//! Chromium is installed by `.ci/run` when missing. Without it the browser checks are skipped
//! with a loud message, except under `CI=true`, where they fail.

use hipaa_ledger::{Action, DirectoryLedger, Entry, LedgerBackend};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SECTIONS: &[(&str, &str)] = &[
    ("164.308", "Administrative safeguards"),
    ("164.310", "Physical safeguards"),
    ("164.312", "Technical safeguards"),
    ("164.314", "Organizational requirements"),
    (
        "164.316",
        "Policies and procedures and documentation requirements",
    ),
];

/// A browser that hangs is killed after this long; no assertion depends on it.
const BROWSER_LIMIT: Duration = Duration::from_secs(180);

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn hipaa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(args)
        .output()
        .expect("the hipaa binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A ledger like the one `examples/phi-stack` leaves behind after two applies, with one lapsed
/// agreement and one role without MFA to show up in the report.
fn write_ledger(dir: &Path) {
    let ledger = DirectoryLedger::open(dir);
    let append = |action, resource_type: &str, id: &str, attributes: Value| {
        let attributes: BTreeMap<String, Value> = attributes
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ledger
            .append(Entry {
                action,
                resource_type: resource_type.into(),
                resource_id: id.into(),
                attributes,
            })
            .expect("the ledger takes the record");
    };
    let license = |version: &str| {
        json!({
            "name": "northwind-clinic-phi", "version": version, "min_tls_version": "1.2",
            "customer_managed_keys": true, "key_rotation_days": 365, "mfa_required": true,
            "log_retention_days": 2190, "breach_notification_days": 30,
            "review_interval_days": 90,
        })
    };
    append(
        Action::Create,
        "hipaa_license",
        "lic-7f3a",
        license("2026.1"),
    );
    append(
        Action::Update,
        "hipaa_license",
        "lic-7f3a",
        license("2026.2"),
    );
    append(
        Action::Create,
        "hipaa_baa",
        "baa-aws",
        json!({"vendor": "Amazon Web Services", "services": ["s3", "rds", "kms"],
               "effective_date": "2026-01-01", "expiration_date": "2999-12-31"}),
    );
    append(
        Action::Create,
        "hipaa_baa",
        "baa-fax",
        json!({"vendor": "Fax <Relay> & Co", "services": ["fax"],
               "effective_date": "2020-01-01", "expiration_date": "2021-12-31"}),
    );
    for (id, name, resource) in [
        (
            "phi-ehr",
            "electronic health record database",
            "aws_db_instance.ehr",
        ),
        (
            "phi-records",
            "patient records archive",
            "aws_s3_bucket.records",
        ),
    ] {
        append(
            Action::Create,
            "hipaa_phi_system",
            id,
            json!({"license_id": "lic-7f3a", "boundary_id": "bnd-1", "name": name,
                   "resource": resource, "handles": ["store"], "data_classes": ["diagnoses"],
                   "owner": "ehr-team@northwind.example", "baa_ids": ["baa-aws"]}),
        );
    }
    append(
        Action::Create,
        "hipaa_access_role",
        "role-clin",
        json!({"license_id": "lic-7f3a", "name": "clinicians",
               "permissions": ["ehr:read", "ehr:write"], "members": ["group:clinicians"],
               "mfa_required": true, "max_session_minutes": 60}),
    );
    append(
        Action::Create,
        "hipaa_access_role",
        "role-batch",
        json!({"license_id": "lic-7f3a", "name": "nightly-export",
               "permissions": ["records:read"], "members": ["svc:exporter"],
               "mfa_required": false, "max_session_minutes": 30}),
    );
    append(
        Action::Create,
        "hipaa_security_review",
        "rev-q4",
        json!({"license_id": "lic-7f3a", "performed_on": "2026-10-15",
               "reviewer": "security-office@northwind.example", "next_due": "2999-01-13"}),
    );
}

/// Per standard: (rules, passed, failed, suppressed, undetermined), from the scan's JSON and the
/// rules' citations.
fn expected_counts() -> BTreeMap<&'static str, (usize, u64, usize, usize, u64)> {
    let rules: Value = serde_json::from_slice(&hipaa(&["rules", "--format", "json"]).stdout)
        .expect("rules as JSON");
    let scan = hipaa(&["scan", "--format", "json", examples().to_str().unwrap()]);
    let scan: Value = serde_json::from_slice(&scan.stdout).expect("scan as JSON");

    let mut counts = BTreeMap::new();
    for (section, _) in SECTIONS {
        let mut total = (0, 0, 0, 0, 0);
        for rule in rules.as_array().unwrap() {
            let serves = rule["hipaa"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p.as_str().unwrap().split('(').next() == Some(section));
            if !serves {
                continue;
            }
            let id = rule["id"].as_str().unwrap();
            let tally = &scan["summary"]["rules"][id];
            total.0 += 1;
            total.1 += tally["passed"].as_u64().unwrap();
            let of_rule = |suppressed: bool| {
                scan["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["rule_id"] == id && f["suppressed"] == suppressed)
                    .count()
            };
            total.2 += of_rule(false);
            total.3 += of_rule(true);
            total.4 += tally["undetermined"].as_u64().unwrap();
        }
        counts.insert(*section, total);
    }
    counts
}

fn write_report(format: &str, ledger: &Path, out: &Path) {
    let run = hipaa(&[
        "report",
        examples().to_str().unwrap(),
        "--ledger",
        ledger.to_str().unwrap(),
        "--format",
        format,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Texts every rendering must show, unescaped.
fn expected_texts() -> Vec<String> {
    let mut texts = vec![
        "HIPAA Security Rule report".to_string(),
        "Summary by standard".to_string(),
        "the chain is intact".to_string(),
        // License terms and version history.
        "northwind-clinic-phi".to_string(),
        "2026.1".to_string(),
        "Log retention (days)".to_string(),
        // Agreements with their expiry.
        "Amazon Web Services".to_string(),
        "Fax <Relay> & Co".to_string(),
        "2021-12-31".to_string(),
        "1 agreement(s) have expired.".to_string(),
        // PHI systems, roles with MFA, reviews.
        "patient records archive".to_string(),
        "nightly-export".to_string(),
        "NOT required".to_string(),
        "1 access role(s) do not require multi-factor authentication.".to_string(),
        "security-office@northwind.example".to_string(),
        "2999-01-13".to_string(),
        // A finding.
        "aws_ebs_volume.pacs".to_string(),
        // A suppressed finding, with its reason.
        "CI build cache; holds no PHI and is rebuilt from source".to_string(),
    ];
    for (section, title) in SECTIONS {
        texts.push(format!("45 CFR {section} {title}"));
    }
    texts
}

#[test]
fn the_markdown_report_shows_each_standard_with_its_counts_and_the_evidence() {
    let dir = temp_dir("report-md");
    let ledger = dir.join("ledger");
    write_ledger(&ledger);
    let file = dir.join("report.md");
    write_report("md", &ledger, &file);
    let markdown = std::fs::read_to_string(&file).unwrap();
    // Markdown escapes punctuation with backslashes; read it as rendered.
    let rendered = unescape_markdown(&markdown);

    for text in expected_texts() {
        assert!(
            rendered.contains(&text),
            "Markdown lacks {text:?}:\n{markdown}"
        );
    }
    let counts = expected_counts();
    let suppressed_somewhere = counts.values().any(|c| c.3 > 0);
    assert!(suppressed_somewhere, "examples/ shows a suppressed finding");
    for (section, (rules, passed, failed, suppressed, undetermined)) in counts {
        let title = SECTIONS.iter().find(|(s, _)| *s == section).unwrap().1;
        let row = format!(
            "| 45 CFR {section} | {title} | {rules} | {passed} | {failed} | {suppressed} | \
             {undetermined} |"
        );
        assert!(rendered.contains(&row), "no row {row}:\n{markdown}");
        assert!(
            rendered.contains(&format!(
                "## 45 CFR {section} {title}\n\n**{passed}** passed · **{failed}** failed"
            )),
            "{section}:\n{markdown}"
        );
    }
}

fn unescape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|next| next.is_ascii_punctuation()) {
            out.push(chars.next().unwrap());
        } else {
            out.push(c);
        }
    }
    out
}

fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The Chromium binary, if one is installed.
fn chromium() -> Option<PathBuf> {
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs the browser headless on a page with a fresh profile; returns what it printed.
fn run_browser(browser: &Path, profile: &Path, args: &[String], page: &Path) -> Output {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the browser starts");

    let started = Instant::now();
    loop {
        if child
            .try_wait()
            .expect("the browser can be waited for")
            .is_some()
        {
            return child.wait_with_output().expect("the browser's output");
        }
        if started.elapsed() > BROWSER_LIMIT {
            let _ = child.kill();
            let output = child.wait_with_output().expect("the browser's output");
            panic!(
                "the browser did not finish: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_html_report_opens_in_a_browser_with_each_standard_and_its_counts() {
    let dir = temp_dir("report-html");
    let ledger = dir.join("ledger");
    write_ledger(&ledger);
    let page = dir.join("report.html");
    write_report("html", &ledger, &page);

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "no scripts");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );
    assert!(
        !html.contains("<link") && !html.contains("<img"),
        "self-contained"
    );
    assert!(html.contains("Fax &lt;Relay&gt; &amp; Co"), "escaped");

    let Some(browser) = chromium() else {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !in_ci,
            "Chromium must be installed in CI (.ci/run installs it)"
        );
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             SKIPPED: the HTML report was not opened in a browser: Chromium is not \
             installed (apt-get install chromium)\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return;
    };

    let screenshot = dir.join("report.png");
    let shot = run_browser(
        &browser,
        &dir.join("profile-screenshot"),
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2000".to_string(),
        ],
        &page,
    );
    let png = std::fs::read(&screenshot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&shot.stderr)
        )
    });
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000));
    // A blank page compresses to a few kilobytes; a rendered report does not.
    assert!(
        png.len() > 50_000,
        "the screenshot is nearly empty: {} bytes",
        png.len()
    );

    let dump = run_browser(
        &browser,
        &dir.join("profile-dom"),
        &["--dump-dom".to_string()],
        &page,
    );
    let dom = String::from_utf8_lossy(&dump.stdout).to_string();
    assert!(
        dom.contains("<main>"),
        "no DOM: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = html_unescape(&dom);

    for expected in expected_texts() {
        assert!(text.contains(&expected), "the page lacks {expected:?}");
    }
    for (section, (rules, passed, failed, suppressed, undetermined)) in expected_counts() {
        let title = SECTIONS.iter().find(|(s, _)| *s == section).unwrap().1;
        let row = format!(
            "<tr><td>45 CFR {section}</td><td>{title}</td><td>{rules}</td><td>{passed}</td>\
             <td>{failed}</td><td>{suppressed}</td><td>{undetermined}</td>"
        );
        assert!(text.contains(&row), "the page lacks the row {row}");
        let anchor = format!("section-{}", section.replace('.', "-"));
        let heading = format!("<h2 id=\"{anchor}\">45 CFR {section} {title}</h2>");
        let at = text
            .find(&heading)
            .unwrap_or_else(|| panic!("the page lacks {heading}"));
        let counts = format!("<b>{passed}</b> passed");
        let failed_count = format!("<b>{failed}</b> failed");
        let after = &text[at..];
        let next_section = after[heading.len()..]
            .find("<h2")
            .map_or(after.len(), |i| i);
        let body = &after[..heading.len() + next_section];
        assert!(body.contains(&counts), "{section}: no {counts}");
        assert!(body.contains(&failed_count), "{section}: no {failed_count}");
    }
}

#[test]
fn the_report_without_a_ledger_says_it_holds_no_evidence() {
    let run = hipaa(&["report", examples().join("phi-stack").to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0));
    let text = unescape_markdown(&String::from_utf8_lossy(&run.stdout));
    assert!(text.contains("No ledger was given"), "{text}");
    assert!(text.contains("| no ledger given |"), "{text}");
}

#[test]
fn the_access_review_lists_members_systems_and_mfa_from_the_ledger() {
    let dir = temp_dir("access-review");
    let ledger = dir.join("ledger");
    write_ledger(&ledger);

    let run = hipaa(&["access-review", "--ledger", ledger.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0));
    let csv = String::from_utf8_lossy(&run.stdout).to_string();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "member,role,permissions,mfa_required,max_session_minutes,phi_system,resource,\
             license",
            "group:clinicians,clinicians,ehr:read;ehr:write,yes,60,electronic health record \
             database,aws_db_instance.ehr,northwind-clinic-phi",
            "group:clinicians,clinicians,ehr:read;ehr:write,yes,60,patient records archive,\
             aws_s3_bucket.records,northwind-clinic-phi",
            "svc:exporter,nightly-export,records:read,no,30,electronic health record database,\
             aws_db_instance.ehr,northwind-clinic-phi",
            "svc:exporter,nightly-export,records:read,no,30,patient records archive,\
             aws_s3_bucket.records,northwind-clinic-phi",
        ]
    );

    let run = hipaa(&[
        "access-review",
        "--format",
        "json",
        examples().join("phi-stack").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0));
    let rows: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        rows[0],
        json!({
            "member": "group:clinicians",
            "role": "clinicians",
            "permissions": ["ehr:read", "ehr:write", "records:read"],
            "mfa_required": true,
            "max_session_minutes": "60",
            "phi_system": "electronic health record database",
            "resource": "aws_db_instance.ehr",
            "license": "northwind-clinic-phi",
        })
    );
    assert_eq!(rows.as_array().unwrap().len(), 2);
}
