//! Launch safety: is the database one this binary understands, and what would
//! migrating it do?
//!
//! [`assess`] compares what the database has applied with this binary's graph:
//!
//! | database vs. graph | [`Assessment`] | what the runtime should do |
//! | --- | --- | --- |
//! | same revisions | `UpToDate` | nothing |
//! | a subset | `Behind { pending }` | run the upgrade plan |
//! | a superset (it knows revisions we do not) | `Ahead { unknown }` | refuse by default: a newer build migrated it (allow only when configured, e.g. during a rolling deploy) |
//! | neither: unknown revisions *and* some of ours missing | `Diverged { unknown, missing }` | refuse: another line of history was applied |
//! | rows we cannot trace back | `Unknown { unknown }` | refuse |
//! | known rows that cannot be planned from | `Inconsistent { error }` | refuse, show the error |
//!
//! "Applied" means the version-table rows and everything they imply. For a row
//! the graph knows, that is its ancestors in the graph. For a row it does not
//! know, the runtime's own history table tells the revision's parents, which are
//! followed until known revisions are reached. So **the runtime must store, for
//! every revision it applies**: the revision id, its parents (its
//! `down_revision` ids followed by its resolved `depends_on` ids), and the
//! checksum of its upgrade text ([`crate::Checksum`]), plus, for people, when
//! it ran and how long it took. Entries of reverted revisions may stay (a
//! lookup by id is all [`assess`] needs). A database that Alembic managed has
//! no such table: its unknown rows come out `Unknown`.
//!
//! [`drift`] is the other check: an applied migration whose text changed since.

use crate::graph::{Graph, RevIdx};
use crate::plan::{plan_upgrade, PlanError};
use std::collections::HashSet;

/// Longest chain of unknown revisions [`assess`] follows before giving up.
pub const MAX_UNKNOWN_CHAIN: usize = 100_000;

/// How a database relates to this binary's history; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// Every revision is applied and the database has nothing else.
    UpToDate,
    /// Some revisions are not applied yet; `pending` is the upgrade plan's
    /// order (`upgrade heads`).
    Behind {
        /// Revisions `upgrade heads` would run, in order.
        pending: Vec<RevIdx>,
    },
    /// Everything here is applied, and the database also has revisions this
    /// binary does not know: it was migrated by a newer build.
    Ahead {
        /// Revisions the database has and the graph does not (rows first).
        unknown: Vec<String>,
    },
    /// The database has revisions this binary does not know, and lacks some it
    /// does: another line of history was applied.
    Diverged {
        /// Revisions the database has and the graph does not (rows first).
        unknown: Vec<String>,
        /// Revisions of the graph the database does not have, in load order.
        missing: Vec<RevIdx>,
    },
    /// A row the graph does not know could not be traced to known revisions
    /// (no history entry for it or one of its unknown ancestors).
    Unknown {
        /// The version-table rows the graph does not know.
        unknown: Vec<String>,
    },
    /// Every row is known, but the rows cannot be planned from (e.g. one row is
    /// an ancestor of another).
    Inconsistent {
        /// Why planning failed.
        error: PlanError,
    },
}

/// Compares the version-table `rows` with `graph`.
///
/// `known_parents(id)` returns the parents the runtime recorded when it applied
/// revision `id` (`Some(vec![])` for a base), or `None` when it has no record.
/// It is only asked about revisions the graph does not know.
pub fn assess(
    graph: &Graph,
    rows: &[&str],
    known_parents: &dyn Fn(&str) -> Option<Vec<String>>,
) -> Assessment {
    let mut known: Vec<RevIdx> = Vec::new();
    let mut unknown_rows: Vec<String> = Vec::new();
    for row in rows {
        match graph.index_of(row) {
            Some(r) => known.push(r),
            None => {
                if !unknown_rows.iter().any(|u| u == row) {
                    unknown_rows.push(row.to_string());
                }
            }
        }
    }
    if unknown_rows.is_empty() {
        return match plan_upgrade(graph, rows, "heads") {
            Ok(plan) if plan.steps.is_empty() => Assessment::UpToDate,
            Ok(plan) => Assessment::Behind {
                pending: plan.steps.iter().filter_map(|s| s.revision).collect(),
            },
            Err(error) => Assessment::Inconsistent { error },
        };
    }

    // Follow the unknown revisions' recorded parents down to known revisions.
    let mut unknown: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut stack: Vec<String> = unknown_rows.iter().rev().cloned().collect();
    let mut reached = known.clone();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if seen.len() > MAX_UNKNOWN_CHAIN {
            return Assessment::Unknown {
                unknown: unknown_rows,
            };
        }
        let Some(parents) = known_parents(&id) else {
            return Assessment::Unknown {
                unknown: unknown_rows,
            };
        };
        unknown.push(id);
        for p in parents.into_iter().rev() {
            match graph.index_of(&p) {
                Some(r) => reached.push(r),
                None => stack.push(p),
            }
        }
    }
    let applied = graph.ancestor_mask(&reached, true);
    let missing: Vec<RevIdx> = (0..graph.len()).filter(|&i| !applied[i]).collect();
    if missing.is_empty() {
        Assessment::Ahead { unknown }
    } else {
        Assessment::Diverged { unknown, missing }
    }
}

/// An applied migration whose text changed since it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The revision id.
    pub revision: String,
    /// The checksum recorded when it was applied.
    pub stored: String,
    /// The checksum of the text this binary has.
    pub expected: String,
}

/// Lists the `applied` revisions (id, stored checksum) whose checksum differs
/// from `ours(id)`. Revisions `ours` does not know are not drift ([`assess`]
/// reports them). Checksums compare as text, algorithm tag included.
pub fn drift<'a>(applied: &[(&str, &str)], ours: impl Fn(&str) -> Option<&'a str>) -> Vec<Drift> {
    applied
        .iter()
        .filter_map(|&(revision, stored)| {
            let expected = ours(revision)?;
            (expected != stored).then(|| Drift {
                revision: revision.to_string(),
                stored: stored.to_string(),
                expected: expected.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::graph::{GraphOptions, HeadPolicy, RevisionSpec};

    fn graph(specs: &[(&str, &[&str])]) -> Graph {
        let specs = specs
            .iter()
            .map(|(id, down)| RevisionSpec {
                revision: id.to_string(),
                down_revisions: down.iter().map(|d| d.to_string()).collect(),
                ..RevisionSpec::default()
            })
            .collect();
        Graph::build(
            specs,
            &GraphOptions {
                heads: HeadPolicy::Any,
            },
        )
        .expect("valid")
    }

    fn parents(
        table: &'static [(&'static str, &'static [&'static str])],
    ) -> impl Fn(&str) -> Option<Vec<String>> {
        move |id| {
            table
                .iter()
                .find(|(x, _)| *x == id)
                .map(|(_, ps)| ps.iter().map(|p| p.to_string()).collect())
        }
    }

    #[test]
    fn up_to_date_and_behind() {
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"])]);
        let none = |_: &str| None;
        assert_eq!(assess(&g, &["c"], &none), Assessment::UpToDate);
        assert_eq!(
            assess(&g, &["a"], &none),
            Assessment::Behind {
                pending: vec![1, 2]
            }
        );
        assert_eq!(
            assess(&g, &[], &none),
            Assessment::Behind {
                pending: vec![0, 1, 2]
            }
        );
    }

    #[test]
    fn ahead_diverged_unknown() {
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"])]);
        // d and e were applied by a newer build on top of c.
        let newer = parents(&[("e", &["d"]), ("d", &["c"])]);
        assert_eq!(
            assess(&g, &["e"], &newer),
            Assessment::Ahead {
                unknown: vec!["e".into(), "d".into()]
            }
        );
        // x was written on b by someone else; c is not applied.
        let other = parents(&[("x", &["b"])]);
        assert_eq!(
            assess(&g, &["x"], &other),
            Assessment::Diverged {
                unknown: vec!["x".into()],
                missing: vec![2]
            }
        );
        // A newer build that added a branch on b *and* has c: ahead, not diverged.
        assert_eq!(
            assess(&g, &["c", "x"], &other),
            Assessment::Ahead {
                unknown: vec!["x".into()]
            }
        );
        let none = |_: &str| None;
        assert_eq!(
            assess(&g, &["zz"], &none),
            Assessment::Unknown {
                unknown: vec!["zz".into()]
            }
        );
    }

    #[test]
    fn inconsistent_rows() {
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"])]);
        let none = |_: &str| None;
        assert!(matches!(
            assess(&g, &["a", "b"], &none),
            Assessment::Inconsistent { .. }
        ));
    }

    #[test]
    fn drift_lists_changed_known_revisions() {
        let ours = [("a", "sha256:1"), ("b", "sha256:2")];
        let lookup = |id: &str| ours.iter().find(|(x, _)| *x == id).map(|(_, c)| *c);
        let found = drift(
            &[("a", "sha256:1"), ("b", "sha256:9"), ("z", "sha256:0")],
            lookup,
        );
        assert_eq!(
            found,
            vec![Drift {
                revision: "b".into(),
                stored: "sha256:9".into(),
                expected: "sha256:2".into()
            }]
        );
    }
}
