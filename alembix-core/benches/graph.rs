//! Parse + validate + plan, for 1,000 / 10,000 / 100,000 revisions, as one long
//! chain and as a branchy history (four lanes fork, run six revisions each with
//! a `depends_on` across lanes, and merge back; repeat).
//!
//! Run: `cargo bench -p alembix-core --bench graph`.
//!
//! - `parse_validate_plan`: migration files (text) → `MigrationSet::from_sources`
//!   (parse every file, build and validate the graph) → `plan_upgrade(base → heads)`.
//! - `validate_plan`: the same from already-parsed revisions (`Graph::build` + plan).
//! - `plan_only`: `plan_upgrade` and `plan_downgrade` on a built graph.
//! - `draw_graph`: `history --graph`'s order and drawing on 100,000 revisions
//!   (`cargo bench -p alembix-core --bench graph -- draw_graph`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use alembix_core::plan::{plan_downgrade, plan_upgrade};
use alembix_core::{Graph, GraphOptions, MigrationSet, RevisionSpec, SourceFile};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

/// A revision to generate: id, parents, dependencies.
struct Rev {
    id: String,
    down: Vec<String>,
    deps: Vec<String>,
}

fn rev_id(i: usize) -> String {
    // Twelve hex characters, like Alembic's; the counter keeps them unique.
    format!("{:04x}{:08x}", (i.wrapping_mul(2_654_435_761)) & 0xffff, i)
}

fn chain(n: usize) -> Vec<Rev> {
    (0..n)
        .map(|i| Rev {
            id: rev_id(i),
            down: if i == 0 { vec![] } else { vec![rev_id(i - 1)] },
            deps: vec![],
        })
        .collect()
}

/// Blocks of four lanes of six revisions forking from the last merge and merged
/// back by one revision; lane 1's fourth revision depends on lane 0's second.
fn branchy(n: usize) -> Vec<Rev> {
    const LANES: usize = 4;
    const LEN: usize = 6;
    let mut revs: Vec<Rev> = Vec::with_capacity(n);
    let mut next = 0usize;
    let mut new_id = || {
        next += 1;
        rev_id(next - 1)
    };
    let root = new_id();
    revs.push(Rev {
        id: root.clone(),
        down: vec![],
        deps: vec![],
    });
    let mut trunk = root;
    while revs.len() < n {
        let mut tips = Vec::with_capacity(LANES);
        let mut lane0: Vec<String> = Vec::new();
        for lane in 0..LANES {
            let mut parent = trunk.clone();
            for k in 0..LEN {
                if revs.len() + 1 >= n {
                    break;
                }
                let id = new_id();
                let deps = if lane == 1 && k == 3 && lane0.len() > 1 {
                    vec![lane0[1].clone()]
                } else {
                    vec![]
                };
                revs.push(Rev {
                    id: id.clone(),
                    down: vec![parent],
                    deps,
                });
                if lane == 0 {
                    lane0.push(id.clone());
                }
                parent = id;
            }
            if parent != trunk {
                tips.push(parent);
            }
        }
        let merge = new_id();
        revs.push(Rev {
            id: merge.clone(),
            down: tips,
            deps: vec![],
        });
        trunk = merge;
    }
    revs
}

fn file_of(i: usize, r: &Rev) -> SourceFile {
    let down = if r.down.is_empty() {
        "none".to_string()
    } else {
        r.down.join(", ")
    };
    let mut text = format!("-- revision: {}\n-- down_revision: {down}\n", r.id);
    if !r.deps.is_empty() {
        text.push_str(&format!("-- depends_on: {}\n", r.deps.join(", ")));
    }
    text.push_str(&format!(
        "-- message: step {i}\n\n-- migrate:upgrade\nCREATE TABLE t_{id} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\n-- migrate:downgrade\nDROP TABLE t_{id};\n",
        id = r.id
    ));
    SourceFile {
        name: format!("migrations/{i:06}_{}.sql", r.id),
        text,
    }
}

fn specs_of(revs: &[Rev]) -> Vec<RevisionSpec> {
    revs.iter()
        .map(|r| RevisionSpec {
            revision: r.id.clone(),
            down_revisions: r.down.clone(),
            depends_on: r.deps.clone(),
            ..RevisionSpec::default()
        })
        .collect()
}

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// A history generator: the number of revisions in, the revisions out.
type Shape = fn(usize) -> Vec<Rev>;

fn shapes() -> [(&'static str, Shape); 2] {
    [("chain", chain), ("branchy", branchy)]
}

fn parse_validate_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_validate_plan");
    group.sample_size(10);
    for (shape, make) in shapes() {
        for n in SIZES {
            let revs = make(n);
            let files: Vec<SourceFile> = revs
                .iter()
                .enumerate()
                .map(|(i, r)| file_of(i, r))
                .collect();
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(shape, n), &files, |b, files| {
                b.iter(|| {
                    let set =
                        MigrationSet::from_sources(files, &GraphOptions::default()).expect("valid");
                    let plan = plan_upgrade(set.graph(), &[], "heads").expect("plan");
                    assert_eq!(plan.steps.len(), n);
                    black_box(plan)
                })
            });
        }
    }
    group.finish();
}

fn validate_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate_plan");
    group.sample_size(10);
    for (shape, make) in shapes() {
        for n in SIZES {
            let revs = make(n);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(shape, n), &revs, |b, revs| {
                b.iter_batched(
                    || specs_of(revs),
                    |specs| {
                        let graph = Graph::build(specs, &GraphOptions::default()).expect("valid");
                        let plan = plan_upgrade(&graph, &[], "heads").expect("plan");
                        black_box(plan)
                    },
                    criterion::BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

fn plan_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_only");
    group.sample_size(10);
    for (shape, make) in shapes() {
        for n in SIZES {
            let revs = make(n);
            let graph = Graph::build(specs_of(&revs), &GraphOptions::default()).expect("valid");
            let head = graph.rev(graph.heads()[0]).id.clone();
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{shape}/upgrade"), n),
                &graph,
                |b, g| b.iter(|| black_box(plan_upgrade(g, &[], "heads").expect("plan"))),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("{shape}/downgrade"), n),
                &graph,
                |b, g| {
                    b.iter(|| black_box(plan_downgrade(g, &[head.as_str()], "base").expect("plan")))
                },
            );
        }
    }
    group.finish();
}

/// `history --graph`'s drawing: the history order, then the text graph with
/// each revision's id as its label (the command adds the printing).
fn draw_graph(c: &mut Criterion) {
    let mut group = c.benchmark_group("draw_graph");
    group.sample_size(10);
    for (shape, make) in shapes() {
        let n = 100_000;
        let revs = make(n);
        let graph = Graph::build(specs_of(&revs), &GraphOptions::default()).expect("valid");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new(shape, n), &graph, |b, g| {
            b.iter(|| {
                let order = alembix_core::history(g, None, &[]).expect("order");
                let drawn = alembix_core::draw::text(g, &order, |i| g.rev(i).id.clone());
                black_box(drawn)
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    parse_validate_plan,
    validate_plan,
    plan_only,
    draw_graph
);
criterion_main!(benches);
