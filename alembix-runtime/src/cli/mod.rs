//! The commands people know from Alembic, defined once with clap and mounted
//! anywhere: as `cargo xtask <command>` over a folder, and as
//! `<binary> migrate <command>` in any binary that embeds its migrations.
//!
//! ```no_run
//! use clap::{Parser, Subcommand};
//! use alembix_runtime::cli::{MigrateArgs, Runner};
//! use alembix_runtime::{EmbeddedMigrations, Migrations};
//!
//! # static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Option<Command>,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     /// Alembic's commands over the migrations built into this binary.
//!     Migrate(MigrateArgs),
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     // `cli::parse` is clap's `Cli::parse()`, but a usage error under
//!     // `--json` is one JSON document too.
//!     match alembix_runtime::cli::parse::<Cli>().command {
//!         Some(Command::Migrate(args)) => Runner::new(Migrations::embedded(&MIGRATIONS)).run(&args.command).into(),
//!         None => std::process::ExitCode::SUCCESS, // the service itself
//!     }
//! }
//! ```
//!
//! # Commands
//!
//! | command | needs a database | what it does |
//! | --- | --- | --- |
//! | `show REV` | only for `current` | one or more revisions from any identifier (`ae10`, `label@head`, `heads`) |
//! | `heads [-v] [--resolve-dependencies]` | no | the heads |
//! | `branches [-v]` | no | branch points and the revisions they branch into |
//! | `history [-r A:B] [-v] [-i]` | with `-i` or `current` in the range | revisions newest first |
//! | `current [-v] [--check-heads]` | yes | the version-table rows, and whether the database is at head |
//! | `upgrade TARGET [--sql]` | unless `--sql` | apply migrations (a line per migration with its duration) |
//! | `downgrade TARGET [--sql]` | unless `--sql` | revert migrations |
//! | `stamp TARGET… [--purge] [--sql]` | unless `--sql` | set the version table without running SQL |
//! | `check [--schema-drift]` | yes | drift, unknown revisions, unfinished steps, pending work; the exit code says which; with `--schema-drift`, when nothing else, the schema against the history's at the heads |
//! | `repair REV --completed/--rolled-back/--resume/--accept-edit --reason …` | yes | the audited ways out of a refused launch: record what a person did about a failed non-transactional step, run its statements that did not run, or accept a deliberate edit of an applied migration |
//! | `log [-n N]` | yes | the history table, newest first: what ran, when (UTC), how long, how it ended, which program |
//! | `adopt-diesel` | yes | take over a database diesel_migrations migrated: its versions become version rows |
//! | `schema dump [--revision REV] [--dialect D]` | a scratch one | the schema the history builds, replayed into a scratch database (SQLite in memory, or created on the `--db` server and dropped) |
//! | `schema dump --live` | yes | the database's schema, one line per item (see [`crate::schema`]) |
//! | `schema diff [--from history\|live] [--to history\|live]` | yes | what differs between the history at the heads and the database; exit `7` when anything does |
//! | `print-schema [--revision REV] [--dialect D] [--output FILE] [--check FILE]` | a scratch one | diesel's `schema.rs` for the history, the text `diesel print-schema` prints (see [`crate::schema::schema_rs`]); `--check FILE` exits `7` with a unified diff when FILE is stale |
//!
//! Each command is one file, `commands/<name>.rs` (`adopt-diesel` is
//! `commands/adopt_diesel.rs`): its clap arguments and its `run`, which reads
//! them, asks the library ([`Migrator`](crate::Migrator), the core) to do the
//! work, and prints the answer.
//!
//! `--db URL` (or `DATABASE_URL`, or the binary's default) selects the
//! database: `sqlite://file`, `postgres://user@host/db`, `mysql://user@host/db`.
//! Its password is never printed. `--json` prints one JSON document on stdout
//! instead of text; field names are stable (see the README). `--sql` takes its
//! dialect from `--dialect`, or from the scheme of the URL without connecting.
//!
//! `upgrade`, `downgrade`, `stamp`, `current` and `check` also run over a
//! fleet: `--targets FILE` (URLs, each optionally with a schema), `--schemas
//! PATTERN` or `--schemas-query SQL` (the schemas of the `--db` server), with
//! `--jobs`, `--canary` and `--keep-going`; a line per target (a JSON line with
//! `--json`), a summary, and one exit code ([`Migrator::fleet`](crate::Migrator::fleet)).
//!
//! # Exit codes
//!
//! See [`Exit`]: `0` success, `1` failure, `2` usage, and for `check` (and any
//! command refused for the same reason) `3` pending, `4` unknown revisions
//! (ahead, diverged, or of unknown origin), `5` drift, `6` unfinished step,
//! `7` schema drift (`schema diff`, `check --schema-drift`, `print-schema --check`).
//!
//! # Output, and a reader that goes away
//!
//! Results go to stdout, errors and warnings to stderr, written through locked
//! handles; nothing here uses `print!`, so nothing panics when a write fails.
//! When stdout's reader closes it early (`myapp migrate history | head -1`),
//! the output simply ends there: nothing more is written, nothing is said on
//! stderr, and the exit code is the one the command would have had with its
//! output read to the end — `0` for `history`, the finding's code for `check`
//! (so `check | head -1` still gates a deploy), and a running `upgrade` is not
//! interrupted: its migrations are applied and it exits `0`. It is not `141`
//! (128 + SIGPIPE, what a C program killed by the signal returns): Rust ignores
//! SIGPIPE, and under `set -o pipefail` `history | head` should succeed. Any
//! other write error (a full disk behind `> file`) is said on stderr and the
//! command exits `1`, as its output is incomplete.
//!
//! # Where things are
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | [`Command`], [`MigrateArgs`], these docs |
//! | `commands/<name>.rs` | one command: its `…Args` and its `run` |
//! | `args.rs` | the options several commands share: `--db`, `--json`, `--sql`/`--dialect`, the fleet's |
//! | `runner.rs` | [`Runner`]: where the history comes from, its configuration, running a command |
//! | `source.rs` | loading the history (embedded, or a folder, read leniently for the commands that only read it) |
//! | `context.rs` | what a command's `run` has to work with, and the steps several share (the database URL, an offline script) |
//! | `apply.rs` | an `upgrade` or `downgrade` run: progress, summary, JSON document |
//! | `fleet.rs` | a command over a fleet (`--targets`, `--schemas`, `--schemas-query`): a line or JSON line per target, `[k/n]` on a terminal, the summary, one exit code |
//! | `exit.rs`, `failure.rs` | [`Exit`] codes; why a command failed, and its JSON error document |
//! | `render.rs` | how revisions and runs read: Alembic's text lines and blocks, and their JSON objects |
//! | `json_writer.rs` | how a `--json` document is written (serde_json, pretty-printed) |
//! | `stdio.rs` | the locked stdout/stderr writer that survives a reader going away |
//! | `progress.rs` | [`Progress`]: a line per migration while a run is under way |
//! | `usage.rs` | [`parse`]: clap's parsing, with a usage error under `--json` as JSON too |

mod apply;
mod args;
mod commands;
mod context;
mod exit;
mod failure;
mod fleet;
mod json_writer;
mod progress;
mod render;
mod runner;
mod source;
mod stdio;
mod usage;

pub use args::{DatabaseArg, DialectArg, FleetArgs, JsonArg, OfflineArgs};
pub use commands::adopt_diesel::AdoptDieselArgs;
pub use commands::branches::BranchesArgs;
pub use commands::check::CheckArgs;
pub use commands::current::CurrentArgs;
pub use commands::downgrade::DowngradeArgs;
pub use commands::heads::HeadsArgs;
pub use commands::history::{GraphFormat, HistoryArgs};
pub use commands::log::LogArgs;
pub use commands::print_schema::PrintSchemaArgs;
pub use commands::repair::RepairArgs;
pub use commands::schema::{SchemaAction, SchemaArgs, SchemaDiffArgs, SchemaDumpArgs, Side};
pub use commands::show::ShowArgs;
pub use commands::stamp::StampArgs;
pub use commands::upgrade::UpgradeArgs;
pub use exit::Exit;
pub use progress::Progress;
pub use runner::Runner;
pub use usage::{parse, parse_from};

use clap::{Args, Subcommand};

/// The `migrate` subcommand of a binary: `<binary> migrate <command>`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command of the set. Flatten it into another `Subcommand` enum
/// (`#[command(flatten)]`) to list the commands next to your own.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Show revisions: any identifier (id, prefix, `label@head`, `heads`, `current`).
    Show(ShowArgs),
    /// List the heads of the history.
    Heads(HeadsArgs),
    /// List branch points and the revisions they branch into.
    Branches(BranchesArgs),
    /// List revisions, newest first.
    History(HistoryArgs),
    /// Show the database's revisions and whether it is at head.
    Current(CurrentArgs),
    /// Upgrade the database to TARGET (`heads`, `head`, `+1`, `<rev>`, `<label>@head`, …).
    Upgrade(UpgradeArgs),
    /// Downgrade the database to TARGET (`-1`, `<rev>`, `base`, `<label>@-1`, …).
    Downgrade(DowngradeArgs),
    /// Set the version table to TARGET(s) without running any migration.
    Stamp(StampArgs),
    /// Check the database: drift, unknown revisions, unfinished steps, pending work (see exit codes).
    Check(CheckArgs),
    /// The audited ways out: record how a failed non-transactional step was resolved by hand, resume it, or accept an edit of an applied migration.
    Repair(RepairArgs),
    /// Show what ran on the database, newest first: when (UTC), how long, how it ended.
    Log(LogArgs),
    /// Take over a database that diesel_migrations migrated: its versions become version rows; nothing runs.
    AdoptDiesel(AdoptDieselArgs),
    /// The schema the history builds or a database has: `schema dump`, `schema diff`.
    Schema(SchemaArgs),
    /// Print diesel's schema.rs for the history (replayed into a scratch database); --check FILE exits 7 with a diff when FILE is stale.
    PrintSchema(PrintSchemaArgs),
}

impl Command {
    /// The command's name, as typed and as in the JSON `command` field.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Show(_) => "show",
            Command::Heads(_) => "heads",
            Command::Branches(_) => "branches",
            Command::History(_) => "history",
            Command::Current(_) => "current",
            Command::Upgrade(_) => "upgrade",
            Command::Downgrade(_) => "downgrade",
            Command::Stamp(_) => "stamp",
            Command::Check(_) => "check",
            Command::Repair(_) => "repair",
            Command::Log(_) => "log",
            Command::AdoptDiesel(_) => "adopt-diesel",
            Command::Schema(a) => a.name(),
            Command::PrintSchema(_) => "print-schema",
        }
    }

    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        let output = match self {
            Command::Show(a) => a.output,
            Command::Heads(a) => a.output,
            Command::Branches(a) => a.output,
            Command::History(a) => a.output,
            Command::Current(a) => a.output,
            Command::Upgrade(a) => a.output,
            Command::Downgrade(a) => a.output,
            Command::Stamp(a) => a.output,
            Command::Check(a) => a.output,
            Command::Repair(a) => a.output,
            Command::Log(a) => a.output,
            Command::AdoptDiesel(a) => a.output,
            Command::Schema(a) => a.output(),
            Command::PrintSchema(a) => a.output_format,
        };
        output.json
    }

    /// The `--db` argument, for the commands that take one.
    fn database(&self) -> Option<&DatabaseArg> {
        match self {
            Command::Show(a) => Some(&a.db),
            Command::History(a) => Some(&a.db),
            Command::Current(a) => Some(&a.db),
            Command::Upgrade(a) => Some(&a.db),
            Command::Downgrade(a) => Some(&a.db),
            Command::Stamp(a) => Some(&a.db),
            Command::Check(a) => Some(&a.db),
            Command::Repair(a) => Some(&a.db),
            Command::Log(a) => Some(&a.db),
            Command::AdoptDiesel(a) => Some(&a.db),
            Command::Schema(a) => Some(a.db()),
            Command::PrintSchema(a) => Some(&a.db),
            Command::Heads(_) | Command::Branches(_) => None,
        }
    }

    /// Whether the command only reads the history (in folder mode it then
    /// also reads a history with an importer's placeholders).
    fn reads_history_only(&self) -> bool {
        matches!(
            self,
            Command::Show(_) | Command::Heads(_) | Command::Branches(_) | Command::History(_)
        )
    }
}
