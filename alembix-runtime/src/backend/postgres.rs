//! PostgreSQL: connecting, and the session advisory lock held for a whole run.
//!
//! The lock is `pg_try_advisory_lock(k1, k2)` with `k1` fixed for this tool and
//! `k2` derived from the (schema-qualified) version table name, polled until the
//! lock timeout. Polling instead of a blocking `pg_advisory_lock` matters: a
//! waiter blocked inside `pg_advisory_lock` holds a snapshot, and a
//! `CREATE INDEX CONCURRENTLY` run by the lock holder waits for every older
//! snapshot: a deadlock. A polling waiter holds none between its attempts.
//!
//! The lock belongs to the session: it is released by `pg_advisory_unlock`, and
//! by the server when the connection closes, so a killed process never leaves
//! it behind.

use diesel::{Connection, ConnectionResult, PgConnection};

/// Opens a connection.
pub(crate) fn connect(url: &str) -> ConnectionResult<PgConnection> {
    PgConnection::establish(url)
}
