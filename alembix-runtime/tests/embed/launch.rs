//! A launch from an embedded history at the heads takes the fast path: the
//! heads and the digest a database at the heads carries were computed by the
//! macro at build time, so the launch reads the version table once and neither
//! builds the graph nor waits for the run lock. A database one migration behind
//! takes the careful path (and so waits for the lock), which shows the test can
//! tell the two apart.

use crate::TestResult;
use alembix_runtime::{Config, Database, EmbeddedMigrations, Error, Migrator};
use std::path::{Path, PathBuf};
use std::time::Duration;

static MERGED: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");

/// A fresh SQLite file in the target directory, removed with its lock file.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("embed-launch-{}-{name}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempDb(path)
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.0.display())
    }

    /// Holds the run lock that every careful path takes, as another replica
    /// would while it migrates.
    fn hold_run_lock(&self) -> Result<std::fs::File, Box<dyn std::error::Error>> {
        let mut lock = std::fs::canonicalize(&self.0)?.into_os_string();
        lock.push("-migrate-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(lock))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)?;
        Ok(file)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn impatient() -> Config {
    Config {
        lock_timeout: Duration::from_millis(300),
        ..Config::default()
    }
}

#[test]
fn a_launch_at_the_heads_needs_no_lock_and_no_graph() -> TestResult {
    let db = TempDb::new("at-heads");
    // Migrated by the folder path, which builds the set and computes the
    // digest at run time: the build-time values must agree with it.
    let folder = Migrator::from_folder(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        "tests/ui/fixtures/merged",
        Config::default(),
    )?;
    let mut conn = Database::connect(&db.url())?;
    let applied = folder.launch(&mut conn)?;
    assert_eq!(applied.steps.len(), MERGED.len());

    let embedded = Migrator::from_embedded(&MERGED, impatient())?;
    assert_eq!(embedded.head_rows(), folder.head_rows());
    let _held = db.hold_run_lock()?;
    let report = embedded.launch(&mut Database::connect(&db.url())?)?;
    assert!(report.steps.is_empty(), "{report:?}");
    assert_eq!(report.rows_after, folder.head_rows());
    Ok(())
}

#[test]
fn a_launch_behind_the_heads_waits_for_the_lock() -> TestResult {
    let db = TempDb::new("behind");
    let embedded = Migrator::from_embedded(&MERGED, impatient())?;
    let mut conn = Database::connect(&db.url())?;
    // One short of the head (whose migration is irreversible).
    embedded.upgrade(&mut conn, "708192a3b4c5")?;
    let _held = db.hold_run_lock()?;
    match embedded.launch(&mut conn) {
        Err(Error::LockTimeout { .. }) => Ok(()),
        other => Err(format!("expected a lock timeout, got {other:?}").into()),
    }
}
