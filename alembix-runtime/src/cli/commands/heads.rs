//! `heads [-v] [--resolve-dependencies]`: the heads of the history.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::render::{LineStyle, RevisionJson, View};
use crate::cli::{Exit, JsonArg};
use clap::Args;
use serde::Serialize;

/// Arguments of `heads`.
#[derive(Debug, Clone, Args)]
pub struct HeadsArgs {
    /// Show each head's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Effective heads: leave out heads that another revision depends on.
    #[arg(long)]
    pub resolve_dependencies: bool,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// The document of `heads`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    heads: Vec<RevisionJson<'a>>,
}

/// Prints the heads, one a line (`rev (labels) (head)`), or their entries.
pub(super) fn run(ctx: &Context<'_>, args: &HeadsArgs) -> Result<Exit, Failure> {
    let graph = ctx.set()?.graph();
    let heads = if args.resolve_dependencies {
        graph.real_heads()
    } else {
        graph.heads()
    };
    let view = View::new(ctx.set()?);
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            heads: heads.iter().map(|&i| view.json(i)).collect(),
        });
        return Ok(Exit::Success);
    }
    let style = LineStyle {
        branches: true,
        ..LineStyle::default()
    };
    for &h in heads {
        if args.verbose {
            ctx.out.line(view.entry(h, false));
        } else {
            ctx.out.line(view.line(h, style));
        }
    }
    Ok(Exit::Success)
}
