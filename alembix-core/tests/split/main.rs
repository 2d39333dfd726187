//! Data-driven cases of the statement splitter: every `cases/<name>.sql` is one
//! section (its first line is line 1), split for each dialect; the statements,
//! their lines and anything left unterminated are compared with
//! `cases/<name>.expected`. A dialect whose split equals an earlier one's says
//! so in one line. `UPDATE_EXPECT=1 cargo test -p alembix-core --test split`
//! rewrites the expectations; review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use alembix_core::sql::{split_statements, Split, SqlDialect};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn render(sql: &str) -> String {
    let mut out = String::new();
    let mut seen: Vec<(SqlDialect, Split)> = Vec::new();
    for dialect in SqlDialect::ALL {
        let split = split_statements(sql, 1, dialect);
        if let Some((first, _)) = seen.iter().find(|(_, s)| *s == split) {
            writeln!(out, "{dialect}: as {first}").unwrap();
            continue;
        }
        writeln!(out, "{dialect}:").unwrap();
        for s in &split.statements {
            writeln!(out, "  {}: {:?}", s.line, s.sql).unwrap();
        }
        if let Some(u) = &split.unterminated {
            writeln!(out, "  unterminated: {u}").unwrap();
        }
        seen.push((dialect, split));
    }
    out
}

#[test]
fn split_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/split/cases");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "cases missing from {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let sql = std::fs::read_to_string(case).unwrap();
        let actual = render(&sql);
        let expected = case.with_extension("expected");
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&expected, &actual).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected).unwrap_or_default();
        if want != actual {
            failures.push(format!(
                "--- {} (expected)\n{want}\n+++ actual\n{actual}",
                expected.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
