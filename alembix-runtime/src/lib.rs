//! The runtime: applies migration plans to a database with diesel.
//!
//! Users depend on this crate alone; it re-exports the macro:
//!
//! ```no_run
//! // The folder is relative to the crate's Cargo.toml; usually "migrations".
//! static MIGRATIONS: alembix_runtime::EmbeddedMigrations =
//!     alembix_runtime::embed_migrations!("tests/fixtures/linear");
//!
//! fn main() -> Result<(), alembix_runtime::Error> {
//!     let migrator = alembix_runtime::Migrator::from_embedded(&MIGRATIONS, Default::default())?;
//!     let mut db = alembix_runtime::Database::connect(&std::env::var("DATABASE_URL").unwrap_or_default())?;
//!     migrator.launch(&mut db)?; // upgrade heads; one query when already there
//!     Ok(())
//! }
//! ```
//!
//! # What a [`Migrator`] does
//!
//! [`Migrator::upgrade`] / [`Migrator::downgrade`] take every Alembic target
//! (`heads`, `head`, `<rev>` or a prefix, `+1`, `-1`, `<label>@head`,
//! `<label>@base`, `base`, …; the core's planner decides, with Alembic's
//! semantics) and return a [`Report`] of the steps with their durations.
//! [`Migrator::stamp`], [`Migrator::current`], [`Migrator::heads`],
//! [`Migrator::history`], [`Migrator::pending`], [`Migrator::is_up_to_date`],
//! [`Migrator::check`] (drift and unknown revisions, changes nothing),
//! [`Migrator::repair`] and [`Migrator::resume`] (the audited ways out of a
//! failed non-transactional step: record what a person did, or run the
//! statements that did not run), [`Migrator::accept_edit`] (accept a
//! deliberate edit of an applied migration) and [`Migrator::offline_sql`] (the exact script, per dialect, without a
//! connection) complete it. [`Migrator::replay_schema`] and
//! [`Migrator::inspect_schema`] read the schema the history builds (in a
//! [`schema::Scratch`] database) and the one a database has, as one model
//! ([`schema`]: text, JSON, diff). One [`Config`] holds the version table's name and
//! schema, the lock timeout, the transaction mode and the policy for a database
//! that is ahead of the binary.
//!
//! # How it keeps data safe
//!
//! - **Alembic's version table**, unchanged: `version_num VARCHAR(32) NOT NULL`,
//!   primary key `<table>_pkc`, one row per head, so Python Alembic and this
//!   runtime read and continue each other's databases. Beside it, a history
//!   table `<table>_history` ([`HistoryEntry`]): every applied, reverted,
//!   stamped, failed or repaired step, its parents, checksum, state, progress,
//!   when and how long. No credentials ever reach it.
//! - **One lock per run**: a session advisory lock on PostgreSQL, `GET_LOCK`
//!   on MySQL/MariaDB, an exclusive `flock` on `<database file>-migrate-lock`
//!   beside a SQLite database (plus each migration's `BEGIN IMMEDIATE`); the
//!   rows are re-read inside it; it is released on every path (a guard, and
//!   closing the connection if releasing fails) and dies with its process
//!   (the server ends the session, the kernel drops the `flock`), so `kill -9`
//!   cannot leave it held; a timeout error names the holder.
//! - **One transaction per migration, bookkeeping included**, where DDL is
//!   transactional (PostgreSQL, SQLite); `-- transaction: none` migrations run
//!   outside one. On MySQL/MariaDB DDL commits implicitly, so progress is
//!   recorded before and after every statement; after a failure, runs
//!   (`stamp` included) refuse until [`Migrator::resume`] runs the rest or
//!   [`Migrator::repair`] records what a person did.
//! - **Fail closed before applying anything**: checksum drift of an applied
//!   migration (line endings and a BOM are not drift), revisions the binary
//!   does not contain ([`Error::DatabaseAhead`] vs [`Error::DatabaseDiverged`],
//!   told apart by the parents in the history table), steps left unfinished,
//!   irreversible downgrades.
//! - **No injection, no leaks**: configured identifiers are validated
//!   (`^[A-Za-z_][A-Za-z0-9_]{0,62}$`) and quoted before any SQL is sent; URLs
//!   are redacted and driver messages scrubbed of the password in every error,
//!   `Debug` output and `tracing` event.
//!
//! # Backends and what a machine needs
//!
//! | feature | backend | system packages (Debian/Ubuntu) |
//! | --- | --- | --- |
//! | `sqlite` (default) | SQLite, compiled in (`libsqlite3-sys/bundled`) | none (a C compiler, which Rust builds need anyway) |
//! | `postgres` | PostgreSQL through libpq (`pq-sys`) | `libpq-dev` |
//! | `mysql` | MySQL and MariaDB through the client library (`mysqlclient-sys`, found with `pkg-config`) | `default-libmysqlclient-dev` (pulls `libmariadb-dev` and `libmariadb-dev-compat`: MariaDB Connector/C, which serves MySQL servers too) and `pkg-config` |
//!
//! So a fresh machine builds and tests the default features with nothing
//! installed; CI installs `libpq-dev default-libmysqlclient-dev pkg-config`
//! for `--all-features`. The test-only feature `failpoints` adds the crash
//! points of [`failpoint`].
//!
//! # Launch cost
//!
//! [`Migrator::launch`] (`upgrade heads`) first sends one query: the version
//! rows and the newest history row's digest of the applied set. When the rows
//! are the binary's heads and the digest matches, every applied checksum was
//! verified against this binary's text by the run that wrote it, so nothing
//! else is read and no lock is taken. With [`Migrator::from_embedded`] the
//! heads and that digest were computed by the macro at build time, so such a
//! launch does not even build the graph. Anything else takes the careful path
//! (lock, full history, checks).
//!
//! # Cost per migration
//!
//! On PostgreSQL a migration is one round trip however many statements it
//! has: `BEGIN`, its statements, the version-table change, a check that the
//! table then holds exactly the rows the step leads to, the history row and
//! `COMMIT` travel as one script (diesel_migrations needs four round trips).
//! When the script fails, the transaction is rolled back and the statements
//! are run once more, one at a time, in a transaction that is rolled back too,
//! so that the error names the statement (and its line) that failed. SQLite
//! runs in-process; MySQL/MariaDB record progress around every statement (see
//! the README's backend table).

//! # diesel's harness
//!
//! [`Migrator::diesel_source`] gives a `diesel::migration::MigrationSource`
//! for teams that already call `diesel_migrations::MigrationHarness`; see
//! [`DieselSource`] for what that path lacks (our lock, version table, checks).
//!
//! # Taking over from Alembic or diesel_migrations
//!
//! A database Alembic manages is continued as it is (same version table, same
//! revision ids); the revisions Alembic applied are recorded as `adopted`,
//! never run again and never reported as drift. One that diesel_migrations
//! migrated is adopted with [`Migrator::adopt_diesel`], or on its first launch
//! with [`DieselTakeover::OnUpgrade`]. See
//! `docs/ADOPTION.md`.

mod embedded;

pub use alembix_core as core;
pub use embedded::{
    EmbeddedChecksum, EmbeddedMigration, EmbeddedMigrations, EmbeddedSection, EmbeddedStatement,
    MigrationIter, NameIter, StatementIter,
};

/// Embeds the migrations folder at `path` (relative to the calling crate's
/// `Cargo.toml`, usually `"migrations"`) as an [`EmbeddedMigrations`], or fails
/// the build with one error per problem in the history: gaps, cycles, duplicate
/// ids, a second head nobody merged, malformed headers or SQL, each naming the
/// file and line.
///
/// ```text
/// static MIGRATIONS: alembix::EmbeddedMigrations = alembix::embed_migrations!("migrations");
/// ```
///
/// The generated code names this crate through `$crate`, so it builds whether
/// the caller depends on `alembix` or on `alembix-runtime`.
#[macro_export]
macro_rules! embed_migrations {
    ($($folder:tt)*) => {
        $crate::__private::embed_migrations!($crate; $($folder)*)
    };
}

// Every public item has one path: the crate root (or `cli`, `redact`, `schema`).
mod assess;
mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod config;
mod dialect;
mod diesel_source;
mod error;
#[doc(hidden)] // test-only crash points (feature `failpoints`), not part of the API
pub mod failpoint;
mod fleet;
mod ident;
mod lock;
mod migrations;
mod migrator;
mod next_step;
mod offline;
mod planning;
pub mod redact;
mod report;
pub mod schema;
mod table_shape;
mod timestamp;
mod version_table;

pub use backend::Database;
pub use config::{
    AheadPolicy, Config, DieselTakeover, RunLock, RunTransaction, DEFAULT_LOCK_EXPIRY,
    DEFAULT_VERSION_TABLE, HISTORY_SUFFIX, LOCK_TABLE_SUFFIX, MAX_LOCK_RETRY_BACKOFF,
};
pub use dialect::{operation, state, Dialect, TOOL};
pub use diesel_source::DieselSource;
pub use error::{Direction, Drift, Error, FailureOutcome, MigrationHint, Result, Unfinished};
pub use fleet::{
    list_schemas, read_targets, FleetCommand, FleetOptions, FleetReport, SchemaSelector, Target,
    TargetOutcome, TargetResult,
};
pub use ident::{Identifier, MAX_IDENTIFIER_LEN, SQLITE_RESERVED_PREFIX};
pub use migrations::{Migrations, DATABASE_URL_VAR};
pub use migrator::{DieselAdoption, Migrator, ADOPT, ADOPTED};
pub use next_step::{Naming, NextCommand};
pub use offline::OfflineCommand;
pub use report::{
    AcceptedEdit, CheckReport, Current, HistoryItem, RepairAction, Report, StampMode, Standing,
    StepReport,
};
pub use timestamp::Timestamp;
pub use version_table::HistoryEntry;

/// What the code generated by `embed_migrations!` refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::embedded::{EmbeddedMigration, EmbeddedMigrations, EmbeddedStatement};
    pub use alembix_core::TransactionMode;
    pub use alembix_macros::embed_migrations;
}
