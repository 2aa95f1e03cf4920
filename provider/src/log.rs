//! Log lines on stderr in the JSON shape go-plugin hosts parse (hclog): `@level`, `@message`,
//! `@timestamp`, `@module`, plus key/value fields. Terraform files them under
//! `provider.terraform-provider-hipaa` and shows them only with `TF_LOG` or `TF_LOG_PROVIDER`.
//!
//! Never log a value from configuration here: fields carry names, counts and paths only.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Writes one log line; a failing stderr is ignored, since there is nowhere else to report it.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    let line = format_line(level, message, fields, SystemTime::now());
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

pub fn info(message: &str, fields: &[(&str, &str)]) {
    log(Level::Info, message, fields);
}

pub fn debug(message: &str, fields: &[(&str, &str)]) {
    log(Level::Debug, message, fields);
}

pub fn warn(message: &str, fields: &[(&str, &str)]) {
    log(Level::Warn, message, fields);
}

pub fn error(message: &str, fields: &[(&str, &str)]) {
    log(Level::Error, message, fields);
}

pub fn format_line(level: Level, message: &str, fields: &[(&str, &str)], at: SystemTime) -> String {
    let mut entry = serde_json::Map::new();
    entry.insert("@level".into(), level.name().into());
    entry.insert("@message".into(), message.into());
    entry.insert("@module".into(), "hipaa".into());
    entry.insert("@timestamp".into(), timestamp(at).into());
    for (key, value) in fields {
        entry.insert((*key).into(), (*value).into());
    }
    serde_json::Value::Object(entry).to_string()
}

/// The one timestamp layout the host accepts: `2006-01-02T15:04:05.000000Z07:00` in Go's
/// notation, i.e. microseconds and `Z` for UTC. Any other layout makes the host log the whole
/// line raw at DEBUG.
pub fn timestamp(at: SystemTime) -> String {
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_date(seconds / 86_400);
    let second_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        since_epoch.subsec_micros()
    )
}

/// The civil date of a day since 1970-01-01, by the calendar shared with the scanner.
pub fn civil_date(days_since_epoch: u64) -> (u64, u64, u64) {
    let days = i64::try_from(days_since_epoch).unwrap_or(i64::MAX / 2);
    let (year, month, day) = hipaa_compliance::calendar::civil_from_days(days);
    (year.max(0) as u64, u64::from(month), u64::from(day))
}

/// Reports a panic the way Terraform's crash report recognises: raw stderr lines starting with
/// `panic: ` open a recording that Terraform prints as "The plugin crashed!". Rust's own
/// `thread '…' panicked at` line would go unnoticed.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_string());
        let place = info
            .location()
            .map(|location| format!("{}:{}", location.file(), location.line()))
            .unwrap_or_else(|| "unknown location".to_string());
        let thread = std::thread::current();
        let backtrace = std::backtrace::Backtrace::force_capture().to_string();
        let report = panic_report(
            &message,
            thread.name().unwrap_or("unnamed"),
            &place,
            &backtrace,
        );
        let _ = std::io::stderr().lock().write_all(report.as_bytes());
        // A panic inside a gRPC handler would otherwise only kill that task and leave the
        // host waiting; exiting (with Go's panic status) makes Terraform report the crash.
        std::process::exit(2);
    }));
}

/// The crash report as raw stderr lines: the first starts with `panic: `, which is what
/// Terraform looks for; the host records the lines after it for its crash message.
pub fn panic_report(message: &str, thread: &str, place: &str, backtrace: &str) -> String {
    // The message may span lines; each must stay plain text, not JSON, to be recorded.
    format!("panic: {message}\n\nthread {thread} at {place}\n{backtrace}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamp_has_microseconds_and_zulu() {
        let at = UNIX_EPOCH + Duration::from_micros(1_709_294_400_123_456);
        assert_eq!(timestamp(at), "2024-03-01T12:00:00.123456Z");
    }

    #[test]
    fn leap_day_and_year_end_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(19_782), (2024, 2, 29));
        assert_eq!(civil_date(20_088), (2024, 12, 31));
    }

    #[test]
    fn panic_report_starts_the_way_terraform_recognises() {
        let report = panic_report("boom", "main", "src/x.rs:3", "0: frame");
        assert!(report.starts_with("panic: boom\n"));
        assert!(report.contains("thread main at src/x.rs:3"));
        assert!(serde_json::from_str::<serde_json::Value>(report.lines().next().unwrap()).is_err());
    }

    #[test]
    fn line_is_json_with_level_and_fields() {
        let line = format_line(Level::Warn, "hello", &[("path", "/x")], UNIX_EPOCH);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["@level"], "warn");
        assert_eq!(parsed["@message"], "hello");
        assert_eq!(parsed["path"], "/x");
        assert_eq!(parsed["@timestamp"], "1970-01-01T00:00:00.000000Z");
    }
}
