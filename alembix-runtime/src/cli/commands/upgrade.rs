//! `upgrade TARGET [--sql]`: apply migrations up to TARGET, a line for each
//! with its duration; with `--sql`, print the script instead (no connection).

use crate::cli::apply::apply;
use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::fleet::{self, FleetView};
use crate::cli::{DatabaseArg, Exit, FleetArgs, JsonArg, OfflineArgs};
use crate::error::Direction;
use crate::fleet::FleetCommand;
use crate::offline::OfflineCommand;
use clap::Args;

/// Arguments of `upgrade`.
#[derive(Debug, Clone, Args)]
pub struct UpgradeArgs {
    /// `heads`, `head`, `<rev>` or prefix, `+N`, `<label>@head`, `<rev>+N`; with --sql also `FROM:TO`.
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

/// Upgrades the database (see [`apply`]), or prints the `--sql` script.
pub(super) fn run(ctx: &Context<'_>, args: &UpgradeArgs) -> Result<Exit, Failure> {
    if fleet::requested(&args.fleet, args.offline.sql)? {
        let command = FleetCommand::Upgrade(&args.target);
        return fleet::run(ctx, &args.fleet, &args.db, command, FleetView::default());
    }
    if args.offline.sql {
        let command = OfflineCommand::Upgrade(&args.target);
        return ctx.print_script(args.offline, &args.db, command, &args.target);
    }
    apply(ctx, Direction::Upgrade, &args.target, &args.db)
}
