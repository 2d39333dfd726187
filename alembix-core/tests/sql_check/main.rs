//! Data-driven cases of the build-time SQL check: every `cases/<name>.sql` is
//! one section (its first line is line 1), split and checked for each dialect
//! its first line names (`-- check: postgresql mysql`; all three without it),
//! in a migration run in a transaction and in one run without; the problems
//! (kind, line, message) are compared with `cases/<name>.expected`.
//! `UPDATE_EXPECT=1 cargo test -p alembix-core --features sql-check --test
//! sql_check` rewrites the expectations; review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use alembix_core::sql::{split_statements, SqlDialect};
use alembix_core::{check_section, Problem, ProblemKind, Statement, TransactionMode};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The problems `check_section` finds in `sql` for `dialect`.
fn check(sql: &str, dialect: SqlDialect, transaction: TransactionMode) -> Vec<Problem> {
    let split = split_statements(sql, 1, dialect);
    assert!(
        split.unterminated.is_none(),
        "{dialect}: {:?}",
        split.unterminated
    );
    check_section("case.sql", dialect, transaction, sql, &split.statements)
}

fn render_problems(out: &mut String, problems: &[Problem]) {
    if problems.is_empty() {
        writeln!(out, "  ok").unwrap();
    }
    for p in problems {
        writeln!(
            out,
            "  [{:?}] {}: {}",
            p.kind,
            p.line.unwrap_or(0),
            p.message
        )
        .unwrap();
    }
}

/// The dialects a case's first line names, or all.
fn dialects_of(sql: &str) -> Vec<SqlDialect> {
    let Some(names) = sql.lines().next().and_then(|l| l.strip_prefix("-- check:")) else {
        return SqlDialect::ALL.to_vec();
    };
    names
        .split_whitespace()
        .map(|name| {
            *SqlDialect::ALL
                .iter()
                .find(|d| d.name() == name)
                .unwrap_or_else(|| panic!("unknown dialect {name}"))
        })
        .collect()
}

fn render(sql: &str) -> String {
    let mut out = String::new();
    for dialect in dialects_of(sql) {
        let per_migration = check(sql, dialect, TransactionMode::PerMigration);
        writeln!(out, "{dialect}, transaction per-migration:").unwrap();
        render_problems(&mut out, &per_migration);
        let none = check(sql, dialect, TransactionMode::None);
        if none == per_migration {
            writeln!(out, "{dialect}, transaction none: as per-migration").unwrap();
        } else {
            writeln!(out, "{dialect}, transaction none:").unwrap();
            render_problems(&mut out, &none);
        }
    }
    out
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql_check/cases")
}

#[test]
fn sql_check_cases() {
    let dir = cases_dir();
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

fn kinds(problems: &[Problem]) -> Vec<(ProblemKind, u32)> {
    problems
        .iter()
        .map(|p| (p.kind, p.line.unwrap_or(0)))
        .collect()
}

#[test]
fn every_problem_says_what_to_do() {
    let sql = "CREAT TABLE t (id INT);\nCREATE INDEX CONCURRENTLY i ON t (id);\n";
    let problems = check(sql, SqlDialect::Postgres, TransactionMode::PerMigration);
    assert_eq!(
        kinds(&problems),
        [
            (ProblemKind::SqlSyntax, 1),
            (ProblemKind::NotTransactional, 2)
        ]
    );
    let syntax = problems[0].help.as_deref().unwrap();
    assert!(syntax.contains("-- alembix:unchecked: <why>"), "{syntax}");
    assert!(syntax.contains("just before the statement"), "{syntax}");
    let refused = problems[1].help.as_deref().unwrap();
    assert!(refused.contains("`-- transaction: none`"), "{refused}");
    assert!(refused.contains("migration of its own"), "{refused}");
    assert_eq!(problems[0].file.as_deref(), Some("case.sql"));

    let sql = "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n";
    let problems = check(sql, SqlDialect::Mysql, TransactionMode::PerMigration);
    assert_eq!(kinds(&problems), [(ProblemKind::MixedDdlAndData, 2)]);
    let mixed = problems[0].help.as_deref().unwrap();
    assert!(mixed.contains("migration of its own"), "{mixed}");
    assert!(mixed.contains("`-- transaction: none`"), "{mixed}");
    let message = &problems[0].message;
    assert!(
        message.contains("line 1") && message.contains("line 2"),
        "{message}"
    );
}

/// Problems name the file `line:column` of the error; columns count
/// characters and start where the statement starts on its line.
#[test]
fn errors_are_placed_in_the_file() {
    let at = |sql: &str| -> Vec<String> {
        check(sql, SqlDialect::Sqlite, TransactionMode::PerMigration)
            .iter()
            .map(|p| {
                let m = &p.message;
                let from = m.find(" at ").unwrap() + 4;
                let to = from + m[from..].find(':').unwrap();
                let to = to + 1 + m[to + 1..].find(':').unwrap();
                format!("{}@{}", p.line.unwrap(), &m[from..to])
            })
            .collect()
    };
    assert_eq!(at("\n\n  SELEC 1;"), ["3@3:3"]);
    assert_eq!(at("SELECT 'é', 'ü' FRO x;"), ["1@1:21"]);
    assert_eq!(at("SELECT 1; SELECT 'é' FRO x;"), ["1@1:26"]);
    assert_eq!(at("SELECT 1;\nSELECT\n  a,\n  b c d\nFROM t;"), ["4@4:7"]);
    // No place from the parser (the text ends too early): just after the statement.
    assert_eq!(at("SELECT 1;\nCREATE TABLE t (\n  id INT"), ["3@3:9"]);
}

/// sqlparser's tokenizer can refuse a text the splitter accepted (or a
/// section that ends inside a string): that is a syntax problem too, placed.
#[test]
fn a_tokenizer_error_is_placed() {
    let text = "SELECT 1;\n  SELECT 'abc";
    let statements = [
        Statement {
            line: 5,
            sql: "SELECT 1".to_string(),
        },
        Statement {
            line: 6,
            sql: "SELECT 'abc".to_string(),
        },
    ];
    let problems = check_section(
        "m.sql",
        SqlDialect::Postgres,
        TransactionMode::PerMigration,
        text,
        &statements,
    );
    assert_eq!(kinds(&problems), [(ProblemKind::SqlSyntax, 6)]);
    assert!(
        problems[0]
            .message
            .contains("at 6:10: Unterminated string literal"),
        "{}",
        problems[0].message
    );
}

/// A text that does not hold the statements (a caller's mistake) costs the
/// markers and exact columns, nothing else.
#[test]
fn a_text_without_the_statements_is_survived() {
    let statements = [Statement {
        line: 9,
        sql: "CREAT TABLE t (id INT)".to_string(),
    }];
    let problems = check_section(
        "m.sql",
        SqlDialect::Sqlite,
        TransactionMode::PerMigration,
        "-- alembix:unchecked\nsomething else",
        &statements,
    );
    assert_eq!(kinds(&problems), [(ProblemKind::SqlSyntax, 9)]);
    assert!(
        problems[0].message.contains("at 9:1:"),
        "{}",
        problems[0].message
    );
    assert!(check_section("m.sql", SqlDialect::Sqlite, TransactionMode::None, "", &[]).is_empty());
}

/// The core checks files on several threads: the check has no shared state,
/// and gives the same answer everywhere.
#[test]
fn checks_agree_across_threads() {
    let sql = std::fs::read_to_string(cases_dir().join("typos.sql")).unwrap();
    let alone: Vec<Vec<Problem>> = SqlDialect::ALL
        .iter()
        .map(|&d| check(&sql, d, TransactionMode::PerMigration))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    SqlDialect::ALL
                        .iter()
                        .map(|&d| check(&sql, d, TransactionMode::PerMigration))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap(), alone);
        }
    });
}
