//! Property tests: plans on random histories with branches, merges and
//! `depends_on`, and inputs that must never panic the parser, the validator or
//! the planner.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use alembix_core::plan::{self, IterateOptions};
use alembix_core::resolve::{self, RevArg};
use alembix_core::{
    file, Graph, GraphOptions, HeadPolicy, MigrationSet, RevIdx, RevisionSpec, SourceFile,
};
use proptest::prelude::*;
use proptest::sample::Index;

/// One generated revision: parents and dependencies among earlier revisions
/// (by creation number), and maybe a branch label.
#[derive(Debug, Clone)]
struct Gen {
    down: Vec<usize>,
    deps: Vec<usize>,
    label: bool,
}

/// A random history: creation order is a topological order; the load order (the
/// order given to `Graph::build`, i.e. sorted file names) is a shuffle of it.
#[derive(Debug, Clone)]
struct History {
    gens: Vec<Gen>,
    load_order: Vec<usize>,
}

/// `n` cases, unless `PROPTEST_CASES` asks for another number.
fn cases(n: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = n;
    }
    config
}

fn history(max: usize) -> impl Strategy<Value = History> {
    (1..max)
        .prop_flat_map(|n| {
            let rev = (
                0u8..10,
                proptest::collection::vec(any::<Index>(), 2),
                proptest::collection::vec(any::<Index>(), 0..3),
                0u8..12,
            );
            (
                proptest::collection::vec(rev, n),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            )
        })
        .prop_map(|(rows, load_order)| {
            let gens = rows
                .into_iter()
                .enumerate()
                .map(|(i, (shape, parents, deps, label))| {
                    let mut down: Vec<usize> = match (i, shape) {
                        (0, _) | (_, 0) => vec![],                                  // a base
                        (_, 1..=2) => parents.iter().map(|p| p.index(i)).collect(), // a merge
                        _ => vec![parents[0].index(i)],
                    };
                    down.sort_unstable();
                    down.dedup();
                    let mut d: Vec<usize> = if i == 0 {
                        vec![]
                    } else {
                        deps.iter()
                            .map(|p| p.index(i))
                            .filter(|p| !down.contains(p))
                            .collect()
                    };
                    d.sort_unstable();
                    d.dedup();
                    Gen {
                        down,
                        deps: d,
                        label: label == 0,
                    }
                })
                .collect();
            History { gens, load_order }
        })
}

fn id(i: usize) -> String {
    format!("r{i:03}")
}

fn build(h: &History) -> Graph {
    let specs = h
        .load_order
        .iter()
        .map(|&i| {
            let g = &h.gens[i];
            RevisionSpec {
                revision: id(i),
                down_revisions: g.down.iter().map(|&d| id(d)).collect(),
                depends_on: g.deps.iter().map(|&d| id(d)).collect(),
                branch_labels: if g.label {
                    vec![format!("lbl{i}")]
                } else {
                    vec![]
                },
                ..RevisionSpec::default()
            }
        })
        .collect();
    Graph::build(
        specs,
        &GraphOptions {
            heads: HeadPolicy::Any,
        },
    )
    .expect("generated histories are valid")
}

fn idx(g: &Graph, rows: &[String]) -> Vec<RevIdx> {
    rows.iter()
        .map(|r| g.index_of(r).expect("known row"))
        .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The rows a table must hold for `applied`: the applied revisions nothing
/// applied builds on or depends on, in load order.
fn newest(g: &Graph, applied: &[bool]) -> Vec<String> {
    (0..g.len())
        .filter(|&i| applied[i] && !g.followers(i).iter().any(|&f| applied[f]))
        .map(|i| g.rev(i).id.clone())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Applies the plan's row changes one step at a time and checks each step keeps
/// the rows equal to the newest applied revisions.
fn replay(g: &Graph, plan: &plan::Plan) -> Result<(), TestCaseError> {
    let mut rows: Vec<String> = plan.rows_before.clone();
    let mut applied = g.ancestor_mask(&idx(g, &rows), true);
    for step in &plan.steps {
        let r = step.revision.expect("a migration step");
        match step.direction {
            plan::Direction::Upgrade => applied[r] = true,
            plan::Direction::Downgrade => applied[r] = false,
        }
        for gone in &step.remove {
            prop_assert!(rows.contains(gone), "removes {gone}, not a row of {rows:?}");
            rows.retain(|x| x != gone);
        }
        for new in &step.add {
            prop_assert!(!rows.contains(new), "adds {new}, already a row");
            rows.push(new.clone());
        }
        prop_assert_eq!(sorted(rows.clone()), sorted(newest(g, &applied)));
    }
    prop_assert_eq!(sorted(rows), sorted(plan.rows_after.clone()));
    Ok(())
}

proptest! {
    #![proptest_config(cases(300))]

    /// `upgrade heads` from an empty database runs every revision exactly once,
    /// after its parents and dependencies; the rows end as the effective heads.
    /// `downgrade base` runs exactly the reverse and empties the table.
    #[test]
    fn upgrade_all_then_downgrade_all(h in history(40)) {
        let g = build(&h);
        let up = plan::plan_upgrade(&g, &[], "heads").unwrap();
        let order: Vec<RevIdx> = up.steps.iter().map(|s| s.revision.unwrap()).collect();
        prop_assert_eq!(order.len(), g.len());
        let mut position = vec![usize::MAX; g.len()];
        for (k, &r) in order.iter().enumerate() {
            prop_assert_eq!(position[r], usize::MAX, "{} runs twice", g.rev(r).id);
            position[r] = k;
        }
        for (r, rev) in g.revisions().iter().enumerate() {
            for p in rev.all_parents() {
                prop_assert!(position[p] < position[r], "{} runs before its parent {}", rev.id, g.rev(p).id);
            }
        }
        prop_assert_eq!(&up.rows_after, &g.ids(g.real_heads()));
        replay(&g, &up)?;

        let rows = up.rows_after.clone();
        let down = plan::plan_downgrade(&g, &strs(&rows), "base").unwrap();
        let back: Vec<RevIdx> = down.steps.iter().map(|s| s.revision.unwrap()).collect();
        let mut reversed = order.clone();
        reversed.reverse();
        prop_assert_eq!(back, reversed);
        prop_assert!(down.rows_after.is_empty());
        replay(&g, &down)?;
    }

    /// Upgrade to `a`, then to `b`, then downgrade to `a`: what the downgrade
    /// reverts is exactly what lies above `a`, and when the upgrade to `b` only
    /// added revisions above `a`, the rows are back to what they were at `a`.
    /// (When nothing applied lies above `a` through `down_revision` and `a` is not
    /// a row, e.g. `b` only depends on `a`, Alembic refuses the downgrade; so do we.)
    #[test]
    fn upgrade_then_downgrade_returns(h in history(30), a in any::<Index>(), b in any::<Index>()) {
        let g = build(&h);
        let (a, b) = (a.index(g.len()), b.index(g.len()));
        let at_a = plan::plan_upgrade(&g, &[], &g.rev(a).id).unwrap();
        replay(&g, &at_a)?;
        let rows_a = at_a.rows_after.clone();
        let to_b = plan::plan_upgrade(&g, &strs(&rows_a), &g.rev(b).id).unwrap();
        replay(&g, &to_b)?;
        let rows_b = to_b.rows_after.clone();

        let applied_a = g.ancestor_mask(&idx(&g, &rows_a), true);
        let applied_b = g.ancestor_mask(&idx(&g, &rows_b), true);
        let above_a = g.descendant_mask(&g.rev(a).children, true);
        let expected: Vec<bool> = (0..g.len()).map(|x| applied_b[x] && !above_a[x]).collect();
        let back = plan::plan_downgrade(&g, &strs(&rows_b), &g.rev(a).id);
        let nothing_to_drop = expected == applied_b;
        if nothing_to_drop && !rows_b.contains(&g.rev(a).id) {
            prop_assert_eq!(back.map_err(|e| e.kind), Err(plan::PlanErrorKind::RangeNotAncestor));
            return Ok(());
        }
        let back = back.unwrap();
        replay(&g, &back)?;
        let after = g.ancestor_mask(&idx(&g, &back.rows_after), true);
        prop_assert_eq!(&after, &expected);
        prop_assert_eq!(sorted(back.rows_after.clone()), sorted(newest(&g, &expected)));
        let only_above = (0..g.len())
            .filter(|&x| applied_b[x] && !applied_a[x])
            .all(|x| above_a[x]);
        if only_above {
            prop_assert_eq!(sorted(back.rows_after.clone()), sorted(rows_a));
        }
    }

    /// Normalized dependencies are the declared ones minus those a versioned
    /// ancestor already declares (Alembic's `_normalize_depends_on`), computed
    /// here by brute force.
    #[test]
    fn normalized_dependencies_match_the_definition(h in history(40)) {
        let g = build(&h);
        for (r, rev) in g.revisions().iter().enumerate() {
            let mut below = g.ancestor_mask(&[r], false);
            below[r] = false;
            let declared_below: Vec<RevIdx> = (0..g.len())
                .filter(|&a| below[a])
                .flat_map(|a| g.rev(a).deps.clone())
                .collect();
            let expected: Vec<RevIdx> = rev.deps.iter().copied().filter(|d| !declared_below.contains(d)).collect();
            prop_assert_eq!(&rev.normalized_deps, &expected, "{}", rev.id);
            let parents: Vec<RevIdx> = rev.normalized_parents().collect();
            prop_assert_eq!(g.parents(r), parents.as_slice());
        }
    }

    /// Upgrading in two plans (to a revision, then to heads) runs everything once.
    #[test]
    fn two_upgrades_run_everything_once(h in history(30), a in any::<Index>()) {
        let g = build(&h);
        let a = a.index(g.len());
        let first = plan::plan_upgrade(&g, &[], &g.rev(a).id).unwrap();
        let rest = plan::plan_upgrade(&g, &strs(&first.rows_after), "heads").unwrap();
        let mut all: Vec<RevIdx> = first.steps.iter().chain(rest.steps.iter()).map(|s| s.revision.unwrap()).collect();
        prop_assert_eq!(all.len(), g.len());
        all.sort_unstable();
        all.dedup();
        prop_assert_eq!(all.len(), g.len());
        prop_assert_eq!(&rest.rows_after, &g.ids(g.real_heads()));
    }
}

/// Identifiers worth throwing at the resolver: the grammar's pieces glued at
/// random, plus arbitrary text.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9@+:_ -]{0,14}",
        "((lbl[0-9]{1,2}|r0[0-9]{2}|head|heads|base|current|x)@)?(head|heads|base|r0[0-9]{0,2}|-?[0-9]{1,3}|)([+-][0-9]{1,25})?",
        "[@+-]{1,4}[0-9]{0,30}",
    ]
}

proptest! {
    #![proptest_config(cases(400))]

    /// No identifier, target, range or row panics a look-up or a plan.
    #[test]
    fn arbitrary_identifiers_never_panic(
        h in history(16),
        target in ident(),
        other in ident(),
        rows in proptest::collection::vec(prop_oneof![ident(), "r0[0-9]{2}"], 0..3),
    ) {
        let g = build(&h);
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let t = target.as_str();
        let _ = resolve::resolve(&g, t);
        let _ = resolve::resolve_many(&g, t);
        let _ = resolve::parse_relative(t);
        let _ = resolve::check_revision_id(t);
        let _ = plan::plan_upgrade(&g, &rows, t);
        let _ = plan::plan_downgrade(&g, &rows, t);
        let _ = plan::plan_stamp(&g, &rows, &[t, other.as_str()], false);
        let _ = plan::plan_stamp(&g, &rows, &[t], true);
        let range = format!("{t}:{other}");
        let _ = plan::plan_upgrade_offline(&g, &range);
        let _ = plan::plan_downgrade_offline(&g, &range);
        let _ = plan::plan_stamp_offline(&g, &[range.as_str(), t]);
        let _ = plan::history(&g, Some(&range), &rows);
        let _ = plan::history(&g, Some(t), &rows);
        let _ = plan::current(&g, &rows);
        let _ = plan::check_heads(&g, &rows);
        let _ = plan::new_revision_parents(&g, &[t], false);
        let _ = plan::resolve_depends_on(&g, &[t]);
        for options in [
            IterateOptions::default(),
            IterateOptions { inclusive: true, assert_relative_length: false, ..IterateOptions::default() },
            IterateOptions { implicit_base: true, ..IterateOptions::default() },
            IterateOptions { select_for_downgrade: true, ..IterateOptions::default() },
            IterateOptions { select_for_downgrade: true, implicit_base: true, inclusive: true, assert_relative_length: false },
        ] {
            let _ = plan::iterate(&g, RevArg::One(t), RevArg::One(other.as_str()), &options);
            let _ = plan::iterate(&g, RevArg::Many(&rows), RevArg::One(t), &options);
            let _ = plan::iterate(&g, RevArg::One(t), RevArg::Base, &options);
        }
    }

    /// Arbitrary bytes never panic the file parser.
    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = file::parse("migrations/0001_abc.sql", &text);
    }

    /// Text shaped like a migration file, with random fields, never panics the
    /// parser or the validator.
    #[test]
    fn header_shaped_text_never_panics(files in proptest::collection::vec(
        (
            "[a-z0-9_@-]{0,6}",
            proptest::collection::vec("[a-z0-9_, ]{0,8}", 0..4),
            prop_oneof![Just(""), Just("-- migrate:upgrade\nCREATE TABLE t (id int);\n"), Just("-- migrate:upgrade\n-- migrate:downgrade\n"), Just("-- migrate:downgrade\n-- migrate:upgrade\nx;\n-- migrate:irreversible\n")],
            any::<String>(),
        ),
        0..6,
    )) {
        let sources: Vec<SourceFile> = files
            .iter()
            .enumerate()
            .map(|(i, (rev, fields, body, noise))| {
                let keys = ["down_revision", "branch_labels", "depends_on", "transaction"];
                let mut text = format!("-- revision: {rev}\n");
                for (k, v) in keys.iter().zip(fields) {
                    text.push_str(&format!("-- {k}: {v}\n"));
                }
                text.push_str(body);
                text.push_str(noise);
                SourceFile { name: format!("migrations/{i:02}_{rev}.sql"), text }
            })
            .collect();
        for s in &sources {
            let _ = file::parse(&s.name, &s.text);
        }
        if let Ok(set) = MigrationSet::from_sources(&sources, &GraphOptions { heads: HeadPolicy::Any }) {
            let _ = plan::plan_upgrade(set.graph(), &[], "heads");
        }
    }

    /// Arbitrary graphs (self-loops, cycles, gaps, duplicates, label clashes)
    /// never panic the validator, and what validates can be planned.
    #[test]
    fn arbitrary_graphs_never_panic(specs in proptest::collection::vec(
        (
            "[abc][0-9]?",
            proptest::collection::vec("[abc][0-9]?", 0..3),
            proptest::collection::vec("[abc][0-9]?|l[0-9]", 0..2),
            proptest::collection::vec("l[0-9]|[ab]", 0..2),
        ),
        0..10,
    )) {
        let specs: Vec<RevisionSpec> = specs
            .into_iter()
            .map(|(revision, down, deps, labels)| RevisionSpec {
                revision,
                down_revisions: down,
                depends_on: deps,
                branch_labels: labels,
                ..RevisionSpec::default()
            })
            .collect();
        for policy in [HeadPolicy::Any, HeadPolicy::OnePerBranchLabel] {
            if let Ok(g) = Graph::build(specs.clone(), &GraphOptions { heads: policy }) {
                let up = plan::plan_upgrade(&g, &[], "heads").unwrap();
                prop_assert_eq!(up.steps.len(), g.len());
                let rows = up.rows_after.clone();
                let down = plan::plan_downgrade(&g, &strs(&rows), "base").unwrap();
                prop_assert_eq!(down.steps.len(), g.len());
                let _ = plan::history(&g, None, &[]);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Graphs whose links may point anywhere: cycles through merges, through
// `depends_on`, through a revision's own branch label.

/// One revision of a [`Wild`] graph, links by creation number.
#[derive(Debug, Clone)]
struct WildRev {
    down: Vec<usize>,
    /// Dependencies: (revision, named by its branch label).
    deps: Vec<(usize, bool)>,
    label: bool,
}

/// A random graph; in a cyclic one, a link may point at any other revision
/// (later ones included), so cycles appear; otherwise only at earlier ones.
#[derive(Debug, Clone)]
struct Wild {
    revs: Vec<WildRev>,
    load_order: Vec<usize>,
}

fn wild(max: usize) -> impl Strategy<Value = Wild> {
    (1..max, any::<bool>())
        .prop_flat_map(|(n, cyclic)| {
            // (target, back link when < 3, by label)
            let link = (any::<Index>(), 0u8..10, any::<bool>());
            let rev = (
                0u8..10,
                proptest::collection::vec(link.clone(), 2),
                proptest::collection::vec(link, 0..3),
                any::<bool>(),
            );
            (
                proptest::collection::vec(rev, n),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                Just(cyclic),
            )
        })
        .prop_map(|(rows, load_order, cyclic)| {
            let n = rows.len();
            let target = |i: usize, &(at, back, _): &(Index, u8, bool)| -> Option<usize> {
                if cyclic && back < 3 {
                    Some(at.index(n))
                } else {
                    (i > 0).then(|| at.index(i))
                }
            };
            let labels: Vec<bool> = rows.iter().map(|r| r.3).collect();
            let revs = rows
                .iter()
                .enumerate()
                .map(|(i, (shape, parents, deps, label))| {
                    let mut down: Vec<usize> = match shape {
                        0 => vec![],
                        1..=3 => parents.iter().filter_map(|l| target(i, l)).collect(),
                        _ => target(i, &parents[0]).into_iter().collect(),
                    };
                    // A revision naming itself is another problem (a self-loop).
                    down.retain(|&d| d != i);
                    down.sort_unstable();
                    down.dedup();
                    let mut d: Vec<(usize, bool)> = Vec::new();
                    for l in deps {
                        if let Some(j) = target(i, l) {
                            let by_label = l.2 && labels[j];
                            // Its own id is a self-loop; its own label is a cycle we look for.
                            if (j != i || by_label) && !d.iter().any(|&(k, _)| k == j) {
                                d.push((j, by_label));
                            }
                        }
                    }
                    WildRev {
                        down,
                        deps: d,
                        label: *label,
                    }
                })
                .collect();
            Wild { revs, load_order }
        })
}

fn wild_specs(w: &Wild) -> Vec<RevisionSpec> {
    w.load_order
        .iter()
        .map(|&i| {
            let r = &w.revs[i];
            RevisionSpec {
                revision: id(i),
                down_revisions: r.down.iter().map(|&d| id(d)).collect(),
                depends_on: r
                    .deps
                    .iter()
                    .map(|&(d, by_label)| if by_label { format!("lbl{d}") } else { id(d) })
                    .collect(),
                branch_labels: if r.label {
                    vec![format!("lbl{i}")]
                } else {
                    vec![]
                },
                origin: alembix_core::Origin {
                    file: Some(format!("m/{}.sql", id(i))),
                    line: None,
                },
                ..RevisionSpec::default()
            }
        })
        .collect()
}

/// The same graph as migration files.
fn wild_sources(w: &Wild) -> Vec<SourceFile> {
    wild_specs(w)
        .into_iter()
        .map(|s| {
            let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
            let mut text = format!("-- revision: {}\n-- down_revision: {}\n", s.revision, list(&s.down_revisions));
            if !s.branch_labels.is_empty() {
                text.push_str(&format!("-- branch_labels: {}\n", s.branch_labels.join(", ")));
            }
            if !s.depends_on.is_empty() {
                text.push_str(&format!("-- depends_on: {}\n", s.depends_on.join(", ")));
            }
            text.push_str("\n-- migrate:upgrade\nCREATE TABLE t (id int);\n\n-- migrate:downgrade\nDROP TABLE t;\n");
            SourceFile { name: s.origin.file.unwrap_or_default(), text }
        })
        .collect()
}

/// Which revisions lie on a cycle of `edges` (reach themselves again), by brute force.
fn on_cycles(n: usize, edges: &dyn Fn(usize) -> Vec<usize>) -> std::collections::BTreeSet<String> {
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
        .map(id)
        .collect()
}

/// The revision ids a cycle problem lists in `(…)`.
fn listed(message: &str) -> Vec<String> {
    match (message.find('('), message.rfind(')')) {
        (Some(a), Some(b)) if a < b => message[a + 1..b].split(", ").map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Runs every planner, iterator and check on `g` with targets of every shape;
/// they must return (the test would hang otherwise) and never panic.
fn exercise(g: &Graph) -> Result<(), TestCaseError> {
    let up = plan::plan_upgrade(g, &[], "heads").unwrap();
    prop_assert_eq!(up.steps.len(), g.len());
    let top = up.rows_after.clone();
    let top = strs(&top);
    let mut targets: Vec<String> = [
        "heads",
        "head",
        "base",
        "+1",
        "-1",
        "+3",
        "-3",
        "heads-1",
        "head-1",
        "base+1",
        "base+2",
        "+99999999999999999999",
        "-99999999999999999999",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, rev) in g.revisions().iter().enumerate() {
        let r = &rev.id;
        targets.extend([
            r.clone(),
            format!("{r}+1"),
            format!("{r}-1"),
            format!("{r}+9"),
            format!("{r}@head"),
        ]);
        for l in &rev.declared_labels {
            targets.extend([
                format!("{l}@head"),
                format!("{l}@heads"),
                format!("{l}@base"),
                format!("{l}@+1"),
                format!("{l}@-1"),
                format!("{l}@{r}"),
            ]);
        }
        // From one row: everything above it, and the assessment of that database.
        let one = [r.as_str()];
        let _ = plan::plan_upgrade(g, &one, "heads");
        let _ = alembix_core::assess(g, &one, &|_| None);
        let _ = plan::current(g, &one);
        let _ = plan::check_heads(g, &one);
        let _ = g.ancestor_mask(&[i], true);
        let _ = g.descendant_mask(&[i], true);
    }
    for t in &targets {
        let t = t.as_str();
        let _ = resolve::resolve(g, t);
        let _ = resolve::resolve_many(g, t);
        let _ = plan::plan_upgrade(g, &[], t);
        let _ = plan::plan_downgrade(g, &top, t);
        let _ = plan::plan_stamp(g, &top, &[t], false);
        let _ = plan::plan_stamp(g, &[], &[t, "heads"], false);
        let _ = plan::plan_upgrade_offline(g, &format!("base:{t}"));
        let _ = plan::plan_downgrade_offline(g, &format!("heads:{t}"));
        let _ = plan::plan_stamp_offline(g, &[t]);
        let _ = plan::history(g, Some(&format!("{t}:")), &[]);
        let _ = plan::history(g, Some(&format!(":{t}")), &top);
        let _ = plan::history(g, Some(&format!("{t}:current")), &top);
        let _ = plan::new_revision_parents(g, &[t], true);
        let _ = plan::iterate(g, RevArg::One(t), RevArg::Base, &IterateOptions::default());
        let _ = plan::iterate(
            g,
            RevArg::Many(&top),
            RevArg::One(t),
            &IterateOptions {
                select_for_downgrade: true,
                ..IterateOptions::default()
            },
        );
    }
    let _ = plan::history(g, None, &[]);
    prop_assert!(plan::check_heads(g, &top).is_ok());
    // `current` adds the branch tips the rows imply through depends_on.
    let current = g.ids(&plan::current(g, &top).unwrap());
    prop_assert!(top.iter().all(|r| current.iter().any(|c| c == r)));
    let all = vec![true; g.len()];
    prop_assert_eq!(
        alembix_core::topological_sort(g, &all, g.real_heads())
            .unwrap()
            .len(),
        g.len()
    );
    prop_assert_eq!(
        alembix_core::assess(g, &top, &|_| None),
        alembix_core::Assessment::UpToDate
    );
    let down = plan::plan_downgrade(g, &top, "base").unwrap();
    prop_assert_eq!(down.steps.len(), g.len());
    Ok(())
}

proptest! {
    #![proptest_config(cases(250))]

    /// A graph with a cycle (through `down_revision`, merges, `depends_on` or a
    /// revision's own label) never loads, and its problems name exactly the
    /// revisions on cycles (`Cycle`: those on `down_revision` cycles), sorted,
    /// at the file of one of them; `MigrationSet::from_sources` says the same.
    /// A graph that loads has no cycle, and every planner returns on it.
    #[test]
    fn cycles_are_refused_and_everything_else_terminates(w in wild(14)) {
        let n = w.revs.len();
        let all_cycles = on_cycles(n, &|i| {
            let r = &w.revs[i];
            r.down.iter().copied().chain(r.deps.iter().map(|&(d, _)| d)).collect()
        });
        let down_cycles = on_cycles(n, &|i| w.revs[i].down.clone());
        let any = GraphOptions { heads: HeadPolicy::Any };
        match Graph::build(wild_specs(&w), &any) {
            Ok(g) => {
                prop_assert!(all_cycles.is_empty(), "loaded with cycles through {all_cycles:?}");
                exercise(&g)?;
            }
            Err(problems) => {
                prop_assert!(!all_cycles.is_empty(), "refused without a cycle: {problems}");
                let mut named = std::collections::BTreeSet::new();
                let mut named_down = std::collections::BTreeSet::new();
                for p in problems.iter() {
                    let names = match p.kind {
                        alembix_core::ProblemKind::Cycle | alembix_core::ProblemKind::DependencyCycle => listed(&p.message),
                        alembix_core::ProblemKind::DependencySelfLoop => {
                            p.message.split_whitespace().nth(1).map(str::to_string).into_iter().collect()
                        }
                        other => return Err(TestCaseError::fail(format!("unexpected {other:?}: {p}"))),
                    };
                    prop_assert!(!names.is_empty(), "names nothing: {p}");
                    prop_assert!(names.windows(2).all(|w| w[0] < w[1]), "not sorted: {p}");
                    let file = p.file.clone().unwrap_or_default();
                    prop_assert!(names.iter().any(|r| file == format!("m/{r}.sql")), "{file} is none of {names:?}");
                    prop_assert!(p.help.as_deref().is_some_and(|h| !h.is_empty()));
                    if p.kind == alembix_core::ProblemKind::Cycle {
                        named_down.extend(names.iter().cloned());
                    }
                    named.extend(names);
                }
                prop_assert_eq!(&named, &all_cycles);
                prop_assert_eq!(&named_down, &down_cycles);

                let from_files = MigrationSet::from_sources(&wild_sources(&w), &any);
                let kinds = |ps: &alembix_core::Problems| {
                    let mut v: Vec<(String, String)> = ps.iter().map(|p| (format!("{:?}", p.kind), p.message.clone())).collect();
                    v.sort();
                    v
                };
                match from_files {
                    Ok(_) => prop_assert!(false, "the files loaded"),
                    Err(ps) => prop_assert_eq!(kinds(&ps), kinds(&problems)),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Targets of any length and shape.

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

/// Long runs of the grammar's pieces, glued.
fn long_target() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "@", "+", "-", ":", "1", "42", "head", "@head", "heads", "lbl3", "r001", "\n", "é", "_",
        " ", "+1", "-2", "base",
    ]);
    prop_oneof![
        proptest::collection::vec((piece, 1usize..120), 0..8)
            .prop_map(|runs| { runs.iter().map(|(p, k)| p.repeat(*k)).collect::<String>() }),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(cases(300))]

    /// Resolution never panics on any string, and the one-pass relative parser
    /// reads targets exactly as the literal regex does.
    #[test]
    fn arbitrary_targets_resolve_without_panic(h in history(12), t in long_target()) {
        let got = resolve::parse_relative(&t).map(|r| (r.label, r.symbol, r.written));
        prop_assert_eq!(got, relative_reference(&t));
        let g = build(&h);
        let rows = g.ids(g.real_heads());
        let rows = strs(&rows);
        let _ = resolve::resolve(&g, &t);
        let _ = resolve::resolve_many(&g, &t);
        let _ = plan::plan_upgrade(&g, &[], &t);
        let _ = plan::plan_downgrade(&g, &rows, &t);
        let _ = plan::plan_stamp(&g, &rows, &[t.as_str()], false);
        let _ = plan::plan_upgrade_offline(&g, &t);
        let _ = plan::history(&g, Some(&t), &rows);
        let _ = plan::new_revision_parents(&g, &[t.as_str()], true);
    }
}

// ---------------------------------------------------------------------------
// Inputs the fuzz targets (`fuzz/`) found, kept as plain tests.

/// `plan_graph` (input `14d7d3d31400d71414`): a parent named twice in
/// `down_revision` stood twice in the topological sort's list of heads, and the
/// two entries handed the turn to each other forever, so `history -r r20:`
/// never returned. A parent named twice now counts once.
#[test]
fn fuzz_parent_named_twice_counts_once() {
    let graph = |twice: bool| {
        let specs = (0..21)
            .map(|i| {
                let n = if twice { 2 } else { 1 };
                let (down, deps, labels) = match i {
                    0 => (vec!["r1"; n], vec!["r20"], vec!["l0"]),
                    2 => (vec!["r20"; n], vec!["r0"], vec!["l2"]),
                    _ => (vec![], vec![], vec![]),
                };
                let strings = |v: Vec<&str>| v.into_iter().map(str::to_string).collect();
                RevisionSpec {
                    revision: format!("r{i}"),
                    down_revisions: strings(down),
                    depends_on: strings(deps),
                    branch_labels: strings(labels),
                    ..RevisionSpec::default()
                }
            })
            .collect();
        Graph::build(
            specs,
            &GraphOptions {
                heads: HeadPolicy::Any,
            },
        )
        .unwrap()
    };
    let (twice, once) = (graph(true), graph(false));
    assert_eq!(twice.rev(0).down, vec![1]);
    assert_eq!(twice.rev(1).children, vec![0]);
    for range in ["r20:", "r1:", "base:", ":heads", "r0:r2"] {
        let got = plan::history(&twice, Some(range), &[]).map(|h| twice.ids(&h));
        let want = plan::history(&once, Some(range), &[]).map(|h| once.ids(&h));
        assert_eq!(got, want, "{range}");
    }
    let up = plan::plan_upgrade(&twice, &[], "heads").unwrap();
    assert_eq!(up.steps.len(), 21);
}

/// The columns a line of `history --graph` reads from (`before`) and leads
/// to (`after`): `|` stays, `/` at 2i-1 moves column i to i-1, `\` at 2i+1
/// moves column i to i+1, `X` at 2a+1 swaps a and a+1, `*` is a revision.
fn graph_line_columns(line: &str) -> Result<(usize, usize), String> {
    use std::collections::BTreeSet;
    let (mut before, mut after) = (BTreeSet::new(), BTreeSet::new());
    for (p, c) in line.chars().enumerate() {
        match (c, p % 2) {
            ('|' | '*', 0) => {
                before.insert(p / 2);
                after.insert(p / 2);
            }
            ('/', 1) => {
                before.insert(p / 2 + 1);
                after.insert(p / 2);
            }
            ('\\', 1) => {
                before.insert(p / 2);
                after.insert(p / 2 + 1);
            }
            ('X', 1) => {
                before.extend([p / 2, p / 2 + 1]);
                after.extend([p / 2, p / 2 + 1]);
            }
            (' ', _) => {}
            _ => return Err(format!("`{c}` at {p} in `{line}`")),
        }
    }
    Ok((before.len(), after.len()))
}

proptest! {
    #![proptest_config(cases(300))]

    /// `history --graph` on any history: one row per revision, in the order
    /// given, with one `*`; every line leads to exactly the columns the next
    /// one reads from; the oldest revision's row is the only column left.
    #[test]
    fn the_drawn_graph_accounts_for_every_line(h in history(40)) {
        let g = build(&h);
        let order = alembix_core::history(&g, None, &[]).unwrap();
        let drawn = alembix_core::draw::text(&g, &order, |i| format!("<{}>", g.rev(i).id));
        let mut rows = Vec::new();
        let mut open = 0;
        let mut last_row_width = 0;
        for line in drawn.lines() {
            let (picture, label) = match line.find(" <") {
                Some(at) => (&line[..at], Some(&line[at + 2..line.len() - 1])),
                None => (line, None),
            };
            let (before, after) = graph_line_columns(picture).map_err(TestCaseError::fail)?;
            if let Some(id) = label {
                prop_assert_eq!(picture.matches('*').count(), 1, "{}", drawn);
                rows.push(id.to_string());
                last_row_width = before;
                // A head opens its own column.
                prop_assert!(before == open || before == open + 1, "{}", drawn);
            } else {
                prop_assert_eq!(before, open, "{}", drawn);
            }
            open = after;
            // A base's column closes after its row.
            let is_base = label
                .and_then(|id| g.index_of(id))
                .is_some_and(|i| g.rev(i).down.is_empty());
            if is_base {
                open -= 1;
            }
        }
        let expected: Vec<String> = order.iter().map(|&i| g.rev(i).id.clone()).collect();
        prop_assert_eq!(rows, expected);
        prop_assert_eq!(last_row_width, 1, "{}", drawn);
    }
}
