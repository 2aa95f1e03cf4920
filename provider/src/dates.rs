//! Calendar dates as the resources write them (`YYYY-MM-DD`), counted in days since
//! 1970-01-01 so that expiry and due dates are plain comparisons.

use std::time::{SystemTime, UNIX_EPOCH};

/// Why a text is not a calendar date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Not written `YYYY-MM-DD`.
    Format,
    /// Written as a date, but the month is not 01 to 12.
    NoSuchMonth { month: u32 },
    /// Written as a date, but the month has no such day, e.g. `2026-02-30`.
    NoSuchDay {
        year: i64,
        month: u32,
        day: u32,
        days_in_month: u32,
    },
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl DateError {
    /// A short title: badly written, or well written but not on the calendar.
    pub fn summary(&self) -> &'static str {
        match self {
            DateError::Format => "Invalid date",
            DateError::NoSuchMonth { .. } | DateError::NoSuchDay { .. } => "Date does not exist",
        }
    }

    /// What is wrong with `text`, for the diagnostic's detail.
    pub fn describe(&self, text: &str) -> String {
        match self {
            DateError::Format => format!("Dates are written YYYY-MM-DD, got {text:?}."),
            DateError::NoSuchMonth { month } => {
                format!("{text:?} names month {month:02}; months run from 01 to 12.")
            }
            DateError::NoSuchDay {
                year,
                month,
                day,
                days_in_month,
            } => {
                let name = usize::try_from(*month)
                    .ok()
                    .and_then(|month| MONTH_NAMES.get(month.checked_sub(1)?))
                    .copied()
                    .unwrap_or("The month");
                format!(
                    "{text:?} names day {day:02}, which does not exist: {name} {year} has \
                     {days_in_month} days."
                )
            }
        }
    }
}

/// Reads `YYYY-MM-DD`, telling a badly written date from one not on the calendar, such as
/// `2025-02-30`.
pub fn read_date(text: &str) -> Result<i64, DateError> {
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DateError::Format);
    };
    let digits = |part: &str, width: usize| {
        part.len() == width && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return Err(DateError::Format);
    }
    let number = |part: &str| part.parse::<u32>().map_err(|_| DateError::Format);
    let (year, month, day) = (i64::from(number(year)?), number(month)?, number(day)?);

    if !(1..=12).contains(&month) {
        return Err(DateError::NoSuchMonth { month });
    }
    let days_in_month = days_in_month(year, month);
    if day == 0 || day > days_in_month {
        return Err(DateError::NoSuchDay {
            year,
            month,
            day,
            days_in_month,
        });
    }
    Ok(days_from_civil(year, month, day))
}

/// [`read_date`] for callers that only need the date, e.g. of a value already validated.
pub fn parse_date(text: &str) -> Option<i64> {
    read_date(text).ok()
}

pub fn format_date(days: i64) -> String {
    let (year, month, day) = crate::log::civil_date(days.max(0) as u64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Today in UTC.
pub fn today() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (seconds / 86_400) as i64
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years from 1 March).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for text in ["1970-01-01", "2024-02-29", "2025-12-31", "2100-03-01"] {
            assert_eq!(format_date(parse_date(text).unwrap()), text);
        }
        assert_eq!(parse_date("1970-01-02"), Some(1));
    }

    #[test]
    fn a_day_missing_from_its_month_is_told_apart_from_a_badly_written_date() {
        let cases = [
            (
                "2026-02-30",
                "Date does not exist",
                "\"2026-02-30\" names day 30, which does not exist: February 2026 has 28 days.",
            ),
            (
                "2024-02-30",
                "Date does not exist",
                "\"2024-02-30\" names day 30, which does not exist: February 2024 has 29 days.",
            ),
            (
                "2026-04-31",
                "Date does not exist",
                "\"2026-04-31\" names day 31, which does not exist: April 2026 has 30 days.",
            ),
            (
                "2026-13-01",
                "Date does not exist",
                "\"2026-13-01\" names month 13; months run from 01 to 12.",
            ),
            (
                "2026-2-03",
                "Invalid date",
                "Dates are written YYYY-MM-DD, got \"2026-2-03\".",
            ),
            (
                "2026-+2-03",
                "Invalid date",
                "Dates are written YYYY-MM-DD, got \"2026-+2-03\".",
            ),
        ];
        for (text, summary, detail) in cases {
            let error = read_date(text).unwrap_err();
            assert_eq!(
                (error.summary(), error.describe(text).as_str()),
                (summary, detail)
            );
        }
    }

    #[test]
    fn impossible_dates_are_refused() {
        for text in [
            "2025-02-29",
            "2025-13-01",
            "2025-1-01",
            "25-01-01",
            "2025-01-00",
            "+025-01-01",
            "2025-01-01-",
            "x",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }
}
