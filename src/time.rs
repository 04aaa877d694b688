//! Moments in time as portreg writes them: one type, one formatter.
//!
//! Every time portreg stores or prints (when a snapshot was observed or imported, when a fetch
//! started, when a capture was checked) is UTC, RFC 3339, to the second: `2024-06-01T12:00:00Z`.
//! Code that needs "now" takes a [`Timestamp`] from its caller, so tests can fix it.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use std::fmt;
use std::str::FromStr;

/// A moment in UTC, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The system clock: only the command line asks it; the library is given times.
    pub fn now() -> Timestamp {
        Timestamp::from(Utc::now())
    }
}

/// Fractions of a second are dropped: a time reads back equal to what was written.
impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Timestamp {
        Timestamp(time.trunc_subsecs(0))
    }
}

impl<Tz: chrono::TimeZone> From<&DateTime<Tz>> for Timestamp {
    fn from(time: &DateTime<Tz>) -> Timestamp {
        Timestamp::from(time.with_timezone(&Utc))
    }
}

impl From<std::time::SystemTime> for Timestamp {
    fn from(time: std::time::SystemTime) -> Timestamp {
        Timestamp::from(DateTime::<Utc>::from(time))
    }
}

/// The one way a time is written: `2024-06-01T12:00:00Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// Any RFC 3339 time (an offset is turned into UTC).
impl FromStr for Timestamp {
    type Err = chrono::ParseError;
    fn from_str(text: &str) -> Result<Timestamp, Self::Err> {
        Ok(Timestamp::from(&DateTime::parse_from_rfc3339(text.trim())?))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_to_the_second_in_utc_and_read_back() {
        let time: Timestamp = "2024-06-01T14:00:00.75+02:00".parse().unwrap();
        assert_eq!(time.to_string(), "2024-06-01T12:00:00Z");
        assert_eq!(time.to_string().parse::<Timestamp>().unwrap(), time);
        assert!("2024-06-01".parse::<Timestamp>().is_err());
    }
}
