//! [`Runner`]: what a binary or a tool builds to run the command set — the
//! [`Migrations`] it runs over (history, configuration, default database), and running one [`Command`] to an
//! [`Exit`] code, with every failure said on stderr (and as JSON under `--json`).

use super::commands;
use super::context::Context;
use super::failure::Failure;
use super::source;
use super::stdio::Out;
use super::{Command, Exit};
use crate::migrations::{Migrations, Source as MigrationSource};
use crate::migrator::Migrator;
use std::path::PathBuf;

/// Runs [`Command`]s over one migration history: the binary's
/// [`Migrations`], the same value its launch is made from, so that the
/// commands and the launch agree on the version table and the database.
///
/// ```no_run
/// # use alembix_runtime::cli::{Command, Runner};
/// # use alembix_runtime::Migrations;
/// # static MIGRATIONS: alembix_runtime::EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");
/// fn migrations() -> Migrations {
///     Migrations::embedded(&MIGRATIONS).default_database("sqlite://app.sqlite")
/// }
/// # fn f(command: &Command) -> alembix_runtime::cli::Exit {
/// Runner::new(migrations()).run(command)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Runner {
    migrations: Migrations,
    program: String,
}

impl Runner {
    /// Commands over `migrations`. Hints name the command line as the
    /// executable's name plus ` migrate` for an embedded history, the
    /// executable's name for a folder; see [`Runner::program`].
    pub fn new(migrations: Migrations) -> Runner {
        let exe = std::env::args_os()
            .next()
            .map(PathBuf::from)
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".to_string());
        let program = match migrations.source() {
            MigrationSource::Embedded(_) => format!("{exe} migrate"),
            MigrationSource::Folder(_) => exe,
        };
        Runner {
            migrations,
            program,
        }
    }

    /// Commands over a folder of migration files, read when a command runs,
    /// with the default [`Config`](crate::Config): `Runner::new(Migrations::folder(dir))`.
    ///
    /// Made for a process that runs one command (a tool): the history read
    /// for a command is left for the process's exit to free.
    pub fn folder(dir: impl Into<PathBuf>) -> Runner {
        Runner::new(Migrations::folder(dir))
    }

    /// How messages name the command line, e.g. `myapp migrate` in "run
    /// `myapp migrate upgrade heads`" (default: see [`Runner::new`]). Over a
    /// folder, the core's help (`` `cargo xtask merge` ``) names it too.
    pub fn program(mut self, program: impl Into<String>) -> Runner {
        self.program = program.into();
        self
    }

    /// Runs `command`, printing to stdout (results) and stderr (errors), and
    /// returns the exit code to end the process with.
    ///
    /// Output goes through locked handles and never panics: when the reader of
    /// stdout goes away (`| head -1`) the output ends quietly and the exit code
    /// is the command's own (see the module docs).
    pub fn run(&self, command: &Command) -> Exit {
        let out = Out::stdio();
        let exit = self.run_to(command, &out);
        out.finish(exit)
    }

    fn run_to(&self, command: &Command, out: &Out) -> Exit {
        match self.execute(command, out) {
            Ok(exit) => exit,
            Err(mut failure) => {
                failure.message = self.name_program(&failure.message);
                out.error(format_args!("error: {}", failure.message));
                if command.json() {
                    out.json(&failure.document(command.name()));
                }
                failure.exit
            }
        }
    }

    fn execute(&self, command: &Command, out: &Out) -> Result<Exit, Failure> {
        let migrator =
            source::migrator(&self.migrations, command.reads_history_only(), out, |t| {
                self.name_program(t)
            })?;
        let result = self.dispatch(command, out, &migrator);
        if let MigrationSource::Folder(_) = self.migrations.source() {
            // A folder runner serves a process that runs one command (`cargo
            // xtask`): freeing a large history's millions of small allocations
            // one by one only delays its exit (a tenth of a second for 100,000
            // files); the exit returns the memory at once.
            std::mem::forget(migrator);
        }
        result
    }

    fn dispatch(&self, command: &Command, out: &Out, migrator: &Migrator) -> Result<Exit, Failure> {
        let ctx = Context {
            migrator,
            set: migrator.set()?,
            out,
            json: command.json(),
            name: command.name(),
            program: &self.program,
            migrations: &self.migrations,
        };
        commands::run(command, &ctx)
    }

    /// `text` with the core's help naming this runner's program (`alembix merge`
    /// instead of `cargo xtask merge`) in folder mode, where the program is the
    /// tool with the whole command set; an embedded binary's `migrate` has no
    /// `merge` or `new-migration`, so there the core's words stay.
    fn name_program(&self, text: &str) -> String {
        match self.migrations.source() {
            MigrationSource::Folder(_) => alembix_core::problem::name_program(text, &self.program),
            MigrationSource::Embedded(_) => text.to_string(),
        }
    }
}
