//! An `upgrade` or `downgrade` run, which differ only in their direction: a
//! line per migration as it is applied (with `[k/n]` on a terminal), then the
//! summary line, or the run's JSON document.

use super::context::Context;
use super::failure::Failure;
use super::render::{self, ReportJson};
use super::{DatabaseArg, Exit, Progress};
use crate::backend::Database;
use crate::error::Direction;
use crate::report::Report;
use serde::Serialize;
use std::io::IsTerminal;

/// Moves the database to `target` in `direction`, printing as it goes.
pub(super) fn apply(
    ctx: &Context<'_>,
    direction: Direction,
    target: &str,
    db_arg: &DatabaseArg,
) -> Result<Exit, Failure> {
    let mut db = ctx.connect(db_arg)?;
    // `upgrade heads` on a database already there (a pre-deploy step, every
    // tenant of a fleet at head): the launch's one read, no lock, no graph.
    if direction == Direction::Upgrade && target == "heads" {
        let started = std::time::Instant::now();
        if let Some(rows) = ctx.migrator.at_heads(&mut db)? {
            let report = Report {
                rows_before: rows.clone(),
                rows_after: rows,
                duration: started.elapsed(),
                ..Report::default()
            };
            print(ctx, direction, target, &db, &report);
            return Ok(Exit::Success);
        }
    }
    // The progress lines go to stdout directly: nothing of ours before them.
    ctx.out.flush();
    let progress = Progress::new(ctx.set()?, !ctx.json);
    if !ctx.json && std::io::stdout().is_terminal() {
        progress.expect(expected_steps(ctx, &mut db, direction, target));
    }
    let result = progress.watch(|| match direction {
        Direction::Upgrade => ctx.migrator.upgrade(&mut db, target),
        Direction::Downgrade => ctx.migrator.downgrade(&mut db, target),
    });
    progress.finish(result.as_ref().ok());
    let report = result?;
    print(ctx, direction, target, &db, &report);
    Ok(Exit::Success)
}

/// The run's summary line, or its JSON document.
fn print(ctx: &Context<'_>, direction: Direction, target: &str, db: &Database, report: &Report) {
    if ctx.json {
        ctx.out.json(&RunDocument {
            command: ctx.name,
            database: db.redacted_url(),
            target,
            report: ReportJson::new(report),
        });
    } else {
        ctx.out.line(summary(direction, report));
    }
}

/// The document of `upgrade` and `downgrade`.
#[derive(Serialize)]
struct RunDocument<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// The target as typed.
    target: &'a str,
    #[serde(flatten)]
    report: ReportJson<'a>,
}

/// The steps the run is expected to take, for the terminal's `[k/n]`.
fn expected_steps(
    ctx: &Context<'_>,
    db: &mut Database,
    direction: Direction,
    target: &str,
) -> Vec<(String, Direction)> {
    let (Ok(current), Ok(set)) = (ctx.migrator.current(db), ctx.set()) else {
        return Vec::new();
    };
    let graph = set.graph();
    let rows: Vec<&str> = current.rows.iter().map(String::as_str).collect();
    let plan = match direction {
        Direction::Upgrade => alembix_core::plan_upgrade(graph, &rows, target),
        Direction::Downgrade => alembix_core::plan_downgrade(graph, &rows, target),
    };
    plan.map(|p| {
        p.steps
            .iter()
            .filter_map(|s| s.revision.map(|r| (graph.rev(r).id.clone(), s.direction)))
            .collect()
    })
    .unwrap_or_default()
}

/// The last line of an upgrade or downgrade.
fn summary(direction: Direction, report: &Report) -> String {
    let n = report.steps.len();
    let at = render::rows_text(&report.rows_after);
    let adopted = if report.adopted.is_empty() {
        String::new()
    } else {
        format!(
            "adopted {} revision(s) that another tool (Alembic) applied, without running them: {}\n",
            report.adopted.len(),
            report.adopted.join(", ")
        )
    };
    adopted
        + &match (direction, n) {
            (_, 0) => format!("nothing to do: the database is at {at}"),
            (Direction::Upgrade, _) => format!(
                "upgraded to {at}: {n} migration(s) in {}",
                render::millis(report.duration)
            ),
            (Direction::Downgrade, _) => format!(
                "downgraded to {at}: {n} migration(s) reverted in {}",
                render::millis(report.duration)
            ),
        }
}

#[cfg(test)]
mod tests {
    use super::super::json_writer;
    use super::*;

    #[test]
    fn a_run_that_adopted_revisions_says_so() {
        let report = Report {
            rows_after: vec!["r6".to_string()],
            adopted: vec!["r1".to_string(), "r2".to_string()],
            ..Report::default()
        };
        assert_eq!(
            summary(Direction::Upgrade, &report),
            "adopted 2 revision(s) that another tool (Alembic) applied, without running them: r1, r2\nnothing to do: the database is at r6"
        );
        let json = json_writer::text(&ReportJson::new(&report));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(value["adopted"], serde_json::json!(["r1", "r2"]), "{json}");
    }

    #[test]
    fn a_run_document_lists_its_fields_in_the_documented_order() {
        let report = Report {
            rows_before: vec!["r5".to_string()],
            rows_after: vec!["r6".to_string()],
            ..Report::default()
        };
        let document = RunDocument {
            command: "upgrade",
            database: "sqlite://app.sqlite",
            target: "heads",
            report: ReportJson::new(&report),
        };
        assert_eq!(
            json_writer::text(&document),
            "{\n  \"command\": \"upgrade\",\n  \"database\": \"sqlite://app.sqlite\",\n  \"target\": \"heads\",\n  \"rows_before\": [\n    \"r5\"\n  ],\n  \"rows_after\": [\n    \"r6\"\n  ],\n  \"duration_ms\": 0.000,\n  \"adopted\": [],\n  \"steps\": []\n}"
        );
    }
}
