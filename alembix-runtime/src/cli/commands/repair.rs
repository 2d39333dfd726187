//! `repair REV --completed|--rolled-back --reason …`: record what a person did
//! about a failed or interrupted non-transactional step.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::render::{rows_text, ReportJson};
use crate::cli::{DatabaseArg, Exit, JsonArg};
use crate::report::RepairAction;
use clap::Args;
use serde::Serialize;

/// Arguments of `repair`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["completed", "rolled_back"])))]
pub struct RepairArgs {
    /// The revision whose step was left failed or in progress.
    pub revision: String,
    /// The remaining statements were run by hand: record the step as done.
    #[arg(long)]
    pub completed: bool,
    /// The statements that ran were undone by hand: record the step as rolled back.
    #[arg(long)]
    pub rolled_back: bool,
    /// Who did what, for the audit trail in the history table.
    #[arg(long)]
    pub reason: String,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// The document of `repair`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// The revision as typed.
    revision: &'a str,
    /// `completed` or `rolled_back`.
    action: &'static str,
    #[serde(flatten)]
    report: ReportJson<'a>,
}

/// Records the repair and says what the version table holds now.
pub(super) fn run(ctx: &Context<'_>, args: &RepairArgs) -> Result<Exit, Failure> {
    let mut db = ctx.connect(&args.db)?;
    let action = if args.completed {
        RepairAction::Completed
    } else {
        RepairAction::RolledBack
    };
    let report = ctx
        .migrator
        .repair(&mut db, &args.revision, action, &args.reason)?;
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            database: db.redacted_url(),
            revision: &args.revision,
            action: match action {
                RepairAction::Completed => "completed",
                RepairAction::RolledBack => "rolled_back",
            },
            report: ReportJson::new(&report),
        });
    } else {
        ctx.out.line(format_args!(
            "repaired {}: recorded as {} by hand; the version table holds {}",
            args.revision,
            match action {
                RepairAction::Completed => "completed",
                RepairAction::RolledBack => "rolled back",
            },
            rows_text(&report.rows_after)
        ));
    }
    Ok(Exit::Success)
}
