//! [`Runner`]: what a binary or a tool builds to run the command set — the
//! [`Migrations`] it runs over (history, configuration, default database), and running one [`Command`] to an
//! [`Exit`] code, with every failure said on stderr (and as JSON under `--json`).

use super::commands;
use super::context::Context;
use super::failure::Failure;
use super::source;
use super::stdio::Out;
use super::{Command, Exit};
use crate::config::Config;
use crate::migrations::{Migrations, Source as MigrationSource};
use crate::migrator::Migrator;
use crate::next_step::Naming;
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
    /// `myapp migrate upgrade heads`" (default: see [`Runner::new`]): every
    /// hint of every command names it, with the `--db` URL the operator
    /// passed (password masked). The core's help names it for the commands
    /// the program has: over a folder all of them (`` `alembix merge` ``);
    /// an embedded history's `migrate` has `history` and `heads` but not
    /// `merge` or `new-migration`, which keep the developer's `cargo xtask`.
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
        let naming = self.naming(command);
        match self.execute(command, out, &naming) {
            Ok(exit) => exit,
            Err(failure) => {
                let text = failure.text(&naming);
                out.error(format_args!("error: {text}"));
                if command.json() {
                    out.json(&failure.document(command.name(), &text));
                }
                failure.exit
            }
        }
    }

    /// How `command`'s messages name what to run next: this runner's
    /// program, the `--schema` the operator passed, and the `--db` URL the operator passed (not one from
    /// `DATABASE_URL` or the default database, which the next command finds
    /// the same way).
    fn naming(&self, command: &Command) -> Naming {
        let from_env = std::env::var(crate::migrations::DATABASE_URL_VAR).ok();
        let db = command
            .database()
            .and_then(|arg| arg.url.as_deref())
            .filter(|url| from_env.as_deref() != Some(*url));
        let schema = command.database().and_then(|arg| arg.schema.as_deref());
        match self.migrations.source() {
            MigrationSource::Folder(_) => Naming::tool(self.program.clone(), db),
            MigrationSource::Embedded(_) => Naming::binary(self.program.clone(), db),
        }
        .with_schema(schema)
    }

    fn execute(&self, command: &Command, out: &Out, naming: &Naming) -> Result<Exit, Failure> {
        let with_schema;
        let migrations = match command.database().and_then(|arg| arg.schema.as_deref()) {
            Some(schema) => {
                // `--schema` overrides the program's target schema, nothing else.
                let config = Config {
                    target_schema: Some(schema.to_string()),
                    ..self.migrations.configuration().clone()
                };
                with_schema = self.migrations.clone().config(config);
                &with_schema
            }
            None => &self.migrations,
        };
        let migrator = source::migrator(migrations, command.reads_history_only(), out, |t| {
            naming.core_text(t)
        })?;
        let result = self.dispatch(command, out, &migrator, naming, migrations);
        if let MigrationSource::Folder(_) = self.migrations.source() {
            // A folder runner serves a process that runs one command (`cargo
            // xtask`): freeing a large history's millions of small allocations
            // one by one only delays its exit (a tenth of a second for 100,000
            // files); the exit returns the memory at once.
            std::mem::forget(migrator);
        }
        result
    }

    fn dispatch(
        &self,
        command: &Command,
        out: &Out,
        migrator: &Migrator,
        naming: &Naming,
        migrations: &Migrations,
    ) -> Result<Exit, Failure> {
        let ctx = Context {
            migrator,
            out,
            json: command.json(),
            name: command.name(),
            naming,
            migrations,
        };
        commands::run(command, &ctx)
    }
}
