//! Test-only crash points (cargo feature `failpoints`, off by default).
//!
//! When the environment variable `ALEMBIX_FAILPOINT` names a point, the process
//! prints `ALEMBIX_FAILPOINT_HIT <point> <revision>` on stdout (flushed) and on
//! stderr, then sleeps forever, so that a test parent can `SIGKILL` it at
//! exactly that moment. `ALEMBIX_FAILPOINT_REVISION`, when set, restricts the
//! points that belong to a step (all but `after-lock`) to that revision's
//! step. The points:
//!
//! | point | where |
//! | --- | --- |
//! | `after-lock` | the run lock is held (every backend, SQLite's lock file included), nothing read or applied yet |
//! | `between-statements` | after a statement of a migration, before the next one |
//! | `before-commit` | a migration and its bookkeeping ran, its `COMMIT` not sent |
//! | `after-commit-before-unlock` | the last migration committed, the lock still held |
//!
//! On PostgreSQL a transactional migration travels to the server as one
//! script, so its `between-statements` and `before-commit` points are both hit
//! before that script is sent (a crash there leaves the previous revision, as
//! a crash anywhere before the `COMMIT` does).
//!
//! Without the feature, [`hit`] compiles to nothing.

/// The run lock is held, nothing applied yet.
pub const AFTER_LOCK: &str = "after-lock";
/// Between two statements of a migration.
pub const BETWEEN_STATEMENTS: &str = "between-statements";
/// Before a migration's `COMMIT`.
pub const BEFORE_COMMIT: &str = "before-commit";
/// After the last commit, before the lock is released.
pub const AFTER_COMMIT_BEFORE_UNLOCK: &str = "after-commit-before-unlock";

/// The variable naming the point to stop at.
pub const ENV_POINT: &str = "ALEMBIX_FAILPOINT";
/// The variable restricting the point to one revision.
pub const ENV_REVISION: &str = "ALEMBIX_FAILPOINT_REVISION";
/// The marker printed when a point is hit.
pub const MARKER: &str = "ALEMBIX_FAILPOINT_HIT";

/// Stops here forever when the environment names `point` (feature `failpoints`).
#[cfg(feature = "failpoints")]
pub fn hit(point: &str, revision: Option<&str>) {
    use std::io::Write;
    let Ok(wanted) = std::env::var(ENV_POINT) else {
        return;
    };
    if wanted != point {
        return;
    }
    if let (Ok(only), Some(revision)) = (std::env::var(ENV_REVISION), revision) {
        if revision != only {
            return;
        }
    }
    let line = format!("{MARKER} {point} {}", revision.unwrap_or("-"));
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    eprintln!("{line}");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// Does nothing: the `failpoints` feature is off.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_point: &str, _revision: Option<&str>) {}
