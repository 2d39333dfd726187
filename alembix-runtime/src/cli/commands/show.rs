//! `show REV`: one or more revisions, from any identifier (`ae10`,
//! `label@head`, `heads`), with their file's details; `show current` reads the
//! database for the revisions it is at.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::render::{RevisionDetailsJson, View};
use crate::cli::{DatabaseArg, Exit, JsonArg};
use crate::error::Error;
use clap::Args;
use serde::Serialize;

/// Arguments of `show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The revision: an id or unique prefix, `head`, `heads`, `<label>@head`, `current`.
    pub revision: String,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// The document of `show`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    revisions: Vec<RevisionDetailsJson<'a>>,
}

/// Prints the revisions `args.revision` names.
pub(super) fn run(ctx: &Context<'_>, args: &ShowArgs) -> Result<Exit, Failure> {
    let graph = ctx.set()?.graph();
    let mut current_mask = None;
    let revs = if args.revision == "current" {
        let mut db = ctx.connect(&args.db)?;
        let current = ctx.migrator.current(&mut db)?;
        let mut revs = Vec::new();
        for r in &current.revisions {
            match graph.index_of(r) {
                Some(i) => revs.push(i),
                None => {
                    return Err(Error::UnknownRevisions {
                        unknown: vec![r.clone()],
                    }
                    .into())
                }
            }
        }
        let mut mask = vec![false; graph.len()];
        for &i in &revs {
            mask[i] = true;
        }
        current_mask = Some(mask);
        revs
    } else {
        // `base` and `label@base` name no revision: nothing is listed, as in Alembic.
        alembix_core::resolve_many(graph, &args.revision)?
    };
    let view = View {
        current: current_mask.as_deref(),
        ..View::new(ctx.set()?)
    };
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            revisions: revs.iter().map(|&i| view.json_details(i)).collect(),
        });
    } else {
        let entries: Vec<String> = revs.iter().map(|&i| view.entry(i, true)).collect();
        ctx.out.print(entries.join("\n"));
    }
    Ok(Exit::Success)
}
