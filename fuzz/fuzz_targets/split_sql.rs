//! `alembix_core::sql::split_statements` on arbitrary text, for every dialect:
//! it never panics; each statement is a non-empty, trimmed piece of the text, in
//! order, on a line within the text; `Splits` gives each dialect the same split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use alembix_core::sql::{self, Splits, SqlDialect};

fuzz_target!(|data: &[u8]| {
    let (first_line, text) = match data.split_first() {
        Some((&b, rest)) => (u32::from(b) + 1, rest),
        None => (1, data),
    };
    let text = String::from_utf8_lossy(text);
    let last_line =
        first_line + u32::try_from(text.matches('\n').count()).unwrap_or(u32::MAX - 256);
    let splits = Splits::new(&text, first_line);
    let mut any = false;
    for dialect in SqlDialect::ALL {
        let split = sql::split_statements(&text, first_line, dialect);
        assert_eq!(splits.get(dialect), &split, "{dialect}");
        let mut from = 0usize;
        let mut line = first_line;
        for s in &split.statements {
            assert!(!s.sql.is_empty(), "{dialect}: an empty statement");
            assert_eq!(s.sql.trim_ascii(), s.sql, "{dialect}: not trimmed");
            let at = match text[from..].find(s.sql.as_str()) {
                Some(at) => from + at,
                None => panic!(
                    "{dialect}: {:?} is not a piece of the text after byte {from}",
                    s.sql
                ),
            };
            from = at + s.sql.len();
            assert!(
                s.line >= line && s.line <= last_line,
                "{dialect}: line {} of {first_line}..={last_line}",
                s.line
            );
            line = s.line;
        }
        if let Some(u) = &split.unterminated {
            assert!(
                u.line >= first_line && u.line <= last_line,
                "{dialect}: {u}"
            );
        }
        any |= !split.statements.is_empty();
    }
    assert_eq!(sql::has_statements(&text), any);
    let _ = sql::ends_in_line_comment(&text, SqlDialect::Mysql);
    let _ = sql::has_semicolon(&text, SqlDialect::Postgres);
});
