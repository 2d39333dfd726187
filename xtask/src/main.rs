//! `cargo xtask`: developer commands over the workspace's `migrations/` folder.
//!
//! `new-migration` and `merge` write files; they load the folder with the same
//! core code the macro uses, never overwrite a file, and check that the history
//! with the new file still validates before writing it.

mod import_alembic;
mod import_diesel;
mod import_output;
mod python;
mod scaffold;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Developer commands for this workspace's migrations.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the next migration file, chained onto the head.
    NewMigration(scaffold::NewMigration),
    /// Write a merge revision over all heads, or the ones given.
    Merge(scaffold::Merge),
    /// Import an Alembic project's revisions: same ids, parents, labels, messages.
    ImportAlembic(import_alembic::ImportAlembic),
    /// Import a diesel-cli migrations folder as a linear chain, in diesel's order.
    ImportDiesel(import_diesel::ImportDiesel),
}

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::NewMigration(args) => scaffold::new_migration(&args),
        Command::Merge(args) => scaffold::merge(&args),
        Command::ImportAlembic(args) => import_alembic::import_alembic(&args),
        Command::ImportDiesel(args) => import_diesel::import_diesel(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
