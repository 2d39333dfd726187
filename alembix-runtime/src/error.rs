//! The runtime's typed errors: each names the revision, file and statement
//! involved and says what to do next. None ever holds a database password:
//! URLs are redacted and driver messages scrubbed before they get here.

use crate::report::{Report, StepReport};
use alembix_core::{Problems, TransactionMode};
use std::fmt;
use std::time::Duration;

pub use alembix_core::plan::Direction;
use alembix_core::plan::PlanError;

/// `upgrade` or `downgrade`.
pub fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    }
}

/// What a failed migration left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureOutcome {
    /// The migration's transaction was rolled back: the database, version table
    /// and history included, is exactly as before the migration.
    RolledBack,
    /// The migration ran outside a transaction (MySQL/MariaDB DDL, or a
    /// `-- transaction: none` migration): the statements before the failing one
    /// stay applied, and the history table records the revision as `failed` with
    /// that count. Launch refuses until [`Migrator::repair`](crate::Migrator::repair).
    RecordedFailed,
}

/// A migration whose applied text changed since it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drift {
    /// The revision.
    pub revision: String,
    /// Its file in the binary's set.
    pub file: String,
    /// The checksum recorded when it was applied.
    pub recorded: String,
    /// The checksum of the binary's text.
    pub current: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): applied with {}, the file now has {}",
            self.revision, self.file, self.recorded, self.current
        )
    }
}

/// A revision that a history row leaves unfinished.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unfinished {
    /// The revision.
    pub revision: String,
    /// Its file, when the binary contains it.
    pub file: Option<String>,
    /// `upgrade` or `downgrade`.
    pub operation: String,
    /// `failed` or `in_progress`.
    pub state: String,
    /// Statements that completed before it stopped.
    pub statements_done: i32,
    /// Statements in the section.
    pub statements_total: i32,
    /// The recorded error, if any.
    pub error: Option<String>,
}

impl fmt::Display for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} of revision {}",
            self.state.replace('_', " "),
            self.operation,
            self.revision
        )?;
        if let Some(file) = &self.file {
            write!(f, " ({file})")?;
        }
        write!(
            f,
            ": {} of {} statements ran",
            self.statements_done, self.statements_total
        )?;
        if let Some(e) = &self.error {
            write!(f, "; error: {e}")?;
        }
        if self.state == "in_progress" {
            f.write_str(" (its process died, or is still running it: check before repairing)")?;
        }
        Ok(())
    }
}

/// Every error of the runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configured identifier (version table, schema) is not acceptable. No SQL was sent.
    #[error("invalid {setting} {name:?}: {reason}; use a plain name such as `alembic_version` (letters, digits, _; at most 63 characters)")]
    InvalidIdentifier {
        /// The setting (`version_table`, `version_table_schema`).
        setting: String,
        /// The rejected value (escaped).
        name: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A configuration that this backend cannot honour.
    #[error("{0}")]
    Unsupported(String),

    /// The migration set itself is invalid (folder mode: bad files or graph).
    #[error("the migration history is invalid:\n{0}")]
    History(Problems),

    /// No database was named: no URL, no `DATABASE_URL`, no default database.
    #[error("no database given: pass a URL (--db), set DATABASE_URL, or give the migrations a default database; {accepted}")]
    NoDatabase {
        /// The URL forms this binary accepts.
        accepted: String,
    },

    /// The database URL names no backend compiled into this binary.
    #[error("cannot tell the database from {url}: {reason}")]
    Url {
        /// The URL, password redacted.
        url: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// Connecting failed.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's message, scrubbed of secrets.
        message: String,
    },

    /// A database error outside a migration's own SQL (bookkeeping, locking, reading).
    #[error("database error while {doing}: {message}{}", note(.message))]
    Database {
        /// What the runtime was doing.
        doing: String,
        /// The driver's message, scrubbed of secrets.
        message: String,
    },

    /// A statement of a migration failed.
    #[error("{} of revision {revision} failed at statement {statement} of {statement_count} ({file}:{line}): {message}\n  {}{}", direction_name(*.direction), outcome_help(*.outcome, *.transaction, hint.as_deref(), revision, message), committed_note(&partial.steps))]
    Migration {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
        /// Which section ran.
        direction: Direction,
        /// 1-based index of the failing statement in its section.
        statement: usize,
        /// Statements in the section.
        statement_count: usize,
        /// 1-based line of the failing statement in the file.
        line: u32,
        /// The driver's message, scrubbed of secrets.
        message: String,
        /// What the failure left behind.
        outcome: FailureOutcome,
        /// The migration's transaction mode (`-- transaction:`), which says
        /// why a step ran outside a transaction where the backend has them.
        transaction: TransactionMode,
        /// What the runtime noticed about the cause, when it knows better
        /// than "fix the SQL" (e.g. a database that was never stamped).
        hint: Option<Box<str>>,
        /// The run's report up to the failure: the steps that committed
        /// before this one (they stay applied; none for a whole-run
        /// transaction, which rolls them back too) and the version rows
        /// they left.
        partial: Box<Report>,
    },

    /// The migration lock could not be taken in time.
    #[error("gave up after {waited:?} waiting for the migration lock ({lock}); it is held by {holder}. Another process is migrating this database: wait for it, or stop it if it hangs, then retry")]
    LockTimeout {
        /// The lock (advisory key, lock name, SQLite lock file or write lock).
        lock: String,
        /// How long we waited.
        waited: Duration,
        /// Who holds it, as the server (or, for SQLite, the lock file) tells.
        holder: String,
    },

    /// Applied migrations whose text changed.
    #[error("{} applied migration(s) changed since they were applied: {}. An applied migration must not be edited: restore the original text, or write a new migration for the change", .0.len(), join(.0))]
    Drift(Vec<Drift>),

    /// The database is at revisions the binary does not contain, which descend
    /// from the binary's heads: a newer binary migrated it.
    #[error("the database is ahead of this binary: it is at {} which this binary does not contain (they build on its head). Run the newer binary, or set `when_ahead: AheadPolicy::Allow` if this version is known to work with the newer schema", .unknown.join(", "))]
    DatabaseAhead {
        /// The unknown revisions in the version table.
        unknown: Vec<String>,
    },

    /// The database is at revisions the binary does not contain that do not
    /// descend from its heads: the histories went different ways.
    #[error("the database has diverged from this binary: it is at {} which this binary does not contain and which do not build on its head{}. Find the binary (branch) that wrote them, downgrade the database with it, then run this one", .unknown.join(", "), fork_note(.fork))]
    DatabaseDiverged {
        /// The unknown revisions in the version table.
        unknown: Vec<String>,
        /// The newest revision both histories share, when the history table tells.
        fork: Option<String>,
    },

    /// The database is at revisions the binary does not contain and the history
    /// table does not say where they come from (e.g. written by Alembic).
    #[error("the database is at revision(s) {} which this binary does not contain, and its history table does not say what they build on. Run the binary that contains them; or, if you know which revision of this binary the schema matches, `stamp --purge REVISION` (a plain `stamp` keeps the unknown rows and is refused the same way)", .unknown.join(", "))]
    UnknownRevisions {
        /// The unknown revisions in the version table.
        unknown: Vec<String>,
    },

    /// A migration was left failed or in progress (non-transactional runs).
    #[error("the database needs a repair before anything else runs: {}. Finish or undo those statements by hand, then call `Migrator::repair(revision, RepairAction::Completed | RepairAction::RolledBack, reason)`", join(.0))]
    Unfinished(Vec<Unfinished>),

    /// A target did not resolve, or the requested move is impossible (the
    /// planner's words, Alembic's messages).
    #[error("{0}")]
    Plan(PlanError),

    /// A downgrade would revert a migration that has no downgrade section.
    #[error("revision {revision} ({file}) is irreversible (`-- migrate:irreversible`); it cannot be downgraded. Nothing was run")]
    Irreversible {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
    },

    /// The version table does not hold the rows a step expects (Alembic's
    /// "expected to match one row"): someone else changed it, or it is corrupt.
    #[error("{0}")]
    VersionTable(String),

    /// `repair` was called for a revision that has nothing to repair, or with
    /// arguments that do not fit.
    #[error("cannot repair: {0}")]
    Repair(String),
}

/// What a read-only database answers to a write: PostgreSQL (a standby, or
/// `default_transaction_read_only`: SQLSTATE 25006), MySQL/MariaDB
/// (`--read-only`, `--super-read-only`), SQLite (a read-only file or mode).
fn is_read_only(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "in a read-only transaction",
        "during recovery",
        "--read-only option",
        "--super-read-only option",
        "readonly database",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

const READ_ONLY_HELP: &str = "the database is read-only (a standby or replica, `default_transaction_read_only`, MySQL's `--read-only`, or a read-only SQLite file): nothing was changed; connect to the writable primary (or as a user that may write) and run again";

/// What a server answers when a statement waited longer than the session's
/// bound on lock waits (see `Database::bound_lock_waits`): PostgreSQL's
/// `lock_timeout`, MySQL's `lock_wait_timeout`/`innodb_lock_wait_timeout`,
/// SQLite's `busy_timeout`.
fn is_lock_wait(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "due to lock timeout",
        "Lock wait timeout exceeded",
        "database is locked",
        "database table is locked",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

const LOCK_WAIT_HELP: &str = "another session held a lock this statement needed for longer than the configured lock_timeout: find it (PostgreSQL: pg_locks and pg_stat_activity; MySQL: SHOW PROCESSLIST), let it finish or stop it, then run again; or raise lock_timeout";

/// The help for a database error that says why it happened, if it tells.
fn note(message: &str) -> String {
    if is_read_only(message) {
        format!("\n  {READ_ONLY_HELP}")
    } else if is_lock_wait(message) {
        format!("\n  {LOCK_WAIT_HELP}")
    } else {
        String::new()
    }
}

fn outcome_help(
    outcome: FailureOutcome,
    transaction: TransactionMode,
    hint: Option<&str>,
    revision: &str,
    message: &str,
) -> String {
    if let Some(hint) = hint {
        return match outcome {
            FailureOutcome::RolledBack => {
                format!("the migration was rolled back; the database is as it was before it. {hint}")
            }
            FailureOutcome::RecordedFailed => format!(
                "{hint} (its failed step is recorded: close it first with `repair {revision} --rolled-back --reason …`, Migrator::repair)"
            ),
        };
    }
    if is_read_only(message) {
        return READ_ONLY_HELP.to_string();
    }
    if is_lock_wait(message) && outcome == FailureOutcome::RolledBack {
        return format!(
            "the migration was rolled back; the database is as it was before it. {LOCK_WAIT_HELP}"
        );
    }
    match outcome {
        FailureOutcome::RolledBack => {
            "the migration was rolled back; the database is as it was before it. Fix the SQL and run again".to_string()
        }
        FailureOutcome::RecordedFailed => format!(
            "the statements before the failing one stay applied ({}); the history table records revision {revision} as failed and launch will refuse until it is repaired: finish or undo the statements by hand, then call `Migrator::repair`",
            match transaction {
                TransactionMode::None => "the file is marked `-- transaction: none`, so its statements ran one by one outside a transaction",
                TransactionMode::PerMigration => "MySQL/MariaDB commit each DDL statement: no transaction can hold them",
            }
        ),
    }
}

fn committed_note(committed: &[StepReport]) -> String {
    let ids: Vec<&str> = committed
        .iter()
        .filter_map(|s| s.revision.as_deref())
        .collect();
    if ids.is_empty() {
        return String::new();
    }
    format!(
        "\n  before it, this run applied {} migration(s), which stay applied: {}",
        ids.len(),
        ids.join(", ")
    )
}

fn fork_note(fork: &Option<String>) -> String {
    match fork {
        Some(f) => format!(" (the histories split after {f})"),
        None => String::new(),
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
