//! What users type to name records and dates: `443`, `8000-8100`, `https`, `443/tcp`, `2024`,
//! `2024-06`, `2024-06-15`. Pure parsers, so they can be fuzzed and tested alone; ports and
//! ranges are read by [`PortRange`]'s one parser.

use crate::model::{PortRange, Record, Registry, parse_protocol};
use chrono::NaiveDate;
use std::fmt;
use std::str::FromStr;

/// Which records a lookup asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Records whose port or range overlaps `ports`, optionally of one protocol.
    Ports {
        ports: PortRange,
        protocol: Option<String>,
    },
    /// A service name (case-insensitive), optionally of one protocol.
    Name {
        name: String,
        protocol: Option<String>,
    },
}

/// A lookup a registry cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("{} has no transport protocols to narrow a lookup by: drop /{protocol} (and --proto)", registry.title())]
    NoProtocols {
        registry: Registry,
        protocol: String,
    },
}

impl Lookup {
    /// This lookup, for `R`'s records: refused when it names a transport protocol and they
    /// have none.
    pub fn for_record<R: Record>(self) -> Result<Lookup, LookupError> {
        match (self.protocol(), R::QUALIFIER) {
            (Some(protocol), None) => Err(LookupError::NoProtocols {
                registry: R::REGISTRY,
                protocol: protocol.to_string(),
            }),
            _ => Ok(self),
        }
    }

    pub fn protocol(&self) -> Option<&str> {
        match self {
            Lookup::Ports { protocol, .. } | Lookup::Name { protocol, .. } => protocol.as_deref(),
        }
    }

    /// The same lookup restricted to `protocol` (an explicit `--proto` wins over `443/tcp`).
    pub fn with_protocol(mut self, wanted: Option<String>) -> Lookup {
        if let Some(wanted) = wanted {
            match &mut self {
                Lookup::Ports { protocol, .. } | Lookup::Name { protocol, .. } => {
                    *protocol = Some(wanted)
                }
            }
        }
        self
    }
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lookup::Ports { ports, .. } if ports.is_single() => write!(f, "port {ports}")?,
            Lookup::Ports { ports, .. } => write!(f, "ports {ports}")?,
            Lookup::Name { name, .. } => write!(f, "{name:?}")?,
        }
        match self.protocol() {
            Some(protocol) => write!(f, "/{protocol}"),
            None => Ok(()),
        }
    }
}

impl FromStr for Lookup {
    type Err = String;

    /// `443`, `8000-8100`, `443/tcp`, `https`, `https/tcp`; a name with a slash of its own
    /// (`EtherNet/IP-2`, the protocol keyword `A/N`) is a name.
    fn from_str(text: &str) -> Result<Lookup, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("give a port, a range like 8000-8100, or a service name".into());
        }
        let looks_numeric = |what: &str| {
            what.bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b.is_ascii_whitespace())
                && what.bytes().any(|b| b.is_ascii_digit())
        };
        let (what, protocol) = match text.rsplit_once('/') {
            Some((what, protocol)) if !what.is_empty() => match parse_protocol(protocol) {
                Ok(protocol) => (what, Some(protocol)),
                Err(error) if looks_numeric(what) => return Err(error),
                Err(_) => (text, None),
            },
            _ => (text, None),
        };
        if looks_numeric(what) {
            let ports = what.parse()?;
            Ok(Lookup::Ports { ports, protocol })
        } else {
            Ok(Lookup::Name {
                name: what.to_string(),
                protocol,
            })
        }
    }
}

/// A day, a month or a year, meaning its first day: `2024` is 2024-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinceDate(pub NaiveDate);

impl FromStr for SinceDate {
    type Err = String;

    fn from_str(text: &str) -> Result<SinceDate, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not a date: expected YYYY, YYYY-MM or YYYY-MM-DD");
        let parts: Vec<&str> = text.split('-').collect();
        let widths_ok = match parts.as_slice() {
            [y] => y.len() == 4,
            [y, m] => y.len() == 4 && m.len() == 2,
            [y, m, d] => y.len() == 4 && m.len() == 2 && d.len() == 2,
            _ => false,
        };
        if !widths_ok || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad());
        }
        let number = |i: usize| parts.get(i).map_or(Ok(1), |p| p.parse::<u32>());
        let (year, month, day) = (
            number(0).map_err(|_| bad())?,
            number(1).map_err(|_| bad())?,
            number(2).map_err(|_| bad())?,
        );
        NaiveDate::from_ymd_opt(year as i32, month, day)
            .map(SinceDate)
            .ok_or_else(|| format!("{text:?} is not a real date"))
    }
}

impl fmt::Display for SinceDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let ports = |first, last, p: Option<&str>| Lookup::Ports {
            ports: PortRange { first, last },
            protocol: p.map(str::to_string),
        };
        assert_eq!("443".parse(), Ok(ports(443, 443, None)));
        assert_eq!("443/TCP".parse(), Ok(ports(443, 443, Some("tcp"))));
        assert_eq!("8000-8100".parse(), Ok(ports(8000, 8100, None)));
        assert_eq!("0".parse(), Ok(ports(0, 0, None)));
        assert_eq!(
            "https".parse(),
            Ok(Lookup::Name {
                name: "https".into(),
                protocol: None
            })
        );
        assert_eq!(
            "whois++/tcp".parse(),
            Ok(Lookup::Name {
                name: "whois++".into(),
                protocol: Some("tcp".into())
            })
        );
        // A slash that names no transport protocol is part of the name.
        for name in ["A/N", "EtherNet/IP-2"] {
            assert_eq!(
                name.parse(),
                Ok(Lookup::Name {
                    name: name.into(),
                    protocol: None
                })
            );
        }
        for bad in [
            "65536",
            "100-1",
            "443/icmp",
            "",
            "1-2-3",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<Lookup>().is_err(), "{bad}");
        }
    }

    #[test]
    fn since_dates() {
        let day = |y, m, d| Ok(SinceDate(NaiveDate::from_ymd_opt(y, m, d).unwrap()));
        assert_eq!("2024".parse(), day(2024, 1, 1));
        assert_eq!("2024-06".parse(), day(2024, 6, 1));
        assert_eq!("2024-06-15".parse(), day(2024, 6, 15));
        for bad in [
            "24",
            "2024-6",
            "2024-13",
            "2024-02-30",
            "2024/06",
            "x",
            "",
            "2024-06-15x",
        ] {
            assert!(bad.parse::<SinceDate>().is_err(), "{bad}");
        }
    }
}
