//! Which records of a protocol numbers snapshot make a protocols(5) file: the entries
//! iana-etc's generator (Mic92/iana-etc `update.py`) makes from the same document, as the data
//! contract states its rules (`docs/data-model.md`).

use crate::model::ProtocolRecord;

/// What a name or description says of a record that protocols(5) must not list.
const SET_ASIDE: [&str; 4] = ["unassigned", "deprecated", "reserved", "historic"];

/// Whether `text` says the record is unassigned, deprecated, reserved or historic (any case).
pub fn says_set_aside(text: &str) -> bool {
    let text = text.to_lowercase();
    SET_ASIDE.iter().any(|word| text.contains(word))
}

/// One line of a protocols(5) file: `keyword number KEYWORD # comment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedProtocol {
    /// The keyword in lower case: what `getprotobyname()` looks up.
    pub name: String,
    pub number: u8,
    /// The keyword as IANA writes it, the entry's alias.
    pub keyword: String,
    /// The record's description on one line; empty when it has none.
    pub comment: String,
}

/// What the protocols export left out, and why.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolsSummary {
    pub lines: usize,
    /// Records without a keyword, or marked unassigned, deprecated, reserved or historic.
    pub set_aside: usize,
    /// Keywords with white space (`ISIS over IPv4`), which protocols(5) cannot hold.
    pub unusable_names: usize,
    /// Named ranges, and values that are not one number from 0 to 255 (protocols(5) has one
    /// number per line).
    pub ranges: usize,
}

/// The entries of a protocols(5) file, in the snapshot's order (by number): one for each
/// record with a single numeric value whose keyword and description say none of unassigned,
/// deprecated, reserved or historic (any case), and whose keyword has no white space.
pub fn protocols_entries(records: &[ProtocolRecord]) -> (Vec<ExportedProtocol>, ProtocolsSummary) {
    let mut summary = ProtocolsSummary::default();
    let mut entries = Vec::new();
    for record in records {
        let description = record.description.as_deref().unwrap_or_default();
        let Some(keyword) = record.name.as_deref() else {
            summary.set_aside += 1;
            continue;
        };
        if says_set_aside(keyword) || says_set_aside(description) {
            summary.set_aside += 1;
            continue;
        }
        let value = record.value.as_deref().unwrap_or_default();
        let number = match value.parse::<u8>() {
            Ok(number) if value.bytes().all(|b| b.is_ascii_digit()) => number,
            _ => {
                summary.ranges += 1;
                continue;
            }
        };
        if keyword.chars().any(char::is_whitespace) {
            summary.unusable_names += 1;
            continue;
        }
        entries.push(ExportedProtocol {
            name: keyword.to_lowercase(),
            number,
            keyword: keyword.to_string(),
            comment: description.replace(['\n', '\r'], " "),
        });
    }
    summary.lines = entries.len();
    (entries, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(value: &str, name: Option<&str>, description: &str) -> ProtocolRecord {
        ProtocolRecord {
            value: Some(value.into()),
            name: name.map(str::to_string),
            description: Some(description.into()),
            ..ProtocolRecord::default()
        }
    }

    #[test]
    fn only_single_numbers_with_plain_live_keywords_are_listed() {
        let records = [
            record("0", Some("HOPOPT"), "IPv6 Hop-by-Hop Option"),
            record("6", Some("TCP"), "Transmission Control"),
            record("13", Some("ARGUS (deprecated)"), "ARGUS"),
            record("61", None, "any host internal protocol"),
            record("124", Some("ISIS over IPv4"), ""),
            record("146-252", None, "Unassigned"),
            record("200-201", Some("X"), "A named range"),
            record("255", Some("Reserved"), ""),
            record("7", Some("CBT"), "CBT, Historic"),
        ];
        let (entries, summary) = protocols_entries(&records);
        let lines: Vec<(&str, u8, &str)> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.number, e.keyword.as_str()))
            .collect();
        assert_eq!(lines, [("hopopt", 0, "HOPOPT"), ("tcp", 6, "TCP")]);
        assert_eq!(
            summary,
            ProtocolsSummary {
                lines: 2,
                set_aside: 5,
                unusable_names: 1,
                ranges: 1,
            }
        );
    }
}
