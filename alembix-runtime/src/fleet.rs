//! Fan-out: one operation over many databases, or many schemas of one
//! server, each target with its own version table and run lock
//! ([`Migrator::fleet`], the commands' `--targets`/`--schemas`).

use crate::backend::{Database, Name};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::ident::Identifier;
use crate::migrator::Migrator;
use crate::report::{CheckReport, Current, Report, StampMode};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One database of a fleet: a URL and, optionally, the schema (PostgreSQL)
/// or database (MySQL/MariaDB) in it that the migrations run in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The database URL (its password is never printed).
    pub url: String,
    /// The target schema; `None`: the program's configured one, else the
    /// connection's own.
    pub schema: Option<String>,
}

impl Target {
    /// A whole database.
    pub fn url(url: impl Into<String>) -> Target {
        Target {
            url: url.into(),
            schema: None,
        }
    }

    /// A schema (PostgreSQL) or database (MySQL/MariaDB) on the server `url` names.
    pub fn schema(url: impl Into<String>, schema: impl Into<String>) -> Target {
        Target {
            url: url.into(),
            schema: Some(schema.into()),
        }
    }
}

/// Reads a targets list: one target per line, a URL optionally followed by
/// whitespace and a schema name; blank lines and lines starting with `#` are
/// skipped. `source` names the list in errors (a file name, `stdin`).
pub fn read_targets(text: &str, source: &str) -> Result<Vec<Target>> {
    let mut targets = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(url), schema, None) = (words.next(), words.next(), words.next()) else {
            return Err(Error::Unsupported(format!(
                "{source}:{}: a target is a URL, optionally followed by one schema name; this line has more words",
                n + 1
            )));
        };
        if Dialect::of_url(url).is_none() {
            return Err(Error::Unsupported(format!(
                "{source}:{}: `{}` is not a database URL (sqlite://FILE, postgres://USER@HOST/DB, mysql://USER@HOST/DB)",
                n + 1,
                crate::redact::redact_url(url)
            )));
        }
        targets.push(Target {
            url: url.to_string(),
            schema: schema.map(str::to_string),
        });
    }
    Ok(targets)
}

/// Which schemas (PostgreSQL) or databases (MySQL/MariaDB) of a server make
/// up a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSelector<'a> {
    /// The names matching a SQL `LIKE` pattern (`tenant_%`), system schemas
    /// excluded, in name order.
    Like(&'a str),
    /// The names a query returns in a column called `name`, in its order
    /// (`SELECT schema_name AS name FROM tenants WHERE active`).
    Query(&'a str),
}

/// Lists the schemas `selector` names on `db`'s server. Names are returned as
/// found; each is validated as an identifier when its target runs.
pub fn list_schemas(db: &mut Database, selector: &SchemaSelector<'_>) -> Result<Vec<String>> {
    let dialect = db.dialect();
    let sql = match (selector, dialect) {
        (_, Dialect::Sqlite) => {
            return Err(Error::Unsupported(
                "SQLite has no schemas to list (one file is one database): list the files' URLs in a targets file instead".to_string(),
            ))
        }
        (SchemaSelector::Like(pattern), Dialect::Postgres) => format!(
            "SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname LIKE {} AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname",
            dialect.literal(pattern)
        ),
        (SchemaSelector::Like(pattern), Dialect::Mysql) => format!(
            "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE {} AND SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY SCHEMA_NAME",
            dialect.literal(pattern)
        ),
        (SchemaSelector::Query(query), _) => query.trim().trim_end_matches(';').to_string(),
    };
    let rows: Vec<Name> = db.load(&sql).map_err(|message| {
        let hint = match selector {
            SchemaSelector::Query(_) => {
                " (the query must return the names in a column called `name`)"
            }
            SchemaSelector::Like(_) => "",
        };
        db.fail("listing the fleet's schemas", format!("{message}{hint}"))
    })?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// What a fleet run does on each target.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum FleetCommand<'a> {
    /// [`Migrator::upgrade`] to this target (`heads`, `<rev>`, `+1`, …).
    Upgrade(&'a str),
    /// [`Migrator::downgrade`] to this target.
    Downgrade(&'a str),
    /// [`Migrator::stamp`] these targets.
    Stamp(&'a [&'a str], StampMode),
    /// [`Migrator::current`].
    Current,
    /// [`Migrator::check`].
    Check,
}

/// How a fleet run proceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetOptions {
    /// Targets under way at once, each with its own connection (at least 1).
    pub jobs: usize,
    /// The first `canary` targets run alone first, one at a time; a failure
    /// among them stops the run.
    pub canary: usize,
    /// Go on past failed targets (otherwise the first failure stops the run).
    pub keep_going: bool,
}

impl Default for FleetOptions {
    /// Four jobs, no canary, stop at the first failure.
    fn default() -> Self {
        FleetOptions {
            jobs: 4,
            canary: 0,
            keep_going: false,
        }
    }
}

/// What happened on one target.
#[derive(Debug)]
#[non_exhaustive]
pub enum TargetOutcome {
    /// `upgrade`, `downgrade` or `stamp` ran (perhaps with nothing to do).
    Ran(Report),
    /// `current`'s answer.
    Current(Current),
    /// `check`'s answer (a finding is not a failure).
    Checked(CheckReport),
    /// The operation failed on this target; nothing it did not commit stays.
    Failed(Error),
    /// Not started: an earlier failure stopped the run.
    NotRun,
}

impl TargetOutcome {
    /// `ok`, `failed` or `not-run`.
    pub fn word(&self) -> &'static str {
        match self {
            TargetOutcome::Ran(_) | TargetOutcome::Current(_) | TargetOutcome::Checked(_) => "ok",
            TargetOutcome::Failed(_) => "failed",
            TargetOutcome::NotRun => "not-run",
        }
    }
}

/// One target's result.
#[derive(Debug)]
#[non_exhaustive]
pub struct TargetResult {
    /// Its position in the targets list.
    pub index: usize,
    /// The target.
    pub target: Target,
    /// What happened.
    pub outcome: TargetOutcome,
    /// From its start (connecting included) to its end; zero if not run.
    pub duration: Duration,
}

/// A whole fleet run.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetReport {
    /// One result per target, in the targets' order.
    pub results: Vec<TargetResult>,
    /// The whole run.
    pub duration: Duration,
}

impl FleetReport {
    /// Targets whose operation failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, TargetOutcome::Failed(_)))
    }

    /// Targets not started because a failure stopped the run.
    pub fn not_run(&self) -> usize {
        self.count(|o| matches!(o, TargetOutcome::NotRun))
    }

    /// Targets where the operation succeeded.
    pub fn succeeded(&self) -> usize {
        self.results.len() - self.failed() - self.not_run()
    }

    fn count(&self, f: impl Fn(&TargetOutcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// A worker's connection, kept from one target to the next on the same URL.
struct Session {
    url: String,
    db: Database<'static>,
}

impl Migrator {
    /// Runs `command` on every target: many databases, or many schemas of one
    /// server (a schema or a database per tenant), each with its own version
    /// table and its own run lock, at most `options.jobs` at once. `on_result`
    /// is called from the worker threads as each target ends (not for targets
    /// left [`TargetOutcome::NotRun`]).
    ///
    /// ```no_run
    /// # fn main() -> alembix_runtime::Result<()> {
    /// use alembix_runtime::{Database, FleetCommand, FleetOptions, Migrator, SchemaSelector, Target};
    ///
    /// # let migrator: Migrator = unimplemented!();
    /// let url = "postgres://app@db.internal/app";
    /// let mut db = Database::connect(url)?;
    /// let schemas = alembix_runtime::list_schemas(&mut db, &SchemaSelector::Like("tenant_%"))?;
    /// let targets: Vec<Target> = schemas.into_iter().map(|s| Target::schema(url, s)).collect();
    /// let options = FleetOptions { jobs: 8, canary: 1, ..FleetOptions::default() };
    /// let report = migrator.fleet(&targets, &FleetCommand::Upgrade("heads"), &options, &|done| {
    ///     eprintln!("{}: {}", done.target.schema.as_deref().unwrap_or("-"), done.outcome.word());
    /// });
    /// assert_eq!(report.failed(), 0);
    /// # Ok(()) }
    /// ```
    ///
    /// Rules, the same from the library and from the commands (`upgrade heads
    /// --schemas 'tenant_%' --jobs 8`):
    ///
    /// - Targets run in the order given, at most [`FleetOptions::jobs`] at once;
    ///   a worker keeps its connection from one target to the next on the same
    ///   URL (the session is pointed at each target's schema in turn) and opens
    ///   a new one after a target failed.
    /// - [`FleetOptions::canary`]: the first K targets run first, one at a time;
    ///   if one of them fails, no other target is started.
    /// - Without [`FleetOptions::keep_going`], the first failure stops the run:
    ///   targets under way finish, no new one starts, the rest are
    ///   [`TargetOutcome::NotRun`]. With it, every target is tried.
    /// - A failure is an error of the operation on that target (it could not
    ///   connect, a migration failed, the database has drift, …). For
    ///   [`FleetCommand::Check`] a finding (pending migrations, drift) is the
    ///   target's report, not a failure; a target that cannot be checked is one.
    /// - Rerunning after a failure redoes nothing already done: every target
    ///   that finished is at the target revision, and `upgrade` from there has
    ///   nothing to do (one read, no lock: the launch's fast path).
    pub fn fleet(
        &self,
        targets: &[Target],
        command: &FleetCommand<'_>,
        options: &FleetOptions,
        on_result: &(dyn Fn(&TargetResult) + Sync),
    ) -> FleetReport {
        let started = Instant::now();
        let slots: Vec<Mutex<Option<TargetResult>>> =
            targets.iter().map(|_| Mutex::new(None)).collect();
        let canary = options.canary.min(targets.len());
        // Set by a failure the run stops at: no target starts after it.
        let stopped = AtomicBool::new(false);
        // The canaries alone, one at a time, stopping at a failure; then the rest.
        let phases = [
            (0, canary, 1, false),
            (
                canary,
                targets.len(),
                options.jobs.max(1),
                options.keep_going,
            ),
        ];
        for (start, end, jobs, keep_going) in phases {
            let next = AtomicUsize::new(start);
            let take = || {
                let i = next.fetch_add(1, Ordering::SeqCst);
                (i < end && !stopped.load(Ordering::SeqCst)).then_some(i)
            };
            std::thread::scope(|scope| {
                for _ in 0..jobs.min(end.saturating_sub(start)) {
                    scope.spawn(|| {
                        let mut session: Option<Session> = None;
                        while let Some(i) = take() {
                            let result = self.run_target(i, &targets[i], command, &mut session);
                            on_result(&result);
                            if matches!(result.outcome, TargetOutcome::Failed(_)) && !keep_going {
                                stopped.store(true, Ordering::SeqCst);
                            }
                            if let Ok(mut slot) = slots[i].lock() {
                                *slot = Some(result);
                            }
                        }
                    });
                }
            });
        }
        let results = slots
            .into_iter()
            .zip(targets)
            .enumerate()
            .map(|(index, (slot, target))| {
                slot.into_inner().ok().flatten().unwrap_or(TargetResult {
                    index,
                    target: target.clone(),
                    outcome: TargetOutcome::NotRun,
                    duration: Duration::ZERO,
                })
            })
            .collect();
        FleetReport {
            results,
            duration: started.elapsed(),
        }
    }

    fn run_target(
        &self,
        index: usize,
        target: &Target,
        command: &FleetCommand<'_>,
        session: &mut Option<Session>,
    ) -> TargetResult {
        let started = Instant::now();
        let outcome = match self.on_target(target, command, session) {
            Ok(outcome) => outcome,
            Err(error) => {
                // The session's state is unknown after a failure: the next
                // target gets a new connection.
                *session = None;
                TargetOutcome::Failed(error)
            }
        };
        TargetResult {
            index,
            target: target.clone(),
            outcome,
            duration: started.elapsed(),
        }
    }

    fn on_target(
        &self,
        target: &Target,
        command: &FleetCommand<'_>,
        session: &mut Option<Session>,
    ) -> Result<TargetOutcome> {
        let migrator;
        let m = match &target.schema {
            Some(schema) => {
                Identifier::new(schema, "target schema")?;
                migrator = self.for_schema(Some(schema))?;
                &migrator
            }
            None => self,
        };
        if let Some(dialect) = Dialect::of_url(&target.url) {
            m.check_dialect(dialect)?;
        }
        if session.as_ref().is_none_or(|s| s.url != target.url) {
            *session = None;
            *session = Some(Session {
                url: target.url.clone(),
                db: Database::connect(&target.url)?,
            });
        }
        let Some(Session { db, .. }) = session.as_mut() else {
            unreachable!("a session was just opened")
        };
        Ok(match command {
            FleetCommand::Upgrade(to) => TargetOutcome::Ran(m.upgrade(db, to)?),
            FleetCommand::Downgrade(to) => TargetOutcome::Ran(m.downgrade(db, to)?),
            FleetCommand::Stamp(to, mode) => TargetOutcome::Ran(m.stamp(db, to, *mode)?),
            FleetCommand::Current => TargetOutcome::Current(m.current(db)?),
            FleetCommand::Check => TargetOutcome::Checked(m.check(db)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_targets_file_reads_urls_and_schemas() {
        let text = "# tenants\npostgres://app@db/app tenant_a\n\n  mysql://root@db/t2  \nsqlite://one.db\n";
        let targets = read_targets(text, "targets.txt").unwrap_or_default();
        assert_eq!(
            targets,
            vec![
                Target::schema("postgres://app@db/app", "tenant_a"),
                Target::url("mysql://root@db/t2"),
                Target::url("sqlite://one.db"),
            ]
        );
    }

    #[test]
    fn a_bad_targets_line_is_named_and_its_password_hidden() {
        let err = read_targets("sqlite://a.db\npostgres://u:secret@h/db a b\n", "t.txt")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("t.txt:2"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let err = read_targets("ftp://u:secret@h/x\n", "t.txt")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("t.txt:1") && !err.contains("secret"), "{err}");
    }
}
