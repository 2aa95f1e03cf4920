//! Calendar dates as suppressions and ledger records write them (`YYYY-MM-DD`), held as days
//! since 1970-01-01 so that expiry is a plain comparison. Every date is a UTC day.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// One day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days_since_epoch: i64,
}

impl Date {
    /// Reads `YYYY-MM-DD`, refusing impossible dates such as `2027-02-30`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.split('-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        let well_formed = parts.next().is_none()
            && year.len() == 4
            && month.len() == 2
            && day.len() == 2
            && [year, month, day]
                .iter()
                .all(|part| part.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed {
            return None;
        }
        let year: i64 = year.parse().ok()?;
        let month: u32 = month.parse().ok()?;
        let day: u32 = day.parse().ok()?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date {
            days_since_epoch: days_from_civil(year, month, day),
        })
    }

    /// Today in UTC, by the system clock.
    pub fn today() -> Date {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date {
            days_since_epoch: i64::try_from(seconds / 86_400).unwrap_or(0),
        }
    }

    /// The day `days` after this one (before it, when negative).
    pub fn plus_days(self, days: i64) -> Date {
        Date {
            days_since_epoch: self.days_since_epoch.saturating_add(days),
        }
    }

    /// Days from `self` to `later`; negative when `later` is earlier.
    pub fn days_until(self, later: Date) -> i64 {
        later.days_since_epoch - self.days_since_epoch
    }

    fn civil(self) -> (i64, u32, u32) {
        civil_from_days(self.days_since_epoch)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.civil();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
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

/// Counts in eras of 400 years that start on 1 March, so that the leap day ends a year and
/// every era has the same number of days (146,097).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
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
    fn dates_read_and_print_the_same() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "2024-12-31",
            "2027-03-01",
            "1969-12-31",
        ] {
            assert_eq!(Date::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().days_since_epoch, 1);
        assert_eq!(Date::parse("2000-03-01").unwrap().days_since_epoch, 11_017);
    }

    #[test]
    fn impossible_and_malformed_dates_are_refused() {
        for text in [
            "2027-02-29",
            "2100-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-04-31",
            "27-01-01",
            "2027-1-01",
            "2027-01-01-01",
            "2027/01/01",
            "+202-01-01",
            "",
        ] {
            assert_eq!(Date::parse(text), None, "{text}");
        }
    }

    #[test]
    fn days_count_across_months_and_years() {
        let new_year = Date::parse("2026-12-31").unwrap();
        assert_eq!(new_year.plus_days(1).to_string(), "2027-01-01");
        assert_eq!(new_year.plus_days(60).to_string(), "2027-03-01");
        assert_eq!(new_year.days_until(Date::parse("2027-12-31").unwrap()), 365);
        assert_eq!(
            Date::parse("2027-12-31").unwrap().days_until(new_year),
            -365
        );
    }
}
