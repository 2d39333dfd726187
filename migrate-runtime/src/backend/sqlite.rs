//! SQLite: connecting, and the write lock that serializes migrators.
//!
//! SQLite has no session lock a migrator could hold while it commits one
//! migration after another. Each migration runs in its own `BEGIN IMMEDIATE`
//! transaction, which takes the database's write lock at once (waiting up to
//! the configured lock timeout through `busy_timeout`), re-reads the version
//! rows inside it, and re-plans if another process moved them in between. So
//! every migration is applied exactly once, and each commit is atomic.

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
