//! `cargo xtask bench`: this project side by side with Alembic, diesel_migrations,
//! sqlx, refinery and the raw SQL floor, on SQLite, PostgreSQL and MySQL/MariaDB,
//! written to `BENCHMARKS.md`.
//!
//! ```text
//! cargo xtask bench                  # the full suite (a long run), writes BENCHMARKS.md
//! cargo xtask bench --quick          # N = 10, 100; 3 runs; a smoke run into target/
//! cargo xtask bench --backends sqlite --sizes 100,1000 --graph-sizes none --build-sizes none
//! cargo xtask bench --backends mysql --contenders floor,ours,sqlx --sizes 10,100 \
//!     --graph-sizes none --build-sizes none --out BENCHMARKS.new.md
//! ```
//!
//! The contenders: the floor (the same SQL through one `sqlite3` / `psql` /
//! `mariadb` process), this project (`Migrator::launch`), this project with
//! `RunTransaction::WholeRun` (cold apply on SQLite and PostgreSQL: one
//! transaction for the whole run, against the per-migration floor), this
//! project through its own command set (`<binary> migrate upgrade heads`,
//! launch at head on SQLite), diesel_migrations, sqlx (`migrate!`, reversible migrations), refinery
//! (`embed_migrations!`, no downgrade) and Alembic. The Rust ones are
//! generated release binaries, each built once per backend with only that
//! backend's features.
//!
//! Steps: generate the history in every contender's form ([`history`]), build the
//! Rust contenders in release ([`crates`]), create the Python venv with Alembic
//! ([`alembic`]), time whole processes round by round ([`measure`], one fresh
//! database per round: [`db`]), time `heads`/`history` on large histories, run the
//! existing build-time bench ([`build_rows`]), and write the report ([`report`]).
//! Everything generated lives in `target/xtask-bench/` and is reused by the next
//! run while it is still current.
//!
//! Needs: `sqlite3` (SQLite rows), `psql` and a PostgreSQL server accepting
//! `postgres` without a password on 127.0.0.1:5432 (PostgreSQL rows; see
//! `--pg-url`), the `mariadb` (or `mysql`) client and a MySQL/MariaDB server
//! accepting `root` without a password on 127.0.0.1:3306 (MySQL rows; see
//! `--mysql-url`), `python3` with `venv` and access to PyPI (Alembic, with
//! psycopg2-binary and PyMySQL), `libpq-dev` and `default-libmysqlclient-dev`
//! (this project and diesel link libpq and libmysqlclient), and crates.io
//! (sqlx and refinery resolve their current versions in their own scratch
//! workspaces).

mod alembic;
mod build_rows;
mod crates;
mod db;
mod fleet;
mod history;
mod import;
mod measure;
mod report;
mod schema;
mod scratch;
mod tools;

pub use fleet::{run as run_fleet, FleetBenchArgs};
pub use import::{run as run_import, ImportBenchArgs};
pub use schema::{run as run_schema, SchemaBenchArgs};

use clap::Args;
use crates::{App, Crates, CLI_PACKAGE};
use db::{Backend, Servers};
use history::Form;
use measure::{Contender, GraphPrograms, GraphTool, Programs};
use report::{Machine, Results};
use scratch::{generate, Scratch};
use std::path::{Path, PathBuf};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Smoke run: sizes 10,100, graph 10000, build 10,100, 3 runs; writes
    /// target/xtask-bench/BENCHMARKS.quick.md unless --out is given.
    #[arg(long)]
    quick: bool,
    /// Backends to measure: sqlite, postgres, mysql (comma-separated; mysql
    /// also serves MariaDB).
    #[arg(long, value_name = "LIST", default_value = "sqlite,postgres,mysql")]
    backends: String,
    /// History sizes for cold / launch / downgrade [default: 10,100,1000].
    #[arg(long, value_name = "LIST")]
    sizes: Option<String>,
    /// Revisions for `heads`/`history`, or `none` [default: 10000,100000].
    #[arg(long, value_name = "LIST")]
    graph_sizes: Option<String>,
    /// Sizes for the build rows (embed_build), or `none` [default: the --sizes].
    #[arg(long, value_name = "LIST")]
    build_sizes: Option<String>,
    /// Contenders: floor, ours, whole-run (this project with
    /// RunTransaction::WholeRun; cold apply, SQLite and PostgreSQL), command
    /// (the service's own `migrate upgrade heads`; launch at head, SQLite),
    /// diesel, sqlx, refinery, alembic [default: all].
    #[arg(long, value_name = "LIST")]
    contenders: Option<String>,
    /// Measured runs per cell, after one warm-up [default: 5; 3 with --quick];
    /// histories of up to 100 migrations get three times as many.
    #[arg(long, value_name = "N")]
    runs: Option<usize>,
    /// PostgreSQL server, without a database name.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgresql://postgres@127.0.0.1:5432"
    )]
    pg_url: String,
    /// MySQL/MariaDB server, without a database.
    #[arg(
        long,
        value_name = "URL",
        default_value = "mysql://root@127.0.0.1:3306"
    )]
    mysql_url: String,
    /// Where to write the report [default: BENCHMARKS.md at the workspace root].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// What a run measures, with every default applied.
#[derive(Debug, Clone)]
struct Plan {
    backends: Vec<Backend>,
    sizes: Vec<usize>,
    graph_sizes: Vec<usize>,
    build_sizes: Vec<usize>,
    contenders: Vec<Contender>,
    runs: usize,
    out: PathBuf,
}

/// `10,100,1000` (underscores allowed) or `none`.
fn parse_sizes(option: &str, text: &str) -> Result<Vec<usize>, String> {
    if text.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut sizes = text
        .split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{option}: `{s}` is not a positive number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

fn parse_contender(s: &str) -> Result<Contender, String> {
    match s.trim() {
        "floor" => Ok(Contender::Floor),
        "ours" => Ok(Contender::Ours),
        "whole-run" | "ours-whole-run" => Ok(Contender::OursWholeRun),
        "command" | "ours-command" => Ok(Contender::OursCommand),
        "diesel" => Ok(Contender::Diesel),
        "sqlx" => Ok(Contender::Sqlx),
        "refinery" => Ok(Contender::Refinery),
        "alembic" => Ok(Contender::Alembic),
        other => Err(format!(
            "--contenders: unknown `{other}`; use floor, ours, whole-run, command, diesel, sqlx, refinery, alembic"
        )),
    }
}

impl BenchArgs {
    fn plan(&self, workspace: &Path, scratch: &Scratch) -> Result<Plan, String> {
        let mut backends = self
            .backends
            .split(',')
            .map(Backend::parse)
            .collect::<Result<Vec<_>, _>>()?;
        backends.sort();
        backends.dedup();
        let (sizes, graph, runs) = if self.quick {
            ("10,100", "10000", 3)
        } else {
            ("10,100,1000", "10000,100000", 5)
        };
        let sizes = parse_sizes("--sizes", self.sizes.as_deref().unwrap_or(sizes))?;
        let graph_sizes = parse_sizes(
            "--graph-sizes",
            self.graph_sizes.as_deref().unwrap_or(graph),
        )?;
        let build_sizes = match &self.build_sizes {
            Some(text) => parse_sizes("--build-sizes", text)?,
            None => sizes.clone(),
        };
        let mut contenders = match &self.contenders {
            Some(list) => list
                .split(',')
                .map(parse_contender)
                .collect::<Result<Vec<_>, _>>()?,
            None => Contender::ALL.to_vec(),
        };
        contenders.sort();
        contenders.dedup();
        let out = match &self.out {
            Some(p) if p.is_relative() => std::env::current_dir()
                .map_err(|e| format!("current directory: {e}"))?
                .join(p),
            Some(p) => p.clone(),
            None if self.quick => scratch.root.join("BENCHMARKS.quick.md"),
            None => workspace.join("BENCHMARKS.md"),
        };
        Ok(Plan {
            backends,
            sizes,
            graph_sizes,
            build_sizes,
            contenders,
            runs: self.runs.unwrap_or(runs).max(1),
            out,
        })
    }
}

/// Runs the suite and writes the report.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let workspace = crate::workspace_root();
    let scratch = Scratch::new(&workspace);
    let plan = args.plan(&workspace, &scratch)?;
    let mut machine = Machine::now(report::typed_command());
    check_prerequisites(&plan, args)?;
    let wants = |c: Contender| plan.contenders.contains(&c);

    // 1. Generate every form and build.
    eprintln!("bench: generating histories and building the contenders");
    let crates = Crates::new(&scratch, &workspace);
    let apps: Vec<App> = [
        (Contender::Ours, App::Ours),
        (Contender::OursWholeRun, App::Ours),
        (Contender::OursCommand, App::Ours),
        (Contender::Diesel, App::Diesel),
        (Contender::Sqlx, App::Sqlx),
        (Contender::Refinery, App::Refinery),
    ]
    .into_iter()
    .filter(|(c, _)| wants(*c))
    .map(|(_, app)| app)
    .fold(Vec::new(), |mut apps, app| {
        if !apps.contains(&app) {
            apps.push(app);
        }
        apps
    });
    crates.prepare_apps(&plan.sizes, &apps, &plan.backends)?;
    if wants(Contender::Ours) {
        crates.prepare_graph(&plan.graph_sizes)?;
    }
    let venv =
        if wants(Contender::Alembic) && !(plan.sizes.is_empty() && plan.graph_sizes.is_empty()) {
            Some(alembic::Venv::ensure(&scratch)?)
        } else {
            None
        };
    let alembic = venv
        .as_ref()
        .map(alembic::Venv::alembic)
        .unwrap_or_default();
    let mut forms: Vec<Form> = plan.backends.iter().map(|&b| Form::of(b)).collect();
    forms.dedup();
    let mut histories = Vec::new();
    for &form in &forms {
        for &n in &plan.sizes {
            let floor = scratch.floor(n, form);
            generate(
                &floor,
                &format!("{} {n} {form:?}", history::GENERATOR_VERSION),
                |dir| {
                    let h = history::history_in(n, form);
                    std::fs::write(dir.join("up.sql"), history::floor_upgrade(&h))?;
                    std::fs::write(dir.join("down.sql"), history::floor_downgrade(&h))
                },
            )?;
            let alembic_ini = match &venv {
                Some(_) => alembic::project(&scratch, n, form)?,
                None => PathBuf::new(),
            };
            histories.push((form, n, floor, alembic_ini));
        }
    }
    let mut graph_programs = Vec::new();
    for &n in &plan.graph_sizes {
        let alembic_ini = match &venv {
            Some(_) => alembic::project(&scratch, n, Form::Standard)?,
            None => PathBuf::new(),
        };
        graph_programs.push(GraphPrograms {
            n,
            ours_cli: crates.graph_binary(CLI_PACKAGE),
            ours_dir: crates.graph_migrations(n),
            ours_binary: crates.graph_binary(&crates::graph_package(n)),
            alembic: alembic.clone(),
            alembic_ini,
        });
    }
    machine.versions = versions(&plan, args, &crates, venv.as_ref());

    // 2. Database operations.
    let servers = Servers {
        sqlite_dir: scratch.runs(),
        postgres: args.pg_url.trim_end_matches('/').to_string(),
        mysql: args.mysql_url.trim_end_matches('/').to_string(),
    };
    db::remove_leftovers(&servers, &plan.backends);
    let mut results = Results {
        runs: plan.runs,
        ..Results::default()
    };
    for &backend in &plan.backends {
        for (form, n, floor, alembic_ini) in &histories {
            if *form != Form::of(backend) {
                continue;
            }
            eprintln!("bench: {} with {n} migrations", backend.title());
            let programs = Programs {
                n: *n,
                ours: crates.app_binary(App::Ours, *n, backend),
                diesel: crates.app_binary(App::Diesel, *n, backend),
                sqlx: crates.app_binary(App::Sqlx, *n, backend),
                refinery: crates.app_binary(App::Refinery, *n, backend),
                alembic: alembic.clone(),
                alembic_ini: alembic_ini.clone(),
                floor_up: floor.join("up.sql"),
                floor_down: floor.join("down.sql"),
            };
            measure::database_rounds(
                &servers,
                backend,
                &programs,
                &plan.contenders,
                measure::rounds_for(*n, plan.runs),
                &mut results.db,
                || machine.sample_load(),
            )?;
        }
    }

    // 3. Graph commands.
    let mut graph_tools = Vec::new();
    if wants(Contender::Ours) {
        graph_tools.extend([GraphTool::Xtask, GraphTool::Binary]);
    }
    if wants(Contender::Alembic) {
        graph_tools.push(GraphTool::Alembic);
    }
    for p in &graph_programs {
        eprintln!("bench: heads/history on {} revisions", p.n);
        measure::graph_rounds(p, &graph_tools, plan.runs, &mut results.graph, || {
            machine.sample_load()
        })?;
    }

    // 4. Build rows.
    if !plan.build_sizes.is_empty() {
        eprintln!("bench: build rows (cargo bench -p alembix-macros --bench embed_build)");
        machine.sample_load();
        results.build = build_rows::measure(&workspace, &plan.build_sizes, plan.runs)?;
    }

    // 5. Report.
    let text = report::render(&results, &machine);
    if let Some(parent) = plan.out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&plan.out, &text).map_err(|e| format!("{}: {e}", plan.out.display()))?;
    println!("{text}");
    eprintln!("bench: wrote {}", plan.out.display());
    Ok(())
}

/// Fails early, saying what to install or which option avoids it.
fn check_prerequisites(plan: &Plan, args: &BenchArgs) -> Result<(), String> {
    let db_rows = !plan.sizes.is_empty();
    if db_rows
        && plan.backends.contains(&Backend::Sqlite)
        && plan.contenders.contains(&Contender::Floor)
        && !db::has_program(Path::new("sqlite3"), "--version")
    {
        return Err(
            "the SQLite floor needs the `sqlite3` command (Debian: apt-get install sqlite3), or pass --backends postgres"
                .to_string(),
        );
    }
    if db_rows && plan.backends.contains(&Backend::Postgres) {
        if !db::has_program(db::psql(), "--version") {
            return Err("the PostgreSQL rows need `psql` (Debian: apt-get install postgresql-client), or pass --backends sqlite".to_string());
        }
        db::psql_admin(&args.pg_url, "SELECT 1").map_err(|e| {
            format!(
                "cannot reach PostgreSQL at {} ({e}); start it, point --pg-url at it, or pass --backends sqlite",
                args.pg_url
            )
        })?;
    }
    if db_rows && plan.backends.contains(&Backend::Mysql) {
        if !db::has_program(db::mariadb_program(), "--version") {
            return Err("the MySQL rows need the `mariadb` (or `mysql`) client (Debian: apt-get install mariadb-client), or leave mysql out of --backends".to_string());
        }
        db::mariadb_admin(&args.mysql_url, "SELECT 1").map_err(|e| {
            format!(
                "cannot reach MySQL/MariaDB at {} ({e}); start it, point --mysql-url at it, or leave mysql out of --backends",
                args.mysql_url
            )
        })?;
    }
    Ok(())
}

/// Versions of everything measured, for the report.
fn versions(
    plan: &Plan,
    args: &BenchArgs,
    crates: &Crates,
    venv: Option<&alembic::Venv>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let first_line = |program: &str, arg: &str| {
        db::capture(std::process::Command::new(program).arg(arg))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
    };
    if let Some(v) = first_line("rustc", "-V") {
        out.push(("rustc".to_string(), v));
    }
    if let Ok(lock) = std::fs::read_to_string(crates.lock_file(App::Ours)) {
        for package in [
            "diesel",
            "diesel_migrations",
            "libsqlite3-sys",
            "pq-sys",
            "mysqlclient-sys",
        ] {
            if let Some(v) = locked_version(&lock, package) {
                let note = if package == "libsqlite3-sys" {
                    let sqlite = bundled_sqlite_version(&v)
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default();
                    format!(" (bundled SQLite{sqlite}, in this project's and diesel's binaries)")
                } else {
                    String::new()
                };
                out.push((format!("{package} crate"), format!("{v}{note}")));
            }
        }
    }
    let own = [
        (
            Contender::Sqlx,
            App::Sqlx,
            &["sqlx", "tokio", "libsqlite3-sys"][..],
        ),
        (
            Contender::Refinery,
            App::Refinery,
            &[
                "refinery",
                "refinery-core",
                "rusqlite",
                "libsqlite3-sys",
                "postgres",
                "mysql",
            ][..],
        ),
    ];
    for (contender, app, packages) in own {
        if !plan.contenders.contains(&contender) {
            continue;
        }
        let Ok(lock) = std::fs::read_to_string(crates.lock_file(app)) else {
            continue;
        };
        for package in packages {
            if let Some(v) = locked_version(&lock, package) {
                let note = if *package == "libsqlite3-sys" {
                    let sqlite = bundled_sqlite_version(&v)
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default();
                    format!(" (bundled SQLite{sqlite})")
                } else {
                    String::new()
                };
                out.push((
                    format!("{package} crate ({} build)", contender.title()),
                    format!("{v}{note}"),
                ));
            }
        }
    }
    if plan.backends.contains(&Backend::Sqlite) {
        if let Some(v) = first_line("sqlite3", "--version") {
            let v = v.split_whitespace().next().unwrap_or_default().to_string();
            out.push(("sqlite3 (floor)".to_string(), v));
        }
    }
    if plan.backends.contains(&Backend::Postgres) {
        if let Ok(v) = db::psql_admin(&args.pg_url, "SHOW server_version") {
            out.push(("PostgreSQL server".to_string(), v.trim().to_string()));
        }
        if let Some(v) = first_line(&db::psql().display().to_string(), "--version") {
            out.push((format!("{} (floor)", db::psql().display()), v));
        }
    }
    if plan.backends.contains(&Backend::Mysql) {
        if let Ok(v) = db::mariadb_admin(&args.mysql_url, "SELECT VERSION()") {
            out.push(("MySQL/MariaDB server".to_string(), v.trim().to_string()));
        }
        if let Some(v) = first_line(&db::mariadb_program().display().to_string(), "--version") {
            out.push((format!("{} (floor)", db::mariadb_program().display()), v));
        }
    }
    if let Some(venv) = venv {
        for d in alembic::REQUIREMENTS {
            if let Ok(v) = venv.version(d) {
                out.push((d.to_string(), v));
            }
        }
        if let Some(v) = first_line(
            &venv
                .alembic()
                .with_file_name("python")
                .display()
                .to_string(),
            "--version",
        ) {
            let sqlite = venv.sqlite_version().unwrap_or_default();
            out.push((
                "Python".to_string(),
                format!("{v} (its sqlite3 module: SQLite {sqlite})"),
            ));
        }
    }
    out
}

/// The SQLite version that libsqlite3-sys `version` bundles, read from its
/// `sqlite3.h` in cargo's registry (best effort).
fn bundled_sqlite_version(version: &str) -> Option<String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let registry = cargo_home.join("registry").join("src");
    for index in std::fs::read_dir(registry).ok()?.flatten() {
        let header = index
            .path()
            .join(format!("libsqlite3-sys-{version}"))
            .join("sqlite3")
            .join("sqlite3.h");
        let Ok(text) = std::fs::read_to_string(header) else {
            continue;
        };
        let line = text
            .lines()
            .find(|l| l.starts_with("#define SQLITE_VERSION "))?;
        return line.split('"').nth(1).map(str::to_string);
    }
    None
}

/// The version of `package` in a `Cargo.lock`.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{package}\"") {
            let version = lines.next()?.trim();
            return version
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(
            parse_sizes("--sizes", "1000,10, 100").unwrap(),
            [10, 100, 1000]
        );
        assert_eq!(parse_sizes("--sizes", "100_000").unwrap(), [100_000]);
        assert!(parse_sizes("--sizes", "none").unwrap().is_empty());
        assert!(parse_sizes("--sizes", "0").is_err());
        assert!(parse_sizes("--sizes", "ten").is_err());
    }

    #[test]
    fn locked_versions() {
        let lock = "[[package]]\nname = \"diesel\"\nversion = \"2.3.14\"\n";
        assert_eq!(locked_version(lock, "diesel").as_deref(), Some("2.3.14"));
        assert_eq!(locked_version(lock, "pq-sys"), None);
    }
}
