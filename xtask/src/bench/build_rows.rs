//! The build rows, from the existing build-time benchmark
//! (`alembix-macros/benches/embed_build.rs`), run as it is documented:
//! `cargo bench -p alembix-macros --bench embed_build -- --sizes … --runs …`.
//! Its Markdown table is parsed here; nothing of it is duplicated.
//!
//! That bench generates its own crates (one `CREATE TABLE` + `CREATE INDEX`
//! per migration) under `target/bench-embed/` with their own shared target
//! directory, both on the same backend (SQLite, the same bundled
//! `libsqlite3-sys`; `alembix-runtime` without `cli`), and measures the
//! embedding crate's clean build (dependencies built, dev profile), the rebuild
//! after adding one migration, and the release binary size added over an empty
//! folder. Only its first table is read here; the second (each timing split
//! into the crate's rustc run and the rest) has six columns and is skipped.

use std::path::Path;
use std::process::{Command, Stdio};

/// One row of embed_build's table.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildRow {
    /// Migrations embedded.
    pub n: usize,
    /// `true` for this project, `false` for diesel_migrations.
    pub ours: bool,
    /// Clean build of the crate, seconds (median).
    pub clean_s: f64,
    /// Rebuild after adding one migration, seconds (median).
    pub rebuild_s: f64,
    /// Release binary size added by the history, KiB.
    pub size_kib: f64,
}

/// Runs embed_build from `workspace` for `sizes`, `runs` each.
pub fn measure(workspace: &Path, sizes: &[usize], runs: usize) -> Result<Vec<BuildRow>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let list: Vec<String> = sizes.iter().map(ToString::to_string).collect();
    let out = Command::new(cargo)
        .args([
            "bench",
            "--quiet",
            "-p",
            "alembix-macros",
            "--bench",
            "embed_build",
            "--",
            "--sizes",
        ])
        .arg(list.join(","))
        .args(["--runs", &runs.to_string()])
        .current_dir(workspace)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo bench -p alembix-macros --bench embed_build` failed ({})",
            out.status
        ));
    }
    let rows = parse(&String::from_utf8_lossy(&out.stdout));
    if rows.is_empty() {
        return Err("embed_build printed no table".to_string());
    }
    Ok(rows)
}

/// The rows of embed_build's Markdown table:
/// `| migrations | tool | clean build (s) | +1 rebuild (s) | release size added (KiB) |`.
pub fn parse(table: &str) -> Vec<BuildRow> {
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            let [n, tool, clean, rebuild, size] = cells.as_slice() else {
                return None;
            };
            let ours = if tool.starts_with("migrate ") {
                true
            } else if tool.starts_with("diesel_migrations") {
                false
            } else {
                return None;
            };
            Some(BuildRow {
                n: n.parse().ok()?,
                ours,
                clean_s: clean.parse().ok()?,
                rebuild_s: rebuild.parse().ok()?,
                size_kib: size.parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn parses_embed_builds_table() {
        let table =
            "| migrations | tool | clean build (s) | +1 rebuild (s) | release size added (KiB) |\n\
                     | ---: | --- | ---: | ---: | ---: |\n\
                     | 10 | migrate embed_migrations! | 0.52 | 0.61 | 9 |\n\
                     | 10 | diesel_migrations::embed_migrations! | 0.70 | 0.80 | 12 |\n";
        let rows = parse(table);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].ours && !rows[1].ours);
        assert_eq!(rows[1].n, 10);
        assert_eq!(rows[0].clean_s, 0.52);
        assert_eq!(rows[1].size_kib, 12.0);
    }

    #[test]
    fn skips_the_split_table_after_the_rows() {
        let output =
            "| migrations | tool | clean build (s) | +1 rebuild (s) | release size added (KiB) |\n\
             | ---: | --- | ---: | ---: | ---: |\n\
             | 10 | migrate embed_migrations! | 0.52 | 0.61 | 9 |\n\
             \n\
             Where the time goes (medians; rest = cargo, build script compile and run):\n\
             \n\
             | migrations | tool | clean: crate rustc (s) | clean: rest (s) | +1: crate rustc (s) | +1: rest (s) |\n\
             | ---: | --- | ---: | ---: | ---: | ---: |\n\
             | 10 | migrate embed_migrations! | 0.30 | 0.22 | 0.20 | 0.41 |\n";
        let rows = parse(output);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].clean_s, 0.52);
    }
}
