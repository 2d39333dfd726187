//! Reading and creating the version table (Alembic's) and the history table beside it.
//!
//! The version table is exactly Alembic's: `version_num VARCHAR(32) NOT NULL`,
//! primary key `<table>_pkc`, one row per head of the database, so Python
//! Alembic reads and continues a database this runtime migrated, and the other
//! way round. The history table (`<table>_history`) is ours: one row per
//! applied, reverted, stamped, failed or repaired step, with the revision's
//! parents (to tell a database that is *ahead* from one that *diverged*), the
//! checksum of its upgrade (to detect drift), its state, progress counts, when
//! and how long. It never holds credentials: error texts are scrubbed.

use crate::backend::Database;
use crate::dialect::{state, Dialect, Sql};
use crate::error::{Error, Result};
use crate::timestamp::Timestamp;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::QueryableByName;
use std::collections::HashMap;

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// Position in the table (ascending = oldest first).
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The revision.
    #[diesel(sql_type = Text)]
    pub revision: String,
    /// Its `down_revision`s, comma-separated (empty for a base).
    #[diesel(sql_type = Text)]
    pub down_revisions: String,
    /// Its resolved `depends_on` revisions, comma-separated.
    #[diesel(sql_type = Text)]
    pub depends_on: String,
    /// `upgrade`, `downgrade`, `stamp`, `repair`, `resume` or `accept`
    /// (see [`operation`](crate::operation)).
    #[diesel(sql_type = Text)]
    pub operation: String,
    /// `applied`, `reverted`, `stamped`, `unstamped`, `in_progress`, `failed`,
    /// `rolled_back` or `retried` (see [`state`](crate::state)).
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Checksum of the revision's upgrade section when the row was written.
    #[diesel(sql_type = Text)]
    pub checksum: String,
    /// Statements that ran.
    #[diesel(sql_type = Integer)]
    pub statements_done: i32,
    /// Statements in the section.
    #[diesel(sql_type = Integer)]
    pub statements_total: i32,
    /// When the step started (the database's clock), in UTC.
    #[diesel(sql_type = BigInt)]
    pub started_at: Timestamp,
    /// How long it took, when it finished.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub duration_ms: Option<i64>,
    /// The migration's message.
    #[diesel(sql_type = Nullable<Text>)]
    pub message: Option<String>,
    /// The error of a failed step, or the reason given for a repair, a
    /// resumption or an accepted edit (with both checksums).
    #[diesel(sql_type = Nullable<Text>)]
    pub detail: Option<String>,
    /// The program that wrote the row.
    #[diesel(sql_type = Text)]
    pub tool: String,
}

/// One row of [`Sql::select_state`].
#[derive(Debug, Clone, QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    revision: String,
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    operation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    checksum: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    down_revisions: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    depends_on: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    statements_done: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    statements_total: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
}

/// The latest history row of one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Latest {
    pub state: String,
    pub operation: String,
    pub checksum: String,
    pub parents: Vec<String>,
    pub statements_done: i32,
    pub statements_total: i32,
    pub detail: Option<String>,
}

impl Latest {
    /// Whether this row blocks every run until a repair.
    pub fn is_unfinished(&self) -> bool {
        self.state == state::FAILED || self.state == state::IN_PROGRESS
    }

    /// Whether the row records the revision as present with this checksum.
    pub fn records_checksum(&self) -> bool {
        self.state == state::APPLIED || self.state == state::STAMPED
    }
}

/// What the database says, read in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DbState {
    /// The version table exists.
    pub version_table: bool,
    /// The history table exists.
    pub history_table: bool,
    /// The version rows, in the order the database returned them.
    pub rows: Vec<String>,
    /// The latest history row of every revision.
    pub latest: HashMap<String, Latest>,
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn collect(rows: Vec<StateRow>, version_table: bool, history_table: bool) -> DbState {
    let mut state = DbState {
        version_table,
        history_table,
        ..DbState::default()
    };
    for row in rows {
        if row.kind == "v" {
            state.rows.push(row.revision);
            continue;
        }
        let mut parents = split_list(row.down_revisions.as_deref().unwrap_or(""));
        for d in split_list(row.depends_on.as_deref().unwrap_or("")) {
            if !parents.contains(&d) {
                parents.push(d);
            }
        }
        state.latest.insert(
            row.revision,
            Latest {
                state: row.state.unwrap_or_default(),
                operation: row.operation.unwrap_or_default(),
                checksum: row.checksum.unwrap_or_default(),
                parents,
                statements_done: row.statements_done.unwrap_or(0),
                statements_total: row.statements_total.unwrap_or(0),
                detail: row.detail,
            },
        );
    }
    state
}

#[derive(QueryableByName)]
struct LaunchRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    revision: String,
}

/// The launch check: the version rows and the newest history row's applied-set
/// digest, in one query. `None` when it fails (a table is missing).
pub(crate) fn read_launch(db: &mut Database, sql: &Sql) -> Option<(Vec<String>, Option<String>)> {
    match db.load::<LaunchRow>(&sql.select_launch()) {
        Ok(found) => {
            let mut rows = Vec::new();
            let mut digest = None;
            for row in found {
                if row.kind == "v" {
                    rows.push(row.revision);
                } else if !row.revision.is_empty() {
                    digest = Some(row.revision);
                }
            }
            Some((rows, digest))
        }
        Err(message) => {
            tracing::debug!(%message, "launch check failed; taking the careful path");
            None
        }
    }
}

/// Which of the two tables exist; an error when one of that name is not of
/// the shape this tool reads and writes (see [`crate::table_shape`]), and
/// when the version table is missing where a run without a target schema
/// looks but is in another schema ([`refuse_if_elsewhere`]).
pub(crate) fn tables_exist(db: &mut Database, sql: &Sql) -> Result<(bool, bool)> {
    let found = crate::table_shape::read(db, sql)?;
    if !found.0 {
        refuse_if_elsewhere(db, sql)?;
    }
    Ok(found)
}

#[derive(QueryableByName)]
struct Elsewhere {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    here: String,
}

/// On PostgreSQL, with neither `target_schema` nor `version_table_schema`
/// set: refuses ([`Error::VersionTableElsewhere`]) when a table of the
/// version table's name exists in a schema the session's `search_path` does
/// not reach. That is a database whose migrations ran in another schema
/// (Alembic with a `search_path` in its URL); running them again here would
/// build a second copy of it in `public`, and succeed. Called before anything
/// is written.
///
/// Not on MySQL/MariaDB: there the schema is the database the URL names, and
/// the other databases of a server with a version table are other tenants'
/// (a database per tenant is the common way), not a misplaced one. Not on
/// SQLite, which has one schema per file.
fn refuse_if_elsewhere(db: &mut Database, sql: &Sql) -> Result<()> {
    if sql.dialect != Dialect::Postgres || sql.tables.schema.is_some() {
        return Ok(());
    }
    let query = format!(
        "SELECT CAST(table_schema AS TEXT) AS name, CAST(COALESCE(current_schema(), '') AS TEXT) AS here FROM information_schema.tables WHERE table_name = {} AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_schema",
        sql.dialect.literal(sql.tables.version.as_str())
    );
    let found: Vec<Elsewhere> =
        db.load_or(&query, "looking for the version table in other schemas")?;
    let Some(first) = found.first() else {
        return Ok(());
    };
    let looked_in = if first.here.is_empty() {
        "the session's search_path (none of its schemas exists)".to_string()
    } else {
        format!("schema {}", first.here)
    };
    Err(Error::VersionTableElsewhere {
        version_table: sql.tables.version.to_string(),
        looked_in,
        found_in: found.into_iter().map(|r| r.name).collect(),
    })
}

/// Reads the state without creating anything (missing tables read as empty).
pub(crate) fn read_state(db: &mut Database, sql: &Sql) -> Result<DbState> {
    let (version_table, history_table) = tables_exist(db, sql)?;
    let query = match (version_table, history_table) {
        (true, true) => sql.select_state(),
        (true, false) => sql.select_rows_as_state(),
        (false, _) => {
            return Ok(DbState {
                version_table,
                history_table,
                ..DbState::default()
            })
        }
    };
    let rows: Vec<StateRow> = db.load_or(&query, "reading the version table")?;
    Ok(collect(rows, version_table, history_table))
}

/// Every history row, oldest first (empty when the table does not exist).
pub(crate) fn read_history(db: &mut Database, sql: &Sql) -> Result<Vec<HistoryEntry>> {
    let (_, history_table) = tables_exist(db, sql)?;
    if !history_table {
        return Ok(Vec::new());
    }
    db.load_or(&sql.select_history(), "reading the history table")
}

/// Creates the tables that are missing. Called with the run lock held (on
/// SQLite inside a `BEGIN IMMEDIATE` transaction the caller opened, so two
/// processes cannot race); the caller logs [`log_created`] once they are
/// committed.
pub(crate) fn ensure_tables(db: &mut Database, sql: &Sql, state: &DbState) -> Result<()> {
    let [version, history] = sql.create_tables();
    if !state.version_table {
        db.batch_or(&version, "creating the version table")?;
    }
    if !state.history_table {
        db.batch_or(&history, "creating the history table")?;
    }
    Ok(())
}

/// The log line for tables that [`ensure_tables`] created and that committed.
pub(crate) fn log_created(sql: &Sql) {
    tracing::info!(table = %sql.version, "created the version table / history table");
}
