//! `history [-r A:B] [-v] [-i] [--graph | --format dot|mermaid]`: revisions
//! newest first, as lines or drawn as a graph; the database is read only for
//! `-i` (mark the revisions it is at) or a range naming `current`.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::render::{LineStyle, RevisionJson, View};
use crate::cli::usage;
use crate::cli::{DatabaseArg, Exit, JsonArg};
use clap::{Args, ValueEnum};
use serde::Serialize;

/// Arguments of `history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Range `[start]:[end]` (`base:head`, `ae10:`, `:current`, `-3:`, `label@base:label@head`).
    #[arg(
        short = 'r',
        long = "rev-range",
        value_name = "RANGE",
        allow_hyphen_values = true,
        value_parser = usage::range
    )]
    pub range: Option<String>,
    /// Show each revision's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Mark the database's revisions `(current)` (needs the database).
    #[arg(short = 'i', long)]
    pub indicate_current: bool,
    /// Draw the graph beside the revisions, like `git log --graph`.
    #[arg(long, conflicts_with_all = ["verbose", "json"])]
    pub graph: bool,
    /// Write the graph for other tools instead of text: Graphviz `dot`, or Mermaid.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["verbose", "json", "graph"])]
    pub format: Option<GraphFormat>,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// `history --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum GraphFormat {
    /// Graphviz (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (renders in Markdown on GitHub and GitLab).
    Mermaid,
}

/// The document of `history`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The range as typed, or null.
    range: Option<&'a str>,
    /// Newest first.
    revisions: Vec<RevisionJson<'a>>,
}

/// Prints the revisions in the range, a line each (`down -> rev (…), message`).
pub(super) fn run(ctx: &Context<'_>, args: &HistoryArgs) -> Result<Exit, Failure> {
    let graph = ctx.set()?.graph();
    let needs_db =
        args.indicate_current || args.range.as_deref().is_some_and(|r| r.contains("current"));
    let (order, current, applied) = if needs_db {
        let mut db = ctx.connect(&args.db)?;
        let items = ctx.migrator.history(&mut db, args.range.as_deref())?;
        let mut current = vec![false; graph.len()];
        let mut applied = vec![false; graph.len()];
        let mut order = Vec::with_capacity(items.len());
        for item in items {
            if let Some(i) = graph.index_of(&item.revision) {
                current[i] = item.current;
                applied[i] = item.applied;
                order.push(i);
            }
        }
        (order, Some(current), Some(applied))
    } else {
        let order = alembix_core::history(graph, args.range.as_deref(), &[])?;
        (order, None, None)
    };
    let view = View {
        current: if args.indicate_current {
            current.as_deref()
        } else {
            None
        },
        applied: if args.indicate_current {
            applied.as_deref()
        } else {
            None
        },
        ..View::new(ctx.set()?)
    };
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            range: args.range.as_deref(),
            revisions: order.iter().map(|&i| view.json(i)).collect(),
        });
        return Ok(Exit::Success);
    }
    if args.graph || args.format.is_some() {
        // The graph shows the parents; each revision says what it is.
        let style = LineStyle {
            parents: false,
            branches: true,
            tree: true,
            doc: true,
        };
        let label = |i| view.line(i, style);
        let marked = |i: usize| {
            view.current
                .is_some_and(|c| c.get(i).copied().unwrap_or(false))
        };
        let drawn = match args.format {
            None => alembix_core::draw::text(graph, &order, label),
            Some(GraphFormat::Dot) => alembix_core::draw::dot(graph, &order, label, marked),
            Some(GraphFormat::Mermaid) => alembix_core::draw::mermaid(graph, &order, label, marked),
        };
        ctx.out.print(&drawn);
        return Ok(Exit::Success);
    }
    let style = LineStyle {
        parents: true,
        branches: true,
        tree: true,
        doc: true,
    };
    for i in order {
        if args.verbose {
            ctx.out.line(view.entry(i, false));
        } else {
            ctx.out.line(view.line(i, style));
        }
    }
    Ok(Exit::Success)
}
