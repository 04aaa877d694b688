//! What `portreg verify` asks SQLite and the history's invariants.

use super::{Result, Store, tables_of};
use crate::model::Registry;

impl Store {
    /// SQLite's own checks: `integrity_check` and `foreign_key_check`, and the history's
    /// invariants that the schema cannot state; empty when all is well.
    pub fn consistency_problems(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        for line in stmt.query_map([], |row| row.get::<_, String>(0))? {
            let line = line?;
            if line != "ok" {
                problems.push(format!("integrity_check: {line}"));
            }
        }
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |row| {
            Ok(format!(
                "foreign_key_check: {} row {} has no parent in {}",
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                row.get::<_, String>(2)?
            ))
        })?;
        for row in rows {
            problems.push(row?);
        }
        // History invariants the schema cannot state, each registry's on its own.
        for registry in Registry::ALL {
            self.history_problems(registry, &mut problems)?;
        }
        Ok(problems)
    }
}

impl Store {
    /// What is wrong with `registry`'s places and intervals: its places are 1..n, every
    /// interval lies inside them, and no two versions of a record overlap.
    fn history_problems(&self, registry: Registry, problems: &mut Vec<String>) -> Result<()> {
        let (count, min_seq, max_seq, distinct): (i64, Option<i64>, Option<i64>, i64) =
            self.conn.query_row(
                "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM snapshot
                 WHERE registry = ?1",
                [registry],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        if count > 0 && (min_seq != Some(1) || max_seq != Some(count) || distinct != count) {
            problems.push(format!(
                "{registry} snapshot places are not 1..{count}: min {min_seq:?}, max {max_seq:?}, {distinct} distinct"
            ));
        }
        let tables = tables_of(registry);
        for table in [tables.versions, tables.people] {
            let bad: i64 = self.conn.query_row(
                &format!(
                    "SELECT count(*) FROM {table}
                     WHERE first_seq < 1 OR first_seq > ?1 OR last_seq > ?1 OR last_seq < first_seq"
                ),
                [count],
                |r| r.get(0),
            )?;
            if bad > 0 {
                problems.push(format!(
                    "{table}: {bad} versions with an interval outside the history"
                ));
            }
        }
        let versions = tables.versions;
        let overlapping: i64 = self.conn.query_row(
            &format!(
                "SELECT count(*) FROM {versions} a JOIN {versions} b
                   ON a.key_id = b.key_id AND a.id < b.id
                  AND a.first_seq <= ifnull(b.last_seq, ?1) AND b.first_seq <= ifnull(a.last_seq, ?1)"
            ),
            [count],
            |r| r.get(0),
        )?;
        if overlapping > 0 {
            problems.push(format!(
                "{versions}: {overlapping} pairs of versions of one record overlap in time"
            ));
        }
        Ok(())
    }
}
