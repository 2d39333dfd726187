//! What the operations of a [`Migrator`](crate::Migrator) return.

use crate::error::{Direction, Drift, Unfinished};
use std::time::Duration;

/// One step a run executed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepReport {
    /// The revision whose SQL ran (or that was stamped); `None` for a stamp
    /// step that only removed rows (`stamp base`).
    pub revision: Option<String>,
    /// Its file.
    pub file: Option<String>,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// Whether only the version table changed (`stamp`).
    pub stamp: bool,
    /// Statements run.
    pub statements: usize,
    /// Version rows removed by the step.
    pub removed: Vec<String>,
    /// Version rows added by the step.
    pub added: Vec<String>,
    /// Wall time of the step, bookkeeping and commit included.
    pub duration: Duration,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The steps, in the order they ran.
    pub steps: Vec<StepReport>,
    /// The version rows before the run.
    pub rows_before: Vec<String>,
    /// The version rows after the run.
    pub rows_after: Vec<String>,
    /// Wall time of the whole run, waiting for the lock included.
    pub duration: Duration,
    /// Revisions this run recorded as applied without running them: the
    /// version rows imply them, and another tool (Alembic, diesel_migrations)
    /// applied them (see the takeover docs).
    pub adopted: Vec<String>,
}

impl Report {
    /// Whether the run changed nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The revisions run, in order.
    pub fn revisions(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| s.revision.as_deref())
            .collect()
    }
}

/// `current`: what the version table says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Current {
    /// The version rows as stored (one per head of the database).
    pub rows: Vec<String>,
    /// Alembic's `current`: the rows plus the branch tips they imply through
    /// `depends_on`, in load order; unknown rows are listed as they are.
    pub revisions: Vec<String>,
    /// Applied migrations whose edited text was accepted
    /// ([`Migrator::accept_edit`](crate::Migrator::accept_edit)), in load order.
    pub accepted_edits: Vec<AcceptedEdit>,
}

/// An applied migration whose text was edited after it ran, and the edit
/// accepted on purpose ([`Migrator::accept_edit`](crate::Migrator::accept_edit)):
/// the revision's latest history row is that `accept` row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedEdit {
    /// The revision.
    pub revision: String,
    /// Its file in the binary's set.
    pub file: String,
    /// The checksum it was applied with.
    pub applied_with: String,
    /// The checksum accepted in its place (the file's when it was accepted).
    pub accepted: String,
    /// The reason given.
    pub reason: String,
}

impl std::fmt::Display for AcceptedEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): applied with {}, its edited text accepted as {}: {}",
            self.revision, self.file, self.applied_with, self.accepted, self.reason
        )
    }
}

/// How the database relates to the binary's history.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Standing {
    /// At the binary's heads: nothing to apply.
    UpToDate,
    /// Behind: these revisions would be applied by `upgrade heads`, in order.
    Behind {
        /// Pending revisions.
        pending: Vec<String>,
    },
    /// At revisions the binary does not contain that build on its heads.
    Ahead {
        /// Revisions unknown to the binary.
        unknown: Vec<String>,
    },
    /// At revisions the binary does not contain that went another way.
    Diverged {
        /// Revisions unknown to the binary.
        unknown: Vec<String>,
        /// The newest shared revision, when the history table tells.
        fork: Option<String>,
    },
    /// At revisions the binary does not contain, origin unknown.
    Unknown {
        /// Revisions unknown to the binary.
        unknown: Vec<String>,
    },
}

/// What `check` found; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// The version rows.
    pub rows: Vec<String>,
    /// Where the database stands.
    pub standing: Standing,
    /// Applied migrations whose text changed.
    pub drift: Vec<Drift>,
    /// Steps left failed or in progress.
    pub unfinished: Vec<Unfinished>,
    /// Applied migrations whose edited text was accepted (not a finding: a
    /// launch proceeds), in load order.
    pub accepted_edits: Vec<AcceptedEdit>,
    /// Whether the version table exists at all.
    pub version_table_exists: bool,
    /// Whether the history table exists.
    pub history_table_exists: bool,
}

impl CheckReport {
    /// Whether a launch would proceed: no drift, nothing unfinished, no unknown revision.
    pub fn is_ok(&self) -> bool {
        self.drift.is_empty()
            && self.unfinished.is_empty()
            && matches!(self.standing, Standing::UpToDate | Standing::Behind { .. })
    }
}

/// What to record about a step left failed or in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairAction {
    /// The remaining statements were run by hand: record the step as done and
    /// apply its version-table change.
    Completed,
    /// The statements that ran were undone by hand: record the step as rolled
    /// back; the version table stays as before the step.
    RolledBack,
}

/// Whether `stamp` first deletes every row of the version table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StampMode {
    /// Keep the existing rows and move them (Alembic's default).
    #[default]
    Keep,
    /// Delete all rows first, unknown ones included (Alembic's `--purge`).
    Purge,
}

/// One revision of `history`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryItem {
    /// The revision id.
    pub revision: String,
    /// Its `down_revision`s.
    pub down_revisions: Vec<String>,
    /// Its `depends_on`, as written.
    pub depends_on: Vec<String>,
    /// Branch labels (propagated).
    pub branch_labels: Vec<String>,
    /// The migration's message.
    pub message: String,
    /// Its file.
    pub file: String,
    /// Whether the database has it applied (a row or implied by one).
    pub applied: bool,
    /// Whether it is a version-table row (Alembic's `(current)`).
    pub current: bool,
    /// Whether nothing builds on it (a head).
    pub is_head: bool,
    /// Whether several revisions build on it.
    pub is_branch_point: bool,
    /// Whether it merges several revisions.
    pub is_merge_point: bool,
}
