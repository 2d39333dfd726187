//! A differential suite against Alembic itself: random histories (branches,
//! merges, branch labels, `depends_on`, several roots, files in any order) are
//! written both as Alembic projects and as our `.sql` folders; the same
//! operations run through `alembic.command` (one Python process for the whole
//! run, `differential.py`) and through our [`Migrator`], each side on its own
//! SQLite file, and the answers are compared: heads, effective heads, history
//! order, per operation the steps (direction, revision, version rows after
//! each) or the refusal, the version rows after, and `current`.
//!
//! Where the answers differ, the difference is either one of our deliberate
//! deviations ([`Deviation`], listed with their reasons in
//! `alembix-core/tests/alembic_cases.rs` and the README) — then our database is
//! re-synced to Alembic's rows and the run goes on — or the test fails, naming
//! the seed that replays it, the history, the operation and both answers.
//!
//! Two answers are the same when they differ only where nothing is defined:
//! `stamp base` deletes one row per step in the order the table returns them
//! (`SELECT` without `ORDER BY`), so the same deletions in another order agree;
//! our `stamp --purge` reports the purge as a first step, Alembic not at all.
//!
//! `ALEMBIX_DIFF_CASES` (default 250, about 2,000 operations) sets how many
//! histories a run draws, `ALEMBIX_DIFF_SEED` the seed (default: from the
//! clock; printed with the summary). History `i` of seed `s` is history 0 of
//! seed `s + i`: a failure prints `ALEMBIX_DIFF_SEED=<s + i>
//! ALEMBIX_DIFF_CASES=1`, which replays it alone (Python runs with a fixed hash
//! seed, so Alembic's side replays too). `ALEMBIX_DIFF_VERBOSE=1` adds the
//! first example of each deviation and crash to the summary;
//! `ALEMBIX_DIFF_KEEP=1` keeps the projects to run Alembic on by hand.

use crate::venv::python_with_alembic;
use ::diesel::connection::SimpleConnection as _;
use ::diesel::{Connection as _, RunQueryDsl as _, SqliteConnection};
use alembix_runtime::{Config, Database, Direction, Migrator, StampMode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

/// Histories per run unless `ALEMBIX_DIFF_CASES` says otherwise.
const DEFAULT_CASES: u64 = 250;

/// Failures collected before the run stops early.
const MAX_FAILURES: usize = 5;

/// splitmix64: small, seedable, good enough to draw histories.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Branch labels a history draws from (never equal to an id: ids are `xy00`).
const LABELS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "omega", "sigma"];

/// One revision of a generated history.
#[derive(Debug, Clone)]
struct Rev {
    id: String,
    /// Indexes of the `down_revision`s, in tuple order.
    down: Vec<usize>,
    labels: Vec<String>,
    /// `depends_on` entries as written: a revision id or a branch label.
    depends_on: Vec<String>,
    /// Indexes the `depends_on` entries name.
    dep_idx: Vec<usize>,
}

/// A generated history: revisions in creation order (parents before
/// children) and the order their files sort in (Alembic's load order).
#[derive(Debug, Clone)]
struct History {
    revs: Vec<Rev>,
    /// `file_order[k]` = the revision whose file sorts k-th.
    file_order: Vec<usize>,
}

impl History {
    fn generate(rng: &mut Rng) -> History {
        let n = 1 + rng.below(12);
        let mut revs: Vec<Rev> = Vec::with_capacity(n);
        let mut ids = BTreeSet::new();
        let mut free_labels: Vec<&str> = LABELS.to_vec();
        for i in 0..n {
            // Short ids over a small alphabet, so that prefixes are shared
            // (`ab0` matches `ab01` and `ab07`) and prefix targets are tested.
            let id = loop {
                let id = format!(
                    "{}{}{:02}",
                    rng.pick(&['a', 'b', 'c']),
                    rng.pick(&['a', 'b']),
                    rng.below(20)
                );
                if ids.insert(id.clone()) {
                    break id;
                }
            };
            let heads: Vec<usize> = (0..i)
                .filter(|&h| !revs.iter().any(|r| r.down.contains(&h)))
                .collect();
            let down = if i == 0 || rng.chance(12) {
                Vec::new()
            } else if heads.len() >= 2 && rng.chance(25) {
                // A merge of two (sometimes three) revisions none of which is
                // an ancestor of another, mostly heads.
                let want = if heads.len() >= 3 && rng.chance(25) {
                    3
                } else {
                    2
                };
                let mut parents: Vec<usize> = Vec::new();
                for _ in 0..8 {
                    let candidate = if rng.chance(80) {
                        *rng.pick(&heads)
                    } else {
                        rng.below(i)
                    };
                    let related = parents.iter().any(|&p| {
                        p == candidate
                            || ancestors(&revs, &[p], false).contains(&candidate)
                            || ancestors(&revs, &[candidate], false).contains(&p)
                    });
                    if !related {
                        parents.push(candidate);
                    }
                    if parents.len() == want {
                        break;
                    }
                }
                parents
            } else if rng.chance(60) && !heads.is_empty() {
                vec![*rng.pick(&heads)]
            } else {
                vec![rng.below(i)]
            };
            let mut labels = Vec::new();
            if !free_labels.is_empty() && rng.chance(22) {
                labels.push(free_labels.remove(rng.below(free_labels.len())).to_string());
                if !free_labels.is_empty() && rng.chance(10) {
                    labels.push(free_labels.remove(rng.below(free_labels.len())).to_string());
                }
            }
            let (mut depends_on, mut dep_idx) = (Vec::new(), Vec::new());
            if i > 0 && rng.chance(22) {
                let count = if rng.chance(15) { 2 } else { 1 };
                for _ in 0..count {
                    let target = rng.below(i);
                    if dep_idx.contains(&target) || down.contains(&target) {
                        continue;
                    }
                    // A declared label stands for its revision, as Alembic reads it.
                    let written = match revs[target].labels.first() {
                        Some(label) if rng.chance(35) => label.clone(),
                        _ => revs[target].id.clone(),
                    };
                    depends_on.push(written);
                    dep_idx.push(target);
                }
            }
            revs.push(Rev {
                id,
                down,
                labels,
                depends_on,
                dep_idx,
            });
        }
        let mut file_order: Vec<usize> = (0..n).collect();
        if rng.chance(70) {
            // Fisher-Yates: load order is not creation order.
            for k in (1..n).rev() {
                file_order.swap(k, rng.below(k + 1));
            }
        }
        History { revs, file_order }
    }

    fn index(&self, id: &str) -> Option<usize> {
        self.revs.iter().position(|r| r.id == id)
    }

    fn labels(&self) -> Vec<&str> {
        self.revs
            .iter()
            .flat_map(|r| r.labels.iter().map(String::as_str))
            .collect()
    }

    /// Whether a revision keeps two or more `depends_on` after Alembic's
    /// normalization (dropping those a versioned ancestor declares too).
    /// Alembic keeps them in a Python `set`, whose order changes with the
    /// interpreter's hash seed: the order of everything it sorts (history,
    /// the steps of an upgrade) follows, from one run to the next.
    fn set_ordered_dependencies(&self) -> bool {
        (0..self.revs.len()).any(|i| {
            let declared_below: BTreeSet<usize> = ancestors(&self.revs, &[i], false)
                .into_iter()
                .flat_map(|a| self.revs[a].dep_idx.iter().copied())
                .collect();
            let mut kept: Vec<usize> = self.revs[i]
                .dep_idx
                .iter()
                .copied()
                .filter(|d| !declared_below.contains(d))
                .collect();
            kept.sort_unstable();
            kept.dedup();
            kept.len() >= 2
        })
    }

    /// Whether `ours` is `alembic` without some rows that one of `ours`
    /// implies (through `down_revision` or `depends_on`).
    fn implied_rows_only(&self, alembic: &BTreeSet<String>, ours: &BTreeSet<String>) -> bool {
        let kept: Vec<usize> = ours.iter().filter_map(|r| self.index(r)).collect();
        let implied = ancestors(&self.revs, &kept, true);
        ours.is_subset(alembic)
            && alembic
                .difference(ours)
                .all(|r| self.index(r).is_some_and(|i| implied.contains(&i)))
    }

    /// The revisions stamp targets name (ids, `heads`; `base` names none).
    fn resolve(&self, targets: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for t in targets {
            if t == "heads" {
                // Effective heads: nothing builds on them or depends on them.
                out.extend(
                    (0..self.revs.len())
                        .filter(|&i| {
                            !self
                                .revs
                                .iter()
                                .any(|r| r.down.contains(&i) || r.dep_idx.contains(&i))
                        })
                        .map(|i| self.revs[i].id.clone()),
                );
            } else if self.index(t).is_some() {
                out.push(t.clone());
            }
        }
        out
    }

    /// `rows` without those another row implies.
    fn without_implied(&self, rows: &BTreeSet<String>) -> BTreeSet<String> {
        let idx: Vec<usize> = rows.iter().filter_map(|r| self.index(r)).collect();
        let implied = ancestors(&self.revs, &idx, true);
        rows.iter()
            .filter(|r| self.index(r).is_none_or(|i| !implied.contains(&i)))
            .cloned()
            .collect()
    }

    /// Whether one row reaches another only through paths that need a
    /// `depends_on` link (rows Alembic's `stamp` writes and its `upgrade` refuses).
    fn related_through_dependency(&self, rows: &[String]) -> bool {
        self.row_pairs(rows, true) && !self.row_pairs(rows, false)
    }

    /// Whether one of `rows` (revision ids) is an ancestor of another.
    fn row_pairs(&self, rows: &[String], with_deps: bool) -> bool {
        let idx: Vec<usize> = rows.iter().filter_map(|r| self.index(r)).collect();
        idx.iter().any(|&a| {
            idx.iter()
                .any(|&b| a != b && ancestors(&self.revs, &[b], with_deps).contains(&a))
        })
    }

    /// Writes `dir/alembic/versions/*.py` and `dir/migrations/*.sql`, the
    /// same file names so both tools load in the same order.
    fn write(&self, dir: &Path) {
        let versions = dir.join("alembic/versions");
        let ours = dir.join("migrations");
        std::fs::create_dir_all(&versions).unwrap();
        std::fs::create_dir_all(&ours).unwrap();
        let py_str = |s: &str| format!("\"{s}\"");
        let py_tuple = |items: &[String]| match items {
            [] => "None".to_string(),
            items => format!(
                "({},)",
                items
                    .iter()
                    .map(|s| py_str(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        for (pos, &i) in self.file_order.iter().enumerate() {
            let rev = &self.revs[i];
            let down_ids: Vec<String> = rev.down.iter().map(|&d| self.revs[d].id.clone()).collect();
            let py_down = match down_ids.as_slice() {
                [] => "None".to_string(),
                [one] => py_str(one),
                many => py_tuple(many),
            };
            let name = format!("{pos:02}_{}", rev.id);
            std::fs::write(
                versions.join(format!("{name}.py")),
                format!(
                    "revision = {}\ndown_revision = {py_down}\nbranch_labels = {}\ndepends_on = {}\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
                    py_str(&rev.id),
                    py_tuple(&rev.labels),
                    py_tuple(&rev.depends_on),
                ),
            )
            .unwrap();
            let mut sql = format!("-- revision: {}\n", rev.id);
            if down_ids.is_empty() {
                sql.push_str("-- down_revision: none\n");
            } else {
                let _ = writeln!(sql, "-- down_revision: {}", down_ids.join(", "));
            }
            if !rev.labels.is_empty() {
                let _ = writeln!(sql, "-- branch_labels: {}", rev.labels.join(", "));
            }
            if !rev.depends_on.is_empty() {
                let _ = writeln!(sql, "-- depends_on: {}", rev.depends_on.join(", "));
            }
            sql.push_str("-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 1;\n");
            std::fs::write(ours.join(format!("{name}.sql")), sql).unwrap();
        }
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (pos, &i) in self.file_order.iter().enumerate() {
            let r = &self.revs[i];
            let down: Vec<&str> = r.down.iter().map(|&d| self.revs[d].id.as_str()).collect();
            write!(f, "  {pos:02}_{}: down_revision {down:?}", r.id)?;
            if !r.labels.is_empty() {
                write!(f, ", branch_labels {:?}", r.labels)?;
            }
            if !r.depends_on.is_empty() {
                write!(f, ", depends_on {:?}", r.depends_on)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The ancestors of `start` (excluded unless reached again), through
/// `down_revision`, and through `depends_on` when `with_deps`.
fn ancestors(revs: &[Rev], start: &[usize], with_deps: bool) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<usize> = start.to_vec();
    while let Some(r) = todo.pop() {
        let deps: &[usize] = if with_deps { &revs[r].dep_idx } else { &[] };
        for &p in revs[r].down.iter().chain(deps) {
            if seen.insert(p) {
                todo.push(p);
            }
        }
    }
    seen
}

/// One operation, run by both tools.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Upgrade(String),
    Downgrade(String),
    Stamp(Vec<String>, StampMode),
}

impl Op {
    fn draw(rng: &mut Rng, h: &History) -> Op {
        let rev = |rng: &mut Rng| h.revs[rng.below(h.revs.len())].id.clone();
        let labels = h.labels();
        let label = |rng: &mut Rng| rng.pick(&labels).to_string();
        let has_labels = !labels.is_empty();
        loop {
            let op = match rng.below(110) {
                0..=13 => Op::Upgrade("heads".into()),
                14..=16 => Op::Upgrade("head".into()),
                17..=21 => Op::Upgrade("+1".into()),
                22..=23 => Op::Upgrade("+2".into()),
                24..=35 => Op::Upgrade(rev(rng)),
                36..=41 if has_labels => Op::Upgrade(format!("{}@head", label(rng))),
                42..=43 if has_labels => Op::Upgrade(format!("{}@+1", label(rng))),
                44..=45 => Op::Upgrade(format!("{}+1", rev(rng))),
                46..=47 => {
                    // A prefix: unique, ambiguous, or the whole id.
                    let id = rev(rng);
                    Op::Upgrade(id[..2 + rng.below(3)].to_string())
                }
                48..=55 => Op::Downgrade("-1".into()),
                56..=57 => Op::Downgrade("-2".into()),
                58..=62 => Op::Downgrade("base".into()),
                63..=71 => Op::Downgrade(rev(rng)),
                72..=76 if has_labels => Op::Downgrade(format!("{}@-1", label(rng))),
                77..=80 if has_labels => Op::Downgrade(format!("{}@base", label(rng))),
                81..=82 => Op::Downgrade(format!("{}-1", rev(rng))),
                83..=84 if has_labels => Op::Downgrade(format!("{}@{}", label(rng), rev(rng))),
                85..=90 => Op::Stamp(vec![rev(rng)], StampMode::Keep),
                91..=93 => Op::Stamp(vec!["heads".into()], StampMode::Keep),
                94..=95 => Op::Stamp(vec!["base".into()], StampMode::Keep),
                96..=97 => Op::Stamp(vec![rev(rng), rev(rng)], StampMode::Keep),
                98..=99 => Op::Stamp(vec![rev(rng)], StampMode::Purge),
                100..=101 if has_labels => Op::Upgrade(format!("{}@heads", label(rng))),
                102..=103 if has_labels => Op::Upgrade(format!("{}@{}", label(rng), rev(rng))),
                104..=105 if has_labels => {
                    Op::Stamp(vec![format!("{}@head", label(rng))], StampMode::Keep)
                }
                106..=107 => Op::Downgrade(format!("{}+1", rev(rng))),
                108..=109 => Op::Stamp(vec![rev(rng), "heads".into()], StampMode::Keep),
                _ => continue,
            };
            return op;
        }
    }

    fn request(&self) -> Value {
        match self {
            Op::Upgrade(t) => json!({"cmd": "op", "op": "upgrade", "targets": [t]}),
            Op::Downgrade(t) => json!({"cmd": "op", "op": "downgrade", "targets": [t]}),
            Op::Stamp(ts, mode) => json!({
                "cmd": "op", "op": "stamp", "targets": ts, "purge": *mode == StampMode::Purge
            }),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Upgrade(t) => write!(f, "upgrade {t}"),
            Op::Downgrade(t) => write!(f, "downgrade {t}"),
            Op::Stamp(ts, StampMode::Purge) => write!(f, "stamp --purge {}", ts.join(" ")),
            Op::Stamp(ts, _) => write!(f, "stamp {}", ts.join(" ")),
        }
    }
}

/// One step as both sides report it: for a migration its direction and
/// revision; for a stamp step only the rows (Alembic names a stamp step by
/// the revisions it moves from or to, we by the one it moves to).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    stamp: bool,
    /// `Some((upgrade, revision))` for a migration.
    migration: Option<(bool, String)>,
    rows: BTreeSet<String>,
}

/// One side's answer to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    /// The refusal, if any (class and message).
    error: Option<String>,
    /// Alembic only: the error is a crash (`KeyError`, `AssertionError`), not
    /// one of Alembic's own errors.
    crashed: bool,
    rows_before: BTreeSet<String>,
    steps: Vec<Step>,
    rows: BTreeSet<String>,
    /// What `current` prints, or its refusal.
    current: Result<BTreeSet<String>, String>,
}

impl Answer {
    /// The same refusal, migrations, rows and `current`, the migrations
    /// perhaps in another order (and so the rows between them).
    fn same_but_order(&self, other: &Answer) -> bool {
        let migrations = |a: &Answer| {
            let mut m: Vec<_> = a
                .steps
                .iter()
                .map(|s| (s.stamp, s.migration.clone()))
                .collect();
            m.sort();
            m
        };
        self.error.is_some() == other.error.is_some()
            && migrations(self) == migrations(other)
            && self.rows == other.rows
            && self.current == other.current
    }

    /// The same answer from the same rows: refused or not (the texts are
    /// each tool's own), the same steps, rows after and `current`.
    fn same_as(&self, other: &Answer) -> bool {
        self.rows_before == other.rows_before
            && self.error.is_some() == other.error.is_some()
            && (self.steps == other.steps || self.same_deletions(other))
            && self.rows == other.rows
            && self.current.is_ok() == other.current.is_ok()
            && (self.current.is_err() || self.current == other.current)
    }

    /// `stamp base` with several rows deletes one row per step, in the order
    /// the version table returns them (`SELECT` without `ORDER BY`: not
    /// defined in SQL, and each tool writes its table its own way): the same
    /// deletions in another order are the same answer.
    fn same_deletions(&self, other: &Answer) -> bool {
        let deletions = |a: &Answer| -> Option<Vec<BTreeSet<String>>> {
            let mut before = a.rows_before.clone();
            let mut out = Vec::new();
            for s in &a.steps {
                if !s.stamp || !s.rows.is_subset(&before) || s.rows.len() + 1 != before.len() {
                    return None;
                }
                out.push(before.difference(&s.rows).cloned().collect());
                before = s.rows.clone();
            }
            out.sort();
            Some(out)
        };
        self.rows_before == other.rows_before
            && deletions(self).is_some()
            && deletions(self) == deletions(other)
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            writeln!(f, "    refused: {e}")?;
        }
        for s in &self.steps {
            match &s.migration {
                Some((true, r)) => write!(f, "    upgrade {r}")?,
                Some((false, r)) => write!(f, "    downgrade {r}")?,
                None => write!(f, "    stamp")?,
            }
            writeln!(f, " -> rows {:?}", s.rows)?;
        }
        writeln!(f, "    rows after: {:?}", self.rows)?;
        match &self.current {
            Ok(c) => writeln!(f, "    current: {c:?}"),
            Err(e) => writeln!(f, "    current refused: {e}"),
        }
    }
}

/// Where we answer otherwise than Alembic on purpose. Each is a row of the
/// table in `alembix-core/tests/alembic_cases.rs` and a sentence of the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Deviation {
    /// `downgrade -N` with several version rows: Alembic walks from the row
    /// `SELECT` returns first (with a deprecation warning); we refuse.
    DowngradeRelativeFromSeveralRows,
    /// A `stamp` of several revisions one of which is an ancestor of
    /// another: Alembic writes both rows or drops one, depending on the rows
    /// before; we refuse ("overlaps").
    StampAncestorRow,
    /// Each target of our `stamp` moves the rows on its own line of
    /// ancestry; Alembic's first target that reaches a row moves every row
    /// related to any target (or to its branch label), a row that is itself
    /// a target too (after `stamp heads` the database is then not at the
    /// heads). The same rows after, but for rows from before Alembic deleted;
    /// the rows between the steps differ.
    StampOwnLine,
    /// Version rows of which one reaches another only through `depends_on`:
    /// Alembic's `upgrade` refuses them ("overlaps"), we read the implied
    /// ones as applied and plan.
    RowsImpliedThroughDependsOn,
    /// Alembic crashes (a `KeyError` or `AssertionError`, not one of its
    /// errors) part-way through, after committing the steps before: we run
    /// the same steps and finish, or refuse before writing anything.
    AlembicCrash,
    /// A revision with two or more dependencies (after normalization):
    /// Alembic orders them as a Python `set` does, which changes with the
    /// hash seed from run to run; we take them in the order written. Same
    /// migrations, rows and `current`; history and steps may be ordered otherwise.
    DependencySetOrder,
    /// Reverting a revision one of whose parents is an ancestor of another
    /// (a `depends_on` naming a revision it already descends from): Alembic
    /// makes every parent a row, the ancestor too; we keep only the rows
    /// nothing applied implies. Same migrations, same order.
    ImpliedParentRow,
}

impl Deviation {
    /// Which deviation explains `ours` against `alembic`, if any.
    fn classify(
        h: &History,
        unordered: bool,
        op: &Op,
        before: &[String],
        alembic: &Answer,
        ours: &Answer,
    ) -> Option<Deviation> {
        let ours_refused = ours.error.as_deref().unwrap_or_default();
        let several_rows = before.iter().collect::<BTreeSet<_>>().len() > 1;
        let relative = |t: &str| {
            t.strip_prefix('-')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        let rows: Vec<String> = alembic.rows.iter().cloned().collect();
        // Alembic's migrations before the crash begin ours (or, in the order
        // of a `DependencySetOrder` history, are among ours). A stamp has no
        // such reference: Alembic stopped in the middle of moving rows.
        let migrations = |a: &Answer| -> Vec<Option<(bool, String)>> {
            a.steps.iter().map(|s| s.migration.clone()).collect()
        };
        let (theirs_ran, ours_ran) = (migrations(alembic), migrations(ours));
        let began = ours_ran.starts_with(&theirs_ran)
            || (unordered && theirs_ran.iter().all(|m| ours_ran.contains(m)));
        if alembic.crashed && (ours.error.is_some() || began || matches!(op, Op::Stamp(..))) {
            return Some(Deviation::AlembicCrash);
        }
        match op {
            Op::Downgrade(t)
                if relative(t)
                    && several_rows
                    && alembic.error.is_none()
                    && ours_refused.contains("from multiple heads is ambiguous") =>
            {
                Some(Deviation::DowngradeRelativeFromSeveralRows)
            }
            Op::Stamp(targets, _)
                if alembic.error.is_none()
                    && ours_refused.contains("overlaps with other requested revisions")
                    && (h.row_pairs(&h.resolve(targets), true) || h.row_pairs(&rows, true)) =>
            {
                Some(Deviation::StampAncestorRow)
            }
            Op::Stamp(_, StampMode::Keep)
                if alembic.error.is_none()
                    && ours.error.is_none()
                    && alembic.steps.len() == ours.steps.len()
                    // Alembic's rows, and rows from before it deleted.
                    && ours.rows.is_superset(&alembic.rows)
                    && ours
                        .rows
                        .difference(&alembic.rows)
                        .all(|r| alembic.rows_before.contains(r)) =>
            {
                Some(Deviation::StampOwnLine)
            }
            Op::Upgrade(_)
                if alembic.error.is_some()
                    && !alembic.crashed
                    && ours.error.is_none()
                    && h.related_through_dependency(before) =>
            {
                Some(Deviation::RowsImpliedThroughDependsOn)
            }
            Op::Downgrade(_)
                if alembic.error.is_none()
                    && ours.error.is_none()
                    && alembic.steps.len() == ours.steps.len()
                    && alembic.steps.iter().zip(&ours.steps).all(|(a, o)| {
                        a.migration == o.migration && h.implied_rows_only(&a.rows, &o.rows)
                    })
                    && h.implied_rows_only(&alembic.rows, &ours.rows) =>
            {
                Some(Deviation::ImpliedParentRow)
            }
            _ => None,
        }
    }
}

/// The Alembic side: one Python process answering JSON lines.
struct Alembic {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr_file: PathBuf,
}

impl Alembic {
    fn start(python: &Path, scratch: &Path) -> Alembic {
        let stderr_file = scratch.join("driver.stderr");
        let mut child = Command::new(python)
            // Alembic orders several dependencies of one revision as a `set`
            // does: a fixed hash seed makes a failure replay exactly.
            .env("PYTHONHASHSEED", "0")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/differential.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_file).unwrap())
            .spawn()
            .expect("the venv's Python starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Alembic {
            child,
            stdin,
            stdout,
            stderr_file,
        }
    }

    fn ask(&mut self, request: &Value) -> Value {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        let read = self.stdout.read_line(&mut line).unwrap();
        if read == 0 {
            panic!(
                "the Alembic driver stopped ({:?}) on {request}: {}",
                self.child.wait(),
                std::fs::read_to_string(&self.stderr_file).unwrap_or_default()
            );
        }
        let answer: Value = serde_json::from_str(&line).unwrap();
        if answer["error"]["class"] == "Driver" {
            panic!("the Alembic driver failed on {request}: {answer}");
        }
        answer
    }

    fn answer(&mut self, op: &Op) -> (Vec<String>, Answer) {
        let a = self.ask(&op.request());
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        let error = a["error"].as_object().map(|e| {
            let place = e.get("where").and_then(Value::as_str);
            format!(
                "{}: {}{}",
                e["class"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
                place.map(|p| format!(" (at {p})")).unwrap_or_default()
            )
        });
        let crashed = a["error"]["own"] == false;
        let steps = a["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let stamp = s["stamp"].as_bool().unwrap();
                Step {
                    stamp,
                    migration: (!stamp).then(|| {
                        (
                            s["upgrade"].as_bool().unwrap(),
                            strings(&s["revisions"])[0].clone(),
                        )
                    }),
                    rows: strings(&s["rows"]).into_iter().collect(),
                }
            })
            .collect();
        let current = if a["current"].is_array() {
            Ok(strings(&a["current"]).into_iter().collect())
        } else {
            Err(a["current"]["error"].to_string())
        };
        let before = strings(&a["rows_before"]);
        (
            before.clone(),
            Answer {
                error,
                crashed,
                rows_before: before.into_iter().collect(),
                steps,
                rows: strings(&a["rows"]).into_iter().collect(),
                current,
            },
        )
    }
}

impl Drop for Alembic {
    fn drop(&mut self) {
        // Closing stdin ends the driver's loop; kill it if it is stuck.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our side of one history: the migrator over its folder and a SQLite file
/// we lend to it (and write the version rows of directly to re-sync).
struct Ours {
    migrator: Migrator,
    conn: SqliteConnection,
}

impl Ours {
    fn answer(&mut self, op: &Op) -> Answer {
        let rows_before = self.rows();
        let mut db = Database::from(&mut self.conn);
        let run = match op {
            Op::Upgrade(t) => self.migrator.upgrade(&mut db, t),
            Op::Downgrade(t) => self.migrator.downgrade(&mut db, t),
            Op::Stamp(ts, mode) => {
                let ts: Vec<&str> = ts.iter().map(String::as_str).collect();
                self.migrator.stamp(&mut db, &ts, *mode)
            }
        };
        let (error, steps) = match run {
            Err(e) => (Some(e.to_string()), Vec::new()),
            Ok(report) => {
                let mut rows: BTreeSet<String> = report.rows_before.iter().cloned().collect();
                // `--purge` is reported as a first step that deletes every
                // row; Alembic deletes them before its steps, unreported.
                let purged = usize::from(matches!(
                    (op, report.steps.first()),
                    (Op::Stamp(_, StampMode::Purge), Some(first))
                        if first.revision.is_none() && first.added.is_empty()
                ));
                for s in &report.steps[..purged] {
                    for r in &s.removed {
                        rows.remove(r);
                    }
                }
                let steps = report.steps[purged..]
                    .iter()
                    .map(|s| {
                        for r in &s.removed {
                            rows.remove(r);
                        }
                        rows.extend(s.added.iter().cloned());
                        Step {
                            stamp: s.stamp,
                            migration: (!s.stamp).then(|| {
                                (
                                    s.direction == Direction::Upgrade,
                                    s.revision.clone().unwrap_or_default(),
                                )
                            }),
                            rows: rows.clone(),
                        }
                    })
                    .collect();
                (None, steps)
            }
        };
        let current = self.migrator.current(&mut db).map_err(|e| e.to_string());
        drop(db);
        let rows = match &current {
            Ok(c) => c.rows.iter().cloned().collect(),
            Err(_) => self.rows(),
        };
        Answer {
            error,
            crashed: false,
            rows_before,
            steps,
            rows,
            current: current.map(|c| c.revisions.into_iter().collect()),
        }
    }

    fn rows(&mut self) -> BTreeSet<String> {
        #[derive(::diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = ::diesel::sql_types::Text)]
            version_num: String,
        }
        ::diesel::sql_query("SELECT version_num FROM alembic_version")
            .load::<Row>(&mut self.conn)
            .map(|rows| rows.into_iter().map(|r| r.version_num).collect())
            .unwrap_or_default()
    }

    /// Writes the version rows directly (as a person with `sqlite3` would).
    fn set_rows(&mut self, rows: &BTreeSet<String>) {
        let mut sql = String::from(
            "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, \
             CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)); DELETE FROM alembic_version;",
        );
        for r in rows {
            let _ = write!(
                sql,
                " INSERT INTO alembic_version (version_num) VALUES ('{r}');"
            );
        }
        self.conn.batch_execute(&sql).unwrap();
    }
}

/// What a run compared and found.
#[derive(Default)]
struct Tally {
    histories: u64,
    skipped: Vec<String>,
    operations: u64,
    both_refused: u64,
    alembic_time: std::time::Duration,
    our_time: std::time::Duration,
    /// Re-syncs to rows without those another row implies.
    normalized: u64,
    steps: u64,
    deviations: BTreeMap<Deviation, u64>,
    examples: BTreeMap<Deviation, String>,
    /// Alembic's crashes by operation, exception and place.
    crashes: BTreeMap<String, u64>,
    crash_examples: BTreeMap<String, String>,
    failures: Vec<String>,
}

/// Runs history `seed` through both tools; a difference that is no
/// deviation is pushed to `tally.failures`.
fn compare_history(seed: u64, dir: &Path, alembic: &mut Alembic, tally: &mut Tally) {
    let mut rng = Rng(seed);
    let h = History::generate(&mut rng);
    let ops: Vec<Op> = (0..6 + rng.below(5))
        .map(|_| Op::draw(&mut rng, &h))
        .collect();
    h.write(dir);
    let replay = format!("ALEMBIX_DIFF_SEED={seed} ALEMBIX_DIFF_CASES=1");
    let fail = |tally: &mut Tally, what: String| {
        tally.failures.push(format!(
            "{what}\n  replay: {replay}\n  history (file order):\n{h}"
        ));
    };

    let loaded = alembic.ask(&json!({"cmd": "load", "dir": dir.join("alembic")}));
    let ours = Migrator::from_folder(dir, "migrations", Config::default());
    if let Some(e) = loaded.get("error") {
        tally.skipped.push(format!("seed {seed}: {e}"));
        return;
    }
    let migrator = match ours {
        Ok(m) => m,
        Err(e) => {
            return fail(
                tally,
                format!("Alembic loads the history, we refuse it: {e}"),
            )
        }
    };
    tally.histories += 1;
    let mut conn = SqliteConnection::establish(dir.join("alembix.db").to_str().unwrap()).unwrap();
    // A scratch database: durability is not under test, speed is (Alembic's
    // side does the same).
    conn.batch_execute("PRAGMA synchronous = OFF").unwrap();
    let mut ours = Ours { migrator, conn };

    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let heads = ours.migrator.heads().unwrap();
    if heads != strings(&loaded["heads"]) {
        return fail(
            tally,
            format!("heads: Alembic {}, ours {heads:?}", loaded["heads"]),
        );
    }
    let mut real: Vec<String> = strings(&loaded["real_heads"]);
    real.sort();
    if ours.migrator.head_rows() != real {
        return fail(
            tally,
            format!(
                "effective heads: Alembic {real:?}, ours {:?}",
                ours.migrator.head_rows()
            ),
        );
    }
    let history: Vec<String> = {
        let mut db = Database::from(&mut ours.conn);
        let items = ours.migrator.history(&mut db, None).unwrap();
        items.into_iter().map(|i| i.revision).collect()
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let unordered = h.set_ordered_dependencies();
    if unordered && sorted(history.clone()) == sorted(strings(&loaded["history"])) {
        if history != strings(&loaded["history"]) {
            *tally
                .deviations
                .entry(Deviation::DependencySetOrder)
                .or_default() += 1;
        }
    } else if history != strings(&loaded["history"]) {
        return fail(
            tally,
            format!("history: Alembic {}, ours {history:?}", loaded["history"]),
        );
    }

    for (k, op) in ops.iter().enumerate() {
        let t0 = Instant::now();
        let (before, theirs) = alembic.answer(op);
        let t1 = Instant::now();
        let mine = ours.answer(op);
        tally.alembic_time += t1 - t0;
        tally.our_time += t1.elapsed();
        tally.operations += 1;
        tally.steps += theirs.steps.len() as u64;
        // Ours, whatever Alembic says: no row we write is an ancestor of
        // another through `down_revision` (a database neither tool could
        // plan from), from rows Alembic's `stamp a2 b2` leaves
        // (`RowsImpliedThroughDependsOn`) too.
        let unsound = mine
            .steps
            .iter()
            .map(|s| &s.rows)
            .chain([&mine.rows])
            .filter(|_| !h.row_pairs(&before, false))
            .find(|rows| h.row_pairs(&rows.iter().cloned().collect::<Vec<_>>(), false));
        if let Some(rows) = unsound {
            let previous: Vec<String> = ops[..k].iter().map(ToString::to_string).collect();
            return fail(
                tally,
                format!(
                    "`{op}` (operation {k}, after {previous:?}) from rows {before:?}: ours writes rows {rows:?}, one an ancestor of another\n  Alembic:\n{theirs}  ours:\n{mine}"
                ),
            );
        }
        if theirs.same_as(&mine) {
            if theirs.error.is_some() {
                tally.both_refused += 1;
            }
            continue;
        }
        let classified = if unordered && theirs.same_but_order(&mine) {
            Some(Deviation::DependencySetOrder)
        } else {
            Deviation::classify(&h, unordered, op, &before, &theirs, &mine)
        };
        match classified {
            Some(d) => {
                *tally.deviations.entry(d).or_default() += 1;
                if d == Deviation::AlembicCrash {
                    let kind = op
                        .to_string()
                        .split(' ')
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let crash = theirs.error.clone().unwrap_or_default();
                    let key = format!("{kind}: {}", crash.split_once(": ").map_or("", |x| x.0))
                        + &crash[crash.find(" (at ").unwrap_or(crash.len())..];
                    let example = format!(
                        "seed {seed}, `{op}` from rows {before:?}:\n  Alembic:\n{theirs}  ours:\n{mine}  history:\n{h}"
                    );
                    tally.crash_examples.entry(key.clone()).or_insert(example);
                    *tally.crashes.entry(key).or_default() += 1;
                }
                tally.examples.entry(d).or_insert_with(|| {
                    format!("seed {seed}, `{op}` from rows {before:?}:\n  Alembic:\n{theirs}  ours:\n{mine}")
                });
                let mut theirs = theirs;
                if d == Deviation::RowsImpliedThroughDependsOn {
                    // We plan as Alembic does from the rows that imply the
                    // others: ask it that way, the same migrations must run.
                    let implying = h.without_implied(&theirs.rows_before);
                    alembic.ask(&json!({"cmd": "set_rows", "rows": implying}));
                    let (_, again) = alembic.answer(op);
                    let migrations = |a: &Answer| {
                        a.steps
                            .iter()
                            .map(|s| s.migration.clone())
                            .collect::<Vec<_>>()
                    };
                    // The same migrations; or, where Alembic crashes on the
                    // way (`AlembicCrash`), ours begin with those it ran.
                    let (theirs_ran, ours_ran) = (migrations(&again), migrations(&mine));
                    let same = if again.crashed {
                        ours_ran.starts_with(&theirs_ran)
                    } else {
                        again.error.is_none() && theirs_ran == ours_ran
                    };
                    if !same {
                        return fail(
                            tally,
                            format!(
                                "`{op}` from rows {before:?}: ours plans otherwise than Alembic from the implying rows {implying:?}\n  Alembic:\n{again}  ours:\n{mine}"
                            ),
                        );
                    }
                    theirs = again;
                }
                // Both go on from Alembic's rows; where one of them is an
                // ancestor of another through `down_revision` (a database
                // neither tool plans from), from the rows that imply the rest.
                let rows: Vec<String> = theirs.rows.iter().cloned().collect();
                let rows = if h.row_pairs(&rows, false) {
                    tally.normalized += 1;
                    let sound = h.without_implied(&theirs.rows);
                    alembic.ask(&json!({"cmd": "set_rows", "rows": sound}));
                    sound
                } else {
                    theirs.rows.clone()
                };
                ours.set_rows(&rows);
            }
            None => {
                let previous: Vec<String> = ops[..k].iter().map(ToString::to_string).collect();
                return fail(
                    tally,
                    format!(
                        "`{op}` (operation {k}, after {previous:?}) from rows {before:?}\n  Alembic:\n{theirs}  ours:\n{mine}"
                    ),
                );
            }
        }
    }
}

#[test]
fn random_histories_answer_as_alembic_does() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let cases: u64 = std::env::var("ALEMBIX_DIFF_CASES")
        .ok()
        .map(|v| v.parse().expect("ALEMBIX_DIFF_CASES is a number"))
        .unwrap_or(DEFAULT_CASES);
    let seed: u64 = std::env::var("ALEMBIX_DIFF_SEED")
        .ok()
        .map(|v| v.parse().expect("ALEMBIX_DIFF_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
    let started = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    // `ALEMBIX_DIFF_KEEP=1` keeps the projects (to poke at with Python).
    let keep = std::env::var("ALEMBIX_DIFF_KEEP").is_ok();
    let mut alembic = Alembic::start(&python, scratch.path());
    let mut tally = Tally::default();
    for i in 0..cases {
        let dir = scratch.path().join(format!("h{i}"));
        compare_history(seed.wrapping_add(i), &dir, &mut alembic, &mut tally);
        if !keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        if tally.failures.len() >= MAX_FAILURES {
            break;
        }
    }
    let mut summary = format!(
        "differential suite, seed {seed}: {} histories ({} skipped: Alembic refuses them), {} operations, {} steps, {} refused by both, in {:.1?}",
        tally.histories,
        tally.skipped.len(),
        tally.operations,
        tally.steps,
        tally.both_refused,
        started.elapsed()
    );
    let _ = write!(
        summary,
        "\n  operations took {:.1?} in Alembic, {:.1?} in ours",
        tally.alembic_time, tally.our_time
    );
    let _ = write!(
        summary,
        "\n  re-synced {} time(s) to rows without an implied ancestor",
        tally.normalized
    );
    for (d, n) in &tally.deviations {
        let _ = write!(summary, "\n  deviation {d:?}: {n}");
    }
    if std::env::var("ALEMBIX_DIFF_VERBOSE").is_ok() {
        for (c, n) in &tally.crashes {
            let _ = write!(summary, "\n    Alembic crashed in {c}: {n}");
        }
        for (d, example) in &tally.examples {
            let _ = write!(summary, "\n  first {d:?}: {example}");
        }
        for (c, example) in &tally.crash_examples {
            let _ = write!(summary, "\n  first crash in {c}: {example}");
        }
        for s in &tally.skipped {
            let _ = write!(summary, "\n  skipped {s}");
        }
    }
    if keep {
        let _ = write!(summary, "\n  projects kept in {}", scratch.keep().display());
    }
    // Straight to stderr so that the summary shows without --nocapture.
    let _ = writeln!(std::io::stderr(), "{summary}");
    let compared = tally.histories as usize + tally.skipped.len() + tally.failures.len();
    assert!(
        tally.skipped.len() * 10 <= compared,
        "Alembic refuses {} of {compared} histories: the generator should draw loadable ones",
        tally.skipped.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{} difference(s) from Alembic that are no deliberate deviation:\n\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}
