//! The migration lock, held for a whole run and released on every path.
//!
//! | backend | lock | wait | holder in the timeout error |
//! | --- | --- | --- | --- |
//! | PostgreSQL | session advisory lock `(k1, k2)` | `pg_try_advisory_lock` polled | pid, user, application, client from `pg_locks` + `pg_stat_activity` |
//! | MySQL/MariaDB | `GET_LOCK('migrate:<db>.<table>')` | server-side, `GET_LOCK` timeout | connection id, user, host from `IS_USED_LOCK` + `PROCESSLIST` |
//! | SQLite | the write lock of each `BEGIN IMMEDIATE` | `busy_timeout` | (SQLite does not say) |
//!
//! [`LockGuard`] releases the lock when dropped, errors and panics included; if
//! the release itself fails, the connection is closed, which frees a session
//! lock on the server. A killed process frees it the same way.

use crate::backend::Database;
use crate::dialect::{Dialect, Sql};
use crate::error::{Error, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use sha2::{Digest, Sha256};
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

/// The lock taken for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunLock {
    /// SQLite: every migration's `BEGIN IMMEDIATE` takes the write lock.
    Sqlite,
    /// A PostgreSQL session advisory lock.
    PgAdvisory { class: i32, object: i32 },
    /// A MySQL/MariaDB named lock.
    MysqlNamed { name: String },
}

impl RunLock {
    /// How the lock is called in messages.
    pub fn describe(&self) -> String {
        match self {
            RunLock::Sqlite => "the SQLite write lock".to_string(),
            RunLock::PgAdvisory { class, object } => {
                format!("PostgreSQL advisory lock ({class}, {object})")
            }
            RunLock::MysqlNamed { name } => format!("GET_LOCK('{name}')"),
        }
    }
}

/// The advisory key / lock name for a version table.
pub(crate) fn lock_for(sql: &Sql, database_name: &str) -> RunLock {
    let table = match &sql.tables.schema {
        Some(s) => format!("{s}.{}", sql.tables.version),
        None => sql.tables.version.to_string(),
    };
    match sql.dialect {
        Dialect::Sqlite => RunLock::Sqlite,
        Dialect::Postgres => {
            let digest = Sha256::digest(format!("migrate:{table}").as_bytes());
            let object =
                i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7fff_ffff;
            RunLock::PgAdvisory {
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
            RunLock::MysqlNamed { name }
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
struct Holder {
    #[diesel(sql_type = Text)]
    holder: String,
}

/// Takes the run lock, waiting at most `timeout`.
pub(crate) fn acquire(db: &mut Database, sql: &Sql, timeout: Duration) -> Result<RunLock> {
    let started = Instant::now();
    match sql.dialect {
        Dialect::Sqlite => {
            let ms = timeout.as_millis().min(i32::MAX as u128);
            db.batch_or(
                &format!("PRAGMA busy_timeout = {ms}"),
                "setting SQLite's busy_timeout",
            )?;
            Ok(RunLock::Sqlite)
        }
        Dialect::Postgres => {
            let lock = lock_for(sql, "");
            let RunLock::PgAdvisory { class, object } = lock else {
                return Ok(lock);
            };
            let query = format!(
                "SELECT CAST(CASE WHEN pg_try_advisory_lock({class}, {object}) THEN 1 ELSE 0 END AS BIGINT) AS flag"
            );
            let mut pause = Duration::from_millis(5);
            loop {
                let got: Vec<Flag> = db.load_or(&query, "taking the PostgreSQL advisory lock")?;
                if got.first().and_then(|f| f.flag) == Some(1) {
                    tracing::debug!(class, object, waited = ?started.elapsed(), "advisory lock taken");
                    return Ok(lock);
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
            let RunLock::MysqlNamed { name } = &lock else {
                return Ok(lock);
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
                    Ok(lock)
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
pub(crate) fn release(db: &mut Database, sql: &Sql, lock: &RunLock) -> Result<()> {
    let query = match lock {
        RunLock::Sqlite => return Ok(()),
        RunLock::PgAdvisory { class, object } => format!(
            "SELECT CAST(CASE WHEN pg_advisory_unlock({class}, {object}) THEN 1 ELSE 0 END AS BIGINT) AS flag"
        ),
        RunLock::MysqlNamed { name } => format!(
            "SELECT CAST(RELEASE_LOCK({}) AS SIGNED) AS flag",
            sql.dialect.literal(name)
        ),
    };
    match db.load::<Flag>(&query) {
        Ok(rows) if rows.first().and_then(|f| f.flag) == Some(1) => Ok(()),
        Ok(_) => {
            db.close();
            Err(Error::Database {
                doing: format!("releasing {}", lock.describe()),
                message:
                    "the lock was not held by this connection any more; the connection was closed"
                        .to_string(),
            })
        }
        Err(message) => {
            db.close();
            Err(Error::Database {
                doing: format!("releasing {}", lock.describe()),
                message: format!("{message}; the connection was closed, which releases the lock"),
            })
        }
    }
}

/// Holds the run lock on a [`Database`]; releases it when dropped.
pub(crate) struct LockGuard<'a> {
    db: &'a mut Database,
    sql: Sql,
    lock: Option<RunLock>,
}

impl<'a> LockGuard<'a> {
    /// Takes the lock on `db`.
    pub fn acquire(db: &'a mut Database, sql: &Sql, timeout: Duration) -> Result<LockGuard<'a>> {
        let lock = acquire(db, sql, timeout)?;
        if lock != RunLock::Sqlite {
            crate::failpoint::hit(crate::failpoint::AFTER_LOCK, None);
        }
        Ok(LockGuard {
            db,
            sql: sql.clone(),
            lock: Some(lock),
        })
    }

    /// Releases the lock now, reporting a failure.
    pub fn release(mut self) -> Result<()> {
        match self.lock.take() {
            Some(lock) => release(self.db, &self.sql, &lock),
            None => Ok(()),
        }
    }
}

impl Deref for LockGuard<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.db
    }
}

impl DerefMut for LockGuard<'_> {
    fn deref_mut(&mut self) -> &mut Database {
        self.db
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            if let Err(e) = release(self.db, &self.sql, &lock) {
                tracing::warn!(error = %e, "releasing the migration lock failed");
            }
        }
    }
}
