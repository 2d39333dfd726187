//! The revision graph: built from revisions in load order, validated, queried.
//!
//! A [`Graph`] can only come from [`Graph::build`], which reports **all** problems
//! at once: self-loops, duplicate ids, duplicate branch labels, a `down_revision`
//! or `depends_on` naming nothing (a gap), cycles, and a second head nobody merged.
//! The derived data follows Alembic's `RevisionMap` exactly (see
//! `shared/alembic/SEMANTICS.md` §1–2): versioned vs effective heads, normalized
//! dependencies, and branch-label propagation.

use crate::file::HeaderLines;
use crate::problem::{Origin, Problem, ProblemKind, Problems};
use crate::set::Workers;
use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Index of a revision in a [`Graph`]: its position in load order.
pub type RevIdx = usize;

/// A revision as declared, before the graph links it (one file, or one test case row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionSpec {
    /// The revision id.
    pub revision: String,
    /// Its parents (`down_revision`), in declared order; a parent named twice
    /// counts once.
    pub down_revisions: Vec<String>,
    /// Branch labels it declares.
    pub branch_labels: Vec<String>,
    /// Revisions or labels it depends on.
    pub depends_on: Vec<String>,
    /// Where it was declared.
    pub origin: Origin,
    /// Lines of its header fields, when it comes from a file.
    pub lines: HeaderLines,
}

/// Which sets of heads a valid history may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeadPolicy {
    /// One head; several only when each sits on its own branch label (independent
    /// labelled branches, e.g. separate schemas). The default.
    #[default]
    OnePerBranchLabel,
    /// Any number of heads (Alembic's own rule).
    Any,
}

/// Options for [`Graph::build`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphOptions {
    /// Which sets of heads are accepted.
    pub heads: HeadPolicy,
}

/// One linked revision of a [`Graph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The revision id.
    pub id: String,
    /// Parents via `down_revision`, in declared order.
    pub down: Vec<RevIdx>,
    /// Resolved `depends_on` (labels resolved to their revision), declared order.
    pub deps: Vec<RevIdx>,
    /// `deps` minus those a versioned ancestor already declares (Alembic's
    /// `_normalized_resolved_dependencies`).
    pub normalized_deps: Vec<RevIdx>,
    /// Children via `down_revision` (Alembic's `nextrev`), load order.
    pub children: Vec<RevIdx>,
    /// Revisions that depend on this one via `depends_on`, load order.
    pub dependents: Vec<RevIdx>,
    /// Branch labels declared on this revision.
    pub declared_labels: Vec<String>,
    /// Branch labels after propagation (declared here, on an ancestor, or on a
    /// descendant along an unbranched line), sorted.
    pub labels: Vec<String>,
    /// `depends_on` as written.
    pub depends_on: Vec<String>,
    /// Where it was declared.
    pub origin: Origin,
}

impl Revision {
    /// Parents used for ordering and bookkeeping: `down` then `normalized_deps`.
    pub fn normalized_parents(&self) -> impl Iterator<Item = RevIdx> + '_ {
        let down = &self.down;
        self.down.iter().copied().chain(
            self.normalized_deps
                .iter()
                .copied()
                .filter(move |d| !down.contains(d)),
        )
    }

    /// Parents via `down_revision` and all resolved dependencies.
    pub fn all_parents(&self) -> impl Iterator<Item = RevIdx> + '_ {
        let down = &self.down;
        self.down
            .iter()
            .copied()
            .chain(self.deps.iter().copied().filter(move |d| !down.contains(d)))
    }

    /// Whether this is a base (no `down_revision`).
    pub fn is_base(&self) -> bool {
        self.down.is_empty()
    }

    /// Whether several revisions name this one as `down_revision`.
    pub fn is_branch_point(&self) -> bool {
        self.children.len() > 1
    }

    /// Whether this revision has more than one `down_revision`.
    pub fn is_merge_point(&self) -> bool {
        self.down.len() > 1
    }

    /// Whether nothing builds on this revision via `down_revision` (a versioned head).
    pub fn is_head(&self) -> bool {
        self.children.is_empty()
    }

    fn real_next_count(&self) -> usize {
        let mut n = self.children.len();
        n += self
            .dependents
            .iter()
            .filter(|d| !self.children.contains(d))
            .count();
        n
    }
}

/// A validated revision graph. Construct it with [`Graph::build`].
#[derive(Debug, Clone)]
pub struct Graph {
    revs: Vec<Revision>,
    by_id: IdIndex,
    by_label: HashMap<String, RevIdx>,
    heads: Vec<RevIdx>,
    real_heads: Vec<RevIdx>,
    bases: Vec<RevIdx>,
    /// Normalized parents of every revision, flat (see [`Graph::parents`]).
    parents: Adjacency,
    /// Children and dependents of every revision, flat.
    followers: Adjacency,
}

/// Adjacency lists of every revision in two flat arrays: traversals that touch
/// the whole history read them sequentially instead of chasing each
/// [`Revision`]'s own vectors.
#[derive(Debug, Clone, Default)]
struct Adjacency {
    start: Vec<usize>,
    list: Vec<RevIdx>,
}

impl Adjacency {
    fn build<I: Iterator<Item = RevIdx>>(n: usize, mut of: impl FnMut(RevIdx) -> I) -> Self {
        let mut start = Vec::with_capacity(n + 1);
        let mut list = Vec::with_capacity(n);
        start.push(0);
        for i in 0..n {
            list.extend(of(i));
            start.push(list.len());
        }
        Adjacency { start, list }
    }

    fn of(&self, i: RevIdx) -> &[RevIdx] {
        &self.list[self.start[i]..self.start[i + 1]]
    }
}

/// What [`Graph::build`] reads of a declared revision: a [`RevisionSpec`], or a
/// parsed file read in place (its header is not copied into a spec first).
pub(crate) trait Declaration {
    /// The revision id.
    fn revision(&self) -> &str;
    /// Its parents, in declared order.
    fn down_revisions(&self) -> &[String];
    /// Branch labels it declares.
    fn branch_labels(&self) -> &[String];
    /// Revisions or labels it depends on.
    fn depends_on(&self) -> &[String];
    /// Lines of its header fields.
    fn lines(&self) -> HeaderLines;
    /// Where it was declared.
    fn origin(&self) -> Cow<'_, Origin>;
    /// What a [`Revision`] keeps: id, declared labels, `depends_on` and origin.
    fn into_parts(self) -> (String, Vec<String>, Vec<String>, Origin);
}

impl Declaration for RevisionSpec {
    fn revision(&self) -> &str {
        &self.revision
    }
    fn down_revisions(&self) -> &[String] {
        &self.down_revisions
    }
    fn branch_labels(&self) -> &[String] {
        &self.branch_labels
    }
    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }
    fn lines(&self) -> HeaderLines {
        self.lines
    }
    fn origin(&self) -> Cow<'_, Origin> {
        Cow::Borrowed(&self.origin)
    }
    fn into_parts(self) -> (String, Vec<String>, Vec<String>, Origin) {
        (
            self.revision,
            self.branch_labels,
            self.depends_on,
            self.origin,
        )
    }
}

/// Revision ids to indices without a second copy of every id: an
/// open-addressing table of (hash, index) pairs, at most half full; a lookup
/// confirms a matching hash against the id itself (in the spec or revision).
#[derive(Debug, Clone)]
struct IdIndex {
    hasher: RandomState,
    /// Length a power of two; [`IdIndex::EMPTY`] marks a free slot.
    slots: Vec<(u64, RevIdx)>,
}

impl IdIndex {
    const EMPTY: RevIdx = RevIdx::MAX;

    /// Room for `n` ids.
    fn with_capacity(n: usize) -> IdIndex {
        IdIndex {
            hasher: RandomState::new(),
            slots: vec![(0, Self::EMPTY); (2 * n).next_power_of_two().max(8)],
        }
    }

    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The slot holding `id` (`Ok`) or the free slot where it belongs (`Err`).
    fn probe<'a>(
        &self,
        hash: u64,
        id: &str,
        id_of: impl Fn(RevIdx) -> &'a str,
    ) -> Result<usize, usize> {
        let mask = self.slots.len().wrapping_sub(1);
        // The table has a free slot, so the probe ends.
        let mut at = (hash as usize) & mask;
        loop {
            let (h, idx) = self.slots[at];
            if idx == Self::EMPTY {
                return Err(at);
            }
            if h == hash && id_of(idx) == id {
                return Ok(at);
            }
            at = (at + 1) & mask;
        }
    }

    /// The index recorded for `id`; `id_of` gives the id of a recorded index.
    fn get<'a>(&self, id: &str, id_of: impl Fn(RevIdx) -> &'a str) -> Option<RevIdx> {
        self.probe(self.hash(id), id, id_of)
            .ok()
            .map(|at| self.slots[at].1)
    }

    /// Records `idx` for `id` unless `id` is already there; returns the index
    /// recorded first. At most the capacity's count of ids may be recorded.
    fn get_or_insert<'a>(
        &mut self,
        id: &str,
        idx: RevIdx,
        id_of: impl Fn(RevIdx) -> &'a str,
    ) -> Option<RevIdx> {
        let hash = self.hash(id);
        match self.probe(hash, id, id_of) {
            Ok(at) => Some(self.slots[at].1),
            Err(at) => {
                self.slots[at] = (hash, idx);
                None
            }
        }
    }
}

impl Graph {
    /// Links and validates `specs`, given in load order (sorted file names).
    pub fn build(specs: Vec<RevisionSpec>, options: &GraphOptions) -> Result<Graph, Problems> {
        Self::build_from(specs, options, Workers::available())
    }

    /// [`Graph::build`] over any [`Declaration`]s, resolving links on `workers`.
    pub(crate) fn build_from<D: Declaration + Sync>(
        specs: Vec<D>,
        options: &GraphOptions,
        workers: Workers,
    ) -> Result<Graph, Problems> {
        let mut problems = Vec::new();
        let mut by_id = IdIndex::with_capacity(specs.len());
        // Positions in `specs` of the revisions kept (index = RevIdx); the specs
        // stay where they are until they become revisions.
        let mut kept: Vec<usize> = Vec::with_capacity(specs.len());
        // The ids of the revisions kept, side by side for the lookups.
        let mut ids: Vec<&str> = Vec::with_capacity(specs.len());

        for (pos, spec) in specs.iter().enumerate() {
            let revision = spec.revision();
            if spec.down_revisions().iter().any(|d| d == revision) {
                problems.push(
                    Problem::new(
                        ProblemKind::SelfLoop,
                        format!("revision {revision} names itself as its down_revision"),
                    )
                    .at_origin(&line_of(&spec.origin(), spec.lines().down_revision))
                    .help("a down_revision is the revision this one builds on; name its parent, or `none` for a base"),
                );
                continue;
            }
            if spec.depends_on().iter().any(|d| d == revision) {
                problems.push(
                    Problem::new(
                        ProblemKind::DependencySelfLoop,
                        format!("revision {revision} lists itself in depends_on"),
                    )
                    .at_origin(&line_of(&spec.origin(), spec.lines().depends_on))
                    .help("remove it from depends_on"),
                );
                continue;
            }
            if let Some(first) = by_id.get_or_insert(revision, kept.len(), |j| ids[j]) {
                let first_at = describe(&specs[kept[first]].origin());
                problems.push(
                    Problem::new(
                        ProblemKind::DuplicateRevision,
                        format!("revision id {revision} is used twice (first in {first_at})"),
                    )
                    .at_origin(&spec.origin())
                    .help("every migration needs its own id: give this one a fresh id (and rename the file), or delete the copy"),
                );
                continue;
            }
            kept.push(pos);
            ids.push(revision);
        }
        let id_of = |j: RevIdx| ids[j];

        // Branch labels: unique, and never equal to a revision id.
        let mut by_label: HashMap<String, RevIdx> = HashMap::new();
        for (i, &pos) in kept.iter().enumerate() {
            let spec = &specs[pos];
            for label in spec.branch_labels() {
                let clash = by_label
                    .get(label)
                    .copied()
                    .or_else(|| by_id.get(label, id_of))
                    .map(|j| ids[j].to_string());
                if let Some(other) = clash {
                    problems.push(
                        Problem::new(
                            ProblemKind::DuplicateBranchLabel,
                            format!(
                                "branch label '{label}' in revision {} is already used by revision {other}",
                                spec.revision()
                            ),
                        )
                        .at_origin(&line_of(&spec.origin(), spec.lines().branch_labels))
                        .help("a branch label names one branch; choose another name for this one"),
                    );
                } else {
                    by_label.insert(label.clone(), i);
                }
            }
        }

        // Resolve parents and dependencies: each revision on its own, so on
        // every core; the problems come back in load order.
        let all_ids = || ids.iter().copied();
        let resolved = workers.coarser(16).map_in_order(
            &kept,
            || (),
            |(), &pos| {
                let spec = &specs[pos];
                let mut problems = Vec::new();
                let mut down = Vec::with_capacity(spec.down_revisions().len());
                for d in spec.down_revisions() {
                    match by_id.get(d, id_of) {
                        // A parent named twice is one parent (the planners
                        // rely on a revision's parents being distinct).
                        Some(j) => {
                            if !down.contains(&j) {
                                down.push(j)
                            }
                        }
                        None => problems.push(missing(spec, d, true, all_ids())),
                    }
                }
                let mut deps = Vec::with_capacity(spec.depends_on().len());
                for d in spec.depends_on() {
                    match by_id.get(d, id_of).or_else(|| by_label.get(d).copied()) {
                        Some(j) => {
                            if !deps.contains(&j) {
                                deps.push(j)
                            }
                        }
                        None => problems.push(missing(spec, d, false, all_ids())),
                    }
                }
                (down, deps, problems)
            },
        );
        let mut links: Vec<(Vec<RevIdx>, Vec<RevIdx>)> = Vec::with_capacity(kept.len());
        for (down, deps, mut more) in resolved {
            problems.append(&mut more);
            links.push((down, deps));
        }

        // One pass proves most histories acyclic; the components, which name
        // exactly the revisions on each cycle, are only computed when it fails.
        // Nothing below may see a cycle: every walk down or up assumes none.
        if !is_acyclic(&links) {
            problems.extend(cycle_problems(&links, &ids, |i| &specs[kept[i]]));
            return Err(Problems(problems));
        }
        let mut revs: Vec<Revision> = Vec::with_capacity(kept.len());
        let mut is_kept = vec![false; specs.len()];
        for &pos in &kept {
            is_kept[pos] = true;
        }
        let kept_specs = specs
            .into_iter()
            .zip(is_kept)
            .filter_map(|(spec, keep)| keep.then_some(spec));
        for (spec, (down, deps)) in kept_specs.zip(links) {
            let (id, declared_labels, depends_on, origin) = spec.into_parts();
            revs.push(Revision {
                id,
                down,
                deps,
                normalized_deps: Vec::new(),
                children: Vec::new(),
                dependents: Vec::new(),
                declared_labels,
                labels: Vec::new(),
                depends_on,
                origin,
            });
        }
        for i in 0..revs.len() {
            for k in 0..revs[i].down.len() {
                let p = revs[i].down[k];
                revs[p].children.push(i);
            }
            // `deps` has no duplicates, so `i` is pushed once per dependency.
            for k in 0..revs[i].deps.len() {
                let p = revs[i].deps[k];
                revs[p].dependents.push(i);
            }
        }
        let heads: Vec<RevIdx> = (0..revs.len())
            .filter(|&i| revs[i].children.is_empty())
            .collect();
        let real_heads: Vec<RevIdx> = (0..revs.len())
            .filter(|&i| revs[i].children.is_empty() && revs[i].dependents.is_empty())
            .collect();
        let bases: Vec<RevIdx> = (0..revs.len())
            .filter(|&i| revs[i].down.is_empty())
            .collect();

        let mut graph = Graph {
            revs,
            by_id,
            by_label,
            heads,
            real_heads,
            bases,
            parents: Adjacency::default(),
            followers: Adjacency::default(),
        };
        graph.normalize_dependencies();
        graph.propagate_labels();
        let n = graph.revs.len();
        graph.parents = Adjacency::build(n, |i| graph.revs[i].normalized_parents());
        graph.followers = Adjacency::build(n, |i| {
            let rev = &graph.revs[i];
            rev.children.iter().chain(rev.dependents.iter()).copied()
        });
        if problems.is_empty() {
            if let Some(p) = graph.check_heads(options.heads) {
                problems.push(p);
            }
        }
        if problems.is_empty() {
            Ok(graph)
        } else {
            Err(Problems(problems))
        }
    }

    /// Alembic's `_normalize_depends_on`: a dependency is dropped when a versioned
    /// ancestor already declares it.
    ///
    /// Only a target declared by several revisions can be dropped, so each such
    /// target is checked once: for every declarer, is another declarer below it?
    /// The walk down is memoized per target and never goes below the lowest
    /// declarer (by depth), so the cost is the span between the declarers, not
    /// the history down to the base.
    fn normalize_dependencies(&mut self) {
        let n = self.revs.len();
        for rev in &mut self.revs {
            rev.normalized_deps = rev.deps.clone();
        }
        let mut declarers: HashMap<RevIdx, Vec<RevIdx>> = HashMap::new();
        for (i, rev) in self.revs.iter().enumerate() {
            for &d in &rev.deps {
                declarers.entry(d).or_default().push(i);
            }
        }
        declarers.retain(|_, v| v.len() > 1);
        if declarers.is_empty() {
            return;
        }
        let depth = self.depths();
        // Per target: visited in round `round`, and whether a declarer is at or below.
        let mut round_of = vec![0u32; n];
        let mut below = vec![false; n];
        let mut is_declarer = vec![false; n];
        let mut round = 0u32;
        let mut targets: Vec<(RevIdx, Vec<RevIdx>)> = declarers.into_iter().collect();
        targets.sort_unstable();
        for (target, revs) in targets {
            round += 1;
            for &r in &revs {
                is_declarer[r] = true;
            }
            let floor = revs.iter().map(|&r| depth[r]).min().unwrap_or(0);
            for &r in &revs {
                let mut found = false;
                for k in 0..self.revs[r].down.len() {
                    let p = self.revs[r].down[k];
                    if self.declarer_at_or_below(
                        p,
                        floor,
                        &depth,
                        round,
                        &mut round_of,
                        &mut below,
                        &is_declarer,
                    ) {
                        found = true;
                        break;
                    }
                }
                if found {
                    self.revs[r].normalized_deps.retain(|&d| d != target);
                }
            }
            for &r in &revs {
                is_declarer[r] = false;
            }
        }
    }

    /// Whether `start` or one of its versioned ancestors (no deeper than `floor`)
    /// is a declarer; memoized for the current `round`.
    #[allow(clippy::too_many_arguments)]
    fn declarer_at_or_below(
        &self,
        start: RevIdx,
        floor: u32,
        depth: &[u32],
        round: u32,
        round_of: &mut [u32],
        below: &mut [bool],
        is_declarer: &[bool],
    ) -> bool {
        if round_of[start] == round {
            return below[start];
        }
        // Iterative post-order: (revision, next parent to look at).
        let mut stack: Vec<(RevIdx, usize)> = vec![(start, 0)];
        round_of[start] = round;
        below[start] = is_declarer[start];
        while let Some(&mut (x, ref mut k)) = stack.last_mut() {
            if below[x] {
                stack.pop();
                if let Some(&(parent, _)) = stack.last() {
                    below[parent] = true;
                }
                continue;
            }
            let down = &self.revs[x].down;
            if *k < down.len() {
                let p = down[*k];
                *k += 1;
                if depth[p] < floor {
                    continue;
                }
                if round_of[p] == round {
                    if below[p] {
                        below[x] = true;
                    }
                    continue;
                }
                round_of[p] = round;
                below[p] = is_declarer[p];
                stack.push((p, 0));
            } else {
                stack.pop();
                let found = below[x];
                if let Some(&(parent, _)) = stack.last() {
                    if found {
                        below[parent] = true;
                    }
                }
            }
        }
        below[start]
    }

    /// Longest `down_revision` path from a base, per revision (the graph has no cycle here).
    fn depths(&self) -> Vec<u32> {
        let n = self.revs.len();
        let mut missing: Vec<usize> = self.revs.iter().map(|r| r.down.len()).collect();
        let mut depth = vec![0u32; n];
        let mut ready: Vec<RevIdx> = (0..n).filter(|&i| missing[i] == 0).collect();
        while let Some(x) = ready.pop() {
            for &c in &self.revs[x].children {
                depth[c] = depth[c].max(depth[x] + 1);
                missing[c] -= 1;
                if missing[c] == 0 {
                    ready.push(c);
                }
            }
        }
        depth
    }

    fn propagate_labels(&mut self) {
        let labelled: Vec<RevIdx> = (0..self.revs.len())
            .filter(|&i| !self.revs[i].declared_labels.is_empty())
            .collect();
        // One stamp array for every label: round `k` marks what label `k` visited.
        let mut seen = vec![0u32; self.revs.len()];
        for (round, r) in (1u32..).zip(labelled) {
            let labels = self.revs[r].declared_labels.clone();
            // R and all its versioned descendants.
            let mut stack = vec![r];
            let mut chain = true;
            let mut tip = r;
            while let Some(n) = stack.pop() {
                if std::mem::replace(&mut seen[n], round) == round {
                    continue;
                }
                add_labels(&mut self.revs[n].labels, &labels);
                if self.revs[n].children.len() > 1 {
                    chain = false;
                }
                tip = n;
                stack.extend(self.revs[n].children.iter().copied());
            }
            // Alembic then walks down from the last descendant it visited while the
            // line is unbranched; that only reaches R's ancestors when R's
            // descendants form one chain (otherwise it stops at a branch point
            // among the descendants).
            if !chain {
                continue;
            }
            let mut node = Some(tip);
            while let Some(n) = node {
                let rev = &self.revs[n];
                if rev.real_next_count() > 1 || rev.is_merge_point() {
                    break;
                }
                let next = rev.down.first().copied();
                add_labels(&mut self.revs[n].labels, &labels);
                node = next;
            }
        }
    }

    fn check_heads(&self, policy: HeadPolicy) -> Option<Problem> {
        if policy == HeadPolicy::Any || self.real_heads.len() <= 1 {
            return None;
        }
        // Effective heads: a revision that another one depends on is not left
        // unmerged (Alembic's `heads` target agrees). Independent labelled branches are fine: every head carries labels that no
        // other head carries.
        let independent = self.real_heads.iter().all(|&h| {
            let mine = &self.revs[h].labels;
            !mine.is_empty()
                && self
                    .heads
                    .iter()
                    .filter(|&&o| o != h)
                    .all(|&o| self.revs[o].labels.iter().all(|l| !mine.contains(l)))
        });
        if independent {
            return None;
        }
        let names: Vec<&str> = self
            .heads
            .iter()
            .map(|&h| self.revs[h].id.as_str())
            .collect();
        let last = *self.real_heads.last()?;
        let fork = self.fork_point(&self.real_heads);
        let files: Vec<String> = self
            .heads
            .iter()
            .map(|&h| format!("{} ({})", self.revs[h].id, describe(&self.revs[h].origin)))
            .collect();
        let from = match fork {
            Some(f) if names.len() == 2 => format!(", which both build on {}", self.revs[f].id),
            Some(f) => format!(", which all build on {}", self.revs[f].id),
            None => String::new(),
        };
        Some(
            Problem::new(
                ProblemKind::MultipleHeads,
                format!(
                    "the history has {} heads: {}{from}",
                    names.len(),
                    files.join(", ")
                ),
            )
            .at_origin(&self.revs[last].origin)
            .help(format!(
                "two migrations were written on the same parent; merge them with `cargo xtask merge -m \"merge heads\"` (a migration whose down_revision is {}), or rebase one onto the other by editing its down_revision",
                names.join(", ")
            )),
        )
    }

    /// The newest revision (in load order) that is an ancestor of every revision in `of`.
    fn fork_point(&self, of: &[RevIdx]) -> Option<RevIdx> {
        let mut common: Option<Vec<bool>> = None;
        for &h in of {
            let anc = self.ancestor_mask(&[h], false);
            common = Some(match common {
                None => anc,
                Some(c) => c.iter().zip(anc).map(|(a, b)| *a && b).collect(),
            });
        }
        let common = common?;
        // The newest shared revision in the graph, whatever the file names
        // (load order is not the graph's order): a descendant is always
        // deeper than its ancestors.
        let depth = self.depths();
        (0..self.revs.len())
            .filter(|&i| common[i])
            .max_by_key(|&i| (depth[i], i))
    }

    /// Marks every ancestor of `from` (itself included); with `deps`, through `depends_on` too.
    pub fn ancestor_mask(&self, from: &[RevIdx], deps: bool) -> Vec<bool> {
        // Through `depends_on`, the normalized parents reach the same revisions as
        // all declared dependencies (a dependency is only dropped when an
        // ancestor declares it), with fewer edges.
        if deps {
            self.reach(from, |n| self.parents.of(n))
        } else {
            self.reach(from, |n| &self.revs[n].down)
        }
    }

    /// Marks every descendant of `from` (itself included); with `deps`, through dependents too.
    pub fn descendant_mask(&self, from: &[RevIdx], deps: bool) -> Vec<bool> {
        if deps {
            self.reach(from, |n| self.followers.of(n))
        } else {
            self.reach(from, |n| &self.revs[n].children)
        }
    }

    fn reach<'a>(&'a self, from: &[RevIdx], next: impl Fn(RevIdx) -> &'a [RevIdx]) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut stack: Vec<RevIdx> = Vec::with_capacity(from.len().max(16));
        for &f in from {
            if !std::mem::replace(&mut seen[f], true) {
                stack.push(f);
            }
        }
        while let Some(n) = stack.pop() {
            for &m in next(n) {
                if !std::mem::replace(&mut seen[m], true) {
                    stack.push(m);
                }
            }
        }
        seen
    }

    /// Parents used for ordering and bookkeeping, as a slice: `down_revision`s,
    /// then normalized dependencies (same as [`Revision::normalized_parents`]).
    pub fn parents(&self, idx: RevIdx) -> &[RevIdx] {
        self.parents.of(idx)
    }

    /// Revisions that build on `idx` (children) or depend on it (dependents), as a slice.
    pub fn followers(&self, idx: RevIdx) -> &[RevIdx] {
        self.followers.of(idx)
    }

    /// All revisions in load order.
    pub fn revisions(&self) -> &[Revision] {
        &self.revs
    }

    /// The revision at `idx`.
    pub fn rev(&self, idx: RevIdx) -> &Revision {
        &self.revs[idx]
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.revs.len()
    }

    /// Whether the history has no revision.
    pub fn is_empty(&self) -> bool {
        self.revs.is_empty()
    }

    /// Looks up a revision by its exact id.
    pub fn index_of(&self, id: &str) -> Option<RevIdx> {
        self.by_id.get(id, |j| self.revs[j].id.as_str())
    }

    /// Looks up the revision that declares branch label `label`.
    pub fn label_owner(&self, label: &str) -> Option<RevIdx> {
        self.by_label.get(label).copied()
    }

    /// All declared branch labels with the revision declaring each.
    pub fn branch_labels(&self) -> impl Iterator<Item = (&str, RevIdx)> {
        self.by_label.iter().map(|(l, &i)| (l.as_str(), i))
    }

    /// Versioned heads (nothing builds on them via `down_revision`), load order.
    pub fn heads(&self) -> &[RevIdx] {
        &self.heads
    }

    /// Effective heads (nothing builds on them or depends on them), load order.
    pub fn real_heads(&self) -> &[RevIdx] {
        &self.real_heads
    }

    /// Bases (no `down_revision`), load order.
    pub fn bases(&self) -> &[RevIdx] {
        &self.bases
    }

    /// Branch points (several children via `down_revision`), load order.
    pub fn branch_points(&self) -> impl Iterator<Item = RevIdx> + '_ {
        (0..self.revs.len()).filter(|&i| self.revs[i].is_branch_point())
    }

    /// Merge points (several `down_revision`s), load order.
    pub fn merge_points(&self) -> impl Iterator<Item = RevIdx> + '_ {
        (0..self.revs.len()).filter(|&i| self.revs[i].is_merge_point())
    }

    /// The ids of `idxs`, in the same order.
    pub fn ids(&self, idxs: &[RevIdx]) -> Vec<String> {
        idxs.iter().map(|&i| self.revs[i].id.clone()).collect()
    }
}

fn add_labels(into: &mut Vec<String>, labels: &[String]) {
    for l in labels {
        if let Err(pos) = into.binary_search(l) {
            into.insert(pos, l.clone());
        }
    }
}

fn line_of(origin: &Origin, line: u32) -> Origin {
    Origin {
        file: origin.file.clone(),
        line: if line > 0 { Some(line) } else { origin.line },
    }
}

fn describe(origin: &Origin) -> String {
    match (&origin.file, origin.line) {
        (Some(f), _) => f.clone(),
        (None, _) => "the same history".to_string(),
    }
}

/// The problem of `spec` naming `target`, which is none of `ids`.
fn missing<'a>(
    spec: &impl Declaration,
    target: &str,
    down: bool,
    ids: impl Iterator<Item = &'a str>,
) -> Problem {
    let (kind, field, line, what) = if down {
        (
            ProblemKind::MissingDownRevision,
            "down_revision",
            spec.lines().down_revision,
            "revision",
        )
    } else {
        (
            ProblemKind::MissingDependency,
            "depends_on",
            spec.lines().depends_on,
            "revision or branch label",
        )
    };
    let mut candidates: Vec<&str> = ids
        .filter(|k| k.starts_with(target) || target.starts_with(k))
        .collect();
    candidates.sort_unstable();
    let help = match candidates.first() {
        Some(c) if candidates.len() == 1 => format!("did you mean {c}? {field} takes the full revision id"),
        _ => format!(
            "no migration declares {what} {target}: restore the missing file, or point {field} at an existing revision (`cargo xtask heads` lists them)"
        ),
    };
    Problem::new(
        kind,
        format!(
            "{field} of revision {} names {target}, which is not in the history",
            spec.revision()
        ),
    )
    .at_origin(&line_of(&spec.origin(), line))
    .help(help)
}

/// Parents of revision `v` in `links` (its `down_revision`s, then its resolved
/// `depends_on`), the `k`-th of them, or `None` past the last.
fn link(links: &[(Vec<RevIdx>, Vec<RevIdx>)], v: RevIdx, k: usize) -> Option<RevIdx> {
    let (down, deps) = &links[v];
    match down.get(k) {
        Some(&p) => Some(p),
        None => deps.get(k - down.len()).copied(),
    }
}

/// Whether no revision is its own ancestor through `down_revision` and
/// `depends_on` (Kahn's algorithm from the effective heads down, over the
/// parents alone).
fn is_acyclic(links: &[(Vec<RevIdx>, Vec<RevIdx>)]) -> bool {
    let n = links.len();
    // Per revision: how many edges still come down into it.
    let mut above = vec![0u32; n];
    for (down, deps) in links {
        for &p in down.iter().chain(deps) {
            above[p] += 1;
        }
    }
    let mut ready: Vec<RevIdx> = (0..n).filter(|&i| above[i] == 0).collect();
    let mut done = 0usize;
    while let Some(x) = ready.pop() {
        done += 1;
        let (down, deps) = &links[x];
        for &p in down.iter().chain(deps) {
            above[p] -= 1;
            if above[p] == 0 {
                ready.push(p);
            }
        }
    }
    done == n
}

/// The strongly connected components of `n` revisions that hold a cycle
/// (several revisions, or one that is its own parent), each sorted, in the
/// order of their first revision. `edge(v, k)` is the `k`-th parent of `v`.
/// Tarjan's algorithm, iterative: linear, and no recursion on long histories.
fn cyclic_components(n: usize, edge: impl Fn(RevIdx, usize) -> Option<RevIdx>) -> Vec<Vec<RevIdx>> {
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<RevIdx> = Vec::new();
    // (revision, next parent to look at)
    let mut frames: Vec<(RevIdx, usize)> = Vec::new();
    let mut next = 0usize;
    let mut out: Vec<Vec<RevIdx>> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        frames.push((root, 0));
        while let Some(&mut (v, ref mut k)) = frames.last_mut() {
            if let Some(w) = edge(v, *k) {
                *k += 1;
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(u, _)) = frames.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] != index[v] {
                continue;
            }
            let mut component = Vec::new();
            while let Some(w) = stack.pop() {
                on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            let cyclic = component.len() > 1 || (0..).map_while(|k| edge(v, k)).any(|w| w == v);
            if cyclic {
                component.sort_unstable();
                out.push(component);
            }
        }
    }
    out.sort_unstable_by_key(|c| c[0]);
    out
}

/// One problem per cycle of `links` (which has at least one): a
/// [`ProblemKind::Cycle`] for each set of revisions that build on each other
/// through `down_revision` alone, a [`ProblemKind::DependencyCycle`] for each
/// one that needs `depends_on`, and a [`ProblemKind::DependencySelfLoop`] for a
/// revision depending on its own branch label. Each names exactly the
/// revisions on the cycle, sorted, and points at the first of them in load
/// order, on the line whose link starts the cycle shown in the help.
fn cycle_problems<'s, D: Declaration + 's>(
    links: &[(Vec<RevIdx>, Vec<RevIdx>)],
    ids: &[&str],
    spec_of: impl Fn(RevIdx) -> &'s D,
) -> Vec<Problem> {
    let n = links.len();
    let down_only = cyclic_components(n, |v, k| links[v].0.get(k).copied());
    let full = cyclic_components(n, |v, k| link(links, v, k));
    // A component of the whole graph that is exactly one of the down_revision
    // components is reported once, as a `Cycle`.
    let mut down_component = vec![usize::MAX; n];
    for (c, component) in down_only.iter().enumerate() {
        for &v in component {
            down_component[v] = c;
        }
    }
    let mut found: Vec<(RevIdx, u8, Problem)> = Vec::new();
    for component in &down_only {
        found.push((
            component[0],
            0,
            cycle_problem(links, ids, &spec_of, component, false),
        ));
    }
    for component in &full {
        let first = component[0];
        let c = down_component[first];
        if c != usize::MAX && down_only[c].len() == component.len() {
            continue;
        }
        if let [only] = component.as_slice() {
            let spec = spec_of(*only);
            let label = spec
                .depends_on()
                .iter()
                .find(|d| spec.branch_labels().contains(d))
                .map_or("", String::as_str);
            let problem = Problem::new(
                ProblemKind::DependencySelfLoop,
                format!(
                    "revision {} lists its own branch label '{label}' in depends_on",
                    ids[*only]
                ),
            )
            .at_origin(&line_of(&spec.origin(), spec.lines().depends_on))
            .help("a revision cannot depend on itself: remove the label from depends_on");
            found.push((first, 1, problem));
            continue;
        }
        found.push((
            first,
            1,
            cycle_problem(links, ids, &spec_of, component, true),
        ));
    }
    found.sort_by_key(|&(first, kind, _)| (first, kind));
    found.into_iter().map(|(_, _, p)| p).collect()
}

/// The problem of one cycle `component` (sorted, several revisions); `deps`:
/// through `depends_on` too.
fn cycle_problem<'s, D: Declaration + 's>(
    links: &[(Vec<RevIdx>, Vec<RevIdx>)],
    ids: &[&str],
    spec_of: &impl Fn(RevIdx) -> &'s D,
    component: &[RevIdx],
    deps: bool,
) -> Problem {
    let edge = |v: RevIdx, k: usize| {
        if deps {
            link(links, v, k)
        } else {
            links[v].0.get(k).copied()
        }
    };
    let inside = |w: RevIdx| component.binary_search(&w).is_ok();
    // The cycle shown starts with a link inside the component: for a
    // dependency cycle a `depends_on` one (so the help shows it), from the
    // first revision in load order that has one.
    let dependency = |&v: &RevIdx| {
        let (down, depends_on) = &links[v];
        depends_on
            .iter()
            .find(|&&w| w != v && inside(w) && !down.contains(&w))
            .map(|&w| (v, w))
    };
    let any = |&v: &RevIdx| {
        (0..)
            .map_while(|k| edge(v, k))
            .find(|&w| w != v && inside(w))
            .map(|w| (v, w))
    };
    let (start, first) = deps
        .then(|| component.iter().find_map(dependency))
        .flatten()
        .or_else(|| component.iter().find_map(any))
        .unwrap_or((component[0], component[0]));
    // Then the shortest way from there back to `start` (breadth first, over
    // the component's own revisions).
    let mut came_from: HashMap<RevIdx, RevIdx> = HashMap::from([(first, start)]);
    let mut queue = std::collections::VecDeque::from([first]);
    let mut last = first;
    'search: while let Some(v) = queue.pop_front() {
        for w in (0..).map_while(|k| edge(v, k)) {
            if w == start {
                last = v;
                break 'search;
            }
            if w != v && inside(w) && !came_from.contains_key(&w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    // start, first, …, last, start
    let mut path = vec![start, last];
    while let Some(&p) = path.last().and_then(|v| came_from.get(v)) {
        if p == start {
            break;
        }
        path.push(p);
    }
    path.push(start);
    path.reverse();
    let hop = |a: RevIdx, b: RevIdx| {
        if links[a].0.contains(&b) {
            "builds on"
        } else {
            "depends on"
        }
    };
    let mut chain = ids[start].to_string();
    let hops = path.len() - 1;
    for (k, pair) in path.windows(2).enumerate() {
        if hops > 6 && (4..hops - 1).contains(&k) {
            if k == 4 {
                chain.push_str(&format!(", … ({} more) …", hops - 5));
            }
            continue;
        }
        let sep = if k == 0 { " " } else { ", which " };
        chain.push_str(&format!("{sep}{} {}", hop(pair[0], pair[1]), ids[pair[1]]));
    }
    let spec = spec_of(start);
    let line = if hop(path[0], path[1]) == "builds on" {
        spec.lines().down_revision
    } else {
        spec.lines().depends_on
    };
    let mut names: Vec<&str> = component.iter().map(|&v| ids[v]).collect();
    names.sort_unstable();
    let (kind, what, fix) = if deps {
        (
            ProblemKind::DependencyCycle,
            "a dependency cycle",
            "remove or change the depends_on (or down_revision) that points back up the history",
        )
    } else {
        (
            ProblemKind::Cycle,
            "a cycle",
            "point one of these down_revisions at an older revision (or `none` for a base)",
        )
    };
    Problem::new(
        kind,
        format!("{what} is detected in revisions ({})", names.join(", ")),
    )
    .at_origin(&line_of(&spec.origin(), line))
    .help(format!(
        "{chain}, and a migration cannot (even indirectly) build on itself: {fix}"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn spec(id: &str, down: &[&str], deps: &[&str]) -> RevisionSpec {
        RevisionSpec {
            revision: id.to_string(),
            down_revisions: down.iter().map(|s| s.to_string()).collect(),
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            origin: Origin {
                file: Some(format!("m/{id}.sql")),
                line: Some(1),
            },
            ..RevisionSpec::default()
        }
    }

    fn problems(specs: Vec<RevisionSpec>) -> Vec<Problem> {
        match Graph::build(specs, &GraphOptions::default()) {
            Ok(_) => panic!("the graph loaded"),
            Err(Problems(ps)) => ps,
        }
    }

    /// A cycle of 40 revisions, all of them reachable from a base and from a
    /// head (the shape Alembic's check misses): every id is named, the help
    /// shows the start and the end of the way round.
    #[test]
    fn a_long_cycle_names_every_revision_and_shortens_the_way_round() {
        let id = |i: usize| format!("c{i:02}");
        let mut specs = vec![spec("base", &[], &[])];
        // c00 merges base and c39; c(i) builds on c(i-1); top builds on c39.
        specs.push(spec(&id(0), &["base", &id(39)], &[]));
        for i in 1..40 {
            specs.push(spec(&id(i), &[&id(i - 1)], &[]));
        }
        specs.push(spec("top", &[&id(39)], &[]));
        let ps = problems(specs);
        assert_eq!(ps.len(), 1, "{ps:?}");
        let p = &ps[0];
        assert_eq!(p.kind, ProblemKind::Cycle);
        let all: Vec<String> = (0..40).map(id).collect();
        assert_eq!(
            p.message,
            format!("a cycle is detected in revisions ({})", all.join(", "))
        );
        assert_eq!(p.file.as_deref(), Some("m/c00.sql"));
        let help = p.help.as_deref().unwrap();
        assert!(
            help.starts_with(
                "c00 builds on c39, which builds on c38, which builds on c37, which builds on c36, … (35 more) …, which builds on c00, and"
            ),
            "{help}"
        );
    }

    /// Two `down_revision` cycles and two dependency cycles: one problem each,
    /// in load order, each naming its own revisions; a dependency cycle's help
    /// shows its `depends_on` link.
    #[test]
    fn every_cycle_is_its_own_problem() {
        let ps = problems(vec![
            spec("a", &["b"], &[]),
            spec("b", &["a"], &[]),
            spec("c", &["a"], &["d"]),
            spec("d", &["c"], &[]),
            spec("e", &["f"], &[]),
            spec("f", &["e"], &["b"]),
            spec("x", &[], &["y"]),
            spec("y", &["x"], &[]),
        ]);
        let got: Vec<(ProblemKind, &str, Option<&str>)> = ps
            .iter()
            .map(|p| (p.kind, p.message.as_str(), p.file.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    ProblemKind::Cycle,
                    "a cycle is detected in revisions (a, b)",
                    Some("m/a.sql")
                ),
                (
                    ProblemKind::DependencyCycle,
                    "a dependency cycle is detected in revisions (c, d)",
                    Some("m/c.sql")
                ),
                (
                    ProblemKind::Cycle,
                    "a cycle is detected in revisions (e, f)",
                    Some("m/e.sql")
                ),
                (
                    ProblemKind::DependencyCycle,
                    "a dependency cycle is detected in revisions (x, y)",
                    Some("m/x.sql")
                ),
            ]
        );
        let help = ps[1].help.as_deref().unwrap();
        assert!(
            help.starts_with("c depends on d, which builds on c, and"),
            "{help}"
        );
    }
}
