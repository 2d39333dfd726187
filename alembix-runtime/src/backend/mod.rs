//! A database connection of any compiled-in backend, and the few primitives the
//! runtime needs from it: run SQL text, count affected rows, load rows, lock.
//!
//! Which backend a URL means is decided by its scheme: `postgres://` and
//! `postgresql://` (feature `postgres`), `mysql://` and `mariadb://` (feature
//! `mysql`), and for SQLite (feature `sqlite`, on by default) `sqlite://path`,
//! `sqlite:path`, `file:` URIs, `:memory:` or a plain file path. Schemes are
//! case-insensitive; anything else, a libpq `key=value` string included, is
//! refused before any driver (or SQLite, which would create a file) sees it.

#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(unused_imports, unreachable_code, unused_variables, dead_code)
)]

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::ident::Identifier;
use crate::redact::{redact_url, Scrubber};
use diesel::connection::SimpleConnection;
use diesel::deserialize::QueryableByName;
use diesel::RunQueryDsl;
use std::fmt;
use std::time::Duration;

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

/// A connection the runtime opened (and closes when done), or one the
/// application lent it for a while (and keeps using afterwards).
pub(crate) enum Handle<'c, C> {
    /// Opened by [`Database::connect`] or handed over with `from_*`.
    Owned(C),
    /// Lent with `From<&mut C>`: never closed by us.
    Lent(&'c mut C),
}

impl<C> Handle<'_, C> {
    fn get(&mut self) -> &mut C {
        match self {
            Handle::Owned(c) => c,
            Handle::Lent(c) => c,
        }
    }
}

/// A row of one text column called `name` (a table, a schema, the current
/// database): the row type of the catalog queries that list names.
#[derive(diesel::QueryableByName)]
pub(crate) struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub name: String,
}

/// The open connection of one backend.
pub(crate) enum Conn<'c> {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(Handle<'c, diesel::SqliteConnection>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(Handle<'c, diesel::PgConnection>),
    /// MySQL / MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(Handle<'c, diesel::MysqlConnection>),
    /// Keeps the enum valid (and its lifetime used) when no backend feature is enabled.
    #[allow(dead_code)]
    Never(
        std::convert::Infallible,
        std::marker::PhantomData<&'c mut ()>,
    ),
}

impl Conn<'_> {
    /// Whether the application lent this connection.
    fn is_lent(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(h) => matches!(h, Handle::Lent(_)),
            #[cfg(feature = "postgres")]
            Conn::Postgres(h) => matches!(h, Handle::Lent(_)),
            #[cfg(feature = "mysql")]
            Conn::Mysql(h) => matches!(h, Handle::Lent(_)),
            Conn::Never(never, _) => match *never {},
        }
    }
}

macro_rules! dispatch {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(handle) => {
                let $c = handle.get();
                $body
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(handle) => {
                let $c = handle.get();
                $body
            }
            #[cfg(feature = "mysql")]
            Conn::Mysql(handle) => {
                let $c = handle.get();
                $body
            }
            Conn::Never(never, _) => match *never {},
        }
    };
}

/// A row type loadable from every compiled-in backend.
pub(crate) trait Row: Sized + 'static + RowSqlite + RowPostgres + RowMysql {}
impl<T: Sized + 'static + RowSqlite + RowPostgres + RowMysql> Row for T {}

#[cfg(feature = "sqlite")]
pub(crate) trait RowSqlite: QueryableByName<diesel::sqlite::Sqlite> {}
#[cfg(feature = "sqlite")]
impl<T: QueryableByName<diesel::sqlite::Sqlite>> RowSqlite for T {}
#[cfg(not(feature = "sqlite"))]
pub(crate) trait RowSqlite {}
#[cfg(not(feature = "sqlite"))]
impl<T> RowSqlite for T {}

#[cfg(feature = "postgres")]
pub(crate) trait RowPostgres: QueryableByName<diesel::pg::Pg> {}
#[cfg(feature = "postgres")]
impl<T: QueryableByName<diesel::pg::Pg>> RowPostgres for T {}
#[cfg(not(feature = "postgres"))]
pub(crate) trait RowPostgres {}
#[cfg(not(feature = "postgres"))]
impl<T> RowPostgres for T {}

#[cfg(feature = "mysql")]
pub(crate) trait RowMysql: QueryableByName<diesel::mysql::Mysql> {}
#[cfg(feature = "mysql")]
impl<T: QueryableByName<diesel::mysql::Mysql>> RowMysql for T {}
#[cfg(not(feature = "mysql"))]
pub(crate) trait RowMysql {}
#[cfg(not(feature = "mysql"))]
impl<T> RowMysql for T {}

/// A connection to the database being migrated.
///
/// Its `Debug` output and every error it produces show the URL with the password
/// replaced by `***`; driver messages are scrubbed of the password too.
///
/// Either opened from a URL ([`Database::connect`]), handed over
/// ([`Database::from_postgres`], …), or **lent** by the application for the
/// time of a migration: `Database::from(&mut conn)` takes a
/// `&mut PgConnection`, `&mut SqliteConnection` or `&mut MysqlConnection`
/// (a pooled connection through deref: `Database::from(&mut *pooled)`). A
/// lent connection is given back as it was lent: the session lock is
/// released, the lock-wait setting the runtime bounds is restored when the
/// `Database` is dropped, and it is never closed.
///
/// ```no_run
/// # fn main() -> Result<(), alembix_runtime::Error> {
/// let mut db = alembix_runtime::Database::connect("sqlite://app.db")?;
/// # let _ = &mut db;
/// # Ok(()) }
/// ```
pub struct Database<'c> {
    conn: Option<Conn<'c>>,
    dialect: Dialect,
    url: String,
    scrubber: Scrubber,
    /// The bound on lock waits this session was given ([`Database::bound_lock_waits`]).
    lock_waits: Option<Duration>,
    /// For a lent connection whose lock waits we bounded: the statement that
    /// restores the application's own setting, run on drop.
    restore: Option<String>,
    /// The schema this session was pointed at ([`Database::enter_schema`]);
    /// `None` while it is at the connection's own.
    entered: Option<String>,
    /// The statement that gives the session its own `search_path` /
    /// database back, read before it was first pointed elsewhere.
    own_schema: Option<String>,
    /// The lock table's lease this session holds (`RunLock::Table`),
    /// renewed between steps.
    pub(crate) lease: Option<crate::lock::table::Lease>,
}

impl fmt::Debug for Database<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("dialect", &self.dialect)
            .field("url", &self.url)
            .field("open", &self.conn.is_some())
            .finish()
    }
}

impl Database<'static> {
    /// Connects to `url`; the scheme picks the backend (see the module docs).
    ///
    /// Refused before any driver sees it: a libpq `key=value` string (it
    /// would otherwise be a SQLite file named with the password), a scheme
    /// of no compiled-in backend, and a URL whose password the driver would
    /// read otherwise than written (a raw `@` after it, a `/`, `?` or `#` in
    /// it where the driver ends the user info there; see [`crate::redact`]).
    /// No error shows the password, whole or in part.
    pub fn connect(url: &str) -> Result<Database<'static>> {
        let scrubber = Scrubber::for_url(url);
        let (dialect, url, redacted) = checked_url(url)?;
        let connect_error = |e: diesel::ConnectionError| {
            let message = scrubber.scrub(e.to_string().trim_end());
            tracing::warn!(url = %redacted, error = %message, "cannot connect");
            Error::Connect {
                url: redacted.clone(),
                message,
            }
        };
        let conn = match dialect {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                Conn::Sqlite(Handle::Owned(sqlite::connect(&url).map_err(connect_error)?))
            }
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Conn::Postgres(Handle::Owned(
                postgres::connect(&url).map_err(connect_error)?,
            )),
            #[cfg(feature = "mysql")]
            Dialect::Mysql => {
                Conn::Mysql(Handle::Owned(mysql::connect(&url).map_err(connect_error)?))
            }
            #[allow(unreachable_patterns)]
            other => {
                let _ = &connect_error;
                return Err(not_compiled_in(other, redacted.clone()));
            }
        };
        tracing::debug!(url = %redacted, dialect = dialect.name(), "connected");
        Ok(Database {
            conn: Some(conn),
            dialect,
            url: redacted,
            scrubber,
            lock_waits: None,
            restore: None,
            entered: None,
            own_schema: None,
            lease: None,
        })
    }

    /// The URL as [`Database::connect`] hands it to its driver (the scheme
    /// in lower case), after the same refusals, without connecting: for
    /// code that opens its own diesel connection to the same database.
    pub fn driver_url(url: &str) -> Result<String> {
        checked_url(url).map(|(_, url, _)| url)
    }

    /// Takes over an open SQLite connection (closed when the `Database` is dropped).
    #[cfg(feature = "sqlite")]
    pub fn from_sqlite(conn: diesel::SqliteConnection) -> Database<'static> {
        Database::wrap(Conn::Sqlite(Handle::Owned(conn)), Dialect::Sqlite)
    }

    /// Takes over an open PostgreSQL connection (closed when the `Database` is dropped).
    #[cfg(feature = "postgres")]
    pub fn from_postgres(conn: diesel::PgConnection) -> Database<'static> {
        Database::wrap(Conn::Postgres(Handle::Owned(conn)), Dialect::Postgres)
    }

    /// Takes over an open MySQL/MariaDB connection (closed when the `Database` is dropped).
    #[cfg(feature = "mysql")]
    pub fn from_mysql(conn: diesel::MysqlConnection) -> Database<'static> {
        Database::wrap(Conn::Mysql(Handle::Owned(conn)), Dialect::Mysql)
    }
}

/// Lends the application's SQLite connection for a migration.
#[cfg(feature = "sqlite")]
impl<'c> From<&'c mut diesel::SqliteConnection> for Database<'c> {
    fn from(conn: &'c mut diesel::SqliteConnection) -> Database<'c> {
        Database::wrap(Conn::Sqlite(Handle::Lent(conn)), Dialect::Sqlite)
    }
}

/// Lends the application's PostgreSQL connection for a migration.
#[cfg(feature = "postgres")]
impl<'c> From<&'c mut diesel::PgConnection> for Database<'c> {
    fn from(conn: &'c mut diesel::PgConnection) -> Database<'c> {
        Database::wrap(Conn::Postgres(Handle::Lent(conn)), Dialect::Postgres)
    }
}

/// Lends the application's MySQL/MariaDB connection for a migration.
#[cfg(feature = "mysql")]
impl<'c> From<&'c mut diesel::MysqlConnection> for Database<'c> {
    fn from(conn: &'c mut diesel::MysqlConnection) -> Database<'c> {
        Database::wrap(Conn::Mysql(Handle::Lent(conn)), Dialect::Mysql)
    }
}

impl Drop for Database<'_> {
    fn drop(&mut self) {
        if self.is_lent() && self.entered.is_some() {
            if let Err(e) = self.leave_schema() {
                tracing::warn!(error = %e, "giving the lent connection its own search path / database back failed");
            }
        }
        if let Some(statement) = self.restore.take() {
            if let Err(message) = self.batch(&statement) {
                tracing::warn!(error = %message, "restoring the lent connection's lock-wait setting failed");
            }
        }
    }
}

impl<'c> Database<'c> {
    #[allow(dead_code)]
    fn wrap(conn: Conn<'c>, dialect: Dialect) -> Database<'c> {
        Database {
            conn: Some(conn),
            dialect,
            url: format!("<{} connection>", dialect.name()),
            scrubber: Scrubber::default(),
            lock_waits: None,
            restore: None,
            entered: None,
            own_schema: None,
            lease: None,
        }
    }

    /// Bounds how long any statement of this session waits for a lock that
    /// another session holds, so that no read or write of ours (a `current`
    /// behind a `LOCK TABLE`, a migration's DDL behind a long transaction)
    /// waits forever: PostgreSQL's `lock_timeout`, MySQL's
    /// `lock_wait_timeout` and `innodb_lock_wait_timeout` (whole seconds,
    /// rounded up), SQLite's `busy_timeout`. Sent once per connection (again
    /// only for another `timeout`).
    pub(crate) fn bound_lock_waits(&mut self, timeout: Duration) -> Result<()> {
        if self.lock_waits == Some(timeout) {
            return Ok(());
        }
        if self.lock_waits.is_none() && self.conn.as_ref().is_some_and(Conn::is_lent) {
            self.restore = Some(self.lock_waits_now()?);
        }
        let ms = crate::dialect::millis(timeout);
        let statement = match self.dialect {
            Dialect::Postgres => format!("SET lock_timeout = {ms}"),
            Dialect::Mysql => crate::dialect::mysql_lock_waits(timeout),
            Dialect::Sqlite => format!("PRAGMA busy_timeout = {ms}"),
        };
        self.batch_or(
            &statement,
            "bounding lock waits (the configured lock_timeout)",
        )?;
        self.lock_waits = Some(timeout);
        Ok(())
    }

    /// Points the session at `target` (PostgreSQL `SET search_path`,
    /// MySQL/MariaDB `USE`), so that a migration's unqualified names land
    /// there; with `create`, first creates it when it does not exist.
    /// `Ok(false)`: it does not exist and was not created (the session is
    /// left at the connection's own). `None` gives the session its own back
    /// if an earlier call moved it. The session's own setting is read before
    /// the first move, in the same query that asks whether `target` exists,
    /// and a lent connection gets it back on drop. Refused on SQLite.
    pub(crate) fn enter_schema(
        &mut self,
        target: Option<&Identifier>,
        create: bool,
    ) -> Result<bool> {
        let Some(target) = target else {
            self.leave_schema()?;
            return Ok(true);
        };
        if self.dialect == Dialect::Sqlite {
            return Err(Error::Unsupported(format!(
                "target_schema ({target}) is a PostgreSQL schema or a MySQL/MariaDB database; SQLite has neither (one file is one schema): point the URL at the database file instead and leave target_schema unset"
            )));
        }
        if self.entered.as_deref() == Some(target.as_str()) {
            return Ok(true);
        }
        let (own, mut exists) = self.probe_schema(target)?;
        if self.entered.is_none() {
            self.own_schema = Some(own);
        }
        let quoted = self.dialect.quote(target);
        if !exists {
            if !create {
                self.leave_schema()?;
                return Ok(false);
            }
            let statement = match self.dialect {
                Dialect::Mysql => format!("CREATE DATABASE IF NOT EXISTS {quoted}"),
                _ => format!("CREATE SCHEMA IF NOT EXISTS {quoted}"),
            };
            if let Err(message) = self.batch(&statement) {
                // Another process may have created it at the same moment
                // (PostgreSQL's `IF NOT EXISTS` can then fail on its catalog's key).
                exists = self.probe_schema(target)?.1;
                if !exists {
                    return Err(self.fail(&format!("creating the target schema {target}"), message));
                }
            } else {
                tracing::info!(schema = %target, "created the target schema");
            }
        }
        let statement = match self.dialect {
            Dialect::Mysql => format!("USE {quoted}"),
            _ => format!("SET search_path TO {quoted}"),
        };
        self.batch_or(
            &statement,
            &format!("pointing the session at the target schema {target}"),
        )?;
        self.entered = Some(target.as_str().to_string());
        Ok(true)
    }

    /// Gives the session its own `search_path` / database back, if
    /// [`Database::enter_schema`] moved it.
    fn leave_schema(&mut self) -> Result<()> {
        if self.entered.is_none() {
            return Ok(());
        }
        if let Some(statement) = self.own_schema.clone() {
            self.batch_or(
                &statement,
                "giving the session its own search path / database back",
            )?;
        }
        self.entered = None;
        Ok(())
    }

    /// Whether `target` exists, and the statement that gives the session
    /// its current `search_path` / database back (one query).
    fn probe_schema(&mut self, target: &Identifier) -> Result<(String, bool)> {
        #[derive(diesel::QueryableByName)]
        struct Probe {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let name = self.dialect.literal(target.as_str());
        let query = match self.dialect {
            Dialect::Mysql => format!(
                "SELECT COALESCE(DATABASE(), '') AS value, CAST((SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {name}) AS SIGNED) AS n"
            ),
            _ => format!(
                "SELECT current_setting('search_path') AS value, CAST((SELECT COUNT(*) FROM pg_namespace WHERE nspname = {name}) AS BIGINT) AS n"
            ),
        };
        let rows: Vec<Probe> =
            self.load_or(&query, "reading the session's search path / database")?;
        let Some(row) = rows.into_iter().next() else {
            return Err(self.fail(
                "reading the session's search path / database",
                "no row".to_string(),
            ));
        };
        let restore = match self.dialect {
            Dialect::Mysql if row.value.is_empty() => {
                // No database was selected, and MySQL cannot unselect one:
                // our statements all name theirs, so this one stays.
                "DO 0".to_string()
            }
            Dialect::Mysql => format!("USE `{}`", row.value.replace('`', "``")),
            _ => format!(
                "SELECT set_config('search_path', {}, false)",
                Dialect::Postgres.literal(&row.value)
            ),
        };
        Ok((restore, row.n > 0))
    }

    /// The statement that sets this session's lock waits back to what they are now.
    fn lock_waits_now(&mut self) -> Result<String> {
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let (query, restore): (&str, fn(&str) -> String) = match self.dialect {
            Dialect::Postgres => ("SELECT current_setting('lock_timeout') AS value", |v| {
                format!("SET lock_timeout = {}", Dialect::Postgres.literal(v))
            }),
            Dialect::Mysql => (
                "SELECT CONCAT(@@SESSION.lock_wait_timeout, ',', @@SESSION.innodb_lock_wait_timeout) AS value",
                |v| {
                    let (lock, innodb) = v.split_once(',').unwrap_or((v, v));
                    format!("SET SESSION lock_wait_timeout = {lock}, SESSION innodb_lock_wait_timeout = {innodb}")
                },
            ),
            Dialect::Sqlite => ("SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout", |v| {
                format!("PRAGMA busy_timeout = {v}")
            }),
        };
        let rows: Vec<Setting> =
            self.load_or(query, "reading the lent connection's lock-wait setting")?;
        let value = rows.into_iter().next().map(|r| r.value).unwrap_or_default();
        // Only digits (and PostgreSQL's unit letters) go back into a statement.
        if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == ',') {
            return Err(self.fail(
                "reading the lent connection's lock-wait setting",
                format!("unexpected value {value:?}"),
            ));
        }
        Ok(restore(&value))
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> &str {
        &self.url
    }

    /// Closes the connection (a session lock dies with it). A lent
    /// connection is not ours to close: it is only set aside, and the error
    /// that led here says so.
    pub(crate) fn close(&mut self) {
        self.conn = None;
    }

    /// Whether the application lent this connection (see [`Database::close`]).
    pub(crate) fn is_lent(&self) -> bool {
        self.conn.as_ref().is_some_and(Conn::is_lent)
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        self.scrubber.scrub(text.trim_end())
    }

    fn conn(&mut self) -> Result<&mut Conn<'c>> {
        let url = self.url.clone();
        self.conn.as_mut().ok_or_else(|| Error::Database {
            doing: "using the connection".to_string(),
            message: format!(
                "the connection to {url} was closed after an error it could not recover from; connect again"
            ),
        })
    }

    /// Runs SQL text (one or more statements, nothing returned).
    pub(crate) fn batch(&mut self, sql: &str) -> std::result::Result<(), String> {
        tracing::trace!(sql, "batch");
        let result: diesel::QueryResult<()> = match self.conn() {
            Ok(conn) => dispatch!(conn, c => c.batch_execute(sql)),
            Err(e) => return Err(e.to_string()),
        };
        result.map_err(|e| self.scrub(&describe(&e)))
    }

    /// Runs one statement with up to two text bind parameters (in order) and
    /// returns the number of rows it affected. The SQL text stays the same from
    /// step to step, so backends prepare it once.
    pub(crate) fn execute_bound(
        &mut self,
        sql: &str,
        params: &[&str],
    ) -> std::result::Result<usize, String> {
        use diesel::sql_types::Text;
        tracing::trace!(sql, ?params, "execute");
        let result: diesel::QueryResult<usize> = match (self.conn(), params) {
            (Ok(conn), []) => dispatch!(conn, c => diesel::sql_query(sql).execute(c)),
            (Ok(conn), [a]) => {
                dispatch!(conn, c => diesel::sql_query(sql).bind::<Text, _>(*a).execute(c))
            }
            (Ok(conn), [a, b]) => dispatch!(conn, c => diesel::sql_query(sql)
                .bind::<Text, _>(*a)
                .bind::<Text, _>(*b)
                .execute(c)),
            (Ok(_), _) => {
                return Err(format!(
                    "{} bind parameters are not supported",
                    params.len()
                ))
            }
            (Err(e), _) => return Err(e.to_string()),
        };
        result.map_err(|e| self.scrub(&describe(&e)))
    }

    /// Loads the rows of one query.
    pub(crate) fn load<T: Row>(&mut self, sql: &str) -> std::result::Result<Vec<T>, String> {
        tracing::trace!(sql, "load");
        let result: diesel::QueryResult<Vec<T>> = match self.conn() {
            Ok(conn) => dispatch!(conn, c => diesel::sql_query(sql).load::<T>(c)),
            Err(e) => return Err(e.to_string()),
        };
        result.map_err(|e| self.scrub(&describe(&e)))
    }

    /// Helper: a bookkeeping error.
    pub(crate) fn fail(&self, doing: &str, message: String) -> Error {
        Error::Database {
            doing: doing.to_string(),
            message,
        }
    }

    /// Runs SQL text, mapping a failure to a bookkeeping error.
    pub(crate) fn batch_or(&mut self, sql: &str, doing: &str) -> Result<()> {
        self.batch(sql).map_err(|m| self.fail(doing, m))
    }

    /// Loads rows, mapping a failure to a bookkeeping error.
    pub(crate) fn load_or<T: Row>(&mut self, sql: &str, doing: &str) -> Result<Vec<T>> {
        self.load(sql).map_err(|m| self.fail(doing, m))
    }

    /// Access to the raw connection for backend-specific code.
    #[allow(dead_code)]
    pub(crate) fn raw(&mut self) -> Result<&mut Conn<'c>> {
        self.conn()
    }
}

/// The error for a URL of a backend this binary was built without.
fn not_compiled_in(dialect: Dialect, redacted: String) -> Error {
    let feature = match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
    };
    Error::Url {
        url: redacted,
        reason: format!(
            "{} support is not compiled into this binary (enable the `{feature}` feature of alembix-runtime); {}",
            dialect.name(),
            Dialect::accepted_urls()
        ),
    }
}

/// The backend, the URL for its driver and the URL to show, or why the
/// URL must reach no driver (see [`Database::connect`]).
fn checked_url(url: &str) -> Result<(Dialect, String, String)> {
    let (dialect, url) = Dialect::parse_url(url).map_err(|refused| Error::Url {
        url: refused.shown(),
        reason: refused.reason(),
    })?;
    let redacted = redact_url(&url);
    if !dialect.compiled_in() {
        return Err(not_compiled_in(dialect, redacted));
    }
    if let Some(reason) = crate::redact::ambiguity(dialect, &url) {
        return Err(Error::Url {
            url: redacted,
            reason: reason.to_string(),
        });
    }
    Ok((dialect, url, redacted))
}

/// A driver error as the operator needs it: the server's message, then
/// PostgreSQL's `DETAIL` (the duplicate key, the row that failed a check)
/// and `HINT` when the server gave them (diesel's `Display` shows only the
/// message).
fn describe(error: &diesel::result::Error) -> String {
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            let mut text = info.message().trim_end().to_string();
            if let Some(detail) = info.details() {
                text.push_str("\n  DETAIL: ");
                text.push_str(detail.trim_end());
            }
            if let Some(hint) = info.hint() {
                text.push_str("\n  HINT: ");
                text.push_str(hint.trim_end());
            }
            text
        }
        other => other.to_string(),
    }
}
