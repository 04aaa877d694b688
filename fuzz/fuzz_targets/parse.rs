//! The registry parser on arbitrary bytes: it must never panic, and parsing with a memo of
//! another document, or with namespace resolution forced, must give exactly what a fresh parse
//! gives (optimisations, never another answer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portreg::parse::{
    ParseMemo, parse_registry, parse_registry_namespace_aware, parse_registry_with_memo,
};

/// A small valid registry whose records the input may repeat, so the memo gets hits.
const SEED: &[u8] = include_bytes!("../seeds/parse/small.xml");

fuzz_target!(|data: &[u8]| {
    let fresh = parse_registry(data);
    assert_eq!(fresh, parse_registry_namespace_aware(data));
    let mut memo = ParseMemo::default();
    let _ = parse_registry_with_memo(SEED, &mut memo);
    let memoised = parse_registry_with_memo(data, &mut memo);
    assert_eq!(fresh, memoised);
    // And the other way round: the input as the memo's document.
    let _ = parse_registry_with_memo(SEED, &mut memo);
});
