//! The migration set as a diesel [`MigrationSource`], for teams that already
//! run `diesel_migrations::MigrationHarness` (`conn.run_pending_migrations(…)`).
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")] {
//! use diesel::Connection;
//! use diesel_migrations::MigrationHarness;
//! # fn f(migrator: &alembix_runtime::Migrator) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let mut conn = diesel::SqliteConnection::establish("app.db")?;
//! conn.run_pending_migrations(migrator.diesel_source()?)?;
//! # Ok(()) } }
//! ```
//!
//! That path is diesel's, not ours, and it lacks what the [`Migrator`] adds:
//!
//! - **no lock**: two processes starting together may both run a migration;
//! - **not the Alembic version table**: diesel records versions in its own
//!   `__diesel_schema_migrations` table, which neither Alembic nor the
//!   `Migrator` reads, so do not mix the two paths on one database;
//! - **no history table, no checksum drift check, no ahead/diverged check**;
//! - **a total order instead of the graph**: diesel sorts versions as strings,
//!   so each version is `<depth>_<revision>` (depth = longest path from a base
//!   through `down_revision` and `depends_on`), which orders every revision
//!   after its parents and never changes once a revision exists; branches are
//!   applied whole, never targeted (`label@head` has no meaning there).
//!
//! Statements run one by one so an error names the revision, file and line;
//! `-- transaction: none` migrations report `run_in_transaction() == false`.
//! Each runs as the connection's backend splits it (SQLite, PostgreSQL,
//! MySQL/MariaDB); a section that backend reads as unterminated is refused
//! before its first statement.
//!
//! [`Migrator`]: crate::Migrator

use alembix_core::{MigrationSet, Section, SqlDialect, TransactionMode};
use diesel::backend::Backend;
use diesel::connection::BoxableConnection;
use diesel::migration::{
    Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
};
use std::any::TypeId;
use std::fmt;

/// A [`MigrationSource`] over a migration set; see the module docs for what it lacks.
#[derive(Debug, Clone)]
pub struct DieselSource {
    migrations: Vec<DieselMigration>,
}

#[derive(Debug, Clone)]
struct DieselMigration {
    name: DieselName,
    file: String,
    up: Section,
    down: Option<Section>,
    in_transaction: bool,
}

#[derive(Debug, Clone)]
struct DieselName {
    version: String,
    revision: String,
    message: String,
}

impl DieselSource {
    /// Builds the source; versions are `<depth>_<revision>` (see the module docs).
    pub fn new(set: &MigrationSet) -> DieselSource {
        let graph = set.graph();
        // Load order is not topological; compute depths with memoized DFS.
        let mut depth: Vec<Option<usize>> = vec![None; graph.len()];
        for start in 0..graph.len() {
            let mut stack = vec![(start, false)];
            while let Some((i, expanded)) = stack.pop() {
                if depth[i].is_some() {
                    continue;
                }
                let parents: Vec<usize> = graph.rev(i).all_parents().collect();
                if expanded {
                    let d = parents
                        .iter()
                        .filter_map(|&p| depth[p])
                        .max()
                        .map_or(0, |m| m + 1);
                    depth[i] = Some(d);
                } else {
                    stack.push((i, true));
                    stack.extend(
                        parents
                            .into_iter()
                            .filter(|&p| depth[p].is_none())
                            .map(|p| (p, false)),
                    );
                }
            }
        }
        let migrations = set
            .files()
            .iter()
            .enumerate()
            .map(|(i, f)| DieselMigration {
                name: DieselName {
                    version: format!("{:05}_{}", depth[i].unwrap_or(0), f.revision),
                    revision: f.revision.clone(),
                    message: f.message.clone(),
                },
                file: f.file.clone(),
                up: f.upgrade.clone(),
                down: f.downgrade.clone(),
                in_transaction: f.transaction == TransactionMode::PerMigration,
            })
            .collect();
        DieselSource { migrations }
    }

    /// The diesel versions, in the order diesel will run them.
    pub fn versions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .migrations
            .iter()
            .map(|m| m.name.version.clone())
            .collect();
        v.sort();
        v
    }
}

impl<DB: Backend + 'static> MigrationSource<DB> for DieselSource {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        Ok(self
            .migrations
            .iter()
            .map(|m| Box::new(m.clone()) as Box<dyn Migration<DB>>)
            .collect())
    }
}

/// A statement of a migration failed under diesel's harness.
#[derive(Debug, thiserror::Error)]
#[error("revision {revision} ({file}:{line}) failed at statement {index}: {message}")]
struct StatementFailed {
    revision: String,
    file: String,
    line: u32,
    index: usize,
    message: String,
}

/// A downgrade was asked of an irreversible migration.
#[derive(Debug, thiserror::Error)]
#[error("revision {revision} ({file}) is irreversible; it has no downgrade")]
struct NoDowngrade {
    revision: String,
    file: String,
}

/// A section cannot run on the connection's backend.
#[derive(Debug, thiserror::Error)]
#[error(
    "revision {revision} ({file}:{line}) cannot run on {dialect}: {what}; nothing of it was run"
)]
struct CannotRun {
    revision: String,
    file: String,
    line: u32,
    dialect: &'static str,
    what: String,
}

/// The dialect of a diesel backend compiled into this crate; `None` for any
/// other backend.
fn dialect_of<DB: 'static>() -> Option<SqlDialect> {
    let id = TypeId::of::<DB>();
    #[cfg(feature = "sqlite")]
    if id == TypeId::of::<diesel::sqlite::Sqlite>() {
        return Some(SqlDialect::Sqlite);
    }
    #[cfg(feature = "postgres")]
    if id == TypeId::of::<diesel::pg::Pg>() {
        return Some(SqlDialect::Postgres);
    }
    #[cfg(feature = "mysql")]
    if id == TypeId::of::<diesel::mysql::Mysql>() {
        return Some(SqlDialect::Mysql);
    }
    let _ = id;
    None
}

impl DieselMigration {
    fn run_section<DB: Backend + 'static>(
        &self,
        section: &Section,
        conn: &mut dyn BoxableConnection<DB>,
    ) -> diesel::migration::Result<()> {
        let cannot_run = |line: u32, dialect: &'static str, what: String| CannotRun {
            revision: self.name.revision.clone(),
            file: self.file.clone(),
            line,
            dialect,
            what,
        };
        // Another backend: any dialect's split, if they all agree.
        let dialect = match dialect_of::<DB>() {
            Some(dialect) => dialect,
            None if section.splits.is_uniform() => SqlDialect::Postgres,
            None => {
                return Err(Box::new(cannot_run(
                    section.line,
                    "this backend",
                    "the section splits differently per SQL dialect, and the backend is none of SQLite, PostgreSQL, MySQL".to_string(),
                )))
            }
        };
        if let Some(open) = section.unterminated(dialect) {
            return Err(Box::new(cannot_run(
                open.line,
                dialect.name(),
                format!("the section ends inside {}, never closed", open.unclosed),
            )));
        }
        let statements = section.statements(dialect);
        for (i, statement) in statements.iter().enumerate() {
            conn.batch_execute(&statement.sql)
                .map_err(|e| StatementFailed {
                    revision: self.name.revision.clone(),
                    file: self.file.clone(),
                    line: statement.line,
                    index: i + 1,
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }
}

impl<DB: Backend + 'static> Migration<DB> for DieselMigration {
    fn run(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        self.run_section(&self.up, conn)
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        match &self.down {
            Some(down) => self.run_section(down, conn),
            None => Err(Box::new(NoDowngrade {
                revision: self.name.revision.clone(),
                file: self.file.clone(),
            })),
        }
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self
    }

    fn name(&self) -> &dyn MigrationName {
        &self.name
    }
}

impl MigrationMetadata for DieselMigration {
    fn run_in_transaction(&self) -> bool {
        self.in_transaction
    }
}

impl MigrationName for DieselName {
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(&self.version)
    }
}

impl fmt::Display for DieselName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.version)?;
        if !self.message.is_empty() {
            write!(f, " ({})", self.message)?;
        }
        Ok(())
    }
}
