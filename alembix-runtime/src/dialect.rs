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
use alembix_core::Timeouts;
use std::time::Duration;

/// Begins the message of [`Sql::check_rows`]' error.
pub(crate) const CHECK_ROWS_MARKER: &str =
    "alembix: the version rows are not what this step leads to";

/// A SQL dialect the runtime can speak (online, or offline without a connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

impl Dialect {
    /// The backend a URL's scheme names, without connecting: `postgres://`
    /// or `postgresql://`, `mysql://` or `mariadb://`, `sqlite://` or
    /// `sqlite:` or a file path; `None` for anything else.
    ///
    /// ```
    /// use alembix_runtime::Dialect;
    /// assert_eq!(Dialect::of_url("postgres://app@db/app"), Some(Dialect::Postgres));
    /// assert_eq!(Dialect::of_url("mariadb://app@db/app"), Some(Dialect::Mysql));
    /// assert_eq!(Dialect::of_url("sqlite://app.sqlite"), Some(Dialect::Sqlite));
    /// ```
    pub fn of_url(url: &str) -> Option<Dialect> {
        Dialect::parse_url(url).ok().map(|(dialect, _)| dialect)
    }

    /// The backend a database string names, and the string as its driver
    /// must get it (the scheme in lower case: libpq and SQLite read theirs
    /// case-sensitively). Schemes are case-insensitive: `postgres://` or
    /// `postgresql://`, `mysql://` or `mariadb://`, `sqlite://`, `sqlite:`,
    /// `file:` URIs; a string without a scheme is a SQLite path
    /// (`app.db`, `:memory:`), unless it looks like a libpq `key=value`
    /// connection string, or a server URL without its `//`.
    ///
    /// Whether the backend is compiled in is not checked here.
    pub(crate) fn parse_url(url: &str) -> Result<(Dialect, String), NotAUrl> {
        const SCHEMES: [(&str, Dialect); 5] = [
            ("postgres", Dialect::Postgres),
            ("postgresql", Dialect::Postgres),
            ("mysql", Dialect::Mysql),
            ("mariadb", Dialect::Mysql),
            ("sqlite", Dialect::Sqlite),
        ];
        let scheme_len = url
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .unwrap_or(url.len());
        let scheme = &url[..scheme_len];
        let is_scheme = url.starts_with(|c: char| c.is_ascii_alphabetic());
        let known = SCHEMES
            .iter()
            .find(|(name, _)| is_scheme && scheme.eq_ignore_ascii_case(name));
        let lower = |rest: &str| format!("{}{rest}", scheme.to_ascii_lowercase());
        if is_scheme && scheme.eq_ignore_ascii_case("file") && url[scheme_len..].starts_with(':') {
            return Ok((Dialect::Sqlite, lower(&url[scheme_len..])));
        }
        if is_scheme && url[scheme_len..].starts_with("://") {
            return match known {
                Some(&(_, dialect)) => Ok((dialect, lower(&url[scheme_len..]))),
                None => Err(NotAUrl::UnknownScheme(scheme.to_ascii_lowercase())),
            };
        }
        if is_scheme && url[scheme_len..].starts_with(':') {
            if scheme.eq_ignore_ascii_case("sqlite") {
                return Ok((Dialect::Sqlite, lower(&url[scheme_len..])));
            }
            if known.is_some() {
                return Err(NotAUrl::MissingSlashes(scheme.to_ascii_lowercase()));
            }
        }
        if known.is_some_and(|(name, _)| *name != "sqlite") && url[scheme_len..].starts_with("//") {
            // `postgres//u:p@h/db`: a server URL missing its `:`.
            return Err(NotAUrl::MissingSlashes(scheme.to_ascii_lowercase()));
        }
        if looks_like_key_value(url) {
            return Err(NotAUrl::KeyValue);
        }
        if url.contains("://") {
            // `://` after something that is no scheme (` postgres://`, `a b://`).
            return Err(NotAUrl::UnknownScheme(String::new()));
        }
        Ok((Dialect::Sqlite, url.to_string()))
    }

    /// Whether this binary was built with the backend.
    pub(crate) fn compiled_in(self) -> bool {
        match self {
            Dialect::Sqlite => cfg!(feature = "sqlite"),
            Dialect::Postgres => cfg!(feature = "postgres"),
            Dialect::Mysql => cfg!(feature = "mysql"),
        }
    }

    /// The forms of database URL this binary accepts, for messages.
    pub(crate) fn accepted_urls() -> String {
        let mut forms = Vec::new();
        if Dialect::Sqlite.compiled_in() {
            forms.push("sqlite://PATH (or a file path, a file: URI, :memory:)");
        }
        if Dialect::Postgres.compiled_in() {
            forms.push("postgres://USER:PASSWORD@HOST:PORT/DB (or postgresql://)");
        }
        if Dialect::Mysql.compiled_in() {
            forms.push("mysql://USER:PASSWORD@HOST:PORT/DB (or mariadb://)");
        }
        if forms.is_empty() {
            return "this binary was built without any database backend".to_string();
        }
        format!("this binary accepts {}", forms.join(", "))
    }

    /// A short name for messages: `sqlite`, `postgresql`, `mysql`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
        }
    }

    /// The backend of a core dialect.
    pub fn from_sql_dialect(dialect: alembix_core::SqlDialect) -> Dialect {
        match dialect {
            alembix_core::SqlDialect::Sqlite => Dialect::Sqlite,
            alembix_core::SqlDialect::Postgres => Dialect::Postgres,
            alembix_core::SqlDialect::Mysql => Dialect::Mysql,
        }
    }

    /// The core's name for this dialect: which split of a section runs here.
    pub fn sql_dialect(self) -> alembix_core::SqlDialect {
        match self {
            Dialect::Sqlite => alembix_core::SqlDialect::Sqlite,
            Dialect::Postgres => alembix_core::SqlDialect::Postgres,
            Dialect::Mysql => alembix_core::SqlDialect::Mysql,
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

    /// The statements that bound a migration's statements by `timeouts`
    /// (its `lock_timeout` and `statement_timeout`; see
    /// [`Config::ddl_lock_timeout`](crate::Config::ddl_lock_timeout)): with
    /// `local`, for the open transaction only (PostgreSQL `SET LOCAL`), else
    /// for the session until [`Dialect::reset_timeouts`]. None on SQLite,
    /// which has neither.
    pub(crate) fn set_timeouts(self, timeouts: Timeouts, local: bool) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Dialect::Postgres => {
                let scope = if local { "SET LOCAL" } else { "SET" };
                if let Some(lock) = timeouts.lock {
                    out.push(format!("{scope} lock_timeout = {}", millis(lock)));
                }
                if let Some(statement) = timeouts.statement {
                    out.push(format!("{scope} statement_timeout = {}", millis(statement)));
                }
            }
            Dialect::Mysql => {
                if let Some(lock) = timeouts.lock {
                    out.push(mysql_lock_waits(lock));
                }
                if let Some(statement) = timeouts.statement {
                    // MariaDB's bound on any statement, in seconds.
                    let ms = millis(statement);
                    out.push(format!(
                        "SET SESSION max_statement_time = {}.{:03}",
                        ms / 1000,
                        ms % 1000
                    ));
                }
            }
            Dialect::Sqlite => {}
        }
        out
    }

    /// The statements that undo [`Dialect::set_timeouts`] for `timeouts`:
    /// the lock waits back to the session's bound `lock_bound` (the
    /// configured `lock_timeout`; `None`: the server's default, for a
    /// script), the statement bound back to the server's default for the
    /// session (`local`: inside the open transaction).
    pub(crate) fn reset_timeouts(
        self,
        timeouts: Timeouts,
        lock_bound: Option<Duration>,
        local: bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Dialect::Postgres => {
                let scope = if local { "SET LOCAL" } else { "SET" };
                if timeouts.lock.is_some() {
                    let bound =
                        lock_bound.map_or_else(|| "DEFAULT".to_string(), |b| millis(b).to_string());
                    out.push(format!("{scope} lock_timeout = {bound}"));
                }
                if timeouts.statement.is_some() {
                    out.push(format!("{scope} statement_timeout = DEFAULT"));
                }
            }
            Dialect::Mysql => {
                match (timeouts.lock, lock_bound) {
                    (None, _) => {}
                    (Some(_), Some(bound)) => out.push(mysql_lock_waits(bound)),
                    (Some(_), None) => out.push(
                        "SET SESSION lock_wait_timeout = DEFAULT, SESSION innodb_lock_wait_timeout = DEFAULT"
                            .to_string(),
                    ),
                }
                if timeouts.statement.is_some() {
                    out.push("SET SESSION max_statement_time = DEFAULT".to_string());
                }
            }
            Dialect::Sqlite => {}
        }
        out
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

/// Why a database string names no backend (see [`Dialect::parse_url`]).
/// Carries nothing of the string but a scheme, so a message built from it
/// cannot show a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotAUrl {
    /// A libpq `key=value …` connection string (`host=h password=p dbname=d`).
    KeyValue,
    /// `scheme://…` of no backend (the scheme in lower case; empty when
    /// what precedes `://` is no scheme).
    UnknownScheme(String),
    /// A server scheme without `//` (`postgres:h/db`).
    MissingSlashes(String),
}

impl NotAUrl {
    /// What to show instead of the string.
    pub(crate) fn shown(&self) -> String {
        match self {
            NotAUrl::KeyValue => "a `key=value` connection string".to_string(),
            NotAUrl::UnknownScheme(scheme) if !scheme.is_empty() && scheme.len() <= 32 => {
                format!("`{scheme}://…`")
            }
            NotAUrl::UnknownScheme(_) => "a string with `://` after no known scheme".to_string(),
            NotAUrl::MissingSlashes(scheme) => format!("`{scheme}:…`"),
        }
    }

    /// Why it is refused and what to write instead.
    pub(crate) fn reason(&self) -> String {
        let accepted = Dialect::accepted_urls();
        match self {
            NotAUrl::KeyValue => format!(
                "key/value strings (`host=… dbname=…`) are not accepted, write a URL; {accepted} (a SQLite file whose name has `=` in it: sqlite://NAME)"
            ),
            NotAUrl::UnknownScheme(_) => format!("unknown scheme; {accepted}"),
            NotAUrl::MissingSlashes(scheme) => {
                format!("a URL starts `{scheme}://`; {accepted}")
            }
        }
    }
}

/// Whether a string without a scheme reads as libpq `key=value` pairs: a
/// word (letters, digits, `_`) followed by `=` (spaces allowed between) at
/// its start or after a space.
fn looks_like_key_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|start| {
        if start > 0 && !bytes[start - 1].is_ascii_whitespace() {
            return false;
        }
        if !(bytes[start].is_ascii_alphabetic() || bytes[start] == b'_') {
            return false;
        }
        let mut i = start;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        bytes.get(i) == Some(&b'=')
    })
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
    /// A try of a step timed out waiting for a lock (its `lock_timeout`)
    /// and was rolled back, or stopped before anything ran; the step runs
    /// again after a pause (`detail` holds the error). Never a revision's
    /// state: the rows that say whether it is applied skip these.
    pub const RETRIED: &str = "retried";
}

/// `duration` in whole milliseconds, at least 1, at most `i32::MAX` (what
/// PostgreSQL's timeouts take).
pub(crate) fn millis(duration: Duration) -> u128 {
    duration.as_millis().clamp(1, i32::MAX as u128)
}

/// MySQL/MariaDB's two lock-wait bounds, in whole seconds rounded up (at
/// most a year, their maximum): `lock_wait_timeout` (metadata locks, what
/// DDL waits for) and `innodb_lock_wait_timeout` (row locks).
pub(crate) fn mysql_lock_waits(timeout: Duration) -> String {
    let secs = millis(timeout).div_ceil(1000).min(31_536_000);
    format!("SET SESSION lock_wait_timeout = {secs}, SESSION innodb_lock_wait_timeout = {secs}")
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
    /// `repair --resume` ran the statements of a failed step that had not
    /// run (its state says how that ended: `applied`/`reverted`, or again
    /// `failed`).
    pub const RESUME: &str = "resume";
    /// `repair --accept-edit` recorded the file's new checksum of an applied
    /// migration whose text was edited on purpose (the row's `detail` holds
    /// both checksums and the reason).
    pub const ACCEPT: &str = "accept";
}

/// Identifies the writer in the history table's `tool` column.
pub const TOOL: &str = concat!("alembix ", env!("CARGO_PKG_VERSION"));

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
                // UTC whatever the writing session's time zone (a `DATETIME`
                // has none; MySQL 8.0.13+ and MariaDB 10.2+ take the expression).
                "started_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6))",
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

    /// Alembic's read: every row, no order.
    pub fn select_rows(&self) -> String {
        format!("SELECT version_num AS revision FROM {}", self.version)
    }

    /// `started_at` as microseconds since the Unix epoch, UTC, on every
    /// backend (SQLite keeps milliseconds; MySQL's `DATETIME` holds UTC, as
    /// its default writes it).
    fn started_at_micros(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "CAST(strftime('%s', h.started_at) AS INTEGER) * 1000000 + (CAST(ROUND(strftime('%f', h.started_at) * 1000) AS INTEGER) % 1000) * 1000",
            Dialect::Postgres => "CAST(ROUND(EXTRACT(EPOCH FROM h.started_at) * 1000000) AS BIGINT)",
            Dialect::Mysql => "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', h.started_at)",
        }
    }

    /// The latest history row of every revision.
    fn latest_history(&self, kind: &str) -> String {
        format!(
            "SELECT {kind} AS kind, h.revision AS revision, h.state AS state, h.operation AS operation, h.checksum AS checksum, h.down_revisions AS down_revisions, h.depends_on AS depends_on, h.statements_done AS statements_done, h.statements_total AS statements_total, h.detail AS detail FROM {hist} h JOIN (SELECT MAX(id) AS id FROM {hist} WHERE state <> {retried} GROUP BY revision) m ON h.id = m.id",
            hist = self.history,
            retried = self.lit(state::RETRIED)
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
            at = self.started_at_micros(),
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
            "SELECT CAST(COUNT(*) AS {}) AS n FROM {hist} h JOIN (SELECT MAX(id) AS id FROM {hist} WHERE state <> {retried} GROUP BY revision) m ON h.id = m.id WHERE h.state IN ({}, {})",
            match self.dialect {
                Dialect::Mysql => "SIGNED",
                _ => "BIGINT",
            },
            self.lit(state::IN_PROGRESS),
            self.lit(state::FAILED),
            hist = self.history,
            retried = self.lit(state::RETRIED)
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
        assert_eq!(Dialect::of_url("sqlite::memory:"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("./data/app.sqlite"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("/srv/a b/app.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("C:\\data\\app.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("app.db?mode=ro"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("./my files/v=2.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("oracle://h/db"), None);
    }

    #[test]
    fn schemes_are_lowered_for_the_driver() {
        let parsed = |url: &str| Dialect::parse_url(url).ok();
        assert_eq!(
            parsed("Postgres://U:PW@H/DB"),
            Some((Dialect::Postgres, "postgres://U:PW@H/DB".to_string()))
        );
        assert_eq!(
            parsed("POSTGRESQL://h/db"),
            Some((Dialect::Postgres, "postgresql://h/db".to_string()))
        );
        assert_eq!(
            parsed("MariaDB://h/db"),
            Some((Dialect::Mysql, "mariadb://h/db".to_string()))
        );
        assert_eq!(
            parsed("SQLITE://App.db"),
            Some((Dialect::Sqlite, "sqlite://App.db".to_string()))
        );
        assert_eq!(
            parsed("Sqlite::memory:"),
            Some((Dialect::Sqlite, "sqlite::memory:".to_string()))
        );
        assert_eq!(
            parsed("FILE:app.db?mode=ro"),
            Some((Dialect::Sqlite, "file:app.db?mode=ro".to_string()))
        );
        assert_eq!(
            parsed("app.db"),
            Some((Dialect::Sqlite, "app.db".to_string()))
        );
    }

    #[test]
    fn key_value_strings_and_unknown_schemes_are_refused() {
        for text in [
            "host=localhost password=Sekrit dbname=app",
            "  dbname = app user=me",
            "password=Sekrit",
            "sslmode=disable host=h",
            "user=me\tpassword=Sekrit",
        ] {
            assert_eq!(Dialect::parse_url(text), Err(NotAUrl::KeyValue), "{text}");
            assert!(!NotAUrl::KeyValue.shown().contains("Sekrit"));
        }
        assert_eq!(
            Dialect::parse_url("Oracle://u:Sekrit@h/db"),
            Err(NotAUrl::UnknownScheme("oracle".into()))
        );
        assert_eq!(
            Dialect::parse_url(" postgres://u:Sekrit@h/db"),
            Err(NotAUrl::UnknownScheme(String::new()))
        );
        assert_eq!(
            Dialect::parse_url("postgres:u:Sekrit@h/db"),
            Err(NotAUrl::MissingSlashes("postgres".into()))
        );
        assert_eq!(
            Dialect::parse_url("MySQL//u:Sekrit@h/db"),
            Err(NotAUrl::MissingSlashes("mysql".into()))
        );
        assert_eq!(
            Dialect::of_url("postgres/app.db"),
            Some(Dialect::Sqlite),
            "a folder named like a scheme"
        );
        for refused in [
            NotAUrl::KeyValue,
            NotAUrl::UnknownScheme("oracle".into()),
            NotAUrl::UnknownScheme(String::new()),
            NotAUrl::MissingSlashes("mysql".into()),
        ] {
            let text = format!("{} {}", refused.shown(), refused.reason());
            assert!(!text.contains("Sekrit"), "{text}");
            assert!(
                text.contains("sqlite://"),
                "names the accepted forms: {text}"
            );
        }
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
