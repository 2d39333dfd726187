//! Data-driven cases: every file under `tests/format/` and every folder under
//! `tests/histories/` is loaded with the core, and what it yields (the parsed
//! migration, or every problem with its file, line and help) is compared with the
//! `.expected` file beside it. `UPDATE_EXPECT=1 cargo test -p alembix-core --test
//! snapshots` rewrites the expectations; review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use alembix_core::file::{self, MigrationFile};
use alembix_core::scan::scan_folder;
use alembix_core::{GraphOptions, MigrationSet, SqlDialect};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Compares `actual` with the file `expected`, or rewrites it under UPDATE_EXPECT=1.
fn check(expected: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(expected, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_default();
    if want != actual {
        failures.push(format!(
            "--- {} (expected)\n{want}\n+++ actual\n{actual}",
            expected.display()
        ));
    }
}

fn render_file(f: &MigrationFile) -> String {
    let mut out = String::new();
    writeln!(out, "revision: {}", f.revision).unwrap();
    writeln!(out, "down_revisions: {:?}", f.down_revisions).unwrap();
    writeln!(out, "branch_labels: {:?}", f.branch_labels).unwrap();
    writeln!(out, "depends_on: {:?}", f.depends_on).unwrap();
    writeln!(out, "message: {:?}", f.message).unwrap();
    writeln!(out, "create_date: {:?}", f.create_date).unwrap();
    writeln!(out, "transaction: {}", f.transaction.as_str()).unwrap();
    if !f.timeouts.is_empty() {
        let show = |d: Option<std::time::Duration>| d.map(file::format_duration);
        writeln!(
            out,
            "timeouts: lock {:?}, statement {:?}",
            show(f.timeouts.lock),
            show(f.timeouts.statement)
        )
        .unwrap();
    }
    writeln!(out, "lines: {:?}", f.lines).unwrap();
    writeln!(out, "upgrade (marker line {}):", f.upgrade.line).unwrap();
    render_statements(&mut out, &f.upgrade);
    match &f.downgrade {
        None => writeln!(out, "downgrade: irreversible").unwrap(),
        Some(d) => {
            writeln!(out, "downgrade (marker line {}):", d.line).unwrap();
            render_statements(&mut out, d);
        }
    }
    if f.checksums.iter().all(|c| *c == f.checksums[0]) {
        writeln!(out, "checksum: {}", f.checksums[0]).unwrap();
    } else {
        for dialect in SqlDialect::ALL {
            writeln!(out, "checksum {dialect}: {}", f.checksum(dialect)).unwrap();
        }
    }
    out
}

/// The statements of a section; per dialect only where the dialects differ.
fn render_statements(out: &mut String, section: &alembix_core::Section) {
    if section.has_variants() {
        for part in &section.parts {
            let name = part.dialect.map_or("default", |d| d.name());
            writeln!(
                out,
                " part {name} (marker line {}): {:?}",
                part.line,
                &section.sql[part.range.clone()]
            )
            .unwrap();
        }
    }
    let dialects: &[SqlDialect] = if section.splits.is_uniform() {
        &[SqlDialect::Sqlite]
    } else {
        &SqlDialect::ALL
    };
    for &dialect in dialects {
        if dialects.len() > 1 {
            writeln!(out, " {dialect}:").unwrap();
        }
        for s in section.statements(dialect) {
            writeln!(out, "  {}: {:?}", s.line, s.sql).unwrap();
        }
        if let Some(u) = section.unterminated(dialect) {
            writeln!(out, "  unterminated: {u}").unwrap();
        }
    }
}

fn render_problems(problems: &[alembix_core::Problem]) -> String {
    let mut out = String::new();
    for p in problems {
        writeln!(out, "[{:?}] {p}", p.kind).unwrap();
    }
    out
}

#[test]
fn format_cases() {
    let dir = tests_dir().join("format");
    let mut failures = Vec::new();
    let mut n = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    names.sort();
    for path in names {
        n += 1;
        let name = format!("migrations/{}", path.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&path).unwrap();
        let is_ok = name.contains("/ok_");
        let actual = match file::parse(&name, &text) {
            Ok(f) => {
                if !is_ok {
                    failures.push(format!("{name}: expected problems, parsed fine"));
                }
                render_file(&f)
            }
            Err(problems) => {
                if is_ok {
                    failures.push(format!("{name}: expected to parse"));
                }
                render_problems(&problems)
            }
        };
        check(&path.with_extension("expected"), &actual, &mut failures);
    }
    assert!(n >= 16, "only {n} format cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn history_cases() {
    let root = tests_dir().join("histories");
    let mut failures = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in &dirs {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let result = scan_folder(&root, &case)
            .and_then(|sources| MigrationSet::from_sources(&sources, &GraphOptions::default()));
        let is_ok = case.starts_with("ok_");
        let actual = match result {
            Ok(set) => {
                if !is_ok {
                    failures.push(format!("{case}: expected problems, loaded fine"));
                }
                let g = set.graph();
                let mut out = String::new();
                writeln!(out, "heads: {:?}", g.ids(g.heads())).unwrap();
                writeln!(out, "bases: {:?}", g.ids(g.bases())).unwrap();
                for r in g.revisions() {
                    writeln!(
                        out,
                        "{} <- {:?} deps {:?} labels {:?} ({})",
                        r.id,
                        g.ids(&r.down),
                        g.ids(&r.deps),
                        r.labels,
                        r.origin.file.as_deref().unwrap_or("?")
                    )
                    .unwrap();
                }
                out
            }
            Err(problems) => {
                if is_ok {
                    failures.push(format!("{case}: expected to load"));
                }
                render_problems(&problems.0)
            }
        };
        check(
            &root.join(format!("{case}.expected")),
            &actual,
            &mut failures,
        );
    }
    assert!(dirs.len() >= 14, "only {} history cases found", dirs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
