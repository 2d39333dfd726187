//! The one configuration struct of a [`Migrator`](crate::Migrator).

use crate::error::Error;
use crate::ident::Identifier;
use std::time::Duration;

/// The default version table: Alembic's.
pub const DEFAULT_VERSION_TABLE: &str = "alembic_version";

/// Suffix of the history table kept beside the version table.
pub const HISTORY_SUFFIX: &str = "_history";

/// The longest pause between two tries of a step that timed out waiting
/// for a lock (see [`Config::lock_retry_backoff`]).
pub const MAX_LOCK_RETRY_BACKOFF: Duration = Duration::from_secs(10);

/// How a run groups migrations into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RunTransaction {
    /// One transaction per migration, its version-table and history updates
    /// included (the default). A failure leaves the earlier migrations applied.
    #[default]
    PerMigration,
    /// One transaction around the whole run: all or nothing. Only on backends
    /// with transactional DDL (PostgreSQL, SQLite); refused on MySQL/MariaDB, and
    /// refused when the plan holds a `-- transaction: none` migration.
    WholeRun,
}

/// What to do when the database is at a revision the binary does not contain,
/// but which descends from the binary's heads (an older binary started against a
/// database that a newer one already migrated, e.g. during a rollback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AheadPolicy {
    /// Refuse with [`Error::DatabaseAhead`] (the default): nothing is applied.
    #[default]
    Refuse,
    /// Accept and apply nothing: `upgrade` succeeds with an empty report and
    /// `is_up_to_date` answers `true`. For blue/green rollbacks where the newer
    /// schema is known to be backward compatible. A *diverged* database (one
    /// that went another way) is refused whatever this says.
    Allow,
}

/// What an upgrade does with a database that diesel_migrations migrated
/// (`__diesel_schema_migrations` rows, no version rows, no history); see
/// [`Migrator::adopt_diesel`](crate::Migrator::adopt_diesel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DieselTakeover {
    /// Refuse to upgrade it, saying to adopt it first (the default): nothing
    /// is applied until [`Migrator::adopt_diesel`](crate::Migrator::adopt_diesel)
    /// runs or this is set to [`DieselTakeover::OnUpgrade`].
    #[default]
    Explicit,
    /// The first upgrade (launch included) adopts it: diesel's versions are
    /// stamped to the matching revisions, recorded as `adopted`, and only the
    /// revisions after them run.
    OnUpgrade,
}

/// Suffix of the lock table of [`RunLock::Table`], kept beside the version table.
pub const LOCK_TABLE_SUFFIX: &str = "_lock";

/// The lease of [`RunLock::table`]: how long a lock-table row stays valid
/// without being renewed.
pub const DEFAULT_LOCK_EXPIRY: Duration = Duration::from_secs(60);

/// The lock that keeps two runs (replicas launching together, a deploy job
/// and a launch) from migrating at the same time.
///
/// ```
/// use alembix_runtime::{Config, RunLock};
/// use std::time::Duration;
///
/// // Behind PgBouncer in transaction pooling mode, or on CockroachDB:
/// let config = Config {
///     run_lock: RunLock::Table { expiry: Duration::from_secs(120) },
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RunLock {
    /// A session lock held by the run's connection (the default):
    /// PostgreSQL's `pg_try_advisory_lock`, MySQL/MariaDB's `GET_LOCK`,
    /// SQLite's lock file (or `BEGIN IMMEDIATE`). It cannot outlive its
    /// session, so a killed process frees it at once; but it needs the same
    /// server session for the whole run, which PgBouncer in transaction
    /// pooling mode does not give, and some PostgreSQL-compatible engines
    /// (CockroachDB) do not have advisory locks.
    #[default]
    Advisory,
    /// A row in the lock table `<version_table>_lock` (beside the version
    /// table, created when missing): a lease with its owner
    /// (`host:pid:random`), `acquired_at`, `heartbeat_at` and `expires_at`.
    /// Each of its statements is a transaction of its own, so it needs no
    /// session: taking it inserts the row, or takes over a row whose lease
    /// expired (compare-and-set on `expires_at`), polling until
    /// [`Config::lock_timeout`], whose error names the owner and when its
    /// lease expires; the run renews the lease before every step (each
    /// migration with [`RunTransaction::PerMigration`]; once for a
    /// [`RunTransaction::WholeRun`]) and deletes the row when it ends,
    /// errors included.
    ///
    /// A process killed while holding it leaves the row: the next run waits
    /// until the lease expires, then takes over (and finds any step left
    /// unfinished, as with every lock). So `expiry` must be comfortably
    /// longer than any single step (a whole run with
    /// [`RunTransaction::WholeRun`]) can take: a run that finds its lease
    /// taken over when it renews it stops with an error. A step longer than
    /// the expiry needs a longer expiry.
    ///
    /// PostgreSQL and MySQL/MariaDB only; ignored on SQLite, which keeps
    /// its own lock (one writer at a time needs no session pooling).
    Table {
        /// How long the lease lasts after it is taken or renewed (see
        /// [`DEFAULT_LOCK_EXPIRY`], which [`RunLock::table`] uses).
        expiry: Duration,
    },
}

impl RunLock {
    /// [`RunLock::Table`] with the default expiry ([`DEFAULT_LOCK_EXPIRY`]).
    pub const fn table() -> RunLock {
        RunLock::Table {
            expiry: DEFAULT_LOCK_EXPIRY,
        }
    }
}

/// Configuration of a [`Migrator`](crate::Migrator).
///
/// ```
/// use alembix_runtime::Config;
/// use std::time::Duration;
///
/// let config = Config {
///     target_schema: Some("tenant_a".into()),
///     lock_timeout: Duration::from_secs(10),
///     ddl_lock_timeout: Some(Duration::from_secs(2)),
///     lock_retries: 10,
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Name of the version table (default `alembic_version`). The history table
    /// is this name plus `_history`. Must match `^[A-Za-z_][A-Za-z0-9_]{0,54}$`
    /// (so that the history table's name fits 63 characters).
    pub version_table: String,
    /// Schema (PostgreSQL) or database (MySQL/MariaDB) of the version table
    /// and the history table; `None` puts them in [`Config::target_schema`],
    /// or without one in the connection's default. Not supported on SQLite.
    pub version_table_schema: Option<String>,
    /// Schema (PostgreSQL) or database (MySQL/MariaDB) the migrations run in
    /// (default `None`: the connection's default, `public` on PostgreSQL
    /// unless the role or URL sets another `search_path`, the URL's database
    /// on MySQL). Also where the two tables live unless
    /// [`Config::version_table_schema`] says otherwise.
    ///
    /// Before its first statement, an operation points the session at it:
    /// PostgreSQL `SET search_path TO "<schema>"`, MySQL/MariaDB
    /// `` USE `<schema>` ``, so that a migration's unqualified names land
    /// there. An operation that writes (`upgrade`, `downgrade`, `stamp`,
    /// `repair`, …) first creates it when it does not exist (`CREATE SCHEMA`
    /// / `CREATE DATABASE`, which needs that privilege only then); one that
    /// only reads (`current`, `check`, `history`, …) never creates it and
    /// reads a missing schema as a database without a version table. A lent
    /// connection (`Database::from(&mut conn)`) gets its own `search_path` /
    /// database back when the `Database` is dropped. `--sql` scripts start
    /// with the same statements. Refused on SQLite ([`Error::Unsupported`]).
    ///
    /// Without it, an operation that finds no version table in the default
    /// schema but a table of the version table's name in another schema
    /// (an Alembic database whose migrations ran there) refuses before
    /// writing anything, naming that schema: set this to it to take the
    /// database over where it is, or to the default schema (`public`) to
    /// start a new history there on purpose. With it set, a version table in
    /// another schema is taken for another tenant's and not looked for.
    pub target_schema: Option<String>,
    /// How long to wait for the migration lock before giving up with an error
    /// that names the holder (default 60 s). It also bounds every lock wait
    /// of every statement the runtime sends, a migration's own included:
    /// the session's `lock_timeout` (PostgreSQL), `lock_wait_timeout` and
    /// `innodb_lock_wait_timeout` (MySQL/MariaDB, whole seconds) and
    /// `busy_timeout` (SQLite) are set to it, so that neither a read of the
    /// version table behind another session's lock nor a migration's DDL
    /// behind a long transaction waits forever (and blocks every query queued
    /// behind it). A migration that must wait longer, or should give up
    /// sooner, says so in its header (`-- lock_timeout: 10min`), or every
    /// migration does through [`Config::ddl_lock_timeout`]; those bound its
    /// statements only, and a step that times out under them is retried.
    pub lock_timeout: Duration,
    /// How long each statement of a migration may wait for a lock before it
    /// gives up (default `None`: only [`Config::lock_timeout`], the session's
    /// bound, applies). Not the run lock's wait: this is for DDL that must
    /// not queue behind a long transaction, where every query that arrives
    /// after it would queue behind it in turn. A file's `-- lock_timeout:`
    /// header overrides it for that migration.
    ///
    /// When a migration's statement times out waiting for a lock, the step
    /// is rolled back, a `retried` row is written to the history table (in
    /// its own transaction, the error in `detail`), and after a pause
    /// ([`Config::lock_retry_backoff`]) the step runs again, up to
    /// [`Config::lock_retries`] more times; then the run fails with an error
    /// that names the timeout and the tries. Per backend:
    ///
    /// - PostgreSQL: `SET LOCAL lock_timeout` inside the step's transaction,
    ///   so nothing is half applied and every try is safe to repeat. A
    ///   `-- transaction: none` migration gets a session-level `SET` for its
    ///   statements instead, and is retried only when its first statement
    ///   is the one that timed out (nothing ran yet).
    /// - MySQL/MariaDB: `SET SESSION lock_wait_timeout` (metadata locks, what
    ///   DDL waits for) and `innodb_lock_wait_timeout` (row locks), in whole
    ///   seconds rounded up, for the step's statements; the session's bound
    ///   is set back after the step. DDL commits implicitly there, so a step
    ///   is retried only when its first statement timed out (nothing applied);
    ///   a later statement's timeout fails as any statement does.
    /// - SQLite: ignored. One writer holds the database at a time; the
    ///   wait for it is `busy_timeout`, which [`Config::lock_timeout`] sets.
    pub ddl_lock_timeout: Option<Duration>,
    /// How long each statement of a migration may run (default `None`: no
    /// bound). A file's `-- statement_timeout:` header overrides it. A
    /// statement that runs longer fails the step as any error does (no
    /// retry). PostgreSQL: `SET LOCAL statement_timeout` (session-level for
    /// a `-- transaction: none` migration, reset after it). MariaDB:
    /// `SET SESSION max_statement_time` (seconds, any statement), reset
    /// after the step. MySQL has no bound on DDL (`max_execution_time`
    /// bounds read-only `SELECT`s only): a run that needs one is refused
    /// before the step starts. SQLite: ignored.
    pub statement_timeout: Option<Duration>,
    /// How many times a step that timed out waiting for a lock runs again
    /// (default 5; 0: fail at the first timeout). Only where a
    /// `lock_timeout` applies to the step (its header, or
    /// [`Config::ddl_lock_timeout`]).
    pub lock_retries: u32,
    /// The pause before the first retry (default 100 ms); each further one
    /// doubles it, up to [`MAX_LOCK_RETRY_BACKOFF`], with up to a quarter
    /// added at random so that replicas starting together do not retry in
    /// step.
    pub lock_retry_backoff: Duration,
    /// One transaction per migration (default) or one for the whole run.
    pub transaction: RunTransaction,
    /// What to do with a database that is ahead of the binary.
    pub when_ahead: AheadPolicy,
    /// What an upgrade does with a database that diesel_migrations migrated.
    pub diesel: DieselTakeover,
    /// The lock a run holds: a session's advisory lock (default) or a lease
    /// row in `<version_table>_lock`, which needs no session (PgBouncer in
    /// transaction pooling mode, CockroachDB). See [`RunLock`].
    pub run_lock: RunLock,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version_table: DEFAULT_VERSION_TABLE.to_string(),
            version_table_schema: None,
            target_schema: None,
            lock_timeout: Duration::from_secs(60),
            ddl_lock_timeout: None,
            statement_timeout: None,
            lock_retries: 5,
            lock_retry_backoff: Duration::from_millis(100),
            transaction: RunTransaction::PerMigration,
            when_ahead: AheadPolicy::Refuse,
            diesel: DieselTakeover::Explicit,
            run_lock: RunLock::Advisory,
        }
    }
}

/// Table names derived from a validated [`Config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tables {
    /// Where the two tables are: `version_table_schema`, else `target_schema`.
    pub schema: Option<Identifier>,
    /// Where the migrations run (`target_schema`).
    pub target: Option<Identifier>,
    pub version: Identifier,
    pub history: Identifier,
    /// Alembic's primary key constraint name: `<table>_pkc`.
    pub version_pk: Identifier,
    /// The lock table of [`RunLock::Table`]: `<table>_lock`.
    pub lock: Identifier,
}

impl Config {
    /// Checks the identifiers; called when a `Migrator` is built, before any SQL.
    pub(crate) fn tables(&self) -> Result<Tables, Error> {
        for (name, value) in [
            ("ddl_lock_timeout", self.ddl_lock_timeout),
            ("statement_timeout", self.statement_timeout),
        ] {
            if value.is_some_and(|d| d.is_zero()) {
                return Err(Error::Unsupported(format!(
                    "{name} is zero: set a duration of at least a millisecond, or `None` for no bound"
                )));
            }
        }
        let version = Identifier::new(&self.version_table, "version_table")?;
        let target = self
            .target_schema
            .as_deref()
            .map(|s| Identifier::new(s, "target_schema"))
            .transpose()?;
        let schema = match self.version_table_schema.as_deref() {
            Some(s) => Some(Identifier::new(s, "version_table_schema")?),
            None => target.clone(),
        };
        let history = Identifier::new(
            &format!("{}{HISTORY_SUFFIX}", self.version_table),
            "version_table (plus `_history`)",
        )?;
        let version_pk = Identifier::new(
            &format!("{}_pkc", self.version_table),
            "version_table (plus `_pkc`)",
        )?;
        if let RunLock::Table { expiry } = self.run_lock {
            if expiry < Duration::from_secs(1) {
                return Err(Error::Unsupported(format!(
                    "run_lock: RunLock::Table's expiry is {expiry:?}: set at least a second, comfortably longer than any migration takes"
                )));
            }
        }
        let lock = Identifier::new(
            &format!("{}{LOCK_TABLE_SUFFIX}", self.version_table),
            "version_table (plus `_lock`)",
        )?;
        Ok(Tables {
            lock,
            schema,
            target,
            version,
            history,
            version_pk,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_table_is_named_after_the_version_table_and_its_expiry_checked() {
        let config = Config {
            version_table: "deploys".into(),
            run_lock: RunLock::table(),
            ..Config::default()
        };
        let tables = config.tables().map_err(|e| e.to_string());
        assert_eq!(
            tables.map(|t| t.lock.to_string()),
            Ok("deploys_lock".to_string())
        );
        let short = Config {
            run_lock: RunLock::Table {
                expiry: Duration::from_millis(500),
            },
            ..Config::default()
        };
        let refused = short.tables().map(|_| ()).map_err(|e| e.to_string());
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("at least a second")),
            "{refused:?}"
        );
    }
}
