//! The migration set as a diesel [`MigrationSource`], for teams that already
//! run `diesel_migrations::MigrationHarness` (`conn.run_pending_migrations(…)`).
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")] {
//! use diesel::Connection;
//! use diesel_migrations::MigrationHarness;
//! # fn f(migrator: &migrate_runtime::Migrator) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
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
//!
//! [`Migrator`]: crate::Migrator

use diesel::backend::Backend;
use diesel::connection::BoxableConnection;
use diesel::migration::{
    Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
};
use migrate_core::{MigrationSet, Statement, TransactionMode};
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
    up: Vec<Statement>,
    down: Option<Vec<Statement>>,
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
                up: f.upgrade.statements.clone(),
                down: f.downgrade.as_ref().map(|d| d.statements.clone()),
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

impl<DB: Backend> MigrationSource<DB> for DieselSource {
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

impl DieselMigration {
    fn run_statements<DB: Backend>(
        &self,
        statements: &[Statement],
        conn: &mut dyn BoxableConnection<DB>,
    ) -> diesel::migration::Result<()> {
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

impl<DB: Backend> Migration<DB> for DieselMigration {
    fn run(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        self.run_statements(&self.up, conn)
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        match &self.down {
            Some(down) => self.run_statements(down, conn),
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
