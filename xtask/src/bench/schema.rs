//! `cargo xtask bench-schema`: the schema commands (`schema dump`,
//! `print-schema`, `print-schema --check`, `new-migration --autogenerate`),
//! each beside what a user of diesel_cli or Alembic runs for the same work;
//! written to `BENCHMARKS-schema.md`.
//!
//! ```text
//! cargo xtask bench-schema                          # 1,000 migrations, 3 runs
//! cargo xtask bench-schema --migrations 100 --runs 1 --no-postgres --out target/schema.md
//! ```
//!
//! Three parts, whole processes timed, one warm-up round then `--runs`
//! measured rounds (the order of the tools alternates from round to round):
//!
//! 1. **Replay and dump** of the history `cargo xtask bench` generates
//!    ([`history`]), 1,000 migrations on SQLite: the release `alembix`
//!    binary's `schema dump` and `print-schema` (each replays into SQLite in
//!    memory), beside `diesel migration run` on a fresh file then `diesel
//!    print-schema` over the same SQL as a diesel_migrations folder, and
//!    `alembic upgrade head` on a fresh file over the same SQL as `op.execute`
//!    revisions (Alembic has no dump: its row is the replay half only).
//! 2. **Is `schema.rs` current?** on the example service's history
//!    (`migrations/`, `src/schema.rs`): `print-schema --check` beside diesel's
//!    way, `migration run` on a fresh file with the upgrade SQL SQLite runs,
//!    `print-schema`, and a byte compare; on PostgreSQL too (`--no-postgres`
//!    leaves it out), where diesel's fresh database is `diesel database reset`
//!    and the file compared is diesel's own output.
//! 3. **Autogenerate**: a migration from a model that is the example's schema
//!    plus a table (`reminders`) and a column (`users.bio`):
//!    `new-migration --autogenerate --model schema.rs` (the example made SQLite-only) (no
//!    database: the history replays in memory) beside `diesel migration
//!    generate --diff-schema` and `alembic revision --autogenerate`
//!    (SQLAlchemy models of the same schema), both against a SQLite database
//!    at head (made beforehand, not timed); and ours once more with
//!    PostgreSQL's SQL too (a copy declaring both, `--db`), a row of its own.
//!    If the binary's `new-migration` has no `--autogenerate`, its cells say
//!    "not yet available".

use super::alembic::{self, Venv, INI_LOGGING};
use super::db::{capture, psql_admin};
use super::history::{self, Form, GENERATOR_VERSION};
use super::measure::{failure, median, run_timed, short, time, time_stdout};
use super::report::{typed_command, Machine};
use super::scratch::{generate, Scratch};
use super::tools::{diesel_cli, release_alembix};
use alembix_core::{GraphOptions, MigrationSet, SqlDialect};
use clap::Args;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Options of `cargo xtask bench-schema`.
#[derive(Debug, Clone, Args)]
pub struct SchemaBenchArgs {
    /// Migrations in the generated history of the replay rows.
    #[arg(long, default_value_t = 1000)]
    migrations: usize,
    /// Measured rounds (after one warm-up).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// PostgreSQL server for the `print-schema --check` row on PostgreSQL, without a database name.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgresql://postgres@127.0.0.1:5432"
    )]
    pg_url: String,
    /// Leave out the PostgreSQL row.
    #[arg(long)]
    no_postgres: bool,
    /// diesel_cli's `diesel` [default: target/diesel-cli/bin/diesel, else `diesel` on the PATH].
    #[arg(long, value_name = "PATH")]
    diesel: Option<PathBuf>,
    /// Where to write the report [default: BENCHMARKS-schema.md at the workspace root].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// One timed cell of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cell {
    /// `alembix schema dump` over the generated history.
    OursDump,
    /// `alembix print-schema` over the generated history.
    OursPrint,
    /// `diesel migration run` of the generated history on a fresh file.
    DieselRun,
    /// `diesel print-schema` of that file.
    DieselPrint,
    /// The two, per round.
    DieselReplayTotal,
    /// `alembic upgrade head` of the generated history on a fresh file.
    AlembicUpgrade,
    /// `alembix print-schema --check` on the example, SQLite.
    OursCheckSqlite,
    /// diesel's run + print + compare on the example, SQLite.
    DieselCheckSqlite,
    /// `alembix print-schema --check` on the example, PostgreSQL.
    OursCheckPostgres,
    /// diesel's reset + print + compare on the example, PostgreSQL.
    DieselCheckPostgres,
    /// `alembix new-migration --autogenerate`, SQLite's SQL.
    OursAutogenerate,
    /// The same, SQLite's and PostgreSQL's SQL.
    OursAutogeneratePostgres,
    /// `diesel migration generate --diff-schema`.
    DieselAutogenerate,
    /// `alembic revision --autogenerate`.
    AlembicAutogenerate,
}

/// Bumped when the layout of the generated folders changes.
const LAYOUT: &str = "bench-schema-1";

/// The message of every generated migration in part 3.
const AUTOGEN_MESSAGE: &str = "add reminders";

/// What the runs found besides their times.
#[derive(Debug, Default)]
struct Findings {
    /// Whether `alembix print-schema` and `diesel print-schema` printed the
    /// same text for the generated history; if not, where they part.
    same_schema_rs: Option<Result<(), String>>,
    /// Whether `alembix print-schema --check` found `src/schema.rs` current (SQLite).
    ours_current_sqlite: Option<bool>,
    /// Whether diesel's output equals `src/schema.rs` byte for byte (SQLite).
    diesel_current_sqlite: Option<bool>,
    /// Whether `alembix print-schema --check` accepted diesel's PostgreSQL output.
    ours_current_postgres: Option<bool>,
    /// Whether `alembix new-migration` has `--autogenerate` in this build.
    ours_autogenerate: bool,
}

/// Everything a round needs: the programs and the generated folders.
struct Bench {
    alembix: PathBuf,
    diesel: PathBuf,
    alembic: PathBuf,
    /// The workspace root (the example's `migrations/` and `src/schema.rs`).
    root: PathBuf,
    /// `target/xtask-bench/schema`.
    dir: PathBuf,
    /// A `diesel.toml` with an empty `[print_schema]` (which `--diff-schema`
    /// needs; without a `file`, `migration run` writes no schema), so no
    /// project's configuration applies.
    diesel_toml: PathBuf,
    /// This project's form of the generated history.
    ours_history: PathBuf,
    /// The diesel_migrations form of the generated history.
    diesel_history: PathBuf,
    /// The Alembic project of the generated history (its `alembic.ini`).
    alembic_ini: PathBuf,
    /// The example's history as diesel_migrations folders (SQLite's SQL).
    example_diesel_sqlite: PathBuf,
    /// The same with PostgreSQL's SQL.
    example_diesel_postgres: PathBuf,
    /// PostgreSQL server (no database name), unless `--no-postgres`.
    pg_url: Option<String>,
    /// Diesel's `print-schema` of the example on PostgreSQL: the file the
    /// PostgreSQL check rows compare with.
    postgres_reference: PathBuf,
    /// The changed model, a diesel `schema.rs`.
    model_rs: PathBuf,
    /// A copy of the example's folder that `new-migration` writes into.
    ours_autogen: PathBuf,
    /// The same, declaring SQLite and PostgreSQL.
    ours_autogen_pg: PathBuf,
    /// The example at head, migrated by diesel (for `--diff-schema`).
    diesel_head: PathBuf,
    /// Where `diesel migration generate` writes.
    diesel_autogen: PathBuf,
    /// The Alembic project of the example (with `models.py`).
    alembic_autogen: PathBuf,
    /// The example at head, migrated by Alembic.
    alembic_head: PathBuf,
    samples: BTreeMap<Cell, Vec<Duration>>,
    findings: Findings,
}

/// Runs the benchmark and writes its report.
pub fn run(args: &SchemaBenchArgs) -> Result<(), String> {
    let root = crate::workspace_root();
    let scratch = Scratch::new(&root);
    let mut machine = Machine::now(typed_command());
    let diesel = diesel_cli(&scratch, args.diesel.as_deref())?;
    let alembix = release_alembix(&root)?;
    let venv = Venv::ensure(&scratch)?;
    let mut bench = Bench::prepare(args, &root, &scratch, alembix, diesel, &venv)?;
    eprintln!(
        "bench-schema: autogenerate in this build: {}",
        if bench.findings.ours_autogenerate {
            "yes"
        } else {
            "not yet available"
        }
    );
    for round in 0..=args.runs {
        let flip = round % 2 == 1;
        machine.sample_load();
        bench.replay(round, flip)?;
        machine.sample_load();
        bench.check_sqlite(round, flip)?;
        if bench.pg_url.is_some() {
            machine.sample_load();
            bench.check_postgres(round, flip)?;
        }
        machine.sample_load();
        bench.autogenerate(round, flip)?;
        eprintln!("bench-schema: round {round} done");
    }
    machine.versions = bench.versions(&venv);
    let text = render(args, &bench, &machine);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("BENCHMARKS-schema.md"));
    fs::write(&out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("{text}");
    eprintln!("bench-schema: wrote {}", out.display());
    Ok(())
}

impl Bench {
    /// Generates every folder and the databases at head (nothing timed).
    fn prepare(
        args: &SchemaBenchArgs,
        root: &Path,
        scratch: &Scratch,
        alembix: PathBuf,
        diesel: PathBuf,
        venv: &Venv,
    ) -> Result<Bench, String> {
        let n = args.migrations;
        let dir = scratch.root.join("schema");
        let _ = fs::remove_dir_all(dir.join("run"));
        mkdir(&dir.join("run"))?;
        let diesel_toml = dir.join("diesel.toml");
        write(&diesel_toml, "[print_schema]\n")?;
        let stamp = format!("{GENERATOR_VERSION} {LAYOUT} {n}");
        // The folders sit below the generated one, whose stamp file is no migration.
        let ours = dir.join(format!("ours-{n}"));
        generate(&ours, &stamp, |d| {
            fs::create_dir(d.join("migrations"))?;
            history::write_ours(&d.join("migrations"), &history::history(n))
        })?;
        let theirs = dir.join(format!("diesel-{n}"));
        generate(&theirs, &stamp, |d| {
            fs::create_dir(d.join("migrations"))?;
            history::write_diesel(&d.join("migrations"), &history::history(n))
        })?;
        let (ours_history, diesel_history) = (ours.join("migrations"), theirs.join("migrations"));
        let alembic_ini = alembic::project(scratch, n, Form::Standard)?;

        let example = Example::read(root)?;
        let example_diesel_sqlite = dir.join("example-diesel-sqlite");
        example.write_diesel(&example_diesel_sqlite, SqlDialect::Sqlite)?;
        let example_diesel_postgres = dir.join("example-diesel-postgres");
        example.write_diesel(&example_diesel_postgres, SqlDialect::Postgres)?;

        let autogen = dir.join("autogen");
        let _ = fs::remove_dir_all(&autogen);
        mkdir(&autogen)?;
        let model_rs = autogen.join("schema.rs");
        let committed = read(&root.join("src/schema.rs"))?;
        write(&model_rs, &changed_model(&committed)?)?;
        // The example declares SQLite, PostgreSQL and MySQL; autogenerate
        // writes SQL for every declared dialect. The rows beside diesel and
        // Alembic (which write one dialect) use a copy made SQLite-only
        // (alembix.toml declaring sqlite, the one MySQL variant left out);
        // the PostgreSQL row a copy declaring sqlite and postgresql.
        let ours_autogen = autogen.join("ours");
        copy_example(&root.join("migrations"), &ours_autogen, &["sqlite"])?;
        let ours_autogen_pg = autogen.join("ours-pg");
        copy_example(
            &root.join("migrations"),
            &ours_autogen_pg,
            &["sqlite", "postgresql"],
        )?;
        let diesel_autogen = autogen.join("diesel-out");
        let alembic_autogen = autogen.join("alembic");
        example.write_alembic(&alembic_autogen, &venv.script_template()?)?;

        let mut bench = Bench {
            alembix,
            diesel,
            alembic: venv.alembic(),
            root: root.to_path_buf(),
            dir: dir.clone(),
            diesel_toml,
            ours_history,
            diesel_history,
            alembic_ini,
            example_diesel_sqlite,
            example_diesel_postgres,
            pg_url: (!args.no_postgres).then(|| args.pg_url.trim_end_matches('/').to_string()),
            postgres_reference: dir.join("run/example-postgres.schema.rs"),
            model_rs,
            ours_autogen,
            ours_autogen_pg,
            diesel_head: autogen.join("diesel-head.sqlite"),
            diesel_autogen,
            alembic_autogen,
            alembic_head: autogen.join("alembic-head.sqlite"),
            samples: BTreeMap::new(),
            findings: Findings::default(),
        };
        time(
            &mut bench.diesel_run(&bench.diesel_head, &bench.example_diesel_sqlite),
            None,
        )?;
        time(
            bench
                .alembic_command(
                    &bench.alembic_autogen.join("alembic.ini"),
                    &bench.alembic_head,
                )
                .args(["upgrade", "heads"]),
            None,
        )?;
        if let Some(pg) = &bench.pg_url {
            let db = bench.pg_database();
            let (_, text) = bench.diesel_postgres_print(pg, &db)?;
            psql_admin(pg, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
            write(&bench.postgres_reference, &text)?;
        }
        let help = capture(Command::new(&bench.alembix).args(["new-migration", "--help"]))?;
        bench.findings.ours_autogenerate = help.contains("--autogenerate");
        Ok(bench)
    }

    /// Keeps `took` for `cell` unless this is the warm-up round.
    fn record(&mut self, round: usize, cell: Cell, took: Duration) {
        eprintln!("bench-schema:   {cell:?} {}", short(took));
        if round > 0 {
            self.samples.entry(cell).or_default().push(took);
        }
    }

    /// A path under `run/`, removed first (a fresh SQLite file).
    fn fresh(&self, name: &str) -> Result<PathBuf, String> {
        let path = self.dir.join("run").join(name);
        if path.exists() {
            fs::remove_file(&path).map_err(|e| format!("removing {}: {e}", path.display()))?;
        }
        Ok(path)
    }

    /// `alembix --dir DIR ARGS…`.
    fn ours(&self, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(&self.alembix);
        c.arg("--dir").arg(dir).args(args).current_dir(&self.root);
        c
    }

    /// `diesel ARGS… --config-file <our diesel.toml>`.
    fn diesel(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.diesel);
        c.args(args)
            .arg("--config-file")
            .arg(&self.diesel_toml)
            .current_dir(&self.dir);
        c
    }

    /// `diesel migration run` of `migrations` on the SQLite file `db`.
    fn diesel_run(&self, db: &Path, migrations: &Path) -> Command {
        let mut c = self.diesel(&["migration", "run"]);
        c.arg("--database-url")
            .arg(db)
            .arg("--migration-dir")
            .arg(migrations);
        c
    }

    /// `diesel print-schema` of the database at `url`.
    fn diesel_print(&self, url: &str) -> Command {
        let mut c = self.diesel(&["print-schema"]);
        c.args(["--database-url", url]);
        c
    }

    /// The venv's `alembic -c INI` with `DATABASE_URL` the SQLite file `db`.
    fn alembic_command(&self, ini: &Path, db: &Path) -> Command {
        let mut c = Command::new(&self.alembic);
        c.arg("-c")
            .arg(ini)
            .env("DATABASE_URL", format!("sqlite:///{}", db.display()))
            .current_dir(ini.parent().unwrap_or(&self.dir));
        c
    }

    /// Part 1: the generated history replayed, its schema read.
    fn replay(&mut self, round: usize, flip: bool) -> Result<(), String> {
        let mut ours_text = String::new();
        let mut diesel_text = String::new();
        for side in order(flip) {
            if side {
                let dir = self.ours_history.clone();
                let (took, dump) = time_stdout(&mut self.ours(&dir, &["schema", "dump"]))?;
                if !dump.contains("t000000") {
                    return Err(format!("schema dump printed no table t000000:\n{dump}"));
                }
                self.record(round, Cell::OursDump, took);
                let (took, text) = time_stdout(&mut self.ours(&dir, &["print-schema"]))?;
                self.record(round, Cell::OursPrint, took);
                ours_text = text;
            } else {
                let db = self.fresh("diesel-history.sqlite")?;
                let took = time(&mut self.diesel_run(&db, &self.diesel_history), None)?;
                self.record(round, Cell::DieselRun, took);
                let url = db.display().to_string();
                let (print, text) = time_stdout(&mut self.diesel_print(&url))?;
                self.record(round, Cell::DieselPrint, print);
                self.record(round, Cell::DieselReplayTotal, took + print);
                diesel_text = text;
                let db = self.fresh("alembic-history.sqlite")?;
                let took = time(
                    self.alembic_command(&self.alembic_ini, &db)
                        .args(["upgrade", "head"]),
                    None,
                )?;
                self.record(round, Cell::AlembicUpgrade, took);
            }
        }
        self.findings.same_schema_rs = Some(first_difference(&ours_text, &diesel_text));
        Ok(())
    }

    /// Part 2 on SQLite: is the committed `src/schema.rs` current?
    fn check_sqlite(&mut self, round: usize, flip: bool) -> Result<(), String> {
        let committed = self.root.join("src/schema.rs");
        for side in order(flip) {
            if side {
                let migrations = self.root.join("migrations");
                let mut c = self.ours(&migrations, &["print-schema", "--check"]);
                c.arg(&committed);
                let (took, current) = checked(&mut c)?;
                self.record(round, Cell::OursCheckSqlite, took);
                self.findings.ours_current_sqlite = Some(current);
            } else {
                let db = self.fresh("diesel-example.sqlite")?;
                let run = time(&mut self.diesel_run(&db, &self.example_diesel_sqlite), None)?;
                let (print, text) = time_stdout(&mut self.diesel_print(&db.display().to_string()))?;
                let (compare, equal) = compare(&text, &committed)?;
                self.record(round, Cell::DieselCheckSqlite, run + print + compare);
                self.findings.diesel_current_sqlite = Some(equal);
            }
        }
        Ok(())
    }

    /// The database diesel's PostgreSQL rows reset.
    fn pg_database(&self) -> String {
        format!("bench_schema_{}", std::process::id())
    }

    /// `diesel database reset` of the example on `pg`'s database `db`, then
    /// `diesel print-schema`: the time of both, and the text.
    fn diesel_postgres_print(&self, pg: &str, db: &str) -> Result<(Duration, String), String> {
        let url = format!("{pg}/{db}");
        let mut reset = self.diesel(&["database", "reset"]);
        reset
            .args(["--database-url", &url])
            .arg("--migration-dir")
            .arg(&self.example_diesel_postgres);
        let took = time(&mut reset, None)?;
        let (print, text) = time_stdout(&mut self.diesel_print(&url))?;
        Ok((took + print, text))
    }

    /// Part 2 on PostgreSQL.
    fn check_postgres(&mut self, round: usize, flip: bool) -> Result<(), String> {
        let Some(pg) = self.pg_url.clone() else {
            return Ok(());
        };
        for side in order(flip) {
            if side {
                let migrations = self.root.join("migrations");
                let server = format!("{pg}/postgres");
                let mut c = self.ours(
                    &migrations,
                    &[
                        "print-schema",
                        "--dialect",
                        "postgresql",
                        "--db",
                        &server,
                        "--check",
                    ],
                );
                c.arg(&self.postgres_reference);
                let (took, current) = checked(&mut c)?;
                self.record(round, Cell::OursCheckPostgres, took);
                self.findings.ours_current_postgres = Some(current);
            } else {
                let db = self.pg_database();
                let result = self.diesel_postgres_print(&pg, &db);
                psql_admin(&pg, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
                let (took, text) = result?;
                let (compare, equal) = compare(&text, &self.postgres_reference)?;
                if !equal {
                    return Err("diesel print-schema on PostgreSQL printed another text than in the first run".to_string());
                }
                self.record(round, Cell::DieselCheckPostgres, took + compare);
            }
        }
        Ok(())
    }

    /// Part 3: a migration generated from the changed model.
    fn autogenerate(&mut self, round: usize, flip: bool) -> Result<(), String> {
        for side in order(flip) {
            if side {
                if self.findings.ours_autogenerate {
                    let took = self.ours_autogenerate(None)?;
                    self.record(round, Cell::OursAutogenerate, took);
                    if let Some(pg) = self.pg_url.clone() {
                        let took = self.ours_autogenerate(Some(&pg))?;
                        self.record(round, Cell::OursAutogeneratePostgres, took);
                    }
                }
            } else {
                let _ = fs::remove_dir_all(&self.diesel_autogen);
                mkdir(&self.diesel_autogen)?;
                let mut c = self.diesel(&["migration", "generate"]);
                c.arg(format!("--diff-schema={}", self.model_rs.display()))
                    .arg("--database-url")
                    .arg(&self.diesel_head)
                    .arg("--migration-dir")
                    .arg(&self.diesel_autogen)
                    .arg(AUTOGEN_MESSAGE.replace(' ', "_"));
                let took = time(&mut c, None)?;
                let written = new_files(&self.diesel_autogen, &[], "up.sql")?;
                expect_change(&written, "diesel migration generate --diff-schema", &[])?;
                self.record(round, Cell::DieselAutogenerate, took);

                let versions = self.alembic_autogen.join("versions");
                let before = listing(&versions)?;
                let ini = self.alembic_autogen.join("alembic.ini");
                let took = time(
                    self.alembic_command(&ini, &self.alembic_head).args([
                        "revision",
                        "--autogenerate",
                        "-m",
                        AUTOGEN_MESSAGE,
                    ]),
                    None,
                )?;
                let written = new_files(&versions, &before, ".py")?;
                expect_change(
                    &written,
                    "alembic revision --autogenerate",
                    &["alter_column"],
                )?;
                for file in written {
                    fs::remove_file(&file).map_err(|e| e.to_string())?;
                }
                self.record(round, Cell::AlembicAutogenerate, took);
            }
        }
        Ok(())
    }

    /// THIS PROJECT'S AUTOGENERATE ROWS: `alembix new-migration --autogenerate
    /// -m MSG --model schema.rs` in a copy of the example declaring SQLite only
    /// (SQLite's SQL, as diesel and Alembic write it here), and with
    /// `servers` in a copy declaring SQLite and PostgreSQL (`--db URL`:
    /// replayed and proven in a scratch database there too), timed;
    /// the file it writes is checked to add the table and the column, then
    /// removed.
    fn ours_autogenerate(&mut self, servers: Option<&str>) -> Result<Duration, String> {
        let dir = match servers {
            None => self.ours_autogen.clone(),
            Some(_) => self.ours_autogen_pg.clone(),
        };
        let before = listing(&dir)?;
        let mut c = self.ours(
            &dir,
            &["new-migration", "--autogenerate", "-m", AUTOGEN_MESSAGE],
        );
        if let Some(pg) = servers {
            c.arg("--db").arg(format!("{pg}/postgres"));
        }
        c.arg("--model").arg(&self.model_rs);
        let took = time(&mut c, None)?;
        let written = new_files(&dir, &before, ".sql")?;
        expect_change(&written, "alembix new-migration --autogenerate", &[])?;
        for file in written {
            fs::remove_file(&file).map_err(|e| e.to_string())?;
        }
        Ok(took)
    }

    /// Versions of everything measured.
    fn versions(&self, venv: &Venv) -> Vec<(String, String)> {
        let first_line = |c: &mut Command| {
            capture(c)
                .ok()
                .and_then(|s| s.lines().next().map(|l| l.trim().to_string()))
        };
        let mut out = Vec::new();
        if let Some(v) = first_line(Command::new(&self.alembix).arg("--version")) {
            out.push(("alembix (release build)".to_string(), v));
        }
        // `diesel --version` prints `diesel`, then ` Version: 2.3.14`, then its backends.
        if let Ok(v) = capture(Command::new(&self.diesel).arg("--version")) {
            let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push(("diesel_cli".to_string(), v));
        }
        for d in ["alembic", "sqlalchemy"] {
            if let Ok(v) = venv.version(d) {
                out.push((d.to_string(), v));
            }
        }
        if let Ok(v) = venv.sqlite_version() {
            out.push(("SQLite of Python's sqlite3 module (Alembic)".to_string(), v));
        }
        if let Some(pg) = &self.pg_url {
            if let Ok(v) = psql_admin(pg, "SHOW server_version") {
                out.push(("PostgreSQL server".to_string(), v.trim().to_string()));
            }
        }
        out
    }
}

/// Which side runs first: `true` is this project.
fn order(flip: bool) -> [bool; 2] {
    if flip {
        [false, true]
    } else {
        [true, false]
    }
}

/// Runs a `--check` command: its time, and whether the file was current
/// (exit 0) or stale (exit 7); any other exit is an error.
fn checked(command: &mut Command) -> Result<(Duration, bool), String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let (took, out) = run_timed(command)?;
    match out.status.code() {
        Some(0) => Ok((took, true)),
        Some(7) => Ok((took, false)),
        _ => Err(failure(command, &out)),
    }
}

/// Whether `text` is byte for byte the file `committed`, and how long reading
/// and comparing took.
fn compare(text: &str, committed: &Path) -> Result<(Duration, bool), String> {
    let t = Instant::now();
    let file = fs::read(committed).map_err(|e| format!("{}: {e}", committed.display()))?;
    let equal = file == text.as_bytes();
    Ok((t.elapsed(), equal))
}

/// `Ok` when `ours` and `theirs` are the same text, else where they part: the
/// first differing line of each, and whether they differ in layout only.
fn first_difference(ours: &str, theirs: &str) -> Result<(), String> {
    if ours == theirs {
        return Ok(());
    }
    let (line, (a, b)) = ours
        .lines()
        .chain(std::iter::repeat(""))
        .zip(theirs.lines().chain(std::iter::repeat("")))
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .unwrap_or((0, ("", "")));
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let layout = if words(ours) == words(theirs) {
        "in layout only (equal when whitespace is ignored)"
    } else {
        "in content"
    };
    Err(format!(
        "they differ {layout}, first at line {}: ours `{}`, diesel's `{}`",
        line + 1,
        a.trim(),
        b.trim()
    ))
}

/// The files below `dir` (recursively) ending in `suffix` that are not in `before`.
fn new_files(dir: &Path, before: &[PathBuf], suffix: &str) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) && !before.contains(&path) {
                found.push(path);
            }
        }
    }
    Ok(found)
}

/// The files directly in `dir`.
fn listing(dir: &Path) -> Result<Vec<PathBuf>, String> {
    fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .map(|e| e.map(|e| e.path()).map_err(|e| e.to_string()))
        .collect()
}

/// The words a generated migration must not hold: the tables the change
/// leaves alone (`guilds` is named by the new foreign key).
const UNTOUCHED: &[&str] = &["forum_config", "github_config", "permission_"];

/// One file was written, it adds the table and the column, and it names
/// neither [`UNTOUCHED`] tables nor any of `unexpected`.
fn expect_change(written: &[PathBuf], what: &str, unexpected: &[&str]) -> Result<(), String> {
    let [file] = written else {
        return Err(format!(
            "{what} wrote {} files, one expected",
            written.len()
        ));
    };
    let text = read(file)?;
    let stray = UNTOUCHED
        .iter()
        .chain(unexpected)
        .find(|word| text.contains(**word));
    if !(text.contains("reminders") && text.contains("bio")) || stray.is_some() {
        return Err(format!(
            "{what} wrote {}, which is not just the reminders table and users.bio{}:\n{text}",
            file.display(),
            stray
                .map(|w| format!(" (it names {w})"))
                .unwrap_or_default()
        ));
    }
    Ok(())
}

/// The committed `schema.rs` with a `reminders` table (joinable to `guilds`)
/// and a `users.bio` column: the model part 3 generates a migration for.
fn changed_model(committed: &str) -> Result<String, String> {
    let edits = [
        (
            "diesel::table! {\n    users (",
            "diesel::table! {\n    reminders (id) {\n        id -> BigInt,\n        guild_id -> BigInt,\n        note -> Text,\n        due_at -> Timestamp,\n    }\n}\n\ndiesel::table! {\n    users (",
        ),
        (
            "        display_name -> Nullable<Text>,\n    }\n}",
            "        display_name -> Nullable<Text>,\n        bio -> Nullable<Text>,\n    }\n}",
        ),
        (
            "diesel::joinable!(users -> guilds",
            "diesel::joinable!(reminders -> guilds (guild_id));\ndiesel::joinable!(users -> guilds",
        ),
        ("    users,\n);", "    reminders,\n    users,\n);"),
    ];
    let mut text = committed.to_string();
    for (from, to) in edits {
        if text.matches(from).count() != 1 {
            return Err(format!(
                "src/schema.rs has changed: `{from}` is not there exactly once; update the bench-schema model"
            ));
        }
        text = text.replacen(from, to, 1);
    }
    Ok(text)
}

/// The example's history, in an order that applies (each migration after its parents).
struct Example {
    set: MigrationSet,
}

/// One migration of the example, for a contender without a graph.
struct Step<'a> {
    /// `0003_github_config`: the folder name diesel orders by.
    slug: String,
    file: &'a alembix_core::MigrationFile,
}

impl Example {
    fn read(root: &Path) -> Result<Example, String> {
        let sources =
            alembix_core::scan::scan_folder(root, "migrations").map_err(|p| p.to_string())?;
        let settings =
            alembix_core::scan::read_settings(root, "migrations").map_err(|p| p.to_string())?;
        let set =
            MigrationSet::from_sources_with_settings(&sources, &GraphOptions::default(), &settings)
                .map_err(|p| p.to_string())?;
        let mut seen = Vec::new();
        for f in set.files() {
            if let Some(p) = f.down_revisions.iter().find(|p| !seen.contains(p)) {
                return Err(format!(
                    "{}: its parent {p} comes later in load order",
                    f.file
                ));
            }
            seen.push(&f.revision);
        }
        Ok(Example { set })
    }

    /// The migrations in load order, merges (empty) left out.
    fn steps(&self) -> Vec<Step<'_>> {
        self.set
            .files()
            .iter()
            .filter(|f| !f.upgrade.is_empty())
            .enumerate()
            .map(|(i, file)| Step {
                slug: format!(
                    "{:04}_{}",
                    i + 1,
                    file.message
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .take(4)
                        .collect::<Vec<_>>()
                        .join("_")
                ),
                file,
            })
            .collect()
    }

    /// A diesel_migrations folder: per migration `up.sql` (the upgrade
    /// `dialect` runs) and `down.sql`.
    fn write_diesel(&self, dir: &Path, dialect: SqlDialect) -> Result<(), String> {
        let _ = fs::remove_dir_all(dir);
        for step in self.steps() {
            let sub = dir.join(&step.slug);
            mkdir(&sub)?;
            let up = step.file.upgrade.text(dialect).unwrap_or_default();
            let down = step
                .file
                .downgrade
                .as_ref()
                .and_then(|d| d.text(dialect))
                .unwrap_or_default();
            write(&sub.join("up.sql"), &format!("{}\n", up.trim()))?;
            write(&sub.join("down.sql"), &format!("{}\n", down.trim()))?;
        }
        Ok(())
    }

    /// An Alembic project of the example: `op.execute` of SQLite's statements,
    /// the same revision ids and graph, `models.py` with the changed model,
    /// and `script`, the `script.py.mako` new revisions are rendered from.
    fn write_alembic(&self, dir: &Path, script: &str) -> Result<(), String> {
        let versions = dir.join("versions");
        mkdir(&versions)?;
        write(
            &dir.join("alembic.ini"),
            &format!("{AUTOGEN_INI}\n{INI_LOGGING}"),
        )?;
        write(&dir.join("env.py"), AUTOGEN_ENV_PY)?;
        write(&dir.join("models.py"), MODELS_PY)?;
        write(&dir.join("script.py.mako"), script)?;
        for (i, f) in self.set.files().iter().enumerate() {
            let body = |section: Option<&alembix_core::Section>| -> Result<String, String> {
                let mut out = String::new();
                for s in section.map_or(&[][..], |s| s.statements(SqlDialect::Sqlite)) {
                    let sql = s.sql.trim().trim_end_matches(';');
                    if sql.contains("\"\"\"") || sql.contains('\\') {
                        return Err(format!("{}: a statement Python cannot quote as is", f.file));
                    }
                    let _ = writeln!(out, "    op.execute(\"\"\"{sql}\"\"\")");
                }
                if out.is_empty() {
                    out.push_str("    pass\n");
                }
                Ok(out)
            };
            let down = match f.down_revisions.as_slice() {
                [] => "None".to_string(),
                [one] => format!("\"{one}\""),
                many => format!(
                    "({})",
                    many.iter()
                        .map(|p| format!("\"{p}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let text = format!(
                "\"\"\"{message}\"\"\"\nfrom alembic import op\n\nrevision = \"{rev}\"\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{up}\n\ndef downgrade():\n{downgrade}",
                message = f.message.replace('"', "'"),
                rev = f.revision,
                up = body(Some(&f.upgrade))?,
                downgrade = body(f.downgrade.as_ref())?,
            );
            write(&versions.join(format!("{i:02}_{}.py", f.revision)), &text)?;
        }
        Ok(())
    }
}

/// The `alembic.ini` of the example's Alembic project.
const AUTOGEN_INI: &str = "# Generated by `cargo xtask bench-schema`.
[alembic]
script_location = %(here)s
prepend_sys_path = .
path_separator = os
";

/// Online, `DATABASE_URL`, the models' metadata for autogenerate.
const AUTOGEN_ENV_PY: &str = r#""""Alembic environment of `cargo xtask bench-schema`: online, DATABASE_URL,
the models' metadata for autogenerate."""
import os
import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import Base  # noqa: E402

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
"#;

/// The example's schema as SQLAlchemy models, plus the table and the column
/// part 3 adds (`reminders`, `users.bio`).
const MODELS_PY: &str = r#""""The example service's schema (`migrations/` at head) as SQLAlchemy
models, plus what the new migration adds: the `reminders` table and
`users.bio`. The expression index `users_by_name` is left out: SQLAlchemy does
not reflect expression indexes on SQLite, so Alembic compares neither side.
SQLite lets a `BIGINT PRIMARY KEY` column hold NULL (only `INTEGER PRIMARY KEY`
is the rowid), so those keys are declared nullable, as diesel prints them."""
import datetime
from typing import Optional

from sqlalchemy import TIMESTAMP, BigInteger, Boolean, ForeignKey, PrimaryKeyConstraint, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Guild(Base):
    __tablename__ = "guilds"
    id: Mapped[Optional[int]] = mapped_column(
        BigInteger, primary_key=True, nullable=True, autoincrement=False
    )
    name: Mapped[str] = mapped_column(String(100))
    joined_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        TIMESTAMP, server_default=text("CURRENT_TIMESTAMP")
    )


class User(Base):
    __tablename__ = "users"
    __table_args__ = (PrimaryKeyConstraint("guild_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("guilds.id"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        TIMESTAMP, server_default=text("CURRENT_TIMESTAMP")
    )
    display_name: Mapped[Optional[str]] = mapped_column(String(100))
    bio: Mapped[Optional[str]] = mapped_column(String(200))


class ForumConfig(Base):
    __tablename__ = "forum_config"
    guild_id: Mapped[Optional[int]] = mapped_column(
        BigInteger, ForeignKey("guilds.id"), primary_key=True, nullable=True, autoincrement=False
    )
    forum_url: Mapped[str] = mapped_column(String(200))
    category: Mapped[Optional[str]] = mapped_column(String(100))


class GithubConfig(Base):
    __tablename__ = "github_config"
    guild_id: Mapped[Optional[int]] = mapped_column(
        BigInteger, ForeignKey("guilds.id"), primary_key=True, nullable=True, autoincrement=False
    )
    repository: Mapped[str] = mapped_column(String(200))
    announce_channel: Mapped[Optional[int]] = mapped_column(BigInteger)
    announce_releases: Mapped[bool] = mapped_column(Boolean, server_default=text("TRUE"))


class PermissionList(Base):
    __tablename__ = "permission_lists"
    guild_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("guilds.id"), primary_key=True)
    role_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    permission: Mapped[str] = mapped_column(String(100), primary_key=True)


class PermissionDefault(Base):
    __tablename__ = "permission_defaults"
    role_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    permission: Mapped[str] = mapped_column(String(100), primary_key=True)


class Reminder(Base):
    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("guilds.id"))
    note: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime.datetime] = mapped_column(TIMESTAMP)
"#;

fn mkdir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The median of `cell`, if measured.
fn med(bench: &Bench, cell: Cell) -> Option<Duration> {
    bench.samples.get(&cell).and_then(|s| median(s))
}

/// `0.12×`: this project's time over the other tool's.
fn ratio(ours: Option<Duration>, theirs: Option<Duration>) -> String {
    match (ours, theirs) {
        (Some(o), Some(t)) if !t.is_zero() => format!("{:.2}×", o.as_secs_f64() / t.as_secs_f64()),
        _ => "—".to_string(),
    }
}

fn cell(d: Option<Duration>) -> String {
    d.map_or_else(|| "—".to_string(), short)
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not measured",
    }
}

/// `1,000`: a count with thousands separated.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render(args: &SchemaBenchArgs, bench: &Bench, machine: &Machine) -> String {
    let n = thousands(args.migrations);
    let m = |c| med(bench, c);
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmark: the schema commands\n");
    let _ = writeln!(
        md,
        "The schema commands of the release `alembix` binary, each beside what a user of diesel_cli or Alembic runs for the same work. Whole processes, medians of {} runs after a warm-up; ratios are this project's time over the other tool's (below 1: faster). Reproduce:\n",
        args.runs
    );
    let _ = writeln!(md, "```sh\n{}\n```\n", machine.command);
    let load = machine
        .mean_load()
        .map_or_else(|| "not sampled".to_string(), |l| format!("{l:.2}"));
    let _ = writeln!(
        md,
        "Measured {} on {} ({} logical CPUs, shared: mean 1-minute load before the parts {load}).\n",
        machine.date, machine.cpu, machine.nproc
    );
    let _ = writeln!(
        md,
        "| work | this project | median | other tool | median | ours / theirs |\n| --- | --- | ---: | --- | ---: | ---: |"
    );
    let diesel_sum = m(Cell::DieselReplayTotal);
    let diesel_cell = format!(
        "{} (run {} + print {})",
        cell(diesel_sum),
        cell(m(Cell::DieselRun)),
        cell(m(Cell::DieselPrint))
    );
    let _ = writeln!(
        md,
        "| replay {n} migrations (SQLite) and dump the schema | `alembix schema dump` | {} | diesel_cli: `diesel migration run` (fresh file) + `diesel print-schema` | {diesel_cell} | {} |",
        cell(m(Cell::OursDump)),
        ratio(m(Cell::OursDump), diesel_sum)
    );
    let _ = writeln!(
        md,
        "| replay {n} migrations (SQLite) and write `schema.rs` | `alembix print-schema` | {} | diesel_cli: `diesel migration run` (fresh file) + `diesel print-schema` | {diesel_cell} | {} |",
        cell(m(Cell::OursPrint)),
        ratio(m(Cell::OursPrint), diesel_sum)
    );
    let _ = writeln!(
        md,
        "| replay {n} migrations (SQLite) | `alembix schema dump` (replay **and** dump) | {} | Alembic: `alembic upgrade head` (fresh file; replay only, Alembic has no dump) | {} | {} |",
        cell(m(Cell::OursDump)),
        cell(m(Cell::AlembicUpgrade)),
        ratio(m(Cell::OursDump), m(Cell::AlembicUpgrade))
    );
    let _ = writeln!(
        md,
        "| is `src/schema.rs` current? example history, SQLite | `alembix print-schema --check src/schema.rs` | {} | diesel_cli: `diesel migration run` (fresh file) + `diesel print-schema` + byte compare | {} | {} |",
        cell(m(Cell::OursCheckSqlite)),
        cell(m(Cell::DieselCheckSqlite)),
        ratio(m(Cell::OursCheckSqlite), m(Cell::DieselCheckSqlite))
    );
    if bench.pg_url.is_some() {
        let _ = writeln!(
            md,
            "| is `schema.rs` current? example history, PostgreSQL | `alembix print-schema --check FILE --dialect postgresql --db …` | {} | diesel_cli: `diesel database reset` + `diesel print-schema` + byte compare | {} | {} |",
            cell(m(Cell::OursCheckPostgres)),
            cell(m(Cell::DieselCheckPostgres)),
            ratio(m(Cell::OursCheckPostgres), m(Cell::DieselCheckPostgres))
        );
    }
    let ours_auto = if bench.findings.ours_autogenerate {
        cell(m(Cell::OursAutogenerate))
    } else {
        "not yet available".to_string()
    };
    let _ = writeln!(
        md,
        "| a migration from a changed model (example + 1 table + 1 column) | `alembix new-migration --autogenerate --model schema.rs` (the example made SQLite-only) | {ours_auto} | diesel_cli: `diesel migration generate --diff-schema=schema.rs` | {} | {} |",
        cell(m(Cell::DieselAutogenerate)),
        ratio(m(Cell::OursAutogenerate), m(Cell::DieselAutogenerate))
    );
    let _ = writeln!(
        md,
        "| a migration from a changed model (example + 1 table + 1 column) | `alembix new-migration --autogenerate --model schema.rs` (the example made SQLite-only) | {ours_auto} | Alembic: `alembic revision --autogenerate` (SQLAlchemy models) | {} | {} |",
        cell(m(Cell::AlembicAutogenerate)),
        ratio(m(Cell::OursAutogenerate), m(Cell::AlembicAutogenerate))
    );
    if bench.pg_url.is_some() {
        let ours_both = if bench.findings.ours_autogenerate {
            cell(m(Cell::OursAutogeneratePostgres))
        } else {
            "not yet available".to_string()
        };
        let _ = writeln!(
            md,
            "| the same migration, SQL for SQLite and PostgreSQL | `alembix new-migration --autogenerate --db … --model schema.rs` (the example declaring SQLite and PostgreSQL) | {ours_both} | — (diesel and Alembic write one database's SQL per run) | — | — |"
        );
    }
    let f = &bench.findings;
    let _ = writeln!(md, "\nWhat the runs found besides the times:\n");
    let same = match &f.same_schema_rs {
        None => "not measured".to_string(),
        Some(Ok(())) => "yes".to_string(),
        Some(Err(how)) => format!("no — {how}"),
    };
    let _ = writeln!(
        md,
        "- `alembix print-schema` and `diesel print-schema` print the same text for the {n}-migration history: {same}."
    );
    let _ = writeln!(
        md,
        "- The committed `src/schema.rs` is current (SQLite): `print-schema --check` says {}, diesel's output equals it byte for byte: {}.",
        yes_no(f.ours_current_sqlite),
        yes_no(f.diesel_current_sqlite)
    );
    if bench.pg_url.is_some() {
        let _ = writeln!(
            md,
            "- On PostgreSQL, `print-schema --check` accepts diesel's own `print-schema` output of the example: {}.",
            yes_no(f.ours_current_postgres)
        );
    }
    let _ = writeln!(
        md,
        "- Every generated migration (each tool, each round) was checked to add `reminders` and `users.bio`, then removed.\n"
    );
    let _ = writeln!(md, "## What each row measures\n");
    let _ = writeln!(md, "- **Replay and dump** ({n} migrations): the history `cargo xtask bench` generates — migration *i* creates table `t<i>` (five columns) and an index on it, and from the second on adds a column to `t<i/2>` — written once per tool: this project's `.sql` files, a diesel_migrations folder (`up.sql`/`down.sql` per migration), an Alembic project with one `op.execute` per statement (`transaction_per_migration`). `alembix schema dump --dir <folder>` and `alembix print-schema --dir <folder>` each replay the history into SQLite in memory and read the schema back (as text, or as diesel's `schema.rs`). diesel needs a database: `diesel migration run --database-url <fresh file>` then `diesel print-schema`; its cell gives the median of the two together (what the ratio uses), then the median of each. Alembic has no dump: `alembic upgrade head` on a fresh file is only the replay half of the work.");
    let _ = writeln!(md, "- **Is `schema.rs` current?** The example service's history (`migrations/`, nine files with a merge and dialect variants) and its committed `src/schema.rs`. Ours: `alembix print-schema --check src/schema.rs --dir migrations` (replays in memory, compares, exit 0 or 7). diesel's way: the same history as a diesel_migrations folder (the upgrade SQL SQLite runs as `up.sql`, the empty merge left out), `diesel migration run` on a fresh file, `diesel print-schema`, and a byte compare (in this process, counted). On PostgreSQL ours replays into a scratch database it creates and drops on the server; diesel's fresh database is `diesel database reset` (drop, create, run), and the file both compare with is diesel's own `print-schema` output of the example (made before the rounds).");
    let _ = writeln!(md, "- **A migration from a changed model**: the model is the example's schema plus a table `reminders` (joinable to `guilds`) and a column `users.bio`, as a diesel `schema.rs` (ours and diesel) and as SQLAlchemy declarative models (Alembic, which also needs the revision scripts: the example's history as an Alembic project with the same revision ids). diesel and Alembic compare the model with a SQLite database at head made before the rounds. Ours needs no database: it replays the history in SQLite in memory, writes SQLite's SQL (on a copy of the example declaring SQLite only, its one MySQL variant left out: autogenerate writes SQL for every dialect a history declares, and PostgreSQL's and MySQL's would need a server each), and proves the file it wrote on a fresh in-memory replay before it exits; the last row runs on a copy declaring SQLite and PostgreSQL (`--db` for the server), replayed and proven in scratch databases it creates and drops on the server. Each tool writes one migration; it is checked and removed before the next round.");
    let _ = writeln!(md, "- Every tool runs as a user runs it: the release `alembix` binary, diesel_cli's `diesel` (`--config-file` with an empty `[print_schema]`, so no project configuration applies), the venv's `alembic` console script.\n");
    let _ = writeln!(md, "Versions:\n");
    for (what, version) in &machine.versions {
        let _ = writeln!(md, "- {what}: {version}");
    }
    md
}

/// A copy of the example's migrations folder at `dest` declaring
/// `dialects` only: variant sections of the other dialects are left out.
fn copy_example(from: &Path, dest: &Path, dialects: &[&str]) -> Result<(), String> {
    let _ = fs::remove_dir_all(dest);
    mkdir(dest)?;
    for entry in fs::read_dir(from).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        if name == "alembix.toml" {
            let list: Vec<String> = dialects.iter().map(|d| format!("\"{d}\"")).collect();
            write(
                &dest.join(name),
                &format!("dialects = [{}]\n", list.join(", ")),
            )?;
            continue;
        }
        if !path.is_file() {
            continue;
        }
        let mut keep = true;
        let mut text = String::new();
        for line in read(&path)?.lines() {
            if let Some(marker) = line.strip_prefix("-- migrate:") {
                let variant = marker.split_whitespace().nth(1);
                keep = variant.is_none_or(|d| dialects.contains(&d));
            }
            if keep {
                text.push_str(line);
                text.push('\n');
            }
        }
        write(&dest.join(name), &text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_changed_model_adds_a_table_and_a_column() {
        let committed = fs::read_to_string(crate::workspace_root().join("src/schema.rs")).unwrap();
        let model = changed_model(&committed).unwrap();
        assert!(model.contains("    reminders (id) {"));
        assert!(model.contains("        bio -> Nullable<Text>,\n    }\n}\n\ndiesel::joinable!"));
        assert!(model.contains("diesel::joinable!(reminders -> guilds (guild_id));"));
        assert!(changed_model("diesel::table! {}").is_err());
    }

    #[test]
    fn counts_read_with_thousands_separated() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_example_writes_diesel_and_alembic_forms() {
        let example = Example::read(&crate::workspace_root()).unwrap();
        let steps = example.steps();
        assert_eq!(
            steps.len(),
            example.set.files().len() - 1,
            "the merge is left out"
        );
        let dir = tempfile::tempdir().unwrap();
        example
            .write_diesel(&dir.path().join("d"), SqlDialect::Sqlite)
            .unwrap();
        let up =
            fs::read_to_string(dir.path().join("d").join(&steps[1].slug).join("up.sql")).unwrap();
        assert!(
            up.contains("lower(name)"),
            "SQLite runs the default section: {up}"
        );
        example.write_alembic(&dir.path().join("a"), "").unwrap();
        let versions = listing(&dir.path().join("a/versions")).unwrap();
        assert_eq!(versions.len(), example.set.files().len());
    }
}
