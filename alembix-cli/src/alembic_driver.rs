//! Running Alembic for `import-alembic`: one Python process that loads the
//! revision scripts as Alembic loads them and renders the whole history in
//! offline mode, both ways, twice ([`DRIVER`], `alembic_driver.py`), reporting
//! each script and each revision step as a JSON line.
//!
//! With several dialects (`import-alembic --dialect`), the same process renders
//! the history for each in turn ([`Job::dialects`]): a *target* per dialect,
//! each reported under its index.
//!
//! A revision whose Python raises ends its own step only: the run goes on past
//! it, so a history with many revisions that offline mode cannot render still
//! takes one launch. Only a revision that ends the process itself (a crash,
//! `os._exit`) costs another: the next launch skips it (for that target).
//!
//! For `--online-scratch` ([`render_online`]) the same driver runs the history
//! online instead, `upgrade heads` then `downgrade base`, in one launch against
//! a scratch database it creates, capturing the statements each step executed;
//! [`drop_scratch`] drops that database in a launch of its own, which runs
//! whatever happened to the first.

use alembix_core::sql::SqlDialect;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The driver's source, run as `python -c DRIVER JOB`.
const DRIVER: &str = include_str!("alembic_driver.py");

/// Renderings of each step: the second shows which values Python computed
/// while rendering (they differ between the two).
const PASSES: u8 = 2;

/// Launches after which a history whose revisions keep ending the process is
/// given up on (each further launch skips one more step), per dialect rendered.
const MAX_LAUNCHES: usize = 8;

/// Which way a step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// Where the driver reads the scratch server's URL: the environment, which
/// only this user can read (a command line is visible to everyone).
const SERVER_URL_ENV: &str = "ALEMBIX_IMPORT_SERVER_URL";

/// What to run: Alembic's own command-line arguments, through this Python, in
/// the current directory (where Alembic resolves relative locations).
pub(crate) struct Job<'a> {
    pub python: &'a Path,
    pub ini: &'a Path,
    pub name: &'a str,
    pub x_args: &'a [String],
    /// The dialects to render for, each in turn (target `i` is `dialects[i]`);
    /// empty: one target, the dialect env.py configures.
    pub dialects: &'a [SqlDialect],
    /// The target server's `SELECT VERSION()`, for the dialect to render as it
    /// does online against that server (with `dialects`, the `mysql` one only).
    pub server_version: Option<&'a str>,
    /// The URL of the `--online-scratch` server (SQLite: the scratch file's URL).
    pub server_url: Option<&'a str>,
    /// Whether the offline run first asks that server its version (used as
    /// `server_version` when none is given).
    pub probe: bool,
}

/// A revision script as Alembic loaded it (its module executed).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LoadedScript {
    pub revision: String,
    /// The file, symlinks resolved.
    pub path: PathBuf,
    pub down_revision: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    /// Header values Alembic would not read as ids (an int, a dict…).
    pub problems: Vec<String>,
    /// The module's docstring.
    pub doc: Option<String>,
}

/// A migration context of a run, as it reported itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Context {
    /// The rendering it was made for (an index of [`Job::dialects`]; 0 online).
    #[serde(default)]
    pub target: usize,
    /// SQLAlchemy's dialect name (`postgresql`).
    pub dialect: String,
    /// Alembic's implementation (`PostgresqlImpl`).
    #[serde(rename = "impl")]
    pub implementation: String,
    pub paramstyle: Option<String>,
    /// Whether SQLAlchemy wrote every `%` as `%%`.
    pub double_percents: Option<bool>,
    pub version_table: String,
    pub version_table_schema: Option<String>,
    /// Whether the dialect renders for MariaDB (MySQL's family only).
    pub is_mariadb: Option<bool>,
    /// The server version the dialect renders for, when it knows one.
    pub server_version_info: Option<Vec<u64>>,
    /// Why the server version given could not be applied.
    pub server_version_error: Option<String>,
    /// Whether it ran online (against the scratch database).
    #[serde(default)]
    pub online: bool,
}

/// One revision step of one rendering.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// What it emitted, each statement followed by a blank line (as Alembic
    /// prints it), without the version-table bookkeeping around the step.
    pub sql: String,
    /// Whether it entered `autocommit_block()`.
    pub autocommit: bool,
    /// Why it failed, if it did (the exception, or the process that died in it).
    pub error: Option<String>,
}

/// A run that failed outside any revision step (env.py, the revision map).
#[derive(Debug, Clone)]
pub(crate) struct RunFailure {
    pub target: usize,
    pub pass: u8,
    pub direction: Direction,
    pub message: String,
}

/// Everything the launches reported.
#[derive(Debug, Default)]
pub(crate) struct Rendered {
    /// The Python that ran them.
    pub python: PathBuf,
    /// Python processes started.
    pub launches: usize,
    /// `alembic x, SQLAlchemy y, Python z`.
    pub versions: Option<String>,
    /// The scripts in Alembic's load order, or why Alembic could not load them.
    pub scripts: Option<Result<Vec<LoadedScript>, String>>,
    /// Every migration context, in the order they were made.
    pub contexts: Vec<Context>,
    /// `(target, pass, direction, revision)` → its step (the first report wins).
    pub steps: HashMap<StepKey, Step>,
    pub run_failures: Vec<RunFailure>,
    /// Set when a launch ended outside any step without finishing.
    pub crashed: Option<String>,
    /// What the `--online-scratch` server said its version is (`Job::probe`).
    pub probed_version: Option<Result<String, String>>,
    /// Whether the online run created its scratch database, or why not.
    pub scratch_created: Option<Result<(), String>>,
}

impl Rendered {
    /// The step of `target`'s first rendering (the online run's: target 0).
    pub(crate) fn step(
        &self,
        target: usize,
        direction: Direction,
        revision: &str,
    ) -> Option<&Step> {
        self.steps
            .get(&(target, 1, direction, revision.to_string()))
    }

    /// The step of `target`'s second rendering.
    pub(crate) fn second(
        &self,
        target: usize,
        direction: Direction,
        revision: &str,
    ) -> Option<&Step> {
        self.steps
            .get(&(target, PASSES, direction, revision.to_string()))
    }

    /// The first failure of a whole run of `target`'s first rendering in
    /// `direction`.
    pub(crate) fn run_failure(&self, target: usize, direction: Direction) -> Option<&RunFailure> {
        self.run_failures
            .iter()
            .find(|f| f.target == target && f.pass == 1 && f.direction == direction)
    }

    /// The migration contexts of `target`'s renderings.
    pub(crate) fn contexts_of(&self, target: usize) -> Vec<Context> {
        self.contexts
            .iter()
            .filter(|c| c.target == target)
            .cloned()
            .collect()
    }
}

/// Why the driver could not run at all.
#[derive(Debug)]
pub(crate) enum Failure {
    /// This Python has no Alembic (or no SQLAlchemy) to import.
    NoAlembic(String),
    /// The process could not be started, or reported nothing.
    Broken(String),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record {
    Versions {
        alembic: String,
        sqlalchemy: String,
        python: String,
    },
    NoAlembic {
        message: String,
    },
    LoadFailed {
        message: String,
        file: Option<String>,
    },
    Revision(LoadedScript),
    Loaded,
    Context(Context),
    Begin {
        #[serde(default)]
        target: usize,
        pass: u8,
        direction: Direction,
        revision: String,
    },
    Step {
        #[serde(default)]
        target: usize,
        pass: u8,
        direction: Direction,
        revision: String,
        sql: String,
        autocommit: bool,
        error: Option<String>,
    },
    RunFailed {
        #[serde(default)]
        target: usize,
        pass: u8,
        direction: Direction,
        message: String,
        file: Option<String>,
    },
    ServerVersion {
        version: Option<String>,
        error: Option<String>,
    },
    Scratch {
        action: String,
        error: Option<String>,
    },
    Done,
}

/// Runs the driver until the history is rendered: one launch, plus one per
/// revision that ends the process (skipped by the next launch).
pub(crate) fn render(job: &Job<'_>) -> Result<Rendered, Failure> {
    let mut rendered = Rendered {
        python: job.python.to_path_buf(),
        ..Rendered::default()
    };
    let mut skip: BTreeSet<(usize, Direction, String)> = BTreeSet::new();
    let mut died: HashMap<Died, String> = HashMap::new();
    let dialects: Option<Vec<&str>> =
        (!job.dialects.is_empty()).then(|| job.dialects.iter().map(|d| d.name()).collect());
    loop {
        rendered.launches += 1;
        let skip_steps: Vec<(usize, &str, &str)> = skip
            .iter()
            .map(|(t, d, r)| (*t, d.name(), r.as_str()))
            .collect();
        let launch = launch(
            job,
            serde_json::json!({
                "argv": alembic_argv(job),
                "skip": skip_steps,
                "passes": PASSES,
                "dialects": dialects,
                "server_version": job.server_version,
                "probe": job.probe,
            }),
        )?;
        let (open, done) = absorb(launch.records, &mut rendered, &died)?;
        if done {
            return Ok(rendered);
        }
        let why = ended(&launch.stderr, launch.status);
        match open {
            Some((target, pass, direction, revision))
                if rendered.launches < MAX_LAUNCHES * job.dialects.len().max(1) =>
            {
                rendered.steps.insert(
                    (target, pass, direction, revision.clone()),
                    Step {
                        sql: String::new(),
                        autocommit: false,
                        error: Some(why.clone()),
                    },
                );
                died.insert((target, direction, revision.clone()), why);
                skip.insert((target, direction, revision));
            }
            _ => {
                if rendered.versions.is_none() {
                    return Err(Failure::Broken(why));
                }
                rendered.crashed = Some(why);
                return Ok(rendered);
            }
        }
    }
}

/// Runs the history online against the scratch database `scratch`, made on
/// `job.server_url` by this launch: `upgrade heads`, then `downgrade base`, each
/// step's executed statements captured (pass 1). One launch: a revision that
/// ends the process ends the run there (`crashed`).
pub(crate) fn render_online(job: &Job<'_>, scratch: &str) -> Result<Rendered, Failure> {
    let mut rendered = Rendered {
        python: job.python.to_path_buf(),
        launches: 1,
        ..Rendered::default()
    };
    let launch = launch(
        job,
        serde_json::json!({
            "argv": alembic_argv(job),
            "mode": "online",
            "scratch": scratch,
        }),
    )?;
    let (open, done) = absorb(launch.records, &mut rendered, &HashMap::new())?;
    if !done {
        let why = ended(&launch.stderr, launch.status);
        if rendered.versions.is_none() {
            return Err(Failure::Broken(why));
        }
        if let Some((target, pass, direction, revision)) = open {
            rendered.steps.insert(
                (target, pass, direction, revision),
                Step {
                    sql: String::new(),
                    autocommit: false,
                    error: Some(why.clone()),
                },
            );
        }
        rendered.crashed = Some(why);
    }
    Ok(rendered)
}

/// Drops the scratch database `scratch` on `job.server_url` (`DROP DATABASE IF
/// EXISTS`, in a launch of its own); `Err` says why it may still be there.
pub(crate) fn drop_scratch(job: &Job<'_>, scratch: &str) -> Result<(), String> {
    let launch = launch(
        job,
        serde_json::json!({"argv": [], "mode": "drop", "scratch": scratch}),
    )
    .map_err(|f| match f {
        Failure::NoAlembic(why) | Failure::Broken(why) => why,
    })?;
    for record in &launch.records {
        if let Record::Scratch { action, error } = record {
            if action == "drop" {
                return error.clone().map_or(Ok(()), Err);
            }
        }
    }
    Err(ended(&launch.stderr, launch.status))
}

/// A step of a launch: `(target, pass, direction, revision)`.
type StepKey = (usize, u8, Direction, String);

/// A step a launch died in: `(target, direction, revision)`.
type Died = (usize, Direction, String);

/// Takes one launch's records into `rendered`: the step left open if the
/// process died in one, and whether the driver finished.
fn absorb(
    records: Vec<Record>,
    rendered: &mut Rendered,
    died: &HashMap<Died, String>,
) -> Result<(Option<StepKey>, bool), Failure> {
    let mut scripts = Vec::new();
    let mut loaded = None;
    let mut open: Option<StepKey> = None;
    let mut done = false;
    for record in records {
        match record {
            Record::Versions {
                alembic,
                sqlalchemy,
                python,
            } => {
                rendered.versions = Some(format!(
                    "Alembic {alembic}, SQLAlchemy {sqlalchemy}, Python {python}"
                ));
            }
            Record::NoAlembic { message } => return Err(Failure::NoAlembic(message)),
            Record::LoadFailed { message, file } => {
                let at = file.map_or(String::new(), |f| format!(" (in {f})"));
                loaded = Some(Err(format!("{message}{at}")));
            }
            Record::Revision(script) => scripts.push(script),
            Record::Loaded => loaded = Some(Ok(std::mem::take(&mut scripts))),
            Record::Context(context) => {
                if !rendered.contexts.contains(&context) {
                    rendered.contexts.push(context);
                }
            }
            Record::Begin {
                target,
                pass,
                direction,
                revision,
            } => open = Some((target, pass, direction, revision)),
            Record::Step {
                target,
                pass,
                direction,
                revision,
                sql,
                autocommit,
                error,
            } => {
                open = None;
                let error = match error.as_deref() {
                    Some("skipped") => died.get(&(target, direction, revision.clone())).cloned(),
                    _ => error,
                };
                rendered
                    .steps
                    .entry((target, pass, direction, revision))
                    .or_insert(Step {
                        sql,
                        autocommit,
                        error,
                    });
            }
            Record::RunFailed {
                target,
                pass,
                direction,
                message,
                file,
            } => {
                let at = file.map_or(String::new(), |f| format!(" (in {f})"));
                rendered.run_failures.push(RunFailure {
                    target,
                    pass,
                    direction,
                    message: format!("{message}{at}"),
                });
            }
            Record::Done => done = true,
            Record::ServerVersion { version, error } => {
                rendered.probed_version = Some(match (version, error) {
                    (_, Some(error)) => Err(error),
                    (Some(version), None) => Ok(version),
                    (None, None) => Err("the server gave no version".to_string()),
                });
            }
            Record::Scratch { action, error } => {
                if action == "create" {
                    rendered.scratch_created = Some(error.map_or(Ok(()), Err));
                }
            }
        }
    }
    if rendered.scripts.is_none() {
        rendered.scripts = loaded;
    }
    Ok((open, done))
}

/// Why a launch ended early: its exit status and the last line it wrote.
fn ended(stderr: &str, status: std::process::ExitStatus) -> String {
    format!(
        "the Python process ended ({status}){}",
        last_line(stderr)
            .map(|l| format!(": {l}"))
            .unwrap_or_default()
    )
}

struct Launch {
    records: Vec<Record>,
    stderr: String,
    status: std::process::ExitStatus,
}

/// Alembic's command-line arguments for the job (`-c INI -n NAME -x ARG…`).
fn alembic_argv(job: &Job<'_>) -> Vec<String> {
    let mut argv: Vec<String> = vec![
        "-c".into(),
        job.ini.to_string_lossy().into_owned(),
        "-n".into(),
        job.name.to_string(),
    ];
    for x in job.x_args {
        argv.push("-x".into());
        argv.push(x.clone());
    }
    argv
}

fn launch(job: &Job<'_>, spec: serde_json::Value) -> Result<Launch, Failure> {
    let mut command = Command::new(job.python);
    if let Some(url) = job.server_url {
        command.env(SERVER_URL_ENV, url);
    }
    let output = command
        .arg("-c")
        .arg(DRIVER)
        .arg(spec.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        // A fixed string hash: code that iterates a set of names emits its SQL
        // in the same order on every import.
        .env("PYTHONHASHSEED", "0")
        .output()
        .map_err(|e| {
            Failure::Broken(format!("`{}` cannot be started: {e}", job.python.display()))
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut records = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Record>(line) {
            Ok(record) => records.push(record),
            Err(e) => {
                return Err(Failure::Broken(format!(
                    "the importer's Python driver wrote a line it cannot read ({e}): {line}"
                )))
            }
        }
    }
    Ok(Launch {
        records,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status,
    })
}

/// The last non-empty line of `text`.
fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|l| !l.is_empty())
}
