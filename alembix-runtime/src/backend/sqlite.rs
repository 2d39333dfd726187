//! SQLite: connecting, and how migrators of one database file are serialized.
//!
//! SQLite has no session lock a migrator could hold while it commits one
//! migration after another, so the run lock is a file beside the database:
//! an exclusive `flock` on `<database file>-migrate-lock`, held from before
//! the version rows are read until the run ends, released (and the file
//! removed) on every path, and dropped by the kernel when a process dies —
//! `kill -9` cannot leave it held (see `lock::file`). Waiting for it is
//! bounded by the lock timeout, and the timeout error quotes the holder's pid,
//! host and program from the file.
//!
//! Inside it, each migration still runs in its own `BEGIN IMMEDIATE`
//! transaction (the database's write lock, waited for through `busy_timeout`,
//! against writers that are not migrators) and re-reads the version rows
//! there, re-planning if they moved. A `-- transaction: none` migration first
//! commits an `in_progress` claim in such a transaction; the run lock makes it
//! the only claimant, so it runs exactly once, and a claim found unfinished
//! inside the lock belongs to a dead process: launch refuses until
//! [`crate::Migrator::repair`].
//!
//! An in-memory or temporary database (and a platform without `flock`) has
//! no run lock: there, `BEGIN IMMEDIATE`, the re-read rows and the claim
//! (checked inside the transaction that writes it) keep every migration to
//! one run, and a claim found in progress is waited for up to the lock timeout.

use diesel::{Connection, ConnectionResult, SqliteConnection};

/// Opens `url` (`sqlite://path`, `sqlite:path`, `file:` URI, `:memory:` or a path).
pub(crate) fn connect(url: &str) -> ConnectionResult<SqliteConnection> {
    SqliteConnection::establish(path_of(url))
}

/// The part of a SQLite URL that SQLite itself understands.
pub(crate) fn path_of(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}
