//! The alembix command line over a folder of migrations: `new-migration`,
//! `merge`, `import-alembic`, `import-diesel`, and the read/apply commands of
//! [`alembix_runtime::cli`] (`heads`, `history`, `upgrade`, `check`, …).
//!
//! It is the `alembix` binary (`cargo install alembix-cli`), and a library to
//! mount the same commands in a project's own `xtask`:
//!
//! ```no_run
//! // xtask/src/main.rs
//! fn main() -> std::process::ExitCode {
//!     alembix_cli::main("cargo xtask")
//! }
//! ```
//!
//! The name given (`cargo xtask`, `alembix`) is the one `--help` shows and every
//! hint the commands print names. A binary with commands of its own lists
//! [`Command`] next to them and runs it with [`run`]:
//!
//! ```no_run
//! use clap::{Parser, Subcommand};
//! use std::process::ExitCode;
//!
//! /// Our developer commands.
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     dir: alembix_cli::DirArg,
//!     #[command(subcommand)]
//!     command: Command,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     /// Regenerate the docs.
//!     Docs,
//!     #[command(flatten)]
//!     Migrations(alembix_cli::Command),
//! }
//!
//! fn main() -> ExitCode {
//!     let cli: Cli = alembix_cli::parse("cargo xtask");
//!     match cli.command {
//!         Command::Docs => ExitCode::SUCCESS,
//!         Command::Migrations(command) => {
//!             alembix_cli::run(&command, cli.dir.dir.as_deref(), "cargo xtask").into()
//!         }
//!     }
//! }
//! ```
//!
//! # Which folder
//!
//! `--dir DIR` (relative to the current directory), else the `migrations/`
//! folder found in the current directory or the nearest folder above it,
//! looking no further than the workspace root (the first folder above whose
//! `Cargo.toml` has a `[workspace]` table) or the filesystem root. Where none
//! is found, `new-migration` (and an import without `--out`) creates
//! `migrations/` beside the nearest `Cargo.toml` (or in the current directory)
//! and says so; the other commands say where they looked. The folder never
//! depends on where the tool was built.
//!
//! # Features
//!
//! | feature | what it adds | system packages (Debian/Ubuntu) |
//! | --- | --- | --- |
//! | `sqlite` (default) | SQLite, compiled in | none |
//! | `postgres` | PostgreSQL through libpq | `libpq-dev` |
//! | `mysql` | MySQL and MariaDB | `default-libmysqlclient-dev`, `pkg-config` |

mod alembic_driver;
mod autogenerate;
mod folder;
mod import_alembic;
mod import_dialects;
mod import_diesel;
mod import_online;
mod import_output;
mod model_rs;
mod offline_sql;
mod python;
mod scaffold;

pub use import_alembic::ImportAlembic;
pub use import_diesel::ImportDiesel;
pub use scaffold::{Merge, NewMigration};

use alembix_runtime::cli::{Exit, Runner};
use clap::{Args, Parser, Subcommand};
use folder::Context;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Every command of the tool. Flatten it into your own `Subcommand` enum
/// (`#[command(flatten)]`) to list the commands next to yours, and run the one
/// parsed with [`run`].
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Write the next migration file, chained onto the head.
    NewMigration(NewMigration),
    /// Write a merge revision over all heads, or the ones given.
    Merge(Merge),
    /// Import an Alembic project's revisions: same ids, parents, labels, messages.
    ImportAlembic(ImportAlembic),
    /// Import a diesel-cli migrations folder as a linear chain, in diesel's order.
    ImportDiesel(ImportDiesel),
    /// The read/apply commands (`heads`, `history`, `upgrade`, `check`, …).
    #[command(flatten)]
    Migrate(alembix_runtime::cli::Command),
}

/// `--dir DIR`: the migrations folder, for every command (a global option).
/// Flatten it into your own parser next to [`Command`].
#[derive(Debug, Clone, Default, Args)]
#[non_exhaustive]
pub struct DirArg {
    /// The migrations folder (default: `migrations/`, found from the current directory upward).
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The whole command line: `[--dir DIR] <command>`. What [`main`] parses.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "alembix",
    version,
    about = "Alembic's revision graph for Rust: the commands over a migrations folder."
)]
#[non_exhaustive]
pub struct Cli {
    /// `--dir`.
    #[command(flatten)]
    pub dir: DirArg,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Parses the process's arguments and runs the command: the whole `main` of a
/// binary or an xtask. `program` names the command line in `--help` and in
/// every hint (`alembix`, `cargo xtask`).
pub fn main(program: &str) -> ExitCode {
    let cli: Cli = parse(program);
    run(&cli.command, cli.dir.dir.as_deref(), program).into()
}

/// Parses the process's arguments into `P` (your parser, with [`Command`]
/// mounted in it), with `program` as the name `--help` and usage errors show.
/// A usage error is printed as clap prints it and ends the process with exit
/// code `2`; under `--json` it is one JSON document on stdout too (see
/// [`alembix_runtime::cli::parse`]).
pub fn parse<P: Parser>(program: &str) -> P {
    let args = std::iter::once(OsString::from(program)).chain(std::env::args_os().skip(1));
    alembix_runtime::cli::parse_from(args)
}

/// Runs `command` over the migrations folder: `dir` (`--dir`, relative to the
/// current directory), or the one found from the current directory upward.
/// `program` names the command line in hints. Prints results on stdout and
/// errors on stderr; returns the exit code to end the process with.
pub fn run(command: &Command, dir: Option<&Path>, program: &str) -> Exit {
    // Hints repeat the folder the operator chose, so that they run as printed.
    let program = &match dir {
        Some(dir) => format!(
            "{program} --dir {}",
            alembix_core::problem::shell_word(&dir.to_string_lossy())
        ),
        None => program.to_string(),
    };
    let context = match Context::new(program, dir) {
        Ok(context) => context,
        Err(message) => return fail(command, &message, program),
    };
    let result = match command {
        Command::Migrate(command) => {
            return match context.existing_folder() {
                Ok(folder) => Runner::folder(folder).program(program).run(command),
                Err(message) => fail_migrate(command, &message),
            }
        }
        Command::ImportAlembic(_) | Command::ImportDiesel(_) if context.dir_option().is_some() => {
            Err("the importers take `--out DIR` for the folder they write".to_string())
        }
        Command::NewMigration(args) => scaffold::new_migration(args, &context),
        Command::Merge(args) => scaffold::merge(args, &context),
        Command::ImportAlembic(args) => import_alembic::import_alembic(args, &context),
        Command::ImportDiesel(args) => import_diesel::import_diesel(args, &context),
    };
    match result {
        Ok(()) => Exit::Success,
        Err(message) => fail(command, &message, program),
    }
}

/// Says `message` on stderr, with the core's help naming `program` (`alembix
/// merge`, not `cargo xtask merge`); exit code `1`.
fn fail(command: &Command, message: &str, program: &str) -> Exit {
    let message = alembix_core::problem::name_program(message, program);
    match command {
        Command::Migrate(command) => fail_migrate(command, &message),
        _ => {
            eprintln!("error: {message}");
            Exit::Failure
        }
    }
}

/// A read/apply command that could not start: as the runtime says its errors,
/// so under `--json` one JSON document on stdout too (`"kind": "history"`).
fn fail_migrate(command: &alembix_runtime::cli::Command, message: &str) -> Exit {
    eprintln!("error: {message}");
    if command.json() {
        let mut doc = String::new();
        let _ = write!(
            doc,
            "{{\"command\":{},\"error\":{{\"kind\":\"history\",\"message\":{}}},\"exit_code\":{}}}",
            json_string(command.name()),
            json_string(message),
            Exit::Failure.code()
        );
        println!("{doc}");
    }
    Exit::Failure
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a \"b\"\n\\c\u{1}"), r#""a \"b\"\n\\c\u0001""#);
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
