//! Fail closed: what the database says, judged against the binary's history
//! before anything is applied — unfinished steps, checksum drift, and revisions
//! the binary does not contain (ahead vs diverged, told apart by the parents
//! the history table recorded).

use crate::error::{Drift, Unfinished};
use crate::version_table::DbState;
use alembix_core::plan::PlanError;
use alembix_core::{status, MigrationSet, RevIdx, SqlDialect};

/// How the database's unknown revisions relate to the binary's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unknown {
    /// Every row is a revision of the binary.
    None,
    /// The unknown revisions build on everything the binary has: a newer
    /// binary wrote them. Holds the version-table rows the binary lacks.
    Ahead(Vec<String>),
    /// The unknown revisions build on a revision that is not the binary's
    /// newest; the binary has revisions the database lacks.
    Diverged {
        /// The version-table rows the binary lacks.
        unknown: Vec<String>,
        fork: Option<String>,
    },
    /// The history table does not say where the unknown revisions come from.
    Unexplained(Vec<String>),
    /// Every row is known but the rows cannot be planned from.
    Inconsistent(PlanError),
}

/// Everything wrong (or not) with a database state, for a given binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assessment {
    pub unfinished: Vec<Unfinished>,
    pub drift: Vec<Drift>,
    pub unknown: Unknown,
}

/// Judges `state` against `set`.
pub(crate) fn assess(set: &MigrationSet, state: &DbState, dialect: SqlDialect) -> Assessment {
    let graph = set.graph();
    let mut unfinished: Vec<Unfinished> = state
        .latest
        .iter()
        .filter(|(_, l)| l.is_unfinished())
        .map(|(revision, l)| Unfinished {
            revision: revision.clone(),
            file: graph.index_of(revision).map(|i| set.file(i).file.clone()),
            operation: l.operation.clone(),
            state: l.state.clone(),
            statements_done: l.statements_done,
            statements_total: l.statements_total,
            error: l.detail.clone(),
        })
        .collect();
    unfinished.sort_by(|a, b| a.revision.cmp(&b.revision));

    // Drift: every applied revision (ancestors of the known rows, dependencies
    // included) whose latest history row recorded another checksum.
    let known: Vec<RevIdx> = state
        .rows
        .iter()
        .filter_map(|r| graph.index_of(r))
        .collect();
    let applied = graph.ancestor_mask(&known, true);
    let recorded: Vec<(&str, &str)> = applied
        .iter()
        .enumerate()
        .filter(|(_, is_applied)| **is_applied)
        .filter_map(|(i, _)| {
            let id = graph.rev(i).id.as_str();
            state
                .latest
                .get(id)
                .filter(|l| l.records_checksum() && !l.checksum.is_empty())
                .map(|l| (id, l.checksum.as_str()))
        })
        .collect();
    let drift = status::drift(&recorded, |id| {
        graph
            .index_of(id)
            .map(|i| set.file(i).checksum(dialect).as_str())
    })
    .into_iter()
    .map(|d| Drift {
        file: graph
            .index_of(&d.revision)
            .map(|i| set.file(i).file.clone())
            .unwrap_or_default(),
        revision: d.revision,
        recorded: d.stored,
        current: d.expected,
    })
    .collect();

    let rows: Vec<&str> = state.rows.iter().map(String::as_str).collect();
    let parents = |id: &str| state.latest.get(id).map(|l| l.parents.clone());
    // The core follows the unknown rows' recorded parents down to known
    // revisions to tell ahead from diverged; what a reader needs named is the
    // rows themselves (one row may stand on hundreds of unknown revisions).
    let rows_only = |mut unknown: Vec<String>| {
        unknown.retain(|id| rows.contains(&id.as_str()));
        unknown
    };
    let unknown = match status::assess(graph, &rows, &parents) {
        status::Assessment::UpToDate | status::Assessment::Behind { .. } => Unknown::None,
        status::Assessment::Ahead { unknown } => Unknown::Ahead(rows_only(unknown)),
        status::Assessment::Diverged { unknown, missing } => {
            // Where the histories split: the newest shared revisions (applied
            // ones none of whose children is applied).
            let mut present = vec![true; graph.len()];
            for m in missing {
                present[m] = false;
            }
            let tips: Vec<String> = (0..graph.len())
                .filter(|&i| present[i] && graph.rev(i).children.iter().all(|&c| !present[c]))
                .map(|i| graph.rev(i).id.clone())
                .collect();
            Unknown::Diverged {
                unknown: rows_only(unknown),
                fork: (!tips.is_empty()).then(|| tips.join(", ")),
            }
        }
        status::Assessment::Unknown { unknown } => Unknown::Unexplained(unknown),
        status::Assessment::Inconsistent { error } => Unknown::Inconsistent(error),
    };
    Assessment {
        unfinished,
        drift,
        unknown,
    }
}
