//! `hipaa audit aws`: reads a live account and judges it with the scanner's rules, against the
//! declarations of a ledger when one is given.

use super::ledger::{records, AwsArgs};
use super::{write_report, ColorArg, FormatArg, SeverityArg, EXIT_CLEAN, EXIT_FINDINGS};
use crate::audit::aws::audit;
use crate::finding::Severity;
use crate::output::{Format, OutputOptions};
use crate::workflow::keep_at_or_above;
use clap::{Args, Subcommand};
use hipaa_cloud::inventory::{self, Progress};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub(super) enum AuditCommand {
    /// Audit the S3 buckets and KMS keys of an AWS account.
    #[command(after_help = "Examples:\n  hipaa audit aws --region us-east-1\n  \
                            hipaa audit aws --ledger .hipaa-ledger --format sarif --output \
                            audit.sarif\n  hipaa audit aws --ledger s3://acme-ledger/prod \
                            --profile audit\n\n\
                            Reads: ListBuckets, GetBucketLocation, GetBucketEncryption, \
                            GetPublicAccessBlock, GetBucketPolicy, GetBucketVersioning, \
                            GetBucketLogging, GetBucketTagging, kms:ListKeys, kms:DescribeKey, \
                            kms:GetKeyRotationStatus. A call that is denied or throttled is \
                            reported for its resource and the audit goes on.\n\n\
                            Exit status: 0 when nothing at or above --severity was found, 1 \
                            when something was, 2 for usage errors or an unreadable ledger.")]
    Aws(AuditAwsArgs),
}

#[derive(Args, Debug)]
pub(super) struct AuditAwsArgs {
    #[command(flatten)]
    aws: AwsArgs,

    /// The attestation ledger whose declarations the account is compared with: a directory or
    /// `s3://BUCKET/PREFIX` (read with the same AWS settings).
    #[arg(long, value_name = "LEDGER")]
    ledger: Option<String>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,

    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,

    /// Report only findings at or above this severity; the exit status follows it too.
    #[arg(long, value_enum, default_value_t = SeverityArg::Low)]
    severity: SeverityArg,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

pub(super) fn run(command: AuditCommand) -> Result<u8, String> {
    let AuditCommand::Aws(args) = command;

    // The ledger first: an unreadable ledger is a usage error, found before the account is
    // read.
    let ledger = match &args.ledger {
        Some(ledger) => Some(records(ledger, &args.aws)?),
        None => None,
    };

    let show_progress = io::stderr().is_terminal();
    let progress = |step: Progress| {
        if show_progress {
            let (what, done, total) = match step {
                Progress::Buckets { done, total } => ("buckets", done, total),
                Progress::Keys { done, total } => ("keys", done, total),
            };
            let mut stderr = io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[Kaudit: {what} {done}/{total}");
            let _ = stderr.flush();
        }
    };
    let inventory = inventory::collect(&args.aws.settings(), &progress);
    if show_progress {
        let _ = write!(io::stderr().lock(), "\r\x1b[K");
    }

    // A listing that failed as a whole leaves the audit without its subject: the report is
    // still written, but the exit status must not read as a clean account.
    let unread: Vec<String> = [
        inventory
            .buckets
            .as_ref()
            .err()
            .map(|e| format!("S3 buckets: {e}")),
        inventory
            .keys
            .as_ref()
            .err()
            .map(|e| format!("KMS keys: {e}")),
    ]
    .into_iter()
    .flatten()
    .collect();

    let mut report = audit(&inventory, ledger.as_deref());
    keep_at_or_above(&mut report, Severity::from(args.severity));

    let color = args.color.resolve(args.output.is_some());
    let options = OutputOptions {
        color,
        base_dir: std::env::current_dir().unwrap_or_default(),
        inputs: Vec::new(),
    };
    write_report(
        &report,
        Format::from(args.format),
        &options,
        args.output.as_deref(),
    )?;
    if !unread.is_empty() {
        return Err(format!(
            "the audit is incomplete, the account could not be listed: {}",
            unread.join("; ")
        ));
    }
    Ok(if report.findings.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}
