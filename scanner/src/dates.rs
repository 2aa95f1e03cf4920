//! Calendar dates as suppressions and ledger records write them (`YYYY-MM-DD`), held as days
//! since 1970-01-01 so that expiry is a plain comparison. Every date is a UTC day.

use hipaa_compliance::calendar;
use std::fmt;

/// One day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days_since_epoch: i64,
}

impl Date {
    /// Reads `YYYY-MM-DD`, refusing impossible dates such as `2027-02-30`.
    pub fn parse(text: &str) -> Option<Date> {
        let days_since_epoch = calendar::read_date(text).ok()?;
        Some(Date { days_since_epoch })
    }

    /// Today in UTC, by the system clock.
    pub fn today() -> Date {
        Date {
            days_since_epoch: calendar::today(),
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
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&calendar::format_date(self.days_since_epoch))
    }
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
