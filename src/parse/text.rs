//! Text normalisation as the contract defines it.

use quick_xml::escape::resolve_predefined_entity;

/// XML white space: space, tab, CR and LF. A no-break space is text.
pub fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Every run of XML white space becomes one space; the result is trimmed; empty becomes None.
pub fn normalise(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split(is_xml_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

/// Appends what an entity or character reference stands for; an unknown entity is kept as
/// written rather than dropped.
pub fn push_entity(out: &mut String, reference: &str) {
    if let Some(number) = reference.strip_prefix('#') {
        let code = match number.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse().ok(),
        };
        if let Some(c) = code.and_then(char::from_u32) {
            out.push(c);
            return;
        }
    } else if let Some(text) = resolve_predefined_entity(reference) {
        out.push_str(text);
        return;
    }
    out.push('&');
    out.push_str(reference);
    out.push(';');
}
