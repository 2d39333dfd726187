//! Every case of `data/alembic_cases.json` (a copy of `shared/alembic/cases.json`:
//! graph cases from Alembic's own test suite, each confirmed by running Alembic
//! 1.20.1) run against the core and asserted field by field; then the cases of
//! our own in `data/own_cases.json` (same format, expected values taken from
//! Alembic 1.20.1; `data/confirm_own_cases.py` re-checks them against Alembic).
//!
//! Each case builds a graph from its `graph` list (in that order: Alembic's load
//! order) with `HeadPolicy::Any`, runs one operation and compares every key of
//! `expected`; a key this runner does not know fails the case, so nothing is
//! silently skipped. `version_ops_example` is informational in the data (which
//! row of a merge Alembic `UPDATE`s is random) and only the net change per step,
//! `version_changes`, is compared.
//!
//! # Where we differ from Alembic, on purpose
//!
//! | case | Alembic | ours | why |
//! | --- | --- | --- | --- |
//! | `sup-duplicate-revision` | warns, keeps both files, `heads` prints `b` twice | `DuplicateRevision` problem | a duplicated id silently corrupts the graph; it is a build error |
//! | `sup-missing-down-revision`, `sup-missing-depends-on` | bare `KeyError` | `MissingDownRevision` / `MissingDependency` with the file and line | same condition, a real error |
//! | `rev-loop-*`, `rev-deploop-*`, `rev-cycle-*`, `rev-depcycle-*`, `rev-label-dupe` | Alembic's exception text | our `Problem` text, same kind and same revisions | messages say what to do |
//! | `sup-upgrade-relative-overflow-crash` | `AssertionError` | `RevisionError` "Walked too far" | a typo must not crash |
//! | `vt-branched-downgrade-minus1-right`, `-left`, `-left-unbalanced` | walks from the first row `SELECT` returns, with a deprecation warning | `RevisionError` naming the rows and suggesting `<label>@-1` / `<rev>-1` | row order is not defined in SQL; Alembic says this "will be disallowed in a future release" |
//! | `cmd-stamp-nonsensical`, `cmd-stamp-purge` | writes rows `a`, `e`, `f` (`a` is an ancestor of both) | `RevisionError` "overlaps" | its own test calls it nonsensical; the planner would refuse those rows afterwards (`stamp_purge_deletes_unknown_rows` below covers `--purge` with sound targets) |
//! | `rev-depcycle-upper` | names `a, b, c, d, e` (its reachability check also lists the revisions merely below the cycle) | names `c, d, e` | we name exactly the revisions on the cycle, so the one to fix is among them (a cycle through a merge, which Alembic's check misses and then hangs on, is refused the same way) |
//! | `sc-multi-current-head-raises` | "... merge the branches using alembic merge." | "... merge them with `cargo xtask merge`" | our tool's command |
//! | `own-dep-row-upgrade-heads`, `own-dep-row-longer-upgrade-heads`, `own-dep-row-longer-upgrade-plus1`, `own-dep-row-stale-root-upgrade-heads` | `upgrade` refuses rows where one reaches another through `depends_on` ("Requested revision b2 overlaps with other requested revisions a2"; for `+1` "Ambiguous upgrade from multiple current revisions"), though its `downgrade` reads them | plans from the rows that imply the others; a row a step writes removes the rows below it through `down_revision` (`stale-root`: rows `a3`, `b3`, not `a1`, `a3`, `b3`) | Alembic's `stamp a2 b2` writes such rows; refusing them made even a downgrade fail (the runtime assesses a database with an upgrade plan first); a row left below another in its own line is a database neither tool plans from (found by the differential suite: a `downgrade` from such rows left one) |
//! | `own-stamp-heads-own-line` | the first target that reaches a row moves every row related to any target (`stamp heads` from `a1`, `b1`: `c2` takes both rows, `m2` is inserted) | each target moves the rows on its own line of ancestry (`a1` to `c2`, then `b1` to `m2`); the same rows after | a step changes only what its target implies, and the rows it replaces are all of those, so a later target never lands beside a row it implies |
//! | `own-stamp-target-row-kept` | `stamp x1 y2` from rows `x1`, `y1`: skips `x1` (already a row), then moves every row in the targets' lineage, `x1` too, to `y2`: rows `y2` (so `stamp heads` can leave a database that is not at its heads) | rows `x1`, `y2` | a revision the stamp was asked to record must not be deleted by it |
//! | `own-stamp-label-own-line` | `stamp omega@head` from rows `a2`, `b1` (`b1` depends on `omega`'s `a1`): the label admits every row related to `a1`, and all move to `a3`: rows `a3` (`stamp a3` keeps `b1`) | rows `a3`, `b1` | `b1` records another branch as applied; a stamp changes only what its target implies |
//! | `own-stamp-repeated-target` | `stamp a2 a2` from `a1`: the second `a2` moves `a1` again, `AssertionError` after the first step was written | stamps `a2` once | a repeated target is the same target; a crash halfway leaves rows nobody asked for |
//! | `own-stamp-two-targets-each-moving` | `stamp a2 b1` from rows `a1`, `b2`: `a2` moves both rows, then `b1` moves them again: `KeyError` on the row `a1`, after the first step was written | rows `a2`, `b1` | each target replaces the rows in its own lineage; a crash halfway leaves rows nobody asked for |
//! | `own-downgrade-implied-parent-row` | reverting `a3` (parents `a2` and, through `depends_on`, `a1`, which `a2` already implies) with another row present makes both parents rows: `a1` below `a2`, rows its own `upgrade` then refuses as overlapping | rows `a2`, `z1` | the version table holds only rows nothing applied implies, as after every other step |
//! | `own-upgrade-merge-implied-parent` | applying `m1` (parents `a2`, `c1` and the dependency `a1`, which `a2` implies) from rows `a2`, `c1`: its merge bookkeeping deletes or updates the row `a1`, which does not exist — `KeyError` after the steps before it committed | applies `m1`: rows `m1` | the same rule: an implied parent is not a row, so it is not looked for |
//! | `own-show-nosuch-at-base` | `get_revisions("nosuch@base")` is empty: `show nosuch@base` prints nothing | `ResolutionError` "No such branch" | a mistyped label must not pass silently; `get_revision` (and every other target form) looks the label up too |
//! | (no case: Alembic's answer changes between runs) | a revision that keeps two or more `depends_on` after normalization: Alembic holds them in a Python `set`, so their order — and the history order and upgrade order that follow from it — depends on the interpreter's hash seed | the order written in `-- depends_on:` | the same files must give the same plan on every run |
//!
//! The differential suite (`alembix-cli/tests/import/differential.rs`) runs
//! random histories through real Alembic and through our `Migrator` and
//! accepts only these differences, each a `Deviation` there:
//!
//! | `Deviation` | rows above |
//! | --- | --- |
//! | `DowngradeRelativeFromSeveralRows` | `vt-branched-downgrade-minus1-*` |
//! | `StampAncestorRow` | `cmd-stamp-nonsensical`: stamp targets of which one is an ancestor of another are refused, whatever Alembic makes of them (both rows, only one, or a crash) |
//! | `StampOwnLine` | `own-stamp-heads-own-line`, `own-stamp-target-row-kept`, `own-stamp-label-own-line` |
//! | `RowsImpliedThroughDependsOn` | `own-dep-row-*` (the suite also checks that we run what Alembic runs from the implying rows alone) |
//! | `ImpliedParentRow` | `own-downgrade-implied-parent-row` |
//! | `AlembicCrash` | Alembic stops with a `KeyError` or `AssertionError`, not one of its errors, after committing the steps before: `own-upgrade-merge-implied-parent`, `own-stamp-repeated-target`, `own-stamp-two-targets-each-moving`, and a stamp down to a target with rows both above and below it (an `assert` in `_stamp_revs`); we run the same steps and finish, or refuse before writing anything |
//! | `DependencySetOrder` | the hash-seed row: same migrations, rows and `current`, the order may differ |
//!
//! Excluded cases: none. `revision` and `merge` (file creation in Alembic) are
//! checked through the pure helpers the xtask uses: the id check, the parents
//! and `depends_on` a new revision would get, and the heads once it is added.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use alembix_core::plan::{self, HeadMaintainer, IterateOptions, Plan, PlanError, PlanErrorKind};
use alembix_core::resolve::{self, RevArg};
use alembix_core::{Graph, GraphOptions, HeadPolicy, ProblemKind, Problems, RevIdx, RevisionSpec};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const DATA: &str = include_str!("data/alembic_cases.json");
const OWN: &str = include_str!("data/own_cases.json");

/// What we assert instead of Alembic's result, and why (see the table above).
enum Ours {
    /// The graph does not load: this problem kind.
    LoadFails(ProblemKind),
    /// The operation fails: this kind, the message containing this text.
    Fails(PlanErrorKind, &'static str),
    /// Same outcome; Alembic's `observed_message` is not ours.
    OwnText,
    /// The graph does not load: this problem kind, naming exactly these revisions.
    LoadFailsNaming(ProblemKind, &'static [&'static str]),
    /// The plan succeeds: these steps in order, then these rows.
    Plans(&'static [&'static str], &'static [&'static str]),
}

fn deviation(id: &str) -> Option<(Ours, &'static str)> {
    Some(match id {
        "sup-duplicate-revision" => (
            Ours::LoadFails(ProblemKind::DuplicateRevision),
            "a duplicated revision id is a build error, not a warning",
        ),
        "sup-upgrade-relative-overflow-crash" => (
            Ours::Fails(PlanErrorKind::RevisionError, "Walked too far"),
            "an error, not Alembic's AssertionError",
        ),
        "vt-branched-downgrade-minus1-right"
        | "vt-branched-downgrade-minus1-left"
        | "vt-branched-downgrade-minus1-left-unbalanced" => (
            Ours::Fails(
                PlanErrorKind::RevisionError,
                "downgrade -1 from multiple heads is ambiguous",
            ),
            "refused instead of depending on the order SELECT returns rows in",
        ),
        "cmd-stamp-nonsensical" | "cmd-stamp-purge" => (
            Ours::Fails(
                PlanErrorKind::RevisionError,
                "overlaps with other requested revisions",
            ),
            "a stamp may not write a row that is an ancestor of another",
        ),
        "sc-multi-current-head-raises" => (Ours::OwnText, "our message names `cargo xtask merge`"),
        "own-show-nosuch-at-base" => (
            Ours::Fails(PlanErrorKind::ResolutionError, "No such branch: 'nosuch'"),
            "an unknown label before `@base` is refused, as in every other target",
        ),
        "own-dep-row-upgrade-heads" => (
            Ours::Plans(&[], &["a2", "b2"]),
            "rows that another row implies through depends_on are read as applied",
        ),
        // Both: Alembic's plan from the implying row `b2` alone (steps b3, a3).
        "own-dep-row-longer-upgrade-heads" => (
            Ours::Plans(&["b3", "a3"], &["a3", "b3"]),
            "rows that another row implies through depends_on are read as applied",
        ),
        "own-dep-row-longer-upgrade-plus1" => (
            Ours::Plans(&["b3"], &["a2", "b3"]),
            "rows that another row implies through depends_on are read as applied",
        ),
        "own-dep-row-stale-root-upgrade-heads" => (
            Ours::Plans(&["b3", "a3"], &["a3", "b3"]),
            "rows that another row implies through depends_on are read as applied; the stale row a1 goes when a3, above it in its own line, is written",
        ),
        "own-stamp-heads-own-line" => (
            Ours::Plans(&[], &["c2", "m2"]),
            "each stamp target moves the rows on its own line, all of them",
        ),
        "own-stamp-target-row-kept" => (
            Ours::Plans(&[], &["x1", "y2"]),
            "a requested target that is already a row stays a row",
        ),
        "own-stamp-label-own-line" => (
            Ours::Plans(&[], &["a3", "b1"]),
            "a row off the target's own line stays a row",
        ),
        "own-stamp-repeated-target" => (
            Ours::Plans(&[], &["a2"]),
            "a target given twice is stamped once, not an AssertionError",
        ),
        "own-stamp-two-targets-each-moving" => (
            Ours::Plans(&[], &["a2", "b1"]),
            "each target moves the rows it reaches, once (Alembic: KeyError)",
        ),
        "own-downgrade-implied-parent-row" => (
            Ours::Plans(&["a3"], &["a2", "z1"]),
            "a parent another parent implies does not become a row",
        ),
        "own-upgrade-merge-implied-parent" => (
            Ours::Plans(&["m1"], &["m1"]),
            "a parent another parent implies is not looked for among the rows (Alembic: KeyError)",
        ),
        "rev-depcycle-upper" => (
            Ours::LoadFailsNaming(ProblemKind::DependencyCycle, &["c", "d", "e"]),
            "only the revisions on the cycle are named, not those below it",
        ),
        _ => return None,
    })
}

fn strs(v: &Value) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().expect("string").to_string())
            .collect(),
        other => panic!("not a string or list: {other}"),
    }
}

fn set(v: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

fn build(case: &Value) -> Result<Graph, Problems> {
    let specs = case["graph"]
        .as_array()
        .expect("graph list")
        .iter()
        .map(|r| RevisionSpec {
            revision: r["revision"].as_str().expect("revision").to_string(),
            down_revisions: strs(&r["down_revision"]),
            branch_labels: strs(&r["branch_labels"]),
            depends_on: strs(&r["depends_on"]),
            ..RevisionSpec::default()
        })
        .collect();
    Graph::build(
        specs,
        &GraphOptions {
            heads: HeadPolicy::Any,
        },
    )
}

fn ids(g: &Graph, revs: &[RevIdx]) -> Vec<String> {
    g.ids(revs)
}

fn plan_kind(name: &str) -> Option<PlanErrorKind> {
    Some(match name {
        "MultipleHeads" => PlanErrorKind::MultipleHeads,
        "ResolutionError" => PlanErrorKind::ResolutionError,
        "RangeNotAncestor" => PlanErrorKind::RangeNotAncestor,
        "RevisionError" => PlanErrorKind::RevisionError,
        "CommandError" => PlanErrorKind::CommandError,
        "DatabaseNotAtHead" => PlanErrorKind::DatabaseNotAtHead,
        _ => return None,
    })
}

/// Checks an expected `error` against ours: kind (or an `alt_kinds`), exact
/// `message`, every `message_contains`, and `observed_message` unless exempt.
fn check_error(exp: &Value, err: &PlanError, own_text: bool) -> Result<(), String> {
    let mut kinds = vec![exp["kind"].as_str().unwrap_or_default().to_string()];
    kinds.extend(strs(&exp["alt_kinds"]));
    if !kinds.iter().any(|k| plan_kind(k) == Some(err.kind)) {
        return Err(format!(
            "kind {:?}, expected one of {kinds:?} ({err})",
            err.kind
        ));
    }
    let full = err.to_string();
    if let Some(m) = exp["message"].as_str() {
        if err.message != m {
            return Err(format!("message {:?}, expected {m:?}", err.message));
        }
    }
    for part in strs(&exp["message_contains"]) {
        if !full.contains(&part) {
            return Err(format!("{full:?} does not contain {part:?}"));
        }
    }
    if let Some(m) = exp["observed_message"].as_str() {
        if !own_text && !full.contains(m) {
            return Err(format!("{full:?} does not contain Alembic's {m:?}"));
        }
    }
    for key in exp.as_object().expect("error object").keys() {
        if ![
            "kind",
            "alt_kinds",
            "message",
            "message_contains",
            "observed_message",
            "revisions_set",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("unknown error key {key}"));
        }
    }
    Ok(())
}

/// The outcome of one operation, to compare with `expected`.
#[derive(Default)]
struct Outcome {
    /// Keys of `expected` this outcome answers.
    values: BTreeMap<&'static str, Value>,
    error: Option<PlanError>,
}

impl Outcome {
    fn error(e: PlanError) -> Self {
        Outcome {
            error: Some(e),
            ..Outcome::default()
        }
    }

    fn with(mut self, key: &'static str, v: Value) -> Self {
        self.values.insert(key, v);
        self
    }
}

fn json_list(v: Vec<String>) -> Value {
    Value::Array(v.into_iter().map(Value::String).collect())
}

fn changes_json(plan: &Plan, offline: bool) -> Value {
    Value::Array(
        plan.steps
            .iter()
            .map(|s| {
                let mut m = serde_json::Map::new();
                m.insert(
                    "remove".into(),
                    json_list(set(s.remove.clone()).into_iter().collect()),
                );
                m.insert(
                    "add".into(),
                    json_list(set(s.add.clone()).into_iter().collect()),
                );
                if offline && s.create_table {
                    m.insert("create_table".into(), Value::Bool(true));
                }
                assert!(
                    offline || !s.create_table,
                    "online steps never create the table"
                );
                Value::Object(m)
            })
            .collect(),
    )
}

fn plan_outcome(g: &Graph, plan: Result<Plan, PlanError>, offline: bool) -> Outcome {
    match plan {
        Err(e) => Outcome::error(e),
        Ok(plan) => {
            let steps: Vec<String> = plan
                .steps
                .iter()
                .filter_map(|s| s.revision)
                .map(|r| g.rev(r).id.clone())
                .collect();
            Outcome::default()
                .with("steps", json_list(steps))
                .with("heads_after", json_list(plan.rows_after.clone()))
                .with("version_changes", changes_json(&plan, offline))
        }
    }
}

fn rev_arg<'a>(v: &Value, holder: &'a [&'a str]) -> RevArg<'a> {
    match v {
        Value::Null => RevArg::Base,
        Value::String(_) => RevArg::One(holder[0]),
        Value::Array(_) => RevArg::Many(holder),
        other => panic!("bad bound {other}"),
    }
}

/// Runs the case's operation on a graph that loaded.
fn run(g: &Graph, case: &Value) -> Outcome {
    let op = &case["op"];
    let rows_of = |key: &str| strs(&op[key]);
    match op["op"].as_str().expect("op") {
        "heads" => {
            let heads = if op["resolve_dependencies"].as_bool().unwrap_or(false) {
                g.real_heads()
            } else {
                g.heads()
            };
            Outcome::default().with("heads", json_list(ids(g, heads)))
        }
        "bases" => Outcome::default().with("bases", json_list(ids(g, g.bases()))),
        "current_head" => match plan::current_head(g) {
            Ok(h) => Outcome::default().with(
                "revision",
                json_list(h.map(|h| ids(g, &[h])).unwrap_or_default()),
            ),
            Err(e) => Outcome::error(e),
        },
        "resolve" => {
            let id = op["id"].as_str().unwrap_or("base");
            if op["multiple"].as_bool().unwrap_or(false) {
                match resolve::resolve_many(g, id) {
                    Ok(revs) => Outcome::default().with("revisions", json_list(ids(g, &revs))),
                    Err(e) => Outcome::error(e),
                }
            } else {
                match resolve::resolve(g, id) {
                    Ok(r) => Outcome::default().with(
                        "revision",
                        r.map_or(Value::Null, |r| Value::String(g.rev(r).id.clone())),
                    ),
                    Err(e) => Outcome::error(e),
                }
            }
        }
        "history" => {
            let db = rows_of("db");
            let db: Vec<&str> = db.iter().map(String::as_str).collect();
            match plan::history(g, op["range"].as_str(), &db) {
                Ok(revs) => {
                    let listed = ids(g, &revs);
                    let marked: Vec<String> = listed
                        .iter()
                        .filter(|r| db.contains(&r.as_str()))
                        .cloned()
                        .collect();
                    Outcome::default()
                        .with("revisions", json_list(listed.clone()))
                        .with("revisions_set", json_list(listed))
                        .with("marked_current", json_list(marked))
                }
                Err(e) => Outcome::error(e),
            }
        }
        "iterate" => {
            let upper = strs(&op["upper"]);
            let lower = strs(&op["lower"]);
            let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
            let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
            let options = IterateOptions {
                implicit_base: op["implicit_base"].as_bool().unwrap_or(false),
                inclusive: op["inclusive"].as_bool().unwrap_or(false),
                assert_relative_length: true,
                select_for_downgrade: op["select_for_downgrade"].as_bool().unwrap_or(false),
            };
            match plan::iterate(
                g,
                rev_arg(&op["upper"], &upper),
                rev_arg(&op["lower"], &lower),
                &options,
            ) {
                Ok(revs) => Outcome::default().with("revisions", json_list(ids(g, &revs))),
                Err(e) => Outcome::error(e),
            }
        }
        kind @ ("upgrade" | "downgrade") => {
            let to = op["to"].as_str().expect("to");
            if op["sql"].as_bool().unwrap_or(false) {
                let range = match op["start"].as_str() {
                    Some(start) => format!("{start}:{to}"),
                    None => to.to_string(),
                };
                let plan = if kind == "upgrade" {
                    plan::plan_upgrade_offline(g, &range)
                } else {
                    plan::plan_downgrade_offline(g, &range)
                };
                plan_outcome(g, plan, true)
            } else {
                let rows = rows_of("from");
                let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
                let plan = if kind == "upgrade" {
                    plan::plan_upgrade(g, &rows, to)
                } else {
                    plan::plan_downgrade(g, &rows, to)
                };
                plan_outcome(g, plan, false)
            }
        }
        "stamp" => {
            let to = rows_of("to");
            if op["sql"].as_bool().unwrap_or(false) {
                let targets: Vec<String> = match op["start"].as_str() {
                    Some(start) => to.iter().map(|t| format!("{start}:{t}")).collect(),
                    None => to,
                };
                let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
                plan_outcome(g, plan::plan_stamp_offline(g, &targets), true)
            } else {
                let rows = rows_of("from");
                let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
                let targets: Vec<&str> = to.iter().map(String::as_str).collect();
                let purge = op["purge"].as_bool().unwrap_or(false);
                let plan = plan::plan_stamp(g, &rows, &targets, purge);
                if let Ok(p) = &plan {
                    assert_eq!(p.purge, purge);
                }
                plan_outcome(g, plan, false)
            }
        }
        "current" => {
            let db = rows_of("db");
            let db: Vec<&str> = db.iter().map(String::as_str).collect();
            if op["check_heads"].as_bool().unwrap_or(false) {
                if let Err(e) = plan::check_heads(g, &db) {
                    return Outcome::error(e);
                }
            }
            match plan::current(g, &db) {
                Ok(revs) => Outcome::default().with("current", json_list(ids(g, &revs))),
                Err(e) => Outcome::error(e),
            }
        }
        "apply_steps" => {
            let from: Vec<RevIdx> = rows_of("from")
                .iter()
                .map(|r| g.index_of(r).expect("row"))
                .collect();
            let mut table = HeadMaintainer::new(g, &from);
            let mut after_each = Vec::new();
            let mut changes = Vec::new();
            for s in op["steps"].as_array().expect("steps") {
                let r = g
                    .index_of(s["revision"].as_str().expect("revision"))
                    .expect("known");
                let change = if s["direction"] == "up" {
                    table.upgrade(r)
                } else {
                    table.downgrade(r)
                };
                let mut m = serde_json::Map::new();
                m.insert("remove".into(), json_list(ids(g, &change.remove)));
                m.insert("add".into(), json_list(ids(g, &change.add)));
                changes.push(Value::Object(m));
                after_each.push(json_list(ids(g, &table.rows())));
            }
            Outcome::default()
                .with("heads_after_each", Value::Array(after_each))
                .with("version_changes", Value::Array(changes))
        }
        "revision" | "merge" => {
            let rev_id = op["rev_id"].as_str().expect("rev_id");
            if let Err(e) = resolve::check_revision_id(rev_id) {
                return Outcome::error(e);
            }
            let heads: Vec<String> = if op["op"] == "merge" {
                rows_of("revisions")
            } else {
                rows_of("head")
            };
            let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
            let splice = op["splice"].as_bool().unwrap_or(false);
            let parents = match plan::new_revision_parents(g, &heads, splice) {
                Ok(p) => p,
                Err(e) => return Outcome::error(e),
            };
            let deps = rows_of("depends_on");
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            let new_deps = match plan::resolve_depends_on(g, &deps) {
                Ok(d) => d,
                Err(e) => return Outcome::error(e),
            };
            // The graph once the new revision is added last (its file sorts anywhere;
            // heads are compared as a set).
            let mut specs: Vec<RevisionSpec> = g
                .revisions()
                .iter()
                .map(|r| RevisionSpec {
                    revision: r.id.clone(),
                    down_revisions: ids(g, &r.down),
                    branch_labels: r.declared_labels.clone(),
                    depends_on: r.depends_on.clone(),
                    ..RevisionSpec::default()
                })
                .collect();
            specs.push(RevisionSpec {
                revision: rev_id.to_string(),
                down_revisions: ids(g, &parents),
                depends_on: new_deps.clone(),
                ..RevisionSpec::default()
            });
            let after = Graph::build(
                specs,
                &GraphOptions {
                    heads: HeadPolicy::Any,
                },
            )
            .expect("new revision loads");
            let down = match parents.as_slice() {
                [] => Value::Null,
                [one] => Value::String(g.rev(*one).id.clone()),
                many => json_list(ids(g, many)),
            };
            Outcome::default()
                .with("new_down_revision", down)
                .with("new_depends_on", json_list(new_deps))
                .with(
                    "heads_after_revision",
                    json_list(ids(&after, after.heads())),
                )
        }
        other => panic!("unknown op {other}"),
    }
}

/// Compares `expected` with the outcome; unordered keys compare as sets.
fn compare(case: &Value, out: &Outcome, own_text: bool) -> Result<(), String> {
    let expected = case["expected"].as_object().expect("expected object");
    if let Some(exp) = expected.get("error") {
        return match &out.error {
            Some(e) => check_error(exp, e, own_text),
            None => Err("expected an error, got success".to_string()),
        };
    }
    if let Some(e) = &out.error {
        return Err(format!("unexpected error: {e}"));
    }
    let ordered = expected
        .get("ordered")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    for (key, exp) in expected {
        let as_set = |v: &Value| set(strs(v));
        match key.as_str() {
            "ordered" | "version_ops_example" => {}
            "steps" | "revisions" | "version_changes" | "revision" | "new_down_revision"
            | "new_depends_on" => {
                let got = out
                    .values
                    .get(key.as_str())
                    .ok_or_else(|| format!("no {key}"))?;
                if key == "version_changes" {
                    let got = got.as_array().expect("list");
                    let exp = exp.as_array().expect("list");
                    if got.len() != exp.len() {
                        return Err(format!("version_changes {got:?}, expected {exp:?}"));
                    }
                    for (g, e) in got.iter().zip(exp) {
                        let same = as_set(&g["remove"]) == as_set(&e["remove"])
                            && as_set(&g["add"]) == as_set(&e["add"])
                            && g["create_table"].as_bool().unwrap_or(false)
                                == e["create_table"].as_bool().unwrap_or(false);
                        if !same {
                            return Err(format!("version_changes {got:?}, expected {exp:?}"));
                        }
                    }
                } else if got != exp && !(key == "revision" && strs(got) == strs(exp)) {
                    return Err(format!("{key} {got}, expected {exp}"));
                }
            }
            "heads" if ordered => {
                let got = out.values.get("heads").ok_or("no heads")?;
                if got != exp {
                    return Err(format!("heads {got}, expected {exp} (ordered)"));
                }
            }
            "heads"
            | "heads_after"
            | "bases"
            | "current"
            | "revisions_set"
            | "marked_current"
            | "heads_after_revision" => {
                let got = out
                    .values
                    .get(key.as_str())
                    .ok_or_else(|| format!("no {key}"))?;
                if as_set(got) != as_set(exp) {
                    return Err(format!("{key} {got}, expected {exp}"));
                }
            }
            "heads_after_each" => {
                let got = out
                    .values
                    .get("heads_after_each")
                    .ok_or("no heads_after_each")?;
                let got: Vec<BTreeSet<String>> =
                    got.as_array().expect("list").iter().map(as_set).collect();
                let want: Vec<BTreeSet<String>> =
                    exp.as_array().expect("list").iter().map(as_set).collect();
                if got != want {
                    return Err(format!("heads_after_each {got:?}, expected {want:?}"));
                }
            }
            other => return Err(format!("unknown expected key {other}")),
        }
    }
    Ok(())
}

/// Alembic's load-error kinds in our problem kinds.
fn problem_kind(case: &Value, name: &str) -> Vec<ProblemKind> {
    match name {
        "LoopDetected" => vec![ProblemKind::SelfLoop],
        "DependencyLoopDetected" => vec![ProblemKind::DependencySelfLoop],
        "CycleDetected" => vec![ProblemKind::Cycle],
        "DependencyCycleDetected" => vec![ProblemKind::DependencyCycle],
        "MissingRevision" => vec![
            ProblemKind::MissingDownRevision,
            ProblemKind::MissingDependency,
        ],
        "RevisionError" if case["id"] == "rev-label-dupe" => {
            vec![ProblemKind::DuplicateBranchLabel]
        }
        other => panic!("unmapped load error {other}"),
    }
}

fn run_case(case: &Value) -> Result<(), String> {
    let id = case["id"].as_str().expect("id");
    let dev = deviation(id);
    let built = build(case);
    let op = case["op"]["op"].as_str().expect("op");

    if let Some((Ours::LoadFails(kind), _)) = &dev {
        return match built {
            Err(problems) if problems.has(*kind) => Ok(()),
            Err(problems) => Err(format!("expected {kind:?}, got {problems}")),
            Ok(_) => Err(format!("expected {kind:?}, the graph loaded")),
        };
    }
    if let Some((Ours::LoadFailsNaming(kind, names), _)) = &dev {
        let problems = match built {
            Err(problems) => problems,
            Ok(_) => return Err(format!("expected {kind:?}, the graph loaded")),
        };
        let problem = problems
            .iter()
            .find(|p| p.kind == *kind)
            .ok_or_else(|| format!("expected {kind:?}, got {problems}"))?;
        let listed = format!("({})", names.join(", "));
        return if problem.message.contains(&listed) {
            Ok(())
        } else {
            Err(format!(
                "{:?} does not name exactly {listed}",
                problem.message
            ))
        };
    }
    if op == "load" {
        let expected = &case["expected"];
        if expected["ok"].as_bool() == Some(true) {
            return built
                .map(|_| ())
                .map_err(|p| format!("expected to load: {p}"));
        }
        let exp = &expected["error"];
        let kinds = problem_kind(case, exp["kind"].as_str().expect("kind"));
        let problems = match built {
            Ok(_) => return Err("expected a load error".into()),
            Err(p) => p,
        };
        let problem = problems
            .iter()
            .find(|p| kinds.contains(&p.kind))
            .ok_or_else(|| format!("expected {kinds:?}, got {problems}"))?;
        // The revisions Alembic names (in `(...)`, or `revisions_set`) are named by us too.
        let text = problem.to_string();
        let mut named: Vec<String> = strs(&exp["revisions_set"]);
        for m in strs(&exp["message_contains"])
            .iter()
            .chain(strs(&exp["observed_message"]).iter())
        {
            if let (Some(a), Some(b)) = (m.find('('), m.rfind(')')) {
                named.extend(m[a + 1..b].split(", ").map(str::to_string));
            }
            if let Some(rest) = m.strip_prefix("KeyError: ") {
                named.push(rest.to_string());
            }
            if let Some(start) = m.find("Branch name '") {
                let rest = &m[start + 13..];
                named.push(rest[..rest.find('\'').unwrap_or(rest.len())].to_string());
            }
        }
        for n in named.iter().filter(|n| !n.is_empty()) {
            let word = text
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == n);
            if !word {
                return Err(format!("{text:?} does not name {n}"));
            }
        }
        return Ok(());
    }
    let g = built.map_err(|p| format!("graph does not load: {p}"))?;
    let out = run(&g, case);
    match dev {
        Some((Ours::Fails(kind, contains), _)) => match out.error {
            Some(e) if e.kind == kind && e.to_string().contains(contains) => Ok(()),
            Some(e) => Err(format!(
                "expected our {kind:?} containing {contains:?}, got {e}"
            )),
            None => Err(format!("expected our {kind:?}, got success")),
        },
        Some((Ours::Plans(steps, rows), _)) => {
            if let Some(e) = out.error {
                return Err(format!("expected our plan, got {e}"));
            }
            let got = (&out.values["steps"], &out.values["heads_after"]);
            let want = (
                &json_list(steps.iter().map(|s| s.to_string()).collect()),
                &json_list(rows.iter().map(|s| s.to_string()).collect()),
            );
            if got == want {
                Ok(())
            } else {
                Err(format!("steps and rows {got:?}, expected ours {want:?}"))
            }
        }
        Some((Ours::OwnText, _)) => compare(case, &out, true),
        _ => compare(case, &out, false),
    }
}

#[test]
fn alembic_cases() {
    let data: Value = serde_json::from_str(DATA).expect("cases.json parses");
    let cases = data["cases"].as_array().expect("cases");
    let mut by_op: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut deviations = 0;
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let op = case["op"]["op"].as_str().expect("op").to_string();
        if deviation(id).is_some() {
            deviations += 1;
        }
        let entry = by_op.entry(op).or_default();
        entry.0 += 1;
        match run_case(case) {
            Ok(()) => entry.1 += 1,
            Err(why) => failures.push(format!("{id}: {why}")),
        }
    }
    println!("alembic cases by operation (passed/total):");
    for (op, (total, passed)) in &by_op {
        println!("  {op:<12} {passed:>3}/{total}");
    }
    let passed: usize = by_op.values().map(|v| v.1).sum();
    println!(
        "{passed}/{} cases pass ({deviations} of them assert our deliberate deviation), 0 excluded",
        cases.len()
    );
    assert_eq!(cases.len(), 202, "the data set has 202 cases");
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Our own cases (issue 16 and later), beside Alembic's and in their format.
#[test]
fn own_cases() {
    let data: Value = serde_json::from_str(OWN).expect("own_cases.json parses");
    let cases = data["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    let mut ids = BTreeSet::new();
    for case in cases {
        let id = case["id"].as_str().expect("id");
        assert!(id.starts_with("own-"), "{id}: our cases are named own-…");
        assert!(ids.insert(id), "{id} appears twice");
        if let Err(why) = run_case(case) {
            failures.push(format!("{id}: {why}"));
        }
    }
    assert!(cases.len() >= 18, "only {} own cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issue 16: a database whose rows are `a2` and `b2` (b2 `depends_on` a2, as
/// Alembic's `stamp a2 b2` leaves it) is assessed, not refused as overlapping,
/// so that the runtime reaches the downgrade the own cases above plan.
#[test]
fn rows_implied_through_depends_on_are_assessed() {
    let data: Value = serde_json::from_str(OWN).expect("own_cases.json parses");
    let case = |id: &str| {
        data["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .expect("case")
    };
    let no_history = |_: &str| None;
    let g = build(&case("own-dep-row-alpha-minus1-a2-b2")).expect("loads");
    for rows in [["a2", "b2"], ["b2", "a2"]] {
        assert_eq!(
            alembix_core::assess(&g, &rows, &no_history),
            alembix_core::Assessment::UpToDate
        );
    }
    let longer = build(&case("own-dep-row-longer-upgrade-heads")).expect("loads");
    let pending = match alembix_core::assess(&longer, &["a2", "b2"], &no_history) {
        alembix_core::Assessment::Behind { pending } => ids(&longer, &pending),
        other => panic!("expected Behind, got {other:?}"),
    };
    assert_eq!(pending, ["b3", "a3"]);
    // Rows related through down_revision stay inconsistent, as Alembic has them.
    assert!(matches!(
        alembix_core::assess(&longer, &["a1", "a2", "b2"], &no_history),
        alembix_core::Assessment::Inconsistent { .. }
    ));
}

/// Found by the differential suite (seed 1796587703227836711): from rows one
/// of which implies another only through `depends_on` (`a1` and `c1`, which
/// depends on `b2` above `a1`; Alembic's `stamp a1 c1` writes them), a
/// downgrade that makes `b1` a row must not leave `a1` beside it: every
/// operation but `stamp` refuses a row below another in its own line.
#[test]
fn a_row_written_above_an_implied_row_removes_it() {
    let spec = |revision: &str, down: &[&str], deps: &[&str]| RevisionSpec {
        revision: revision.to_string(),
        down_revisions: down.iter().map(|s| s.to_string()).collect(),
        depends_on: deps.iter().map(|s| s.to_string()).collect(),
        ..RevisionSpec::default()
    };
    let specs = vec![
        spec("a1", &[], &[]),
        spec("b1", &["a1"], &[]),
        spec("b2", &["b1"], &[]),
        spec("c1", &[], &["b2"]),
    ];
    let options = GraphOptions {
        heads: HeadPolicy::Any,
    };
    let g = Graph::build(specs, &options).expect("loads");
    let plan = plan::plan_downgrade(&g, &["a1", "c1"], "b1").expect("plans");
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| {
            (
                g.rev(s.revision.expect("migration")).id.clone(),
                s.remove.clone(),
                s.add.clone(),
            )
        })
        .collect();
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        steps,
        vec![
            ("c1".to_string(), owned(&["a1", "c1"]), owned(&["b2"])),
            ("b2".to_string(), owned(&["b2"]), owned(&["b1"])),
        ]
    );
    assert_eq!(plan.rows_after, owned(&["b1"]));
    let no_history = |_: &str| None;
    assert!(matches!(
        alembix_core::assess(&g, &["b1"], &no_history),
        alembix_core::Assessment::Behind { .. }
    ));
}

/// `cmd-stamp-purge` with targets that do not overlap: `--purge` deletes every
/// row, unknown ids included, without reading them.
#[test]
fn stamp_purge_deletes_unknown_rows() {
    let data: Value = serde_json::from_str(DATA).expect("cases.json parses");
    let case = data["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["id"] == "cmd-stamp-purge")
        .expect("case");
    let g = build(case).expect("multiheads loads");
    let plan =
        plan::plan_stamp(&g, &["fake"], &["e", "f"], true).expect("purge ignores unknown rows");
    assert!(plan.purge);
    assert_eq!(plan.rows_before, vec!["fake".to_string()]);
    assert_eq!(plan.rows_after, vec!["e".to_string(), "f".to_string()]);
    assert_eq!(plan.steps.len(), 2);
    assert!(plan
        .steps
        .iter()
        .all(|s| s.remove.is_empty() && s.revision.is_none()));
    // Without --purge the unknown row is refused.
    let err = plan::plan_stamp(&g, &["fake"], &["e", "f"], false).expect_err("unknown row");
    assert_eq!(err.kind, PlanErrorKind::ResolutionError);
}
