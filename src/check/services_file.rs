//! Reading a services(5) file: `name port/protocol [aliases...] [# comment]` per line.
//!
//! The file is read as bytes and each line decoded on its own, so one bad byte costs one line;
//! blank lines and comments are skipped, and a line that is not an entry (no `/protocol`, a port
//! above 65535, bytes that are not UTF-8 before its comment, ...) is kept with the reason, for
//! the checker to report as `unreadable`, never an error.

use super::{FileLine, read_lines};
use crate::model::PortRange;

/// One entry of a services(5) file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicesEntry {
    /// 1-based.
    pub line: usize,
    pub name: String,
    pub aliases: Vec<String>,
    pub port: u16,
    /// Lower-case, as the registry writes protocols.
    pub protocol: String,
}

/// What a line of a services(5) file is, once blank lines and comments are skipped.
pub type ServicesLine = FileLine<ServicesEntry>;

/// The entries and unreadable lines of a services(5) file, in file order (see
/// [`read_lines`]).
pub fn read_services(bytes: &[u8]) -> Vec<ServicesLine> {
    read_lines(bytes, parse_entry)
}

/// `name port/protocol [aliases...]`, the comment already cut off.
fn parse_entry(line: usize, text: &str) -> Result<ServicesEntry, String> {
    let mut fields = text.split_ascii_whitespace();
    let name = fields.next().unwrap_or_default();
    let Some(port_protocol) = fields.next() else {
        return Err(format!("no port/protocol after {name:?}"));
    };
    let Some((port, protocol)) = port_protocol.split_once('/') else {
        return Err(format!("no protocol in {port_protocol:?} (port/protocol)"));
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{port:?} is not a port number"));
    }
    // Digits only, so the one port parser can refuse it only for its size.
    let port = match port.parse::<PortRange>() {
        Ok(ports) => ports.first,
        Err(_) => return Err(format!("port {port} is above 65535")),
    };
    if protocol.is_empty() {
        return Err(format!("no protocol after {port}/"));
    }
    if !protocol
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!("{protocol:?} is not a protocol"));
    }
    Ok(ServicesEntry {
        line,
        name: name.to_string(),
        aliases: fields.map(str::to_string).collect(),
        port,
        protocol: protocol.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> ServicesEntry {
        match read_services(text.as_bytes()).pop() {
            Some(FileLine::Entry(entry)) => entry,
            other => panic!("{text:?} read as {other:?}"),
        }
    }

    fn unreadable_reason(bytes: &[u8]) -> String {
        match read_services(bytes).as_slice() {
            [FileLine::Unreadable(line)] => line.reason.clone(),
            other => panic!("{bytes:?} read as {other:?}"),
        }
    }

    #[test]
    fn entries_are_read_with_aliases_and_without_comments() {
        let file = b"# a comment\n\n   \t\nssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol\r\n\
                     discard 9/UDP sink null\n#echo 7/tcp\nhttp 80/tcp www # WorldWideWeb HTTP";
        let lines = read_services(file);
        assert_eq!(
            lines,
            [
                FileLine::Entry(ServicesEntry {
                    line: 4,
                    name: "ssh".into(),
                    aliases: vec![],
                    port: 22,
                    protocol: "tcp".into(),
                }),
                FileLine::Entry(ServicesEntry {
                    line: 5,
                    name: "discard".into(),
                    aliases: vec!["sink".into(), "null".into()],
                    port: 9,
                    protocol: "udp".into(),
                }),
                FileLine::Entry(ServicesEntry {
                    line: 7,
                    name: "http".into(),
                    aliases: vec!["www".into()],
                    port: 80,
                    protocol: "tcp".into(),
                }),
            ]
        );
    }

    #[test]
    fn lines_that_are_not_entries_are_unreadable_with_a_reason() {
        assert_eq!(
            unreadable_reason(b"ssh 70000/tcp"),
            "port 70000 is above 65535"
        );
        assert_eq!(
            unreadable_reason(b"ssh 99999999999999999999999/tcp"),
            "port 99999999999999999999999 is above 65535"
        );
        assert_eq!(
            unreadable_reason(b"ssh 22"),
            "no protocol in \"22\" (port/protocol)"
        );
        assert_eq!(unreadable_reason(b"ssh 22/"), "no protocol after 22/");
        assert_eq!(unreadable_reason(b"ssh"), "no port/protocol after \"ssh\"");
        assert_eq!(
            unreadable_reason(b"x11 6000-6063/tcp"),
            "\"6000-6063\" is not a port number"
        );
        assert_eq!(unreadable_reason(b"ssh /tcp"), "\"\" is not a port number");
        assert_eq!(
            unreadable_reason(b"ssh 22/t.p"),
            "\"t.p\" is not a protocol"
        );
        assert_eq!(
            unreadable_reason(b"caf\xe9 22/tcp"),
            "not UTF-8 (byte 4 of the line)"
        );
        assert_eq!(
            unreadable_reason(b"a\x00b 22/tcp"),
            "a control character ('\\0')"
        );
        // The text is kept, decoded lossily.
        match &read_services(b"caf\xe9 22/tcp # x")[0] {
            FileLine::Unreadable(line) => {
                assert_eq!(line.text, "caf\u{fffd} 22/tcp # x");
                assert_eq!(line.line, 1);
            }
            other => panic!("{other:?}"),
        }
        // A byte order mark is not part of the first name.
        assert_eq!(entry("\u{feff}ssh 22/tcp").name, "ssh");
        // Bytes that are not UTF-8 in a comment do not matter; port 0 and leading zeros read.
        assert_eq!(entry("x 0/tcp # caf\u{e9}").port, 0);
        assert!(matches!(
            read_services(b"y 0022/udp # caf\xe9").as_slice(),
            [FileLine::Entry(ServicesEntry { port: 22, .. })]
        ));
    }
}
