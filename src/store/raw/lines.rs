//! A document's lines as tokens for the line diff: equal lines get equal tokens, and each
//! document's lines are hashed once, however many diffs they take part in. A batch diffs each
//! version against the one before it, so the lines of a version, tokenized when it was the new
//! side, are the base side of the next diff as they are (interning both sides of every diff
//! afresh was half of a backfill's storing thread).
//!
//! The table keeps, for each line hash seen, a token and where that line last stood: in the
//! document tokenized last, or in the one being tokenized. A line gets a known token only when
//! its bytes equal the line standing there, so two different lines never share a token,
//! whatever their hashes. A line that stands in neither document cannot match anything in
//! them, so its token is free to take again.

use imara_diff::Token;
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// A document's lines: where each starts (and where the last one ends) and its token.
#[derive(Debug, Clone)]
pub struct Lines {
    /// Which tokenization of its table this is.
    generation: u32,
    /// The generation of the document it was tokenized against, if any: only with that one
    /// do its tokens mean the same lines.
    against: Option<u32>,
    starts: Vec<u32>,
    tokens: Vec<Token>,
    /// Tokens given by the table so far: more than any token here or in `against`'s.
    token_count: u32,
}

impl Lines {
    /// Where each line starts, and where the last one ends.
    pub fn starts(&self) -> &[u32] {
        &self.starts
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Whether these lines were tokenized against `base`'s, so their tokens can be compared.
    pub fn follow(&self, base: &Lines) -> bool {
        self.against == Some(base.generation)
    }

    /// More than any token of these lines and of the lines they follow.
    pub fn token_count(&self) -> u32 {
        self.token_count
    }
}

/// The hash of a line, as the key of the table: already a hash, so not hashed again.
#[derive(Default)]
struct LineHash(u64);

impl Hasher for LineHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 line hashes are keys")
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// Where a line with some hash last stood, and its token.
struct Seen {
    token: Token,
    generation: u32,
    start: u32,
    end: u32,
}

/// Tokens for the lines of documents tokenized one after another.
#[derive(Default)]
pub struct LineTable {
    seen: HashMap<u64, Seen, BuildHasherDefault<LineHash>>,
    token_count: u32,
    generation: u32,
}

impl LineTable {
    /// Tokens given so far.
    pub fn token_count(&self) -> u32 {
        self.token_count
    }

    /// Whether `lines` are the lines this table tokenized last, which the next document can
    /// be tokenized against.
    pub fn is_last(&self, lines: &Lines) -> bool {
        lines.generation == self.generation
    }

    /// The lines of `document`, to be diffed against `base` (the document and lines this
    /// table tokenized last) when there is one. Without a base the table starts afresh.
    pub fn tokenize(&mut self, document: &[u8], base: Option<(&[u8], &Lines)>) -> Lines {
        let base = base.filter(|(_, lines)| self.is_last(lines));
        if base.is_none() {
            self.seen.clear();
            self.token_count = 0;
        }
        self.generation += 1;
        let generation = self.generation;
        let mut starts = Vec::with_capacity(document.len() / 50 + 2);
        let mut tokens = Vec::with_capacity(document.len() / 50 + 1);
        let mut start = 0;
        while start < document.len() {
            let end =
                memchr::memchr(b'\n', &document[start..]).map_or(document.len(), |i| start + i + 1);
            let line = &document[start..end];
            let standing = |seen: &Seen| -> Option<&[u8]> {
                match seen.generation {
                    g if g == generation => document.get(seen.start as usize..seen.end as usize),
                    g if g + 1 == generation => base
                        .and_then(|(bytes, _)| bytes.get(seen.start as usize..seen.end as usize)),
                    // In neither document: nothing here can match it.
                    _ => Some(line),
                }
            };
            let token = match self.seen.entry(FxBuildHasher.hash_one(line)) {
                Entry::Occupied(mut entry) if standing(entry.get()) == Some(line) => {
                    let seen = entry.get_mut();
                    (seen.generation, seen.start, seen.end) =
                        (generation, start as u32, end as u32);
                    seen.token
                }
                // Another line with the same hash: a token of its own.
                Entry::Occupied(_) => {
                    self.token_count += 1;
                    Token(self.token_count - 1)
                }
                Entry::Vacant(entry) => {
                    self.token_count += 1;
                    let token = Token(self.token_count - 1);
                    entry.insert(Seen {
                        token,
                        generation,
                        start: start as u32,
                        end: end as u32,
                    });
                    token
                }
            };
            starts.push(start as u32);
            tokens.push(token);
            start = end;
        }
        starts.push(document.len() as u32);
        Lines {
            generation,
            against: base.map(|(_, lines)| lines.generation),
            starts,
            tokens,
            token_count: self.token_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(lines: &Lines) -> Vec<u32> {
        lines.tokens().iter().map(|t| t.0).collect()
    }

    #[test]
    fn equal_lines_share_tokens_across_documents_and_different_ones_never_do() {
        let mut table = LineTable::default();
        let a = b"x\ny\nx\nz\n";
        let b = b"y\nw\nx\n";
        let first = table.tokenize(a, None);
        assert_eq!(first.starts(), [0, 2, 4, 6, 8]);
        assert_eq!(tokens(&first), [0, 1, 0, 2]);
        let second = table.tokenize(b, Some((a, &first)));
        assert!(second.follow(&first));
        assert_eq!(tokens(&second), [1, 3, 0]);
        // A third document against the second: `z` stands in neither, so its entry is
        // taken as it comes back; `w` is matched against the second.
        let c = b"z\nw\n";
        let third = table.tokenize(c, Some((b, &second)));
        assert_eq!(tokens(&third), [2, 3]);
        assert!(third.token_count() > 3);
        // A last line without a line break is a line of its own, unlike the one with it.
        let fourth = table.tokenize(b"w", Some((c, &third)));
        assert_eq!(fourth.starts(), [0, 1]);
        assert_ne!(tokens(&fourth), [3]);
    }

    #[test]
    fn lines_with_one_hash_but_other_bytes_get_tokens_of_their_own() {
        let mut table = LineTable::default();
        let a = b"one\ntwo\n";
        let first = table.tokenize(a, None);
        // Make every line of the next document collide with `one` by hand.
        let hash_of_one = FxBuildHasher.hash_one(&b"one\n"[..]);
        let seen = table.seen.remove(&hash_of_one).unwrap();
        let hash_of_two = FxBuildHasher.hash_one(&b"two\n"[..]);
        table.seen.insert(hash_of_two, seen);
        let second = table.tokenize(b"two\n", Some((a, &first)));
        // `two` found `one`'s entry under its hash, and its bytes differ: a new token.
        assert_ne!(tokens(&second), [tokens(&first)[0]]);
        assert_ne!(tokens(&second), [tokens(&first)[1]]);
    }

    #[test]
    fn without_the_last_document_as_base_the_table_starts_afresh() {
        let mut table = LineTable::default();
        let a = b"a\n";
        let first = table.tokenize(a, None);
        let second = table.tokenize(b"b\n", Some((a, &first)));
        // `first` is not the last tokenized any more: the third starts afresh.
        let third = table.tokenize(b"a\n", Some((a, &first)));
        assert!(!third.follow(&first) && second.follow(&first));
        assert_eq!(tokens(&third), [0]);
        assert!(table.tokenize(b"", None).is_empty());
    }
}
