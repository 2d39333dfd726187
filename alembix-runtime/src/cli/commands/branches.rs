//! `branches [-v]`: the branch points, newest first, each with the revisions
//! it branches into.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::render::{LineStyle, RevisionJson, View};
use crate::cli::{Exit, JsonArg};
use alembix_core::RevIdx;
use clap::Args;
use serde::Serialize;

/// Arguments of `branches`.
#[derive(Debug, Clone, Args)]
pub struct BranchesArgs {
    /// Show each branch point's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// The document of `branches`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    branch_points: Vec<RevisionJson<'a>>,
}

/// Prints each branch point and, under it, ` -> child` for each child.
pub(super) fn run(ctx: &Context<'_>, args: &BranchesArgs) -> Result<Exit, Failure> {
    let graph = ctx.set()?.graph();
    // History order (newest first), as Alembic walks it.
    let order = alembix_core::history(graph, None, &[])?;
    let points: Vec<RevIdx> = order
        .into_iter()
        .filter(|&i| graph.rev(i).is_branch_point())
        .collect();
    let view = View::new(ctx.set()?);
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            branch_points: points.iter().map(|&i| view.json(i)).collect(),
        });
        return Ok(Exit::Success);
    }
    let style = LineStyle {
        branches: true,
        tree: true,
        ..LineStyle::default()
    };
    let child_style = LineStyle {
        branches: true,
        tree: true,
        doc: args.verbose,
        ..LineStyle::default()
    };
    for p in points {
        let head = if args.verbose {
            view.entry(p, false)
        } else {
            view.line(p, style)
        };
        ctx.out.line(head);
        let pad = " ".repeat(graph.rev(p).id.len());
        for &c in &graph.rev(p).children {
            ctx.out
                .line(format_args!("{pad} -> {}", view.line(c, child_style)));
        }
        ctx.out.line("");
    }
    Ok(Exit::Success)
}
