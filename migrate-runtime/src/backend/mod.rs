//! A database connection of any compiled-in backend, and the few primitives the
//! runtime needs from it: run SQL text, count affected rows, load rows, lock.
//!
//! Which backend a URL means is decided by its scheme: `postgres://` and
//! `postgresql://` (feature `postgres`), `mysql://` and `mariadb://` (feature
//! `mysql`), and for SQLite (feature `sqlite`, on by default) `sqlite://path`,
//! `sqlite:path`, `file:` URIs, `:memory:` or a plain file path.

#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(unused_imports, unreachable_code, unused_variables, dead_code)
)]

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::redact::{redact_url, Scrubber};
use diesel::connection::SimpleConnection;
use diesel::deserialize::QueryableByName;
use diesel::RunQueryDsl;
use std::fmt;

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

/// The open connection of one backend.
pub(crate) enum Conn {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    /// MySQL / MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
    /// Keeps the enum valid when no backend feature is enabled.
    #[allow(dead_code)]
    Never(std::convert::Infallible),
}

macro_rules! dispatch {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            Conn::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Conn::Mysql($c) => $body,
            Conn::Never(never) => match *never {},
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
/// ```no_run
/// # fn main() -> Result<(), migrate_runtime::Error> {
/// let mut db = migrate_runtime::Database::connect("sqlite://app.db")?;
/// # let _ = &mut db;
/// # Ok(()) }
/// ```
pub struct Database {
    conn: Option<Conn>,
    dialect: Dialect,
    url: String,
    scrubber: Scrubber,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("dialect", &self.dialect)
            .field("url", &self.url)
            .field("open", &self.conn.is_some())
            .finish()
    }
}

impl Database {
    /// Connects to `url`; the scheme picks the backend (see the module docs).
    pub fn connect(url: &str) -> Result<Database> {
        let redacted = redact_url(url);
        let scrubber = Scrubber::for_url(url);
        let Some(dialect) = Dialect::of_url(url) else {
            return Err(Error::Url {
                url: redacted,
                reason: "unknown scheme; use postgres://, mysql:// (or mariadb://), or sqlite:// / a file path".to_string(),
            });
        };
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
            Dialect::Sqlite => Conn::Sqlite(sqlite::connect(url).map_err(connect_error)?),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Conn::Postgres(postgres::connect(url).map_err(connect_error)?),
            #[cfg(feature = "mysql")]
            Dialect::Mysql => Conn::Mysql(mysql::connect(url).map_err(connect_error)?),
            #[allow(unreachable_patterns)]
            other => {
                let _ = &connect_error;
                return Err(Error::Url {
                    url: redacted.clone(),
                    reason: format!(
                        "{} support is not compiled into this binary; enable the `{}` feature of migrate-runtime",
                        other.name(),
                        match other {
                            Dialect::Sqlite => "sqlite",
                            Dialect::Postgres => "postgres",
                            Dialect::Mysql => "mysql",
                        }
                    ),
                });
            }
        };
        tracing::debug!(url = %redacted, dialect = dialect.name(), "connected");
        Ok(Database {
            conn: Some(conn),
            dialect,
            url: redacted,
            scrubber,
        })
    }

    /// Wraps an open SQLite connection.
    #[cfg(feature = "sqlite")]
    pub fn from_sqlite(conn: diesel::SqliteConnection) -> Database {
        Database::wrap(Conn::Sqlite(conn), Dialect::Sqlite)
    }

    /// Wraps an open PostgreSQL connection.
    #[cfg(feature = "postgres")]
    pub fn from_postgres(conn: diesel::PgConnection) -> Database {
        Database::wrap(Conn::Postgres(conn), Dialect::Postgres)
    }

    /// Wraps an open MySQL/MariaDB connection.
    #[cfg(feature = "mysql")]
    pub fn from_mysql(conn: diesel::MysqlConnection) -> Database {
        Database::wrap(Conn::Mysql(conn), Dialect::Mysql)
    }

    #[allow(dead_code)]
    fn wrap(conn: Conn, dialect: Dialect) -> Database {
        Database {
            conn: Some(conn),
            dialect,
            url: format!("<{} connection>", dialect.name()),
            scrubber: Scrubber::default(),
        }
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> &str {
        &self.url
    }

    /// Closes the connection (a session lock dies with it).
    pub(crate) fn close(&mut self) {
        self.conn = None;
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        self.scrubber.scrub(text.trim_end())
    }

    fn conn(&mut self) -> Result<&mut Conn> {
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
        result.map_err(|e| self.scrub(&e.to_string()))
    }

    /// Runs one statement with one or two text bind parameters (in order) and
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
        result.map_err(|e| self.scrub(&e.to_string()))
    }

    /// Loads the rows of one query.
    pub(crate) fn load<T: Row>(&mut self, sql: &str) -> std::result::Result<Vec<T>, String> {
        tracing::trace!(sql, "load");
        let result: diesel::QueryResult<Vec<T>> = match self.conn() {
            Ok(conn) => dispatch!(conn, c => diesel::sql_query(sql).load::<T>(c)),
            Err(e) => return Err(e.to_string()),
        };
        result.map_err(|e| self.scrub(&e.to_string()))
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
    pub(crate) fn raw(&mut self) -> Result<&mut Conn> {
        self.conn()
    }
}
