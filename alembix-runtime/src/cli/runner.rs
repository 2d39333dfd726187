//! [`Runner`]: what a binary or the xtask builds to run the command set — the
//! history it runs over, its configuration, and running one [`Command`] to an
//! [`Exit`] code, with every failure said on stderr (and as JSON under `--json`).

use super::commands;
use super::context::Context;
use super::failure::Failure;
use super::source::Source;
use super::stdio::Out;
use super::{Command, Exit};
use crate::config::Config;
use crate::embedded::EmbeddedMigrations;
use crate::migrator::Migrator;
use std::path::PathBuf;

/// Runs [`Command`]s over one migration history.
///
/// ```no_run
/// # use alembix_runtime::cli::{Command, Runner};
/// # static MIGRATIONS: alembix_runtime::EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");
/// # fn f(command: &Command) -> alembix_runtime::cli::Exit {
/// Runner::embedded(&MIGRATIONS)
///     .default_database("sqlite://app.sqlite")
///     .run(command)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Runner {
    source: Source,
    config: Config,
    default_database: Option<String>,
    program: String,
}

impl Runner {
    /// Commands over the migrations `embed_migrations!` built into the binary.
    pub fn embedded(migrations: &'static EmbeddedMigrations) -> Runner {
        let exe = std::env::args_os()
            .next()
            .map(PathBuf::from)
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".to_string());
        Runner::new(Source::Embedded(migrations), format!("{exe} migrate"))
    }

    /// Commands over a folder of migration files, read when a command runs.
    ///
    /// Made for a process that runs one command (the xtask): the history read
    /// for a command is left for the process's exit to free.
    pub fn folder(dir: impl Into<PathBuf>) -> Runner {
        Runner::new(Source::Folder(dir.into()), "cargo xtask".to_string())
    }

    fn new(source: Source, program: String) -> Runner {
        Runner {
            source,
            config: Config::default(),
            default_database: None,
            program,
        }
    }

    /// The [`Config`] of the migrator (version table, lock timeout, …).
    pub fn config(mut self, config: Config) -> Runner {
        self.config = config;
        self
    }

    /// The database used when neither `--db` nor `DATABASE_URL` is given.
    pub fn default_database(mut self, url: impl Into<String>) -> Runner {
        self.default_database = Some(url.into());
        self
    }

    /// How messages name the command line, e.g. `myapp migrate` in "run
    /// `myapp migrate upgrade heads`" (default: the executable's name plus
    /// ` migrate`, or `cargo xtask` for a folder).
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
            Err(failure) => {
                out.error(format_args!("error: {}", failure.message));
                if command.json() {
                    out.json(&failure.document(command.name()));
                }
                failure.exit
            }
        }
    }

    fn execute(&self, command: &Command, out: &Out) -> Result<Exit, Failure> {
        let migrator = self
            .source
            .migrator(&self.config, command.reads_history_only(), out)?;
        let result = self.dispatch(command, out, &migrator);
        if let Source::Folder(_) = self.source {
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
            default_database: self.default_database.as_deref(),
        };
        commands::run(command, &ctx)
    }
}
