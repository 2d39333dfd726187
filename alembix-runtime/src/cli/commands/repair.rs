//! `repair REV --completed|--rolled-back|--resume|--accept-edit --reason …`:
//! the audited ways out of a refused launch. Record what a person did about
//! a failed or interrupted step outside a transaction (`--completed`,
//! `--rolled-back`), run the statements of it that did not run once the
//! cause is fixed (`--resume`), or accept a deliberate edit of an applied
//! migration (`--accept-edit`).

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::render::{rows_text, ReportJson};
use crate::cli::{DatabaseArg, Exit, JsonArg};
use crate::report::{RepairAction, Report};
use clap::Args;
use serde::Serialize;

/// Arguments of `repair`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["completed", "rolled_back", "resume", "accept_edit"])))]
pub struct RepairArgs {
    /// The revision whose step was left failed or in progress, or whose applied text was edited.
    pub revision: String,
    /// The remaining statements were run by hand: record the step as done.
    #[arg(long)]
    pub completed: bool,
    /// The statements that ran were undone by hand: record the step as rolled back.
    #[arg(long)]
    pub rolled_back: bool,
    /// The cause of the failure is fixed: run the statements that did not run (k+1…n), then record the step as done.
    #[arg(long)]
    pub resume: bool,
    /// The applied migration's text was edited on purpose (a comment, formatting): record its new checksum.
    #[arg(long)]
    pub accept_edit: bool,
    /// Who did what, and why, for the audit trail in the history table.
    #[arg(long)]
    pub reason: String,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// What `repair` was asked to do.
#[derive(Debug, Clone, Copy)]
enum Action {
    Record(RepairAction),
    Resume,
    AcceptEdit,
}

impl RepairArgs {
    fn action(&self) -> Action {
        if self.resume {
            Action::Resume
        } else if self.accept_edit {
            Action::AcceptEdit
        } else if self.completed {
            Action::Record(RepairAction::Completed)
        } else {
            Action::Record(RepairAction::RolledBack)
        }
    }
}

/// The document of `repair`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// The revision as typed.
    revision: &'a str,
    /// `completed`, `rolled_back`, `resumed` or `accepted_edit`.
    action: &'static str,
    #[serde(flatten)]
    report: ReportJson<'a>,
}

/// Repairs, resumes or accepts, and says what the version table holds now.
pub(super) fn run(ctx: &Context<'_>, args: &RepairArgs) -> Result<Exit, Failure> {
    let mut db = ctx.connect(&args.db)?;
    let action = args.action();
    let (revision, reason) = (args.revision.as_str(), args.reason.as_str());
    let report = match action {
        Action::Record(recorded) => ctx.migrator.repair(&mut db, revision, recorded, reason)?,
        Action::Resume => ctx.migrator.resume(&mut db, revision, reason)?,
        Action::AcceptEdit => ctx.migrator.accept_edit(&mut db, revision, reason)?,
    };
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            database: db.redacted_url(),
            revision,
            action: match action {
                Action::Record(RepairAction::Completed) => "completed",
                Action::Record(RepairAction::RolledBack) => "rolled_back",
                Action::Resume => "resumed",
                Action::AcceptEdit => "accepted_edit",
            },
            report: ReportJson::new(&report),
        });
    } else {
        ctx.out.line(summary(action, revision, &report));
    }
    Ok(Exit::Success)
}

/// The line `repair` prints.
fn summary(action: Action, revision: &str, report: &Report) -> String {
    let rows = rows_text(&report.rows_after);
    match action {
        Action::Record(recorded) => format!(
            "repaired {revision}: recorded as {} by hand; the version table holds {rows}",
            match recorded {
                RepairAction::Completed => "completed",
                RepairAction::RolledBack => "rolled back",
            },
        ),
        Action::Resume => {
            let ran = report.steps.first().map_or(0, |s| s.statements);
            format!(
                "resumed {revision}: ran the {ran} statement(s) that had not run and recorded the step as done; the version table holds {rows}"
            )
        }
        Action::AcceptEdit => format!(
            "accepted the edit of {revision}: its new checksum is recorded as applied, with the reason; the version table holds {rows}"
        ),
    }
}
