//! The parser on arbitrary bytes, as a document of each registry: it must never panic, and
//! parsing with a memo of another document, or with namespace resolution forced, must give
//! exactly what a fresh parse gives (optimisations, never another answer). Telling a
//! document's registry never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portreg::model::{ProtocolRecord, Record, ServiceRecord};
use portreg::parse::{ParseMemo, parse_document, parse_namespace_aware, parse_with_memo, registry_of};

/// Small valid documents whose records the input may repeat, so the memo gets hits.
const SERVICES_SEED: &[u8] = include_bytes!("../seeds/parse/small.xml");
const PROTOCOLS_SEED: &[u8] = include_bytes!("../seeds/parse/protocols.xml");

fn check<R: Record>(data: &[u8], seed: &[u8]) {
    let fresh = parse_document::<R>(data);
    assert_eq!(fresh, parse_namespace_aware::<R>(data));
    let mut memo = ParseMemo::<R>::default();
    let _ = parse_with_memo(seed, &mut memo);
    let memoised = parse_with_memo(data, &mut memo);
    assert_eq!(fresh, memoised);
    // And the other way round: the input as the memo's document.
    let _ = parse_with_memo(seed, &mut memo);
}

fuzz_target!(|data: &[u8]| {
    let _ = registry_of(data);
    check::<ServiceRecord>(data, SERVICES_SEED);
    check::<ProtocolRecord>(data, PROTOCOLS_SEED);
});
