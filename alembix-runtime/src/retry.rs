//! DDL that waits politely: a migration's `lock_timeout` and
//! `statement_timeout` (its header, else [`Config`](crate::Config)), and the
//! retries of a step whose statement timed out waiting for a lock: rolled
//! back (or stopped before anything ran), recorded as a `retried` history
//! row, run again after a pause that doubles, up to
//! [`Config::lock_retries`](crate::Config::lock_retries) times.
//!
//! A step is retried only when nothing of it stays applied: a transactional
//! step (PostgreSQL, whose DDL rolls back), or a step outside a transaction
//! (MySQL/MariaDB, `-- transaction: none`) whose first statement is the one
//! that timed out.

use super::Migrator;
use crate::backend::Database;
use crate::config::MAX_LOCK_RETRY_BACKOFF;
use crate::dialect::{operation, state, Dialect, Sql};
use crate::error::{is_lock_wait, Direction, Error, FailureOutcome, MigrationHint, Result};
use crate::planning::PlannedStep;
use crate::report::StepReport;
use crate::version_table::{self, DbState};
use alembix_core::file::format_duration;
use alembix_core::{MigrationFile, RevIdx, Timeouts};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

impl Migrator {
    /// The timeouts of `file`'s statements on `dialect`: its header's, else
    /// the configuration's; none on SQLite, which has neither.
    pub(crate) fn step_timeouts(&self, file: &MigrationFile, dialect: Dialect) -> Timeouts {
        if dialect == Dialect::Sqlite {
            return Timeouts::default();
        }
        Timeouts {
            lock: file.timeouts.lock.or(self.config.ddl_lock_timeout),
            statement: file.timeouts.statement.or(self.config.statement_timeout),
        }
    }

    /// Runs one step of a per-migration run ([`Migrator::run_step`]); when
    /// it timed out waiting for a lock under its `lock_timeout` with nothing
    /// left applied, records the try and runs it again after a pause, up to
    /// `Config::lock_retries` more times. `Ok(None)`: re-plan.
    pub(super) fn run_step_retrying(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        rows: &mut Vec<String>,
        tables_ready: &mut bool,
    ) -> Result<Option<StepReport>> {
        let file = self.set()?.file(idx);
        let lock_timeout = self.step_timeouts(file, sql.dialect).lock;
        let transactional = sql.dialect.transactional_ddl()
            && file.transaction == alembix_core::TransactionMode::PerMigration;
        let mut tries = 0u32;
        loop {
            tries = tries.saturating_add(1);
            let started = Instant::now();
            let error = match self.run_step(db, sql, step, idx, rows, tables_ready) {
                Err(error) => error,
                done => return done,
            };
            let Some(lock_timeout) = lock_timeout else {
                return Err(error);
            };
            let Some(message) = timed_out_with_nothing_applied(&error, transactional) else {
                return Err(error);
            };
            let gave_up = tries > self.config.lock_retries;
            if transactional {
                // A step outside a transaction closed its own claim `retried`.
                self.record_try(
                    db,
                    sql,
                    step,
                    idx,
                    tables_ready,
                    tries,
                    &message,
                    started,
                    gave_up,
                )?;
            }
            if gave_up {
                return Err(exhausted(error, tries, lock_timeout));
            }
            let pause = backoff(self.config.lock_retry_backoff, tries);
            tracing::warn!(
                revision = %file.revision,
                tries,
                lock_timeout = %format_duration(lock_timeout),
                ?pause,
                "the migration timed out waiting for a lock; rolled back, trying again"
            );
            std::thread::sleep(pause);
        }
    }

    /// Writes the `retried` history row of a transactional step's try that
    /// timed out, in its own transaction (the step's was rolled back, the
    /// tables with it when it was to create them: they are created first).
    #[allow(clippy::too_many_arguments)]
    fn record_try(
        &self,
        db: &mut Database,
        sql: &Sql,
        step: &PlannedStep,
        idx: RevIdx,
        tables_ready: &mut bool,
        tries: u32,
        message: &str,
        started: Instant,
        gave_up: bool,
    ) -> Result<()> {
        if !*tables_ready {
            self.create_tables(db, sql, &DbState::default())?;
            *tables_ready = true;
            version_table::log_created(sql);
        }
        let file = self.set()?.file(idx);
        let total = Self::statements(file, step.direction, sql.dialect).len();
        let op = match step.direction {
            Direction::Upgrade => operation::UPGRADE,
            Direction::Downgrade => operation::DOWNGRADE,
        };
        let detail = format!(
            "try {tries}: {message} ({})",
            if gave_up {
                "gave up: no tries left"
            } else {
                "rolled back; trying again"
            }
        );
        let insert = self.history_insert(
            idx,
            sql.dialect.sql_dialect(),
            op,
            state::RETRIED,
            0,
            total,
            Some(started.elapsed().as_millis()),
            Some(detail),
        )?;
        db.batch_or(
            &sql.insert_history(&insert.borrow()),
            "recording a try that timed out waiting for a lock in the history table",
        )
    }

    /// Sets `file`'s timeouts for the session before a step outside a
    /// transaction runs; `Err` before anything ran when the server refuses
    /// one (MySQL has no bound on DDL statements).
    pub(super) fn enter_step_timeouts(
        &self,
        db: &mut Database,
        sql: &Sql,
        file: &MigrationFile,
        timeouts: Timeouts,
    ) -> Result<()> {
        for statement in sql.dialect.set_timeouts(timeouts, false) {
            if let Err(message) = db.batch(&statement) {
                let refused = if statement.contains("max_statement_time") {
                    format!(
                        "revision {} ({}) has a statement_timeout ({}), which this server cannot apply ({message}): MySQL bounds only read-only SELECTs (max_execution_time), not DDL; MariaDB's max_statement_time bounds any statement. Nothing ran; remove `-- statement_timeout:` from the file (or Config::statement_timeout) for this database",
                        file.revision,
                        file.file,
                        timeouts.statement.map(format_duration).unwrap_or_default()
                    )
                } else {
                    format!(
                        "setting the timeouts of revision {} ({}) with `{statement}` failed: {message}; nothing ran",
                        file.revision, file.file
                    )
                };
                self.leave_step_timeouts(db, sql, timeouts);
                return Err(Error::Unsupported(refused));
            }
        }
        Ok(())
    }

    /// Gives the session its own timeouts back after a step outside a
    /// transaction (the lock waits back to `Config::lock_timeout`).
    pub(super) fn leave_step_timeouts(&self, db: &mut Database, sql: &Sql, timeouts: Timeouts) {
        for statement in sql
            .dialect
            .reset_timeouts(timeouts, Some(self.config.lock_timeout), false)
        {
            if let Err(message) = db.batch(&statement) {
                tracing::warn!(%message, statement, "could not reset a migration's timeout");
            }
        }
    }
}

/// The driver's message when `error` is a lock wait that left nothing of
/// the step applied: any failure of a transactional step (rolled back),
/// or the first statement of a step outside a transaction (its claim then
/// closed `retried`).
fn timed_out_with_nothing_applied(error: &Error, transactional: bool) -> Option<String> {
    match error {
        Error::Migration {
            message,
            outcome: FailureOutcome::RolledBack,
            statement,
            ..
        } if is_lock_wait(message) && (transactional || *statement == 1) => Some(message.clone()),
        Error::Database { message, .. } if transactional && is_lock_wait(message) => {
            Some(message.clone())
        }
        _ => None,
    }
}

/// The error of a step whose every try timed out: it names the timeout and
/// the tries, and says what to do.
fn exhausted(mut error: Error, tries: u32, lock_timeout: Duration) -> Error {
    match &mut error {
        Error::Migration { hint, .. } => {
            *hint = Some(MigrationHint::LockRetriesExhausted {
                tries,
                lock_timeout_ms: u32::try_from(lock_timeout.as_millis()).unwrap_or(u32::MAX),
            });
        }
        Error::Database { doing, .. } => {
            doing.push_str(&format!(
                " (each of {tries} tries timed out waiting {} for a lock and was rolled back; find the session that holds it, or give the migration a longer lock_timeout or more lock_retries)",
                format_duration(lock_timeout)
            ));
        }
        _ => {}
    }
    error
}

/// The pause before try `tries + 1`: `first` doubled for each try after the
/// first, at most [`MAX_LOCK_RETRY_BACKOFF`], plus up to a quarter more at
/// random.
pub(crate) fn backoff(first: Duration, tries: u32) -> Duration {
    let doubled = first.saturating_mul(1u32 << tries.saturating_sub(1).min(20));
    let base = doubled.min(MAX_LOCK_RETRY_BACKOFF);
    let quarter = u64::try_from(base.as_millis() / 4).unwrap_or(0);
    let jitter = if quarter == 0 {
        0
    } else {
        RandomState::new().build_hasher().finish() % (quarter + 1)
    };
    base + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_the_cap_with_a_quarter_of_jitter() {
        let first = Duration::from_millis(100);
        for (tries, base) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (8, 10_000),
            (40, 10_000),
        ] {
            let pause = backoff(first, tries).as_millis();
            assert!(
                (base..=base + base / 4).contains(&pause),
                "try {tries}: {pause} ms"
            );
        }
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
    }
}
