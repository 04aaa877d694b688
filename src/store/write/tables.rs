//! The two tables of a registry that hold versions, of its records and of its people
//! (`record_version` and `person_version` for the port registry), described once so one
//! interval algorithm serves all (see [`super::intervals`]).

use crate::model::{Field, FieldValue, Person, Record};
use crate::store::Seq;
use rusqlite::types::{FromSql, ToSql};
use rusqlite::{Connection, Statement};
use std::hash::Hash;

/// Rows per statement when many versions go in at once: a statement per row spends a fifth
/// of its time opening and closing the table's and indexes' cursors.
pub(super) const ROWS_PER_INSERT: usize = 64;

/// What differs between the version tables.
pub(super) trait VersionTable {
    const TABLE: &'static str;
    /// The column saying whose version a row is.
    const KEY_COLUMN: &'static str;
    /// The item a version holds.
    type Item;
    /// What names the item across snapshots.
    type KeyId: Hash + Eq + Clone + ToSql + FromSql;
    /// The columns of a version's content, in the order [`VersionTable::bind_content`] binds.
    fn content_columns() -> Vec<&'static str>;
    /// Binds an item's content to the parameters from `at` (counted from 1) on.
    fn bind_content(insert: &mut Statement, at: usize, item: &Self::Item) -> rusqlite::Result<()>;
}

/// The versions of `R`'s records.
pub(super) struct RecordVersions<R>(std::marker::PhantomData<R>);
/// The versions of the people of `R`'s registry.
pub(super) struct PersonVersions<R>(std::marker::PhantomData<R>);

impl<R: Record> VersionTable for RecordVersions<R> {
    const TABLE: &'static str = R::TABLES.versions;
    const KEY_COLUMN: &'static str = "key_id";
    type Item = R;
    type KeyId = i64;

    fn content_columns() -> Vec<&'static str> {
        R::Field::CONTENT.iter().map(|f| f.name()).collect()
    }

    fn bind_content(insert: &mut Statement, at: usize, record: &R) -> rusqlite::Result<()> {
        for (i, field) in R::Field::CONTENT.iter().enumerate() {
            match field.value(record) {
                FieldValue::Text(text) => insert.raw_bind_parameter(at + i, text)?,
                // A list is stored as a JSON array of strings.
                FieldValue::List(list) => insert.raw_bind_parameter(
                    at + i,
                    list.map(|items| {
                        serde_json::to_string(items).expect("a list of strings serialises")
                    }),
                )?,
                FieldValue::Flag(flag) => insert.raw_bind_parameter(at + i, flag)?,
            }
        }
        Ok(())
    }
}

impl<R: Record> VersionTable for PersonVersions<R> {
    const TABLE: &'static str = R::TABLES.people;
    const KEY_COLUMN: &'static str = "person_id";
    type Item = Person;
    type KeyId = String;

    fn content_columns() -> Vec<&'static str> {
        vec!["name", "org", "uri", "updated"]
    }

    fn bind_content(insert: &mut Statement, at: usize, person: &Person) -> rusqlite::Result<()> {
        let texts = [&person.name, &person.org, &person.uri, &person.updated];
        for (i, text) in texts.into_iter().enumerate() {
            insert.raw_bind_parameter(at + i, text)?;
        }
        Ok(())
    }
}

/// `"a", "b", ...`: column names quoted (`references` is an SQL keyword).
pub(super) fn quoted(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every column a version is inserted with, in the order [`insert_versions`] binds them.
fn insert_columns<T: VersionTable>() -> Vec<&'static str> {
    let mut columns = vec![T::KEY_COLUMN, "first_seq", "last_seq"];
    columns.extend(T::content_columns());
    columns.push("content_hash");
    columns
}

/// `INSERT INTO table (columns) VALUES (?, ...), ...` with `rows` rows of parameters.
pub(super) fn multi_row_insert(table: &str, columns: &[&str], rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        quoted(columns),
        vec![row; rows].join(", ")
    )
}

/// A version to insert: whose, what, and its content hash.
pub(super) type NewVersion<'a, T> = (
    <T as VersionTable>::KeyId,
    &'a <T as VersionTable>::Item,
    i64,
);

/// Inserts versions that all hold from `first` to `last`, many rows per statement.
pub(super) fn insert_versions<T: VersionTable>(
    conn: &Connection,
    versions: &[NewVersion<T>],
    first: Seq,
    last: Option<Seq>,
) -> rusqlite::Result<()> {
    let columns = insert_columns::<T>();
    for rows in versions.chunks(ROWS_PER_INSERT) {
        let mut insert = conn.prepare_cached(&multi_row_insert(T::TABLE, &columns, rows.len()))?;
        for (i, (key, item, hash)) in rows.iter().enumerate() {
            let at = 1 + i * columns.len();
            insert.raw_bind_parameter(at, key)?;
            insert.raw_bind_parameter(at + 1, first)?;
            insert.raw_bind_parameter(at + 2, last)?;
            T::bind_content(&mut insert, at + 3, item)?;
            insert.raw_bind_parameter(at + columns.len() - 1, hash)?;
        }
        insert.raw_execute()?;
    }
    Ok(())
}

/// A copy of a version with another interval: `?1` the row, `?2` and `?3` the new bounds.
pub(super) fn copy_version_sql<T: VersionTable>() -> String {
    let mut kept = vec![T::KEY_COLUMN];
    kept.extend(T::content_columns());
    kept.push("content_hash");
    let kept = quoted(&kept);
    format!(
        "INSERT INTO {table} (first_seq, last_seq, {kept})
         SELECT ?2, ?3, {kept} FROM {table} WHERE id = ?1",
        table = T::TABLE
    )
}
