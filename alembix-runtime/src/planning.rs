//! The bridge to the core's planner ([`alembix_core::plan`]): its plans become
//! the steps the runtime executes, its errors become [`Error::Plan`].

use crate::error::{Error, Result};
use alembix_core::plan::{self, Direction, HeadMaintainer, Plan};
use alembix_core::{Graph, RevIdx};

/// One step to execute: a migration (or a stamp) and its version-table change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedStep {
    /// The revision whose SQL runs; for a stamp step, the revision it moves to
    /// (if any) — no SQL runs.
    pub revision: Option<RevIdx>,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// A stamp step: version table only, no SQL.
    pub stamp: bool,
    /// Version rows that disappear.
    pub remove: Vec<String>,
    /// Version rows that appear.
    pub add: Vec<String>,
    /// Offline only: emit the version table's `CREATE TABLE` before this step.
    pub create_table: bool,
}

fn convert(graph: &Graph, plan: Plan, stamp: bool) -> Vec<PlannedStep> {
    plan.steps
        .into_iter()
        .map(|s| PlannedStep {
            revision: if stamp {
                s.add.first().and_then(|a| graph.index_of(a))
            } else {
                s.revision
            },
            direction: s.direction,
            stamp,
            remove: s.remove,
            add: s.add,
            create_table: s.create_table,
        })
        .collect()
}

/// Steps of `upgrade <target>` from `rows`.
pub(crate) fn upgrade(graph: &Graph, rows: &[&str], target: &str) -> Result<Vec<PlannedStep>> {
    let plan = plan::plan_upgrade(graph, rows, target).map_err(Error::Plan)?;
    Ok(convert(graph, plan, false))
}

/// Steps of `downgrade <target>` from `rows`.
pub(crate) fn downgrade(graph: &Graph, rows: &[&str], target: &str) -> Result<Vec<PlannedStep>> {
    let plan = plan::plan_downgrade(graph, rows, target).map_err(Error::Plan)?;
    Ok(convert(graph, plan, false))
}

/// Steps of `stamp <targets>` from `rows` (a purge has been done by the caller:
/// it passes no rows).
pub(crate) fn stamp(graph: &Graph, rows: &[&str], targets: &[&str]) -> Result<Vec<PlannedStep>> {
    let plan = plan::plan_stamp(graph, rows, targets, false).map_err(Error::Plan)?;
    Ok(convert(graph, plan, true))
}

/// Offline `upgrade [start:]target`.
pub(crate) fn upgrade_offline(graph: &Graph, range: &str) -> Result<(Plan, Vec<PlannedStep>)> {
    let plan = plan::plan_upgrade_offline(graph, range).map_err(Error::Plan)?;
    let steps = convert(graph, plan.clone(), false);
    Ok((plan, steps))
}

/// Offline `downgrade start:target`.
pub(crate) fn downgrade_offline(graph: &Graph, range: &str) -> Result<(Plan, Vec<PlannedStep>)> {
    let plan = plan::plan_downgrade_offline(graph, range).map_err(Error::Plan)?;
    let steps = convert(graph, plan.clone(), false);
    Ok((plan, steps))
}

/// Offline `stamp [start:]target…`.
pub(crate) fn stamp_offline(graph: &Graph, targets: &[&str]) -> Result<(Plan, Vec<PlannedStep>)> {
    let plan = plan::plan_stamp_offline(graph, targets).map_err(Error::Plan)?;
    let steps = convert(graph, plan.clone(), true);
    Ok((plan, steps))
}

/// The rows a database has after `upgrade heads`, sorted: the revisions
/// nothing builds on and nothing depends on (every other revision is implied
/// by one of them). Equal to the planner's `rows_after` (tested), without
/// planning, so that constructing a `Migrator` at launch costs nothing.
pub(crate) fn head_rows(graph: &Graph) -> Vec<String> {
    let mut rows = graph.ids(graph.real_heads());
    rows.sort();
    rows
}

/// Alembic's `current`: the rows and the branch tips they imply.
pub(crate) fn current(graph: &Graph, rows: &[&str]) -> Result<Vec<String>> {
    let revs = plan::current(graph, rows).map_err(Error::Plan)?;
    Ok(graph.ids(&revs))
}

/// The single step of revision `idx` in `direction` from `rows` (for `repair`).
pub(crate) fn single_step(
    graph: &Graph,
    rows: &[&str],
    idx: RevIdx,
    direction: Direction,
) -> PlannedStep {
    let row_idx: Vec<RevIdx> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    let mut heads = HeadMaintainer::new(graph, &row_idx);
    let change = match direction {
        Direction::Upgrade => heads.upgrade(idx),
        Direction::Downgrade => heads.downgrade(idx),
    };
    PlannedStep {
        revision: Some(idx),
        direction,
        stamp: false,
        remove: graph.ids(&change.remove),
        add: graph.ids(&change.add),
        create_table: false,
    }
}

/// `history [range]`: revisions newest first.
pub(crate) fn history(graph: &Graph, range: Option<&str>, rows: &[&str]) -> Result<Vec<RevIdx>> {
    plan::history(graph, range, rows).map_err(Error::Plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alembix_core::{GraphOptions, MigrationSet};
    use std::path::Path;

    #[test]
    fn head_rows_are_what_upgrade_heads_leaves() {
        for fixture in ["linear", "branched"] {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
            let sources = alembix_core::scan::scan_folder(&root, fixture).unwrap_or_default();
            let Ok(set) = MigrationSet::from_sources(&sources, &GraphOptions::default()) else {
                unreachable!("fixture {fixture} is valid")
            };
            let mut planned = plan::plan_upgrade(set.graph(), &[], "heads")
                .map(|p| p.rows_after)
                .unwrap_or_default();
            planned.sort();
            assert!(!planned.is_empty());
            assert_eq!(head_rows(set.graph()), planned, "{fixture}");
        }
    }
}
