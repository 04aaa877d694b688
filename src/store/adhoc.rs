//! Ad-hoc SQL from users (`portreg sql`), on a read-only connection.

use super::{Store, StoreError};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often SQLite asks whether to go on: every this many virtual-machine steps (well under
/// a millisecond).
const STEPS_BETWEEN_CHECKS: i32 = 10_000;

/// What stops a query early: a time limit, and a flag someone else sets (on Ctrl-C, say).
#[derive(Debug, Clone, Default)]
pub struct QueryLimits {
    pub timeout: Option<Duration>,
    pub cancel: Option<Arc<AtomicBool>>,
}

/// The answer to an ad-hoc query: column names and rows of JSON values (integers, reals,
/// text, null; a blob as lower-case hex text).
#[derive(Debug, Clone, PartialEq)]
pub struct SqlAnswer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(
        "the statement writes, and portreg sql only reads (use sqlite3 to change the database)"
    )]
    Writes,
    #[error("the query needs the parameter {0} (give --param {name}=VALUE)", name = .0.trim_start_matches([':', '@', '$']))]
    MissingParameter(String),
    #[error("--param {0} is not used by the query")]
    UnusedParameter(String),
    #[error("the query took longer than {} and was stopped (give a longer --timeout, or 0 for none)", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("the query was cancelled")]
    Cancelled,
    #[error("{0}")]
    Sql(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Runs one statement with named parameters (`:name`, `@name` or `$name`, each bound as
    /// text). A statement that would write is refused before it runs; the connection is
    /// read-only besides.
    /// The query stops with [`SqlError::TimedOut`] or [`SqlError::Cancelled`] when `limits`
    /// say so.
    pub fn run_sql(
        &self,
        sql: &str,
        params: &[(String, String)],
        limits: &QueryLimits,
    ) -> std::result::Result<SqlAnswer, SqlError> {
        // A limit too far to reach is none.
        let deadline = limits
            .timeout
            .and_then(|timeout| Instant::now().checked_add(timeout));
        let cancel = limits.cancel.clone();
        let stop = {
            let cancel = cancel.clone();
            move || {
                cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
                    || deadline.is_some_and(|deadline| Instant::now() >= deadline)
            }
        };
        self.conn
            .progress_handler(STEPS_BETWEEN_CHECKS, Some(stop))
            .map_err(|e| SqlError::Sql(e.to_string()))?;
        let answer = self.run_sql_unlimited(sql, params);
        self.conn
            .progress_handler(0, None::<fn() -> bool>)
            .map_err(|e| SqlError::Sql(e.to_string()))?;
        // Interrupted: by the flag, else by the clock.
        match answer {
            Err(SqlError::Cancelled) if !cancel.is_some_and(|c| c.load(Ordering::Relaxed)) => {
                Err(SqlError::TimedOut(limits.timeout.unwrap_or_default()))
            }
            other => other,
        }
    }

    /// Stops every query of this connection that runs past `deadline` (SQLite's interrupt:
    /// the query fails with [`StoreError::is_interrupted`]), until called again with None.
    /// For a server, which gives each request a time.
    pub fn stop_queries_at(&self, deadline: Option<Instant>) -> Result<(), StoreError> {
        match deadline {
            Some(deadline) => self.conn.progress_handler(
                STEPS_BETWEEN_CHECKS,
                Some(move || Instant::now() >= deadline),
            )?,
            None => self.conn.progress_handler(0, None::<fn() -> bool>)?,
        }
        Ok(())
    }

    fn run_sql_unlimited(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> std::result::Result<SqlAnswer, SqlError> {
        let sql_error = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::OperationInterrupted) => SqlError::Cancelled,
            _ => SqlError::Sql(e.to_string()),
        };
        let mut statement = self.conn.prepare(sql).map_err(sql_error)?;
        if !statement.readonly() {
            return Err(SqlError::Writes);
        }
        let mut used = vec![false; params.len()];
        for index in 1..=statement.parameter_count() {
            let Some(name) = statement.parameter_name(index).map(str::to_string) else {
                return Err(SqlError::Sql(
                    "positional parameters (?) are not supported: name them, as :since".into(),
                ));
            };
            let bare = name.trim_start_matches([':', '@', '$']);
            let Some(position) = params.iter().position(|(key, _)| key == bare) else {
                return Err(SqlError::MissingParameter(name));
            };
            used[position] = true;
            statement
                .raw_bind_parameter(index, &params[position].1)
                .map_err(sql_error)?;
        }
        if let Some(unused) = used.iter().position(|u| !u) {
            return Err(SqlError::UnusedParameter(params[unused].0.clone()));
        }
        let columns: Vec<String> = statement
            .column_names()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        let mut query = statement.raw_query();
        while let Some(row) = query.next().map_err(sql_error)? {
            let mut values = Vec::with_capacity(columns.len());
            for index in 0..columns.len() {
                use rusqlite::types::ValueRef;
                values.push(match row.get_ref(index).map_err(sql_error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::from(i),
                    ValueRef::Real(r) => Value::from(r),
                    ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::from(hex::encode(b)),
                });
            }
            rows.push(values);
        }
        Ok(SqlAnswer { columns, rows })
    }
}
