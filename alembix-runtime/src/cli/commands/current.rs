//! `current [-v] [--check-heads]`: the database's revisions, and whether it is
//! at head (`--check-heads` makes "not at head" an exit code).

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::fleet::{self, FleetView};
use crate::cli::render::AcceptedEditJson;
use crate::cli::render::{LineStyle, View};
use crate::cli::{DatabaseArg, Exit, FleetArgs, JsonArg};
use crate::error::Error;
use crate::fleet::FleetCommand;
use crate::next_step::NextCommand;
use clap::Args;
use serde::Serialize;

/// Arguments of `current`.
#[derive(Debug, Clone, Args)]
pub struct CurrentArgs {
    /// Show each revision's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Exit 3 unless every revision is applied (4 if the database has revisions this binary lacks).
    #[arg(long)]
    pub check_heads: bool,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Over a fleet (`--targets`, `--schemas`, `--jobs`, …).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// The document of `current`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// The version table's rows.
    rows: &'a [String],
    /// Alembic's `current`: the rows plus what they imply through `depends_on`.
    revisions: &'a [String],
    /// The binary's heads.
    heads: &'a [String],
    at_head: bool,
    /// Applied migrations whose edited text was accepted.
    accepted_edits: Vec<AcceptedEditJson<'a>>,
}

/// Prints the database's revisions; with `--check-heads`, fails unless at head.
pub(super) fn run(ctx: &Context<'_>, args: &CurrentArgs) -> Result<Exit, Failure> {
    if fleet::requested(&args.fleet, false)? {
        let view = FleetView {
            check_heads: args.check_heads,
        };
        return fleet::run(ctx, &args.fleet, &args.db, FleetCommand::Current, view);
    }
    let graph = ctx.set()?.graph();
    let mut db = ctx.connect(&args.db)?;
    let current = ctx.migrator.current(&mut db)?;
    let standing = head_standing(graph, &current.rows);
    let at_head = standing == Exit::Success;
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            database: db.redacted_url(),
            rows: &current.rows,
            revisions: &current.revisions,
            heads: &ctx.migrator.heads()?,
            at_head,
            accepted_edits: current
                .accepted_edits
                .iter()
                .map(AcceptedEditJson::new)
                .collect(),
        });
    } else {
        let view = View::new(ctx.set()?);
        if current.revisions.is_empty() {
            ctx.out.line("<base> (no revision applied)");
        }
        for r in &current.revisions {
            match graph.index_of(r) {
                Some(i) if args.verbose => ctx.out.line(view.entry(i, false)),
                Some(i) => ctx.out.line(view.line(i, LineStyle::default())),
                None => ctx
                    .out
                    .line(format_args!("{r} (not in this binary's history)")),
            }
        }
        for accepted in &current.accepted_edits {
            ctx.out.line(format_args!("accepted edit: {accepted}"));
        }
    }
    if !args.check_heads || at_head {
        return Ok(Exit::Success);
    }
    // `--check-heads`: the document above already says `at_head: false`.
    if standing == Exit::Pending {
        ctx.out.error(format_args!(
            "error: Database is not on all head revisions; {}",
            ctx.naming.invite(&NextCommand::UpgradeHeads)
        ));
    } else {
        let unknown = current
            .rows
            .iter()
            .filter(|r| graph.index_of(r).is_none())
            .cloned()
            .collect();
        ctx.out.error(format_args!(
            "error: {}",
            Error::UnknownRevisions { unknown }.message(ctx.naming)
        ));
    }
    Ok(standing)
}

/// Where version rows stand against the history: `Success` when every
/// revision is applied, `UnknownRevisions` when a row is not in the history,
/// else `Pending` (`current --check-heads`'s exit, and its `at_head`).
pub(in crate::cli) fn head_standing(graph: &alembix_core::Graph, rows: &[String]) -> Exit {
    if rows.iter().any(|r| graph.index_of(r).is_none()) {
        return Exit::UnknownRevisions;
    }
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    match alembix_core::check_heads(graph, &rows) {
        Ok(()) => Exit::Success,
        Err(_) => Exit::Pending,
    }
}
