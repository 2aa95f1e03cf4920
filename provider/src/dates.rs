//! Calendar dates as the resources write them (`YYYY-MM-DD`), counted in days since
//! 1970-01-01 so that expiry and due dates are plain comparisons. The calendar itself is the
//! compliance crate's, shared with the scanner.

pub use hipaa_compliance::calendar::{format_date, read_date, today, DateError};

/// [`read_date`] for callers that only need the date, e.g. of a value already validated.
pub fn parse_date(text: &str) -> Option<i64> {
    read_date(text).ok()
}
