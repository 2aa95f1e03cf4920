//! The benchmark's table: one row per input size and kind, rendered as aligned text for the
//! terminal and as markdown for `results.md`.

use crate::measure::{Ending, Summary};
use std::time::Duration;

/// What one tool did with one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Measured {
        wall: Duration,
        peak_kb: u64,
    },
    TimedOut(Duration),
    Failed(String),
    NotInstalled,
    Skipped,
    /// The measurement has no meaning for this input (the floor of a configuration tree).
    NotApplicable,
}

impl Cell {
    /// The cell for a summary whose runs had to end with one of `codes`.
    pub fn from_summary(summary: &Summary, codes: &[i32], timeout: Duration) -> Cell {
        if summary.timed_out() {
            return Cell::TimedOut(timeout);
        }
        if let Some(bad) = summary.runs.iter().find(|run| !run.exited_with(codes)) {
            return Cell::Failed(match bad.ending {
                Ending::Exited(code) => format!("exit {code}"),
                Ending::Signalled(signal) => format!("signal {signal}"),
                Ending::TimedOut => "timed out".to_string(),
            });
        }
        match (summary.median_wall(), summary.median_peak_kb()) {
            (Some(wall), Some(peak_kb)) => Cell::Measured { wall, peak_kb },
            _ => Cell::Failed("no run".to_string()),
        }
    }

    pub fn wall(&self) -> Option<Duration> {
        match self {
            Cell::Measured { wall, .. } => Some(*wall),
            _ => None,
        }
    }

    pub fn peak_kb(&self) -> Option<u64> {
        match self {
            Cell::Measured { peak_kb, .. } => Some(*peak_kb),
            _ => None,
        }
    }

    fn wall_text(&self) -> String {
        match self {
            Cell::Measured { wall, .. } => seconds(*wall),
            Cell::TimedOut(limit) => format!("> {} s", limit.as_secs()),
            Cell::Failed(why) => format!("failed ({why})"),
            Cell::NotInstalled => "not installed".to_string(),
            Cell::Skipped => "skipped".to_string(),
            Cell::NotApplicable => "n/a".to_string(),
        }
    }

    fn peak_text(&self) -> String {
        match self {
            Cell::Measured { peak_kb, .. } => megabytes(peak_kb * 1024),
            Cell::TimedOut(_) | Cell::Failed(_) | Cell::NotInstalled | Cell::Skipped => {
                String::new()
            }
            Cell::NotApplicable => "n/a".to_string(),
        }
    }
}

/// One input of one size, and what each tool did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub resources: usize,
    /// "plan" or "hcl".
    pub input: &'static str,
    pub input_bytes: u64,
    pub hipaa: Cell,
    pub floor: Cell,
    pub checkov: Cell,
    pub trivy: Cell,
}

pub const HEADER: [&str; 14] = [
    "size",
    "input",
    "file size",
    "hipaa wall",
    "hipaa peak",
    "floor wall",
    "floor peak",
    "hipaa/floor",
    "peak/file",
    "checkov wall",
    "checkov peak",
    "trivy wall",
    "trivy peak",
    "vs checkov",
];

impl Row {
    pub fn cells(&self) -> Vec<String> {
        let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) if !b.is_zero() => {
                format!("{:.1}x", a.as_secs_f64() / b.as_secs_f64())
            }
            _ => String::new(),
        };
        let peak_per_file = match self.hipaa.peak_kb() {
            Some(peak_kb) if self.input_bytes > 0 => {
                format!("{:.1}x", (peak_kb * 1024) as f64 / self.input_bytes as f64)
            }
            _ => String::new(),
        };
        vec![
            self.resources.to_string(),
            self.input.to_string(),
            megabytes(self.input_bytes),
            self.hipaa.wall_text(),
            self.hipaa.peak_text(),
            self.floor.wall_text(),
            self.floor.peak_text(),
            ratio(self.hipaa.wall(), self.floor.wall()),
            peak_per_file,
            self.checkov.wall_text(),
            self.checkov.peak_text(),
            self.trivy.wall_text(),
            self.trivy.peak_text(),
            ratio(self.checkov.wall(), self.hipaa.wall()),
        ]
    }
}

/// Seconds with three decimals, as the table shows every wall time.
pub fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}

/// Bytes as decimal megabytes with one decimal.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// The rows as a table with columns padded to their widest cell.
pub fn text_table(rows: &[Row]) -> String {
    let body: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
    let header: Vec<String> = HEADER.iter().map(|title| title.to_string()).collect();
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|column| {
            std::iter::once(&header)
                .chain(&body)
                .map(|cells| cells[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    std::iter::once(&header).chain(&body).map(line).collect()
}

/// The rows as a markdown table.
pub fn markdown_table(rows: &[Row]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(HEADER.iter().map(|title| title.to_string()).collect());
    out += &line(HEADER.iter().map(|_| "---".to_string()).collect());
    for row in rows {
        out += &line(row.cells());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Run;

    fn row() -> Row {
        Row {
            resources: 1000,
            input: "plan",
            input_bytes: 2_000_000,
            hipaa: Cell::Measured {
                wall: Duration::from_millis(50),
                peak_kb: 8_000,
            },
            floor: Cell::Measured {
                wall: Duration::from_millis(10),
                peak_kb: 4_000,
            },
            checkov: Cell::Measured {
                wall: Duration::from_secs(5),
                peak_kb: 400_000,
            },
            trivy: Cell::NotInstalled,
        }
    }

    #[test]
    fn a_row_shows_ratios_against_the_floor_the_file_and_checkov() {
        let cells = row().cells();
        assert_eq!(
            cells,
            [
                "1000",
                "plan",
                "2.0 MB",
                "0.050 s",
                "8.2 MB",
                "0.010 s",
                "4.1 MB",
                "5.0x",
                "4.1x",
                "5.000 s",
                "409.6 MB",
                "not installed",
                "",
                "100.0x"
            ]
        );
    }

    #[test]
    fn a_timeout_prints_as_more_than_the_limit() {
        let mut timed_out = row();
        timed_out.checkov = Cell::TimedOut(Duration::from_secs(600));
        let cells = timed_out.cells();
        assert_eq!(cells[9], "> 600 s");
        assert_eq!(cells[13], "");
    }

    #[test]
    fn tables_have_a_header_and_a_line_per_row() {
        let rows = [row(), row()];
        let markdown = markdown_table(&rows);
        assert_eq!(markdown.lines().count(), 4);
        assert!(markdown.starts_with("| size | input | file size |"));
        assert!(markdown.lines().nth(1).unwrap().starts_with("| --- |"));
        let text = text_table(&rows);
        assert_eq!(text.lines().count(), 3);
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("1000  plan   2.0 MB"));
    }

    #[test]
    fn a_run_with_an_unexpected_exit_fails_its_cell() {
        let run = |code| Run {
            wall: Duration::from_millis(5),
            peak_rss_kb: 10,
            ending: Ending::Exited(code),
        };
        let limit = Duration::from_secs(600);
        let good = Summary {
            runs: vec![run(1), run(0)],
        };
        assert_eq!(
            Cell::from_summary(&good, &[0, 1], limit),
            Cell::Measured {
                wall: Duration::from_millis(5),
                peak_kb: 10
            }
        );
        let bad = Summary {
            runs: vec![run(1), run(2)],
        };
        assert_eq!(
            Cell::from_summary(&bad, &[0, 1], limit),
            Cell::Failed("exit 2".to_string())
        );
    }
}
