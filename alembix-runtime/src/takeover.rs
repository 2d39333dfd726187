//! Taking over a database that another tool migrated, without re-baselining.
//!
//! **Alembic** writes the same version table (`alembic_version`), so its
//! database is ours as it is. What it lacks is our history table, or rows in
//! it for the revisions Alembic applied (before this runtime's first run, or
//! between two of its runs: the tools can take turns). Inside the run lock,
//! after the checks a run makes anyway (unfinished steps, drift, unknown
//! rows) and before planning, every revision the version rows imply (through
//! `down_revision` and `depends_on`) that the history does not record as
//! present is recorded once as `adopted` (operation `adopt`). No SQL runs for
//! it, and no checksum is recorded: Alembic ran its Python, not our text, so
//! such a revision is never reported as drift and never run again. The row
//! carries the applied-set digest, so the next launch takes the one-query path.
//!
//! **diesel_migrations** keeps its own table, `__diesel_schema_migrations`
//! (one `version` per migration it ran). [`Migrator::adopt_diesel`], or the first
//! upgrade with [`DieselTakeover::OnUpgrade`], maps those versions to revisions
//! with the core's [`diesel_compat`] (the rule `cargo xtask import-diesel` used
//! to name them), checks that they are a prefix of the history (no gap), writes
//! the version rows they amount to and records each revision as `adopted`, in
//! one transaction. Nothing is re-run; diesel's table is left as it is. With
//! the default [`DieselTakeover::Explicit`], an upgrade of such a database
//! refuses, saying how to adopt it, instead of running the history from the
//! start over an existing schema.

use super::{Migrator, RowOnly};
use crate::assess::{assess, Unknown};
use crate::backend::Database;
use crate::config::DieselTakeover;
use crate::dialect::{state, Dialect, Sql};
use crate::error::{Error, Result};
use crate::lock::LockGuard;
use crate::version_table::{self, DbState, Latest};
use alembix_core::diesel_compat::{self, DieselApplied, DIESEL_TABLE};
use alembix_core::RevIdx;
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;

/// History state of a revision another tool applied, recorded at takeover.
pub const ADOPTED: &str = "adopted";

/// History operation that records an adoption.
pub const ADOPT: &str = "adopt";

/// What [`Migrator::adopt_diesel`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DieselAdoption {
    /// The versions in `__diesel_schema_migrations`, sorted as text (diesel's
    /// order); empty when the table does not exist or holds nothing.
    pub diesel_versions: Vec<String>,
    /// The revisions this call recorded as adopted, in load order; empty when
    /// there was nothing to adopt or the database was adopted before.
    pub adopted: Vec<String>,
    /// The version rows after the call.
    pub rows: Vec<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

/// Whether a history row says the revision is in the database.
fn records_presence(latest: &Latest) -> bool {
    latest.state == state::APPLIED || latest.state == state::STAMPED || latest.state == ADOPTED
}

fn diesel_table_exists(dialect: Dialect) -> String {
    let name = dialect.literal(DIESEL_TABLE);
    match dialect {
        Dialect::Sqlite => format!(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = {name}"
        ),
        Dialect::Postgres => format!(
            "SELECT CAST(CASE WHEN to_regclass({name}) IS NULL THEN 0 ELSE 1 END AS BIGINT) AS n"
        ),
        Dialect::Mysql => format!(
            "SELECT CAST(COUNT(*) AS SIGNED) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = {name}"
        ),
    }
}

impl Migrator {
    /// Takes over a database that diesel_migrations migrated: the versions in
    /// its `__diesel_schema_migrations` become the version rows of the matching
    /// revisions (`diesel_<version>`, as `cargo xtask import-diesel` named
    /// them), each recorded in the history table as `adopted`. Nothing runs;
    /// diesel's table is left as it is. The next upgrade applies only what
    /// comes after.
    ///
    /// Idempotent: a database without diesel's table, or one already adopted
    /// (its version rows include every diesel version), is left unchanged.
    /// Refused, with nothing written, when a version is not in this history,
    /// when the versions are not a prefix of it (the error names the gap),
    /// or when the version rows already say something else.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), alembix_runtime::Error> {
    /// # let migrator = alembix_runtime::Migrator::from_folder(std::path::Path::new("."), "migrations", Default::default())?;
    /// let mut db = alembix_runtime::Database::connect("postgres://app@db/app")?;
    /// let adoption = migrator.adopt_diesel(&mut db)?;
    /// println!("adopted {:?}; now at {:?}", adoption.adopted, adoption.rows);
    /// migrator.launch(&mut db)?; // runs what comes after diesel's last version
    /// # Ok(()) }
    /// ```
    pub fn adopt_diesel(&self, db: &mut Database) -> Result<DieselAdoption> {
        let sql = self.sql_to_run(db)?;
        let mut guard =
            LockGuard::acquire(db, &sql, self.config.lock_timeout, self.config.run_lock)?;
        match self.adopt_diesel_locked(&mut guard, &sql) {
            Ok(adoption) => {
                guard.release()?;
                Ok(adoption)
            }
            Err(e) => {
                drop(guard);
                Err(e)
            }
        }
    }

    fn adopt_diesel_locked(&self, db: &mut Database, sql: &Sql) -> Result<DieselAdoption> {
        let mut state = version_table::read_state(db, sql)?;
        let versions = self.diesel_versions(db, sql)?.unwrap_or_default();
        if versions.is_empty() {
            return Ok(DieselAdoption {
                rows: state.rows,
                ..DieselAdoption::default()
            });
        }
        if !state.rows.is_empty() {
            self.check_diesel_covered(&state.rows, &versions)?;
            return Ok(DieselAdoption {
                diesel_versions: versions,
                adopted: Vec::new(),
                rows: state.rows,
            });
        }
        if !state.latest.is_empty() {
            return Err(Error::VersionTable(format!(
                "not adopting diesel's versions: the version table '{}' is empty, but its history table shows that this runtime managed the database before (was it downgraded to base?). If the schema is what diesel left, `stamp` the matching revision instead",
                self.tables.version
            )));
        }
        // Refused before any table is created: nothing is written.
        let applied = self.map_diesel_versions(&versions)?;
        self.create_tables(db, sql, &state)?;
        let adopted = self.write_diesel_adoption(db, sql, &applied)?;
        state = version_table::read_state(db, sql)?;
        Ok(DieselAdoption {
            diesel_versions: versions,
            adopted,
            rows: state.rows,
        })
    }

    /// The takeover step of a locked run: after the tables exist, before
    /// planning. An `upgrade` of a database with no version rows and no
    /// history first looks for diesel's table; then every revision the rows
    /// imply that the history does not record is adopted (see the module
    /// docs). Returns the revisions adopted.
    pub(super) fn take_over(
        &self,
        db: &mut Database,
        sql: &Sql,
        state: &mut DbState,
        upgrade: bool,
    ) -> Result<Vec<String>> {
        if upgrade && state.rows.is_empty() && state.latest.is_empty() {
            let versions = self.diesel_versions(db, sql)?.unwrap_or_default();
            if let Some(newest) = versions.last() {
                match self.config.diesel {
                    DieselTakeover::Explicit => {
                        return Err(Error::DieselNotAdopted {
                            diesel_versions: versions.len(),
                            newest: newest.clone(),
                            version_table: self.tables.version.to_string(),
                        })
                    }
                    DieselTakeover::OnUpgrade => {
                        let applied = self.map_diesel_versions(&versions)?;
                        self.create_tables(db, sql, state)?;
                        let adopted = self.write_diesel_adoption(db, sql, &applied)?;
                        *state = version_table::read_state(db, sql)?;
                        return Ok(adopted);
                    }
                }
            }
        }
        self.adopt_foreign(db, sql, state)
    }

    /// The versions of diesel's table, sorted; `None` when it does not exist.
    fn diesel_versions(&self, db: &mut Database, sql: &Sql) -> Result<Option<Vec<String>>> {
        let exists: Vec<Count> = db.load_or(
            &diesel_table_exists(sql.dialect),
            &format!("looking for diesel's {DIESEL_TABLE} table"),
        )?;
        if exists.first().is_none_or(|c| c.n == 0) {
            return Ok(None);
        }
        let rows: Vec<Version> = db.load_or(
            &format!("SELECT version AS version FROM {DIESEL_TABLE}"),
            &format!("reading diesel's {DIESEL_TABLE} table"),
        )?;
        let mut versions: Vec<String> = rows.into_iter().map(|r| r.version).collect();
        versions.sort();
        Ok(Some(versions))
    }

    /// A database already under this runtime: every diesel version must be
    /// applied according to its rows, or someone ran diesel after the takeover.
    fn check_diesel_covered(&self, rows: &[String], versions: &[String]) -> Result<()> {
        let graph = self.set()?.graph();
        let applied = self.map_diesel_versions(versions)?;
        let known: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
        let present = graph.ancestor_mask(&known, true);
        let beyond: Vec<String> = applied
            .revisions
            .iter()
            .filter(|(i, _)| !present[*i])
            .map(|(i, v)| format!("{v} (revision {})", graph.rev(*i).id))
            .collect();
        if beyond.is_empty() {
            return Ok(());
        }
        Err(Error::VersionTable(format!(
            "the version table '{}' says {}, but diesel_migrations also applied {} which those rows do not include: a diesel binary ran after the takeover. Check the schema, then `stamp` the revision it matches; nothing was written",
            self.tables.version,
            rows.join(", "),
            beyond.join(", ")
        )))
    }

    /// diesel's versions as revisions of this history: a prefix, no gap.
    fn map_diesel_versions(&self, versions: &[String]) -> Result<DieselApplied> {
        let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
        diesel_compat::applied_from_diesel(self.set()?.graph(), &refs)
            .map_err(|e| Error::VersionTable(e.to_string()))
    }

    /// Writes the version rows diesel's versions amount to and one `adopted`
    /// history row per revision, in one transaction. Returns the adopted ids.
    fn write_diesel_adoption(
        &self,
        db: &mut Database,
        sql: &Sql,
        applied: &DieselApplied,
    ) -> Result<Vec<String>> {
        let graph = self.set()?.graph();
        if applied.revisions.is_empty() {
            return Ok(Vec::new());
        }
        let digest = self.digest_of(&applied.rows, sql.dialect.sql_dialect());
        self.begin(db, sql)?;
        let result = (|| -> Result<()> {
            let found: Vec<RowOnly> =
                db.load_or(&sql.select_rows(), "reading the version table")?;
            if !found.is_empty() {
                return Err(Error::VersionTable(format!(
                    "another process wrote the version table '{}' while this one was adopting diesel's versions; run again",
                    self.tables.version
                )));
            }
            for row in &applied.rows {
                db.batch_or(
                    &sql.insert_row(row),
                    &format!("inserting '{row}' into the version table"),
                )?;
            }
            for (idx, version) in &applied.revisions {
                self.record_adoption(
                    db,
                    sql,
                    *idx,
                    format!("applied by diesel_migrations as version {version}; adopted without running it"),
                    digest.as_deref(),
                )?;
            }
            Ok(())
        })();
        self.finish(db, result)?;
        let adopted: Vec<String> = applied
            .revisions
            .iter()
            .map(|(i, _)| graph.rev(*i).id.clone())
            .collect();
        tracing::info!(revisions = ?adopted, rows = ?applied.rows, "adopted the database diesel_migrations migrated");
        Ok(adopted)
    }

    /// Records as adopted every revision the version rows imply that the
    /// history does not record as present. Writes nothing when the run is
    /// about to refuse anyway (unfinished steps, drift, rows this binary does
    /// not know): its error says why.
    fn adopt_foreign(
        &self,
        db: &mut Database,
        sql: &Sql,
        state: &mut DbState,
    ) -> Result<Vec<String>> {
        if state.rows.is_empty() {
            return Ok(Vec::new());
        }
        let a = assess(self.set()?, state, sql.dialect.sql_dialect());
        if !a.unfinished.is_empty() || !a.drift.is_empty() || !matches!(a.unknown, Unknown::None) {
            return Ok(Vec::new());
        }
        let graph = self.set()?.graph();
        let known: Vec<RevIdx> = state
            .rows
            .iter()
            .filter_map(|r| graph.index_of(r))
            .collect();
        let implied = graph.ancestor_mask(&known, true);
        let missing: Vec<RevIdx> = (0..graph.len())
            .filter(|&i| implied[i])
            .filter(|&i| {
                !state
                    .latest
                    .get(&graph.rev(i).id)
                    .is_some_and(records_presence)
            })
            .collect();
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let digest = self.digest_of(&state.rows, sql.dialect.sql_dialect());
        if !self.open_transaction(db, sql, &state.rows, false)? {
            // Another process moved the rows: it records what it did; the run
            // re-reads them before applying anything.
            return Ok(Vec::new());
        }
        let result = missing.iter().try_for_each(|&idx| {
            self.record_adoption(
                db,
                sql,
                idx,
                "the version table implies it, but this runtime has no record of applying it (Alembic or another tool did); adopted without running it, no checksum recorded".to_string(),
                digest.as_deref(),
            )
        });
        self.finish(db, result)?;
        let adopted = graph.ids(&missing);
        tracing::info!(revisions = ?adopted, "adopted revisions applied by another tool (Alembic)");
        *state = version_table::read_state(db, sql)?;
        Ok(adopted)
    }

    fn record_adoption(
        &self,
        db: &mut Database,
        sql: &Sql,
        idx: RevIdx,
        detail: String,
        digest: Option<&str>,
    ) -> Result<()> {
        let mut insert = self.history_insert(
            idx,
            sql.dialect.sql_dialect(),
            ADOPT,
            ADOPTED,
            0,
            0,
            Some(0),
            Some(detail),
        )?;
        // No checksum: this runtime did not run the revision's text.
        insert.checksum = String::new();
        insert.applied_digest = digest.map(str::to_string);
        db.batch_or(
            &sql.insert_history(&insert.borrow()),
            "recording an adopted revision in the history table",
        )
    }
}
