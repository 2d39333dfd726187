//! `cargo xtask`: the alembix command set over this workspace's `migrations/`
//! (found from the current directory, as `alembix-cli` finds it for any
//! project), and the benchmark suite.
//!
//! `new-migration`, `merge`, `import-alembic`, `import-diesel` and the read and
//! apply commands (`heads`, `history`, `upgrade`, `check`, …) are
//! `alembix-cli`'s, mounted as any project mounts them in its own xtask; only
//! `bench`, `bench-import`, `bench-fleet` and `bench-schema` are this
//! workspace's own.

mod bench;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Developer commands for this workspace's migrations.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    dir: alembix_cli::DirArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Alembix(alembix_cli::Command),
    /// Benchmark against Alembic, diesel_migrations and raw SQL; writes BENCHMARKS.md.
    Bench(bench::BenchArgs),
    /// Time `import-alembic` on a generated history of a few hundred revisions,
    /// beside Alembic's own offline run; writes BENCHMARKS-import.md.
    BenchImport(bench::ImportBenchArgs),
    /// Bring a fleet of PostgreSQL tenant schemas to head in one command, beside
    /// parallel psql sessions; writes BENCHMARKS-fleet.md.
    BenchFleet(bench::FleetBenchArgs),
    /// Time the schema commands (schema dump, print-schema, --check, autogenerate)
    /// beside diesel_cli and Alembic; writes BENCHMARKS-schema.md.
    BenchSchema(bench::SchemaBenchArgs),
}

/// The workspace root, where `bench` keeps its scratch crates and writes its report.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() -> ExitCode {
    let cli: Cli = alembix_cli::parse("cargo xtask");
    let dir = cli.dir.dir.as_deref();
    let result = match cli.command {
        Command::Alembix(command) => return alembix_cli::run(&command, dir, "cargo xtask").into(),
        Command::Bench(_) if dir.is_some() => {
            Err("`bench` generates its own histories; it takes no --dir".to_string())
        }
        Command::Bench(args) => bench::run(&args),
        Command::BenchImport(_) if dir.is_some() => {
            Err("`bench-import` generates its own project; it takes no --dir".to_string())
        }
        Command::BenchImport(args) => bench::run_import(&args),
        Command::BenchFleet(_) if dir.is_some() => {
            Err("`bench-fleet` generates its own history; it takes no --dir".to_string())
        }
        Command::BenchFleet(args) => bench::run_fleet(&args),
        Command::BenchSchema(_) if dir.is_some() => Err(
            "`bench-schema` generates its own histories and reads the example's; it takes no --dir"
                .to_string(),
        ),
        Command::BenchSchema(args) => bench::run_schema(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
