//! The run lock as a lease row (`RunLock::Table`): a lock that needs no
//! session, for PgBouncer in transaction pooling mode and engines without
//! advisory locks.
//!
//! The table `<version_table>_lock` (beside the version table) holds at most
//! one row, key `id = 1`: its `owner` (`host:pid:random`), `acquired_at`,
//! `heartbeat_at` and `expires_at`, in the server's UTC clock, so that the
//! clocks of the hosts running migrations never matter. Every statement here
//! runs on its own, outside any transaction (each is its own transaction):
//!
//! - take: `INSERT` the row unless one exists (`ON CONFLICT DO NOTHING` /
//!   `INSERT IGNORE`), else `UPDATE` it where its lease expired; one row
//!   affected means ours. Both are compare-and-set on the server: two runs
//!   taking over the same expired lease cannot both match it.
//! - renew (before each step): `UPDATE … WHERE owner = us`; no row means the
//!   lease expired and another run took it, and the run stops.
//! - release: `DELETE … WHERE owner = us`.

use crate::backend::Database;
use crate::dialect::{Dialect, Sql};
use crate::error::{Error, Result};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// A lease this process holds.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    /// The quoted, qualified lock table.
    pub table: String,
    /// `host:pid:random`.
    pub owner: String,
    /// How long each renewal lasts.
    pub expiry: Duration,
}

#[derive(QueryableByName)]
struct Owner {
    #[diesel(sql_type = Text)]
    owner: String,
    #[diesel(sql_type = Text)]
    expires: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    remaining_ms: Option<i64>,
}

/// The server's current UTC time, as the columns hold it.
fn now(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => "UTC_TIMESTAMP(6)",
        _ => "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')",
    }
}

/// The server's current UTC time plus `d`.
fn later(dialect: Dialect, d: Duration) -> String {
    let ms = crate::dialect::millis(d);
    match dialect {
        Dialect::Mysql => format!("(UTC_TIMESTAMP(6) + INTERVAL {ms} * 1000 MICROSECOND)"),
        _ => format!("({} + INTERVAL '1 millisecond' * {ms})", now(dialect)),
    }
}

fn qualified(sql: &Sql) -> String {
    let d = sql.dialect;
    match &sql.tables.schema {
        Some(s) => format!("{}.{}", d.quote(s), d.quote(&sql.tables.lock)),
        None => d.quote(&sql.tables.lock),
    }
}

fn create_table(sql: &Sql, table: &str) -> String {
    let ts = match sql.dialect {
        Dialect::Mysql => "DATETIME(6)",
        _ => "TIMESTAMP",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    id INTEGER NOT NULL PRIMARY KEY,\n    owner VARCHAR(255) NOT NULL,\n    acquired_at {ts} NOT NULL,\n    heartbeat_at {ts} NOT NULL,\n    expires_at {ts} NOT NULL\n)"
    )
}

/// This process's name for itself: `host:pid:random`.
fn owner() -> String {
    let host = super::file::host_name();
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{host}:{}:{random:016x}", std::process::id())
}

/// Runs one statement (its own transaction) and returns the rows it affected.
fn affected(db: &mut Database, query: &str, doing: &str) -> Result<usize> {
    db.execute_bound(query, &[]).map_err(|m| db.fail(doing, m))
}

/// Takes the lease, waiting at most `timeout`.
pub(crate) fn acquire(
    db: &mut Database,
    sql: &Sql,
    timeout: Duration,
    expiry: Duration,
) -> Result<Lease> {
    let started = Instant::now();
    let d = sql.dialect;
    let table = qualified(sql);
    ensure_table(db, sql, &table)?;
    let lease = Lease {
        table: table.clone(),
        owner: owner(),
        expiry,
    };
    let me = d.literal(&lease.owner);
    let (now, until) = (now(d), later(d, expiry));
    let columns = "id, owner, acquired_at, heartbeat_at, expires_at";
    let values = format!("1, {me}, {now}, {now}, {until}");
    let insert = match d {
        Dialect::Mysql => format!("INSERT IGNORE INTO {table} ({columns}) VALUES ({values})"),
        _ => {
            format!("INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT (id) DO NOTHING")
        }
    };
    let take_over = format!(
        "UPDATE {table} SET owner = {me}, acquired_at = {now}, heartbeat_at = {now}, expires_at = {until} WHERE id = 1 AND expires_at < {now}"
    );
    let mut pause = Duration::from_millis(20);
    loop {
        if affected(db, &insert, "taking the lock table's lease")? == 1 {
            tracing::debug!(%table, owner = %lease.owner, waited = ?started.elapsed(), "lock table lease taken");
            return Ok(lease);
        }
        if affected(db, &take_over, "taking over the lock table's expired lease")? == 1 {
            tracing::info!(%table, owner = %lease.owner, waited = ?started.elapsed(), "an expired lock table lease taken over");
            return Ok(lease);
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout {
                lock: super::Lock::Table { table }.describe(),
                waited,
                holder: holder(db, sql, &lease.table),
            });
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// Creates the lock table when missing. Two runs creating it at once may
/// collide on PostgreSQL's catalog; the loser finds it there on its retry.
fn ensure_table(db: &mut Database, sql: &Sql, table: &str) -> Result<()> {
    let create = create_table(sql, table);
    let mut tries = 0;
    loop {
        match db.batch(&create) {
            Ok(()) => return Ok(()),
            Err(_) if tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20 * tries));
            }
            Err(m) => return Err(db.fail(&format!("creating the lock table {table}"), m)),
        }
    }
}

/// Who holds the lease, and when it expires.
fn holder(db: &mut Database, sql: &Sql, table: &str) -> String {
    let query = match sql.dialect {
        Dialect::Mysql => format!(
            "SELECT owner, CAST(expires_at AS CHAR) AS expires, CAST(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires_at) DIV 1000 AS SIGNED) AS remaining_ms FROM {table} WHERE id = 1"
        ),
        _ => format!(
            "SELECT owner, CAST(expires_at AS TEXT) AS expires, CAST(EXTRACT(EPOCH FROM (expires_at - {})) * 1000 AS BIGINT) AS remaining_ms FROM {table} WHERE id = 1",
            now(sql.dialect)
        ),
    };
    match db.load::<Owner>(&query) {
        Ok(rows) => match rows.into_iter().next() {
            Some(o) => {
                let when = match o.remaining_ms {
                    Some(ms) if ms >= 0 => format!("in {:.1} s", ms as f64 / 1000.0),
                    _ => "now (it has expired)".to_string(),
                };
                format!(
                    "{}, whose lease expires at {} UTC ({when}); a run renews it before every migration, so a live run keeps it: raise lock_timeout, or if that process is gone, wait for the lease to expire",
                    o.owner, o.expires
                )
            }
            None => "nobody any more (it was released just now)".to_string(),
        },
        Err(e) => format!("an unknown owner (the lock table could not be read: {e})"),
    }
}

/// Renews the lease (before a step). No row of ours: it expired and another
/// run took it over, so this run must stop.
pub(crate) fn renew(db: &mut Database, sql: &Sql) -> Result<()> {
    let Some(lease) = db.lease.clone() else {
        return Ok(());
    };
    let d = sql.dialect;
    let query = format!(
        "UPDATE {} SET heartbeat_at = {}, expires_at = {} WHERE id = 1 AND owner = {}",
        lease.table,
        now(d),
        later(d, lease.expiry),
        d.literal(&lease.owner)
    );
    match affected(db, &query, "renewing the lock table's lease")? {
        1 => Ok(()),
        _ => {
            db.lease = None;
            Err(Error::Database {
                doing: format!("renewing the lease in the lock table {}", lease.table),
                message: format!(
                    "the lease of {} expired (a step took longer than its expiry of {:?}) and another run took it over; stopped before the next migration. Raise RunLock::Table's expiry above the longest migration, then run again",
                    lease.owner, lease.expiry
                ),
            })
        }
    }
}

/// Releases the lease: deletes our row.
pub(crate) fn release(db: &mut Database, sql: &Sql, lease: &Lease) -> Result<()> {
    let query = format!(
        "DELETE FROM {} WHERE id = 1 AND owner = {}",
        lease.table,
        sql.dialect.literal(&lease.owner)
    );
    match affected(db, &query, "releasing the lock table's lease")? {
        1 => Ok(()),
        _ => Err(Error::Database {
            doing: format!("releasing the lease in the lock table {}", lease.table),
            message: format!(
                "the lease of {} was not held any more: it expired and another run took it over",
                lease.owner
            ),
        }),
    }
}
