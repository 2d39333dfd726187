//! `check`: drift, unknown revisions, unfinished steps, pending migrations —
//! what the database needs before this binary may run on it. The exit code
//! says which (the most serious finding wins), so it gates a deploy.

use crate::cli::commands::schema;
use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::fleet::{self, FleetView};
use crate::cli::render::{rows_text, AcceptedEditJson};
use crate::cli::{DatabaseArg, Exit, FleetArgs, JsonArg};
use crate::config::AheadPolicy;
use crate::error::{Drift, Error, Unfinished};
use crate::fleet::FleetCommand;
use crate::next_step::{Naming, NextCommand};
use crate::report::{CheckReport, Standing};
use crate::schema::{diff as schema_diff, Difference};
use clap::Args;
use serde::Serialize;

/// Arguments of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// When nothing else is found: also compare the database's schema with the one the history
    /// builds at the heads (replayed into a scratch database, as `schema diff`); exit 7 when they differ.
    #[arg(long, conflicts_with_all = ["targets_file", "schemas", "schemas_query"])]
    pub schema_drift: bool,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Over a fleet (`--targets`, `--schemas`, `--jobs`, …).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Checks the database; the exit code is the finding's.
pub(super) fn run(ctx: &Context<'_>, args: &CheckArgs) -> Result<Exit, Failure> {
    if fleet::requested(&args.fleet, false)? {
        return fleet::run(
            ctx,
            &args.fleet,
            &args.db,
            FleetCommand::Check,
            FleetView::default(),
        );
    }
    let mut db = ctx.connect(&args.db)?;
    let report = ctx.migrator.check(&mut db)?;
    let mut exit = check_exit(&report, ctx.migrator.config().when_ahead);
    let mut status = check_status(&report);
    // `--schema-drift`: only a database with nothing else to report is
    // compared (one behind the heads differs from them by design).
    let differences = if args.schema_drift && exit == Exit::Success {
        let live = ctx.migrator.inspect_schema(&mut db)?;
        let history = schema::replayed(ctx, &args.db, None, "heads")?;
        let differences = schema_diff(&history, &live);
        if !differences.is_empty() {
            exit = Exit::SchemaDrift;
            status = "schema_drift";
        }
        Some(differences)
    } else {
        None
    };
    if ctx.json {
        ctx.out.json(&Document {
            schema_differences: differences.as_deref(),
            ..Document::new(ctx.name, db.redacted_url(), status, exit, &report)
        });
        return Ok(exit);
    }
    ctx.out
        .line(format_args!("database: {}", db.redacted_url()));
    let mut lines = text(&report, status, ctx.naming);
    let status_line = lines.pop();
    match &differences {
        Some(d) if d.is_empty() => {
            lines.push("schema: as the history builds it at the heads".to_string())
        }
        Some(d) => {
            lines.push("schema drift: the database's schema differs from the one the history builds at the heads (- history, + database):".to_string());
            lines.extend(d.iter().map(|d| format!("  {}", d.line())));
            lines.push(format!(
                "  next: write a migration for a change the database should keep, or undo a change made by hand; {} shows the difference",
                ctx.naming.command(&NextCommand::SchemaDiff)
            ));
        }
        None if args.schema_drift => {
            lines.push("schema: not compared (the findings above come first)".to_string())
        }
        None => {}
    }
    lines.extend(status_line);
    for line in lines {
        ctx.out.line(line);
    }
    Ok(exit)
}

/// The exit code of `check`: the most serious finding wins.
pub(in crate::cli) fn check_exit(report: &CheckReport, when_ahead: AheadPolicy) -> Exit {
    if !report.unfinished.is_empty() {
        return Exit::Unfinished;
    }
    if !report.drift.is_empty() {
        return Exit::Drift;
    }
    match report.standing {
        Standing::UpToDate => Exit::Success,
        Standing::Behind { .. } => Exit::Pending,
        Standing::Ahead { .. } if when_ahead == AheadPolicy::Allow => Exit::Success,
        Standing::Ahead { .. } | Standing::Diverged { .. } | Standing::Unknown { .. } => {
            Exit::UnknownRevisions
        }
    }
}

/// What `check` says, in one word (also the JSON `status`).
pub(in crate::cli) fn check_status(report: &CheckReport) -> &'static str {
    if !report.unfinished.is_empty() {
        "unfinished"
    } else if !report.drift.is_empty() {
        "drift"
    } else {
        match report.standing {
            Standing::UpToDate => "ok",
            Standing::Behind { .. } => "pending",
            Standing::Ahead { .. } => "ahead",
            Standing::Diverged { .. } => "diverged",
            Standing::Unknown { .. } => "unknown",
        }
    }
}

/// The findings as text, each with what to do next; the status last.
fn text(report: &CheckReport, status: &str, naming: &Naming) -> Vec<String> {
    let mut lines = Vec::new();
    for u in &report.unfinished {
        lines.push(format!("unfinished: {u}"));
    }
    if !report.unfinished.is_empty() {
        let revision = only_one(report.unfinished.iter().map(|u| &u.revision));
        lines.push(format!(
            "  next: fix what made the step fail, then {} to run the statements that did not run; or finish or undo them by hand, then {}",
            naming.invite(&NextCommand::Resume {
                revision: revision.clone()
            }),
            naming.invite(&NextCommand::Repair {
                revision,
                action: None
            })
        ));
    }
    for d in &report.drift {
        lines.push(format!("drift: {d}"));
    }
    if !report.drift.is_empty() {
        let revision = only_one(report.drift.iter().map(|d| &d.revision));
        lines.push(format!(
            "  next: an applied migration must not be edited; restore the text it was applied with, and write a new migration for the change; if the edit is deliberate and changes nothing the database has (a comment, formatting), {} to accept it",
            naming.invite(&NextCommand::AcceptEdit { revision })
        ));
    }
    for accepted in &report.accepted_edits {
        lines.push(format!("accepted edit: {accepted}"));
    }
    match &report.standing {
        Standing::UpToDate => lines.push(format!("at head: {}", rows_text(&report.rows))),
        Standing::Behind { pending } => {
            lines.push(format!(
                "pending: {} migration(s) to apply: {}",
                pending.len(),
                pending.join(", ")
            ));
            lines.push(format!(
                "  next: {} applies them",
                naming.command(&NextCommand::UpgradeHeads)
            ));
        }
        Standing::Ahead { unknown } => lines.push(
            Error::DatabaseAhead {
                unknown: unknown.clone(),
            }
            .message(naming),
        ),
        Standing::Diverged { unknown, fork } => lines.push(
            Error::DatabaseDiverged {
                unknown: unknown.clone(),
                fork: fork.clone(),
            }
            .message(naming),
        ),
        Standing::Unknown { unknown } => lines.push(
            Error::UnknownRevisions {
                unknown: unknown.clone(),
            }
            .message(naming),
        ),
    }
    lines.push(format!("status: {status}"));
    lines
}

/// The revision when there is exactly one.
fn only_one<'a>(mut revisions: impl Iterator<Item = &'a String>) -> Option<String> {
    match (revisions.next(), revisions.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

/// The document of `check`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// `ok`, `pending`, `ahead`, `diverged`, `unknown`, `drift`, `unfinished` or `schema_drift`.
    status: &'static str,
    exit_code: u8,
    /// The version table's rows.
    rows: &'a [String],
    /// In the order `upgrade heads` runs them.
    pending: &'a [String],
    /// Version-table rows the binary lacks.
    unknown: &'a [String],
    /// The newest shared revision of a diverged database.
    fork: Option<&'a str>,
    drift: Vec<DriftJson<'a>>,
    unfinished: Vec<UnfinishedJson<'a>>,
    /// Applied migrations whose edited text was accepted.
    accepted_edits: Vec<AcceptedEditJson<'a>>,
    version_table_exists: bool,
    history_table_exists: bool,
    /// With `--schema-drift`, when compared: what differs (empty: nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_differences: Option<&'a [Difference]>,
}

impl<'a> Document<'a> {
    fn new(
        command: &'static str,
        database: &'a str,
        status: &'static str,
        exit: Exit,
        report: &'a CheckReport,
    ) -> Document<'a> {
        let (pending, unknown, fork): (&[String], &[String], Option<&str>) = match &report.standing
        {
            Standing::UpToDate => (&[], &[], None),
            Standing::Behind { pending } => (pending, &[], None),
            Standing::Ahead { unknown } | Standing::Unknown { unknown } => (&[], unknown, None),
            Standing::Diverged { unknown, fork } => (&[], unknown, fork.as_deref()),
        };
        Document {
            command,
            database,
            status,
            exit_code: exit.code(),
            rows: &report.rows,
            pending,
            unknown,
            fork,
            drift: report.drift.iter().map(DriftJson::new).collect(),
            unfinished: report.unfinished.iter().map(UnfinishedJson::new).collect(),
            accepted_edits: report
                .accepted_edits
                .iter()
                .map(AcceptedEditJson::new)
                .collect(),
            version_table_exists: report.version_table_exists,
            history_table_exists: report.history_table_exists,
            schema_differences: None,
        }
    }
}

/// A drifted migration, as JSON.
#[derive(Serialize)]
struct DriftJson<'a> {
    revision: &'a str,
    file: &'a str,
    /// The checksum recorded when it was applied.
    recorded: &'a str,
    /// The checksum of the binary's text.
    current: &'a str,
}

impl<'a> DriftJson<'a> {
    fn new(d: &'a Drift) -> DriftJson<'a> {
        DriftJson {
            revision: &d.revision,
            file: &d.file,
            recorded: &d.recorded,
            current: &d.current,
        }
    }
}

/// An unfinished step, as JSON.
#[derive(Serialize)]
struct UnfinishedJson<'a> {
    revision: &'a str,
    file: Option<&'a str>,
    operation: &'a str,
    state: &'a str,
    statements_done: i32,
    statements_total: i32,
    error: Option<&'a str>,
}

impl<'a> UnfinishedJson<'a> {
    fn new(u: &'a Unfinished) -> UnfinishedJson<'a> {
        UnfinishedJson {
            revision: &u.revision,
            file: u.file.as_deref(),
            operation: &u.operation,
            state: &u.state,
            statements_done: u.statements_done,
            statements_total: u.statements_total,
            error: u.error.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::json_writer;

    fn report(standing: Standing) -> CheckReport {
        CheckReport {
            rows: vec!["r1".to_string()],
            standing,
            drift: Vec::new(),
            unfinished: Vec::new(),
            accepted_edits: Vec::new(),
            version_table_exists: true,
            history_table_exists: true,
        }
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_most_serious_finding_sets_status_and_exit_code() {
        let drift = Drift {
            revision: "r1".to_string(),
            file: "m/r1.sql".to_string(),
            recorded: "sha256:00".to_string(),
            current: "sha256:11".to_string(),
        };
        let unfinished = Unfinished {
            revision: "r2".to_string(),
            file: None,
            operation: "upgrade".to_string(),
            state: "failed".to_string(),
            statements_done: 1,
            statements_total: 3,
            error: None,
        };
        let ahead = Standing::Ahead {
            unknown: ids(&["r9"]),
        };
        let cases: Vec<(CheckReport, AheadPolicy, &str, Exit)> = vec![
            (
                report(Standing::UpToDate),
                AheadPolicy::Refuse,
                "ok",
                Exit::Success,
            ),
            (
                report(Standing::Behind {
                    pending: ids(&["r2"]),
                }),
                AheadPolicy::Refuse,
                "pending",
                Exit::Pending,
            ),
            (
                report(ahead.clone()),
                AheadPolicy::Refuse,
                "ahead",
                Exit::UnknownRevisions,
            ),
            (
                report(ahead.clone()),
                AheadPolicy::Allow,
                "ahead",
                Exit::Success,
            ),
            (
                report(Standing::Diverged {
                    unknown: ids(&["r9"]),
                    fork: None,
                }),
                AheadPolicy::Allow,
                "diverged",
                Exit::UnknownRevisions,
            ),
            (
                report(Standing::Unknown {
                    unknown: ids(&["r9"]),
                }),
                AheadPolicy::Refuse,
                "unknown",
                Exit::UnknownRevisions,
            ),
            (
                CheckReport {
                    drift: vec![drift.clone()],
                    ..report(ahead.clone())
                },
                AheadPolicy::Refuse,
                "drift",
                Exit::Drift,
            ),
            (
                CheckReport {
                    drift: vec![drift],
                    unfinished: vec![unfinished],
                    ..report(ahead)
                },
                AheadPolicy::Refuse,
                "unfinished",
                Exit::Unfinished,
            ),
        ];
        for (report, when_ahead, status, exit) in cases {
            assert_eq!(
                (check_status(&report), check_exit(&report, when_ahead)),
                (status, exit),
                "{report:?} with {when_ahead:?}"
            );
        }
    }

    #[test]
    fn the_document_lists_its_fields_in_the_documented_order() {
        let report = report(Standing::Diverged {
            unknown: ids(&["r9"]),
            fork: Some("r1".to_string()),
        });
        let document = Document::new(
            "check",
            "sqlite://app.sqlite",
            "diverged",
            Exit::UnknownRevisions,
            &report,
        );
        assert_eq!(
            json_writer::text(&document),
            "{\n  \"command\": \"check\",\n  \"database\": \"sqlite://app.sqlite\",\n  \"status\": \"diverged\",\n  \"exit_code\": 4,\n  \"rows\": [\n    \"r1\"\n  ],\n  \"pending\": [],\n  \"unknown\": [\n    \"r9\"\n  ],\n  \"fork\": \"r1\",\n  \"drift\": [],\n  \"unfinished\": [],\n  \"accepted_edits\": [],\n  \"version_table_exists\": true,\n  \"history_table_exists\": true\n}"
        );
    }
}
