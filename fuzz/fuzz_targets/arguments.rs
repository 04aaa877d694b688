//! The parsers of what users type: dates, ports and ranges, lookups, snapshot references.
//! None may panic, and what they accept must be in range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portreg::changes::record_date_on_or_after;
use portreg::lookup::{Lookup, SinceDate};
use portreg::model::{PortRange, RegistryDate, parse_protocol};
use portreg::store::SnapshotRef;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ports) = text.parse::<PortRange>() {
        assert!(ports.first <= ports.last);
        // What it prints reads back the same.
        assert_eq!(ports.to_string().parse::<PortRange>(), Ok(ports));
    }
    if let Ok(Lookup::Ports { ports, .. }) = text.parse::<Lookup>() {
        assert!(ports.first <= ports.last);
    }
    let _ = parse_protocol(text);
    if let Ok(date) = text.parse::<RegistryDate>() {
        assert_eq!(date.to_string(), text);
    }
    if let Ok(since) = text.parse::<SinceDate>() {
        // A date always counts as on or after itself.
        let day = since.to_string();
        assert!(record_date_on_or_after(&day, &day));
        let _ = record_date_on_or_after(text, &day);
    }
    let _ = text.parse::<SnapshotRef>();
});
