//! The parsers of what users type: dates, ports and ranges, lookups, snapshot references.
//! None may panic, and what they accept must be in range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portreg::lookup::{
    Lookup, MAX_PORT, SinceDate, parse_ports, parse_protocol, registry_date_on_or_after,
};
use portreg::model::parse_port_range;
use portreg::store::SnapshotRef;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((lo, hi)) = parse_ports(text) {
        assert!(lo <= hi && hi <= MAX_PORT);
    }
    if let Ok(Lookup::Ports { lo, hi, .. }) = text.parse::<Lookup>() {
        assert!(lo <= hi && hi <= MAX_PORT);
    }
    let _ = parse_protocol(text);
    let _ = parse_port_range(text);
    if let Ok(since) = text.parse::<SinceDate>() {
        // A date always counts as on or after itself.
        assert!(registry_date_on_or_after(&since.to_string(), since));
        let _ = registry_date_on_or_after(text, since);
    }
    let _ = text.parse::<SnapshotRef>();
});
