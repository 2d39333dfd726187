//! A random history decoded from the input (cycles through merges and
//! `depends_on`, self-loops, gaps, duplicate ids and labels included): building
//! it never panics or hangs; a cycle is refused naming exactly the revisions on
//! cycles; and on a history that loads every planner returns, `upgrade heads`
//! runs every revision once and `downgrade base` reverts them all.
#![no_main]

use libfuzzer_sys::fuzz_target;
use alembix_core::plan::{self, IterateOptions, RevArg};
use alembix_core::{resolve, Graph, GraphOptions, HeadPolicy, ProblemKind, RevisionSpec};
use std::collections::BTreeSet;

/// Revision `i` as the input declares it.
struct Declared {
    id: String,
    down: Vec<usize>,
    /// (revision, named by its label)
    deps: Vec<(usize, bool)>,
    label: bool,
}

fn decode(data: &[u8]) -> (Vec<Declared>, GraphOptions, bool, &[u8]) {
    let mut at = 0usize;
    let mut next = || {
        let b = data.get(at).copied().unwrap_or(0);
        at += 1;
        b
    };
    let head = next();
    let n = usize::from(head % 32) + 1;
    let policy = if head & 0x80 != 0 {
        HeadPolicy::OnePerBranchLabel
    } else {
        HeadPolicy::Any
    };
    let reversed = head & 0x40 != 0;
    let mut revs: Vec<Declared> = Vec::with_capacity(n);
    for i in 0..n {
        // bits 0-1: parents (0, 1, 1, 2); 2-3: dependencies; 4: a label;
        // 5: reuse the previous id; 6: links may point anywhere (cycles).
        let shape = next();
        let anywhere = shape & 0x40 != 0;
        let pick = |b: u8| -> Option<usize> {
            if anywhere {
                Some(usize::from(b) % n)
            } else {
                (i > 0).then(|| usize::from(b) % i)
            }
        };
        let mut down = Vec::new();
        for _ in 0..[0, 1, 1, 2][usize::from(shape & 3)] {
            if let Some(j) = pick(next()) {
                down.push(j);
            }
        }
        let mut deps = Vec::new();
        for _ in 0..(shape >> 2) & 3 {
            let b = next();
            if let Some(j) = pick(b & 0x7f) {
                deps.push((j, b & 0x80 != 0));
            }
        }
        let id = if shape & 0x20 != 0 && i > 0 {
            revs[i - 1].id.clone()
        } else {
            format!("r{i}")
        };
        revs.push(Declared {
            id,
            down,
            deps,
            label: shape & 0x10 != 0,
        });
    }
    let rest = data.get(at..).unwrap_or(&[]);
    (revs, GraphOptions { heads: policy }, reversed, rest)
}

fn specs(revs: &[Declared], reversed: bool) -> Vec<RevisionSpec> {
    let mut out: Vec<RevisionSpec> = revs
        .iter()
        .enumerate()
        .map(|(i, r)| RevisionSpec {
            revision: r.id.clone(),
            down_revisions: r.down.iter().map(|&d| revs[d].id.clone()).collect(),
            depends_on: r
                .deps
                .iter()
                .map(|&(d, by_label)| {
                    if by_label {
                        format!("l{d}")
                    } else {
                        revs[d].id.clone()
                    }
                })
                .collect(),
            branch_labels: if r.label {
                vec![format!("l{i}")]
            } else {
                vec![]
            },
            ..RevisionSpec::default()
        })
        .collect();
    if reversed {
        out.reverse();
    }
    out
}

/// Whether the declared links are free of self-loops, duplicates and gaps, so
/// the graph the builder links is the one declared.
fn plain(revs: &[Declared]) -> bool {
    let ids: BTreeSet<&str> = revs.iter().map(|r| r.id.as_str()).collect();
    ids.len() == revs.len()
        && revs.iter().enumerate().all(|(i, r)| {
            !r.down.contains(&i)
                && r.deps
                    .iter()
                    .all(|&(d, by_label)| (by_label && revs[d].label) || (!by_label && d != i))
        })
}

/// Revisions that reach themselves again through `edges`, by brute force.
fn on_cycles(revs: &[Declared], with_deps: bool) -> BTreeSet<String> {
    let n = revs.len();
    let edges = |i: usize| -> Vec<usize> {
        let r = &revs[i];
        let mut e = r.down.clone();
        if with_deps {
            e.extend(r.deps.iter().map(|&(d, _)| d));
        }
        e
    };
    (0..n)
        .filter(|&i| {
            let mut seen = vec![false; n];
            let mut stack = edges(i);
            while let Some(x) = stack.pop() {
                if x == i {
                    return true;
                }
                if !std::mem::replace(&mut seen[x], true) {
                    stack.extend(edges(x));
                }
            }
            false
        })
        .map(|i| revs[i].id.clone())
        .collect()
}

fn listed(message: &str) -> Vec<String> {
    match (message.find('('), message.rfind(')')) {
        (Some(a), Some(b)) if a < b => message[a + 1..b].split(", ").map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn exercise(g: &Graph, extra: &str) {
    let up = match plan::plan_upgrade(g, &[], "heads") {
        Ok(p) => p,
        Err(e) => panic!("upgrade heads: {e}"),
    };
    assert_eq!(up.steps.len(), g.len());
    let top_owned = up.rows_after.clone();
    let top: Vec<&str> = top_owned.iter().map(String::as_str).collect();
    let down = match plan::plan_downgrade(g, &top, "base") {
        Ok(p) => p,
        Err(e) => panic!("downgrade base: {e}"),
    };
    assert_eq!(down.steps.len(), g.len());
    assert!(plan::check_heads(g, &top).is_ok());
    let all = vec![true; g.len()];
    assert_eq!(
        alembix_core::topological_sort(g, &all, g.real_heads()).map(|o| o.len()),
        Ok(g.len())
    );
    assert_eq!(
        alembix_core::assess(g, &top, &|_| None),
        alembix_core::Assessment::UpToDate
    );

    let mut targets: Vec<String> = [
        "heads", "head", "base", "+1", "-1", "+2", "-2", "heads-1", "base+1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Targets around a few revisions the input picks (the last one otherwise).
    let mut picked: Vec<usize> = extra
        .bytes()
        .take(3)
        .map(|b| usize::from(b) % g.len())
        .collect();
    if picked.is_empty() {
        picked.push(g.len() - 1);
    }
    targets.push(extra.to_string());
    for &i in &picked {
        let rev = g.rev(i);
        let r = &rev.id;
        targets.extend([
            r.clone(),
            format!("{r}+1"),
            format!("{r}-1"),
            format!("{r}+40"),
            format!("{r}@head"),
        ]);
        for l in &rev.declared_labels {
            targets.extend([
                format!("{l}@head"),
                format!("{l}@heads"),
                format!("{l}@base"),
                format!("{l}@+1"),
                format!("{l}@-1"),
            ]);
        }
    }
    for rev in g.revisions() {
        let one = [rev.id.as_str()];
        let _ = plan::plan_upgrade(g, &one, "heads");
        let _ = alembix_core::assess(g, &one, &|_| None);
        let _ = plan::current(g, &one);
    }
    for t in &targets {
        let t = t.as_str();
        let _ = resolve::resolve(g, t);
        let _ = resolve::resolve_many(g, t);
        let _ = plan::plan_upgrade(g, &[], t);
        let _ = plan::plan_downgrade(g, &top, t);
        let _ = plan::plan_stamp(g, &top, &[t], false);
        let _ = plan::plan_upgrade_offline(g, &format!("base:{t}"));
        let _ = plan::history(g, Some(&format!("{t}:")), &[]);
        let _ = plan::history(g, Some(&format!(":{t}")), &top);
        let _ = plan::new_revision_parents(g, &[t], true);
        let _ = plan::iterate(g, RevArg::One(t), RevArg::Base, &IterateOptions::default());
    }
    let _ = plan::history(g, None, &[]);
}

fuzz_target!(|data: &[u8]| {
    let (revs, options, reversed, rest) = decode(data);
    let extra = String::from_utf8_lossy(rest);
    let cycles = on_cycles(&revs, true);
    match Graph::build(specs(&revs, reversed), &options) {
        Ok(g) => {
            assert!(cycles.is_empty(), "loaded with cycles through {cycles:?}");
            exercise(&g, &extra);
        }
        Err(problems) => {
            if !plain(&revs) {
                return;
            }
            let mut named = BTreeSet::new();
            let mut named_down = BTreeSet::new();
            for p in problems.iter() {
                match p.kind {
                    ProblemKind::Cycle | ProblemKind::DependencyCycle => {
                        let names = listed(&p.message);
                        assert!(names.windows(2).all(|w| w[0] < w[1]), "not sorted: {p}");
                        if p.kind == ProblemKind::Cycle {
                            named_down.extend(names.iter().cloned());
                        }
                        named.extend(names);
                    }
                    ProblemKind::DependencySelfLoop => {
                        named.extend(p.message.split_whitespace().nth(1).map(str::to_string));
                    }
                    _ => {}
                }
            }
            assert_eq!(named, cycles, "{problems}");
            assert_eq!(named_down, on_cycles(&revs, false), "{problems}");
        }
    }
});
