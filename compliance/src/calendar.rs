//! Calendar dates as licenses, agreements, reviews and suppressions write them (`YYYY-MM-DD`),
//! counted in days since 1970-01-01 (UTC) so that expiry and due dates are plain comparisons.
//! One implementation for the provider's validators and the scanner's suppressions, so both
//! read a date the same way.

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

/// A day as `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Today in UTC, by the system clock.
pub fn today() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(seconds / 86_400).unwrap_or(0)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// How many days a month of a year has.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Counts in eras of 400 years that start on 1 March, so that the leap day ends a year and
/// every era has the same number of days (146,097).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for text in ["1970-01-01", "2024-02-29", "2025-12-31", "2100-03-01"] {
            assert_eq!(format_date(read_date(text).unwrap()), text);
        }
        assert_eq!(read_date("1970-01-02"), Ok(1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
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
            assert!(read_date(text).is_err(), "{text}");
        }
    }
}
