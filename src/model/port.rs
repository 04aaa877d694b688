//! Ports and the transport protocols the registry uses: one port type (`u16`), one range type,
//! and one parser for what users type (`80`, `6000-6063`) and what the registry writes in
//! `<number>`.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Transport protocols the registry uses, in the order services(5) files list them.
pub const PROTOCOLS: [&str; 4] = ["tcp", "udp", "sctp", "dccp"];

/// An inclusive range of ports, `first..=last`; one port is a range of one. As JSON
/// `{"from","to"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PortRange {
    #[serde(rename = "from")]
    pub first: u16,
    #[serde(rename = "to")]
    pub last: u16,
}

impl PortRange {
    /// Every port, 0-65535.
    pub const ALL: PortRange = PortRange {
        first: 0,
        last: u16::MAX,
    };

    /// The one port `port`.
    pub fn single(port: u16) -> PortRange {
        PortRange {
            first: port,
            last: port,
        }
    }

    /// Whether it is one port.
    pub fn is_single(self) -> bool {
        self.first == self.last
    }

    /// How many ports it holds.
    pub fn size(self) -> u32 {
        u32::from(self.last) - u32::from(self.first) + 1
    }

    pub fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

    /// Whether the two share a port.
    pub fn overlaps(self, other: PortRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

/// `443` or `6000-6063`, as the registry writes it and `show`, `free` and `check` read it.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// A port `443` or a range `8000-8100`, each within 0..=65535 and ascending; blanks around
/// the numbers and leading zeros are allowed.
impl FromStr for PortRange {
    type Err = String;

    fn from_str(text: &str) -> Result<PortRange, String> {
        let number = |part: &str| -> Result<u16, String> {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{text:?} is not a port or a range like 8000-8100"));
            }
            let digits = part.trim_start_matches('0');
            match digits.parse::<u16>() {
                _ if digits.is_empty() => Ok(0),
                Ok(port) => Ok(port),
                Err(_) => Err(format!("port {digits} is above {}", u16::MAX)),
            }
        };
        match text.split_once('-') {
            None => number(text).map(PortRange::single),
            Some((first, last)) => {
                let (first, last) = (number(first)?, number(last)?);
                if first > last {
                    return Err(format!("range {text:?} runs backwards"));
                }
                Ok(PortRange { first, last })
            }
        }
    }
}

/// A protocol name as the registry writes it (lower-case), or an error naming the known ones.
pub fn parse_protocol(text: &str) -> Result<String, String> {
    let lower = text.trim().to_ascii_lowercase();
    if PROTOCOLS.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(format!(
            "unknown protocol {text:?}: expected one of {}",
            PROTOCOLS.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_ranges_parse_and_nonsense_is_refused_with_a_reason() {
        let range = |first, last| Ok(PortRange { first, last });
        assert_eq!("443".parse(), range(443, 443));
        assert_eq!("225-241".parse(), range(225, 241));
        assert_eq!(" 225 - 241 ".parse(), range(225, 241));
        assert_eq!("0".parse(), range(0, 0));
        assert_eq!("65535".parse(), range(65535, 65535));
        assert_eq!("000443".parse(), range(443, 443));
        assert_eq!("00".parse(), range(0, 0));
        let refused = |text: &str| text.parse::<PortRange>().unwrap_err();
        assert_eq!(refused("70000"), "port 70000 is above 65535");
        assert_eq!(refused("0070000"), "port 70000 is above 65535");
        assert_eq!(
            refused("99999999999999999999"),
            "port 99999999999999999999 is above 65535"
        );
        assert_eq!(refused("241-225"), "range \"241-225\" runs backwards");
        for bad in ["abc", "", "+443", "1-2-3", "12ab", "-1"] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
        assert_eq!(PortRange::single(4711).to_string(), "4711");
        assert_eq!(
            "6000-6063".parse::<PortRange>().unwrap().to_string(),
            "6000-6063"
        );
        assert_eq!(
            serde_json::to_value(PortRange::single(7)).unwrap(),
            serde_json::json!({"from": 7, "to": 7})
        );
    }

    #[test]
    fn protocols_are_lower_case_and_known() {
        assert_eq!(parse_protocol(" TCP "), Ok("tcp".to_string()));
        assert!(
            parse_protocol("icmp")
                .unwrap_err()
                .contains("tcp, udp, sctp, dccp")
        );
    }
}
