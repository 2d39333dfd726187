//! `adopt-diesel`: take over a database that diesel_migrations migrated — the
//! versions it applied become version rows; nothing runs.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::render::rows_text;
use crate::cli::{DatabaseArg, Exit, JsonArg};
use crate::next_step::NextCommand;
use clap::Args;
use serde::Serialize;

/// Arguments of `adopt-diesel`.
#[derive(Debug, Clone, Args)]
pub struct AdoptDieselArgs {
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// The document of `adopt-diesel`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// diesel's applied versions, sorted.
    diesel_versions: &'a [String],
    /// The revisions this run recorded as adopted (empty: nothing to adopt, or adopted before).
    adopted: &'a [String],
    /// The version rows after the run.
    rows: &'a [String],
}

/// Adopts the database and says what was adopted, or why nothing was.
pub(super) fn run(ctx: &Context<'_>, args: &AdoptDieselArgs) -> Result<Exit, Failure> {
    let mut db = ctx.connect(&args.db)?;
    let adoption = ctx.migrator.adopt_diesel(&mut db)?;
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            database: db.redacted_url(),
            diesel_versions: &adoption.diesel_versions,
            adopted: &adoption.adopted,
            rows: &adoption.rows,
        });
        return Ok(Exit::Success);
    }
    let rows = rows_text(&adoption.rows);
    if adoption.diesel_versions.is_empty() {
        ctx.out.line(format_args!(
            "nothing to adopt: diesel_migrations' table is absent or empty; the version table holds {rows}"
        ));
    } else if adoption.adopted.is_empty() {
        ctx.out.line(format_args!(
            "already adopted: the version table holds {rows}, which includes the {} version(s) diesel_migrations applied; nothing was written",
            adoption.diesel_versions.len()
        ));
    } else {
        for revision in &adoption.adopted {
            ctx.out.line(format_args!("Adopting {revision}"));
        }
        ctx.out.line(format_args!(
            "adopted {} diesel version(s): the version table now holds {rows}; no migration ran",
            adoption.adopted.len()
        ));
        ctx.out.line(format_args!(
            "  next: {} applies what comes after",
            ctx.naming.command(&NextCommand::UpgradeHeads)
        ));
    }
    Ok(Exit::Success)
}
