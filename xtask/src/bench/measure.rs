//! Timing whole processes: every contender's command for every operation, run
//! in rounds (a warm-up round, then the measured ones), contenders interleaved
//! within a round and their order rotated from round to round, so a burst of
//! load on this shared machine spreads over all of them instead of one.
//!
//! One round of one contender on one backend is: a fresh database; **cold**
//! (empty → head); **launch at head** ([`LAUNCH_REPEATS`] times, each a new
//! process, pooled into the median); **downgrade to base**; drop the database.
//! A contender skips what it does not have ([`Contender::runs`]): refinery has
//! no downgrade, and the whole-run flavor of this project is timed on cold
//! apply only (its launch at head is this project's).
//! The warm-up round also checks, untimed, that each step did its work (tables
//! created and dropped, version rows written), so a contender that silently
//! does nothing cannot look fast.

use super::db::{Backend, RunDb, Servers};
use super::history;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Launches measured per round and contender (each its own process).
pub const LAUNCH_REPEATS: usize = 3;

/// Histories up to this size get [`SMALL_HISTORY_FACTOR`] times the rounds:
/// their cells last milliseconds, where this machine's noise is largest, and
/// extra rounds cost little.
pub const SMALL_HISTORY: usize = 100;

/// How many times the rounds a history up to [`SMALL_HISTORY`] gets.
pub const SMALL_HISTORY_FACTOR: usize = 3;

/// The measured rounds for a history of `n` migrations, `runs` asked for.
pub fn rounds_for(n: usize, runs: usize) -> usize {
    if n <= SMALL_HISTORY {
        runs * SMALL_HISTORY_FACTOR
    } else {
        runs
    }
}

/// A tool being compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contender {
    /// The same SQL through `sqlite3` / `psql` / `mariadb`: the least any tool
    /// can cost.
    Floor,
    /// This project.
    Ours,
    /// This project with `RunTransaction::WholeRun`: one transaction for the
    /// whole run (cold apply; PostgreSQL and SQLite).
    OursWholeRun,
    /// This project through the service binary's own command set: `<binary>
    /// migrate upgrade heads` (launch at head; SQLite, whose flavor has the
    /// command set built in).
    OursCommand,
    /// diesel_migrations.
    Diesel,
    /// sqlx's migrator (`sqlx::migrate!`).
    Sqlx,
    /// refinery (`refinery::embed_migrations!`).
    Refinery,
    /// Python's Alembic.
    Alembic,
}

impl Contender {
    /// Its name in tables.
    pub fn title(self) -> &'static str {
        match self {
            Contender::Floor => "floor (sqlite3/psql/mariadb)",
            Contender::Ours => "this project",
            Contender::OursWholeRun => "this project, whole run",
            Contender::OursCommand => "this project, `migrate upgrade heads`",
            Contender::Diesel => "diesel_migrations",
            Contender::Sqlx => "sqlx",
            Contender::Refinery => "refinery",
            Contender::Alembic => "Alembic",
        }
    }

    /// Its short name in progress lines.
    pub fn slug(self) -> &'static str {
        match self {
            Contender::Floor => "floor",
            Contender::Ours => "ours",
            Contender::OursWholeRun => "whole-run",
            Contender::OursCommand => "command",
            Contender::Diesel => "diesel",
            Contender::Sqlx => "sqlx",
            Contender::Refinery => "refinery",
            Contender::Alembic => "alembic",
        }
    }

    /// Every contender, in table order.
    pub const ALL: [Contender; 8] = [
        Contender::Floor,
        Contender::Ours,
        Contender::OursWholeRun,
        Contender::OursCommand,
        Contender::Diesel,
        Contender::Sqlx,
        Contender::Refinery,
        Contender::Alembic,
    ];

    /// Whether the contender does `operation` on `backend`: refinery has no
    /// downgrade; a whole-run transaction is refused on MySQL (DDL commits
    /// there) and only cold apply differs from this project's default.
    pub fn runs(self, backend: Backend, operation: Operation) -> bool {
        match self {
            Contender::OursWholeRun => backend != Backend::Mysql && operation == Operation::Cold,
            Contender::OursCommand => backend == Backend::Sqlite && operation == Operation::Launch,
            Contender::Refinery => operation != Operation::Downgrade,
            _ => true,
        }
    }
}

/// An operation on a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Empty database → head.
    Cold,
    /// The no-op start at head.
    Launch,
    /// Head → base.
    Downgrade,
}

impl Operation {
    /// Its name in tables.
    pub fn title(self) -> &'static str {
        match self {
            Operation::Cold => "cold: empty → head",
            Operation::Launch => "launch at head",
            Operation::Downgrade => "downgrade to base",
        }
    }

    /// Every operation, in table order.
    pub const ALL: [Operation; 3] = [Operation::Cold, Operation::Launch, Operation::Downgrade];
}

/// A history-only command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GraphCommand {
    /// `heads`.
    Heads,
    /// `history`.
    History,
    /// `history --graph` (ours only: Alembic has no drawing).
    HistoryGraph,
}

impl GraphCommand {
    /// The command as typed.
    pub fn name(self) -> &'static str {
        match self {
            GraphCommand::Heads => "heads",
            GraphCommand::History => "history",
            GraphCommand::HistoryGraph => "history --graph",
        }
    }

    /// Its arguments.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            GraphCommand::Heads => &["heads"],
            GraphCommand::History => &["history"],
            GraphCommand::HistoryGraph => &["history", "--graph"],
        }
    }

    /// Whether `tool` has the command.
    pub fn runs_on(self, tool: GraphTool) -> bool {
        self != GraphCommand::HistoryGraph || tool != GraphTool::Alembic
    }

    /// All, in table order.
    pub const ALL: [GraphCommand; 3] = [
        GraphCommand::Heads,
        GraphCommand::History,
        GraphCommand::HistoryGraph,
    ];
}

/// Timings of one database operation: (backend, operation, N, contender).
pub type DbSamples = BTreeMap<(Backend, Operation, usize, Contender), Vec<Duration>>;
/// A program answering the graph commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GraphTool {
    /// `cargo xtask heads|history --dir DIR`: reads and parses every file.
    Xtask,
    /// `<binary> migrate heads|history`: the history embedded in the binary.
    Binary,
    /// `alembic heads|history`: imports every revision module.
    Alembic,
}

impl GraphTool {
    /// Its name in tables.
    pub fn title(self) -> &'static str {
        match self {
            GraphTool::Xtask => "this project, `cargo xtask` (folder)",
            GraphTool::Binary => "this project, `<binary> migrate` (embedded)",
            GraphTool::Alembic => "Alembic",
        }
    }

    /// Its short name in progress lines.
    pub fn slug(self) -> &'static str {
        match self {
            GraphTool::Xtask => "xtask",
            GraphTool::Binary => "binary",
            GraphTool::Alembic => "alembic",
        }
    }

    /// Every tool, in table order.
    pub const ALL: [GraphTool; 3] = [GraphTool::Xtask, GraphTool::Binary, GraphTool::Alembic];
}

/// Timings of one graph command: (command, revisions, tool).
pub type GraphSamples = BTreeMap<(GraphCommand, usize, GraphTool), Vec<Duration>>;

/// The programs and generated projects of every contender, for one size.
#[derive(Debug, Clone)]
pub struct Programs {
    /// The history size.
    pub n: usize,
    /// `bench_ours_<n>`.
    pub ours: PathBuf,
    /// `bench_diesel_<n>`.
    pub diesel: PathBuf,
    /// `bench_sqlx_<n>`.
    pub sqlx: PathBuf,
    /// `bench_refinery_<n>`.
    pub refinery: PathBuf,
    /// The venv's `alembic`.
    pub alembic: PathBuf,
    /// The project's `alembic.ini`.
    pub alembic_ini: PathBuf,
    /// The floor's `up.sql`.
    pub floor_up: PathBuf,
    /// The floor's `down.sql`.
    pub floor_down: PathBuf,
}

/// Runs `command` (stdout discarded, stderr kept for the error) and returns how
/// long the process took, from spawn to exit.
pub fn time(command: &mut Command, stdin: Option<&Path>) -> Result<Duration, String> {
    let input = match stdin {
        Some(path) => {
            Stdio::from(File::open(path).map_err(|e| format!("opening {}: {e}", path.display()))?)
        }
        None => Stdio::null(),
    };
    command
        .stdin(input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let (took, out) = run_timed(command)?;
    if out.status.success() {
        Ok(took)
    } else {
        Err(failure(command, &out))
    }
}

/// Runs `command` (standard input empty, its output kept) and returns how long
/// the process took and its standard output; a failed exit is an error.
pub fn time_stdout(command: &mut Command) -> Result<(Duration, String), String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (took, out) = run_timed(command)?;
    if out.status.success() {
        Ok((took, String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        Err(failure(command, &out))
    }
}

/// Runs `command` as set up and returns how long the process took, from spawn
/// to exit, and what it left, whatever its exit status.
pub fn run_timed(command: &mut Command) -> Result<(Duration, Output), String> {
    let started = Instant::now();
    let out = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    Ok((started.elapsed(), out))
}

/// The error for a process that failed: its command line, exit status and the
/// last lines of its standard error.
pub fn failure(command: &Command, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!(
        "{:?} {:?} failed ({}):\n{}",
        command.get_program(),
        command.get_args().collect::<Vec<_>>(),
        out.status,
        tail.join("\n")
    )
}

/// The command of `contender` doing `operation` on `db`, and the file its
/// standard input reads (the floor's script on SQLite and MySQL).
fn command_for(
    contender: Contender,
    operation: Operation,
    programs: &Programs,
    db: &RunDb,
) -> (Command, Option<PathBuf>) {
    match contender {
        Contender::Floor => {
            let script = match operation {
                Operation::Cold => Some(&programs.floor_up),
                Operation::Downgrade => Some(&programs.floor_down),
                Operation::Launch => None,
            };
            match db.backend() {
                Backend::Sqlite => {
                    let mut c = Command::new("sqlite3");
                    c.args(["-init", "/dev/null", "-batch", "-bail"])
                        .arg(db.path());
                    if script.is_none() {
                        c.arg(history::FLOOR_LAUNCH);
                    }
                    (c, script.cloned())
                }
                Backend::Postgres => {
                    let mut c = Command::new(super::db::psql());
                    c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
                    match script {
                        Some(path) => c.arg("-f").arg(path),
                        None => c.args(["-c", history::FLOOR_LAUNCH]),
                    };
                    c.arg(db.psql_url());
                    (c, None)
                }
                Backend::Mysql => {
                    // A dev tool's own URL (checked before the first round).
                    let mut c = super::db::mariadb(db.server(), Some(db.name()))
                        .unwrap_or_else(|_| Command::new(super::db::mariadb_program()));
                    c.args(["-N", "-B"]);
                    if script.is_none() {
                        c.args(["-e", history::FLOOR_LAUNCH]);
                    }
                    (c, script.cloned())
                }
            }
        }
        Contender::Ours
        | Contender::OursWholeRun
        | Contender::OursCommand
        | Contender::Diesel
        | Contender::Sqlx
        | Contender::Refinery => {
            let program = match contender {
                Contender::Diesel => &programs.diesel,
                Contender::Sqlx => &programs.sqlx,
                Contender::Refinery => &programs.refinery,
                _ => &programs.ours,
            };
            let mut c = Command::new(program);
            c.arg(match operation {
                Operation::Cold if contender == Contender::OursWholeRun => "launch-whole-run",
                Operation::Launch if contender == Contender::OursCommand => "migrate-upgrade-heads",
                Operation::Cold | Operation::Launch => "launch",
                Operation::Downgrade => "downgrade-base",
            })
            .env("DATABASE_URL", db.rust_url());
            (c, None)
        }
        Contender::Alembic => {
            let mut c = Command::new(&programs.alembic);
            c.arg("-c").arg(&programs.alembic_ini);
            match operation {
                Operation::Cold | Operation::Launch => c.args(["upgrade", "head"]),
                Operation::Downgrade => c.args(["downgrade", "base"]),
            };
            c.env("DATABASE_URL", db.sqlalchemy_url());
            (c, None)
        }
    }
}

fn run(
    contender: Contender,
    operation: Operation,
    programs: &Programs,
    db: &RunDb,
) -> Result<Duration, String> {
    let (mut command, stdin) = command_for(contender, operation, programs, db);
    time(&mut command, stdin.as_deref())
        .map_err(|e| format!("{} {}: {e}", contender.slug(), operation.title()))
}

/// Untimed: after `operation`, the database holds what it should.
fn check(contender: Contender, operation: Operation, n: usize, db: &RunDb) -> Result<(), String> {
    let at_head = operation != Operation::Downgrade;
    let tables = db.table_count()?;
    let want_tables = if at_head { n } else { 0 };
    let own_table = match contender {
        Contender::Diesel => Some("__diesel_schema_migrations"),
        Contender::Sqlx => Some("_sqlx_migrations"),
        Contender::Refinery => Some("refinery_schema_history"),
        _ => None,
    };
    let bookkeeping = if let Some(table) = own_table {
        let count = db.query(&format!("SELECT count(*) FROM {table}"))?;
        (count.trim() == if at_head { n.to_string() } else { "0".into() })
            .then_some(())
            .ok_or(format!("{table} has {} rows", count.trim()))
    } else {
        let rows = db.query("SELECT version_num FROM alembic_version")?;
        let want = if at_head {
            history::revision(n - 1)
        } else {
            String::new()
        };
        (rows.trim() == want)
            .then_some(())
            .ok_or(format!("alembic_version holds {:?}", rows.trim()))
    };
    if tables != want_tables {
        return Err(format!(
            "{} after {}: {tables} tables, expected {want_tables}",
            contender.slug(),
            operation.title()
        ));
    }
    bookkeeping.map_err(|e| format!("{} after {}: {e}", contender.slug(), operation.title()))
}

/// Measures every contender on `backend` with `programs` (one size), in
/// `1 + runs` rounds, the first a warm-up; adds the timings to `samples`.
pub fn database_rounds(
    servers: &Servers,
    backend: Backend,
    programs: &Programs,
    contenders: &[Contender],
    runs: usize,
    samples: &mut DbSamples,
    mut on_round: impl FnMut(),
) -> Result<(), String> {
    let n = programs.n;
    for round in 0..=runs {
        on_round();
        let warm_up = round == 0;
        let mut line = format!(
            "  {} n={n} {}:",
            backend.name(),
            if warm_up {
                "warm-up".to_string()
            } else {
                format!("run {round}/{runs}")
            }
        );
        for k in 0..contenders.len() {
            let contender = contenders[(k + round) % contenders.len()];
            if !Operation::ALL.iter().any(|&o| contender.runs(backend, o)) {
                continue;
            }
            let db = RunDb::create(servers, backend)?;
            let mut timings = Vec::new();
            // Cold runs for every contender (the later steps need the head).
            let cold = run(contender, Operation::Cold, programs, &db)?;
            if warm_up {
                check(contender, Operation::Cold, n, &db)?;
            }
            timings.push((Operation::Cold, cold));
            let mut shown = vec![short(cold)];
            if contender.runs(backend, Operation::Launch) {
                for _ in 0..LAUNCH_REPEATS {
                    timings.push((
                        Operation::Launch,
                        run(contender, Operation::Launch, programs, &db)?,
                    ));
                }
                if warm_up {
                    check(contender, Operation::Launch, n, &db)?;
                }
                shown.push(short(timings[1].1));
            }
            if contender.runs(backend, Operation::Downgrade) {
                let down = run(contender, Operation::Downgrade, programs, &db)?;
                if warm_up {
                    check(contender, Operation::Downgrade, n, &db)?;
                }
                timings.push((Operation::Downgrade, down));
                shown.push(short(down));
            }
            drop(db);
            line.push_str(&format!(" {} {}", contender.slug(), shown.join("/")));
            if !warm_up {
                for (operation, took) in timings {
                    samples
                        .entry((backend, operation, n, contender))
                        .or_default()
                        .push(took);
                }
            }
        }
        eprintln!("{line}");
    }
    Ok(())
}

/// The graph commands' programs for one size.
#[derive(Debug, Clone)]
pub struct GraphPrograms {
    /// Revisions in the history.
    pub n: usize,
    /// `bench_ours_cli`.
    pub ours_cli: PathBuf,
    /// The folder of `.sql` files.
    pub ours_dir: PathBuf,
    /// `bench_graph_<n>`, embedding the same files.
    pub ours_binary: PathBuf,
    /// The venv's `alembic`.
    pub alembic: PathBuf,
    /// The project's `alembic.ini`.
    pub alembic_ini: PathBuf,
}

/// Measures `heads` and `history` of `tools` on one history size, in
/// `1 + runs` rounds (the first a warm-up, which also lets Python write its
/// bytecode caches), each tool's timed commands preceded by an untimed `heads`.
pub fn graph_rounds(
    programs: &GraphPrograms,
    tools: &[GraphTool],
    runs: usize,
    samples: &mut GraphSamples,
    mut on_round: impl FnMut(),
) -> Result<(), String> {
    let n = programs.n;
    for round in 0..=runs {
        on_round();
        let mut line = format!(
            "  graph n={n} {}:",
            if round == 0 {
                "warm-up".to_string()
            } else {
                format!("run {round}/{runs}")
            }
        );
        for k in 0..tools.len() {
            let tool = tools[(k + round) % tools.len()];
            // One untimed `heads` first: every tool then reads its files from
            // a warm cache (each tool's 100,000+ files otherwise push the
            // other's out of the kernel's inode cache, and whoever runs next
            // pays seconds of disk reads).
            let commands = std::iter::once(None).chain(GraphCommand::ALL.map(Some));
            for timed in commands {
                let command = timed.unwrap_or(GraphCommand::Heads);
                if !command.runs_on(tool) {
                    continue;
                }
                let mut c = match tool {
                    GraphTool::Xtask => {
                        let mut c = Command::new(&programs.ours_cli);
                        c.arg("--dir").arg(&programs.ours_dir);
                        c
                    }
                    GraphTool::Binary => Command::new(&programs.ours_binary),
                    GraphTool::Alembic => {
                        let mut c = Command::new(&programs.alembic);
                        c.arg("-c").arg(&programs.alembic_ini);
                        c
                    }
                };
                c.args(command.args());
                let took = time(&mut c, None)
                    .map_err(|e| format!("{} {}: {e}", tool.slug(), command.name()))?;
                if timed.is_none() {
                    continue;
                }
                line.push_str(&format!(
                    " {} {} {}",
                    tool.slug(),
                    command.name(),
                    short(took)
                ));
                if round > 0 {
                    samples.entry((command, n, tool)).or_default().push(took);
                }
            }
        }
        eprintln!("{line}");
    }
    Ok(())
}

/// The median (the mean of the two middle values for an even count).
pub fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2),
    }
}

/// A duration for progress lines and tables: `812 µs`, `4.21 ms`, `1.93 s`.
pub fn short(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.1 {
        format!("{:.0} ms", s * 1e3)
    } else if s >= 0.01 {
        format!("{:.1} ms", s * 1e3)
    } else if s >= 0.001 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), Some(ms(3)));
        assert_eq!(
            median(&[ms(4), ms(1), ms(2), ms(3)]),
            Some(Duration::from_micros(2500))
        );
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn short_durations() {
        assert_eq!(short(Duration::from_micros(812)), "812 µs");
        assert_eq!(short(Duration::from_micros(4210)), "4.21 ms");
        assert_eq!(short(Duration::from_millis(123)), "123 ms");
        assert_eq!(short(Duration::from_millis(1934)), "1.93 s");
    }
}
