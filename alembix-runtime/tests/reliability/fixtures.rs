//! The histories under `tests/fixtures/reliability/<backend>/<history>/`, and
//! edited copies of them in temporary folders.
//!
//! Each backend has the same three histories, differing only where SQL does
//! (how to sleep, `CREATE INDEX CONCURRENTLY`):
//!
//! - `main`: seven revisions with a branch and a merge. Every upgrade inserts
//!   its revision into `witness` (no unique key: a second run would show) and
//!   sleeps briefly (`pg_sleep`, `SLEEP()`, a recursive CTE on SQLite) to widen
//!   races. `rl02item0002` has four statements in one transaction;
//!   `rl03index003` is `-- transaction: none` (`CREATE INDEX CONCURRENTLY` on
//!   PostgreSQL) with four statements.
//! - `broken`: the base, then five statements whose third fails.
//! - `slow`: the base, then a migration that holds the lock for a second or two.

use crate::support::{fixtures as fixtures_root, Kind};
use alembix_runtime::{Config, Migrator};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

pub const BASE: &str = "rl01base0001";
pub const ITEMS: &str = "rl02item0002";
pub const INDEXES: &str = "rl03index003";
pub const LEFT: &str = "rl04left0004";
pub const RIGHT: &str = "rl05rght0005";
pub const MERGE: &str = "rl06merg0006";
pub const LAST: &str = "rl07last0007";
pub const BROKEN: &str = "rl02brok0002";
pub const SLOW: &str = "rl02slow0002";

/// Every revision of `main`, in the order a launch applies them (the planner
/// takes the branches in this order).
pub const MAIN: [&str; 7] = [BASE, ITEMS, INDEXES, RIGHT, LEFT, MERGE, LAST];

/// The backend's folder name.
pub fn backend(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Mysql => "mysql",
    }
}

/// `(root, folder)` of a history, as `Migrator::from_folder` and children take them.
pub fn history(kind: Kind, name: &str) -> (PathBuf, String) {
    (
        fixtures_root(),
        format!("reliability/{}/{name}", backend(kind)),
    )
}

/// A migrator over a history, built in this process.
pub fn migrator(kind: Kind, name: &str) -> Migrator {
    let (root, folder) = history(kind, name);
    Migrator::from_folder(&root, &folder, Config::default()).expect("fixture history loads")
}

/// A temporary copy of a history, removed on drop.
pub struct Copy {
    pub root: PathBuf,
    pub folder: String,
}

static COPIES: AtomicU32 = AtomicU32::new(0);

impl Copy {
    /// Copies `main` of `kind` into a fresh temporary folder.
    pub fn of(kind: Kind, name: &str) -> Copy {
        let n = COPIES.fetch_add(1, Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!(
            "migrate-reliability-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        let dir = root.join("migrations");
        std::fs::create_dir_all(&dir).expect("temp folder");
        let (src_root, src_folder) = history(kind, name);
        for entry in std::fs::read_dir(src_root.join(src_folder)).expect("fixture folder") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, dir.join(path.file_name().expect("a name"))).expect("copy");
        }
        Copy {
            root,
            folder: "migrations".to_string(),
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.folder)
    }

    /// The copied file of `revision`.
    pub fn file(&self, revision: &str) -> PathBuf {
        std::fs::read_dir(self.dir())
            .expect("copy folder")
            .map(|e| e.expect("entry").path())
            .find(|p| {
                p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.ends_with(revision))
            })
            .unwrap_or_else(|| panic!("no file for {revision}"))
    }

    /// Rewrites the file of `revision` with `edit`.
    pub fn edit(&self, revision: &str, edit: impl Fn(&str) -> String) {
        let path = self.file(revision);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, edit(&text)).expect("write");
    }

    /// Removes the file of `revision`.
    pub fn remove(&self, revision: &str) {
        std::fs::remove_file(self.file(revision)).expect("remove");
    }

    /// Adds a migration file.
    pub fn add(&self, file_name: &str, text: &str) {
        std::fs::write(self.dir().join(file_name), text).expect("write");
    }

    pub fn migrator(&self) -> Migrator {
        Migrator::from_folder(&self.root, &self.folder, Config::default()).expect("copy loads")
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The checksum this binary's text of `revision` has, as stored in history rows.
pub fn checksum(migrator: &Migrator, revision: &str) -> String {
    let idx = migrator
        .set()
        .unwrap()
        .graph()
        .index_of(revision)
        .expect("revision in set");
    migrator
        .set()
        .unwrap()
        .file(idx)
        .checksum(alembix_runtime::core::SqlDialect::Sqlite)
        .as_str()
        .to_string()
}

/// The upgrade statements of `revision`, as the runtime runs them.
#[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
pub fn statements(migrator: &Migrator, revision: &str) -> Vec<String> {
    let idx = migrator
        .set()
        .unwrap()
        .graph()
        .index_of(revision)
        .expect("revision in set");
    migrator
        .set()
        .unwrap()
        .file(idx)
        .upgrade
        .statements(alembix_runtime::core::SqlDialect::Sqlite)
        .iter()
        .map(|s| s.sql.clone())
        .collect()
}

/// The file name of `revision` in a migrator's set.
pub fn file_name(migrator: &Migrator, revision: &str) -> String {
    let idx = migrator
        .set()
        .unwrap()
        .graph()
        .index_of(revision)
        .expect("revision in set");
    migrator.set().unwrap().file(idx).file.clone()
}
