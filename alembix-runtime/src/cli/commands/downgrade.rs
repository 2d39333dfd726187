//! `downgrade TARGET [--sql]`: revert migrations down to TARGET, a line for
//! each with its duration; with `--sql FROM:TO`, print the script instead.

use crate::cli::apply::apply;
use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::fleet::{self, FleetView};
use crate::cli::{DatabaseArg, Exit, FleetArgs, JsonArg, OfflineArgs};
use crate::error::Direction;
use crate::fleet::FleetCommand;
use crate::offline::OfflineCommand;
use clap::Args;

/// Arguments of `downgrade`.
#[derive(Debug, Clone, Args)]
pub struct DowngradeArgs {
    /// `-N`, `<rev>` or prefix, `base`, `<label>@-N`, `<label>@base`; with --sql `FROM:TO` (required).
    #[arg(allow_negative_numbers = true)]
    pub target: String,
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

/// Downgrades the database (see [`apply`]), or prints the `--sql` script.
pub(super) fn run(ctx: &Context<'_>, args: &DowngradeArgs) -> Result<Exit, Failure> {
    if fleet::requested(&args.fleet, args.offline.sql)? {
        let command = FleetCommand::Downgrade(&args.target);
        return fleet::run(ctx, &args.fleet, &args.db, command, FleetView::default());
    }
    if args.offline.sql {
        let command = OfflineCommand::Downgrade(&args.target);
        return ctx.print_script(args.offline, &args.db, command, &args.target);
    }
    apply(ctx, Direction::Downgrade, &args.target, &args.db)
}
