//! The migration lock, held for a whole run and released on every path.
//!
//! | backend | lock | wait | holder in the timeout error |
//! | --- | --- | --- | --- |
//! | PostgreSQL | session advisory lock `(k1, k2)` | `pg_try_advisory_lock` polled | pid, user, application, client from `pg_locks` + `pg_stat_activity` |
//! | MySQL/MariaDB | `GET_LOCK('migrate:<db>.<table>')` | server-side, `GET_LOCK` timeout | connection id, user, host from `IS_USED_LOCK` + `PROCESSLIST` |
//! | SQLite (a file, on Unix) | `flock` on `<database file>-migrate-lock` ([`file`]) | non-blocking `flock` polled | pid, host, program, for how long, from the lock file |
//! | PostgreSQL, MySQL/MariaDB with `RunLock::Table` | a lease row in `<version_table>_lock` ([`table`]) | insert / take over an expired lease, polled | owner (host:pid:random) and when its lease expires |
//! | SQLite (in memory; other platforms) | none for the run: each migration's `BEGIN IMMEDIATE` | `busy_timeout` | (SQLite does not say) |
//!
//! [`LockGuard`] releases the lock when dropped, errors and panics included; if
//! the release itself fails, the connection is closed, which frees a session
//! lock on the server. A killed process frees every one of them the same way:
//! the server ends the session of a closed connection, and the kernel drops
//! the `flock` of a dead process. None of these locks can outlive its process,
//! so there is no stale-lock rule to get wrong. The exception is the lock
//! table (chosen in `Config::run_lock`, for PgBouncer's transaction pooling
//! and engines without advisory locks): its row is a lease that a killed
//! process leaves behind until it expires, renewed between steps.
//!
//! Every SQLite transaction still begins with `BEGIN IMMEDIATE` and re-reads
//! the version rows inside it, so a writer that does not take the run lock
//! (an older runtime, a script) cannot make a migration run twice either.

use crate::backend::Database;
use crate::config::RunLock;
use crate::dialect::{Dialect, Sql};
use crate::error::{Error, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use sha2::{Digest, Sha256};
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

pub(crate) mod file;
pub(crate) mod table;

/// The lock taken for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lock {
    /// SQLite database file: an exclusive `flock` on the lock file beside it.
    SqliteFile {
        /// The lock file.
        path: std::path::PathBuf,
    },
    /// SQLite without a run lock (in-memory or temporary database, or a
    /// platform without `flock`): every migration's `BEGIN IMMEDIATE` takes
    /// the write lock, and the rows are re-read inside it.
    Sqlite,
    /// A PostgreSQL session advisory lock.
    PgAdvisory { class: i32, object: i32 },
    /// A MySQL/MariaDB named lock.
    MysqlNamed { name: String },
    /// A row in the lock table (`Config::run_lock` = `RunLock::Table`): a
    /// lease, taken and released in statements of its own ([`table`]).
    Table {
        /// The quoted, qualified lock table.
        table: String,
    },
}

impl Lock {
    /// How the lock is called in messages.
    pub fn describe(&self) -> String {
        match self {
            Lock::SqliteFile { path } => {
                format!("the SQLite migration lock file {}", path.display())
            }
            Lock::Sqlite => "the SQLite write lock".to_string(),
            Lock::PgAdvisory { class, object } => {
                format!("PostgreSQL advisory lock ({class}, {object})")
            }
            Lock::MysqlNamed { name } => format!("GET_LOCK('{name}')"),
            Lock::Table { table } => format!("the lock table {table}"),
        }
    }

    /// Whether the lock excludes every other migrator for the whole run (all
    /// but [`Lock::Sqlite`]): then anything found unfinished inside it was
    /// left by a process that died.
    pub fn is_run_wide(&self) -> bool {
        !matches!(self, Lock::Sqlite)
    }
}

/// The advisory key / lock name for a version table. The `migrate:` prefix (and
/// the SQLite lock file's `-migrate-lock` suffix) predate the `alembix` name and
/// stay: they are the contract that makes replicas of different versions exclude
/// each other during a rolling deploy.
pub(crate) fn lock_for(sql: &Sql, database_name: &str) -> Lock {
    let table = match &sql.tables.schema {
        Some(s) => format!("{s}.{}", sql.tables.version),
        None => sql.tables.version.to_string(),
    };
    match sql.dialect {
        Dialect::Sqlite => Lock::Sqlite,
        Dialect::Postgres => {
            let digest = Sha256::digest(format!("migrate:{table}").as_bytes());
            let object =
                i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7fff_ffff;
            Lock::PgAdvisory {
                class: PG_KEY_CLASS,
                object,
            }
        }
        Dialect::Mysql => {
            let db = match &sql.tables.schema {
                Some(s) => s.to_string(),
                None => database_name.to_string(),
            };
            let name = format!("migrate:{db}.{}", sql.tables.version);
            let name = if name.len() <= 64 {
                name
            } else {
                let digest = Sha256::digest(name.as_bytes());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("migrate:{}", &hex[..56])
            };
            Lock::MysqlNamed { name }
        }
    }
}

/// The first half of the PostgreSQL advisory key: ASCII `migr`.
pub(crate) const PG_KEY_CLASS: i32 = 0x6d69_6772;

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Nullable<BigInt>)]
    flag: Option<i64>,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct DatabaseFile {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    file: Option<String>,
}

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = Text)]
    holder: String,
}

/// A run lock that is held: what it is, and the lock file that holds it (SQLite).
#[derive(Debug)]
pub(crate) struct Held {
    /// The lock.
    pub lock: Lock,
    /// The open, locked file of [`Lock::SqliteFile`].
    file: Option<file::FileLock>,
}

impl Held {
    fn server(lock: Lock) -> Held {
        Held { lock, file: None }
    }
}

/// Takes the run lock, waiting at most `timeout`.
pub(crate) fn acquire(
    db: &mut Database,
    sql: &Sql,
    timeout: Duration,
    mode: RunLock,
) -> Result<Held> {
    let started = Instant::now();
    if let (RunLock::Table { expiry }, Dialect::Postgres | Dialect::Mysql) = (mode, sql.dialect) {
        let lease = table::acquire(db, sql, timeout, expiry)?;
        let lock = Lock::Table {
            table: lease.table.clone(),
        };
        db.lease = Some(lease);
        return Ok(Held::server(lock));
    }
    match sql.dialect {
        Dialect::Sqlite => {
            let ms = timeout.as_millis().min(i32::MAX as u128);
            db.batch_or(
                &format!("PRAGMA busy_timeout = {ms}"),
                "setting SQLite's busy_timeout",
            )?;
            // The pragma itself, not `pragma_database_list`: a SELECT would
            // load the schema, which needs SQLite's shared lock, and a
            // migrator frozen in its commit would hold that up; the lock file
            // must come first so that the waiter can name it.
            let files: Vec<DatabaseFile> =
                db.load_or("PRAGMA database_list", "finding the SQLite database file")?;
            let file = files
                .into_iter()
                .find(|f| f.name == "main")
                .and_then(|f| f.file)
                .unwrap_or_default();
            let (lock, file) = acquire_sqlite_file(std::path::Path::new(&file), timeout, started)?;
            Ok(Held { lock, file })
        }
        Dialect::Postgres => {
            let lock = lock_for(sql, "");
            let Lock::PgAdvisory { class, object } = lock else {
                return Ok(Held::server(lock));
            };
            let query = format!(
                "SELECT CAST(CASE WHEN pg_try_advisory_lock({class}, {object}) THEN 1 ELSE 0 END AS BIGINT) AS flag"
            );
            let mut pause = Duration::from_millis(5);
            loop {
                let got: Vec<Flag> = db.load_or(&query, "taking the PostgreSQL advisory lock")?;
                if got.first().and_then(|f| f.flag) == Some(1) {
                    tracing::debug!(class, object, waited = ?started.elapsed(), "advisory lock taken");
                    return Ok(Held::server(lock));
                }
                let waited = started.elapsed();
                if waited >= timeout {
                    let holder = pg_holder(db, class, object);
                    return Err(Error::LockTimeout {
                        lock: lock.describe(),
                        waited,
                        holder,
                    });
                }
                std::thread::sleep(pause.min(timeout - waited));
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
        Dialect::Mysql => {
            let names: Vec<Name> = db.load_or(
                "SELECT DATABASE() AS name",
                "reading the current MySQL database",
            )?;
            let database = names
                .into_iter()
                .next()
                .and_then(|n| n.name)
                .unwrap_or_default();
            let lock = lock_for(sql, &database);
            let Lock::MysqlNamed { name } = &lock else {
                return Ok(Held::server(lock));
            };
            // GET_LOCK takes whole seconds on MySQL; round up so a short timeout still waits.
            let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
            let got: Vec<Flag> = db.load_or(
                &format!(
                    "SELECT CAST(GET_LOCK({}, {secs}) AS SIGNED) AS flag",
                    sql.dialect.literal(name)
                ),
                "taking the MySQL named lock",
            )?;
            match got.first().and_then(|f| f.flag) {
                Some(1) => {
                    tracing::debug!(lock = %name, waited = ?started.elapsed(), "named lock taken");
                    Ok(Held::server(lock))
                }
                _ => {
                    let holder = mysql_holder(db, sql, name);
                    Err(Error::LockTimeout {
                        lock: lock.describe(),
                        waited: started.elapsed(),
                        holder,
                    })
                }
            }
        }
    }
}

/// The run lock of the SQLite database in `file` (empty: in memory / temporary).
fn acquire_sqlite_file(
    file: &std::path::Path,
    timeout: Duration,
    started: Instant,
) -> Result<(Lock, Option<file::FileLock>)> {
    if file.as_os_str().is_empty() || !file::AVAILABLE {
        // In memory: private to this connection (or process), nobody to
        // exclude. Without `flock`: each migration's BEGIN IMMEDIATE.
        return Ok((Lock::Sqlite, None));
    }
    let path = file::lock_path(file);
    match file::FileLock::acquire(&path, timeout) {
        Ok(held) => {
            tracing::debug!(path = %path.display(), waited = ?started.elapsed(), "SQLite migration lock taken");
            Ok((Lock::SqliteFile { path }, Some(held)))
        }
        Err(file::AcquireError::TimedOut { waited, holder }) => Err(Error::LockTimeout {
            lock: Lock::SqliteFile { path }.describe(),
            waited,
            holder,
        }),
        Err(file::AcquireError::Io(e)) => Err(Error::Database {
            doing: format!("taking the SQLite migration lock file {}", path.display()),
            message: format!(
                "{e}; the lock file lives beside the database, so its folder must be writable (as SQLite's own journal needs)"
            ),
        }),
    }
}

fn pg_holder(db: &mut Database, class: i32, object: i32) -> String {
    let query = format!(
        "SELECT 'pid ' || a.pid || COALESCE(', user ' || CAST(a.usename AS TEXT), '') || COALESCE(', application ''' || NULLIF(a.application_name, '') || '''', '') || COALESCE(', client ' || CAST(a.client_addr AS TEXT), ', local socket') || COALESCE(', connected since ' || CAST(a.backend_start AS TEXT), '') || COALESCE(', state ' || a.state, '') AS holder FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {class} AND l.objid = {object} AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    );
    match db.load::<Holder>(&query) {
        Ok(rows) if !rows.is_empty() => rows
            .into_iter()
            .map(|h| h.holder)
            .collect::<Vec<_>>()
            .join("; "),
        Ok(_) => "nobody any more (it was released just now)".to_string(),
        Err(e) => format!("an unknown session (pg_locks could not be read: {e})"),
    }
}

fn mysql_holder(db: &mut Database, sql: &Sql, name: &str) -> String {
    let lit = sql.dialect.literal(name);
    let query = format!(
        "SELECT CONCAT('connection id ', CAST(IS_USED_LOCK({lit}) AS CHAR), COALESCE((SELECT CONCAT(', user ', USER, ', host ', HOST, ', database ', COALESCE(DB, '-'), ', ', COMMAND, ' for ', CAST(TIME AS CHAR), ' s', COALESCE(CONCAT(', ', NULLIF(STATE, '')), '')) FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK({lit})), '')) AS name"
    );
    match db.load::<Name>(&query) {
        Ok(rows) => match rows.into_iter().next().and_then(|r| r.name) {
            Some(h) => h,
            None => "nobody any more (it was released just now)".to_string(),
        },
        Err(e) => format!("an unknown connection (IS_USED_LOCK could not be read: {e})"),
    }
}

/// Releases the lock; on failure closes the connection, which releases it too.
pub(crate) fn release(db: &mut Database, sql: &Sql, held: Held) -> Result<()> {
    if let Some(file) = held.file {
        file.release();
    }
    release_server_lock(db, sql, &held.lock)
}

fn release_server_lock(db: &mut Database, sql: &Sql, lock: &Lock) -> Result<()> {
    let query = match lock {
        Lock::Sqlite | Lock::SqliteFile { .. } => return Ok(()),
        Lock::Table { .. } => {
            return match db.lease.take() {
                Some(lease) => table::release(db, sql, &lease),
                None => Ok(()),
            }
        }
        Lock::PgAdvisory { class, object } => format!(
            "SELECT CAST(CASE WHEN pg_advisory_unlock({class}, {object}) THEN 1 ELSE 0 END AS BIGINT) AS flag"
        ),
        Lock::MysqlNamed { name } => format!(
            "SELECT CAST(RELEASE_LOCK({}) AS SIGNED) AS flag",
            sql.dialect.literal(name)
        ),
    };
    // A lent connection is not ours to close: its owner must.
    let closed = if db.is_lent() {
        "the application's connection was set aside: close it (do not return it to a pool), which releases the lock"
    } else {
        "the connection was closed, which releases the lock"
    };
    match db.load::<Flag>(&query) {
        Ok(rows) if rows.first().and_then(|f| f.flag) == Some(1) => Ok(()),
        Ok(_) => {
            db.close();
            Err(Error::Database {
                doing: format!("releasing {}", lock.describe()),
                message: format!("the lock was not held by this connection any more; {closed}"),
            })
        }
        Err(message) => {
            db.close();
            Err(Error::Database {
                doing: format!("releasing {}", lock.describe()),
                message: format!("{message}; {closed}"),
            })
        }
    }
}

/// Holds the run lock on a [`Database`]; releases it when dropped.
pub(crate) struct LockGuard<'a, 'c> {
    db: &'a mut Database<'c>,
    sql: Sql,
    held: Option<Held>,
    run_wide: bool,
}

impl<'a, 'c> LockGuard<'a, 'c> {
    /// Takes the lock on `db`.
    pub fn acquire(
        db: &'a mut Database<'c>,
        sql: &Sql,
        timeout: Duration,
        mode: RunLock,
    ) -> Result<LockGuard<'a, 'c>> {
        let held = acquire(db, sql, timeout, mode)?;
        let run_wide = held.lock.is_run_wide();
        let guard = LockGuard {
            db,
            sql: sql.clone(),
            held: Some(held),
            run_wide,
        };
        crate::failpoint::hit(crate::failpoint::AFTER_LOCK, None);
        Ok(guard)
    }

    /// Whether the lock excludes every other migrator for the whole run.
    pub fn is_run_wide(&self) -> bool {
        self.run_wide
    }

    /// Releases the lock now, reporting a failure.
    pub fn release(mut self) -> Result<()> {
        match self.held.take() {
            Some(held) => release(self.db, &self.sql, held),
            None => Ok(()),
        }
    }
}

impl<'c> Deref for LockGuard<'_, 'c> {
    type Target = Database<'c>;
    fn deref(&self) -> &Database<'c> {
        self.db
    }
}

impl<'c> DerefMut for LockGuard<'_, 'c> {
    fn deref_mut(&mut self) -> &mut Database<'c> {
        self.db
    }
}

impl Drop for LockGuard<'_, '_> {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            if let Err(e) = release(self.db, &self.sql, held) {
                tracing::warn!(error = %e, "releasing the migration lock failed");
            }
        }
    }
}
