//! The SQL the runtime writes itself, per dialect: version and history tables,
//! their rows, transactions. Online runs and offline scripts use the same text,
//! so the script a DBA reviews is the script that would run.
//!
//! Every identifier here is a validated [`Identifier`] or a fixed column name,
//! and every value is a revision id (validated by the core: `[A-Za-z0-9_]`), a
//! checksum (`sha256:` + hex), a number, or free text rendered by
//! [`Dialect::literal`].

use crate::config::Tables;
use crate::ident::Identifier;

/// Begins the message of [`Sql::check_rows`]' error.
pub(crate) const CHECK_ROWS_MARKER: &str =
    "migrate: the version rows are not what this step leads to";

/// A SQL dialect the runtime can speak (online, or offline without a connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

impl Dialect {
    /// The backend a URL's scheme names, without connecting: `postgres://` or
    /// `postgresql://`, `mysql://` or `mariadb://`, and SQLite for
    /// `sqlite://`, `file:` URIs and anything without a scheme (a path,
    /// `:memory:`); `None` for any other scheme. Case-insensitive.
    pub(crate) fn of_url(url: &str) -> Option<Dialect> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Some(Dialect::Postgres)
        } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            Some(Dialect::Mysql)
        } else if lower.contains("://")
            && !lower.starts_with("sqlite://")
            && !lower.starts_with("file:")
        {
            None
        } else {
            Some(Dialect::Sqlite)
        }
    }

    /// A short name for messages: `sqlite`, `postgresql`, `mysql`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
        }
    }

    /// Whether DDL runs inside a transaction and rolls back with it.
    pub fn transactional_ddl(self) -> bool {
        !matches!(self, Dialect::Mysql)
    }

    /// Quotes a validated identifier.
    pub fn quote(self, ident: &Identifier) -> String {
        match self {
            Dialect::Mysql => format!("`{}`", ident.as_str()),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", ident.as_str()),
        }
    }

    /// A string literal. Quotes are doubled; on MySQL backslashes are escaped
    /// too (its default `sql_mode` reads them as escapes). NUL is dropped.
    pub fn literal(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('\'');
        for c in text.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' if self == Dialect::Mysql => out.push_str("\\\\"),
                '\0' => {}
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    }

    /// The statement that opens a transaction. SQLite takes the write lock at
    /// once (`BEGIN IMMEDIATE`), which is what serializes concurrent migrators.
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
            Dialect::Mysql => "START TRANSACTION",
        }
    }
}

/// History states, as stored in the `state` column.
pub mod state {
    /// An upgrade completed.
    pub const APPLIED: &str = "applied";
    /// A downgrade completed.
    pub const REVERTED: &str = "reverted";
    /// `stamp` recorded the revision as applied without running it.
    pub const STAMPED: &str = "stamped";
    /// `stamp` removed the revision without running its downgrade.
    pub const UNSTAMPED: &str = "unstamped";
    /// A non-transactional migration is running (or its process died).
    pub const IN_PROGRESS: &str = "in_progress";
    /// A non-transactional migration failed part-way.
    pub const FAILED: &str = "failed";
    /// A failed step was declared undone by `repair`.
    pub const ROLLED_BACK: &str = "rolled_back";
}

/// Values of the `operation` column.
pub mod operation {
    /// A migration's upgrade ran.
    pub const UPGRADE: &str = "upgrade";
    /// A migration's downgrade ran.
    pub const DOWNGRADE: &str = "downgrade";
    /// `stamp` changed the version table only.
    pub const STAMP: &str = "stamp";
    /// `repair` closed a failed step.
    pub const REPAIR: &str = "repair";
}

/// Identifies the writer in the history table's `tool` column.
pub const TOOL: &str = concat!("migrate-runtime ", env!("CARGO_PKG_VERSION"));

/// One row to append to the history table.
#[derive(Debug, Clone)]
pub(crate) struct HistoryInsert<'a> {
    pub revision: &'a str,
    pub down_revisions: &'a str,
    pub depends_on: &'a str,
    pub operation: &'a str,
    pub state: &'a str,
    pub checksum: &'a str,
    pub statements_done: usize,
    pub statements_total: usize,
    pub duration_ms: Option<u128>,
    pub message: &'a str,
    pub detail: Option<&'a str>,
    /// Digest of the applied set after this step (see `Migrator`'s launch check).
    pub applied_digest: Option<&'a str>,
}

/// The SQL for one dialect and one pair of tables.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub dialect: Dialect,
    pub tables: Tables,
    /// Quoted, qualified version table.
    pub version: String,
    /// Quoted, qualified history table.
    pub history: String,
}

impl Sql {
    pub fn new(dialect: Dialect, tables: &Tables) -> Sql {
        let qualify = |t: &Identifier| match &tables.schema {
            Some(s) => format!("{}.{}", dialect.quote(s), dialect.quote(t)),
            None => dialect.quote(t),
        };
        Sql {
            dialect,
            version: qualify(&tables.version),
            history: qualify(&tables.history),
            tables: tables.clone(),
        }
    }

    fn lit(&self, text: &str) -> String {
        self.dialect.literal(text)
    }

    /// Alembic's table: `version_num VARCHAR(32) NOT NULL` with PK `<table>_pkc`.
    ///
    /// On SQLite it is a `WITHOUT ROWID` table: the same columns and key, to
    /// Alembic and every SQL reader alike, stored in the key's own b-tree, so
    /// that changing a row writes one page where a rowid table and its key
    /// index write two (a page fewer in every migration's commit). A table
    /// Alembic created keeps its form; nothing depends on it.
    pub fn create_version_table(&self, if_not_exists: bool) -> String {
        format!(
            "CREATE TABLE {}{} (\n    version_num VARCHAR(32) NOT NULL,\n    CONSTRAINT {} PRIMARY KEY (version_num)\n){}",
            if if_not_exists { "IF NOT EXISTS " } else { "" },
            self.version,
            self.dialect.quote(&self.tables.version_pk),
            if self.dialect == Dialect::Sqlite {
                " WITHOUT ROWID"
            } else {
                ""
            },
        )
    }

    /// Both tables, where they do not exist yet: the version table, then the
    /// history table.
    pub fn create_tables(&self) -> [String; 2] {
        [self.create_version_table(true), self.create_history_table()]
    }

    /// The history table beside it.
    pub fn create_history_table(&self) -> String {
        let (id, at, text) = match self.dialect {
            Dialect::Sqlite => return self.create_history_table_sqlite(),
            Dialect::Postgres => (
                "id BIGSERIAL PRIMARY KEY",
                "started_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP",
                "TEXT",
            ),
            Dialect::Mysql => (
                "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
                "started_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
                "TEXT",
            ),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    {id},\n    revision VARCHAR(32) NOT NULL,\n    down_revisions VARCHAR(2000) NOT NULL,\n    depends_on VARCHAR(2000) NOT NULL,\n    operation VARCHAR(16) NOT NULL,\n    state VARCHAR(16) NOT NULL,\n    checksum VARCHAR(80) NOT NULL,\n    statements_done INTEGER NOT NULL,\n    statements_total INTEGER NOT NULL,\n    {at},\n    duration_ms BIGINT,\n    message {text},\n    detail {text},\n    tool VARCHAR(64) NOT NULL,\n    applied_digest VARCHAR(80)\n)",
            self.history
        )
    }

    /// SQLite's history table: the same columns, written as tersely as SQLite
    /// allows. SQLite keeps this text and parses it again every time it
    /// reloads the schema (after each `ALTER TABLE` of a migration, and for
    /// every table when one drops or renames a column), so every token costs
    /// each such migration. The types have the affinities the long names
    /// would give (`VARCHAR(n)` is `TEXT`, `BIGINT` is `INTEGER`). The id is
    /// the rowid: rows are never deleted, so each new id is the largest so
    /// far plus one, in order, without AUTOINCREMENT's `sqlite_sequence`
    /// table and its extra write per row.
    fn create_history_table_sqlite(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {}(id INTEGER PRIMARY KEY,revision TEXT NOT NULL,down_revisions TEXT NOT NULL,depends_on TEXT NOT NULL,operation TEXT NOT NULL,state TEXT NOT NULL,checksum TEXT NOT NULL,statements_done INTEGER NOT NULL,statements_total INTEGER NOT NULL,started_at TEXT NOT NULL DEFAULT(strftime('%Y-%m-%dT%H:%M:%fZ','now')),duration_ms INTEGER,message TEXT,detail TEXT,tool TEXT NOT NULL,applied_digest TEXT)",
            self.history
        )
    }

    /// Returns `(version_exists, history_exists)` as two BIGINT columns `v`, `h`.
    pub fn tables_exist(&self) -> String {
        let v = self.tables.version.as_str();
        let h = self.tables.history.as_str();
        match self.dialect {
            Dialect::Sqlite => {
                let master = match &self.tables.schema {
                    Some(s) => format!("{}.sqlite_master", self.dialect.quote(s)),
                    None => "sqlite_master".to_string(),
                };
                format!(
                    "SELECT (SELECT COUNT(*) FROM {master} WHERE type = 'table' AND name = {}) AS v, (SELECT COUNT(*) FROM {master} WHERE type = 'table' AND name = {}) AS h",
                    self.lit(v),
                    self.lit(h)
                )
            }
            Dialect::Postgres => format!(
                "SELECT CAST(CASE WHEN to_regclass({}) IS NULL THEN 0 ELSE 1 END AS BIGINT) AS v, CAST(CASE WHEN to_regclass({}) IS NULL THEN 0 ELSE 1 END AS BIGINT) AS h",
                self.lit(&self.version),
                self.lit(&self.history)
            ),
            Dialect::Mysql => {
                let schema = match &self.tables.schema {
                    Some(s) => self.lit(s.as_str()),
                    None => "DATABASE()".to_string(),
                };
                format!(
                    "SELECT CAST((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {schema} AND table_name = {}) AS SIGNED) AS v, CAST((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {schema} AND table_name = {}) AS SIGNED) AS h",
                    self.lit(v),
                    self.lit(h)
                )
            }
        }
    }

    /// Alembic's read: every row, no order.
    pub fn select_rows(&self) -> String {
        format!("SELECT version_num AS revision FROM {}", self.version)
    }

    fn started_at_text(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "h.started_at",
            Dialect::Postgres => "CAST(h.started_at AS TEXT)",
            Dialect::Mysql => "CAST(h.started_at AS CHAR)",
        }
    }

    /// The latest history row of every revision.
    fn latest_history(&self, kind: &str) -> String {
        format!(
            "SELECT {kind} AS kind, h.revision AS revision, h.state AS state, h.operation AS operation, h.checksum AS checksum, h.down_revisions AS down_revisions, h.depends_on AS depends_on, h.statements_done AS statements_done, h.statements_total AS statements_total, h.detail AS detail FROM {hist} h JOIN (SELECT MAX(id) AS id FROM {hist} GROUP BY revision) m ON h.id = m.id",
            hist = self.history
        )
    }

    /// One round trip for everything launch needs: the version rows (`kind` `v`)
    /// and the latest history row of every revision (`kind` `h`).
    pub fn select_state(&self) -> String {
        format!(
            "SELECT 'v' AS kind, version_num AS revision, NULL AS state, NULL AS operation, NULL AS checksum, NULL AS down_revisions, NULL AS depends_on, NULL AS statements_done, NULL AS statements_total, NULL AS detail FROM {}\nUNION ALL\n{}",
            self.version,
            self.latest_history("'h'")
        )
    }

    /// The launch check, one round trip: the version rows (`kind` `v`) and the
    /// applied-set digest of the newest history row (`kind` `d`).
    pub fn select_launch(&self) -> String {
        format!(
            "SELECT 'v' AS kind, version_num AS revision FROM {}\nUNION ALL\nSELECT 'd' AS kind, COALESCE(d.applied_digest, '') AS revision FROM (SELECT applied_digest FROM {} ORDER BY id DESC LIMIT 1) d",
            self.version, self.history
        )
    }

    /// Version rows only, shaped like [`Sql::select_state`] (history table absent).
    pub fn select_rows_as_state(&self) -> String {
        format!(
            "SELECT 'v' AS kind, version_num AS revision, NULL AS state, NULL AS operation, NULL AS checksum, NULL AS down_revisions, NULL AS depends_on, NULL AS statements_done, NULL AS statements_total, NULL AS detail FROM {}",
            self.version
        )
    }

    /// Every history row, oldest first.
    pub fn select_history(&self) -> String {
        format!(
            "SELECT CAST(h.id AS {int}) AS id, h.revision AS revision, h.down_revisions AS down_revisions, h.depends_on AS depends_on, h.operation AS operation, h.state AS state, h.checksum AS checksum, h.statements_done AS statements_done, h.statements_total AS statements_total, {at} AS started_at, h.duration_ms AS duration_ms, h.message AS message, h.detail AS detail, h.tool AS tool FROM {hist} h ORDER BY h.id",
            int = match self.dialect {
                Dialect::Mysql => "SIGNED",
                _ => "BIGINT",
            },
            at = self.started_at_text(),
            hist = self.history
        )
    }

    pub fn insert_row(&self, revision: &str) -> String {
        format!(
            "INSERT INTO {} (version_num) VALUES ({})",
            self.version,
            self.lit(revision)
        )
    }

    pub fn update_row(&self, from: &str, to: &str) -> String {
        format!(
            "UPDATE {} SET version_num = {} WHERE version_num = {}",
            self.version,
            self.lit(to),
            self.lit(from)
        )
    }

    fn placeholder(&self, n: usize) -> String {
        match self.dialect {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite | Dialect::Mysql => "?".to_string(),
        }
    }

    /// `update_row` with bind parameters (new, old): one prepared statement for
    /// every step of a run.
    pub fn update_row_bound(&self) -> String {
        format!(
            "UPDATE {} SET version_num = {} WHERE version_num = {}",
            self.version,
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    /// `delete_row` with a bind parameter.
    pub fn delete_row_bound(&self) -> String {
        format!(
            "DELETE FROM {} WHERE version_num = {}",
            self.version,
            self.placeholder(1)
        )
    }

    pub fn delete_row(&self, revision: &str) -> String {
        format!(
            "DELETE FROM {} WHERE version_num = {}",
            self.version,
            self.lit(revision)
        )
    }

    /// The statements that take the version table from a step's `remove`
    /// rows to its `add` rows (both net of each other): an UPDATE per pair,
    /// then a DELETE or INSERT for the rest, as Alembic writes them.
    pub fn version_changes(&self, remove: &[String], add: &[String]) -> Vec<String> {
        let pairs = remove.len().min(add.len());
        let mut statements: Vec<String> = remove
            .iter()
            .zip(add)
            .map(|(from, to)| self.update_row(from, to))
            .collect();
        statements.extend(remove[pairs..].iter().map(|r| self.delete_row(r)));
        statements.extend(add[pairs..].iter().map(|a| self.insert_row(a)));
        statements
    }

    /// PostgreSQL: a statement that fails, with [`CHECK_ROWS_MARKER`] in its
    /// message, unless the version table holds exactly `expected` (compared
    /// in byte order). Sent in the same round trip as the change it checks,
    /// it does what checking that every UPDATE and DELETE hit one row
    /// (Alembic's rule) does, and also catches a row another writer added.
    ///
    /// A plain `SELECT` whose `CASE` casts the message to an integer when the
    /// rows differ: no PL/pgSQL (a `DO` block costs a compile per step and a
    /// library load per session). The failing branch reads the rows found, so
    /// the planner cannot fold it into an error at plan time.
    pub fn check_rows(&self, expected: &[String]) -> String {
        let mut sorted: Vec<&str> = expected.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let want = self.lit(&sorted.join(","));
        format!(
            "SELECT CAST(CASE WHEN rows_now = {want} THEN '1' ELSE {marker} || {want} || ', found ' || rows_now END AS INTEGER) AS ok FROM (SELECT COALESCE(string_agg(version_num, ',' ORDER BY version_num COLLATE \"C\"), '') AS rows_now FROM {table}) AS version_rows",
            marker = self.lit(&format!("{CHECK_ROWS_MARKER}: expected ")),
            table = self.version,
        )
    }

    pub fn delete_all_rows(&self) -> String {
        format!("DELETE FROM {}", self.version)
    }

    pub fn insert_history(&self, row: &HistoryInsert<'_>) -> String {
        let duration = row
            .duration_ms
            .map_or_else(|| "NULL".to_string(), |d| d.to_string());
        self.insert_history_with(row, &duration)
    }

    /// PostgreSQL: [`Sql::insert_history`] sent in the same round trip as the
    /// migration it records, its `duration_ms` measured by the server: from
    /// the transaction's start (`now()`) to the moment the row is written.
    pub fn insert_history_timed_by_server(&self, row: &HistoryInsert<'_>) -> String {
        self.insert_history_with(
            row,
            "CAST(1000 * EXTRACT(EPOCH FROM clock_timestamp() - now()) AS BIGINT)",
        )
    }

    fn insert_history_with(&self, row: &HistoryInsert<'_>, duration: &str) -> String {
        let detail = row
            .detail
            .map_or_else(|| "NULL".to_string(), |d| self.lit(d));
        let digest = row
            .applied_digest
            .map_or_else(|| "NULL".to_string(), |d| self.lit(d));
        format!(
            "INSERT INTO {} (revision, down_revisions, depends_on, operation, state, checksum, statements_done, statements_total, duration_ms, message, detail, tool, applied_digest) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {duration}, {}, {detail}, {}, {digest})",
            self.history,
            self.lit(row.revision),
            self.lit(row.down_revisions),
            self.lit(row.depends_on),
            self.lit(row.operation),
            self.lit(row.state),
            self.lit(row.checksum),
            row.statements_done,
            row.statements_total,
            self.lit(row.message),
            self.lit(TOOL),
        )
    }

    /// The id of the newest history row of `revision` (the claim a
    /// non-transactional step just wrote), as a BIGINT column `n`.
    pub fn select_claim_id(&self, revision: &str) -> String {
        format!(
            "SELECT CAST(MAX(id) AS {}) AS n FROM {} WHERE revision = {}",
            match self.dialect {
                Dialect::Mysql => "SIGNED",
                _ => "BIGINT",
            },
            self.history,
            self.lit(revision)
        )
    }

    /// How many revisions' latest history row is `in_progress` or `failed`,
    /// as a BIGINT column `n`.
    pub fn count_unfinished(&self) -> String {
        format!(
            "SELECT CAST(COUNT(*) AS {}) AS n FROM {hist} h JOIN (SELECT MAX(id) AS id FROM {hist} GROUP BY revision) m ON h.id = m.id WHERE h.state IN ({}, {})",
            match self.dialect {
                Dialect::Mysql => "SIGNED",
                _ => "BIGINT",
            },
            self.lit(state::IN_PROGRESS),
            self.lit(state::FAILED),
            hist = self.history
        )
    }

    /// Progress of the in-progress history row `id` (the step's own claim:
    /// never an older row of the same revision that a dead run left behind).
    pub fn update_progress(&self, id: i64, done: usize) -> String {
        format!(
            "UPDATE {} SET statements_done = {done} WHERE id = {id} AND state = {}",
            self.history,
            self.lit(state::IN_PROGRESS)
        )
    }

    /// Closes the in-progress history row `id`.
    pub fn finish_progress(
        &self,
        id: i64,
        new_state: &str,
        done: usize,
        duration_ms: u128,
        detail: Option<&str>,
        applied_digest: Option<&str>,
    ) -> String {
        let detail = detail.map_or_else(|| "NULL".to_string(), |d| self.lit(d));
        let digest = applied_digest.map_or_else(|| "NULL".to_string(), |d| self.lit(d));
        format!(
            "UPDATE {} SET state = {}, statements_done = {done}, duration_ms = {duration_ms}, detail = {detail}, applied_digest = {digest} WHERE id = {id} AND state = {}",
            self.history,
            self.lit(new_state),
            self.lit(state::IN_PROGRESS)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn dialects_from_urls() {
        assert_eq!(
            Dialect::of_url("postgres://u:p@h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(
            Dialect::of_url("PostgreSQL://h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::of_url("MARIADB://h/db"), Some(Dialect::Mysql));
        assert_eq!(Dialect::of_url("mysql://h/db"), Some(Dialect::Mysql));
        assert_eq!(Dialect::of_url("sqlite://app.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("file:///srv/app.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("app.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url(":memory:"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("oracle://h/db"), None);
    }

    #[test]
    fn literals_cannot_escape() {
        assert_eq!(Dialect::Postgres.literal("it's"), "'it''s'");
        assert_eq!(Dialect::Mysql.literal("a\\' b"), "'a\\\\'' b'");
        assert_eq!(Dialect::Sqlite.literal("a\0b"), "'ab'");
    }

    #[test]
    fn tables_are_quoted_and_qualified() {
        let config = Config {
            version_table_schema: Some("ops".into()),
            ..Config::default()
        };
        let tables = config.tables().ok();
        let Some(tables) = tables else {
            unreachable!("default names are valid")
        };
        let pg = Sql::new(Dialect::Postgres, &tables);
        assert_eq!(pg.version, "\"ops\".\"alembic_version\"");
        let my = Sql::new(Dialect::Mysql, &tables);
        assert_eq!(my.history, "`ops`.`alembic_version_history`");
        assert!(pg
            .create_version_table(false)
            .contains("CONSTRAINT \"alembic_version_pkc\" PRIMARY KEY (version_num)"));
        assert!(!pg.create_version_table(true).contains("WITHOUT ROWID"));
        let lite = Sql::new(Dialect::Sqlite, &tables);
        assert!(lite.create_version_table(true).ends_with(") WITHOUT ROWID"));
    }

    /// The version-row check is plain SQL whose failing branch depends on the
    /// rows read, with the expected list in byte order.
    #[test]
    fn check_rows_is_one_select_naming_what_it_expects() {
        let Ok(tables) = Config::default().tables() else {
            unreachable!("default names are valid")
        };
        let check = Sql::new(Dialect::Postgres, &tables).check_rows(&["b".into(), "a".into()]);
        assert!(
            check.starts_with("SELECT CAST(CASE WHEN rows_now = 'a,b' THEN '1' ELSE "),
            "{check}"
        );
        assert!(check.contains(CHECK_ROWS_MARKER), "{check}");
        assert!(!check.contains("DO "), "{check}");
    }
}
