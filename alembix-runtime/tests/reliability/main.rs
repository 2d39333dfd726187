//! Proof of the promises in RELIABILITY.md, against real PostgreSQL, MariaDB
//! and SQLite, with real processes.
//!
//! The processes are this very test binary: [`child_main`] is a `#[test]` that
//! does nothing unless `RELIABILITY_CHILD` is set, in which case it acts as a
//! service launching against a database (see [`child`]). Parents start it with
//! `--exact child_main`, hold it behind a start barrier (a line on stdin), kill
//! it with SIGKILL at a failpoint, and judge the outcome from the database
//! alone ([`oracle`]): a witness table without a unique key, the version and
//! history tables, `information_schema` / `sqlite_master`, `pg_locks`,
//! `IS_USED_LOCK` and `/proc/locks`.
//!
//! Servers and the CI rule (an unreachable server fails instead of skipping
//! when `CI=true`) come from `tests/runtime/support.rs`, shared. The kill
//! tests need `--features failpoints`. Every test runs its full size in CI
//! (`CI=true`) or with `ALEMBIX_RELIABILITY_FULL=1`, and a smaller one
//! otherwise (fewer rounds and cases, never fewer kinds of check).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../runtime/support.rs"]
mod support;

#[path = "../runtime/capture.rs"]
mod capture;
mod child;
mod drift;
mod errors;
mod fixtures;
mod hostile;
mod idempotent;
#[cfg(feature = "failpoints")]
mod kill;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod lock_table;
mod oracle;
mod passwords;
mod race;

/// The child process: a service that migrates on launch (see [`child`]).
/// Returns at once in a normal test run.
#[test]
fn child_main() {
    child::main_if_child();
}

/// Whether to run the full-size version of every test: in CI, or when asked.
pub fn full() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("ALEMBIX_RELIABILITY_FULL").is_ok_and(|v| v == "1")
}

/// Prints one line of the numbers a test ran (visible with `--nocapture`).
pub fn tally(line: &str) {
    eprintln!("[reliability] {line}");
}
