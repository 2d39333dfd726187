//! One file per command, as cargo's `commands/<name>.rs`: the command's clap
//! arguments (`…Args`) and its `run`, which reads them, asks the library
//! ([`Migrator`](crate::Migrator), the core) and prints the answer as text or
//! as one JSON document. A command file reads top to bottom; the work it asks
//! for is done, and tested, elsewhere.

pub(super) mod adopt_diesel;
pub(super) mod branches;
pub(super) mod check;
pub(super) mod current;
pub(super) mod downgrade;
pub(super) mod heads;
pub(super) mod history;
pub(super) mod log;
pub(super) mod print_schema;
pub(super) mod repair;
pub(super) mod schema;
pub(super) mod show;
pub(super) mod stamp;
pub(super) mod upgrade;

use super::context::Context;
use super::failure::Failure;
use super::{Command, Exit};

/// Runs `command` with what `ctx` holds.
pub(super) fn run(command: &Command, ctx: &Context<'_>) -> Result<Exit, Failure> {
    match command {
        Command::Show(args) => show::run(ctx, args),
        Command::Heads(args) => heads::run(ctx, args),
        Command::Branches(args) => branches::run(ctx, args),
        Command::History(args) => history::run(ctx, args),
        Command::Current(args) => current::run(ctx, args),
        Command::Upgrade(args) => upgrade::run(ctx, args),
        Command::Downgrade(args) => downgrade::run(ctx, args),
        Command::Stamp(args) => stamp::run(ctx, args),
        Command::Check(args) => check::run(ctx, args),
        Command::Log(args) => log::run(ctx, args),
        Command::Repair(args) => repair::run(ctx, args),
        Command::AdoptDiesel(args) => adopt_diesel::run(ctx, args),
        Command::Schema(args) => schema::run(ctx, args),
        Command::PrintSchema(args) => print_schema::run(ctx, args),
    }
}
