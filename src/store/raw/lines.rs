//! A document's lines as tokens for the line diff: equal lines get equal tokens, and each
//! document's lines are read once, however many diffs they take part in. A batch diffs each
//! version against the one before it, so the lines of a version, tokenized when it was the new
//! side, are the base side of the next diff as they are (interning both sides of every diff
//! afresh was half of a backfill's storing thread).
//!
//! A new document is read against its base in step: while its lines equal the base's, line
//! for line, they take the base's tokens, without hashing (consecutive versions share all but a
//! few dozen of their 60,000 lines, in the same order). A line that differs is looked up by
//! its hash, and gets a token only after its bytes are compared with a line that has that
//! token: the line where the token last stood, in the base or the new document. So two
//! different lines never share a token, whatever their hashes. Where the lookup finds the line
//! in the base, reading in step goes on from there.

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

    /// The bytes of line `i` of `document`, whose lines these are.
    fn line<'d>(&self, document: &'d [u8], i: usize) -> &'d [u8] {
        &document[self.starts[i] as usize..self.starts[i + 1] as usize]
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

/// Where a token last stood: a line of the document of some generation.
#[derive(Debug, Clone, Copy, Default)]
struct Stood {
    generation: u32,
    line: u32,
}

/// Tokens for the lines of documents tokenized one after another.
#[derive(Default)]
pub struct LineTable {
    /// The token of each line hash seen.
    tokens: HashMap<u64, Token, BuildHasherDefault<LineHash>>,
    /// Where each token last stood, by token.
    stood: Vec<Stood>,
    generation: u32,
}

/// The document being tokenized and its base, for comparing lines.
struct Sides<'a> {
    generation: u32,
    document: &'a [u8],
    starts: &'a [u32],
    base: Option<(&'a [u8], &'a Lines)>,
}

impl Sides<'_> {
    /// The bytes of the line a token stood at last, when that is in this document or its
    /// base; None when it stood in neither.
    fn standing(&self, stood: Stood) -> Option<&[u8]> {
        let line = stood.line as usize;
        if stood.generation == self.generation {
            let start = *self.starts.get(line)? as usize;
            let end = *self.starts.get(line + 1)? as usize;
            return self.document.get(start..end);
        }
        match self.base {
            Some((bytes, lines)) if stood.generation == lines.generation => {
                Some(lines.line(bytes, line))
            }
            _ => None,
        }
    }
}

impl LineTable {
    /// Tokens given so far.
    pub fn token_count(&self) -> u32 {
        self.stood.len() as u32
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
            self.tokens.clear();
            self.stood.clear();
        }
        self.generation += 1;
        let mut starts = Vec::with_capacity(document.len() / 50 + 2);
        let mut tokens = Vec::with_capacity(document.len() / 50 + 1);
        // The base's line that the next line of the document is expected to equal.
        let mut in_step = 0;
        let mut at = 0;
        while at < document.len() {
            starts.push(at as u32);
            let (end, token) = match base.and_then(|base| same_line(base, in_step, document, at)) {
                Some((end, token)) => {
                    in_step += 1;
                    (end, token)
                }
                None => {
                    let end = memchr::memchr(b'\n', &document[at..])
                        .map_or(document.len(), |i| at + i + 1);
                    let sides = Sides {
                        generation: self.generation,
                        document,
                        starts: &starts,
                        base,
                    };
                    let (token, found) = self.look_up(&sides, &document[at..end]);
                    if let Some(base_line) = found {
                        in_step = base_line + 1;
                    }
                    (end, token)
                }
            };
            self.stood[token.0 as usize] = Stood {
                generation: self.generation,
                line: tokens.len() as u32,
            };
            tokens.push(token);
            at = end;
        }
        starts.push(document.len() as u32);
        Lines {
            generation: self.generation,
            against: base.map(|(_, lines)| lines.generation),
            starts,
            tokens,
            token_count: self.token_count(),
        }
    }

    /// The token of a line out of step, by its hash, checked against where that token last
    /// stood; a new token when it stood nowhere else or at another line. With the token, the
    /// base's line it stood at, if it did.
    fn look_up(&mut self, sides: &Sides, line: &[u8]) -> (Token, Option<usize>) {
        let fresh = |stood: &mut Vec<Stood>| {
            stood.push(Stood::default());
            Token(stood.len() as u32 - 1)
        };
        match self.tokens.entry(FxBuildHasher.hash_one(line)) {
            Entry::Vacant(entry) => (*entry.insert(fresh(&mut self.stood)), None),
            Entry::Occupied(entry) => {
                let token = *entry.get();
                let stood = self.stood[token.0 as usize];
                match sides.standing(stood) {
                    Some(standing) if standing == line => {
                        let in_base = stood.generation != sides.generation;
                        (token, in_base.then_some(stood.line as usize))
                    }
                    // Another line with the same hash: a token of its own.
                    Some(_) => (fresh(&mut self.stood), None),
                    // It stands in neither document, so nothing in them has its token.
                    None => (token, None),
                }
            }
        }
    }
}

/// Where the line at `document[at..]` ends and its token, when it is line `i` of the base:
/// the same bytes, through the base line's line break (or the end of both).
fn same_line(
    base: (&[u8], &Lines),
    i: usize,
    document: &[u8],
    at: usize,
) -> Option<(usize, Token)> {
    let (bytes, lines) = base;
    if i >= lines.len() {
        return None;
    }
    let line = lines.line(bytes, i);
    let end = at + line.len();
    let whole = line.last() == Some(&b'\n') || end == document.len();
    (whole && document.get(at..end) == Some(line)).then(|| (end, lines.tokens[i]))
}

/// Where each line starts in a document, and where the last one ends (lines end after '\n';
/// a last line may have none).
pub fn line_starts(document: &[u8]) -> Vec<u32> {
    let mut starts = Vec::with_capacity(document.len() / 50 + 2);
    starts.push(0);
    starts.extend(memchr::memchr_iter(b'\n', document).map(|i| i as u32 + 1));
    if *starts.last().unwrap_or(&0) != document.len() as u32 {
        starts.push(document.len() as u32);
    }
    starts
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
        // A third document against the second: `z` stands in neither, so its token is taken
        // as it comes back; `w` is matched against the second.
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
    fn reading_in_step_resumes_after_inserted_and_removed_lines() {
        let mut table = LineTable::default();
        let a = b"a\nb\nc\nd\ne\nf\n";
        let first = table.tokenize(a, None);
        // `c` removed, `x` inserted, `e` and `f` swapped.
        let b = b"a\nb\nd\nx\nf\ne\n";
        let second = table.tokenize(b, Some((a, &first)));
        let (t1, t2) = (tokens(&first), tokens(&second));
        assert_eq!(t2[..3], [t1[0], t1[1], t1[3]]);
        assert!(!t1.contains(&t2[3]));
        assert_eq!(t2[4..], [t1[5], t1[4]]);
    }

    #[test]
    fn lines_with_one_hash_but_other_bytes_get_tokens_of_their_own() {
        let mut table = LineTable::default();
        let a = b"one\ntwo\n";
        let first = table.tokenize(a, None);
        // Make the next document's line find `one`'s token under its own hash.
        let one = table.tokens[&FxBuildHasher.hash_one(&b"one\n"[..])];
        table
            .tokens
            .insert(FxBuildHasher.hash_one(&b"three\n"[..]), one);
        let second = table.tokenize(b"three\n", Some((a, &first)));
        assert!(!tokens(&first).contains(&tokens(&second)[0]));
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
