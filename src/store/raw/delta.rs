//! Line deltas between versions of a document: what a version keeps of another one (runs of
//! its lines) and what it adds (new lines). Consecutive registry versions share all but a few
//! dozen of their 60,000 lines, so a delta is a few hundred bytes compressed.
//!
//! Deltas compose: the delta from A to B and the one from B to C make the one from A to C
//! without either document being rebuilt, in time that depends on the deltas' sizes, not the
//! documents'. That is what makes reading any version cheap however long the history.

use super::lines::{LineTable, Lines, line_starts};
use imara_diff::{Algorithm, Diff};

/// Why stored bytes are not a delta that fits its base.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadDelta(&'static str);

/// A run of a document, relative to its base: lines of the base, or lines of the delta's own
/// text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// `lines` lines of the base from line `start` on.
    Base { start: u32, lines: u32 },
    /// `lines` of the delta's own lines from its line `first` on.
    Own { first: u32, lines: u32 },
}

impl Run {
    fn lines(self) -> u32 {
        match self {
            Run::Base { lines, .. } | Run::Own { lines, .. } => lines,
        }
    }
}

/// How to make a document from a base: its runs in order, and the lines that are its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    runs: Vec<Run>,
    /// The delta's own lines, one after the other.
    text: Vec<u8>,
    /// Where each own line starts in `text`, and where the last one ends.
    own_starts: Vec<u32>,
}

impl Delta {
    /// The delta that makes `new` from `old`.
    pub fn between(old: &[u8], new: &[u8]) -> Delta {
        let mut table = LineTable::default();
        let old_lines = table.tokenize(old, None);
        let new_lines = table.tokenize(new, Some((old, &old_lines)));
        Delta::of_lines(&old_lines, new, &new_lines)
    }

    /// The delta that makes `new` from the document of `old`: a histogram diff of their lines,
    /// tokenized by one table, `new_lines` against `old`.
    pub fn of_lines(old: &Lines, new: &[u8], new_lines: &Lines) -> Delta {
        debug_assert!(new_lines.follow(old));
        let mut diff = Diff::default();
        diff.compute_with(
            Algorithm::Histogram,
            old.tokens(),
            new_lines.tokens(),
            new_lines.token_count(),
        );
        let mut delta = Delta {
            own_starts: vec![0],
            ..Delta::default()
        };
        let mut at = 0u32;
        for hunk in diff.hunks() {
            delta.push_base(at, hunk.before.start - at);
            at = hunk.before.end;
            let added = hunk.after.len() as u32;
            delta.push_own(new, new_lines.starts(), hunk.after.start, added);
        }
        delta.push_base(at, old.len() as u32 - at);
        delta
    }

    fn push_base(&mut self, start: u32, lines: u32) {
        if lines == 0 {
            return;
        }
        if let Some(Run::Base {
            start: last_start,
            lines: last_lines,
        }) = self.runs.last_mut()
            && *last_start + *last_lines == start
        {
            *last_lines += lines;
            return;
        }
        self.runs.push(Run::Base { start, lines });
    }

    /// Appends lines `first..first+lines` of a text (whose lines start at `starts`) as the
    /// delta's own lines.
    fn push_own(&mut self, text: &[u8], starts: &[u32], first: u32, lines: u32) {
        if lines == 0 {
            return;
        }
        let own_first = self.own_starts.len() as u32 - 1;
        let (from, to) = (first as usize, (first + lines) as usize);
        let offset = self.text.len() as u32;
        let base = starts[from];
        self.own_starts
            .extend(starts[from + 1..=to].iter().map(|end| end - base + offset));
        self.text
            .extend_from_slice(&text[base as usize..starts[to] as usize]);
        match self.runs.last_mut() {
            Some(Run::Own {
                first: last_first,
                lines: last_lines,
            }) if *last_first + *last_lines == own_first => *last_lines += lines,
            _ => self.runs.push(Run::Own {
                first: own_first,
                lines,
            }),
        }
    }

    /// Where each run ends, counted in lines of the document this delta makes.
    fn run_ends(&self) -> Vec<u32> {
        let mut end = 0;
        self.runs
            .iter()
            .map(|run| {
                end += run.lines();
                end
            })
            .collect()
    }

    /// Lines `first..first+lines` of the document this delta makes, appended to `out` as
    /// runs of this delta's base (`ends` from [`Delta::run_ends`]).
    fn slice_into(&self, ends: &[u32], mut first: u32, mut lines: u32, out: &mut Delta) {
        let mut index = ends.partition_point(|&end| end <= first);
        while lines > 0 && index < self.runs.len() {
            let run = self.runs[index];
            let run_first = ends[index] - run.lines();
            let skip = first - run_first;
            let take = (run.lines() - skip).min(lines);
            match run {
                Run::Base { start, .. } => out.push_base(start + skip, take),
                Run::Own { first: own, .. } => {
                    out.push_own(&self.text, &self.own_starts, own + skip, take)
                }
            }
            first += take;
            lines -= take;
            index += 1;
        }
    }

    /// How many lines the document this delta makes has.
    pub fn lines_made(&self) -> u32 {
        self.runs.iter().map(|run| run.lines()).sum()
    }

    /// How many lines of its base it reads at most: the base must have that many.
    fn base_lines_needed(&self) -> u32 {
        self.runs
            .iter()
            .map(|run| match run {
                Run::Base { start, lines } => start + lines,
                Run::Own { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// The delta from this one's base to the document `next` makes from this one's document.
    pub fn then(&self, next: &Delta) -> Result<Delta, BadDelta> {
        if next.base_lines_needed() > self.lines_made() {
            return Err(BadDelta("a delta reads lines its base does not have"));
        }
        let mut out = Delta {
            own_starts: vec![0],
            ..Delta::default()
        };
        let ends = self.run_ends();
        for &run in &next.runs {
            match run {
                Run::Base { start, lines } => self.slice_into(&ends, start, lines, &mut out),
                Run::Own { first, lines } => {
                    out.push_own(&next.text, &next.own_starts, first, lines)
                }
            }
        }
        Ok(out)
    }

    /// The document this delta makes from `base`.
    pub fn apply(&self, base: &[u8]) -> Result<Vec<u8>, BadDelta> {
        let base_starts = line_starts(base);
        if self.base_lines_needed() as usize >= base_starts.len() {
            return Err(BadDelta("a delta reads lines its base does not have"));
        }
        let mut out = Vec::with_capacity(base.len() + self.text.len());
        for &run in &self.runs {
            match run {
                Run::Base { start, lines } => {
                    let from = base_starts[start as usize] as usize;
                    let to = base_starts[(start + lines) as usize] as usize;
                    out.extend_from_slice(&base[from..to]);
                }
                Run::Own { first, lines } => {
                    let from = self.own_starts[first as usize] as usize;
                    let to = self.own_starts[(first + lines) as usize] as usize;
                    out.extend_from_slice(&self.text[from..to]);
                }
            }
        }
        Ok(out)
    }

    /// The delta as bytes: varints of the runs, then the own lines' lengths, then their text.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, self.runs.len() as u64);
        for &run in &self.runs {
            match run {
                Run::Base { start, lines } => {
                    put(&mut out, u64::from(lines) << 1);
                    put(&mut out, u64::from(start));
                }
                Run::Own { lines, .. } => put(&mut out, u64::from(lines) << 1 | 1),
            }
        }
        put(&mut out, self.own_starts.len() as u64 - 1);
        for pair in self.own_starts.windows(2) {
            put(&mut out, u64::from(pair[1] - pair[0]));
        }
        out.extend_from_slice(&self.text);
        out
    }
}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

impl Delta {
    /// A delta from the bytes [`Delta::encode`] made; anything else is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Delta, BadDelta> {
        let mut reader = Varints { bytes, at: 0 };
        let runs = reader.next()?;
        let mut delta = Delta {
            own_starts: vec![0],
            ..Delta::default()
        };
        let mut own_lines = 0u64;
        for _ in 0..runs.min(bytes.len() as u64) {
            let head = reader.next()?;
            let lines = u32::try_from(head >> 1).map_err(|_| BadDelta("a run is too long"))?;
            if head & 1 == 0 {
                let start =
                    u32::try_from(reader.next()?).map_err(|_| BadDelta("a run starts too far"))?;
                start
                    .checked_add(lines)
                    .ok_or(BadDelta("a run ends too far"))?;
                delta.runs.push(Run::Base { start, lines });
            } else {
                let first = u32::try_from(own_lines).map_err(|_| BadDelta("too many lines"))?;
                delta.runs.push(Run::Own { first, lines });
                own_lines += u64::from(lines);
            }
        }
        if delta.runs.len() as u64 != runs {
            return Err(BadDelta("fewer runs than announced"));
        }
        if reader.next()? != own_lines {
            return Err(BadDelta("own lines do not match the runs"));
        }
        let mut end = 0u64;
        for _ in 0..own_lines {
            end += reader.next()?;
            let end = u32::try_from(end).map_err(|_| BadDelta("own text too long"))?;
            delta.own_starts.push(end);
        }
        delta.text = bytes[reader.at..].to_vec();
        if u64::from(*delta.own_starts.last().unwrap_or(&0)) != delta.text.len() as u64 {
            return Err(BadDelta("own text does not match its line lengths"));
        }
        Ok(delta)
    }

    /// The deltas composed in order: the first one's base to the last one's document.
    /// Pairwise, as a balanced tree, so long runs of deltas cost their sizes times a logarithm.
    pub fn compose(mut deltas: Vec<Delta>) -> Result<Option<Delta>, BadDelta> {
        while deltas.len() > 1 {
            let mut next = Vec::with_capacity(deltas.len().div_ceil(2));
            let mut pairs = deltas.into_iter();
            while let Some(first) = pairs.next() {
                match pairs.next() {
                    Some(second) => next.push(first.then(&second)?),
                    None => next.push(first),
                }
            }
            deltas = next;
        }
        Ok(deltas.pop())
    }
}

struct Varints<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Varints<'_> {
    fn next(&mut self) -> Result<u64, BadDelta> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.at)
                .ok_or(BadDelta("the delta ends early"))?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(BadDelta("a number is too long"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(lines: &[&str]) -> Vec<u8> {
        lines
            .iter()
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect()
    }

    #[test]
    fn a_delta_makes_its_document_and_survives_encoding() {
        let a = doc(&["<a>", "one", "two", "three", "</a>"]);
        let b = doc(&["<a>", "one", "2", "three", "four", "</a>"]);
        let mut c = doc(&["<a>", "zero", "one", "2", "</a>"]);
        c.extend_from_slice(b"no newline at the end");
        let ab = Delta::between(&a, &b);
        let bc = Delta::between(&b, &c);
        assert_eq!(ab.apply(&a).unwrap(), b);
        let ab = Delta::decode(&ab.encode()).unwrap();
        assert_eq!(ab.apply(&a).unwrap(), b);
        let ac = ab.then(&bc).unwrap();
        assert_eq!(ac.apply(&a).unwrap(), c);
        let composed = Delta::compose(vec![ab.clone(), bc, Delta::between(&c, &a)]).unwrap();
        assert_eq!(composed.unwrap().apply(&a).unwrap(), a);
        assert_eq!(Delta::between(&a, &a).apply(&a).unwrap(), a);
        assert_eq!(Delta::between(b"", &a).apply(b"").unwrap(), a);
        assert_eq!(Delta::between(&a, b"").apply(&a).unwrap(), b"");
    }

    /// Damaged bytes are an error, never a panic or a wrong document.
    #[test]
    fn damaged_deltas_are_errors() {
        let a = doc(&["<a>", "one", "two", "</a>"]);
        let b = doc(&["<a>", "one", "three", "</a>"]);
        let encoded = Delta::between(&a, &b).encode();
        for cut in 0..encoded.len() {
            let _ = Delta::decode(&encoded[..cut]).map(|d| d.apply(&a));
        }
        for i in 0..encoded.len() {
            let mut flipped = encoded.clone();
            flipped[i] ^= 0x55;
            if let Ok(delta) = Delta::decode(&flipped) {
                let _ = delta.apply(&a);
                let _ = delta.then(&delta);
            }
        }
        let too_short = doc(&["<a>"]);
        assert!(Delta::between(&a, &b).apply(&too_short).is_err());
    }
}
