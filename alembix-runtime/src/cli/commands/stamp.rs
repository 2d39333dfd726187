//! `stamp TARGET… [--purge] [--sql]`: set the version table to TARGET(s)
//! without running any migration; with `--sql`, print the script instead.

use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::fleet::{self, FleetView};
use crate::cli::render::{rows_text, ReportJson};
use crate::cli::{DatabaseArg, Exit, FleetArgs, JsonArg, OfflineArgs};
use crate::fleet::FleetCommand;
use crate::offline::OfflineCommand;
use crate::report::StampMode;
use clap::Args;
use serde::Serialize;

/// Arguments of `stamp`.
#[derive(Debug, Clone, Args)]
pub struct StampArgs {
    /// The revision(s) the database is at: `heads`, `<rev>`, `base`, …; with --sql one `[FROM:]TO`.
    #[arg(required = true, allow_negative_numbers = true)]
    pub targets: Vec<String>,
    /// Delete every row of the version table first, unknown revisions included.
    #[arg(long)]
    pub purge: bool,
    /// Offline mode (`--sql`, `--dialect`).
    #[command(flatten)]
    pub offline: OfflineArgs,
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

/// The document of `stamp`.
#[derive(Serialize)]
struct Document<'a> {
    command: &'static str,
    /// The URL, password masked.
    database: &'a str,
    /// The targets as typed.
    targets: &'a [String],
    purge: bool,
    #[serde(flatten)]
    report: ReportJson<'a>,
}

/// Stamps the database, a line per change of the version table, or prints
/// the `--sql` script.
pub(super) fn run(ctx: &Context<'_>, args: &StampArgs) -> Result<Exit, Failure> {
    if fleet::requested(&args.fleet, args.offline.sql)? {
        let targets: Vec<&str> = args.targets.iter().map(String::as_str).collect();
        let mode = if args.purge {
            StampMode::Purge
        } else {
            StampMode::Keep
        };
        let command = FleetCommand::Stamp(&targets, mode);
        return fleet::run(ctx, &args.fleet, &args.db, command, FleetView::default());
    }
    if args.offline.sql {
        if args.purge {
            return Err(Failure::usage(
                "`stamp --sql --purge` is not supported: the script cannot know which rows to delete; write `DELETE FROM alembic_version` yourself, or stamp online".to_string(),
            ));
        }
        let [target] = args.targets.as_slice() else {
            return Err(Failure::usage(
                "`stamp --sql` takes one [FROM:]TO target; run it once per target".to_string(),
            ));
        };
        return ctx.print_script(
            args.offline,
            &args.db,
            OfflineCommand::Stamp(target),
            target,
        );
    }
    let mut db = ctx.connect(&args.db)?;
    let targets: Vec<&str> = args.targets.iter().map(String::as_str).collect();
    let mode = if args.purge {
        StampMode::Purge
    } else {
        StampMode::Keep
    };
    let report = ctx.migrator.stamp(&mut db, &targets, mode)?;
    if ctx.json {
        ctx.out.json(&Document {
            command: ctx.name,
            database: db.redacted_url(),
            targets: &args.targets,
            purge: args.purge,
            report: ReportJson::new(&report),
        });
        return Ok(Exit::Success);
    }
    for step in &report.steps {
        ctx.out.line(format_args!(
            "Running stamp_revision {} -> {}",
            rows_text(&step.removed),
            rows_text(&step.added)
        ));
    }
    ctx.out.line(format_args!(
        "stamped: the version table now holds {} (was {}); no migration ran",
        rows_text(&report.rows_after),
        rows_text(&report.rows_before)
    ));
    Ok(Exit::Success)
}
