//! `log [-n N]`: the history table, newest first — what ran on this database,
//! when (UTC), for how long, how it ended, and which program wrote it. The
//! audit trail to read before a repair.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::{DatabaseArg, Exit, JsonArg};
use crate::HistoryEntry;
use clap::Args;
use serde::Serialize;

/// Arguments of `log`.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Show only the newest N entries.
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// The document of `log`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// Newest first.
    entries: Vec<Entry<'a>>,
}

/// One history row.
#[derive(Serialize)]
struct Entry<'a> {
    id: i64,
    revision: &'a str,
    operation: &'a str,
    state: &'a str,
    /// RFC 3339, UTC, microseconds.
    started_at: String,
    duration_ms: Option<i64>,
    statements_done: i32,
    statements_total: i32,
    message: Option<&'a str>,
    detail: Option<&'a str>,
    checksum: &'a str,
    tool: &'a str,
}

impl<'a> From<&'a HistoryEntry> for Entry<'a> {
    fn from(e: &'a HistoryEntry) -> Entry<'a> {
        Entry {
            id: e.id,
            revision: &e.revision,
            operation: &e.operation,
            state: &e.state,
            started_at: e.started_at.to_string(),
            duration_ms: e.duration_ms,
            statements_done: e.statements_done,
            statements_total: e.statements_total,
            message: e.message.as_deref(),
            detail: e.detail.as_deref(),
            checksum: &e.checksum,
            tool: &e.tool,
        }
    }
}

/// Prints the history table, newest first.
pub(super) fn run(ctx: &Context<'_>, args: &LogArgs) -> Result<Exit, Failure> {
    let mut db = ctx.connect(&args.db)?;
    let history = ctx.migrator.applied_history(&mut db)?;
    let newest: Vec<&HistoryEntry> = history
        .iter()
        .rev()
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            database: db.redacted_url(),
            entries: newest.into_iter().map(Entry::from).collect(),
        });
        return Ok(Exit::Success);
    }
    if newest.is_empty() {
        ctx.out
            .line("<no history> (nothing was run on this database by this tool)");
    }
    for e in newest {
        let took = e
            .duration_ms
            .map_or_else(String::new, |ms| format!(" in {ms} ms"));
        let progress = if e.statements_done == e.statements_total {
            String::new()
        } else {
            format!(
                " ({} of {} statements)",
                e.statements_done, e.statements_total
            )
        };
        let message = e
            .message
            .as_deref()
            .map_or_else(String::new, |m| format!(", {m}"));
        ctx.out.line(format_args!(
            "{}  {} {} {}{progress}{took}{message} [{}]",
            e.started_at, e.operation, e.revision, e.state, e.tool
        ));
        if let Some(detail) = &e.detail {
            ctx.out
                .line(format_args!("    {}", detail.replace('\n', "\n    ")));
        }
    }
    Ok(Exit::Success)
}
