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
use std::collections::HashMap;

/// Index of a revision in a [`Graph`]: its position in load order.
pub type RevIdx = usize;

/// A revision as declared, before the graph links it (one file, or one test case row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionSpec {
    /// The revision id.
    pub revision: String,
    /// Its parents (`down_revision`), in declared order.
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
    by_id: HashMap<String, RevIdx>,
    by_label: HashMap<String, RevIdx>,
    heads: Vec<RevIdx>,
    real_heads: Vec<RevIdx>,
    bases: Vec<RevIdx>,
}

impl Graph {
    /// Links and validates `specs`, given in load order (sorted file names).
    pub fn build(specs: Vec<RevisionSpec>, options: &GraphOptions) -> Result<Graph, Problems> {
        let mut problems = Vec::new();
        let mut by_id: HashMap<String, RevIdx> = HashMap::with_capacity(specs.len());
        let mut kept: Vec<RevisionSpec> = Vec::with_capacity(specs.len());

        for spec in specs {
            let here = spec.origin.clone();
            if spec.down_revisions.iter().any(|d| d == &spec.revision) {
                problems.push(
                    Problem::new(
                        ProblemKind::SelfLoop,
                        format!("revision {} names itself as its down_revision", spec.revision),
                    )
                    .at_origin(&line_of(&here, spec.lines.down_revision))
                    .help("a down_revision is the revision this one builds on; name its parent, or `none` for a base"),
                );
                continue;
            }
            if spec.depends_on.iter().any(|d| d == &spec.revision) {
                problems.push(
                    Problem::new(
                        ProblemKind::DependencySelfLoop,
                        format!("revision {} lists itself in depends_on", spec.revision),
                    )
                    .at_origin(&line_of(&here, spec.lines.depends_on))
                    .help("remove it from depends_on"),
                );
                continue;
            }
            if let Some(&first) = by_id.get(&spec.revision) {
                let first_at = describe(&kept[first].origin);
                problems.push(
                    Problem::new(
                        ProblemKind::DuplicateRevision,
                        format!("revision id {} is used twice (first in {first_at})", spec.revision),
                    )
                    .at_origin(&here)
                    .help("every migration needs its own id: give this one a fresh id (and rename the file), or delete the copy"),
                );
                continue;
            }
            by_id.insert(spec.revision.clone(), kept.len());
            kept.push(spec);
        }

        // Branch labels: unique, and never equal to a revision id.
        let mut by_label: HashMap<String, RevIdx> = HashMap::new();
        for (i, spec) in kept.iter().enumerate() {
            for label in &spec.branch_labels {
                let clash = by_label
                    .get(label)
                    .map(|&j| kept[j].revision.clone())
                    .or_else(|| by_id.get(label).map(|&j| kept[j].revision.clone()));
                if let Some(other) = clash {
                    problems.push(
                        Problem::new(
                            ProblemKind::DuplicateBranchLabel,
                            format!(
                                "branch label '{label}' in revision {} is already used by revision {other}",
                                spec.revision
                            ),
                        )
                        .at_origin(&line_of(&spec.origin, spec.lines.branch_labels))
                        .help("a branch label names one branch; choose another name for this one"),
                    );
                } else {
                    by_label.insert(label.clone(), i);
                }
            }
        }

        // Resolve parents and dependencies.
        let mut revs: Vec<Revision> = Vec::with_capacity(kept.len());
        for spec in &kept {
            let mut down = Vec::with_capacity(spec.down_revisions.len());
            for d in &spec.down_revisions {
                match by_id.get(d) {
                    Some(&j) => down.push(j),
                    None => problems.push(missing(spec, d, true, &by_id)),
                }
            }
            let mut deps = Vec::with_capacity(spec.depends_on.len());
            for d in &spec.depends_on {
                match by_id.get(d).or_else(|| by_label.get(d)) {
                    Some(&j) => {
                        if !deps.contains(&j) {
                            deps.push(j)
                        }
                    }
                    None => problems.push(missing(spec, d, false, &by_id)),
                }
            }
            revs.push(Revision {
                id: spec.revision.clone(),
                down,
                deps,
                normalized_deps: Vec::new(),
                children: Vec::new(),
                dependents: Vec::new(),
                declared_labels: spec.branch_labels.clone(),
                labels: Vec::new(),
                depends_on: spec.depends_on.clone(),
                origin: spec.origin.clone(),
            });
        }
        for i in 0..revs.len() {
            for k in 0..revs[i].down.len() {
                let p = revs[i].down[k];
                revs[p].children.push(i);
            }
            for k in 0..revs[i].deps.len() {
                let p = revs[i].deps[k];
                if !revs[p].dependents.contains(&i) {
                    revs[p].dependents.push(i);
                }
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

        if let Some(cycle) = detect_cycles(&revs, &heads, &bases, &real_heads) {
            problems.push(cycle);
            return Err(Problems(problems));
        }

        let mut graph = Graph {
            revs,
            by_id,
            by_label,
            heads,
            real_heads,
            bases,
        };
        graph.normalize_dependencies();
        graph.propagate_labels();
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

    fn normalize_dependencies(&mut self) {
        for i in 0..self.revs.len() {
            if self.revs[i].deps.is_empty() {
                continue;
            }
            let mut keep = self.revs[i].deps.clone();
            let mut stack: Vec<RevIdx> = self.revs[i].down.clone();
            let mut seen = vec![false; 0];
            seen.resize(self.revs.len(), false);
            while let Some(a) = stack.pop() {
                if std::mem::replace(&mut seen[a], true) {
                    continue;
                }
                let declared = &self.revs[a].deps;
                keep.retain(|d| !declared.contains(d));
                if keep.is_empty() {
                    break;
                }
                stack.extend(self.revs[a].down.iter().copied());
            }
            self.revs[i].normalized_deps = keep;
        }
    }

    fn propagate_labels(&mut self) {
        let labelled: Vec<RevIdx> = (0..self.revs.len())
            .filter(|&i| !self.revs[i].declared_labels.is_empty())
            .collect();
        for r in labelled {
            let labels = self.revs[r].declared_labels.clone();
            // R and all its versioned descendants.
            let mut stack = vec![r];
            let mut seen = vec![false; self.revs.len()];
            let mut chain = true;
            let mut tip = r;
            while let Some(n) = stack.pop() {
                if std::mem::replace(&mut seen[n], true) {
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
        if policy == HeadPolicy::Any || self.heads.len() <= 1 {
            return None;
        }
        // Independent labelled branches are fine: every head carries labels that no
        // other head carries.
        let independent = self.heads.iter().all(|&h| {
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
        let last = *self.heads.last()?;
        let fork = self.fork_point(&self.heads);
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
        (0..self.revs.len()).rev().find(|&i| common[i])
    }

    /// Marks every ancestor of `from` (itself included); with `deps`, through `depends_on` too.
    pub fn ancestor_mask(&self, from: &[RevIdx], deps: bool) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut stack: Vec<RevIdx> = from.to_vec();
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n], true) {
                continue;
            }
            let rev = &self.revs[n];
            stack.extend(rev.down.iter().copied());
            if deps {
                stack.extend(rev.deps.iter().copied());
            }
        }
        seen
    }

    /// Marks every descendant of `from` (itself included); with `deps`, through dependents too.
    pub fn descendant_mask(&self, from: &[RevIdx], deps: bool) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut stack: Vec<RevIdx> = from.to_vec();
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n], true) {
                continue;
            }
            let rev = &self.revs[n];
            stack.extend(rev.children.iter().copied());
            if deps {
                stack.extend(rev.dependents.iter().copied());
            }
        }
        seen
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
        self.by_id.get(id).copied()
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

fn missing(
    spec: &RevisionSpec,
    target: &str,
    down: bool,
    by_id: &HashMap<String, RevIdx>,
) -> Problem {
    let (kind, field, line, what) = if down {
        (
            ProblemKind::MissingDownRevision,
            "down_revision",
            spec.lines.down_revision,
            "revision",
        )
    } else {
        (
            ProblemKind::MissingDependency,
            "depends_on",
            spec.lines.depends_on,
            "revision or branch label",
        )
    };
    let mut candidates: Vec<&str> = by_id
        .keys()
        .filter(|k| k.starts_with(target) || target.starts_with(k.as_str()))
        .map(String::as_str)
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
            spec.revision
        ),
    )
    .at_origin(&line_of(&spec.origin, line))
    .help(help)
}

/// Alembic's cycle check: everything must be reachable down from a head and up from a base.
fn detect_cycles(
    revs: &[Revision],
    heads: &[RevIdx],
    bases: &[RevIdx],
    real_heads: &[RevIdx],
) -> Option<Problem> {
    if revs.is_empty() {
        return None;
    }
    let n = revs.len();
    let reach = |from: &[RevIdx], next: &dyn Fn(&Revision) -> Vec<RevIdx>| {
        let mut seen = vec![false; n];
        let mut stack = from.to_vec();
        while let Some(x) = stack.pop() {
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            stack.extend(next(&revs[x]));
        }
        seen
    };
    let report = |kind: ProblemKind, what: &str, bad: Vec<RevIdx>| {
        let mut ids: Vec<&str> = bad.iter().map(|&i| revs[i].id.as_str()).collect();
        ids.sort_unstable();
        let at = revs[bad[0]].origin.clone();
        Problem::new(kind, format!("{what} is detected in revisions ({})", ids.join(", ")))
            .at_origin(&at)
            .help("a migration cannot (even indirectly) build on itself: fix the down_revision or depends_on that points back up the history")
    };
    if heads.is_empty() || bases.is_empty() {
        return Some(report(ProblemKind::Cycle, "a cycle", (0..n).collect()));
    }
    let down = reach(heads, &|r| r.down.clone());
    let up = reach(bases, &|r| r.children.clone());
    let bad: Vec<RevIdx> = (0..n).filter(|&i| !(down[i] && up[i])).collect();
    if !bad.is_empty() {
        return Some(report(ProblemKind::Cycle, "a cycle", bad));
    }
    let real_bases: Vec<RevIdx> = (0..n)
        .filter(|&i| revs[i].down.is_empty() && revs[i].deps.is_empty())
        .collect();
    if real_heads.is_empty() || real_bases.is_empty() {
        return Some(report(
            ProblemKind::DependencyCycle,
            "a dependency cycle",
            (0..n).collect(),
        ));
    }
    let down = reach(real_heads, &|r| r.all_parents().collect());
    let up = reach(&real_bases, &|r| {
        let mut v = r.children.clone();
        v.extend(
            r.dependents
                .iter()
                .copied()
                .filter(|d| !r.children.contains(d)),
        );
        v
    });
    let bad: Vec<RevIdx> = (0..n).filter(|&i| !(down[i] && up[i])).collect();
    if !bad.is_empty() {
        return Some(report(
            ProblemKind::DependencyCycle,
            "a dependency cycle",
            bad,
        ));
    }
    None
}
