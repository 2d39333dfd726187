//! `print-schema`: diesel's `schema.rs` written from the history, no live
//! database needed — the history replayed into a scratch database (as by
//! `schema dump`), its schema printed as `diesel print-schema` prints it
//! ([`crate::schema::schema_rs`]). `--output FILE` writes it there;
//! `--check FILE` compares it with a committed file and exits `7` with a
//! unified diff when they differ (a CI gate).

use crate::cli::commands::schema::replayed;
use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::{DatabaseArg, DialectArg, Exit, JsonArg};
use crate::next_step::NextCommand;
use crate::schema::schema_rs;
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Arguments of `print-schema`.
#[derive(Debug, Clone, Args)]
pub struct PrintSchemaArgs {
    /// Replay the history up to REV (any target `upgrade` takes) [default: heads].
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// The scratch database's dialect, whose diesel types are printed: sqlite (in memory) or a
    /// server's, created on the --db server [default: the scheme of --db, else sqlite].
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// The server to create the scratch database on (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Write the text to FILE instead of stdout.
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    pub output: Option<PathBuf>,
    /// Compare the text with FILE: exit 0 when equal, else print a unified diff and exit 7.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
    /// Output format (`--json`: the text and the check's result in one document).
    #[command(flatten)]
    pub output_format: JsonArg,
}

/// The document of `print-schema --json`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The history's target (`heads` unless --revision).
    revision: &'a str,
    /// The scratch database's dialect, whose diesel types are printed.
    dialect: &'a str,
    /// The text of `schema.rs`.
    schema_rs: &'a str,
    /// Tables left out for having no primary key.
    skipped: &'a [String],
    /// The file written (`--output`), or null.
    output: Option<String>,
    /// The file compared (`--check`), or null.
    check: Option<String>,
    /// With `--check`: whether the file is current; else null.
    equal: Option<bool>,
    /// With `--check` and a stale file: the unified diff; else null.
    diff: Option<&'a str>,
    exit_code: u8,
}

/// Runs `print-schema`.
pub(super) fn run(ctx: &Context<'_>, args: &PrintSchemaArgs) -> Result<Exit, Failure> {
    let revision = args.revision.as_deref().unwrap_or("heads");
    let schema = replayed(ctx, &args.db, args.dialect, revision)?;
    let generated = schema_rs(&schema)?;
    if !ctx.json {
        for table in &generated.skipped {
            ctx.out.error(format_args!(
                "warning: the table {table} has no primary key; diesel needs one, so it is left out of schema.rs"
            ));
        }
    }
    let regenerate = |path: &Path| {
        ctx.naming.command(&NextCommand::PrintSchema {
            output: path.display().to_string(),
            revision: args.revision.clone(),
        })
    };
    let mut diff = None;
    if let Some(path) = &args.check {
        let committed = std::fs::read_to_string(path).map_err(|e| {
            Failure::file(format!(
                "`{}`: cannot read {}: {e}; write it with {}",
                ctx.name,
                path.display(),
                regenerate(path)
            ))
        })?;
        diff = unified_diff(
            &committed,
            &generated.text,
            &format!("{} (committed)", path.display()),
            &format!("history ({revision})"),
        );
    }
    if let Some(path) = &args.output {
        std::fs::write(path, &generated.text).map_err(|e| {
            Failure::file(format!(
                "`{}`: cannot write {}: {e}",
                ctx.name,
                path.display()
            ))
        })?;
    }
    let exit = if diff.is_some() {
        Exit::SchemaDrift
    } else {
        Exit::Success
    };
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            revision,
            dialect: &schema.dialect,
            schema_rs: &generated.text,
            skipped: &generated.skipped,
            output: args.output.as_ref().map(|p| p.display().to_string()),
            check: args.check.as_ref().map(|p| p.display().to_string()),
            equal: args.check.as_ref().map(|_| diff.is_none()),
            diff: diff.as_deref(),
            exit_code: exit.code(),
        });
    } else if let (Some(path), Some(diff)) = (&args.check, &diff) {
        ctx.out.print(diff);
        ctx.out.error(format_args!(
            "{} is stale: regenerate it with {}",
            path.display(),
            regenerate(path)
        ));
    } else if args.check.is_none() && args.output.is_none() {
        ctx.out.print(&generated.text);
    }
    Ok(exit)
}

/// The unified diff (3 lines of context, `@@` hunks) from `old` to `new`,
/// or `None` when they are equal.
fn unified_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // The common head and tail take no part in the comparison.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let (n, m) = (mid_a.len(), mid_b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if mid_a[i] == mid_b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Every line of both, tagged ' ', '-' or '+', with its line numbers.
    let mut ops: Vec<(char, &str)> = a[..head].iter().map(|l| (' ', *l)).collect();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && mid_a[i] == mid_b[j] {
            ops.push((' ', mid_a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', mid_a[i]));
            i += 1;
        } else {
            ops.push(('+', mid_b[j]));
            j += 1;
        }
    }
    ops.extend(a[a.len() - tail..].iter().map(|l| (' ', *l)));
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(3);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 6 {
            end = changed[k];
            k += 1;
        }
        let end = (end + 4).min(ops.len());
        let before = |tag: char| {
            ops[..start]
                .iter()
                .filter(|o| o.0 == ' ' || o.0 == tag)
                .count()
        };
        let count = |tag: char| {
            ops[start..end]
                .iter()
                .filter(|o| o.0 == ' ' || o.0 == tag)
                .count()
        };
        let (old_count, new_count) = (count('-'), count('+'));
        let position = |before: usize, count: usize| if count == 0 { before } else { before + 1 };
        out.push_str(&format!(
            "@@ -{},{old_count} +{},{new_count} @@\n",
            position(before('-'), old_count),
            position(before('+'), new_count)
        ));
        for (tag, line) in &ops[start..end] {
            out.push(*tag);
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_file_shows_as_a_unified_diff() {
        assert_eq!(unified_diff("a\nb\n", "a\nb\n", "x", "y"), None);
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n";
        assert_eq!(
            unified_diff(old, new, "schema.rs", "history").as_deref(),
            Some("--- schema.rs\n+++ history\n@@ -2,8 +2,9 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n+10\n")
        );
    }
}
