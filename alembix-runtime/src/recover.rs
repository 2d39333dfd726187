//! The audited ways out of a launch refusal that a person decides on:
//! [`Migrator::resume`] runs the statements of a failed step outside a
//! transaction that did not run, once the cause is fixed, and
//! [`Migrator::accept_edit`] accepts a deliberate edit of an applied
//! migration (a comment, formatting). Each writes its own history row
//! (`resume`, `accept`) with the reason given; [`Migrator::repair`], which
//! records what a person did by hand, is beside the run code in `migrator.rs`.

use super::{count, Claim, Migrator};
use crate::assess::assess;
use crate::backend::Database;
use crate::dialect::{operation, state, Sql};
use crate::error::{direction_name, Direction, Error, Result};
use crate::planning;
use crate::report::{AcceptedEdit, Report, StepReport};
use crate::version_table::{self, DbState, Latest};
use alembix_core::{MigrationFile, MigrationSet, RevIdx, TransactionMode};
use std::time::{Duration, Instant};

impl Migrator {
    /// Finishes a step left `failed` or `in_progress` outside a transaction
    /// (MySQL/MariaDB, or a `-- transaction: none` migration), once a person
    /// fixed what made it fail: runs its statements after the ones the
    /// history table records as done (statements k+1…n), recording progress
    /// after each as a run does, then its version-table change. The history
    /// table gets a `resume` row, with `reason`, that ends `applied` (or
    /// `reverted` for a downgrade), or `failed` again with the new count.
    ///
    /// Refused, with nothing run, when the revision's latest history row is
    /// not unfinished, when the migration runs in a transaction here (a
    /// failed run of it left nothing behind to finish), and when the file
    /// changed since the step ran (its checksum, or its statement count):
    /// statement k+1 of the file would no longer be the one that did not run.
    ///
    /// A step left `in_progress` was cut off by a process that died: its
    /// statement k+1 may or may not have run. Check before resuming.
    pub fn resume(&self, db: &mut Database, revision: &str, reason: &str) -> Result<Report> {
        let idx = self.repair_target(revision, reason)?;
        self.under_lock(db, |db, sql| self.resume_locked(db, sql, idx, reason))
    }

    /// Accepts a deliberate edit of an applied migration's text that
    /// changes nothing the database has (a comment, formatting): records the
    /// file's checksum as the revision's applied one, so that launches stop
    /// refusing the drift. The history table gets an `accept` row whose
    /// `detail` holds the checksum it was applied with, the new one and
    /// `reason`; [`Migrator::check`] and [`Migrator::current`] list it
    /// ([`AcceptedEdit`]). No SQL of the migration runs: an edit that
    /// changes the schema needs a new migration instead.
    ///
    /// Refused when the revision has no drift.
    pub fn accept_edit(&self, db: &mut Database, revision: &str, reason: &str) -> Result<Report> {
        let idx = self.repair_target(revision, reason)?;
        self.under_lock(db, |db, sql| self.accept_locked(db, sql, idx, reason))
    }

    /// The direction of the step an unfinished history row leaves open: the
    /// row's own operation, or for a resumption the direction of the step
    /// it resumed (the revision's newest `upgrade` or `downgrade` row).
    pub(super) fn unfinished_direction(
        &self,
        db: &mut Database,
        sql: &Sql,
        revision: &str,
        latest: &Latest,
    ) -> Result<Direction> {
        let of = |op: &str| match op {
            operation::UPGRADE => Some(Direction::Upgrade),
            operation::DOWNGRADE => Some(Direction::Downgrade),
            _ => None,
        };
        if let Some(direction) = of(&latest.operation) {
            return Ok(direction);
        }
        version_table::read_history(db, sql)?
            .iter()
            .rev()
            .filter(|h| h.revision == revision)
            .find_map(|h| of(&h.operation))
            .ok_or_else(|| {
                Error::Repair(format!(
                    "the history table has no upgrade or downgrade row of revision {revision}, so the step its `{}` row leaves unfinished is unknown",
                    latest.operation
                ))
            })
    }

    fn resume_locked(
        &self,
        db: &mut Database,
        sql: &Sql,
        idx: RevIdx,
        reason: &str,
    ) -> Result<Report> {
        let state = version_table::read_state(db, sql)?;
        let set = self.set()?;
        let file = set.file(idx);
        let latest = match state.latest.get(&file.revision) {
            Some(l) if l.is_unfinished() => l.clone(),
            Some(l) => {
                return Err(Error::Repair(format!(
                    "revision {} has nothing to resume: its latest history row says `{}`",
                    file.revision, l.state
                )))
            }
            None => {
                return Err(Error::Repair(format!(
                    "revision {} has no history row; there is nothing to resume",
                    file.revision
                )))
            }
        };
        if sql.dialect.transactional_ddl() && file.transaction == TransactionMode::PerMigration {
            return Err(Error::Repair(format!(
                "revision {} ({}) runs in a transaction on {}: a failed run of it is rolled back and leaves nothing to resume. Record that with `repair {} --rolled-back`, then run it again",
                file.revision,
                file.file,
                sql.dialect.name(),
                file.revision
            )));
        }
        let checksum = file.checksum(sql.dialect.sql_dialect());
        if latest.checksum != checksum.as_str() {
            return Err(Error::Repair(format!(
                "revision {} ({}) changed since its step ran: the step ran with {}, the file now has {}. The {} statement(s) that ran may not be the file's first ones any more, so resuming could skip or repeat one: restore the text it ran with and resume, or finish the step by hand and record it with `repair {} --completed`",
                file.revision,
                file.file,
                latest.checksum,
                checksum.as_str(),
                latest.statements_done,
                file.revision
            )));
        }
        let direction = self.unfinished_direction(db, sql, &file.revision, &latest)?;
        let statements = Self::statements(file, direction, sql.dialect);
        let done = usize::try_from(latest.statements_done).unwrap_or(0);
        let total = usize::try_from(latest.statements_total).unwrap_or(0);
        if total != statements.len() || done > total {
            return Err(Error::Repair(format!(
                "the {} of revision {} ({}) recorded {done} of {total} statements, but its {} section has {} statement(s) here: the file changed since the step ran. Finish the step by hand and record it with `repair {} --completed`",
                direction_name(direction),
                file.revision,
                file.file,
                direction_name(direction),
                statements.len(),
                file.revision
            )));
        }
        let rows: Vec<&str> = state.rows.iter().map(String::as_str).collect();
        let step = planning::single_step(set.graph(), &rows, idx, direction);
        let others_unfinished = state
            .latest
            .iter()
            .any(|(r, l)| r != &file.revision && l.is_unfinished());
        let vouch = !others_unfinished
            && assess(set, &state, sql.dialect.sql_dialect())
                .drift
                .is_empty();
        let note = format!(
            "resumed at statement {} of {total}: {reason}",
            (done + 1).min(total)
        );
        let started = Instant::now();
        let claim = self.history_insert(
            idx,
            sql.dialect.sql_dialect(),
            operation::RESUME,
            state::IN_PROGRESS,
            done,
            total,
            None,
            Some(note.clone()),
        )?;
        db.batch_or(
            &sql.insert_history(&claim.borrow()),
            "recording the resumption as in progress",
        )?;
        let claim_id = count(db, &sql.select_claim_id(&file.revision))?;
        let mut rows_after = state.rows.clone();
        let claim = Claim {
            id: claim_id,
            from: done,
            started,
            note: Some(&note),
            vouch,
            retry_on_lock: false,
        };
        let step_report = self.run_claimed(db, sql, &step, idx, &mut rows_after, &claim)?;
        tracing::warn!(revision = %file.revision, done, total, reason, "resumed a failed step");
        Ok(Report {
            steps: vec![step_report],
            rows_before: state.rows,
            rows_after,
            duration: Duration::ZERO,
            adopted: Vec::new(),
        })
    }

    fn accept_locked(
        &self,
        db: &mut Database,
        sql: &Sql,
        idx: RevIdx,
        reason: &str,
    ) -> Result<Report> {
        let state = version_table::read_state(db, sql)?;
        let set = self.set()?;
        let file = set.file(idx);
        let found = assess(set, &state, sql.dialect.sql_dialect());
        let Some(drift) = found.drift.iter().find(|d| d.revision == file.revision) else {
            return Err(Error::Repair(no_drift(set, &state, idx)));
        };
        let Some(latest) = state.latest.get(&file.revision) else {
            return Err(Error::Repair(no_drift(set, &state, idx)));
        };
        let kept_state = if latest.state == state::STAMPED {
            state::STAMPED
        } else {
            state::APPLIED
        };
        let mut insert = self.history_insert(
            idx,
            sql.dialect.sql_dialect(),
            operation::ACCEPT,
            kept_state,
            usize::try_from(latest.statements_done).unwrap_or(0),
            usize::try_from(latest.statements_total).unwrap_or(0),
            Some(0),
            Some(accepted_detail(&drift.recorded, &drift.current, reason)),
        )?;
        if found.unfinished.is_empty() && found.drift.len() == 1 {
            insert.applied_digest = self.digest_of(&state.rows, sql.dialect.sql_dialect());
        }
        self.begin(db, sql)?;
        let result = db.batch_or(
            &sql.insert_history(&insert.borrow()),
            "recording the accepted edit in the history table",
        );
        self.finish(db, result)?;
        tracing::warn!(revision = %file.revision, recorded = %drift.recorded, current = %drift.current, reason, "accepted an edit of an applied migration");
        Ok(Report {
            steps: vec![StepReport {
                revision: Some(file.revision.clone()),
                file: Some(file.file.clone()),
                direction: Direction::Upgrade,
                stamp: true,
                statements: 0,
                removed: Vec::new(),
                added: Vec::new(),
                duration: Duration::ZERO,
            }],
            rows_before: state.rows.clone(),
            rows_after: state.rows,
            duration: Duration::ZERO,
            adopted: Vec::new(),
        })
    }
}

/// Why revision `idx` has no drift to accept.
fn no_drift(set: &MigrationSet, state: &DbState, idx: RevIdx) -> String {
    let file: &MigrationFile = set.file(idx);
    let graph = set.graph();
    let known: Vec<RevIdx> = state
        .rows
        .iter()
        .filter_map(|r| graph.index_of(r))
        .collect();
    let applied = graph.ancestor_mask(&known, true)[idx];
    let revision = &file.revision;
    match state.latest.get(revision) {
        _ if !applied => format!(
            "revision {revision} is not applied to this database; there is no applied text to differ from, nothing to accept"
        ),
        None => format!(
            "revision {revision} has no history row; there is no recorded checksum to differ from, nothing to accept"
        ),
        Some(l) if l.is_unfinished() => format!(
            "revision {revision}'s step is left {}: close it with `repair` first",
            l.state.replace('_', " ")
        ),
        Some(l) => format!(
            "revision {revision} ({}) has no drift: it was applied with {}, which is the file's checksum; nothing to accept",
            file.file,
            if l.checksum.is_empty() {
                "no recorded checksum"
            } else {
                &l.checksum
            }
        ),
    }
}

const ACCEPTED: &str = "edit accepted: ";
const REASON: &str = "; reason: ";

/// The `detail` of an `accept` history row.
fn accepted_detail(recorded: &str, current: &str, reason: &str) -> String {
    format!("{ACCEPTED}{recorded} -> {current}{REASON}{reason}")
}

/// The edits accepted on the applied revisions: those whose latest history
/// row is an `accept` row, in load order.
pub(crate) fn accepted_edits(set: &MigrationSet, state: &DbState) -> Vec<AcceptedEdit> {
    let graph = set.graph();
    let known: Vec<RevIdx> = state
        .rows
        .iter()
        .filter_map(|r| graph.index_of(r))
        .collect();
    graph
        .ancestor_mask(&known, true)
        .into_iter()
        .enumerate()
        .filter(|(_, applied)| *applied)
        .filter_map(|(i, _)| {
            let file = set.file(i);
            let latest = state.latest.get(&file.revision)?;
            if latest.operation != operation::ACCEPT {
                return None;
            }
            let (applied_with, accepted, reason) = parse_accepted(latest.detail.as_deref()?)?;
            Some(AcceptedEdit {
                revision: file.revision.clone(),
                file: file.file.clone(),
                applied_with,
                accepted,
                reason,
            })
        })
        .collect()
}

/// The checksums and reason of an `accept` row's `detail`.
fn parse_accepted(detail: &str) -> Option<(String, String, String)> {
    let rest = detail.strip_prefix(ACCEPTED)?;
    let (recorded, rest) = rest.split_once(" -> ")?;
    let (current, reason) = rest.split_once(REASON)?;
    Some((
        recorded.to_string(),
        current.to_string(),
        reason.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accept_detail_reads_back() {
        let detail = accepted_detail("sha256:aa", "sha256:bb", "typo in a comment; -> fixed");
        assert_eq!(
            detail,
            "edit accepted: sha256:aa -> sha256:bb; reason: typo in a comment; -> fixed"
        );
        assert_eq!(
            parse_accepted(&detail),
            Some((
                "sha256:aa".to_string(),
                "sha256:bb".to_string(),
                "typo in a comment; -> fixed".to_string()
            ))
        );
        assert_eq!(parse_accepted("repaired by hand"), None);
    }
}
