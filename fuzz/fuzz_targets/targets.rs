//! Alembic's target grammar on arbitrary strings over a small fixed history
//! (branches, a merge, labels, `depends_on`): resolving and planning never
//! panic, and the relative parser agrees with a literal reading of the regex.
#![no_main]

use libfuzzer_sys::fuzz_target;
use alembix_core::plan::{self, IterateOptions, RevArg};
use alembix_core::resolve;
use alembix_core::{Graph, GraphOptions, HeadPolicy, RevisionSpec};
use std::sync::OnceLock;

fn graph() -> &'static Graph {
    static GRAPH: OnceLock<Graph> = OnceLock::new();
    GRAPH.get_or_init(|| {
        // id, down_revision, branch_labels, depends_on
        type Row = (
            &'static str,
            &'static [&'static str],
            &'static [&'static str],
            &'static [&'static str],
        );
        let rows: [Row; 8] = [
            ("a1b2", &[], &["core"], &[]),
            ("b2c3", &["a1b2"], &[], &[]),
            ("c3d4", &["b2c3"], &[], &[]),
            ("d4e5", &["b2c3"], &[], &[]),
            ("e5f6", &["c3d4", "d4e5"], &[], &[]),
            ("f6a7", &[], &["other"], &[]),
            ("a7b8", &["f6a7"], &[], &["c3d4"]),
            ("b8c9", &["e5f6"], &[], &[]),
        ];
        let specs = rows
            .iter()
            .map(|(id, down, labels, deps)| RevisionSpec {
                revision: id.to_string(),
                down_revisions: down.iter().map(|s| s.to_string()).collect(),
                branch_labels: labels.iter().map(|s| s.to_string()).collect(),
                depends_on: deps.iter().map(|s| s.to_string()).collect(),
                ..RevisionSpec::default()
            })
            .collect();
        match Graph::build(
            specs,
            &GraphOptions {
                heads: HeadPolicy::Any,
            },
        ) {
            Ok(g) => g,
            Err(problems) => panic!("the fixed history is valid: {problems}"),
        }
    })
}

/// Alembic's `(?:(.+?)@)?(\w+)?((?:\+|-)\d+)`, matched as a whole, read
/// literally: every label end tried from the left, every tail read afresh.
fn relative_reference(ident: &str) -> Option<(Option<&str>, Option<&str>, &str)> {
    for (at, _) in ident.match_indices('@') {
        let label = &ident[..at];
        if label.is_empty() || label.contains('\n') {
            continue;
        }
        if let Some((symbol, written)) = relative_tail_reference(&ident[at + 1..]) {
            return Some((Some(label), symbol, written));
        }
    }
    relative_tail_reference(ident).map(|(symbol, written)| (None, symbol, written))
}

/// `(\w+)?((?:\+|-)\d+)` matched as a whole.
fn relative_tail_reference(s: &str) -> Option<(Option<&str>, &str)> {
    let word_end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(s.len(), |(i, _)| i);
    let (symbol, rest) = s.split_at(word_end);
    let digits = rest.strip_prefix(['+', '-'])?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(((!symbol.is_empty()).then_some(symbol), rest))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Up to three strings: a target, another target, and version-table rows.
    let mut parts = text.splitn(3, '\0');
    let target = parts.next().unwrap_or("");
    let other = parts.next().unwrap_or("heads");
    let rows: Vec<&str> = parts.next().map_or(Vec::new(), |r| r.split(',').collect());
    let g = graph();

    let got = resolve::parse_relative(target).map(|r| (r.label, r.symbol, r.written));
    assert_eq!(got, relative_reference(target));
    let _ = resolve::resolve(g, target);
    let _ = resolve::resolve_many(g, target);
    let _ = resolve::check_revision_id(target);
    for rows in [rows.as_slice(), &["e5f6", "a7b8"], &[]] {
        let _ = plan::plan_upgrade(g, rows, target);
        let _ = plan::plan_downgrade(g, rows, target);
        let _ = plan::plan_stamp(g, rows, &[target, other], false);
        let _ = plan::history(g, Some(target), rows);
        let _ = plan::current(g, rows);
        let _ = plan::check_heads(g, rows);
        let _ = plan::iterate(
            g,
            RevArg::Many(rows),
            RevArg::One(target),
            &IterateOptions {
                select_for_downgrade: true,
                ..IterateOptions::default()
            },
        );
    }
    let _ = plan::plan_stamp(g, &[], &[target], true);
    let range = format!("{target}:{other}");
    let _ = plan::plan_upgrade_offline(g, &range);
    let _ = plan::plan_downgrade_offline(g, &range);
    let _ = plan::plan_stamp_offline(g, &[range.as_str(), other]);
    let _ = plan::history(g, Some(&range), &[]);
    let _ = plan::new_revision_parents(g, &[target, other], true);
    let _ = plan::resolve_depends_on(g, &[target]);
    for options in [
        IterateOptions::default(),
        IterateOptions {
            inclusive: true,
            assert_relative_length: false,
            ..IterateOptions::default()
        },
        IterateOptions {
            implicit_base: true,
            ..IterateOptions::default()
        },
    ] {
        let _ = plan::iterate(g, RevArg::One(target), RevArg::One(other), &options);
        let _ = plan::iterate(g, RevArg::One(other), RevArg::One(target), &options);
    }
});
