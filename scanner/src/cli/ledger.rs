//! `hipaa ledger verify` and `hipaa ledger export`, over a ledger directory or, with the `aws`
//! feature, a ledger kept in S3 (`s3://bucket/prefix`).

use super::{print_or_ignore_broken_pipe, EXIT_CLEAN, EXIT_FINDINGS};
use clap::{Args, Subcommand, ValueEnum};
use hipaa_ledger::{is_secret_name, DirectoryLedger, LedgerBackend, Record, Report};
use std::path::Path;

#[derive(Subcommand, Debug)]
pub(super) enum LedgerCommand {
    /// Check that no record of a ledger was edited, removed or reordered.
    #[command(after_help = "Examples:\n  hipaa ledger verify .hipaa-ledger\n  \
                            hipaa ledger verify .hipaa-ledger --expect-head 3f1c...\n  \
                            hipaa ledger verify s3://acme-ledger/prod --region us-east-1\n\n\
                            Exit status: 0 when the chain is intact (and ends at --expect-head, \
                            when given), 1 when it is not, 2 when the ledger cannot be read.\n\
                            Records cut off the end leave a shorter chain that is still \
                            intact; keep the head hash printed here elsewhere and pass it \
                            back with --expect-head to catch that.")]
    Verify {
        /// The ledger: a directory (the provider's `ledger_dir`, `.hipaa-ledger` by default)
        /// or `s3://BUCKET/PREFIX`.
        #[arg(value_name = "LEDGER")]
        dir: String,
        /// The head hash a previous verification printed; the chain must still end there or
        /// have grown past it.
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Print every record of a ledger, oldest first, as JSON or CSV.
    #[command(after_help = "Examples:\n  hipaa ledger export .hipaa-ledger\n  \
                            hipaa ledger export s3://acme-ledger/prod --format csv > ledger.csv\n\n\
                            Records are printed as the ledger reads them: up to the first \
                            missing or unreadable one. `hipaa ledger verify` says whether the \
                            chain is intact.")]
    Export {
        /// The ledger: a directory or `s3://BUCKET/PREFIX`.
        #[arg(value_name = "LEDGER")]
        ledger: String,
        #[arg(long, short, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

/// Where and as whom to reach AWS; the standard chain supplies the rest.
#[derive(Args, Debug, Clone, Default)]
pub(super) struct AwsArgs {
    /// The AWS region (otherwise AWS_REGION or the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// An endpoint that replaces AWS's, for S3-compatible services, e.g. http://127.0.0.1:9000.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// A profile of the shared AWS config files (otherwise AWS_PROFILE or `default`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

#[cfg(feature = "aws")]
impl AwsArgs {
    pub fn settings(&self) -> hipaa_cloud::AwsSettings {
        hipaa_cloud::AwsSettings {
            region: self.region.clone(),
            endpoint: self.endpoint.clone(),
            profile: self.profile.clone(),
        }
    }
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub(super) enum ExportFormat {
    Json,
    Csv,
}

pub(super) fn run(command: LedgerCommand) -> Result<u8, String> {
    match command {
        LedgerCommand::Verify {
            dir,
            expect_head,
            aws,
        } => verify(&dir, expect_head.as_deref(), &aws),
        LedgerCommand::Export {
            ledger,
            format,
            aws,
        } => export(&ledger, format, &aws),
    }
}

/// A ledger named on the command line.
enum Source<'a> {
    Directory(&'a Path),
    #[cfg(feature = "aws")]
    S3(hipaa_cloud::S3LedgerSettings),
}

fn source<'a>(ledger: &'a str, aws: &AwsArgs) -> Result<Source<'a>, String> {
    if ledger.starts_with("s3://") {
        return s3_source(ledger, aws);
    }
    let dir = Path::new(ledger);
    if !dir.is_dir() {
        return Err(format!("{}: expected a ledger directory", dir.display()));
    }
    Ok(Source::Directory(dir))
}

#[cfg(feature = "aws")]
fn s3_source<'a>(ledger: &'a str, aws: &AwsArgs) -> Result<Source<'a>, String> {
    let mut settings = hipaa_cloud::S3LedgerSettings::from_url(ledger)
        .ok_or_else(|| format!("{ledger}: expected s3://BUCKET/PREFIX"))?;
    settings.aws = aws.settings();
    Ok(Source::S3(settings))
}

#[cfg(not(feature = "aws"))]
fn s3_source<'a>(ledger: &'a str, _aws: &AwsArgs) -> Result<Source<'a>, String> {
    Err(format!(
        "{ledger}: this hipaa was built without the `aws` feature, so it cannot read S3"
    ))
}

/// The ledger's records, oldest first, up to the first missing or unreadable one.
/// The records of a ledger whose chain verifies: declarations read from a tampered ledger
/// must not decide what an audit enforces.
pub(super) fn records(ledger: &str, aws: &AwsArgs) -> Result<Vec<Record>, String> {
    let (report, records) = match source(ledger, aws)? {
        Source::Directory(dir) => (
            hipaa_ledger::verify(dir),
            DirectoryLedger::open(dir).records(),
        ),
        #[cfg(feature = "aws")]
        Source::S3(settings) => {
            let s3 = hipaa_cloud::S3Ledger::open(&settings);
            (s3.verify(), s3.records())
        }
    };
    let report = report.map_err(|e| format!("{ledger}: {e}"))?;
    if !report.is_intact() {
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        return Err(format!(
            "{ledger}: the ledger's chain is not intact ({}); `hipaa ledger verify` names the \
             records at fault",
            problems.join("; ")
        ));
    }
    records.map_err(|e| format!("{ledger}: {e}"))
}

fn verify(ledger: &str, expect_head: Option<&str>, aws: &AwsArgs) -> Result<u8, String> {
    if let Some(head) = expect_head {
        let is_hash = head.len() == 64 && head.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_hash {
            return Err(format!(
                "--expect-head {head:?}: expected a record hash, 64 hexadecimal characters as \
                 `hipaa ledger verify` prints it"
            ));
        }
    }
    let report: Report = match source(ledger, aws)? {
        Source::Directory(dir) => hipaa_ledger::verify(dir),
        #[cfg(feature = "aws")]
        Source::S3(settings) => hipaa_cloud::S3Ledger::open(&settings).verify(),
    }
    .map_err(|e| format!("{ledger}: {e}"))?;
    // An empty chain is intact, but verifying a place that holds no ledger at all (the working
    // directory by mistake, a wrong prefix) must not read as a clean bill.
    if report.records == 0 {
        return Err(format!(
            "{ledger}: holds no ledger records; expected records named like \
             00000000000000000001.json, as terraform-provider-hipaa writes them"
        ));
    }

    let mut out = String::new();
    for problem in &report.problems {
        out.push_str(&format!("{ledger}: {problem}\n"));
    }
    let head = report.head.as_deref().unwrap_or("none (empty ledger)");
    let head_missing = expect_head.is_some_and(|expected| !report.holds(expected));
    if head_missing {
        out.push_str(&format!(
            "{ledger}: the chain no longer holds the expected head {}: records were removed \
             from its end or replaced\n",
            expect_head.unwrap_or_default()
        ));
    }
    let intact = report.is_intact() && !head_missing;
    out.push_str(&format!(
        "{} records, head {head}: {}\n",
        report.records,
        if intact { "intact" } else { "NOT intact" }
    ));
    print_or_ignore_broken_pipe(&out)?;
    Ok(if intact { EXIT_CLEAN } else { EXIT_FINDINGS })
}

/// The columns of the CSV export, in order.
const CSV_COLUMNS: &[&str] = &[
    "sequence",
    "recorded_at",
    "action",
    "resource_type",
    "resource_id",
    "attributes",
    "previous_hash",
    "hash",
];

/// Shown instead of an attribute value whose name looks like a secret. The ledger refuses
/// such attributes, so only a record written around it can hold one.
const REDACTED: &str = "(redacted)";

fn export(ledger: &str, format: ExportFormat, aws: &AwsArgs) -> Result<u8, String> {
    let mut records = records(ledger, aws)?;
    for record in &mut records {
        for (name, value) in record.attributes.iter_mut() {
            if is_secret_name(name) {
                *value = serde_json::Value::from(REDACTED);
            }
        }
    }

    let text = match format {
        ExportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&records).map_err(|e| e.to_string())?;
            text.push('\n');
            text
        }
        ExportFormat::Csv => {
            let mut text = CSV_COLUMNS.join(",");
            text.push('\n');
            for record in &records {
                let action = serde_json::to_value(record.action)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                let attributes =
                    serde_json::to_string(&record.attributes).map_err(|e| e.to_string())?;
                let fields = [
                    record.sequence.to_string(),
                    record.recorded_at.to_string(),
                    action,
                    record.resource_type.clone(),
                    record.resource_id.clone(),
                    attributes,
                    record.previous_hash.clone(),
                    record.hash.clone(),
                ];
                let quoted: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
                text.push_str(&quoted.join(","));
                text.push('\n');
            }
            text
        }
    };
    print_or_ignore_broken_pipe(&text)
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("hipaa_license"), "hipaa_license");
        assert_eq!(
            csv_field(r#"{"a":1,"b":"x"}"#),
            r#""{""a"":1,""b"":""x""}""#
        );
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
