//! The commands people know from Alembic, defined once with clap and mounted
//! anywhere: as `cargo xtask <command>` over a folder, and as
//! `<binary> migrate <command>` in any binary that embeds its migrations.
//!
//! ```no_run
//! use clap::{Parser, Subcommand};
//! use alembix_runtime::cli::{MigrateArgs, Runner};
//! use alembix_runtime::EmbeddedMigrations;
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
//!         Some(Command::Migrate(args)) => Runner::embedded(&MIGRATIONS).run(&args.command).into(),
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
//! | `check` | yes | drift, unknown revisions, unfinished steps, pending work; the exit code says which |
//! | `repair REV --completed/--rolled-back --reason …` | yes | record what a person did about a failed non-transactional step |
//!
//! `--db URL` (or `DATABASE_URL`, or the binary's default) selects the
//! database: `sqlite://file`, `postgres://user@host/db`, `mysql://user@host/db`.
//! Its password is never printed. `--json` prints one JSON document on stdout
//! instead of text; field names are stable (see the README). `--sql` takes its
//! dialect from `--dialect`, or from the scheme of the URL without connecting.
//!
//! # Exit codes
//!
//! See [`Exit`]: `0` success, `1` failure, `2` usage, and for `check` (and any
//! command refused for the same reason) `3` pending, `4` unknown revisions
//! (ahead, diverged, or of unknown origin), `5` drift, `6` unfinished step.
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

mod json;
mod out;
mod output;
mod progress;
mod usage;

pub use progress::Progress;
pub use usage::{parse, parse_from};

use crate::backend::Database;
use crate::config::{AheadPolicy, Config};
use crate::dialect::Dialect;
use crate::embedded::EmbeddedMigrations;
use crate::error::{Direction, Error};
use crate::migrator::Migrator;
use crate::offline::OfflineCommand;
use crate::report::{CheckReport, RepairAction, Report, StampMode, Standing};
use alembix_core::scan::scan_folder;
use alembix_core::{GraphOptions, HeadPolicy, MigrationSet, ProblemKind, RevIdx};
use clap::{Args, Subcommand, ValueEnum};
use json::Json;
use out::Out;
use output::{LineStyle, View};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::{ExitCode, Termination};

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
    /// Record how a failed or interrupted non-transactional migration was resolved by hand.
    Repair(RepairArgs),
    /// Take over a database that diesel_migrations migrated: its versions become version rows; nothing runs.
    AdoptDiesel(AdoptDieselArgs),
}

/// `--db URL`.
#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseArg {
    /// Database URL: sqlite://FILE (or a file path), postgres://USER@HOST/DB, mysql://USER@HOST/DB.
    #[arg(
        long = "db",
        value_name = "URL",
        env = "DATABASE_URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
}

/// `--json`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct JsonArg {
    /// Print one JSON document on stdout instead of text (stable field names).
    #[arg(long)]
    pub json: bool,
}

/// `--sql` and `--dialect`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OfflineArgs {
    /// Print the SQL script instead of running it (offline; no connection is made).
    #[arg(long)]
    pub sql: bool,
    /// SQL dialect of the script (default: the scheme of --db / DATABASE_URL).
    #[arg(long, value_enum, requires = "sql")]
    pub dialect: Option<DialectArg>,
}

/// A SQL dialect for `--sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    #[value(alias = "postgres")]
    Postgresql,
    /// MySQL and MariaDB.
    #[value(alias = "mariadb")]
    Mysql,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Sqlite => Dialect::Sqlite,
            DialectArg::Postgresql => Dialect::Postgres,
            DialectArg::Mysql => Dialect::Mysql,
        }
    }
}

/// Arguments of `show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The revision: an id or unique prefix, `head`, `heads`, `<label>@head`, `current`.
    pub revision: String,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `heads`.
#[derive(Debug, Clone, Args)]
pub struct HeadsArgs {
    /// Show each head's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Effective heads: leave out heads that another revision depends on.
    #[arg(long)]
    pub resolve_dependencies: bool,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `branches`.
#[derive(Debug, Clone, Args)]
pub struct BranchesArgs {
    /// Show each branch point's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Range `[start]:[end]` (`base:head`, `ae10:`, `:current`, `-3:`, `label@base:label@head`).
    #[arg(
        short = 'r',
        long = "rev-range",
        value_name = "RANGE",
        allow_hyphen_values = true,
        value_parser = usage::range
    )]
    pub range: Option<String>,
    /// Show each revision's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Mark the database's revisions `(current)` (needs the database).
    #[arg(short = 'i', long)]
    pub indicate_current: bool,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `current`.
#[derive(Debug, Clone, Args)]
pub struct CurrentArgs {
    /// Show each revision's full entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Exit 3 unless every revision is applied (4 if the database has revisions this binary lacks).
    #[arg(long)]
    pub check_heads: bool,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

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
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `downgrade`.
#[derive(Debug, Clone, Args)]
pub struct DowngradeArgs {
    /// `-N`, `<rev>` or prefix, `base`, `<label>@-N`, `<label>@base`; with --sql `FROM:TO` (required).
    #[arg(allow_negative_numbers = true)]
    pub target: String,
    /// Offline mode (`--sql`, `--dialect`).
    #[command(flatten)]
    pub offline: OfflineArgs,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `stamp`.
#[derive(Debug, Clone, Args)]
pub struct StampArgs {
    /// The revision(s) the database is at: `heads`, `<rev>`, `base`, …; with --sql one `[FROM:]TO`.
    #[arg(required = true, allow_negative_numbers = true)]
    pub targets: Vec<String>,
    /// Delete every row of the version table first, unknown revisions included.
    #[arg(long)]
    pub purge: bool,
    /// Offline mode (`--sql`, `--dialect`).
    #[command(flatten)]
    pub offline: OfflineArgs,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `adopt-diesel`.
#[derive(Debug, Clone, Args)]
pub struct AdoptDieselArgs {
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `repair`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["completed", "rolled_back"])))]
pub struct RepairArgs {
    /// The revision whose step was left failed or in progress.
    pub revision: String,
    /// The remaining statements were run by hand: record the step as done.
    #[arg(long)]
    pub completed: bool,
    /// The statements that ran were undone by hand: record the step as rolled back.
    #[arg(long)]
    pub rolled_back: bool,
    /// Who did what, for the audit trail in the history table.
    #[arg(long)]
    pub reason: String,
    /// The database (`--db`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
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
            Command::AdoptDiesel(_) => "adopt-diesel",
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
            Command::AdoptDiesel(a) => a.output,
        };
        output.json
    }

    /// Whether the command only reads the history (and tolerates several heads
    /// in folder mode, so that `heads` can show them).
    fn reads_history_only(&self) -> bool {
        matches!(
            self,
            Command::Show(_) | Command::Heads(_) | Command::Branches(_) | Command::History(_)
        )
    }
}

/// The exit codes of every command; `check` uses all of them.
///
/// When several apply, the highest wins (an unfinished step outranks drift,
/// which outranks unknown revisions, which outrank pending migrations). Any
/// command that the runtime refuses for one of these reasons (e.g. `upgrade`
/// on a drifted database) exits with the same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// `0`: done; for `check`: the database is at head, nothing to report.
    Success = 0,
    /// `1`: the command failed (connection, SQL error, target that names nothing, …).
    Failure = 1,
    /// `2`: the arguments do not go together (no database given, `--sql` with `--purge`, …).
    Usage = 2,
    /// `3`: migrations are pending (`upgrade heads` would apply them).
    Pending = 3,
    /// `4`: the database is at revisions this binary does not contain (ahead,
    /// diverged, or of unknown origin). With `AheadPolicy::Allow`, ahead is `0`.
    UnknownRevisions = 4,
    /// `5`: an applied migration's text changed since it ran (checksum drift).
    Drift = 5,
    /// `6`: a non-transactional step was left failed or in progress; `repair` it.
    Unfinished = 6,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

impl Termination for Exit {
    fn report(self) -> ExitCode {
        self.into()
    }
}

/// Where the migration history comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Built into the binary by `embed_migrations!`.
    Embedded(&'static EmbeddedMigrations),
    /// A folder of `.sql` files, read now (the xtask).
    Folder(PathBuf),
}

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
    /// ` migrate`, or `cargo xtask` for a folder). Over a folder, the core's
    /// help (`` `cargo xtask merge` ``) names it too.
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
        let json = command.json();
        match self.execute(command, out) {
            Ok(exit) => exit,
            Err(mut failure) => {
                failure.message = self.name_program(&failure.message);
                out.error(format_args!("error: {}", failure.message));
                if json {
                    let doc = Json::object()
                        .with("command", command.name())
                        .with(
                            "error",
                            Json::object()
                                .with("kind", failure.kind)
                                .with("message", failure.message.as_str()),
                        )
                        .with("exit_code", failure.exit.code());
                    out.line(doc);
                }
                failure.exit
            }
        }
    }

    fn execute(&self, command: &Command, out: &Out) -> Result<Exit, Failure> {
        let migrator = self.migrator(command.reads_history_only(), out)?;
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
        let ctx = Ctx {
            runner: self,
            migrator,
            set: migrator.set()?,
            out,
            json: command.json(),
            name: command.name(),
        };
        match command {
            Command::Show(a) => ctx.show(a),
            Command::Heads(a) => ctx.heads(a),
            Command::Branches(a) => ctx.branches(a),
            Command::History(a) => ctx.history(a),
            Command::Current(a) => ctx.current(a),
            Command::Upgrade(a) => ctx.move_to(Direction::Upgrade, &a.target, a.offline, &a.db),
            Command::Downgrade(a) => ctx.move_to(Direction::Downgrade, &a.target, a.offline, &a.db),
            Command::Stamp(a) => ctx.stamp(a),
            Command::Check(a) => ctx.check(a),
            Command::Repair(a) => ctx.repair(a),
            Command::AdoptDiesel(a) => ctx.adopt_diesel(a),
        }
    }

    /// `text` with the core's help naming this runner's program (`alembix merge`
    /// instead of `cargo xtask merge`) in folder mode, where the program is the
    /// tool with the whole command set; an embedded binary's `migrate` has no
    /// `merge` or `new-migration`, so there the core's words stay.
    fn name_program(&self, text: &str) -> String {
        match self.source {
            Source::Folder(_) => alembix_core::problem::name_program(text, &self.program),
            Source::Embedded(_) => text.to_string(),
        }
    }

    /// The migrator; in folder mode, a history with several heads, or with an
    /// importer's placeholders (`-- migrate:todo`), is still loaded for the
    /// commands that only read it (with a warning).
    fn migrator(&self, reads_history_only: bool, out: &Out) -> Result<Migrator, Failure> {
        use alembix_core::set::PLACEHOLDER_MARKER;
        use alembix_core::{Problems, SourceFile};
        let dir = match &self.source {
            Source::Embedded(m) => return Ok(Migrator::from_embedded(m, self.config.clone())?),
            Source::Folder(dir) => dir,
        };
        let (root, folder) = match (dir.parent(), dir.file_name()) {
            (Some(root), Some(name)) => (root, name.to_string_lossy().into_owned()),
            _ => {
                return Err(Failure::usage(format!(
                    "`{}` is not a folder path; pass --dir path/to/migrations",
                    dir.display()
                )))
            }
        };
        let sources = scan_folder(root, &folder).map_err(Error::History)?;
        let problems = match MigrationSet::from_sources(&sources, &GraphOptions::default()) {
            Ok(set) => return Ok(Migrator::new(set, self.config.clone())?),
            Err(problems) => problems,
        };
        let is_placeholder = |line: &str| line.trim_start().starts_with(PLACEHOLDER_MARKER);
        let placeholders: Vec<&str> = sources
            .iter()
            .filter(|s| s.text.lines().any(is_placeholder))
            .map(|s| s.name.as_str())
            .collect();
        if !reads_history_only {
            let mut failure = Failure::from(Error::History(problems));
            if !placeholders.is_empty() {
                failure.message.push_str(&format!(
                    "\n  help: {} still hold a `{PLACEHOLDER_MARKER}` placeholder left by an import: write the SQL in its place and delete that line before applying; `heads`, `history`, `branches` and `show` read the history meanwhile",
                    placeholders.join(", ")
                ));
            }
            return Err(failure);
        }
        // Placeholder lines made statements, so that the graph can be read.
        let probed: Vec<SourceFile> = if placeholders.is_empty() {
            Vec::new()
        } else {
            sources
                .iter()
                .map(|s| SourceFile {
                    name: s.name.clone(),
                    text: s
                        .text
                        .lines()
                        .map(|l| if is_placeholder(l) { "SELECT 1;" } else { l })
                        .collect::<Vec<_>>()
                        .join("\n"),
                })
                .collect()
        };
        let only_heads = |p: &Problems| p.0.iter().all(|p| p.kind == ProblemKind::MultipleHeads);
        let any = GraphOptions {
            heads: HeadPolicy::Any,
        };
        let retried = (!placeholders.is_empty())
            .then(|| MigrationSet::from_sources(&probed, &GraphOptions::default()));
        let set = match retried {
            Some(Ok(set)) => set,
            Some(Err(heads)) if only_heads(&heads) => {
                let set = MigrationSet::from_sources(&probed, &any).map_err(Error::History)?;
                out.error(format_args!(
                    "warning: {}",
                    self.name_program(&heads.to_string())
                ));
                set
            }
            None if only_heads(&problems) => {
                let set = MigrationSet::from_sources(&sources, &any).map_err(Error::History)?;
                out.error(format_args!(
                    "warning: {}",
                    self.name_program(&problems.to_string())
                ));
                set
            }
            // Other problems: the folder's own report, placeholders included.
            _ => return Err(Error::History(problems).into()),
        };
        if !placeholders.is_empty() {
            out.error(format_args!(
                "warning: {} file(s) hold a `{PLACEHOLDER_MARKER}` placeholder, where SQL is still to be written (shown as if it were `SELECT 1;`); upgrade, downgrade, stamp and the build refuse the folder until they are filled: {}",
                placeholders.len(),
                placeholders.join(", ")
            ));
        }
        Ok(Migrator::new(set, self.config.clone())?)
    }
}

/// Why a command failed, how to say it, and the exit code.
#[derive(Debug)]
struct Failure {
    kind: &'static str,
    message: String,
    exit: Exit,
}

impl Failure {
    fn usage(message: String) -> Failure {
        Failure {
            kind: "usage",
            message,
            exit: Exit::Usage,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        #[allow(unreachable_patterns)]
        let (kind, exit) = match &e {
            Error::InvalidIdentifier { .. } => ("invalid_identifier", Exit::Failure),
            Error::Unsupported(_) => ("unsupported", Exit::Failure),
            Error::History(_) => ("history", Exit::Failure),
            Error::Url { .. } => ("url", Exit::Usage),
            Error::Connect { .. } => ("connect", Exit::Failure),
            Error::Database { .. } => ("database", Exit::Failure),
            Error::Migration { .. } => ("migration", Exit::Failure),
            Error::LockTimeout { .. } => ("lock_timeout", Exit::Failure),
            Error::Drift(_) => ("drift", Exit::Drift),
            Error::DatabaseAhead { .. } => ("database_ahead", Exit::UnknownRevisions),
            Error::DatabaseDiverged { .. } => ("database_diverged", Exit::UnknownRevisions),
            Error::UnknownRevisions { .. } => ("unknown_revisions", Exit::UnknownRevisions),
            Error::Unfinished(_) => ("unfinished", Exit::Unfinished),
            Error::Plan(_) => ("plan", Exit::Failure),
            Error::Irreversible { .. } => ("irreversible", Exit::Failure),
            Error::VersionTable(_) => ("version_table", Exit::Failure),
            Error::Repair(_) => ("repair", Exit::Failure),
            _ => ("error", Exit::Failure),
        };
        let mut message = e.to_string();
        if let Error::Connect { url, .. } = &e {
            message.push_str(if Dialect::of_url(url) == Some(Dialect::Sqlite) {
                "\n  help: check that the file's folder exists and is writable (--db or DATABASE_URL)"
            } else {
                "\n  help: check that the server is up and that the URL (--db or DATABASE_URL) names the right host, database and user"
            });
        }
        Failure {
            kind,
            message,
            exit,
        }
    }
}

impl From<alembix_core::PlanError> for Failure {
    fn from(e: alembix_core::PlanError) -> Failure {
        Error::Plan(e).into()
    }
}

/// One command's run: the runner, its migrator, where it writes, and the output mode.
struct Ctx<'a> {
    runner: &'a Runner,
    migrator: &'a Migrator,
    set: &'a MigrationSet,
    out: &'a Out,
    json: bool,
    name: &'static str,
}

impl Ctx<'_> {
    fn set(&self) -> &MigrationSet {
        self.set
    }

    /// The JSON document's start: `{"command": …}`.
    fn doc(&self) -> Json {
        Json::object().with("command", self.name)
    }

    fn print(&self, doc: Json) {
        self.out.line(doc);
    }

    fn url(&self, arg: &DatabaseArg) -> Result<String, Failure> {
        arg.url
            .clone()
            .or_else(|| self.runner.default_database.clone())
            .ok_or_else(|| {
                Failure::usage(format!(
                    "`{}` needs a database: pass --db URL or set DATABASE_URL (sqlite://app.sqlite, postgres://user@host/db, mysql://user@host/db)",
                    self.name
                ))
            })
    }

    fn connect(&self, arg: &DatabaseArg) -> Result<Database<'static>, Failure> {
        let url = self.url(arg)?;
        Ok(Database::connect(&url)?)
    }

    fn show(&self, a: &ShowArgs) -> Result<Exit, Failure> {
        let graph = self.set().graph();
        let mut current_mask = None;
        let revs = if a.revision == "current" {
            let mut db = self.connect(&a.db)?;
            let current = self.migrator.current(&mut db)?;
            let mut revs = Vec::new();
            for r in &current.revisions {
                match graph.index_of(r) {
                    Some(i) => revs.push(i),
                    None => {
                        return Err(Error::UnknownRevisions {
                            unknown: vec![r.clone()],
                        }
                        .into())
                    }
                }
            }
            let mut mask = vec![false; graph.len()];
            for &i in &revs {
                mask[i] = true;
            }
            current_mask = Some(mask);
            revs
        } else {
            // `base` and `label@base` name no revision: nothing is listed, as in Alembic.
            alembix_core::resolve_many(graph, &a.revision)?
        };
        let view = View {
            current: current_mask.as_deref(),
            ..View::new(self.set())
        };
        if self.json {
            let list = revs.iter().map(|&i| view.json_details(i)).collect();
            self.print(self.doc().with("revisions", Json::Arr(list)));
        } else {
            let entries: Vec<String> = revs.iter().map(|&i| view.entry(i, true)).collect();
            self.out.print(entries.join("\n"));
        }
        Ok(Exit::Success)
    }

    fn heads(&self, a: &HeadsArgs) -> Result<Exit, Failure> {
        let graph = self.set().graph();
        let heads = if a.resolve_dependencies {
            graph.real_heads()
        } else {
            graph.heads()
        };
        let view = View::new(self.set());
        if self.json {
            let list = heads.iter().map(|&i| view.json(i)).collect();
            self.print(self.doc().with("heads", Json::Arr(list)));
            return Ok(Exit::Success);
        }
        let style = LineStyle {
            branches: true,
            ..LineStyle::default()
        };
        for &h in heads {
            if a.verbose {
                self.out.line(view.entry(h, false));
            } else {
                self.out.line(view.line(h, style));
            }
        }
        Ok(Exit::Success)
    }

    fn branches(&self, a: &BranchesArgs) -> Result<Exit, Failure> {
        let graph = self.set().graph();
        // History order (newest first), as Alembic walks it.
        let order = alembix_core::history(graph, None, &[])?;
        let points: Vec<RevIdx> = order
            .into_iter()
            .filter(|&i| graph.rev(i).is_branch_point())
            .collect();
        let view = View::new(self.set());
        if self.json {
            let list = points.iter().map(|&i| view.json(i)).collect();
            self.print(self.doc().with("branch_points", Json::Arr(list)));
            return Ok(Exit::Success);
        }
        let style = LineStyle {
            branches: true,
            tree: true,
            ..LineStyle::default()
        };
        let child_style = LineStyle {
            branches: true,
            tree: true,
            doc: a.verbose,
            ..LineStyle::default()
        };
        for p in points {
            let head = if a.verbose {
                view.entry(p, false)
            } else {
                view.line(p, style)
            };
            self.out.line(head);
            let pad = " ".repeat(graph.rev(p).id.len());
            for &c in &graph.rev(p).children {
                self.out
                    .line(format_args!("{pad} -> {}", view.line(c, child_style)));
            }
            self.out.line("");
        }
        Ok(Exit::Success)
    }

    fn history(&self, a: &HistoryArgs) -> Result<Exit, Failure> {
        let graph = self.set().graph();
        let needs_db =
            a.indicate_current || a.range.as_deref().is_some_and(|r| r.contains("current"));
        let (order, current, applied) = if needs_db {
            let mut db = self.connect(&a.db)?;
            let items = self.migrator.history(&mut db, a.range.as_deref())?;
            let mut current = vec![false; graph.len()];
            let mut applied = vec![false; graph.len()];
            let mut order = Vec::with_capacity(items.len());
            for item in items {
                if let Some(i) = graph.index_of(&item.revision) {
                    current[i] = item.current;
                    applied[i] = item.applied;
                    order.push(i);
                }
            }
            (order, Some(current), Some(applied))
        } else {
            let order = alembix_core::history(graph, a.range.as_deref(), &[])?;
            (order, None, None)
        };
        let view = View {
            current: if a.indicate_current {
                current.as_deref()
            } else {
                None
            },
            applied: if a.indicate_current {
                applied.as_deref()
            } else {
                None
            },
            ..View::new(self.set())
        };
        if self.json {
            let list = order.iter().map(|&i| view.json(i)).collect();
            self.print(
                self.doc()
                    .with("range", a.range.as_deref())
                    .with("revisions", Json::Arr(list)),
            );
            return Ok(Exit::Success);
        }
        let style = LineStyle {
            parents: true,
            branches: true,
            tree: true,
            doc: true,
        };
        for i in order {
            if a.verbose {
                self.out.line(view.entry(i, false));
            } else {
                self.out.line(view.line(i, style));
            }
        }
        Ok(Exit::Success)
    }

    fn current(&self, a: &CurrentArgs) -> Result<Exit, Failure> {
        let graph = self.set().graph();
        let mut db = self.connect(&a.db)?;
        let current = self.migrator.current(&mut db)?;
        let unknown: Vec<&String> = current
            .rows
            .iter()
            .filter(|r| graph.index_of(r).is_none())
            .collect();
        let rows: Vec<&str> = current.rows.iter().map(String::as_str).collect();
        let at_head = unknown.is_empty() && alembix_core::check_heads(graph, &rows).is_ok();
        if self.json {
            self.print(
                self.doc()
                    .with("database", db.redacted_url())
                    .with("rows", Json::strings(&current.rows))
                    .with("revisions", Json::strings(&current.revisions))
                    .with("heads", Json::strings(&self.migrator.heads()?))
                    .with("at_head", at_head),
            );
        } else {
            let view = View::new(self.set());
            if current.revisions.is_empty() {
                self.out.line("<base> (no revision applied)");
            }
            for r in &current.revisions {
                match graph.index_of(r) {
                    Some(i) if a.verbose => self.out.line(view.entry(i, false)),
                    Some(i) => self.out.line(view.line(i, LineStyle::default())),
                    None => self
                        .out
                        .line(format_args!("{r} (not in this binary's history)")),
                }
            }
        }
        if !a.check_heads || at_head {
            return Ok(Exit::Success);
        }
        // `--check-heads`: the document above already says `at_head: false`.
        let exit = if unknown.is_empty() {
            self.out.error(format_args!(
                "error: Database is not on all head revisions; run `{} upgrade heads`",
                self.runner.program
            ));
            Exit::Pending
        } else {
            self.out.error(format_args!(
                "error: {}",
                Error::UnknownRevisions {
                    unknown: unknown.into_iter().cloned().collect(),
                }
            ));
            Exit::UnknownRevisions
        };
        Ok(exit)
    }

    fn dialect(&self, offline: OfflineArgs, db: &DatabaseArg) -> Result<Dialect, Failure> {
        if let Some(d) = offline.dialect {
            return Ok(d.into());
        }
        let url = self.url(db).map_err(|_| {
            Failure::usage(format!(
                "`{} --sql` needs a dialect: pass --dialect sqlite|postgresql|mysql (or --db URL, which is not connected to)",
                self.name
            ))
        })?;
        Dialect::of_url(&url).ok_or_else(|| {
            Failure::usage(
                "cannot tell the SQL dialect from the URL's scheme; pass --dialect sqlite|postgresql|mysql"
                    .to_string(),
            )
        })
    }

    fn offline(
        &self,
        offline: OfflineArgs,
        db: &DatabaseArg,
        command: OfflineCommand<'_>,
        range: &str,
    ) -> Result<Exit, Failure> {
        let dialect = self.dialect(offline, db)?;
        let script = self.migrator.offline_sql(dialect, command)?;
        if self.json {
            self.print(
                self.doc()
                    .with("offline", true)
                    .with("dialect", dialect.name())
                    .with("range", range)
                    .with("sql", script),
            );
        } else {
            self.out.print(script);
        }
        Ok(Exit::Success)
    }

    fn move_to(
        &self,
        direction: Direction,
        target: &str,
        offline: OfflineArgs,
        db_arg: &DatabaseArg,
    ) -> Result<Exit, Failure> {
        if offline.sql {
            let command = match direction {
                Direction::Upgrade => OfflineCommand::Upgrade(target),
                Direction::Downgrade => OfflineCommand::Downgrade(target),
            };
            return self.offline(offline, db_arg, command, target);
        }
        let mut db = self.connect(db_arg)?;
        // The progress lines go to stdout directly: nothing of ours before them.
        self.out.flush();
        let progress = Progress::new(self.set(), !self.json);
        if !self.json && std::io::stdout().is_terminal() {
            progress.expect(self.expected_steps(&mut db, direction, target));
        }
        let result = progress.watch(|| match direction {
            Direction::Upgrade => self.migrator.upgrade(&mut db, target),
            Direction::Downgrade => self.migrator.downgrade(&mut db, target),
        });
        progress.finish(result.as_ref().ok());
        let report = result?;
        if self.json {
            let doc = self
                .doc()
                .with("database", db.redacted_url())
                .with("target", target);
            self.print(output::report_json(doc, &report));
        } else {
            self.out.line(summary(direction, &report));
        }
        Ok(Exit::Success)
    }

    /// The steps the run is expected to take, for the terminal's `[k/n]`.
    fn expected_steps(
        &self,
        db: &mut Database,
        direction: Direction,
        target: &str,
    ) -> Vec<(String, Direction)> {
        let Ok(current) = self.migrator.current(db) else {
            return Vec::new();
        };
        let graph = self.set().graph();
        let rows: Vec<&str> = current.rows.iter().map(String::as_str).collect();
        let plan = match direction {
            Direction::Upgrade => alembix_core::plan_upgrade(graph, &rows, target),
            Direction::Downgrade => alembix_core::plan_downgrade(graph, &rows, target),
        };
        plan.map(|p| {
            p.steps
                .iter()
                .filter_map(|s| s.revision.map(|r| (graph.rev(r).id.clone(), s.direction)))
                .collect()
        })
        .unwrap_or_default()
    }

    fn stamp(&self, a: &StampArgs) -> Result<Exit, Failure> {
        if a.offline.sql {
            if a.purge {
                return Err(Failure::usage(
                    "`stamp --sql --purge` is not supported: the script cannot know which rows to delete; write `DELETE FROM alembic_version` yourself, or stamp online".to_string(),
                ));
            }
            let [target] = a.targets.as_slice() else {
                return Err(Failure::usage(
                    "`stamp --sql` takes one [FROM:]TO target; run it once per target".to_string(),
                ));
            };
            return self.offline(a.offline, &a.db, OfflineCommand::Stamp(target), target);
        }
        let mut db = self.connect(&a.db)?;
        let targets: Vec<&str> = a.targets.iter().map(String::as_str).collect();
        let mode = if a.purge {
            StampMode::Purge
        } else {
            StampMode::Keep
        };
        let report = self.migrator.stamp(&mut db, &targets, mode)?;
        if self.json {
            let doc = self
                .doc()
                .with("database", db.redacted_url())
                .with("targets", Json::strings(&a.targets))
                .with("purge", a.purge);
            self.print(output::report_json(doc, &report));
        } else {
            for step in &report.steps {
                self.out.line(format_args!(
                    "Running stamp_revision {} -> {}",
                    output::rows_text(&step.removed),
                    output::rows_text(&step.added)
                ));
            }
            self.out.line(format_args!(
                "stamped: the version table now holds {} (was {}); no migration ran",
                output::rows_text(&report.rows_after),
                output::rows_text(&report.rows_before)
            ));
        }
        Ok(Exit::Success)
    }

    fn check(&self, a: &CheckArgs) -> Result<Exit, Failure> {
        let mut db = self.connect(&a.db)?;
        let report = self.migrator.check(&mut db)?;
        let exit = check_exit(&report, self.migrator.config().when_ahead);
        let status = output::check_status(&report);
        if self.json {
            let doc = self
                .doc()
                .with("database", db.redacted_url())
                .with("status", status)
                .with("exit_code", exit.code());
            self.print(output::check_json(doc, &report));
        } else {
            self.out
                .line(format_args!("database: {}", db.redacted_url()));
            for line in self.check_text(&report, status) {
                self.out.line(line);
            }
        }
        Ok(exit)
    }

    fn check_text(&self, report: &CheckReport, status: &str) -> Vec<String> {
        let program = &self.runner.program;
        let mut lines = Vec::new();
        for u in &report.unfinished {
            lines.push(format!("unfinished: {u}"));
        }
        if !report.unfinished.is_empty() {
            lines.push(format!("  next: finish or undo those statements by hand, then `{program} repair <revision> --completed|--rolled-back --reason \"…\"`"));
        }
        for d in &report.drift {
            lines.push(format!("drift: {d}"));
        }
        if !report.drift.is_empty() {
            lines.push("  next: an applied migration must not be edited; restore the text it was applied with, and write a new migration for the change".to_string());
        }
        match &report.standing {
            Standing::UpToDate => {
                lines.push(format!("at head: {}", output::rows_text(&report.rows)))
            }
            Standing::Behind { pending } => {
                lines.push(format!(
                    "pending: {} migration(s) to apply: {}",
                    pending.len(),
                    pending.join(", ")
                ));
                lines.push(format!("  next: `{program} upgrade heads` applies them"));
            }
            Standing::Ahead { unknown } => lines.push(
                Error::DatabaseAhead {
                    unknown: unknown.clone(),
                }
                .to_string(),
            ),
            Standing::Diverged { unknown, fork } => lines.push(
                Error::DatabaseDiverged {
                    unknown: unknown.clone(),
                    fork: fork.clone(),
                }
                .to_string(),
            ),
            Standing::Unknown { unknown } => lines.push(
                Error::UnknownRevisions {
                    unknown: unknown.clone(),
                }
                .to_string(),
            ),
        }
        lines.push(format!("status: {status}"));
        lines
    }

    fn repair(&self, a: &RepairArgs) -> Result<Exit, Failure> {
        let mut db = self.connect(&a.db)?;
        let action = if a.completed {
            RepairAction::Completed
        } else {
            RepairAction::RolledBack
        };
        let report = self
            .migrator
            .repair(&mut db, &a.revision, action, &a.reason)?;
        if self.json {
            let doc = self
                .doc()
                .with("database", db.redacted_url())
                .with("revision", a.revision.as_str())
                .with(
                    "action",
                    match action {
                        RepairAction::Completed => "completed",
                        RepairAction::RolledBack => "rolled_back",
                    },
                );
            self.print(output::report_json(doc, &report));
        } else {
            self.out.line(format_args!(
                "repaired {}: recorded as {} by hand; the version table holds {}",
                a.revision,
                if a.completed {
                    "completed"
                } else {
                    "rolled back"
                },
                output::rows_text(&report.rows_after)
            ));
        }
        Ok(Exit::Success)
    }

    fn adopt_diesel(&self, a: &AdoptDieselArgs) -> Result<Exit, Failure> {
        let mut db = self.connect(&a.db)?;
        let adoption = self.migrator.adopt_diesel(&mut db)?;
        if self.json {
            let doc = self
                .doc()
                .with("database", db.redacted_url())
                .with("diesel_versions", Json::strings(&adoption.diesel_versions))
                .with("adopted", Json::strings(&adoption.adopted))
                .with("rows", Json::strings(&adoption.rows));
            self.print(doc);
            return Ok(Exit::Success);
        }
        let rows = output::rows_text(&adoption.rows);
        if adoption.diesel_versions.is_empty() {
            self.out.line(format_args!(
                "nothing to adopt: diesel_migrations' table is absent or empty; the version table holds {rows}"
            ));
        } else if adoption.adopted.is_empty() {
            self.out.line(format_args!(
                "already adopted: the version table holds {rows}, which includes the {} version(s) diesel_migrations applied; nothing was written",
                adoption.diesel_versions.len()
            ));
        } else {
            for revision in &adoption.adopted {
                self.out.line(format_args!("Adopting {revision}"));
            }
            self.out.line(format_args!(
                "adopted {} diesel version(s): the version table now holds {rows}; no migration ran",
                adoption.adopted.len()
            ));
            self.out.line(format_args!(
                "  next: `{} upgrade heads` applies what comes after",
                self.runner.program
            ));
        }
        Ok(Exit::Success)
    }
}

/// The exit code of `check`: the most serious finding wins.
fn check_exit(report: &CheckReport, when_ahead: AheadPolicy) -> Exit {
    if !report.unfinished.is_empty() {
        return Exit::Unfinished;
    }
    if !report.drift.is_empty() {
        return Exit::Drift;
    }
    match report.standing {
        Standing::UpToDate => Exit::Success,
        Standing::Behind { .. } => Exit::Pending,
        Standing::Ahead { .. } if when_ahead == AheadPolicy::Allow => Exit::Success,
        Standing::Ahead { .. } | Standing::Diverged { .. } | Standing::Unknown { .. } => {
            Exit::UnknownRevisions
        }
    }
}

/// The last line of an upgrade or downgrade.
fn summary(direction: Direction, report: &Report) -> String {
    let n = report.steps.len();
    let at = output::rows_text(&report.rows_after);
    let adopted = if report.adopted.is_empty() {
        String::new()
    } else {
        format!(
            "adopted {} revision(s) that another tool (Alembic) applied, without running them: {}\n",
            report.adopted.len(),
            report.adopted.join(", ")
        )
    };
    adopted
        + &match (direction, n) {
            (_, 0) => format!("nothing to do: the database is at {at}"),
            (Direction::Upgrade, _) => format!(
                "upgraded to {at}: {n} migration(s) in {}",
                output::millis(report.duration)
            ),
            (Direction::Downgrade, _) => format!(
                "downgraded to {at}: {n} migration(s) reverted in {}",
                output::millis(report.duration)
            ),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_adopted_revisions_says_so() {
        let report = Report {
            rows_after: vec!["r6".to_string()],
            adopted: vec!["r1".to_string(), "r2".to_string()],
            ..Report::default()
        };
        assert_eq!(
            summary(Direction::Upgrade, &report),
            "adopted 2 revision(s) that another tool (Alembic) applied, without running them: r1, r2\nnothing to do: the database is at r6"
        );
        let json = output::report_json(Json::object(), &report).to_string();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(value["adopted"], serde_json::json!(["r1", "r2"]), "{json}");
    }

    #[test]
    fn exit_codes_are_documented_numbers() {
        let codes: Vec<u8> = [
            Exit::Success,
            Exit::Failure,
            Exit::Usage,
            Exit::Pending,
            Exit::UnknownRevisions,
            Exit::Drift,
            Exit::Unfinished,
        ]
        .iter()
        .map(|e| e.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6]);
    }
}
