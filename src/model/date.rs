//! The registry's own version date, `<updated>`: a day, written `YYYY-MM-DD`, and the date a
//! snapshot is known by.

use chrono::{Datelike, NaiveDate};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use std::fmt;
use std::str::FromStr;

/// A registry's `<updated>` date. Written, stored and printed as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistryDate(NaiveDate);

impl RegistryDate {
    pub fn new(date: NaiveDate) -> RegistryDate {
        RegistryDate(date)
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }
}

/// Text that is not a registry date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a YYYY-MM-DD date")]
pub struct NotARegistryDate(pub String);

/// Exactly `YYYY-MM-DD`, a real day (chrono alone would take `2024-1-5` too).
impl FromStr for RegistryDate {
    type Err = NotARegistryDate;

    fn from_str(text: &str) -> Result<RegistryDate, NotARegistryDate> {
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) if text.len() == 10 => Ok(RegistryDate(date)),
            _ => Err(NotARegistryDate(text.to_string())),
        }
    }
}

impl fmt::Display for RegistryDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl serde::Serialize for RegistryDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl ToSql for RegistryDate {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for RegistryDate {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|error| FromSqlError::Other(Box::new(error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_real_days_are_registry_dates() {
        let date: RegistryDate = "2024-01-05".parse().unwrap();
        assert_eq!(date.to_string(), "2024-01-05");
        assert_eq!(date.year(), 2024);
        for bad in [
            "2024-1-5",
            "2024-02-30",
            "2024-01",
            "24-01-05",
            "",
            "2024-01-05x",
        ] {
            assert!(bad.parse::<RegistryDate>().is_err(), "{bad}");
        }
    }
}
