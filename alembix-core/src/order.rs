//! The order in which revisions run: Alembic's `_topological_sort`
//! (`revision.py`, SEMANTICS §7), reproduced exactly but in linear time.
//!
//! Alembic keeps a list of "current heads", each with the full set of its
//! ancestors. It walks down from the head at index `i`; before emitting a
//! revision `c` it checks whether `c` is an ancestor of another head `j`, and if
//! so switches to the *first* such `j` (that branch must go first). Ancestor sets
//! are recomputed at every merge point and dependency, which makes Alembic
//! quadratic on histories with many merges.
//!
//! [`topological_sort`] gives the identical output with two cheaper structures,
//! valid whenever the set to order is *closed*: every revision between two
//! members is a member (convex), and every member lies below one of the start
//! heads (covered). Upgrade and downgrade sets always are; a history range with
//! `depends_on` crossing its lower bound may not be, and then the literal
//! algorithm ([`topological_sort_reference`]) runs instead.
//!
//! - *Is `c` blocked?* In a closed set, `c` is an ancestor of another pending head
//!   exactly when one of its member children (through `down_revision` or a
//!   normalized dependency) has not been emitted yet: a counter per revision.
//! - *Which head goes first?* Heads keep their position in Alembic's list as a
//!   key that never changes (new heads are appended with larger keys), so "the
//!   first head that has `c` as an ancestor" is the smallest key among heads
//!   above `c`. That minimum only grows over time, so a cached lower bound per
//!   revision lets a search upwards from `c` skip every branch that cannot win.

use crate::graph::{Graph, RevIdx};
use crate::plan::{PlanError, PlanErrorKind};

const NONE: u32 = u32::MAX;

/// Orders `members` newest first (an upgrade runs the reverse), starting from
/// the heads `start`; ties between branches follow load order, as in Alembic.
///
/// Errors only when some member lies below none of the start heads (Alembic
/// fails with an `AssertionError` there).
pub fn topological_sort(
    graph: &Graph,
    members: &[bool],
    start: &[RevIdx],
) -> Result<Vec<RevIdx>, PlanError> {
    let heads = start_heads(members, start);
    if is_closed(graph, members, &heads) {
        topological_sort_closed(graph, members, start)
    } else {
        topological_sort_reference(graph, members, start)
    }
}

/// [`topological_sort`] for a set the caller knows is closed (what an upgrade
/// needs, or what a downgrade reverts, from the heads it starts at), skipping
/// the check. Should the fast path get stuck anyway, the reference runs.
pub(crate) fn topological_sort_closed(
    graph: &Graph,
    members: &[bool],
    start: &[RevIdx],
) -> Result<Vec<RevIdx>, PlanError> {
    let heads = start_heads(members, start);
    match Fast::new(graph, members).run(&heads) {
        Some(order) => Ok(order),
        None => topological_sort_reference(graph, members, start),
    }
}

/// Alembic's algorithm literally, ancestor sets and all (quadratic): the
/// fallback for sets that are not closed, and the reference the fast path is
/// tested against.
pub fn topological_sort_reference(
    graph: &Graph,
    members: &[bool],
    start: &[RevIdx],
) -> Result<Vec<RevIdx>, PlanError> {
    let mut todo = members.to_vec();
    let mut remaining = members.iter().filter(|&&m| m).count();
    let mut heads = start_heads(members, start);
    let mut ancestors: Vec<Vec<bool>> = heads
        .iter()
        .map(|&h| graph.ancestor_mask(&[h], true))
        .collect();
    let mut out = Vec::with_capacity(remaining);
    let mut i = 0usize;
    while !heads.is_empty() {
        let c = heads[i];
        if let Some(j) = (0..heads.len()).find(|&j| j != i && ancestors[j][c]) {
            i = j;
            continue;
        }
        if todo[c] {
            out.push(c);
            todo[c] = false;
            remaining -= 1;
        }
        let rev = graph.rev(c);
        let mut add: Vec<RevIdx> = Vec::new();
        for p in rev.normalized_parents() {
            // Each revision stands in the list once: two entries on one revision
            // would hand the turn to each other forever.
            if todo[p] && !heads.contains(&p) && !add.contains(&p) {
                add.push(p);
            }
        }
        match add.split_first() {
            None => {
                heads.remove(i);
                ancestors.remove(i);
                i = i.saturating_sub(1);
            }
            Some((&first, rest)) => {
                heads[i] = first;
                ancestors[i] = graph.ancestor_mask(&[first], true);
                for &p in rest {
                    heads.push(p);
                    ancestors.push(graph.ancestor_mask(&[p], true));
                }
            }
        }
    }
    if remaining > 0 {
        let left: Vec<&str> = (0..graph.len())
            .filter(|&x| todo[x])
            .map(|x| graph.rev(x).id.as_str())
            .collect();
        return Err(PlanError::new(
            PlanErrorKind::RevisionError,
            format!(
                "cannot order revisions {}: they are below none of the requested revisions",
                left.join(", ")
            ),
        )
        .with_help("choose a range whose lower bound is an ancestor, through down_revision, of everything it should include"));
    }
    Ok(out)
}

/// The start heads that are members, deduplicated, in load order.
fn start_heads(members: &[bool], start: &[RevIdx]) -> Vec<RevIdx> {
    let mut heads: Vec<RevIdx> = start.iter().copied().filter(|&h| members[h]).collect();
    heads.sort_unstable();
    heads.dedup();
    heads
}

/// Whether `members` is convex (nothing outside it lies between two members)
/// and covered (every member is an ancestor-or-self of a head).
fn is_closed(graph: &Graph, members: &[bool], heads: &[RevIdx]) -> bool {
    let n = graph.len();
    // Covered: walk down from the heads through members only.
    let mut seen = vec![false; n];
    let mut stack: Vec<RevIdx> = heads.to_vec();
    let mut reached = 0usize;
    while let Some(x) = stack.pop() {
        if std::mem::replace(&mut seen[x], true) {
            continue;
        }
        reached += 1;
        stack.extend(
            graph
                .rev(x)
                .all_parents()
                .filter(|&p| members[p] && !seen[p]),
        );
    }
    if reached != members.iter().filter(|&&m| m).count() {
        return false;
    }
    // Convex: no non-member is both above a member and below a member.
    let member_list: Vec<RevIdx> = (0..n).filter(|&x| members[x]).collect();
    let below = graph.ancestor_mask(&member_list, true);
    let above = graph.descendant_mask(&member_list, true);
    (0..n).all(|x| members[x] || !(below[x] && above[x]))
}

/// The linear-time simulation of Alembic's loop over a closed set.
struct Fast<'g> {
    graph: &'g Graph,
    members: &'g [bool],
    /// Member children (reverse normalized-parent edges), CSR.
    child_start: Vec<u32>,
    child_list: Vec<RevIdx>,
    /// Member children not emitted yet.
    pending: Vec<u32>,
    emitted: Vec<bool>,
    /// Key of the head entry standing on a revision, or NONE.
    key_at: Vec<u32>,
    /// Head entries by key: the revision each stands on, and list links.
    entry_node: Vec<RevIdx>,
    entry_prev: Vec<u32>,
    entry_next: Vec<u32>,
    first: u32,
    last: u32,
    /// Lower bound of the smallest key among head entries at or above a revision.
    bound: Vec<u32>,
    /// Query in which `bound` was computed exactly.
    fresh: Vec<u32>,
    query: u32,
}

impl<'g> Fast<'g> {
    fn new(graph: &'g Graph, members: &'g [bool]) -> Self {
        let n = graph.len();
        let mut pending = vec![0u32; n];
        for x in (0..n).filter(|&x| members[x]) {
            for &p in graph.parents(x) {
                if members[p] {
                    pending[p] += 1;
                }
            }
        }
        let mut child_start = vec![0u32; n + 1];
        for x in 0..n {
            child_start[x + 1] = child_start[x] + pending[x];
        }
        let mut fill: Vec<u32> = child_start[..n].to_vec();
        let mut child_list = vec![0; child_start[n] as usize];
        for x in (0..n).filter(|&x| members[x]) {
            for &p in graph.parents(x) {
                if members[p] {
                    child_list[fill[p] as usize] = x;
                    fill[p] += 1;
                }
            }
        }
        Fast {
            graph,
            members,
            child_start,
            child_list,
            pending,
            emitted: vec![false; n],
            key_at: vec![NONE; n],
            entry_node: Vec::new(),
            entry_prev: Vec::new(),
            entry_next: Vec::new(),
            first: NONE,
            last: NONE,
            bound: vec![0; n],
            fresh: vec![0; n],
            query: 0,
        }
    }

    fn children(&self, x: RevIdx) -> &[RevIdx] {
        &self.child_list[self.child_start[x] as usize..self.child_start[x + 1] as usize]
    }

    fn push_entry(&mut self, node: RevIdx) {
        let key = self.entry_node.len() as u32;
        self.entry_node.push(node);
        self.entry_prev.push(self.last);
        self.entry_next.push(NONE);
        if self.last == NONE {
            self.first = key;
        } else {
            self.entry_next[self.last as usize] = key;
        }
        self.last = key;
        self.key_at[node] = key;
    }

    /// Removes entry `key`; returns the entry Alembic moves to (`max(i - 1, 0)`).
    fn remove_entry(&mut self, key: u32) -> u32 {
        let (prev, next) = (self.entry_prev[key as usize], self.entry_next[key as usize]);
        if prev == NONE {
            self.first = next;
        } else {
            self.entry_next[prev as usize] = next;
        }
        if next == NONE {
            self.last = prev;
        } else {
            self.entry_prev[next as usize] = prev;
        }
        if prev == NONE {
            self.first
        } else {
            prev
        }
    }

    /// Alembic's loop; `None` if the set turns out not to be closed.
    fn run(mut self, heads: &[RevIdx]) -> Option<Vec<RevIdx>> {
        for &h in heads {
            self.push_entry(h);
        }
        let total = self.members.iter().filter(|&&m| m).count();
        let mut out = Vec::with_capacity(total);
        let mut current = self.first;
        while current != NONE {
            let c = self.entry_node[current as usize];
            if self.pending[c] > 0 {
                // Another pending head needs `c`: switch to the first such head.
                match self.first_head_above(c) {
                    Some(key) => {
                        current = key;
                        continue;
                    }
                    // Unreachable for a closed set; never loop forever.
                    None => return None,
                }
            }
            out.push(c);
            self.emitted[c] = true;
            self.key_at[c] = NONE;
            let graph = self.graph;
            let mut add: Vec<RevIdx> = Vec::new();
            for &p in graph.parents(c) {
                if self.members[p] {
                    self.pending[p] -= 1;
                    if !self.emitted[p] && self.key_at[p] == NONE && !add.contains(&p) {
                        add.push(p);
                    }
                }
            }
            match add.split_first() {
                None => current = self.remove_entry(current),
                Some((&p0, rest)) => {
                    self.entry_node[current as usize] = p0;
                    self.key_at[p0] = current;
                    for &p in rest {
                        self.push_entry(p);
                    }
                }
            }
        }
        (out.len() == total).then_some(out)
    }

    /// The smallest key among head entries standing strictly above `c`.
    fn first_head_above(&mut self, c: RevIdx) -> Option<u32> {
        self.query += 1;
        let mut best = NONE;
        for k in 0..self.children(c).len() {
            let y = self.children(c)[k];
            if self.emitted[y] {
                continue;
            }
            if self.fresh[y] == self.query {
                best = best.min(self.bound[y]);
            } else if self.bound[y] < best {
                best = best.min(self.exact_min(y));
            }
        }
        (best != NONE).then_some(best)
    }

    /// Smallest key among head entries at or above `root` (iterative, pruned by bounds).
    fn exact_min(&mut self, root: RevIdx) -> u32 {
        // Frames: (revision, next child index, best so far).
        let mut stack: Vec<(RevIdx, usize, u32)> = vec![(root, 0, self.key_at[root])];
        loop {
            let Some(top) = stack.last_mut() else {
                return NONE;
            };
            let (x, k, best) = *top;
            let start = self.child_start[x] as usize;
            let end = self.child_start[x + 1] as usize;
            if start + k < end {
                top.1 += 1;
                let z = self.child_list[start + k];
                if self.emitted[z] {
                    continue;
                }
                if self.fresh[z] == self.query {
                    top.2 = best.min(self.bound[z]);
                } else if self.bound[z] < best {
                    stack.push((z, 0, self.key_at[z]));
                }
                continue;
            }
            stack.pop();
            self.bound[x] = best;
            self.fresh[x] = self.query;
            match stack.last_mut() {
                Some(parent) => parent.2 = parent.2.min(best),
                None => return best,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::graph::{GraphOptions, HeadPolicy, RevisionSpec};
    use proptest::prelude::*;

    fn build(specs: &[(usize, Vec<usize>, Vec<usize>)]) -> Graph {
        let specs = specs
            .iter()
            .map(|(i, down, deps)| RevisionSpec {
                revision: format!("r{i}"),
                down_revisions: down.iter().map(|d| format!("r{d}")).collect(),
                depends_on: deps.iter().map(|d| format!("r{d}")).collect(),
                ..RevisionSpec::default()
            })
            .collect();
        Graph::build(
            specs,
            &GraphOptions {
                heads: HeadPolicy::Any,
            },
        )
        .expect("valid graph")
    }

    /// Random DAGs: revision i picks parents and dependencies among 0..i, then the
    /// load order is shuffled by `perm` so ties are not always index order.
    fn graph_strategy() -> impl Strategy<Value = Graph> {
        (2usize..24)
            .prop_flat_map(|n| {
                (
                    proptest::collection::vec(
                        (
                            proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
                            proptest::collection::vec(any::<prop::sample::Index>(), 0..2),
                            0u8..4,
                        ),
                        n,
                    ),
                    Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                )
            })
            .prop_map(|(rows, perm)| {
                let mut specs = Vec::new();
                for (i, (down, deps, root)) in rows.iter().enumerate() {
                    let mut d: Vec<usize> = if i == 0 || *root == 0 {
                        Vec::new()
                    } else {
                        down.iter().map(|x| x.index(i)).collect()
                    };
                    d.dedup();
                    let mut p: Vec<usize> = if i == 0 {
                        Vec::new()
                    } else {
                        deps.iter().map(|x| x.index(i)).collect()
                    };
                    p.retain(|x| !d.contains(x));
                    p.dedup();
                    specs.push((i, d, p));
                }
                let mut ordered: Vec<(usize, Vec<usize>, Vec<usize>)> =
                    perm.iter().map(|&k| specs[k].clone()).collect();
                ordered.dedup_by_key(|s| s.0);
                build(&ordered)
            })
    }

    /// `n` cases, unless `PROPTEST_CASES` asks for another number.
    fn cases(n: u32) -> ProptestConfig {
        let mut config = ProptestConfig::default();
        if std::env::var_os("PROPTEST_CASES").is_none() {
            config.cases = n;
        }
        config
    }

    proptest! {
        #![proptest_config(cases(400))]

        /// The fast path gives Alembic's order on every closed set we try:
        /// ancestors of random targets, descendants of random roots, everything.
        #[test]
        fn fast_equals_reference(g in graph_strategy(), picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..4), lower in any::<prop::sample::Index>()) {
            let n = g.len();
            let targets: Vec<RevIdx> = picks.iter().map(|p| p.index(n)).collect();
            // Upgrade-like: ancestors of the targets minus ancestors of a "current" revision.
            let required = g.ancestor_mask(&targets, true);
            let applied = g.ancestor_mask(&[lower.index(n)], true);
            let members: Vec<bool> = (0..n).map(|x| required[x] && !applied[x]).collect();
            let reference = topological_sort_reference(&g, &members, &targets);
            let fast = topological_sort(&g, &members, &targets);
            prop_assert_eq!(fast, reference);
            // Downgrade-like: descendants of a root below the targets.
            let drop = g.descendant_mask(&[lower.index(n)], true);
            let members: Vec<bool> = (0..n).map(|x| required[x] && drop[x]).collect();
            let reference = topological_sort_reference(&g, &members, &targets);
            let fast = topological_sort(&g, &members, &targets);
            prop_assert_eq!(fast, reference);
            // Everything from the effective heads.
            let all = vec![true; n];
            let reference = topological_sort_reference(&g, &all, g.real_heads());
            let fast = topological_sort(&g, &all, g.real_heads());
            prop_assert_eq!(fast, reference);
        }
    }

    proptest! {
        #![proptest_config(cases(400))]

        /// On any set and any start heads, closed or not, the result is Alembic's
        /// (including its failure when a member lies below no start head).
        #[test]
        fn any_set_equals_reference(g in graph_strategy(), set in proptest::collection::vec(any::<bool>(), 24), picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..4)) {
            let n = g.len();
            let members: Vec<bool> = (0..n).map(|x| set[x % set.len()]).collect();
            let start: Vec<RevIdx> = picks.iter().map(|p| p.index(n)).collect();
            let reference = topological_sort_reference(&g, &members, &start).map_err(|e| e.kind);
            let ours = topological_sort(&g, &members, &start).map_err(|e| e.kind);
            prop_assert_eq!(ours, reference);
        }
    }

    #[test]
    fn diamond_runs_one_branch_at_a_time() {
        // a; b1(a); b2(a); c(b1, b2); d(c)
        let g = build(&[
            (0, vec![], vec![]),
            (1, vec![0], vec![]),
            (2, vec![0], vec![]),
            (3, vec![1, 2], vec![]),
            (4, vec![3], vec![]),
        ]);
        let all = vec![true; 5];
        let order = topological_sort(&g, &all, g.real_heads()).unwrap();
        assert_eq!(order, vec![4, 3, 1, 2, 0]);
    }
}
