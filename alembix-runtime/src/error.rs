//! The runtime's typed errors: each names the revision, file and statement
//! involved and says what to do next. None ever holds a database password:
//! URLs are redacted and driver messages scrubbed before they get here.

use crate::next_step::{Naming, NextCommand};
use crate::report::{RepairAction, Report, StepReport};
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
    /// that count. Launch refuses until [`Migrator::resume`](crate::Migrator::resume)
    /// runs the rest or [`Migrator::repair`](crate::Migrator::repair) records what a person did.
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

/// What the runtime noticed about the cause of a failed migration, when it
/// knows better than "fix the SQL".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationHint {
    /// The first migration of a database with no version rows and no
    /// history failed because what it creates is already there: the schema
    /// was made before this tool managed it, and nobody recorded (stamped)
    /// the revision it matches.
    NeverStamped,
    /// Every try of the step timed out waiting for a lock: it ran `tries`
    /// times under its `lock_timeout` (the file's header, or
    /// `Config::ddl_lock_timeout`) and was rolled back (or stopped before
    /// anything ran) each time.
    LockRetriesExhausted {
        /// How many times the step ran.
        tries: u32,
        /// The step's `lock_timeout`, in milliseconds (at most a day).
        lock_timeout_ms: u32,
    },
}

/// Every error of the runtime.
///
/// Its `Display` names what to do next as calls of this library
/// (`Migrator::repair(…)`); [`Error::message`] with a [`Naming`] of a
/// binary names them as its command lines (`myapp migrate repair … --db …`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A configured identifier (version table, schema) is not acceptable. No SQL was sent.
    InvalidIdentifier {
        /// The setting (`version_table`, `version_table_schema`).
        setting: String,
        /// The rejected value (escaped).
        name: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A configuration that this backend cannot honour.
    Unsupported(String),

    /// The database is of a dialect the history does not declare (its
    /// `alembix.toml`). Refused before any statement was sent.
    UndeclaredDialect {
        /// The database's dialect (`sqlite`, `postgresql`, `mysql`).
        dialect: &'static str,
        /// The dialects the history declares, comma-separated.
        declared: String,
    },

    /// The migration set itself is invalid (folder mode: bad files or graph).
    History(Problems),

    /// No database was named: no URL, no `DATABASE_URL`, no default database.
    NoDatabase {
        /// The URL forms this binary accepts.
        accepted: String,
    },

    /// The database URL names no backend compiled into this binary.
    Url {
        /// The URL, password redacted.
        url: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// Connecting failed.
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's message, scrubbed of secrets.
        message: String,
    },

    /// A database error outside a migration's own SQL (bookkeeping, locking, reading).
    Database {
        /// What the runtime was doing.
        doing: String,
        /// The driver's message, scrubbed of secrets.
        message: String,
    },

    /// A statement of a migration failed.
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
        hint: Option<MigrationHint>,
        /// The run's report up to the failure: the steps that committed
        /// before this one (they stay applied; none for a whole-run
        /// transaction, which rolls them back too) and the version rows
        /// they left.
        partial: Box<Report>,
    },

    /// The migration lock could not be taken in time.
    LockTimeout {
        /// The lock (advisory key, lock name, SQLite lock file or write lock).
        lock: String,
        /// How long we waited.
        waited: Duration,
        /// Who holds it, as the server (or, for SQLite, the lock file) tells.
        holder: String,
    },

    /// Applied migrations whose text changed.
    Drift(Vec<Drift>),

    /// The database is at revisions the binary does not contain, which descend
    /// from the binary's heads: a newer binary migrated it.
    DatabaseAhead {
        /// The unknown revisions in the version table.
        unknown: Vec<String>,
    },

    /// The database is at revisions the binary does not contain that do not
    /// descend from its heads: the histories went different ways.
    DatabaseDiverged {
        /// The unknown revisions in the version table.
        unknown: Vec<String>,
        /// The newest revision both histories share, when the history table tells.
        fork: Option<String>,
    },

    /// The database is at revisions the binary does not contain and the history
    /// table does not say where they come from (e.g. written by Alembic).
    UnknownRevisions {
        /// The unknown revisions in the version table.
        unknown: Vec<String>,
    },

    /// A migration was left failed or in progress (non-transactional runs).
    Unfinished(Vec<Unfinished>),

    /// A target did not resolve, or the requested move is impossible (the
    /// planner's words, Alembic's messages).
    Plan(PlanError),

    /// A downgrade would revert a migration that has no downgrade section.
    Irreversible {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
    },

    /// The version table does not hold the rows a step expects (Alembic's
    /// "expected to match one row"): someone else changed it, or it is corrupt.
    VersionTable(String),

    /// An upgrade found a database diesel_migrations migrated, with an empty
    /// version table, and [`DieselTakeover::Explicit`](crate::DieselTakeover::Explicit):
    /// it refuses to run the history again until the database is adopted.
    DieselNotAdopted {
        /// How many versions diesel's table holds.
        diesel_versions: usize,
        /// The newest of them.
        newest: String,
        /// The version table's name.
        version_table: String,
    },

    /// `repair`, `resume` or `accept_edit` was called for a revision that
    /// has nothing of the kind, or with arguments that do not fit.
    Repair(String),

    /// No target schema is configured, the connection's default schema has
    /// no version table, but another schema has one of its name: the
    /// database's migrations ran there (Alembic with a `search_path`), and
    /// running them again in the default schema would build a second copy.
    /// Refused before anything was written.
    VersionTableElsewhere {
        /// The version table's name.
        version_table: String,
        /// Where it was looked for (the connection's default schema).
        looked_in: String,
        /// The schemas (PostgreSQL) or databases (MySQL/MariaDB) that have it.
        found_in: Vec<String>,
    },
}

impl Error {
    /// The message, naming what to run next as `naming` says: library calls
    /// (what `Display` shows), or a binary's or tool's command lines.
    ///
    /// ```
    /// use alembix_runtime::{Error, Naming};
    /// let error = Error::UnknownRevisions { unknown: vec!["ffffffffffff".into()] };
    /// assert!(error.to_string().contains("`Migrator::stamp(&mut db, &[\"REVISION\"], StampMode::Purge)`"));
    /// let text = error.message(&Naming::binary("myapp migrate", Some("sqlite://app.db")));
    /// assert!(text.contains("`myapp migrate stamp --purge REVISION --db sqlite://app.db`"));
    /// ```
    pub fn message(&self, naming: &Naming) -> String {
        Message(self, naming).to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Message(self, &Naming::library()).fmt(f)
    }
}

impl std::error::Error for Error {}

/// An error's message, named one way.
struct Message<'a>(&'a Error, &'a Naming);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let naming = self.1;
        match self.0 {
            Error::InvalidIdentifier {
                setting,
                name,
                reason,
            } => write!(f, "invalid {setting} {name:?}: {reason}; use a plain name such as `alembic_version` (letters, digits, _; at most 63 characters)"),
            Error::Unsupported(text) | Error::VersionTable(text) => f.write_str(text),
            Error::UndeclaredDialect { dialect, declared } => write!(f, "this history is written for {declared} (the dialects its alembix.toml declares); the database is {dialect}: nothing was run. Point the database URL at a database of a declared dialect; or, if the history should run on {dialect} too, add \"{dialect}\" to `dialects` in the migrations folder's alembix.toml (with a `-- migrate:upgrade {dialect}` variant where its SQL differs) and rebuild"),
            Error::History(problems) => write!(
                f,
                "the migration history is invalid:\n{}",
                naming.core_text(&problems.to_string())
            ),
            Error::NoDatabase { accepted } => write!(f, "no database given: pass a URL (--db), set DATABASE_URL, or give the migrations a default database; {accepted}"),
            Error::Url { url, reason } => write!(f, "cannot tell the database from {url}: {reason}"),
            Error::Connect { url, message } => write!(f, "cannot connect to {url}: {message}"),
            Error::Database { doing, message } => write!(f, "database error while {doing}: {message}{}", note(message)),
            Error::Migration {
                revision,
                file,
                direction,
                statement,
                statement_count,
                line,
                message,
                outcome,
                transaction,
                hint,
                partial,
            } => {
                write!(f, "{} of revision {revision} failed at statement {statement} of {statement_count} ({file}:{line}): {message}\n  ", direction_name(*direction))?;
                let failed = FailedStep {
                    revision,
                    statement: *statement,
                    statement_count: *statement_count,
                };
                f.write_str(&outcome_help(*outcome, *transaction, *hint, &failed, message, naming))?;
                f.write_str(&committed_note(&partial.steps))
            }
            Error::LockTimeout {
                lock,
                waited,
                holder,
            } => write!(f, "gave up after {waited:?} waiting for the migration lock ({lock}); it is held by {holder}. Another process is migrating this database: wait for it, or stop it if it hangs, then retry"),
            Error::Drift(drift) => {
                let revision = (drift.len() == 1).then(|| drift[0].revision.clone());
                write!(
                    f,
                    "{} applied migration(s) changed since they were applied: {}. An applied migration must not be edited: restore the original text, or write a new migration for the change. If the edit is deliberate and changes nothing the database has (a comment, formatting), accept it: {} (recorded with the reason in the history table)",
                    drift.len(),
                    join(drift),
                    naming.invite(&NextCommand::AcceptEdit { revision })
                )
            }
            Error::DatabaseAhead { unknown } => write!(f, "the database is ahead of this binary: it is at {} which this binary does not contain (they build on its head). Run the newer binary, or set `when_ahead: AheadPolicy::Allow` if this version is known to work with the newer schema", unknown.join(", ")),
            Error::DatabaseDiverged { unknown, fork } => write!(f, "the database has diverged from this binary: it is at {} which this binary does not contain and which do not build on its head{}. Find the binary (branch) that wrote them, downgrade the database with it, then run this one", unknown.join(", "), fork_note(fork)),
            Error::UnknownRevisions { unknown } => write!(
                f,
                "the database is at revision(s) {} which this binary does not contain, and its history table does not say what they build on. Run the binary that contains them; or, if you know which revision of this binary the schema matches, {} (a plain stamp keeps the unknown rows and is refused the same way)",
                unknown.join(", "),
                naming.invite(&NextCommand::Stamp { purge: true })
            ),
            Error::Unfinished(list) => {
                let revision = (list.len() == 1).then(|| list[0].revision.clone());
                write!(
                    f,
                    "the database needs a repair before anything else runs: {}. Fix what made the step fail, then {} to run the statements that did not run; or finish or undo them by hand, then {}",
                    join(list),
                    naming.invite(&NextCommand::Resume {
                        revision: revision.clone()
                    }),
                    naming.invite(&NextCommand::Repair {
                        revision,
                        action: None
                    })
                )
            }
            Error::Plan(error) => f.write_str(&naming.core_text(&error.to_string())),
            Error::Irreversible { revision, file } => write!(f, "revision {revision} ({file}) is irreversible (`-- migrate:irreversible`); it cannot be downgraded. Nothing was run"),
            Error::DieselNotAdopted {
                diesel_versions,
                newest,
                version_table,
            } => write!(
                f,
                "this database was migrated by diesel_migrations ({} holds {diesel_versions} version(s), the newest {newest}) and its version table '{version_table}' is empty: upgrading from the start would run those migrations again. Adopt it first: {}, or set `Config {{ diesel: DieselTakeover::OnUpgrade, .. }}` so that the first launch does; nothing was run",
                alembix_core::diesel_compat::DIESEL_TABLE,
                naming.invite(&NextCommand::AdoptDiesel)
            ),
            Error::Repair(text) => write!(f, "cannot repair: {text}"),
            Error::VersionTableElsewhere {
                version_table,
                looked_in,
                found_in,
            } => {
                let first = found_in.first().map_or("SCHEMA", String::as_str);
                let setting = format!("`Config {{ target_schema: Some(\"{first}\".into()), .. }}`");
                let fix = if naming.is_command_line() {
                    format!("run again with `--schema {first}` (or set {setting} in the program)")
                } else {
                    format!("set {setting}")
                };
                write!(
                    f,
                    "no version table '{version_table}' in {looked_in}, where this run looks without a target schema, but {} has one: this database's migrations ran there, and running them here would build the schema a second time. Nothing was run. To migrate it where it is, {fix}; to start a new history in {looked_in} on purpose, name it as the target schema",
                    match found_in.as_slice() {
                        [one] => format!("schema {one}"),
                        many => format!("each of the schemas {}", many.join(", ")),
                    }
                )
            }
        }
    }
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
pub(crate) fn is_lock_wait(message: &str) -> bool {
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

/// The failed step an [`Error::Migration`] names.
struct FailedStep<'a> {
    revision: &'a str,
    statement: usize,
    statement_count: usize,
}

fn outcome_help(
    outcome: FailureOutcome,
    transaction: TransactionMode,
    hint: Option<MigrationHint>,
    failed: &FailedStep<'_>,
    message: &str,
    naming: &Naming,
) -> String {
    let revision = Some(failed.revision.to_string());
    if let Some(MigrationHint::NeverStamped) = hint {
        let hint = format!(
            "the database already has what revision {} creates, but its version table is empty: its schema was made before this tool managed it. If it matches a revision of this history, record that with {} (no SQL runs), then run again",
            failed.revision,
            naming.command(&NextCommand::Stamp { purge: false })
        );
        return match outcome {
            FailureOutcome::RolledBack => {
                format!(
                    "the migration was rolled back; the database is as it was before it. {hint}"
                )
            }
            FailureOutcome::RecordedFailed => format!(
                "{hint} (its failed step is recorded: close it first with {})",
                naming.command(&NextCommand::Repair {
                    revision,
                    action: Some(RepairAction::RolledBack)
                })
            ),
        };
    }
    if let Some(MigrationHint::LockRetriesExhausted {
        tries,
        lock_timeout_ms,
    }) = hint
    {
        return format!(
            "each of its {tries} tries waited {} (its lock_timeout) for a lock that another session held, and was rolled back or stopped before anything ran: the database is as it was before it, and the history table has a `retried` row per try. Find the session that holds the lock (PostgreSQL: pg_locks and pg_stat_activity; MySQL/MariaDB: SHOW PROCESSLIST) and let it finish or stop it, then run again; or give the migration longer (`-- lock_timeout:` in its header, or Config::ddl_lock_timeout) or more tries (Config::lock_retries)",
            alembix_core::file::format_duration(Duration::from_millis(lock_timeout_ms.into()))
        );
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
            "the statements before the failing one stay applied ({}); the history table records revision {} as failed and launch will refuse until it is repaired: fix what made statement {} fail, then {} to run {}; or finish or undo the statements by hand, then {}",
            match transaction {
                TransactionMode::None => "the file is marked `-- transaction: none`, so its statements ran one by one outside a transaction",
                TransactionMode::PerMigration => "MySQL/MariaDB commit each DDL statement: no transaction can hold them",
            },
            failed.revision,
            failed.statement,
            naming.invite(&NextCommand::Resume { revision: revision.clone() }),
            if failed.statement == failed.statement_count {
                format!("statement {}", failed.statement)
            } else {
                format!("statements {} to {}", failed.statement, failed.statement_count)
            },
            naming.invite(&NextCommand::Repair { revision, action: None }),
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
