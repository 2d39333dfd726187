//! Plans: which migrations an `upgrade`, `downgrade` or `stamp` runs, in which
//! order, and how the version table's rows change at every step; plus
//! `current`, `history` and the parents a new revision would get.
//!
//! Everything follows Alembic (`shared/alembic/SEMANTICS.md` §5–10): the sets
//! come from `_collect_upgrade_revisions` / `_collect_downgrade_revisions`, the
//! order from `_topological_sort` ([`crate::order`]), the rows from
//! `HeadMaintainer`. The input is the graph and the rows of the version table
//! (Alembic's `alembic_version`, one row per head the database is at); nothing
//! here does IO.
//!
//! # Version-table rows
//!
//! The rows are always the *newest* applied revisions: every applied revision is
//! a row or an ancestor (through `down_revision` or `depends_on`) of a row, and
//! no row we write is an ancestor of another. Rows read may also hold a revision
//! that another row only depends on (Alembic's `stamp a2 b2` writes `a2` beside
//! `b2`, which `depends_on` it); it is applied either way. Each [`Step`] says
//! which rows disappear and which appear (an `UPDATE f -> t` is remove `f`, add
//! `t`); that net change is what Alembic's `HeadMaintainer` produces, without
//! its random choice of which row of a merge to `UPDATE`.
//!
//! # Where we differ from Alembic, on purpose
//!
//! - A row must name a revision exactly (Alembic also accepts a prefix or a
//!   branch label in `alembic_version`); duplicated rows count once.
//! - `downgrade -1` with several distinct rows is an error naming them (Alembic
//!   walks from whichever row the database returns first, and warns that this
//!   "will be disallowed in a future release").
//! - `rev+N` / `rev-N` walking off the graph in an upgrade is a
//!   [`PlanErrorKind::RevisionError`] (Alembic crashes with `AssertionError`).
//! - `stamp` refuses targets where one is an ancestor of another (Alembic writes
//!   the inconsistent rows), stamps a target given twice once (Alembic fails an
//!   assertion), and each stamp target only replaces the rows on its own line
//!   of ancestry, all of them (Alembic's first target that reaches a row
//!   replaces every row related to *any* target or to its branch label — a
//!   row that is itself a target too — inserts a later target beside rows it
//!   implies, and crashes when two targets move the same rows).
//! - `current --check-heads` ([`check_heads`]) passes when every revision is
//!   applied; Alembic compares the rows with the versioned heads, so it fails
//!   right after `upgrade heads` when a head is only a `depends_on` target.
//! - `history -r :current` on an empty database lists nothing (Alembic lists
//!   the whole history).
//! - Rows after a downgrade step are exactly the newest applied revisions, also
//!   when a merge names a parent that is an ancestor of another parent.
//! - Where Alembic fails an internal assertion we return an error saying why:
//!   `label@-N` with no or several current revisions on the branch, a history
//!   lower bound `rev@…` whose revision does not carry exactly one label (we
//!   use its labels, or its lineage when it has none), a relative stamp or
//!   merge target that walks off the graph.
//! - A history lower bound `-N` that lands exactly on base means base (Alembic
//!   reports the range as not along one branch).
//! - `upgrade` from rows where one row is reached from another only through
//!   `depends_on` (`a2` beside `b2`, which depends on it) plans from the rows
//!   that imply the rest; Alembic refuses it ("Requested revision b2 overlaps
//!   with other requested revisions a2") although its `downgrade` reads those
//!   rows, so such a database could not even be assessed before a downgrade.

use crate::graph::{Graph, RevIdx};
use crate::order::{topological_sort, topological_sort_closed};
use crate::resolve::{parse_relative, Got, Pos, Resolver};
use std::fmt;

pub use crate::resolve::RevArg;

/// Whether a step applies a revision or reverts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Run the revision's upgrade.
    Upgrade,
    /// Run the revision's downgrade.
    Downgrade,
}

/// One step of a plan: a migration to run (or, for a stamp, none) and how the
/// version-table rows change with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision whose migration runs; `None` for a stamp step, which only
    /// changes the version table.
    pub revision: Option<RevIdx>,
    /// Upgrade or downgrade (for a stamp: whether it moves up or down).
    pub direction: Direction,
    /// Rows that disappear in this step, in load order.
    pub remove: Vec<String>,
    /// Rows that appear in this step, in load order.
    pub add: Vec<String>,
    /// Offline plans only: the version table has no row when this step starts,
    /// so `CREATE TABLE alembic_version` is emitted before it (as Alembic does).
    pub create_table: bool,
}

/// What a command will do: its steps in order and the rows before and after.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// `stamp --purge`: delete every row (even ids the graph does not know)
    /// before the first step.
    pub purge: bool,
    /// The version table had no row at the start: make sure it exists (Alembic
    /// creates it online before any step, even when there is none).
    pub create_table: bool,
    /// The rows the plan starts from.
    pub rows_before: Vec<String>,
    /// The rows once every step has run, in load order.
    pub rows_after: Vec<String>,
}

/// Why a target, range or plan was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// The category, mirroring Alembic's exceptions.
    pub kind: PlanErrorKind,
    /// What is wrong, in Alembic's words where they are good.
    pub message: String,
    /// What to do next.
    pub help: Option<String>,
}

/// Categories of [`PlanError`], named after Alembic's exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanErrorKind {
    /// `head` (or one revision) was asked for but several heads match.
    MultipleHeads,
    /// An identifier names no revision or branch, or several.
    ResolutionError,
    /// A range or destination is not on one line of ancestry.
    RangeNotAncestor,
    /// A walk, a set of revisions or rows the graph cannot honour.
    RevisionError,
    /// Arguments that do not go together (a range without offline mode, …).
    CommandError,
    /// `current --check-heads`: the database is not at every head.
    DatabaseNotAtHead,
}

impl PlanError {
    /// An error without help.
    pub fn new(kind: PlanErrorKind, message: impl Into<String>) -> Self {
        PlanError {
            kind,
            message: message.into(),
            help: None,
        }
    }

    /// Attaches what to do next.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanError {}

/// Options of [`iterate`], Alembic's `RevisionMap.iterate_revisions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IterateOptions {
    /// Include revisions of other branches down to base (upgrade: `true`).
    pub implicit_base: bool,
    /// Include the lower bound itself (history: `true`).
    pub inclusive: bool,
    /// A relative walk that runs off the graph is an error (history: `false`,
    /// it stops at the end instead).
    pub assert_relative_length: bool,
    /// Select what a downgrade from `upper` to `lower` reverts.
    pub select_for_downgrade: bool,
}

impl Default for IterateOptions {
    fn default() -> Self {
        IterateOptions {
            implicit_base: false,
            inclusive: false,
            assert_relative_length: true,
            select_for_downgrade: false,
        }
    }
}

/// Plans `upgrade <target>` from the version-table `rows` (Alembic's `upgrade`).
///
/// `target` is `head`, `heads`, an id or prefix, `label@head`, `+N`,
/// `label@+N`, `rev+N`, `label@head-1`, …. A `start:target` range is only for
/// [`plan_upgrade_offline`].
pub fn plan_upgrade(graph: &Graph, rows: &[&str], target: &str) -> Result<Plan, PlanError> {
    refuse_range(target)?;
    let rows = known_rows(graph, rows)?;
    upgrade_plan(graph, &rows, target, false)
}

/// Plans `downgrade <target>` from the version-table `rows` (Alembic's `downgrade`).
///
/// `target` is `base`, an id or prefix, `label@base`, `label@rev`, `-N`,
/// `label@-N`, `rev-N`, `base+N`, …. Reverts every applied revision above the
/// target (on the labelled branch only, with `label@`), dependents first.
pub fn plan_downgrade(graph: &Graph, rows: &[&str], target: &str) -> Result<Plan, PlanError> {
    refuse_range(target)?;
    let rows = known_rows(graph, rows)?;
    downgrade_plan(graph, &rows, target, false)
}

/// Plans `stamp <targets…>`: the version table is set to the targets without
/// running any migration. With `purge`, every row is deleted first (even ids the
/// graph does not know) and `rows` is not read.
pub fn plan_stamp(
    graph: &Graph,
    rows: &[&str],
    targets: &[&str],
    purge: bool,
) -> Result<Plan, PlanError> {
    for t in targets {
        refuse_range(t)?;
    }
    let known = if purge {
        Vec::new()
    } else {
        known_rows(graph, rows)?
    };
    let mut plan = stamp_plan(graph, &known, targets, false)?;
    plan.purge = purge;
    plan.create_table = rows.is_empty();
    plan.rows_before = rows.iter().map(|r| r.to_string()).collect();
    Ok(plan)
}

/// Plans offline `upgrade [start:]target --sql`: the rows are `start` (none
/// without one, or for `base`), nothing is read from a database.
pub fn plan_upgrade_offline(graph: &Graph, range: &str) -> Result<Plan, PlanError> {
    let (start, target) = split_range(range)?;
    let rows = offline_rows(graph, start)?;
    upgrade_plan(graph, &rows, target, true)
}

/// Plans offline `downgrade start:target --sql`; the range is required.
pub fn plan_downgrade_offline(graph: &Graph, range: &str) -> Result<Plan, PlanError> {
    let (start, target) = split_range(range)?;
    if start.is_none() {
        return Err(PlanError::new(
            PlanErrorKind::CommandError,
            "downgrade with --sql requires <fromrev>:<torev>",
        )
        .with_help("offline, nothing tells where the database is: write the start revision, e.g. `ae1027a6acf:base`"));
    }
    let rows = offline_rows(graph, start)?;
    downgrade_plan(graph, &rows, target, true)
}

/// Plans offline `stamp [start:]target… --sql`; every target that gives a start
/// must give the same one.
pub fn plan_stamp_offline(graph: &Graph, targets: &[&str]) -> Result<Plan, PlanError> {
    let mut start: Option<&str> = None;
    let mut dests: Vec<&str> = Vec::with_capacity(targets.len());
    for t in targets {
        let (s, dest) = split_range(t)?;
        if let Some(s) = s {
            match start {
                None => start = Some(s),
                Some(prev) if prev == s => {}
                Some(_) => return Err(PlanError::new(
                    PlanErrorKind::CommandError,
                    "Stamp operation with --sql only supports a single starting revision at a time",
                )
                .with_help(
                    "write the same `start:` in front of every target, or run one stamp per start",
                )),
            }
        }
        dests.push(dest);
    }
    let rows = offline_rows(graph, start)?;
    stamp_plan(graph, &rows, &dests, true)
}

/// Alembic's `current`: the rows plus the branch tips they imply through
/// `depends_on`, in load order.
pub fn current(graph: &Graph, rows: &[&str]) -> Result<Vec<RevIdx>, PlanError> {
    let rows = known_rows(graph, rows)?;
    let revs: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    Ok(Resolver::new(graph).all_current(&revs))
}

/// `current --check-heads`: succeeds when every revision of the graph is applied.
pub fn check_heads(graph: &Graph, rows: &[&str]) -> Result<(), PlanError> {
    let not_at_head = |help: String| {
        PlanError::new(
            PlanErrorKind::DatabaseNotAtHead,
            "Database is not on all head revisions",
        )
        .with_help(help)
    };
    let unknown: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|r| graph.index_of(r).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(not_at_head(format!(
            "the database records {}, which this history does not contain",
            unknown.join(", ")
        )));
    }
    let revs: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    let applied = graph.ancestor_mask(&revs, true);
    let pending: Vec<&str> = (0..graph.len())
        .filter(|&i| !applied[i])
        .map(|i| graph.rev(i).id.as_str())
        .collect();
    if pending.is_empty() {
        Ok(())
    } else {
        Err(not_at_head(format!(
            "not applied yet: {}; run `upgrade heads`",
            pending.join(", ")
        )))
    }
}

/// The single versioned head (Alembic's `get_current_head`); `None` for an empty history.
pub fn current_head(graph: &Graph) -> Result<Option<RevIdx>, PlanError> {
    let heads = graph.heads();
    if heads.len() > 1 {
        let r = Resolver::new(graph);
        let ids: Vec<&str> = heads.iter().map(|&h| graph.rev(h).id.as_str()).collect();
        return Err(PlanError::new(
            PlanErrorKind::MultipleHeads,
            format!(
                "The history has multiple heads (due to branching): {}",
                ids.join(", ")
            ),
        )
        .with_help(r.heads_help(heads)));
    }
    Ok(heads.first().copied())
}

/// Alembic's `history -r <range>`: revisions newest first.
///
/// `range` is `start:end`, `start:` or `:end` (`None`: everything); either bound
/// may be `current`, which stands for the database's `rows`. A lower bound
/// `label@…` keeps only revisions of that branch; `-N` and `+N` are relative to
/// the other bound, and walking too far stops at the end instead of failing.
pub fn history(
    graph: &Graph,
    range: Option<&str>,
    rows: &[&str],
) -> Result<Vec<RevIdx>, PlanError> {
    let (base, head) = match range {
        None => (None, None),
        Some(range) => {
            let parts: Vec<&str> = range.trim().split(':').collect();
            match parts.as_slice() {
                [b, h] => ((!b.is_empty()).then_some(*b), (!h.is_empty()).then_some(*h)),
                _ => {
                    return Err(PlanError::new(
                        PlanErrorKind::CommandError,
                        "History range requires [start]:[end], [start]:, or :[end]",
                    )
                    .with_help("e.g. `ae10:head`, `base:`, `:label@head`, `current:`, `-3:`"))
                }
            }
        }
    };
    let uses_current = base == Some("current") || head == Some("current");
    let known = if uses_current {
        known_rows(graph, rows)?
    } else {
        Vec::new()
    };
    let lower = match base {
        Some("current") if !known.is_empty() => RevArg::Many(&known),
        Some("current") | None => RevArg::One("base"),
        Some(b) => RevArg::One(b),
    };
    let upper = match head {
        Some("current") if known.is_empty() => return Ok(Vec::new()),
        Some("current") => RevArg::Many(&known),
        None => RevArg::One("heads"),
        Some(h) => RevArg::One(h),
    };
    let options = IterateOptions {
        inclusive: true,
        assert_relative_length: false,
        ..IterateOptions::default()
    };
    Planner::new(graph)
        .iterate(upper, lower, &options)
        .map_err(|e| {
            let (start, end) = (lower.describe(), upper.describe());
            match e.kind {
                PlanErrorKind::RangeNotAncestor => PlanError::new(
                    PlanErrorKind::RangeNotAncestor,
                    format!("Requested range {start}:{end} does not refer to ancestor/descendant revisions along the same branch"),
                )
                .with_help(format!("{}; the start of a range must be an ancestor of its end", e.message)),
                PlanErrorKind::MultipleHeads => multiple_heads_command(e, &end),
                _ => e,
            }
        })
}

/// Alembic's `RevisionMap.iterate_revisions(upper, lower, …)`: the revisions
/// between the bounds in Alembic's order (newest first; an upgrade runs the
/// reverse). Errors use Alembic's `RevisionMap` texts, not the command ones.
pub fn iterate(
    graph: &Graph,
    upper: RevArg<'_>,
    lower: RevArg<'_>,
    options: &IterateOptions,
) -> Result<Vec<RevIdx>, PlanError> {
    Planner::new(graph).iterate(upper, lower, options)
}

/// The `down_revision` that `revision --head <heads> [--splice]` or
/// `merge <heads>` gives a new revision (empty: a new base).
///
/// No `heads` means `head`, which must be unique; `heads` merges every effective
/// head. Without `splice` every parent must be a head.
pub fn new_revision_parents(
    graph: &Graph,
    heads: &[&str],
    splice: bool,
) -> Result<Vec<RevIdx>, PlanError> {
    let heads: Vec<&str> = if heads.is_empty() {
        vec!["head"]
    } else {
        heads.to_vec()
    };
    let got = Resolver::new(graph)
        .get_revisions(RevArg::Many(&heads))
        .map_err(|e| {
            if e.kind == PlanErrorKind::MultipleHeads {
                let help = e.help.clone().unwrap_or_default();
                PlanError::new(
                    PlanErrorKind::MultipleHeads,
                    "Multiple heads are present; please specify the head revision on which the new revision should be based, or perform a merge.",
                )
                .with_help(help)
            } else {
                e
            }
        })?;
    let mut parents: Vec<RevIdx> = Vec::with_capacity(got.len());
    for g in got {
        match g {
            Got::Rev(r) => parents.push(r),
            Got::Base => {}
            Got::TooFar => {
                return Err(
                    PlanError::new(PlanErrorKind::RevisionError, "Walked too far")
                        .with_help("the relative head runs off the history"),
                )
            }
        }
    }
    let mut sorted = parents.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != parents.len() {
        return Err(PlanError::new(
            PlanErrorKind::CommandError,
            "Duplicate head revisions specified",
        )
        .with_help("name each revision to merge once"));
    }
    if !splice {
        if let Some(&r) = parents.iter().find(|&&r| !graph.rev(r).is_head()) {
            return Err(PlanError::new(
                PlanErrorKind::CommandError,
                format!(
                    "Revision {} is not a head revision; please specify --splice to create a new branch from this revision",
                    graph.rev(r).id
                ),
            )
            .with_help("building on a revision that already has children starts a second branch; that is what --splice confirms"));
        }
    }
    Ok(parents)
}

/// Resolves a new revision's `depends_on` entries as Alembic writes them: a
/// prefix becomes the full id, a branch label stays a label.
pub fn resolve_depends_on(graph: &Graph, deps: &[&str]) -> Result<Vec<String>, PlanError> {
    let r = Resolver::new(graph);
    deps.iter()
        .map(|&dep| match r.get_revision(Some(dep))? {
            Some(rev) => {
                let rev = graph.rev(rev);
                Ok(if rev.labels.iter().any(|l| l == dep) {
                    dep.to_string()
                } else {
                    rev.id.clone()
                })
            }
            None => Err(PlanError::new(
                PlanErrorKind::ResolutionError,
                format!("depends_on '{dep}' names no revision"),
            )
            .with_help("depends_on takes a revision id, a prefix or a branch label")),
        })
        .collect()
}

/// The net change of one step: rows removed and rows added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Rows that disappear, in load order.
    pub remove: Vec<RevIdx>,
    /// Rows that appear, in load order.
    pub add: Vec<RevIdx>,
}

/// Keeps the version-table rows while steps run (Alembic's `HeadMaintainer`):
/// the rows are the applied revisions that no other applied revision builds on
/// or depends on.
///
/// Ours: from rows of which one implies another (Alembic's `stamp a2 b2`
/// writes such rows when `b2` reaches `a2` only through `depends_on`), a row a
/// step writes takes with it the rows below it through `down_revision`.
/// Alembic leaves them: a row below another in its own line, a database
/// neither tool plans from.
#[derive(Debug, Clone)]
pub struct HeadMaintainer<'g> {
    graph: &'g Graph,
    applied: Vec<bool>,
    is_row: Vec<bool>,
    rows: usize,
    /// Whether one of the starting rows implies another (only then can a
    /// written row imply a row: the check costs a walk per step).
    entangled: bool,
}

impl<'g> HeadMaintainer<'g> {
    /// Starts from `rows`; everything they imply counts as applied.
    pub fn new(graph: &'g Graph, rows: &[RevIdx]) -> Self {
        let mut is_row = vec![false; graph.len()];
        for &r in rows {
            is_row[r] = true;
        }
        let entangled = rows.len() > 1 && {
            let parents: Vec<RevIdx> = rows
                .iter()
                .flat_map(|&r| graph.parents(r).iter().copied())
                .collect();
            let below = graph.ancestor_mask(&parents, true);
            rows.iter().any(|&r| below[r])
        };
        HeadMaintainer {
            graph,
            applied: graph.ancestor_mask(rows, true),
            is_row,
            rows: rows.len(),
            entangled,
        }
    }

    /// Entangled rows only: removes the rows below `written` through
    /// `down_revision` (rows below it only through `depends_on` stay, as
    /// Alembic keeps them: the planner reads them as applied).
    fn drop_implied(&mut self, written: RevIdx, change: &mut Change) {
        if !self.entangled {
            return;
        }
        let graph = self.graph;
        let below = graph.ancestor_mask(&graph.rev(written).down, false);
        for r in (0..graph.len()).filter(|&r| below[r]) {
            if self.set_row(r, false) {
                // A row this step added is taken back, not deleted.
                match change.add.iter().position(|&a| a == r) {
                    Some(i) => {
                        change.add.remove(i);
                    }
                    None => change.remove.push(r),
                }
            }
        }
    }

    /// The current rows, in load order.
    pub fn rows(&self) -> Vec<RevIdx> {
        (0..self.graph.len()).filter(|&i| self.is_row[i]).collect()
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn set_row(&mut self, r: RevIdx, on: bool) -> bool {
        if self.is_row[r] == on {
            return false;
        }
        self.is_row[r] = on;
        if on {
            self.rows += 1;
        } else {
            self.rows -= 1;
        }
        true
    }

    /// Applies revision `r`: its parents that were rows give way to it.
    pub fn upgrade(&mut self, r: RevIdx) -> Change {
        let graph = self.graph;
        let mut change = Change::default();
        for &p in graph.parents(r) {
            if self.set_row(p, false) {
                change.remove.push(p);
            }
        }
        if self.set_row(r, true) {
            change.add.push(r);
        }
        self.applied[r] = true;
        self.drop_implied(r, &mut change);
        change.remove.sort_unstable();
        change.remove.dedup();
        change
    }

    /// Reverts revision `r`: its parents become rows unless something still
    /// applied builds on them or depends on them.
    pub fn downgrade(&mut self, r: RevIdx) -> Change {
        let graph = self.graph;
        let mut change = Change::default();
        self.applied[r] = false;
        if self.set_row(r, false) {
            change.remove.push(r);
        }
        for &p in graph.parents(r) {
            let covered = graph.followers(p).iter().any(|&c| self.applied[c]);
            if !covered && self.set_row(p, true) {
                change.add.push(p);
                self.drop_implied(p, &mut change);
            }
        }
        change.add.sort_unstable();
        change.remove.sort_unstable();
        change
    }

    /// A stamp step (Alembic's `StampStep` through `update_to_step`): moves the
    /// rows `from` that are still rows to `to` (`None`: delete), or inserts
    /// `to` as a new branch.
    ///
    /// Where some of `from` are gone already (an earlier target of the same
    /// stamp moved them), Alembic only inserts `to` and leaves the others, rows
    /// `to` implies; we move them too.
    fn stamp(
        &mut self,
        from: &[RevIdx],
        to: Option<RevIdx>,
        up: bool,
        branch_move: bool,
    ) -> Change {
        let mut change = Change::default();
        if !up && branch_move {
            if let Some(&f) = from.first() {
                if self.set_row(f, false) {
                    change.remove.push(f);
                }
            }
        } else {
            for &f in from {
                if Some(f) != to && self.set_row(f, false) {
                    change.remove.push(f);
                }
            }
            if let Some(t) = to {
                if self.set_row(t, true) {
                    change.add.push(t);
                }
            }
        }
        change.remove.sort_unstable();
        change
    }
}

// ---------------------------------------------------------------------------
// Plans

fn refuse_range(target: &str) -> Result<(), PlanError> {
    if target.contains(':') {
        return Err(PlanError::new(PlanErrorKind::CommandError, "Range revision not allowed")
            .with_help("`start:target` ranges are for offline (--sql) plans; online, the start is what the database records"));
    }
    Ok(())
}

/// `start:target` or `target`.
fn split_range(range: &str) -> Result<(Option<&str>, &str), PlanError> {
    let parts: Vec<&str> = range.split(':').collect();
    match parts.as_slice() {
        [target] => Ok((None, target)),
        [start, target] => Ok((Some(start), target)),
        _ => Err(PlanError::new(
            PlanErrorKind::CommandError,
            format!("'{range}' is not a range: write <start>:<target>"),
        )),
    }
}

/// The rows of an offline plan: `start` resolved to one revision, or none.
fn offline_rows<'g>(graph: &'g Graph, start: Option<&str>) -> Result<Vec<&'g str>, PlanError> {
    match start {
        None | Some("") | Some("base") => Ok(Vec::new()),
        Some(s) => match Resolver::new(graph).get_revision(Some(s)) {
            Ok(rev) => Ok(rev.map(|r| graph.rev(r).id.as_str()).into_iter().collect()),
            Err(e) if e.kind == PlanErrorKind::MultipleHeads => Err(multiple_heads_command(e, s)),
            Err(e) => Err(e),
        },
    }
}

/// The rows as revisions of the graph: exact ids only, each once.
fn known_rows<'g>(graph: &'g Graph, rows: &[&str]) -> Result<Vec<&'g str>, PlanError> {
    let mut out: Vec<&'g str> = Vec::with_capacity(rows.len());
    for row in rows {
        match graph.index_of(row) {
            Some(r) => {
                let id = graph.rev(r).id.as_str();
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            None => {
                return Err(PlanError::new(
                    PlanErrorKind::ResolutionError,
                    format!("Can't locate revision identified by '{row}'"),
                )
                .with_help(format!(
                    "the version table records revision {row}, which this history does not contain: the database was migrated by a newer or a different build, or the row was edited by hand"
                )))
            }
        }
    }
    Ok(out)
}

/// The rows without those another row reaches only through `depends_on`
/// (they are applied either way). When a row is below another through
/// `down_revision`, all stay, for the planner to refuse as Alembic does.
fn implying_rows<'r>(graph: &Graph, rows: &[&'r str]) -> Vec<&'r str> {
    let revs: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    if revs.len() < 2 {
        return rows.to_vec();
    }
    let mut through_deps: Vec<RevIdx> = Vec::new();
    let mut through_down: Vec<RevIdx> = Vec::new();
    for &r in &revs {
        through_deps.extend_from_slice(graph.parents(r));
        through_down.extend(graph.rev(r).down.iter().copied());
    }
    let below_lineage = graph.ancestor_mask(&through_down, false);
    if revs.iter().any(|&r| below_lineage[r]) {
        return rows.to_vec();
    }
    let below_any = graph.ancestor_mask(&through_deps, true);
    rows.iter()
        .copied()
        .filter(|row| graph.index_of(row).is_none_or(|r| !below_any[r]))
        .collect()
}

/// Alembic's `_catch_revision_errors` text for `MultipleHeads` at command level.
fn multiple_heads_command(e: PlanError, arg: &str) -> PlanError {
    let help = e.help.unwrap_or(e.message);
    PlanError::new(
        PlanErrorKind::MultipleHeads,
        format!(
            "Multiple head revisions are present for given argument '{arg}'; please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads"
        ),
    )
    .with_help(help)
}

fn command_error(e: PlanError, destination: &str, what: &str) -> PlanError {
    match e.kind {
        PlanErrorKind::RangeNotAncestor => PlanError::new(
            PlanErrorKind::RangeNotAncestor,
            format!("Destination {destination} is not a valid {what} target from current head(s)"),
        )
        .with_help(format!(
            "{}; {}",
            e.message,
            if what == "downgrade" {
                "a downgrade only goes down the line of the current revision(s): name an ancestor of what the database is at"
            } else {
                "an upgrade only goes up from the current revision(s)"
            }
        )),
        PlanErrorKind::MultipleHeads => multiple_heads_command(e, destination),
        _ => e,
    }
}

fn ids(graph: &Graph, revs: &[RevIdx]) -> Vec<String> {
    revs.iter().map(|&r| graph.rev(r).id.clone()).collect()
}

fn step(
    graph: &Graph,
    revision: Option<RevIdx>,
    direction: Direction,
    change: Change,
    create_table: bool,
) -> Step {
    Step {
        revision,
        direction,
        remove: ids(graph, &change.remove),
        add: ids(graph, &change.add),
        create_table,
    }
}

fn upgrade_plan(
    graph: &Graph,
    rows: &[&str],
    target: &str,
    offline: bool,
) -> Result<Plan, PlanError> {
    let options = IterateOptions {
        implicit_base: true,
        ..IterateOptions::default()
    };
    let lower = implying_rows(graph, rows);
    let mut order = Planner::new(graph)
        .iterate(RevArg::One(target), RevArg::Many(&lower), &options)
        .map_err(|e| command_error(e, target, "upgrade"))?;
    order.reverse();
    let revs: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    let mut table = HeadMaintainer::new(graph, &revs);
    let mut steps = Vec::with_capacity(order.len());
    for r in order {
        let create_table = offline && table.is_empty();
        let change = table.upgrade(r);
        steps.push(step(
            graph,
            Some(r),
            Direction::Upgrade,
            change,
            create_table,
        ));
    }
    Ok(Plan {
        steps,
        purge: false,
        create_table: rows.is_empty(),
        rows_before: rows.iter().map(|r| r.to_string()).collect(),
        rows_after: ids(graph, &table.rows()),
    })
}

fn downgrade_plan(
    graph: &Graph,
    rows: &[&str],
    target: &str,
    offline: bool,
) -> Result<Plan, PlanError> {
    let options = IterateOptions {
        select_for_downgrade: true,
        ..IterateOptions::default()
    };
    let order = Planner::new(graph)
        .iterate(RevArg::Many(rows), RevArg::One(target), &options)
        .map_err(|e| command_error(e, target, "downgrade"))?;
    let revs: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    let mut table = HeadMaintainer::new(graph, &revs);
    let mut steps = Vec::with_capacity(order.len());
    for r in order {
        let create_table = offline && table.is_empty();
        let change = table.downgrade(r);
        steps.push(step(
            graph,
            Some(r),
            Direction::Downgrade,
            change,
            create_table,
        ));
    }
    Ok(Plan {
        steps,
        purge: false,
        create_table: rows.is_empty(),
        rows_before: rows.iter().map(|r| r.to_string()).collect(),
        rows_after: ids(graph, &table.rows()),
    })
}

/// Alembic's `ScriptDirectory._stamp_revs` plus `HeadMaintainer`.
fn stamp_plan(
    graph: &Graph,
    rows: &[&str],
    targets: &[&str],
    offline: bool,
) -> Result<Plan, PlanError> {
    let stamp_heads = |e: PlanError| {
        if e.kind == PlanErrorKind::MultipleHeads {
            let help = e.help.clone().unwrap_or_default();
            PlanError::new(
                PlanErrorKind::MultipleHeads,
                "Multiple heads are present; please specify a single target revision",
            )
            .with_help(help)
        } else {
            e
        }
    };
    let r = Resolver::new(graph);
    let row_revs: Vec<RevIdx> = rows.iter().filter_map(|x| graph.index_of(x)).collect();
    let targets: Vec<&str> = if targets.is_empty() {
        vec!["base"]
    } else {
        targets.to_vec()
    };
    let mut filtered: Vec<RevIdx> = Vec::new();
    for t in targets.iter().filter(|t| !t.is_empty()) {
        for h in r
            .filter_for_lineage(&row_revs, t, true)
            .map_err(stamp_heads)?
        {
            if !filtered.contains(&h) {
                filtered.push(h);
            }
        }
    }
    let mut dests: Vec<RevIdx> = Vec::new();
    for g in r
        .get_revisions(RevArg::Many(&targets))
        .map_err(stamp_heads)?
    {
        match g {
            // A target given twice is stamped once (Alembic fails an assertion
            // when the rows have to move).
            Got::Rev(d) if dests.contains(&d) => {}
            Got::Rev(d) => dests.push(d),
            Got::Base => {}
            Got::TooFar => {
                return Err(
                    PlanError::new(PlanErrorKind::RevisionError, "Walked too far")
                        .with_help("a relative stamp target runs off the history"),
                )
            }
        }
    }
    // Ours: a stamp may not write rows where one is an ancestor of another.
    Planner::new(graph).related_checked(&dests, false, true)?;

    let mut table = HeadMaintainer::new(graph, &row_revs);
    let mut steps = Vec::new();
    let mut push = |table: &mut HeadMaintainer<'_>,
                    from: &[RevIdx],
                    to: Option<RevIdx>,
                    up: bool,
                    branch_move: bool| {
        let create_table = offline && table.is_empty();
        let change = table.stamp(from, to, up, branch_move);
        let direction = if up {
            Direction::Upgrade
        } else {
            Direction::Downgrade
        };
        steps.push(step(graph, None, direction, change, create_table));
    };
    if dests.is_empty() {
        for &h in &filtered {
            push(&mut table, &[h], None, false, true);
        }
    }
    for &dest in &dests {
        if filtered.contains(&dest) {
            continue;
        }
        let above = graph.descendant_mask(&[dest], true);
        let below = graph.ancestor_mask(&[dest], true);
        let rows_above: Vec<RevIdx> = filtered.iter().copied().filter(|&h| above[h]).collect();
        let rows_below: Vec<RevIdx> = filtered.iter().copied().filter(|&h| below[h]).collect();
        if !rows_above.is_empty() {
            let mut from = rows_above;
            from.extend(rows_below);
            push(&mut table, &from, Some(dest), false, false);
        } else if !rows_below.is_empty() {
            push(&mut table, &rows_below, Some(dest), true, false);
        } else {
            push(&mut table, &[], Some(dest), true, true);
        }
    }
    Ok(Plan {
        steps,
        purge: false,
        create_table: rows.is_empty(),
        rows_before: rows.iter().map(|x| x.to_string()).collect(),
        rows_after: ids(graph, &table.rows()),
    })
}

// ---------------------------------------------------------------------------
// Alembic's RevisionMap.iterate_revisions and the two collectors.

struct Planner<'g> {
    r: Resolver<'g>,
}

impl<'g> Planner<'g> {
    fn new(g: &'g Graph) -> Self {
        Planner {
            r: Resolver::new(g),
        }
    }

    fn g(&self) -> &'g Graph {
        self.r.g
    }

    fn iterate(
        &self,
        upper: RevArg<'_>,
        lower: RevArg<'_>,
        options: &IterateOptions,
    ) -> Result<Vec<RevIdx>, PlanError> {
        let (set, heads) = if options.select_for_downgrade {
            self.collect_downgrade(upper, lower, options)?
        } else {
            self.collect_upgrade(upper, lower, options)?
        };
        // What `upgrade` runs (ancestors of the targets minus what is applied) and
        // what `downgrade` reverts (descendants of the roots that are applied) are
        // closed sets (see `crate::order`); other iterations are checked.
        let plain_upgrade =
            !options.select_for_downgrade && !options.inclusive && options.implicit_base;
        let plain_downgrade =
            options.select_for_downgrade && !options.inclusive && !options.implicit_base;
        if plain_upgrade || plain_downgrade {
            topological_sort_closed(self.g(), &set, &heads)
        } else {
            topological_sort(self.g(), &set, &heads)
        }
    }

    /// `_iterate_related_revisions(check=True)`: every revision reached from
    /// `targets` (down through parents, or up with `up`), failing when one target
    /// reaches another.
    fn related_checked(
        &self,
        targets: &[RevIdx],
        up: bool,
        deps: bool,
    ) -> Result<Vec<bool>, PlanError> {
        let g = self.g();
        let mut seen = vec![false; g.len()];
        let mut is_target = vec![false; g.len()];
        for &t in targets {
            is_target[t] = true;
        }
        let mut stack: Vec<RevIdx> = Vec::new();
        for &t in targets {
            let mut overlaps: Vec<RevIdx> = Vec::new();
            stack.push(t);
            while let Some(x) = stack.pop() {
                if is_target[x] && x != t && !overlaps.contains(&x) {
                    overlaps.push(x);
                }
                if std::mem::replace(&mut seen[x], true) {
                    continue;
                }
                let rev = g.rev(x);
                match (up, deps) {
                    (false, true) => stack.extend_from_slice(g.parents(x)),
                    (false, false) => stack.extend(rev.down.iter().copied()),
                    (true, true) => stack.extend_from_slice(g.followers(x)),
                    (true, false) => stack.extend(rev.children.iter().copied()),
                }
            }
            if !overlaps.is_empty() {
                let names: Vec<&str> = overlaps.iter().map(|&o| g.rev(o).id.as_str()).collect();
                return Err(PlanError::new(
                    PlanErrorKind::RevisionError,
                    format!(
                        "Requested revision {} overlaps with other requested revisions {}",
                        g.rev(t).id,
                        names.join(", ")
                    ),
                )
                .with_help(
                    "one requested revision is an ancestor of another: ask for the newer one only",
                ));
            }
        }
        Ok(seen)
    }

    /// `_parse_upgrade_target`: the revisions an upgrade target names.
    fn parse_upgrade_target(
        &self,
        current: RevArg<'_>,
        target: RevArg<'_>,
        arl: bool,
    ) -> Result<Vec<Got>, PlanError> {
        let r = &self.r;
        let text = match target {
            RevArg::One(s) => s,
            _ => return r.get_revisions(target),
        };
        let Some(rel) = parse_relative(text) else {
            return r.get_revisions(target);
        };
        let not_produced = |shown: String| {
            PlanError::new(
                PlanErrorKind::RevisionError,
                format!(
                    "Relative revision {shown} didn't produce {} migrations",
                    rel.count()
                ),
            )
            .with_help(format!(
                "'{text}' walks past the end of the history from the current revision(s)"
            ))
        };
        if rel.delta > 0 {
            let Some(symbol) = rel.symbol else {
                let rows = current.idents();
                let start: Vec<Pos> = match rel.label {
                    Some(label) => {
                        let revs: Vec<RevIdx> = r
                            .get_revisions(RevArg::Many(&rows))?
                            .into_iter()
                            .filter_map(|g| match g {
                                Got::Rev(x) => Some(x),
                                _ => None,
                            })
                            .collect();
                        let mut on_branch = r.filter_for_lineage(&revs, label, false)?;
                        if on_branch.is_empty() {
                            // Not at a head of the branch: start from the tip of the
                            // branch among the applied revisions.
                            let applied = self.g().ancestor_mask(&revs, true);
                            let applied: Vec<RevIdx> =
                                (0..self.g().len()).filter(|&x| applied[x]).collect();
                            let active = r.filter_for_lineage(&applied, label, false)?;
                            let mut below = vec![false; self.g().len()];
                            for &a in &active {
                                for &p in self.g().parents(a) {
                                    below[p] = true;
                                }
                            }
                            on_branch = active.into_iter().filter(|&a| !below[a]).collect();
                        }
                        if on_branch.is_empty() {
                            vec![Pos::Nothing]
                        } else {
                            on_branch.into_iter().map(Pos::Rev).collect()
                        }
                    }
                    None if rows.is_empty() => vec![Pos::Nothing],
                    None => {
                        let mut v = Vec::with_capacity(rows.len());
                        for row in &rows {
                            v.push(Pos::of(r.get_revision(Some(row))?));
                        }
                        v
                    }
                };
                if start.len() > 1 {
                    return Err(PlanError::new(
                        PlanErrorKind::RevisionError,
                        "Ambiguous upgrade from multiple current revisions",
                    )
                    .with_help(format!(
                        "the database is at {}; say which branch to move: `<branch_label>@{}` or `<revision>{}`",
                        current.describe(),
                        rel.written,
                        rel.written
                    )));
                }
                let walked = r.walk(start[0], rel.delta, rel.label, arl)?;
                return match walked {
                    None => Err(not_produced(rel.written.to_string())),
                    Some(p) => Ok(vec![Got::of_walk(Some(p))]),
                };
            };
            let start = r.get_revision(Some(symbol))?;
            let walked = r.walk(Pos::of(start), rel.delta, rel.label, arl)?;
            Ok(vec![Got::of_walk(walked)])
        } else {
            let Some(symbol) = rel.symbol else {
                return Err(not_produced(rel.int_text()));
            };
            let start = match rel.label {
                None => r.get_revision(Some(symbol))?,
                Some(l) => r.get_revision(Some(&format!("{l}@{symbol}")))?,
            };
            let walked = r.walk(Pos::of(start), rel.delta, None, arl)?;
            Ok(vec![Got::of_walk(walked)])
        }
    }

    /// `_parse_downgrade_target`: the branch label and the revision (`None`:
    /// base) a downgrade target names.
    fn parse_downgrade_target<'a>(
        &self,
        current: RevArg<'a>,
        target: RevArg<'a>,
        arl: bool,
    ) -> Result<(Option<&'a str>, Option<RevIdx>), PlanError> {
        let r = &self.r;
        let text = match target {
            RevArg::Base => return Ok((None, None)),
            RevArg::One(s) => s,
            RevArg::Many([s]) => *s,
            RevArg::Many(_) => {
                return Err(PlanError::new(
                    PlanErrorKind::CommandError,
                    "a downgrade target is one revision",
                ))
            }
        };
        let Some(rel) = parse_relative(text) else {
            let (label, symbol) = match text.rfind('@') {
                Some(at) => (&text[..at], &text[at + 1..]),
                None => ("", text),
            };
            return Ok((
                (!label.is_empty()).then_some(label),
                r.get_revision(Some(symbol))?,
            ));
        };
        let not_produced = || {
            PlanError::new(
                PlanErrorKind::RevisionError,
                format!(
                    "Relative revision {} didn't produce {} migrations",
                    rel.written,
                    rel.count()
                ),
            )
        };
        if rel.delta >= 0 {
            let Some(symbol) = rel.symbol else {
                return Err(not_produced().with_help(
                    "a downgrade goes down: use `-N`, or `<revision>+N` to name a revision N steps above another",
                ));
            };
            let start = r.get_revision(Some(symbol))?;
            return match r.walk(Pos::of(start), rel.delta, rel.label, arl)? {
                None => Err(
                    PlanError::new(PlanErrorKind::RevisionError, "Walked too far")
                        .with_help(format!("'{text}' goes past the end of the history")),
                ),
                Some(p) => Ok((rel.label, p.rev())),
            };
        }
        let relative_revision = rel.symbol.is_none();
        // The label returned restricts the roots; the walk starts at `start`.
        let (label, start): (Option<&'a str>, Option<RevIdx>) = match (rel.symbol, rel.label) {
            (Some(symbol), None) => (None, r.get_revision(Some(symbol))?),
            (Some(symbol), Some(l)) => (Some(l), r.get_revision(Some(&format!("{l}@{symbol}")))?),
            (None, Some(label)) => {
                let rows = current.idents();
                let mut revs = Vec::with_capacity(rows.len());
                for row in &rows {
                    revs.push(r.revision_for_ident(row, None)?);
                }
                let mut on_branch = r.filter_for_lineage(&revs, label, false)?;
                if on_branch.is_empty() {
                    let all = r.all_current(&revs);
                    on_branch = r.filter_for_lineage(&all, label, false)?;
                }
                match on_branch.as_slice() {
                    [one] => (Some(label), Some(*one)),
                    [] => {
                        return Err(PlanError::new(
                            PlanErrorKind::RevisionError,
                            format!("No current revision is on branch '{label}'"),
                        )
                        .with_help(format!(
                            "the database is at {}; nothing of branch '{label}' is applied",
                            current.describe()
                        )))
                    }
                    many => {
                        let names: Vec<&str> =
                            many.iter().map(|&x| self.g().rev(x).id.as_str()).collect();
                        return Err(PlanError::new(
                            PlanErrorKind::RevisionError,
                            format!(
                                "{label}@{} is ambiguous: several current revisions are on that branch ({})",
                                rel.written,
                                names.join(", ")
                            ),
                        )
                        .with_help(format!("name one of them: `{}{}`", names[0], rel.written)));
                    }
                }
            }
            (None, None) => {
                let rows = current.idents();
                let Some(&first) = rows.first() else {
                    return Err(not_produced()
                        .with_help("the database is at base: there is nothing to downgrade"));
                };
                let mut distinct = rows.clone();
                distinct.sort_unstable();
                distinct.dedup();
                if distinct.len() > 1 {
                    // Ours: Alembic walks from whichever row the database returns first.
                    return Err(PlanError::new(
                        PlanErrorKind::RevisionError,
                        format!(
                            "downgrade {} from multiple heads is ambiguous: the database is at {}",
                            rel.written,
                            rows.join(", ")
                        ),
                    )
                    .with_help(format!(
                        "say which branch to move down: `<branch_label>@{w}` or `<revision>@{w}` (e.g. `{first}@{w}`); a plain `<revision>{w}` is a target below which every branch is reverted",
                        w = rel.written
                    )));
                }
                // Alembic uses the row as the branch label, so only its branch is reverted.
                (
                    Some(first),
                    r.get_revision(Some(&format!("{first}@{first}")))?,
                )
            }
        };
        match r.walk(Pos::of(start), rel.delta, None, arl)? {
            None if relative_revision => Err(not_produced().with_help(format!(
                "the database is at {}: there are fewer than {} revisions below it",
                current.describe(),
                rel.count()
            ))),
            None => Err(
                PlanError::new(PlanErrorKind::RevisionError, "Walked too far")
                    .with_help(format!("'{text}' goes below the base of the history")),
            ),
            Some(p) => Ok((label, p.rev())),
        }
    }

    /// `_collect_upgrade_revisions`: what is needed for `upper`, given `lower` is applied.
    fn collect_upgrade(
        &self,
        upper: RevArg<'_>,
        lower: RevArg<'_>,
        options: &IterateOptions,
    ) -> Result<(Vec<bool>, Vec<RevIdx>), PlanError> {
        let g = self.g();
        let r = &self.r;
        let arl = options.assert_relative_length;
        let mut targets: Vec<RevIdx> = Vec::new();
        for got in self.parse_upgrade_target(lower, upper, arl)? {
            match got {
                Got::Rev(x) => targets.push(x),
                Got::Base => {}
                Got::TooFar => {
                    return Err(
                        PlanError::new(PlanErrorKind::RevisionError, "Walked too far").with_help(
                            format!("'{}' goes past the end of the history", upper.describe()),
                        ),
                    )
                }
            }
        }
        if let RevArg::One(text) = lower {
            if let Some((branch, _)) = text.split_once('@') {
                let keep = self.branch_filter(branch)?;
                targets.retain(|&t| keep[t]);
                targets.sort_unstable();
                targets.dedup();
            }
        }
        let mut needs = self.related_checked(&targets, false, true)?;

        let current_got = r.get_revisions(lower)?;
        let mut current: Vec<RevIdx> = current_got
            .iter()
            .filter_map(|g| match g {
                Got::Rev(x) => Some(*x),
                _ => None,
            })
            .collect();
        if !options.implicit_base && current.iter().any(|&c| !needs[c]) {
            return Err(PlanError::new(
                PlanErrorKind::RangeNotAncestor,
                format!(
                    "Revision {} is not an ancestor of revision {}",
                    lower.describe(),
                    upper.describe()
                ),
            ));
        }
        let replaced: String;
        let mut lower = lower;
        if current_got.contains(&Got::TooFar) {
            // `-N` walked below base from the heads: walk from `upper` instead.
            let (_, rev) = self.parse_downgrade_target(upper, lower, arl)?;
            match rev {
                None => {
                    current.clear();
                    lower = RevArg::Base;
                }
                Some(x) => {
                    current = vec![x];
                    replaced = g.rev(x).id.clone();
                    lower = RevArg::One(&replaced);
                }
            }
        }
        let applied = self.related_checked(&current, false, true)?;
        for (n, a) in needs.iter_mut().zip(&applied) {
            *n &= !a;
        }
        if options.inclusive {
            for got in r.get_revisions(lower)? {
                if let Got::Rev(x) = got {
                    needs[x] = true;
                }
            }
        }
        if !current.is_empty() && !options.implicit_base {
            let above = self.related_checked(&current, true, false)?;
            for (n, a) in needs.iter_mut().zip(&above) {
                *n &= a;
            }
        }
        Ok((needs, targets))
    }

    /// Which targets a history lower bound `branch@…` keeps: those carrying the label.
    fn branch_filter(&self, branch: &str) -> Result<Vec<bool>, PlanError> {
        let g = self.g();
        let carrying = |label: &str| -> Vec<bool> {
            g.revisions()
                .iter()
                .map(|rev| rev.labels.iter().any(|l| l == label))
                .collect()
        };
        match self.r.get_revision(Some(branch))? {
            Some(b) if g.rev(b).id == branch => {
                // A revision id used as a label: its branch.
                let labels = &g.rev(b).labels;
                match labels.as_slice() {
                    [one] => Ok(carrying(one)),
                    [] => Ok(self.r.lineage_mask(&[b], false)),
                    many => Ok(g
                        .revisions()
                        .iter()
                        .map(|rev| rev.labels.iter().any(|l| many.contains(l)))
                        .collect()),
                }
            }
            _ => Ok(carrying(branch)),
        }
    }

    /// `_collect_downgrade_revisions`: what must be reverted to go from `upper` down to `lower`.
    fn collect_downgrade(
        &self,
        upper: RevArg<'_>,
        lower: RevArg<'_>,
        options: &IterateOptions,
    ) -> Result<(Vec<bool>, Vec<RevIdx>), PlanError> {
        let g = self.g();
        let r = &self.r;
        let (label, target) =
            self.parse_downgrade_target(upper, lower, options.assert_relative_length)?;
        let mut roots: Vec<RevIdx> = match target {
            None => g.bases().to_vec(),
            Some(t) if options.inclusive => vec![t],
            Some(t) => g.rev(t).children.clone(),
        };
        if let Some(l) = label {
            if roots.len() > 1 {
                let branch = r.resolve_branch(l)?;
                let below = g.ancestor_mask(&[branch], false);
                roots.retain(|&x| below[x]);
                if roots.is_empty() {
                    return Err(PlanError::new(
                        PlanErrorKind::RevisionError,
                        "Not a valid downgrade target from current heads",
                    )
                    .with_help(format!("nothing of branch '{l}' lies above the target")));
                }
            }
        }
        let heads: Vec<RevIdx> = r
            .get_revisions(upper)?
            .into_iter()
            .filter_map(|x| match x {
                Got::Rev(x) => Some(x),
                _ => None,
            })
            .collect();
        let mut drop = g.descendant_mask(&roots, true);
        let active = g.ancestor_mask(&heads, true);
        for (d, a) in drop.iter_mut().zip(&active) {
            *d &= a;
        }
        if options.implicit_base {
            let below_roots = g.ancestor_mask(&roots, true);
            for x in 0..g.len() {
                if active[x] && !below_roots[x] {
                    drop[x] = true;
                }
            }
        }
        if let Some(t) = target {
            if !drop.iter().any(|&d| d) && !heads.contains(&t) {
                return Err(PlanError::new(
                    PlanErrorKind::RangeNotAncestor,
                    format!(
                        "Nothing to drop: {} is not below the current revision(s) {}",
                        g.rev(t).id,
                        upper.describe()
                    ),
                ));
            }
        }
        Ok((drop, heads))
    }
}
