//! `cargo xtask`: developer commands over the workspace's `migrations/` folder.
//!
//! `new-migration` and `merge` write files; they load the folder with the same
//! core code the macro uses, never overwrite a file, and check that the history
//! with the new file still validates before writing it. The read and apply
//! commands (`heads`, `history`, `upgrade`, `check`, …) are the command set of
//! `alembix_runtime::cli`, the same one a service binary mounts as
//! `<binary> migrate …`, run here over the folder instead of an embedded set.

mod bench;
mod import_alembic;
mod import_diesel;
mod import_output;
mod python;
mod scaffold;

use alembix_runtime::cli::Runner;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Developer commands for this workspace's migrations.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    /// The migrations folder (default: the workspace's `migrations/`).
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
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
    /// Benchmark against Alembic, diesel_migrations and raw SQL; writes BENCHMARKS.md.
    Bench(bench::BenchArgs),
    #[command(flatten)]
    Migrate(alembix_runtime::cli::Command),
}

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// `--dir` made absolute against the current directory, or the workspace's folder.
fn migrations_dir(dir: Option<PathBuf>) -> PathBuf {
    match dir {
        Some(d) if d.is_relative() => std::env::current_dir().map_or(d.clone(), |cwd| cwd.join(d)),
        Some(d) => d,
        None => workspace_root().join("migrations"),
    }
}

fn main() -> ExitCode {
    let cli: Cli = alembix_runtime::cli::parse();
    let result = match cli.command {
        Command::Migrate(command) => {
            return Runner::folder(migrations_dir(cli.dir)).run(&command).into()
        }
        Command::ImportAlembic(_) | Command::ImportDiesel(_) if cli.dir.is_some() => {
            Err("the importers take `--out DIR` for the folder they write".to_string())
        }
        Command::Bench(_) if cli.dir.is_some() => {
            Err("`bench` generates its own histories; it takes no --dir".to_string())
        }
        Command::Bench(args) => bench::run(&args),
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
