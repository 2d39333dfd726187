//! [`Migrator`]: a migration set, a [`Config`], and the operations users call.
//!
//! Every operation that changes the database follows the same path: take the
//! run lock, read the version rows and history *inside* it, refuse anything
//! unsafe before applying a statement (unfinished steps, drift, unknown
//! revisions, irreversible downgrades, impossible transaction modes), plan
//! with the core, then run each step with its bookkeeping, and release the
//! lock on every path.

use crate::assess::{assess, Assessment, Unknown};
use crate::backend::Database;
use crate::config::{AheadPolicy, Config, RunTransaction, Tables};
use crate::dialect::{operation, state, Dialect, HistoryInsert, Sql, CHECK_ROWS_MARKER};
use crate::embedded::EmbeddedMigrations;
use crate::error::{
    direction_name, is_lock_wait, Direction, Drift, Error, FailureOutcome, MigrationHint, Result,
};
use crate::failpoint;
use crate::lock::LockGuard;
use crate::planning::{self, PlannedStep};
use crate::report::{
    CheckReport, Current, HistoryItem, RepairAction, Report, StampMode, Standing, StepReport,
};
use crate::version_table::{self, DbState, HistoryEntry};
use alembix_core::digest::{self, SetDigest};
use alembix_core::{
    Dialects, GraphOptions, MigrationFile, MigrationSet, Problems, RevIdx, SqlDialect, Statement,
    TransactionMode,
};
use diesel::sql_types::Text;
use diesel::QueryableByName;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[path = "recover.rs"]
mod recover;
#[path = "retry.rs"]
mod retry;
#[path = "takeover.rs"]
pub mod takeover;
pub use takeover::{DieselAdoption, ADOPT, ADOPTED};

/// Applies a migration history to databases.
///
/// ```no_run
/// use alembix_runtime::{Config, Database, Migrator};
/// # fn main() -> Result<(), alembix_runtime::Error> {
/// let migrator = Migrator::from_folder(std::path::Path::new("."), "migrations", Config::default())?;
/// let mut db = Database::connect("sqlite://app.db")?;
/// let report = migrator.upgrade(&mut db, "heads")?;
/// for step in &report.steps {
///     println!("{:?} {:?} in {:?}", step.direction, step.revision, step.duration);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    /// The validated set; from an embedded history it is built on first use,
    /// so a launch that finds the database at the heads never builds it.
    /// Shared by the clones [`Migrator::for_schema`] makes (a fleet's
    /// targets build the graph once).
    set: Arc<OnceLock<std::result::Result<MigrationSet, Problems>>>,
    embedded: Option<EmbeddedMigrations>,
    config: Config,
    tables: Tables,
    head_rows: Vec<String>,
    /// Per dialect, per revision: sha256 of `revision checksum`, for
    /// applied-set digests (the checksums differ where variants do).
    revision_hashes: Arc<[OnceLock<Vec<[u8; 32]>>; 3]>,
    /// Per dialect, the applied-set digest of a database at the heads.
    head_digest: Arc<[OnceLock<Option<String>>; 3]>,
    /// The dialects the history declares.
    dialects: Dialects,
}

/// What a locked run was asked to do.
#[derive(Debug, Clone)]
enum Request<'a> {
    Upgrade(&'a str),
    Downgrade(&'a str),
    Stamp(&'a [&'a str], StampMode),
}

impl Request<'_> {
    fn is_relative(&self) -> bool {
        let relative = |t: &str| t.contains('+') || t.contains('-');
        match self {
            Request::Upgrade(t) | Request::Downgrade(t) => relative(t),
            Request::Stamp(ts, _) => ts.iter().any(|t| relative(t)),
        }
    }
}

enum Executed {
    Done,
    /// SQLite only: another process moved the version rows between two of our
    /// transactions; read them again and plan anew.
    Replan,
}

#[derive(QueryableByName)]
struct RowOnly {
    #[diesel(sql_type = Text)]
    revision: String,
}

impl Migrator {
    /// A migrator over a validated set. Checks the configured identifiers
    /// before any SQL can be sent.
    pub fn new(set: MigrationSet, config: Config) -> Result<Migrator> {
        let tables = config.tables()?;
        let head_rows = planning::head_rows(set.graph());
        let dialects = set.settings().dialects;
        Ok(Migrator {
            dialects,
            set: Arc::new(OnceLock::from(Ok(set))),
            embedded: None,
            config,
            tables,
            head_rows,
            revision_hashes: Default::default(),
            head_digest: Default::default(),
        })
    }

    /// A migrator over the set `embed_migrations!` built into the binary.
    ///
    /// Cheap: the heads and the digest a database at the heads carries were
    /// computed at build time, so [`Migrator::launch`] on a database already
    /// at the heads reads the version table once and builds nothing; the graph
    /// is built from the embedded data the first time something needs it.
    pub fn from_embedded(migrations: &EmbeddedMigrations, config: Config) -> Result<Migrator> {
        let tables = config.tables()?;
        Ok(Migrator {
            set: Arc::default(),
            embedded: Some(*migrations),
            config,
            tables,
            head_rows: migrations
                .head_rows()
                .iter()
                .map(|r| (*r).to_string())
                .collect(),
            revision_hashes: Default::default(),
            head_digest: Arc::new(
                SqlDialect::ALL
                    .map(|d| OnceLock::from(Some(migrations.head_digest(d).to_string()))),
            ),
            dialects: migrations.dialects(),
        })
    }

    /// A migrator over the `.sql` files below `root/folder`, read now with the
    /// same scan and validation as the macro (for the xtask and tools).
    ///
    /// Like Alembic, it loads a history with several unmerged heads (a
    /// `tracing` warning names them); the build refuses one, and so do the
    /// targets Alembic finds ambiguous (`upgrade head`, `downgrade -1`).
    pub fn from_folder(root: &Path, folder: &str, config: Config) -> Result<Migrator> {
        let sources = alembix_core::scan::scan_folder(root, folder).map_err(Error::History)?;
        let settings = alembix_core::scan::read_settings(root, folder).map_err(Error::History)?;
        let set = match MigrationSet::from_sources_with_settings(
            &sources,
            &GraphOptions::default(),
            &settings,
        ) {
            Ok(set) => set,
            Err(problems)
                if problems
                    .0
                    .iter()
                    .all(|p| p.kind == alembix_core::ProblemKind::MultipleHeads) =>
            {
                tracing::warn!(%problems, "loading a history with several heads");
                let any = GraphOptions {
                    heads: alembix_core::HeadPolicy::Any,
                };
                MigrationSet::from_sources_with_settings(&sources, &any, &settings)
                    .map_err(Error::History)?
            }
            Err(problems) => return Err(Error::History(problems)),
        };
        Migrator::new(set, config)
    }

    /// The migration set, built from the embedded data on first use.
    ///
    /// An error only if embedded data does not form a valid history, which
    /// cannot happen for data `embed_migrations!` produced: it checked the
    /// same rules when it built the binary.
    pub fn set(&self) -> Result<&MigrationSet> {
        self.set
            .get_or_init(|| match &self.embedded {
                Some(embedded) => embedded.to_set(),
                None => Err(Problems(Vec::new())),
            })
            .as_ref()
            .map_err(|problems| Error::History(problems.clone()))
    }

    /// The set if it is built already (always, but from an embedded history
    /// before its first use).
    #[cfg(feature = "cli")]
    pub(crate) fn built_set(&self) -> Option<&MigrationSet> {
        self.set.get().and_then(|built| built.as_ref().ok())
    }

    /// The same history over another target schema (PostgreSQL schema,
    /// MySQL/MariaDB database; `None`: the connection's own): the version
    /// tables move with it unless `version_table_schema` is set. Cheap: the
    /// history and what was computed from it are shared, not copied.
    pub fn for_schema(&self, schema: Option<&str>) -> Result<Migrator> {
        let config = Config {
            target_schema: schema.map(str::to_string),
            ..self.config.clone()
        };
        Ok(Migrator {
            tables: config.tables()?,
            config,
            ..self.clone()
        })
    }

    /// The same history for a scratch database: no target schema, the
    /// version tables in the scratch's own default schema.
    pub(crate) fn for_scratch(&self) -> Result<Migrator> {
        let config = Config {
            target_schema: None,
            version_table_schema: None,
            ..self.config.clone()
        };
        Ok(Migrator {
            tables: config.tables()?,
            config,
            ..self.clone()
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The binary's heads (versioned heads, load order). No database needed.
    pub fn heads(&self) -> Result<Vec<String>> {
        let graph = self.set()?.graph();
        Ok(graph.ids(graph.heads()))
    }

    /// The version rows a database has when it is at the heads, sorted.
    pub fn head_rows(&self) -> &[String] {
        &self.head_rows
    }

    /// The set as a diesel `MigrationSource`, for `diesel_migrations`'
    /// `MigrationHarness`; see [`DieselSource`](crate::DieselSource) for what
    /// that path lacks (our lock, version table and checks).
    pub fn diesel_source(&self) -> Result<crate::DieselSource> {
        Ok(crate::DieselSource::new(self.set()?))
    }

    /// The digest of the set of revisions `rows` imply (ancestors through
    /// `down_revision` and `depends_on`), each with this binary's checksum:
    /// `setx:` + the XOR of `sha256("<revision> <checksum>")` over the set.
    /// `None` when a row is not in this binary's history.
    ///
    /// Every completed step writes the digest of the database's applied set
    /// into its history row, after checking (inside the lock) that no applied
    /// migration drifted. So when the newest history row carries the digest this
    /// binary computes for its heads, and the rows are its heads, every applied
    /// migration was verified against these very checksums: the launch check
    /// reads two short things instead of the whole history.
    pub(crate) fn digest_of(&self, rows: &[String], dialect: SqlDialect) -> Option<String> {
        let set = self.set().ok()?;
        let graph = set.graph();
        let mut known = Vec::with_capacity(rows.len());
        for r in rows {
            known.push(graph.index_of(r)?);
        }
        let hashes = self.revision_hashes[dialect.index()].get_or_init(|| {
            set.files()
                .iter()
                .map(|f| digest::revision_hash(&f.revision, f.checksum(dialect)))
                .collect()
        });
        let mut acc = SetDigest::new();
        if rows.len() == self.head_rows.len() && {
            let mut sorted = rows.to_vec();
            sorted.sort();
            sorted == self.head_rows
        } {
            // At the heads every revision is applied: no walk needed.
            hashes.iter().for_each(|h| acc.add(h));
        } else {
            for (hash, applied) in hashes.iter().zip(graph.ancestor_mask(&known, true)) {
                if applied {
                    acc.add(hash);
                }
            }
        }
        Some(acc.to_text())
    }

    fn head_digest(&self, dialect: SqlDialect) -> Option<&str> {
        self.head_digest[dialect.index()]
            .get_or_init(|| self.digest_of(&self.head_rows, dialect))
            .as_deref()
    }

    /// The launch check: one query; `true` when the database is at the heads
    /// and its newest history row vouches for every applied checksum.
    fn at_heads_fast(&self, db: &mut Database, sql: &Sql) -> Option<Vec<String>> {
        let (rows, digest) = version_table::read_launch(db, sql)?;
        let mut sorted = rows.clone();
        sorted.sort();
        sorted.dedup();
        let ok = sorted == self.head_rows
            && digest.is_some()
            && digest.as_deref() == self.head_digest(sql.dialect.sql_dialect());
        ok.then_some(rows)
    }

    /// The SQL for this database, for an operation that only reads (or
    /// repairs what exists); see [`Self::prepared`].
    fn sql(&self, db: &mut Database) -> Result<Sql> {
        self.prepared(db, false)
    }

    /// The SQL for this database, for a run (`upgrade`, `downgrade`,
    /// `stamp`, `adopt_diesel`): the target schema is created if missing.
    fn sql_to_run(&self, db: &mut Database) -> Result<Sql> {
        self.prepared(db, true)
    }

    /// Prepares the session before the operation's first statement: bounds
    /// its lock waits by the configured `lock_timeout`
    /// ([`Database::bound_lock_waits`]), so that no statement of the
    /// operation waits forever, then points it at the target schema
    /// ([`Database::enter_schema`]; created first when `create`), so that
    /// nothing runs in another. Without a target schema, a session an
    /// earlier operation pointed elsewhere is given its own back.
    fn prepared(&self, db: &mut Database, create: bool) -> Result<Sql> {
        self.check_dialect(db.dialect())?;
        if self.tables.target.is_some() && db.dialect() == Dialect::Sqlite {
            // Before any statement: SQLite has no schema to point at.
            db.enter_schema(self.tables.target.as_ref(), false)?;
        }
        db.bound_lock_waits(self.config.lock_timeout)?;
        db.enter_schema(self.tables.target.as_ref(), create)?;
        Ok(Sql::new(db.dialect(), &self.tables))
    }

    /// The dialects the history declares (its `alembix.toml`).
    pub fn dialects(&self) -> Dialects {
        self.dialects
    }

    /// Refuses a database of a dialect the history does not declare.
    pub(crate) fn check_dialect(&self, dialect: Dialect) -> Result<()> {
        if self.dialects.allows(dialect.sql_dialect()) {
            return Ok(());
        }
        Err(Error::UndeclaredDialect {
            dialect: dialect.sql_dialect().name(),
            declared: self.dialects.to_string(),
        })
    }

    /// Brings the database to `target` (`heads`, `head`, `<rev>`, `+1`,
    /// `<label>@head`, …), as Alembic's `upgrade`.
    ///
    /// `heads` (what a binary calls on launch) first reads the version rows and
    /// the history in one query without locking: at the heads and clean, it
    /// returns an empty report after that single round trip.
    pub fn upgrade(&self, db: &mut Database, target: &str) -> Result<Report> {
        let started = Instant::now();
        let sql = self.sql_to_run(db)?;
        if target == "heads" {
            if let Some(rows) = self.at_heads_fast(db, &sql) {
                return Ok(Report {
                    steps: Vec::new(),
                    rows_before: rows.clone(),
                    rows_after: rows,
                    duration: started.elapsed(),
                    adopted: Vec::new(),
                });
            }
        }
        self.locked_run(db, &sql, Request::Upgrade(target), started)
    }

    /// The version rows when the database is at the heads and its newest
    /// history row vouches for every applied checksum (the launch's one
    /// read, no lock); `None` when a run has something to do or check.
    #[cfg(feature = "cli")]
    pub(crate) fn at_heads(&self, db: &mut Database) -> Result<Option<Vec<String>>> {
        let sql = self.sql(db)?;
        Ok(self.at_heads_fast(db, &sql))
    }

    /// What a binary calls on launch: `upgrade heads`.
    pub fn launch(&self, db: &mut Database) -> Result<Report> {
        self.upgrade(db, "heads")
    }

    /// Reverts to `target` (`-1`, `<rev>`, `base`, `<label>@-1`, …), as Alembic's `downgrade`.
    pub fn downgrade(&self, db: &mut Database, target: &str) -> Result<Report> {
        let started = Instant::now();
        let sql = self.sql_to_run(db)?;
        self.locked_run(db, &sql, Request::Downgrade(target), started)
    }

    /// Writes the version table as if the database were at `targets`, running
    /// no migration (for a database whose schema already exists).
    pub fn stamp(&self, db: &mut Database, targets: &[&str], mode: StampMode) -> Result<Report> {
        let started = Instant::now();
        let sql = self.sql_to_run(db)?;
        self.locked_run(db, &sql, Request::Stamp(targets, mode), started)
    }

    fn locked_run(
        &self,
        db: &mut Database,
        sql: &Sql,
        request: Request<'_>,
        started: Instant,
    ) -> Result<Report> {
        if self.config.transaction == RunTransaction::WholeRun && !sql.dialect.transactional_ddl() {
            return Err(Error::Unsupported(format!(
                "transaction: RunTransaction::WholeRun needs transactional DDL, which {} does not have (DDL commits implicitly); use RunTransaction::PerMigration",
                sql.dialect.name()
            )));
        }
        let mut guard =
            LockGuard::acquire(db, sql, self.config.lock_timeout, self.config.run_lock)?;
        let run_wide = guard.is_run_wide();
        match self.run_locked(&mut guard, sql, &request, run_wide) {
            Ok(mut report) => {
                if let Some(last) = report.steps.last() {
                    failpoint::hit(
                        failpoint::AFTER_COMMIT_BEFORE_UNLOCK,
                        last.revision.as_deref(),
                    );
                }
                guard.release()?;
                report.duration = started.elapsed();
                Ok(report)
            }
            Err(e) => {
                drop(guard);
                Err(e)
            }
        }
    }

    /// The run itself, the lock held. `run_wide`: the lock excludes every
    /// other migrator until it is released (all but in-memory SQLite and
    /// SQLite without `flock`), so an unfinished step found here was left by a
    /// process that died.
    fn run_locked(
        &self,
        db: &mut Database,
        sql: &Sql,
        request: &Request<'_>,
        run_wide: bool,
    ) -> Result<Report> {
        let mut state = version_table::read_state(db, sql)?;
        // A database with one of the two tables (Alembic's version table)
        // gets the other now, before the takeover records what it finds. A
        // database new to the runtime gets both only once the run has
        // something to write: in the first step's transaction where DDL is
        // transactional, else just before the first step or stamp (see
        // `execute`). A run refused before that (a target that names
        // nothing, nothing to downgrade) leaves the database untouched.
        let one_of_two = state.version_table != state.history_table;
        if one_of_two {
            self.create_tables(db, sql, &state)?;
            state = version_table::read_state(db, sql)?;
        }
        let adopted = if matches!(request, Request::Stamp(..)) {
            Vec::new()
        } else {
            let upgrade = matches!(request, Request::Upgrade(_));
            self.take_over(db, sql, &mut state, upgrade)?
        };
        let mut report = Report {
            rows_before: state.rows.clone(),
            adopted,
            ..Report::default()
        };
        let mut replans = 0u32;
        let waiting_since = Instant::now();
        let rows = loop {
            let steps = match self.prepare(&state, request, sql.dialect.sql_dialect()) {
                // Without a run lock (in-memory SQLite, no `flock`), a
                // `-- transaction: none` migration of another process shows as
                // in progress while it runs. Wait for it (up to the lock
                // timeout) before calling it unfinished. With a run lock, an
                // in-progress step belongs to a dead process: refuse at once.
                Err(Error::Unfinished(list))
                    if !run_wide
                        && list.iter().all(|u| u.state == state::IN_PROGRESS)
                        && waiting_since.elapsed() < self.config.lock_timeout =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                    state = version_table::read_state(db, sql)?;
                    continue;
                }
                other => other?,
            };
            let mut rows = state.rows.clone();
            let mut tables_ready = state.version_table && state.history_table;
            let executed = if let Request::Stamp(_, mode) = request {
                if !tables_ready {
                    self.create_tables(db, sql, &state)?;
                    tables_ready = true;
                }
                // The applied-set digest vouches that no applied migration
                // drifted (the launch then checks nothing more): a stamp
                // over a drifted database must not write it.
                let digest_ok = assess(self.set()?, &state, sql.dialect.sql_dialect())
                    .drift
                    .is_empty();
                self.run_stamp(db, sql, &steps, *mode, &mut rows, &mut report, digest_ok)?
            } else {
                let never_stamped = state.rows.is_empty() && state.latest.is_empty();
                let before = report.steps.len();
                self.execute(db, sql, &steps, &mut rows, &mut report, &mut tables_ready)
                    .map_err(|e| {
                        let first = report.steps.len() == before && before == 0;
                        let e = if never_stamped && first {
                            forgot_to_stamp(e)
                        } else {
                            e
                        };
                        with_partial(e, &report, &rows)
                    })?
            };
            match executed {
                Executed::Done => {
                    if !tables_ready {
                        // No step ran to create them; a run always leaves them.
                        self.create_tables(db, sql, &DbState::default())?;
                    }
                    break rows;
                }
                Executed::Replan => {
                    replans += 1;
                    if request.is_relative() || replans > 100 {
                        return Err(Error::VersionTable(format!(
                            "another process changed the version table while this run was between two migrations (rows are now {}); a relative target cannot be re-planned safely: run again",
                            rows.join(", ")
                        )));
                    }
                    state = version_table::read_state(db, sql)?;
                }
            }
        };
        report.rows_after = rows;
        Ok(report)
    }

    /// Opens the transaction of a step, a whole run, a stamp or an adoption:
    /// `BEGIN` (on SQLite `BEGIN IMMEDIATE`, the write lock), then, when
    /// `create`, both tables (`IF NOT EXISTS`), then on SQLite the check that
    /// the version rows are still `rows`. `Ok(false)`: another process moved
    /// them; rolled back, re-plan. On an error it is rolled back too.
    fn open_transaction(
        &self,
        db: &mut Database,
        sql: &Sql,
        rows: &[String],
        create: bool,
    ) -> Result<bool> {
        self.begin(db, sql)?;
        let opened = (|| {
            if create {
                version_table::ensure_tables(db, sql, &DbState::default())?;
            }
            if sql.dialect == Dialect::Sqlite {
                verify_rows(db, sql, rows)
            } else {
                Ok(true)
            }
        })();
        if !matches!(opened, Ok(true)) {
            rollback(db);
        }
        opened
    }

    /// Creates the tables `state` lacks, in their own transaction where DDL is
    /// transactional (on SQLite under the write lock, checking again which
    /// exist); nothing when it has both.
    fn create_tables(&self, db: &mut Database, sql: &Sql, state: &DbState) -> Result<()> {
        if state.version_table && state.history_table {
            return Ok(());
        }
        if sql.dialect == Dialect::Sqlite {
            self.begin(db, sql)?;
            // Inside the write lock: another process may have created them meanwhile.
            let result = version_table::tables_exist(db, sql).and_then(|(v, h)| {
                let fresh = DbState {
                    version_table: v,
                    history_table: h,
                    ..DbState::default()
                };
                version_table::ensure_tables(db, sql, &fresh)
            });
            self.finish(db, result)?;
        } else {
            version_table::ensure_tables(db, sql, state)?;
        }
        version_table::log_created(sql);
        Ok(())
    }

    /// Commits after `result` succeeded, rolls back otherwise.
    fn finish(&self, db: &mut Database, result: Result<()>) -> Result<()> {
        match result {
            Ok(()) => db.batch_or("COMMIT", "committing"),
            Err(e) => {
                rollback(db);
                Err(e)
            }
        }
    }

    fn begin(&self, db: &mut Database, sql: &Sql) -> Result<()> {
        let started = Instant::now();
        match db.batch(sql.dialect.begin()) {
            Ok(()) => Ok(()),
            Err(message) if sql.dialect == Dialect::Sqlite && is_sqlite_busy(&message) => {
                Err(Error::LockTimeout {
                    lock: "the SQLite write lock (BEGIN IMMEDIATE)".to_string(),
                    waited: started.elapsed(),
                    holder: "another connection to the same database file (SQLite does not tell which process)".to_string(),
                })
            }
            Err(message) => Err(db.fail("starting a transaction", message)),
        }
    }

    /// Judges the state and plans; nothing is applied when this fails.
    fn prepare(
        &self,
        state: &DbState,
        request: &Request<'_>,
        dialect: SqlDialect,
    ) -> Result<Vec<PlannedStep>> {
        let graph = self.set()?.graph();
        let purge = matches!(request, Request::Stamp(_, StampMode::Purge));
        let a = assess(self.set()?, state, dialect);
        // A step left failed or in progress blocks every run, `stamp`
        // included: a stamp would write rows over a step only `repair`
        // (or `resume`) may close.
        if !a.unfinished.is_empty() {
            return Err(Error::Unfinished(a.unfinished));
        }
        if !matches!(request, Request::Stamp(..)) && !a.drift.is_empty() {
            return Err(Error::Drift(a.drift));
        }
        if !purge {
            match a.unknown {
                Unknown::None => {}
                Unknown::Ahead(unknown) => {
                    if matches!(request, Request::Upgrade(_))
                        && self.config.when_ahead == AheadPolicy::Allow
                    {
                        tracing::warn!(unknown = ?unknown, "the database is ahead of this binary; applying nothing (AheadPolicy::Allow)");
                        return Ok(Vec::new());
                    }
                    return Err(Error::DatabaseAhead { unknown });
                }
                Unknown::Diverged { unknown, fork } => {
                    return Err(Error::DatabaseDiverged { unknown, fork })
                }
                Unknown::Unexplained(unknown) => return Err(Error::UnknownRevisions { unknown }),
                Unknown::Inconsistent(error) => return Err(Error::Plan(error)),
            }
        }
        let rows: Vec<&str> = if purge {
            Vec::new()
        } else {
            state.rows.iter().map(String::as_str).collect()
        };
        let steps = match request {
            Request::Upgrade(target) => planning::upgrade(graph, &rows, target)?,
            Request::Downgrade(target) => planning::downgrade(graph, &rows, target)?,
            Request::Stamp(targets, _) => planning::stamp(graph, &rows, targets)?,
        };
        if matches!(request, Request::Stamp(..)) {
            // A stamp that leaves a drifted revision applied would record it
            // as stamped past, and a later run would take the edited text as
            // what ran, unaudited: accept the edit first (`repair
            // --accept-edit`), or stamp below it so that it runs again.
            if !a.drift.is_empty() {
                let mut after: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
                for step in &steps {
                    apply_to_rows(&mut after, step);
                }
                let heads: Vec<_> = after.iter().filter_map(|r| graph.index_of(r)).collect();
                let applied = graph.ancestor_mask(&heads, true);
                let still: Vec<Drift> = a
                    .drift
                    .into_iter()
                    .filter(|d| graph.index_of(&d.revision).is_some_and(|i| applied[i]))
                    .collect();
                if !still.is_empty() {
                    return Err(Error::Drift(still));
                }
            }
            return Ok(steps);
        }
        for step in &steps {
            let Some(idx) = step.revision else { continue };
            let file = self.set()?.file(idx);
            if step.direction == Direction::Downgrade && file.downgrade.is_none() {
                return Err(Error::Irreversible {
                    revision: file.revision.clone(),
                    file: file.file.clone(),
                });
            }
            if self.config.transaction == RunTransaction::WholeRun
                && file.transaction == TransactionMode::None
            {
                return Err(Error::Unsupported(format!(
                    "revision {} ({}) is marked `-- transaction: none`, so it cannot run inside the single transaction of RunTransaction::WholeRun; use RunTransaction::PerMigration",
                    file.revision, file.file
                )));
            }
        }
        Ok(steps)
    }

    /// The statements of a step, as `dialect` splits them.
    fn statements(file: &MigrationFile, direction: Direction, dialect: Dialect) -> &[Statement] {
        let dialect = dialect.sql_dialect();
        match direction {
            Direction::Upgrade => file.upgrade.statements(dialect),
            Direction::Downgrade => file
                .downgrade
                .as_ref()
                .map_or(&[][..], |s| s.statements(dialect)),
        }
    }

    fn execute(
        &self,
        db: &mut Database,
        sql: &Sql,
        steps: &[PlannedStep],
        rows: &mut Vec<String>,
        report: &mut Report,
        tables_ready: &mut bool,
    ) -> Result<Executed> {
        if steps.is_empty() {
            return Ok(Executed::Done);
        }
        for step in steps {
            let file = step
                .revision
                .filter(|_| !step.stamp)
                .map(|idx| self.set().map(|set| set.file(idx)));
            if let Some(error) = file
                .transpose()?
                .and_then(|f| crate::offline::unrunnable(f, step.direction, sql.dialect))
            {
                return Err(error);
            }
        }
        let whole_run = self.config.transaction == RunTransaction::WholeRun;
        let create_in_run = whole_run && !*tables_ready;
        if whole_run {
            crate::lock::table::renew(db, sql)?;
        }
        if whole_run && !self.open_transaction(db, sql, rows, create_in_run)? {
            return Ok(Executed::Replan);
        }
        let mut done = Vec::new();
        for step in steps {
            // A lock-table lease lasts from one step to the next; in a whole
            // run's transaction a renewal would not be seen until the commit.
            if !whole_run {
                crate::lock::table::renew(db, sql)?;
            }
            let result = match step.revision {
                Some(idx) if whole_run => {
                    self.run_transactional(db, sql, step, idx, rows, true, false)
                }
                Some(idx) => self.run_step_retrying(db, sql, step, idx, rows, tables_ready),
                None => Err(Error::Plan(alembix_core::plan::PlanError::new(
                    alembix_core::plan::PlanErrorKind::RevisionError,
                    "the plan holds a step without a revision outside `stamp`",
                ))),
            };
            match result {
                Ok(Some(step_report)) => done.push(step_report),
                Ok(None) => {
                    report.steps.append(&mut done);
                    return Ok(Executed::Replan);
                }
                Err(e) => {
                    if whole_run {
                        rollback(db);
                    } else {
                        report.steps.append(&mut done);
                    }
                    return Err(e);
                }
            }
        }
        if whole_run {
            failpoint::hit(
                failpoint::BEFORE_COMMIT,
                steps
                    .last()
                    .and_then(|s| s.revision)
                    .and_then(|i| Some(self.set().ok()?.file(i).revision.as_str())),
            );
            if let Err(message) = db.batch("COMMIT") {
                rollback(db);
                return Err(db.fail("committing the run", message));
            }
            if create_in_run {
                *tables_ready = true;
                version_table::log_created(sql);
            }
        }
        report.steps.append(&mut done);
        Ok(Executed::Done)
    }

    /// One step of a per-migration run: in its own transaction where DDL is
    /// transactional and the file allows it, else claimed and run statement
    /// by statement. `Ok(None)`: re-plan.
    fn run_step(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        rows: &mut Vec<String>,
        tables_ready: &mut bool,
    ) -> Result<Option<StepReport>> {
        let file = self.set()?.file(idx);
        let transactional =
            sql.dialect.transactional_ddl() && file.transaction == TransactionMode::PerMigration;
        if transactional {
            let create = !*tables_ready;
            let result = self.run_transactional(db, sql, step, idx, rows, false, create);
            if create && matches!(result, Ok(Some(_))) {
                *tables_ready = true;
                version_table::log_created(sql);
            }
            result
        } else {
            if !*tables_ready {
                self.create_tables(db, sql, &DbState::default())?;
                *tables_ready = true;
            }
            self.run_non_transactional(db, sql, step, idx, rows)
        }
    }

    /// A migration inside a transaction with its bookkeeping. `Ok(None)`: re-plan.
    /// `create`: the transaction first creates the tables (the first step on a
    /// database new to the runtime).
    #[allow(clippy::too_many_arguments)]
    fn run_transactional(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        rows: &mut Vec<String>,
        whole_run: bool,
        create: bool,
    ) -> Result<Option<StepReport>> {
        if !whole_run && sql.dialect == Dialect::Postgres {
            return self
                .run_postgres(db, sql, step, idx, rows, create)
                .map(Some);
        }
        let started = Instant::now();
        let file = self.set()?.file(idx);
        let statements = Self::statements(file, step.direction, sql.dialect);
        if !whole_run && !self.open_transaction(db, sql, rows, create)? {
            return Ok(None);
        }
        let rows_now: &Vec<String> = rows;
        // Inside a whole run the step's timeouts are set back after it, so
        // that they bound its statements only.
        let timeouts = self.step_timeouts(file, sql.dialect);
        let set_timeouts = sql.dialect.set_timeouts(timeouts, true);
        let reset_timeouts =
            sql.dialect
                .reset_timeouts(timeouts, Some(self.config.lock_timeout), true);
        let body = (|| -> Result<String> {
            let rows = rows_now;
            for statement in &set_timeouts {
                db.batch_or(statement, "setting the migration's timeouts")?;
            }
            for (i, statement) in statements.iter().enumerate() {
                if let Err(message) = db.batch(&statement.sql) {
                    return Err(Error::Migration {
                        revision: file.revision.clone(),
                        file: file.file.clone(),
                        direction: step.direction,
                        statement: i + 1,
                        statement_count: statements.len(),
                        line: statement.line,
                        message,
                        outcome: FailureOutcome::RolledBack,
                        transaction: file.transaction,
                        hint: None,
                        partial: Box::default(),
                    });
                }
                if i + 1 < statements.len() {
                    failpoint::hit(failpoint::BETWEEN_STATEMENTS, Some(&file.revision));
                }
            }
            if whole_run {
                for statement in &reset_timeouts {
                    db.batch_or(statement, "setting the session's timeouts back")?;
                }
            }
            self.change_rows(db, sql, step)?;
            let mut after = rows.clone();
            apply_to_rows(&mut after, step);
            self.completed_row(sql, step, idx, &after, started)
        })();
        let history_row = match body {
            Ok(row) => row,
            Err(e) => {
                if !whole_run {
                    rollback(db);
                }
                return Err(e);
            }
        };
        if whole_run {
            db.batch_or(&history_row, "recording the migration in the history table")?;
        } else {
            self.commit_with(db, file, &history_row)?;
        }
        apply_to_rows(rows, step);
        Ok(Some(self.applied(step, file, statements.len(), started)))
    }

    /// The history row of a step that ran in a transaction and is about to
    /// commit, the database then at `after`.
    fn completed_row(
        &self,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        after: &[String],
        started: Instant,
    ) -> Result<String> {
        let insert = self.completed_insert(
            sql.dialect,
            step,
            idx,
            after,
            Some(started.elapsed().as_millis()),
        )?;
        Ok(sql.insert_history(&insert.borrow()))
    }

    /// The history row of a completed transactional step, the database then
    /// at `after` (whose applied-set digest it carries).
    fn completed_insert(
        &self,
        dialect: Dialect,
        step: &PlannedStep,
        idx: RevIdx,
        after: &[String],
        duration_ms: Option<u128>,
    ) -> Result<HistoryInsertOwned> {
        let (op, st) = match step.direction {
            Direction::Upgrade => (operation::UPGRADE, state::APPLIED),
            Direction::Downgrade => (operation::DOWNGRADE, state::REVERTED),
        };
        let count = Self::statements(self.set()?.file(idx), step.direction, dialect).len();
        let mut insert = self.history_insert(
            idx,
            dialect.sql_dialect(),
            op,
            st,
            count,
            count,
            duration_ms,
            None,
        )?;
        insert.applied_digest = self.digest_of(after, dialect.sql_dialect());
        Ok(insert)
    }

    /// Sends the step's history row with `COMMIT` (rolls back if that fails).
    fn commit_with(
        &self,
        db: &mut Database,
        file: &MigrationFile,
        history_row: &str,
    ) -> Result<()> {
        failpoint::hit(failpoint::BEFORE_COMMIT, Some(&file.revision));
        if let Err(message) = db.batch(&format!("{history_row};\nCOMMIT")) {
            rollback(db);
            return Err(db.fail(
                &format!(
                    "recording revision {} ({}) in the history table and committing",
                    file.revision, file.file
                ),
                message,
            ));
        }
        Ok(())
    }

    /// The report of a step that committed, logged as it happens.
    fn applied(
        &self,
        step: &PlannedStep,
        file: &MigrationFile,
        statements: usize,
        started: Instant,
    ) -> StepReport {
        let duration = started.elapsed();
        tracing::info!(revision = %file.revision, direction = direction_name(step.direction), ?duration, "migration applied");
        self.step_report(step, Some(file), statements, duration)
    }

    /// A migration in its own transaction on PostgreSQL, in one round trip
    /// whatever its length (diesel_migrations needs four, a runner that sends
    /// statement by statement one per statement plus three): `BEGIN`, the
    /// statements, the version-table change, a check that the version table
    /// then holds exactly the rows this step leads to (which also catches a
    /// writer that ignores our lock, e.g. Alembic itself), the history row
    /// (its duration measured by the server) and `COMMIT`, as one script.
    ///
    /// PostgreSQL does not say which statement of a script failed: on an
    /// error the transaction is rolled back and the statements are run again,
    /// one at a time, in a transaction that is rolled back too, to name it
    /// ([`Self::postgres_failure`]). Nothing of the step is committed on that
    /// path. The crash points of the step (`between-statements`,
    /// `before-commit`) are hit before the script is sent.
    fn run_postgres(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        rows: &mut Vec<String>,
        create: bool,
    ) -> Result<StepReport> {
        let started = Instant::now();
        let file = self.set()?.file(idx);
        let statements = Self::statements(file, step.direction, sql.dialect);
        let mut after = rows.clone();
        apply_to_rows(&mut after, step);
        let insert = self.completed_insert(sql.dialect, step, idx, &after, None)?;
        let tables = if create {
            sql.create_tables().to_vec()
        } else {
            Vec::new()
        };
        let timeouts = sql
            .dialect
            .set_timeouts(self.step_timeouts(file, sql.dialect), true);
        let script = [sql.dialect.begin()]
            .into_iter()
            .chain(timeouts.iter().map(String::as_str))
            .chain(tables.iter().map(String::as_str))
            .chain(statements.iter().map(|s| s.sql.as_str()))
            .chain([
                self.version_change(sql, step, &after).as_str(),
                sql.insert_history_timed_by_server(&insert.borrow())
                    .as_str(),
                "COMMIT",
            ])
            // A statement's text may end in a `--` comment: each separator
            // starts on a new line.
            .collect::<Vec<_>>()
            .join("\n;\n");
        if statements.len() > 1 {
            failpoint::hit(failpoint::BETWEEN_STATEMENTS, Some(&file.revision));
        }
        failpoint::hit(failpoint::BEFORE_COMMIT, Some(&file.revision));
        if let Err(message) = db.batch(&script) {
            return Err(self.postgres_failure(db, sql, step, file, create, message));
        }
        *rows = after;
        Ok(self.applied(step, file, statements.len(), started))
    }

    /// The version-table change of `step` as SQL text, followed by the check
    /// that the table then holds exactly `after` (PostgreSQL; see
    /// [`Sql::check_rows`]).
    fn version_change(&self, sql: &Sql, step: &PlannedStep, after: &[String]) -> String {
        let (remove, add) = net_change(step);
        let mut parts = sql.version_changes(&remove, &add);
        parts.push(sql.check_rows(after));
        parts.join(";\n")
    }

    /// Statement `i` (from 0) of `step` failed with `message`; rolled back.
    fn statement_failed(
        dialect: Dialect,
        step: &PlannedStep,
        file: &MigrationFile,
        i: usize,
        message: String,
    ) -> Error {
        let statements = Self::statements(file, step.direction, dialect);
        Error::Migration {
            revision: file.revision.clone(),
            file: file.file.clone(),
            direction: step.direction,
            statement: i + 1,
            statement_count: statements.len(),
            line: statements.get(i).map_or(file.upgrade.line, |s| s.line),
            message,
            outcome: FailureOutcome::RolledBack,
            transaction: file.transaction,
            hint: None,
            partial: Box::default(),
        }
    }

    /// The error of a failed PostgreSQL round trip that held several
    /// statements, or statements and the version-table change. Rolls back;
    /// then, unless the version-table check is what failed, names the
    /// statement by running the migration's statements again, one at a time,
    /// in a transaction that is rolled back as well.
    fn postgres_failure(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        file: &MigrationFile,
        created_tables: bool,
        message: String,
    ) -> Error {
        rollback(db);
        if message.contains(CHECK_ROWS_MARKER) {
            return self.rows_changed_error(&message);
        }
        let timeouts = sql
            .dialect
            .set_timeouts(self.step_timeouts(file, sql.dialect), true);
        let begun = db.batch(sql.dialect.begin()).is_ok()
            && timeouts.iter().all(|statement| db.batch(statement).is_ok());
        if begun {
            for (i, statement) in Self::statements(file, step.direction, sql.dialect)
                .iter()
                .enumerate()
            {
                if let Err(again) = db.batch(&statement.sql) {
                    rollback(db);
                    return Self::statement_failed(sql.dialect, step, file, i, again);
                }
            }
            rollback(db);
        }
        let tables = if created_tables {
            "creating the version and history tables, "
        } else {
            ""
        };
        db.fail(
            &format!(
                "{tables}running revision {} ({}) and changing the version table",
                file.revision, file.file
            ),
            message,
        )
    }

    /// The error for a version table that another process changed under a step.
    fn rows_changed_error(&self, message: &str) -> Error {
        Error::VersionTable(format!(
            "the version table '{}' does not hold the rows this step leads to ({message}). Another process changed the version table, or it is corrupt; nothing of this step was committed",
            self.tables.version
        ))
    }

    /// A migration outside a transaction, progress recorded statement by statement.
    ///
    /// First a claim: an `in_progress` history row, committed before the
    /// first statement (on SQLite inside `BEGIN IMMEDIATE`, after checking
    /// that the version rows are still the planned ones and that no other step
    /// is unfinished, so two migrators without a run lock cannot both claim
    /// it). Progress and the outcome are written to that row, by its id, so a
    /// row left `in_progress` by a dead run is never rewritten by a later one.
    fn run_non_transactional(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        rows: &mut Vec<String>,
    ) -> Result<Option<StepReport>> {
        let started = Instant::now();
        let file = self.set()?.file(idx);
        let statements = Self::statements(file, step.direction, sql.dialect);
        let op = match step.direction {
            Direction::Upgrade => operation::UPGRADE,
            Direction::Downgrade => operation::DOWNGRADE,
        };
        let claim = sql.insert_history(
            &self
                .history_insert(
                    idx,
                    sql.dialect.sql_dialect(),
                    op,
                    state::IN_PROGRESS,
                    0,
                    statements.len(),
                    None,
                    None,
                )?
                .borrow(),
        );
        let timeouts = self.step_timeouts(file, sql.dialect);
        self.enter_step_timeouts(db, sql, file, timeouts)?;
        let claimed = self.claim_and_run(db, sql, step, idx, rows, &claim, started, timeouts);
        self.leave_step_timeouts(db, sql, timeouts);
        claimed
    }

    /// Claims a step outside a transaction (its `in_progress` row `claim`)
    /// and runs it; `Ok(None)`: another process moved the version rows first.
    #[allow(clippy::too_many_arguments)]
    fn claim_and_run(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        rows: &mut Vec<String>,
        claim: &str,
        started: Instant,
        timeouts: alembix_core::Timeouts,
    ) -> Result<Option<StepReport>> {
        let file = self.set()?.file(idx);
        let claim_id = if sql.dialect == Dialect::Sqlite {
            self.begin(db, sql)?;
            let claimed = (|| -> Result<Option<i64>> {
                if !verify_rows(db, sql, rows)? || count(db, &sql.count_unfinished())? > 0 {
                    return Ok(None);
                }
                db.batch_or(claim, "recording the migration as in progress")?;
                Ok(Some(count(db, &sql.select_claim_id(&file.revision))?))
            })();
            match claimed {
                Ok(Some(id)) => {
                    db.batch_or("COMMIT", "committing the in-progress record")?;
                    id
                }
                Ok(None) => {
                    rollback(db);
                    return Ok(None);
                }
                Err(e) => {
                    rollback(db);
                    return Err(e);
                }
            }
        } else {
            db.batch_or(claim, "recording the migration as in progress")?;
            count(db, &sql.select_claim_id(&file.revision))?
        };
        let claim = Claim {
            id: claim_id,
            from: 0,
            started,
            note: None,
            vouch: true,
            retry_on_lock: timeouts.lock.is_some(),
        };
        self.run_claimed(db, sql, step, idx, rows, &claim).map(Some)
    }

    /// Runs the statements of a claimed step from `claim.from` on, outside a
    /// transaction, recording progress in the claim's history row after
    /// each; then, in one transaction, the version-table change and the
    /// row's closing update. A failing statement records the row `failed`
    /// with the count that ran.
    fn run_claimed(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        rows: &mut Vec<String>,
        claim: &Claim<'_>,
    ) -> Result<StepReport> {
        let Claim {
            id: claim_id,
            from,
            started,
            note,
            vouch,
            retry_on_lock,
        } = *claim;
        let file = self.set()?.file(idx);
        let statements = Self::statements(file, step.direction, sql.dialect);
        for (i, statement) in statements.iter().enumerate().skip(from) {
            if let Err(message) = db.batch(&statement.sql) {
                let detail = match note {
                    Some(note) => format!("{message} ({note})"),
                    None => message.clone(),
                };
                // A first statement that timed out waiting for a lock under
                // the step's lock_timeout left nothing applied: the claim
                // closes `retried`, and the step may run again.
                let nothing_applied = retry_on_lock && i == 0 && is_lock_wait(&message);
                let (closed, outcome, detail) = if nothing_applied {
                    let detail = format!(
                        "{detail} (the first statement timed out waiting for a lock: nothing ran)"
                    );
                    (state::RETRIED, FailureOutcome::RolledBack, detail)
                } else {
                    (state::FAILED, FailureOutcome::RecordedFailed, detail)
                };
                let record = sql.finish_progress(
                    claim_id,
                    closed,
                    i,
                    started.elapsed().as_millis(),
                    Some(&detail),
                    None,
                );
                if let Err(m) = db.batch(&record) {
                    tracing::error!(error = %m, revision = %file.revision, "could not record the failure; the history row stays in_progress");
                }
                return Err(Error::Migration {
                    revision: file.revision.clone(),
                    file: file.file.clone(),
                    direction: step.direction,
                    statement: i + 1,
                    statement_count: statements.len(),
                    line: statement.line,
                    message,
                    outcome,
                    transaction: file.transaction,
                    hint: None,
                    partial: Box::default(),
                });
            }
            db.batch_or(
                &sql.update_progress(claim_id, i + 1),
                "recording progress in the history table",
            )?;
            if i + 1 < statements.len() {
                failpoint::hit(failpoint::BETWEEN_STATEMENTS, Some(&file.revision));
            }
        }
        // The version-table change and the closing history update commit together.
        self.begin(db, sql)?;
        let done_state = match step.direction {
            Direction::Upgrade => state::APPLIED,
            Direction::Downgrade => state::REVERTED,
        };
        let mut after = rows.clone();
        apply_to_rows(&mut after, step);
        let digest = self
            .digest_of(&after, sql.dialect.sql_dialect())
            .filter(|_| vouch);
        let result = self.change_rows(db, sql, step).and_then(|()| {
            db.batch_or(
                &sql.finish_progress(
                    claim_id,
                    done_state,
                    statements.len(),
                    started.elapsed().as_millis(),
                    note,
                    digest.as_deref(),
                ),
                "recording the migration in the history table",
            )
        });
        if let Err(e) = result {
            rollback(db);
            let _ = db.batch(&sql.finish_progress(
                claim_id,
                state::FAILED,
                statements.len(),
                started.elapsed().as_millis(),
                Some(&e.to_string()),
                None,
            ));
            return Err(e);
        }
        failpoint::hit(failpoint::BEFORE_COMMIT, Some(&file.revision));
        if let Err(message) = db.batch("COMMIT") {
            rollback(db);
            return Err(db.fail(
                &format!("committing revision {} ({})", file.revision, file.file),
                message,
            ));
        }
        apply_to_rows(rows, step);
        let duration = started.elapsed();
        tracing::info!(revision = %file.revision, direction = direction_name(step.direction), ?duration, "migration applied (non-transactional)");
        Ok(self.step_report(
            step,
            Some(file),
            statements.len() - from.min(statements.len()),
            duration,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn run_stamp(
        &self,
        db: &mut Database,
        sql: &Sql,
        steps: &[PlannedStep],
        mode: StampMode,
        rows: &mut Vec<String>,
        report: &mut Report,
        digest_ok: bool,
    ) -> Result<Executed> {
        let set = self.set()?;
        let started = Instant::now();
        if !self.open_transaction(db, sql, rows, false)? {
            return Ok(Executed::Replan);
        }
        let mut reports = Vec::new();
        let result = (|| -> Result<()> {
            if mode == StampMode::Purge && !rows.is_empty() {
                db.batch_or(&sql.delete_all_rows(), "purging the version table")?;
                let purged = std::mem::take(rows);
                let digest = self
                    .digest_of(rows, sql.dialect.sql_dialect())
                    .filter(|_| digest_ok);
                for revision in &purged {
                    self.record_stamp(db, sql, revision, state::UNSTAMPED, digest.as_deref())?;
                }
                reports.push(StepReport {
                    revision: None,
                    file: None,
                    direction: Direction::Downgrade,
                    stamp: true,
                    statements: 0,
                    removed: purged,
                    added: Vec::new(),
                    duration: started.elapsed(),
                });
            }
            for step in steps {
                let t0 = Instant::now();
                let (remove, add) = net_change(step);
                self.change_rows(db, sql, step)?;
                apply_to_rows(rows, step);
                let digest = self
                    .digest_of(rows, sql.dialect.sql_dialect())
                    .filter(|_| digest_ok);
                for revision in &remove {
                    self.record_stamp(db, sql, revision, state::UNSTAMPED, digest.as_deref())?;
                }
                for revision in &add {
                    self.record_stamp(db, sql, revision, state::STAMPED, digest.as_deref())?;
                }
                let file = step.revision.map(|i| set.file(i));
                reports.push(StepReport {
                    revision: step.revision.map(|i| set.file(i).revision.clone()),
                    file: file.map(|f| f.file.clone()),
                    direction: step.direction,
                    stamp: true,
                    statements: 0,
                    removed: remove,
                    added: add,
                    duration: t0.elapsed(),
                });
            }
            Ok(())
        })();
        self.finish(db, result)?;
        report.steps.append(&mut reports);
        Ok(Executed::Done)
    }

    fn record_stamp(
        &self,
        db: &mut Database,
        sql: &Sql,
        revision: &str,
        st: &'static str,
        digest: Option<&str>,
    ) -> Result<()> {
        let mut insert = match self.set()?.graph().index_of(revision) {
            Some(idx) => self.history_insert(
                idx,
                sql.dialect.sql_dialect(),
                operation::STAMP,
                st,
                0,
                0,
                Some(0),
                None,
            )?,
            None => HistoryInsertOwned {
                revision: revision.to_string(),
                down_revisions: String::new(),
                depends_on: String::new(),
                operation: operation::STAMP,
                state: st,
                checksum: String::new(),
                statements_done: 0,
                statements_total: 0,
                duration_ms: Some(0),
                message: String::new(),
                detail: None,
                applied_digest: None,
            },
        };
        insert.applied_digest = digest.map(str::to_string);
        db.batch_or(
            &sql.insert_history(&insert.borrow()),
            "recording the stamp in the history table",
        )
    }

    /// Applies a step's version-table change, checking that every UPDATE and
    /// DELETE hits exactly one row (Alembic's rule).
    fn change_rows(&self, db: &mut Database, sql: &Sql, step: &PlannedStep) -> Result<()> {
        let (remove, add) = net_change(step);
        let pairs = remove.len().min(add.len());
        let expect_one = |db: &mut Database,
                          statement: (String, Vec<&str>),
                          doing: String|
         -> Result<()> {
            match db.execute_bound(&statement.0, &statement.1) {
                Ok(1) => Ok(()),
                Ok(n) => Err(Error::VersionTable(format!(
                    "Online migration expected to match one row when {doing} in '{}'; {n} found. Another process changed the version table, or it is corrupt; nothing of this step was committed",
                    self.tables.version
                ))),
                Err(message) => Err(db.fail(&format!("{doing} in the version table"), message)),
            }
        };
        for k in 0..pairs {
            expect_one(
                db,
                (
                    sql.update_row_bound(),
                    vec![add[k].as_str(), remove[k].as_str()],
                ),
                format!("updating '{}' to '{}'", remove[k], add[k]),
            )?;
        }
        for r in &remove[pairs..] {
            expect_one(
                db,
                (sql.delete_row_bound(), vec![r.as_str()]),
                format!("deleting '{r}'"),
            )?;
        }
        for a in &add[pairs..] {
            db.batch_or(
                &sql.insert_row(a),
                &format!("inserting '{a}' into the version table"),
            )?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn history_insert(
        &self,
        idx: RevIdx,
        dialect: SqlDialect,
        op: &'static str,
        st: &'static str,
        done: usize,
        total: usize,
        duration_ms: Option<u128>,
        detail: Option<String>,
    ) -> Result<HistoryInsertOwned> {
        let set = self.set()?;
        let graph = set.graph();
        let rev = graph.rev(idx);
        let file: &MigrationFile = set.file(idx);
        Ok(HistoryInsertOwned {
            revision: rev.id.clone(),
            down_revisions: graph.ids(&rev.down).join(","),
            depends_on: graph.ids(&rev.deps).join(","),
            operation: op,
            state: st,
            checksum: file.checksum(dialect).as_str().to_string(),
            statements_done: done,
            statements_total: total,
            duration_ms,
            message: file.message.clone(),
            detail,
            applied_digest: None,
        })
    }

    fn step_report(
        &self,
        step: &PlannedStep,
        file: Option<&MigrationFile>,
        statements: usize,
        duration: Duration,
    ) -> StepReport {
        let (removed, added) = net_change(step);
        StepReport {
            revision: file.map(|f| f.revision.clone()),
            file: file.map(|f| f.file.clone()),
            direction: step.direction,
            stamp: step.stamp,
            statements,
            removed,
            added,
            duration,
        }
    }

    /// The version rows and Alembic's `current`. Creates nothing.
    pub fn current(&self, db: &mut Database) -> Result<Current> {
        let set = self.set()?;
        let sql = self.sql(db)?;
        let state = version_table::read_state(db, &sql)?;
        let rows: Vec<&str> = state.rows.iter().map(String::as_str).collect();
        Ok(Current {
            revisions: if state.rows.iter().all(|r| set.graph().index_of(r).is_some()) {
                planning::current(self.set()?.graph(), &rows)?
            } else {
                state.rows.clone()
            },
            rows: state.rows.clone(),
            accepted_edits: recover::accepted_edits(set, &state),
        })
    }

    /// Alembic's `history [-r range]`: revisions newest first, each marked
    /// applied/current from the database's rows (`current` in the range means
    /// the rows). Creates nothing.
    pub fn history(&self, db: &mut Database, range: Option<&str>) -> Result<Vec<HistoryItem>> {
        let set = self.set()?;
        let sql = self.sql(db)?;
        let state = version_table::read_state(db, &sql)?;
        let graph = self.set()?.graph();
        let rows: Vec<&str> = state
            .rows
            .iter()
            .map(String::as_str)
            .filter(|r| graph.index_of(r).is_some())
            .collect();
        let known: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
        let applied = graph.ancestor_mask(&known, true);
        let revisions = planning::history(graph, range, &rows)?;
        Ok(revisions
            .into_iter()
            .map(|i| {
                let rev = graph.rev(i);
                let file = set.file(i);
                HistoryItem {
                    revision: rev.id.clone(),
                    down_revisions: graph.ids(&rev.down),
                    depends_on: rev.depends_on.clone(),
                    branch_labels: rev.labels.clone(),
                    message: file.message.clone(),
                    file: file.file.clone(),
                    applied: applied[i],
                    current: known.contains(&i),
                    is_head: rev.is_head(),
                    is_branch_point: rev.is_branch_point(),
                    is_merge_point: rev.is_merge_point(),
                }
            })
            .collect())
    }

    /// Every row of the history table, oldest first (empty if it does not exist).
    pub fn applied_history(&self, db: &mut Database) -> Result<Vec<HistoryEntry>> {
        let sql = self.sql(db)?;
        version_table::read_history(db, &sql)
    }

    /// The revisions `upgrade heads` would apply, in order. Creates nothing.
    pub fn pending(&self, db: &mut Database) -> Result<Vec<String>> {
        let report = self.check(db)?;
        match report.standing {
            Standing::UpToDate => Ok(Vec::new()),
            Standing::Behind { pending } => Ok(pending),
            Standing::Ahead { unknown } => match self.config.when_ahead {
                AheadPolicy::Allow => Ok(Vec::new()),
                AheadPolicy::Refuse => Err(Error::DatabaseAhead { unknown }),
            },
            Standing::Diverged { unknown, fork } => Err(Error::DatabaseDiverged { unknown, fork }),
            Standing::Unknown { unknown } => Err(Error::UnknownRevisions { unknown }),
        }
    }

    /// Whether a launch would do nothing: `Ok(true)` at the heads (or ahead,
    /// with [`AheadPolicy::Allow`]), `Ok(false)` when migrations are pending, an
    /// error for anything that would make a launch refuse (drift, unfinished
    /// steps, unknown revisions). One round trip when at the heads.
    pub fn is_up_to_date(&self, db: &mut Database) -> Result<bool> {
        let sql = self.sql(db)?;
        if self.at_heads_fast(db, &sql).is_some() {
            return Ok(true);
        }
        let report = self.check(db)?;
        if !report.drift.is_empty() {
            return Err(Error::Drift(report.drift));
        }
        if !report.unfinished.is_empty() {
            return Err(Error::Unfinished(report.unfinished));
        }
        match report.standing {
            Standing::UpToDate => Ok(true),
            Standing::Behind { .. } => Ok(false),
            Standing::Ahead { unknown } => match self.config.when_ahead {
                AheadPolicy::Allow => Ok(true),
                AheadPolicy::Refuse => Err(Error::DatabaseAhead { unknown }),
            },
            Standing::Diverged { unknown, fork } => Err(Error::DatabaseDiverged { unknown, fork }),
            Standing::Unknown { unknown } => Err(Error::UnknownRevisions { unknown }),
        }
    }

    /// Drift, unfinished steps, unknown revisions and pending migrations, read
    /// without changing anything (no table is created, no lock taken).
    pub fn check(&self, db: &mut Database) -> Result<CheckReport> {
        let set = self.set()?;
        let sql = self.sql(db)?;
        let state = version_table::read_state(db, &sql)?;
        let Assessment {
            unfinished,
            drift,
            unknown,
        } = assess(self.set()?, &state, sql.dialect.sql_dialect());
        let standing = match unknown {
            Unknown::None => {
                let rows: Vec<&str> = state.rows.iter().map(String::as_str).collect();
                let steps = planning::upgrade(self.set()?.graph(), &rows, "heads")?;
                if steps.is_empty() {
                    Standing::UpToDate
                } else {
                    Standing::Behind {
                        pending: steps
                            .iter()
                            .filter_map(|s| s.revision)
                            .map(|i| set.file(i).revision.clone())
                            .collect(),
                    }
                }
            }
            Unknown::Ahead(unknown) => Standing::Ahead { unknown },
            Unknown::Diverged { unknown, fork } => Standing::Diverged { unknown, fork },
            Unknown::Unexplained(unknown) => Standing::Unknown { unknown },
            Unknown::Inconsistent(error) => return Err(Error::Plan(error)),
        };
        Ok(CheckReport {
            accepted_edits: recover::accepted_edits(set, &state),
            rows: state.rows,
            standing,
            drift,
            unfinished,
            version_table_exists: state.version_table,
            history_table_exists: state.history_table,
        })
    }

    /// Closes a step left `failed` or `in_progress` (non-transactional runs),
    /// after a person finished or undid its statements by hand. Writes a
    /// `repair` row with `reason` to the history table (the audit trail) and,
    /// for [`RepairAction::Completed`], the step's version-table change.
    ///
    /// To run the statements that did not run instead, once the cause of the
    /// failure is fixed, see [`Migrator::resume`].
    pub fn repair(
        &self,
        db: &mut Database,
        revision: &str,
        action: RepairAction,
        reason: &str,
    ) -> Result<Report> {
        let idx = self.repair_target(revision, reason)?;
        self.under_lock(db, |db, sql| {
            self.repair_locked(db, sql, idx, action, reason)
        })
    }

    /// The revision a `repair`, `resume` or `accept_edit` names, after
    /// checking that a reason was given.
    fn repair_target(&self, revision: &str, reason: &str) -> Result<RevIdx> {
        if reason.trim().is_empty() {
            return Err(Error::Repair(
                "give a reason (who repaired what, and how); it is recorded in the history table"
                    .to_string(),
            ));
        }
        self.set()?.graph().index_of(revision).ok_or_else(|| {
            Error::Repair(format!(
                "revision {revision} is not in this binary's history; repair it with the binary that contains it"
            ))
        })
    }

    /// Runs `work` with the run lock held, released on every path; the
    /// report's duration is the whole call's.
    fn under_lock(
        &self,
        db: &mut Database,
        work: impl FnOnce(&mut Database, &Sql) -> Result<Report>,
    ) -> Result<Report> {
        let started = Instant::now();
        let sql = self.sql(db)?;
        let mut guard =
            LockGuard::acquire(db, &sql, self.config.lock_timeout, self.config.run_lock)?;
        match work(&mut guard, &sql) {
            Ok(mut report) => {
                guard.release()?;
                report.duration = started.elapsed();
                Ok(report)
            }
            Err(e) => {
                drop(guard);
                Err(e)
            }
        }
    }

    fn repair_locked(
        &self,
        db: &mut Database,
        sql: &Sql,
        idx: RevIdx,
        action: RepairAction,
        reason: &str,
    ) -> Result<Report> {
        let state = version_table::read_state(db, sql)?;
        let file = self.set()?.file(idx);
        let latest = match state.latest.get(&file.revision) {
            Some(l) if l.is_unfinished() => l.clone(),
            Some(l) => {
                return Err(Error::Repair(format!(
                    "revision {} has nothing to repair: its latest history row says `{}`",
                    file.revision, l.state
                )))
            }
            None => {
                return Err(Error::Repair(format!(
                    "revision {} has no history row; there is nothing to repair",
                    file.revision
                )))
            }
        };
        let direction = self.unfinished_direction(db, sql, &file.revision, &latest)?;
        let rows: Vec<&str> = state.rows.iter().map(String::as_str).collect();
        let step = match action {
            RepairAction::RolledBack => None,
            RepairAction::Completed => Some(planning::single_step(
                self.set()?.graph(),
                &rows,
                idx,
                direction,
            )),
        };
        let new_state = match (action, direction) {
            (RepairAction::Completed, Direction::Upgrade) => state::APPLIED,
            (RepairAction::Completed, Direction::Downgrade) => state::REVERTED,
            (RepairAction::RolledBack, Direction::Upgrade) => state::ROLLED_BACK,
            (RepairAction::RolledBack, Direction::Downgrade) => state::APPLIED,
        };
        self.begin(db, sql)?;
        let mut rows_after = state.rows.clone();
        let result = (|| -> Result<()> {
            if let Some(step) = &step {
                self.change_rows(db, sql, step)?;
                apply_to_rows(&mut rows_after, step);
            }
            let total = usize::try_from(latest.statements_total).unwrap_or(0);
            let done = usize::try_from(latest.statements_done).unwrap_or(0);
            let mut insert = self.history_insert(
                idx,
                sql.dialect.sql_dialect(),
                operation::REPAIR,
                new_state,
                done,
                total,
                None,
                Some(format!("{action:?} by hand: {reason}")),
            )?;
            if !(action == RepairAction::Completed && direction == Direction::Upgrade) {
                insert.checksum = latest.checksum.clone();
            }
            let others_unfinished = state
                .latest
                .iter()
                .any(|(r, l)| r != &file.revision && l.is_unfinished());
            if !others_unfinished {
                insert.applied_digest = self.digest_of(&rows_after, sql.dialect.sql_dialect());
            }
            db.batch_or(
                &sql.insert_history(&insert.borrow()),
                "recording the repair",
            )
        })();
        self.finish(db, result)?;
        tracing::warn!(revision = %file.revision, ?action, reason, "repaired by hand");
        Ok(Report {
            steps: vec![StepReport {
                revision: Some(file.revision.clone()),
                file: Some(file.file.clone()),
                direction,
                stamp: true,
                statements: 0,
                removed: step.as_ref().map(|s| net_change(s).0).unwrap_or_default(),
                added: step.as_ref().map(|s| net_change(s).1).unwrap_or_default(),
                duration: Duration::ZERO,
            }],
            rows_before: state.rows.clone(),
            rows_after,
            duration: Duration::ZERO,
            adopted: Vec::new(),
        })
    }
}

/// A step outside a transaction, claimed by its `in_progress` history row.
#[derive(Debug, Clone, Copy)]
struct Claim<'a> {
    /// The history row's id.
    id: i64,
    /// How many of the step's statements ran before (0, or a resumed step's count).
    from: usize,
    /// When the step (or its resumption) started.
    started: Instant,
    /// The row's `detail` when it closes (a resumption's reason).
    note: Option<&'a str>,
    /// Whether the closing row may carry the applied-set digest: no other
    /// step is unfinished and no applied migration drifted.
    vouch: bool,
    /// Whether a first statement that times out waiting for a lock closes
    /// the row `retried` (nothing ran) for the step to run again: the step
    /// has a lock_timeout.
    retry_on_lock: bool,
}

/// An owned [`HistoryInsert`].
#[derive(Debug, Clone)]
struct HistoryInsertOwned {
    revision: String,
    down_revisions: String,
    depends_on: String,
    operation: &'static str,
    state: &'static str,
    checksum: String,
    statements_done: usize,
    statements_total: usize,
    duration_ms: Option<u128>,
    message: String,
    detail: Option<String>,
    applied_digest: Option<String>,
}

impl HistoryInsertOwned {
    fn borrow(&self) -> HistoryInsert<'_> {
        HistoryInsert {
            revision: &self.revision,
            down_revisions: &self.down_revisions,
            depends_on: &self.depends_on,
            operation: self.operation,
            state: self.state,
            checksum: &self.checksum,
            statements_done: self.statements_done,
            statements_total: self.statements_total,
            duration_ms: self.duration_ms,
            message: &self.message,
            detail: self.detail.as_deref(),
            applied_digest: self.applied_digest.as_deref(),
        }
    }
}

/// The step's rows without those that both disappear and appear.
pub(crate) fn net_change(step: &PlannedStep) -> (Vec<String>, Vec<String>) {
    let remove: Vec<String> = step
        .remove
        .iter()
        .filter(|r| !step.add.contains(r))
        .cloned()
        .collect();
    let add: Vec<String> = step
        .add
        .iter()
        .filter(|a| !step.remove.contains(a))
        .cloned()
        .collect();
    (remove, add)
}

pub(crate) fn apply_to_rows(rows: &mut Vec<String>, step: &PlannedStep) {
    let (remove, add) = net_change(step);
    rows.retain(|r| !remove.contains(r));
    rows.extend(add);
}

fn rollback(db: &mut Database) {
    if let Err(message) = db.batch("ROLLBACK") {
        tracing::warn!(error = %message, "ROLLBACK failed; closing the connection");
        db.close();
    }
}

fn is_sqlite_busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked") || m.contains("database table is locked")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    n: Option<i64>,
}

/// A query returning one BIGINT column `n` (NULL reads as 0).
fn count(db: &mut Database, query: &str) -> Result<i64> {
    let found: Vec<Count> = db.load_or(query, "reading the history table")?;
    Ok(found.first().and_then(|c| c.n).unwrap_or(0))
}

/// SQLite: whether the version rows are still what this run expects.
fn verify_rows(db: &mut Database, sql: &Sql, expected: &[String]) -> Result<bool> {
    let found: Vec<RowOnly> = db.load_or(&sql.select_rows(), "reading the version table")?;
    let mut found: Vec<String> = found.into_iter().map(|r| r.revision).collect();
    let mut expected = expected.to_vec();
    found.sort();
    expected.sort();
    Ok(found == expected)
}

/// The first migration of a database with no version rows and no history
/// failed because what it creates is already there: the schema was made
/// before this tool managed it (or by hand), and nobody recorded which
/// revision it matches. Says so, with the command that fixes it.
fn forgot_to_stamp(mut error: Error) -> Error {
    if let Error::Migration {
        direction: Direction::Upgrade,
        message,
        hint,
        ..
    } = &mut error
    {
        if hint.is_none() && message.contains("already exists") {
            *hint = Some(MigrationHint::NeverStamped);
        }
    }
    error
}

/// A migration error with the run's report up to it (the partial report):
/// the steps that committed before it, which stay applied, and the rows.
fn with_partial(mut error: Error, report: &Report, rows: &[String]) -> Error {
    if let Error::Migration { partial, .. } = &mut error {
        **partial = Report {
            steps: report.steps.clone(),
            rows_before: report.rows_before.clone(),
            rows_after: rows.to_vec(),
            duration: report.duration,
            adopted: report.adopted.clone(),
        };
    }
    error
}
