//! What the build-time SQL check adds to loading a history: 1,000 and 10,000
//! generated migrations (a chain; each upgrade creates a table, indexes it and
//! adds a column, every fourth also moves data with `INSERT … SELECT` and an
//! `UPDATE` with a subquery; each downgrade drops what it made), valid SQL for
//! every dialect.
//!
//! Run: `cargo bench -p alembix-core --features sql-check --bench sql_check`.
//!
//! - `load`: migration files (text) → `MigrationSet::from_sources` (parse,
//!   split every section for every dialect, build and validate the graph).
//! - `load_and_check`: the same, then `check_section` on both sections of
//!   every file for SQLite, PostgreSQL and MySQL (in the files' transaction
//!   mode, per-migration).
//! - `check_only`: `check_section` alone over an already loaded set.
//!
//! On the 2-core development machine (release, shared with other builds):
//! `load` 3.8 ms / 64 ms, `load_and_check` 92 ms / 762 ms for 1,000 / 10,000
//! migrations: the check costs about 85 µs a migration (both sections, three
//! dialects, 2.5 statements a section), some 20 times the load. Unoptimized
//! (as a proc macro runs), 1,000 migrations load in 19 ms and check in 314 ms.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use alembix_core::{check_section, GraphOptions, MigrationSet, Problem, SourceFile, SqlDialect};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn rev_id(i: usize) -> String {
    format!("{:04x}{:08x}", (i.wrapping_mul(2_654_435_761)) & 0xffff, i)
}

fn file_of(i: usize) -> SourceFile {
    let id = rev_id(i);
    let down = if i == 0 {
        "none".to_string()
    } else {
        rev_id(i - 1)
    };
    let mut upgrade = format!(
        "CREATE TABLE t_{id} (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL,\n    \
         owner_id INTEGER REFERENCES users (id),\n    created_at TIMESTAMP\n);\n\
         CREATE INDEX idx_t_{id}_name ON t_{id} (name);\n\
         ALTER TABLE t_{id} ADD COLUMN note VARCHAR(200);\n"
    );
    if i % 4 == 3 {
        // A data migration of its own (schema and data apart, as MySQL wants).
        upgrade = format!(
            "-- Copy the names over, then fill the owners in.\n\
             INSERT INTO t_{prev} (id, name) SELECT id, name FROM users WHERE id > {i};\n\
             UPDATE t_{prev} SET owner_id = (SELECT MIN(id) FROM users WHERE users.name = t_{prev}.name) \
             WHERE owner_id IS NULL;\n",
            prev = rev_id(i - 1)
        );
    }
    let downgrade = if i % 4 == 3 {
        format!("DELETE FROM t_{} WHERE id > {i};\n", rev_id(i - 1))
    } else {
        format!("DROP INDEX idx_t_{id}_name;\nDROP TABLE t_{id};\n")
    };
    let text = format!(
        "-- revision: {id}\n-- down_revision: {down}\n-- message: step {i}\n\n\
         -- migrate:upgrade\n{upgrade}\n-- migrate:downgrade\n{downgrade}"
    );
    SourceFile {
        name: format!("migrations/{i:06}_{id}.sql"),
        text,
    }
}

/// Every problem the check finds in the set, for every dialect.
fn check_all(set: &MigrationSet) -> Vec<Problem> {
    let mut problems = Vec::new();
    for f in set.files() {
        for section in std::iter::once(&f.upgrade).chain(&f.downgrade) {
            for dialect in SqlDialect::ALL {
                problems.extend(check_section(
                    &f.file,
                    dialect,
                    f.transaction,
                    &section.sql,
                    section.statements(dialect),
                ));
            }
        }
    }
    problems
}

const SIZES: [usize; 2] = [1_000, 10_000];

fn sql_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("sql_check");
    group.sample_size(10);
    for n in SIZES {
        let files: Vec<SourceFile> = (0..n).map(file_of).collect();
        let set = MigrationSet::from_sources(&files, &GraphOptions::default()).expect("valid");
        // The generated SQL is valid everywhere: the check must find nothing.
        assert_eq!(check_all(&set), Vec::new());
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("load", n), &files, |b, files| {
            b.iter(|| {
                black_box(
                    MigrationSet::from_sources(files, &GraphOptions::default()).expect("valid"),
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("load_and_check", n), &files, |b, files| {
            b.iter(|| {
                let set =
                    MigrationSet::from_sources(files, &GraphOptions::default()).expect("valid");
                black_box(check_all(&set))
            })
        });
        group.bench_with_input(BenchmarkId::new("check_only", n), &set, |b, set| {
            b.iter(|| black_box(check_all(set)))
        });
    }
    group.finish();
}

criterion_group!(benches, sql_check);
criterion_main!(benches);
