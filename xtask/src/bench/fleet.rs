//! `cargo xtask bench-fleet`: a fleet of PostgreSQL schemas (a schema per
//! tenant) brought to the heads in one command, as throughput against the
//! floor — the same SQL through as many parallel `psql` sessions as the
//! command's `--jobs` — and `check` over the fleet at head; written to
//! `BENCHMARKS-fleet.md`.
//!
//! ```text
//! cargo xtask bench-fleet                          # 1,000 schemas × 20 migrations, 4 jobs, 3 rounds
//! cargo xtask bench-fleet --schemas 100 --runs 1   # a smoke run
//! ```
//!
//! Each round gets a fresh database with the empty schemas `tenant_0000`…
//! created beforehand (not timed), for each contender in turn (their order
//! alternates): **this project** is the release `alembix` binary
//! (`alembix-cli`, feature `postgres`) running `upgrade heads --schemas
//! 'tenant\_%' --jobs J` over a folder of 20 migrations; the **floor** is J
//! `psql` processes, each given a script for its share of the schemas: per
//! schema `SET search_path`, the version table, then per migration `BEGIN`,
//! its statements, the version row, `COMMIT`. Then, at head, `check --schemas
//! … --jobs J` against J `psql` sessions reading every schema's version table.

use super::db::{capture, psql, psql_admin};
use super::measure::{median, short};
use super::report::Machine;
use super::tools::release_alembix;
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Options of `cargo xtask bench-fleet`.
#[derive(Debug, Clone, Args)]
pub struct FleetBenchArgs {
    /// Tenant schemas in the fleet.
    #[arg(long, default_value_t = 1000)]
    schemas: usize,
    /// Migrations in the history.
    #[arg(long, default_value_t = 20)]
    migrations: usize,
    /// Parallel sessions, for both contenders.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Measured rounds (after one warm-up).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// PostgreSQL server, without a database name.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgresql://postgres@127.0.0.1:5432"
    )]
    pg_url: String,
    /// Where to write the report [default: BENCHMARKS-fleet.md at the workspace root].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The contenders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Floor,
    Ours,
}

/// Runs the fleet benchmark and writes its report.
pub fn run(args: &FleetBenchArgs) -> Result<(), String> {
    let root = crate::workspace_root();
    let scratch = root.join("target/xtask-bench/fleet");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("migrations")).map_err(|e| e.to_string())?;
    write_history(&scratch.join("migrations"), args.migrations)?;
    let binary = release_alembix(&root)?;
    let command = format!(
        "cargo xtask bench-fleet --schemas {} --migrations {} --jobs {} --runs {}",
        args.schemas, args.migrations, args.jobs, args.runs
    );
    let mut machine = Machine::now(command);
    let mut upgrade: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut check: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for round in 0..=args.runs {
        let order = if round % 2 == 0 {
            [Who::Floor, Who::Ours]
        } else {
            [Who::Ours, Who::Floor]
        };
        for who in order {
            machine.sample_load();
            let db = format!("bench_fleet_{}_{round}", std::process::id());
            psql_admin(&args.pg_url, &format!("DROP DATABASE IF EXISTS {db}"))?;
            psql_admin(&args.pg_url, &format!("CREATE DATABASE {db}"))?;
            let url = format!("{}/{db}", args.pg_url);
            let result = one_round(args, &scratch, &binary, &url, who);
            psql_admin(
                &args.pg_url,
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            )?;
            let (up, at_head) = result?;
            eprintln!(
                "round {round} {who:?}: upgrade {} check {}",
                short(up),
                short(at_head)
            );
            if round > 0 {
                let i = who as usize;
                upgrade[i].push(up);
                check[i].push(at_head);
            }
        }
    }
    machine.versions = vec![
        (
            "alembix".to_string(),
            capture(Command::new(&binary).arg("--version"))?
                .trim()
                .to_string(),
        ),
        (
            "psql".to_string(),
            capture(Command::new(psql()).arg("--version"))?
                .trim()
                .to_string(),
        ),
        (
            "PostgreSQL server".to_string(),
            psql_admin(&args.pg_url, "SHOW server_version")?
                .trim()
                .to_string(),
        ),
    ];
    let report = render(args, &machine, &upgrade, &check);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("BENCHMARKS-fleet.md"));
    std::fs::write(&out, report).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// Migration `i` (1-based) creates `t<i>` with five columns and an index,
/// and adds a column to `t<i/2>`; its downgrade undoes them.
fn statements(i: usize) -> (Vec<String>, Vec<String>) {
    let mut up = vec![
        format!("CREATE TABLE t{i} (id BIGINT PRIMARY KEY, name TEXT NOT NULL, amount INTEGER, created_at TIMESTAMP, note TEXT)"),
        format!("CREATE INDEX t{i}_name ON t{i} (name)"),
    ];
    let mut down = vec![format!("DROP TABLE t{i}")];
    if i / 2 >= 1 {
        up.push(format!("ALTER TABLE t{} ADD COLUMN c{i} INTEGER", i / 2));
        down.insert(0, format!("ALTER TABLE t{} DROP COLUMN c{i}", i / 2));
    }
    (up, down)
}

fn revision(i: usize) -> String {
    format!("{i:012x}")
}

fn write_history(dir: &Path, n: usize) -> Result<(), String> {
    for i in 1..=n {
        let (up, down) = statements(i);
        let parent = if i == 1 {
            "none".to_string()
        } else {
            revision(i - 1)
        };
        let text = format!(
            "-- revision: {}\n-- down_revision: {parent}\n-- message: step {i}\n\n-- migrate:upgrade\n{};\n\n-- migrate:downgrade\n{};\n",
            revision(i),
            up.join(";\n"),
            down.join(";\n")
        );
        let file = dir.join(format!("{i:04}_step_{}.sql", revision(i)));
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

fn schema(k: usize) -> String {
    format!("tenant_{k:04}")
}

/// Creates the empty schemas, then times the contender's upgrade and check.
fn one_round(
    args: &FleetBenchArgs,
    scratch: &Path,
    binary: &Path,
    url: &str,
    who: Who,
) -> Result<(Duration, Duration), String> {
    let create: String = (0..args.schemas)
        .map(|k| format!("CREATE SCHEMA {};\n", schema(k)))
        .collect();
    run_psql_script(url, &create, &scratch.join("create.sql"))?;
    let (up, at_head) = match who {
        Who::Ours => {
            let fleet = ["--db", url, "--schemas", "tenant\\_%", "--jobs"];
            let jobs = args.jobs.to_string();
            let t = Instant::now();
            ours(
                binary,
                scratch,
                &[&["upgrade", "heads"][..], &fleet, &[&jobs]].concat(),
            )?;
            let up = t.elapsed();
            let t = Instant::now();
            ours(
                binary,
                scratch,
                &[&["check"][..], &fleet, &[&jobs]].concat(),
            )?;
            (up, t.elapsed())
        }
        Who::Floor => {
            let scripts = floor_scripts(args, scratch)?;
            let up = parallel_psql(url, &scripts.0)?;
            let at_head = parallel_psql(url, &scripts.1)?;
            (up, at_head)
        }
    };
    verify(url, args)?;
    Ok((up, at_head))
}

/// Runs the `alembix` binary in the scratch folder (which holds `migrations/`).
fn ours(binary: &Path, scratch: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new(binary)
        .args(args)
        .current_dir(scratch)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!(
            "alembix {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The floor's scripts, one per session: the upgrade, and the reads at head.
fn floor_scripts(
    args: &FleetBenchArgs,
    scratch: &Path,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let mut upgrades = Vec::new();
    let mut checks = Vec::new();
    for job in 0..args.jobs {
        let mut up = String::from("\\set ON_ERROR_STOP on\n");
        let mut check = String::from("\\set ON_ERROR_STOP on\n");
        for k in (job..args.schemas).step_by(args.jobs) {
            let s = schema(k);
            let _ = writeln!(up, "SET search_path TO {s};");
            let _ = writeln!(
                up,
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));"
            );
            for i in 1..=args.migrations {
                let (statements, _) = statements(i);
                let _ = writeln!(up, "BEGIN;");
                for st in statements {
                    let _ = writeln!(up, "{st};");
                }
                if i == 1 {
                    let _ = writeln!(
                        up,
                        "INSERT INTO alembic_version (version_num) VALUES ('{}');",
                        revision(i)
                    );
                } else {
                    let _ = writeln!(
                        up,
                        "UPDATE alembic_version SET version_num='{}' WHERE alembic_version.version_num = '{}';",
                        revision(i),
                        revision(i - 1)
                    );
                }
                let _ = writeln!(up, "COMMIT;");
            }
            let _ = writeln!(check, "SELECT version_num FROM {s}.alembic_version;");
        }
        let up_file = scratch.join(format!("floor-up-{job}.sql"));
        let check_file = scratch.join(format!("floor-check-{job}.sql"));
        std::fs::write(&up_file, up).map_err(|e| e.to_string())?;
        std::fs::write(&check_file, check).map_err(|e| e.to_string())?;
        upgrades.push(up_file);
        checks.push(check_file);
    }
    Ok((upgrades, checks))
}

fn run_psql_script(url: &str, sql: &str, file: &Path) -> Result<(), String> {
    std::fs::write(file, sql).map_err(|e| e.to_string())?;
    capture(
        Command::new(psql())
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(file)
            .arg(url),
    )?;
    Ok(())
}

/// Starts one `psql` per script and waits for all: the wall time.
fn parallel_psql(url: &str, scripts: &[PathBuf]) -> Result<Duration, String> {
    let t = Instant::now();
    let children: Vec<_> = scripts
        .iter()
        .map(|s| {
            Command::new(psql())
                .args(["-X", "-q", "-o", "/dev/null", "-f"])
                .arg(s)
                .arg(url)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run psql: {e}"))
        })
        .collect::<Result<_, _>>()?;
    for child in children {
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(t.elapsed())
}

/// Every schema is at the last revision with every table.
fn verify(url: &str, args: &FleetBenchArgs) -> Result<(), String> {
    let head = revision(args.migrations);
    let counts = "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_schema LIKE 'tenant\\_%' AND table_name LIKE 't%'), (SELECT count(DISTINCT table_schema) FROM information_schema.tables WHERE table_schema LIKE 'tenant\\_%' AND table_name = 'alembic_version')";
    let out = capture(
        Command::new(psql())
            .args(["-X", "-q", "-A", "-t", "-c", counts])
            .arg(url),
    )?;
    let expected = format!("{}|{}", args.schemas * args.migrations, args.schemas);
    if out.trim() != expected {
        return Err(format!(
            "after the run: tables|version tables = {}, expected {expected}",
            out.trim()
        ));
    }
    let heads = capture(
        Command::new(psql())
            .args(["-X", "-q", "-A", "-t", "-c"])
            .arg(format!(
                "SELECT version_num FROM {}.alembic_version",
                schema(args.schemas - 1)
            ))
            .arg(url),
    )?;
    if heads.trim() != head {
        return Err(format!(
            "the last schema is at {}, expected {head}",
            heads.trim()
        ));
    }
    Ok(())
}

fn render(
    args: &FleetBenchArgs,
    machine: &Machine,
    upgrade: &[Vec<Duration>; 2],
    check: &[Vec<Duration>; 2],
) -> String {
    let med = |v: &Vec<Duration>| median(v).unwrap_or_default();
    let (floor_up, ours_up) = (med(&upgrade[0]), med(&upgrade[1]));
    let (floor_check, ours_check) = (med(&check[0]), med(&check[1]));
    let migrations = (args.schemas * args.migrations) as f64;
    let rate = |d: Duration| migrations / d.as_secs_f64().max(1e-9);
    let mut md = String::new();
    let _ = writeln!(md, "# Fleet benchmark\n");
    let _ = writeln!(
        md,
        "{} PostgreSQL schemas × {} migrations brought to head in one command, {} parallel sessions for both contenders; then `check` over the fleet at head. Medians of {} rounds after a warm-up. Reproduce:\n",
        args.schemas, args.migrations, args.jobs, args.runs
    );
    let _ = writeln!(md, "```sh\n{}\n```\n", machine.command);
    let _ = writeln!(md, "| operation | floor (`psql` × {}) | this project (`alembix … --jobs {}`) | throughput vs floor |", args.jobs, args.jobs);
    let _ = writeln!(md, "| --- | ---: | ---: | ---: |");
    let _ = writeln!(
        md,
        "| upgrade heads: {} schemas × {} migrations | {} ({:.0} migrations/s) | {} ({:.0} migrations/s) | {:.0} % |",
        args.schemas,
        args.migrations,
        short(floor_up),
        rate(floor_up),
        short(ours_up),
        rate(ours_up),
        100.0 * floor_up.as_secs_f64() / ours_up.as_secs_f64().max(1e-9)
    );
    let _ = writeln!(
        md,
        "| check at head: {} schemas | {} | {} | {:.0} % |\n",
        args.schemas,
        short(floor_check),
        short(ours_check),
        100.0 * floor_check.as_secs_f64() / ours_check.as_secs_f64().max(1e-9)
    );
    let _ = writeln!(md, "## How it is measured\n");
    let _ = writeln!(md, "- **History**: migration *i* creates table `t<i>` (five columns) and an index on it and adds a column to `t<i/2>` (the main benchmark's shape).");
    let _ = writeln!(md, "- **This project**: the release `alembix` binary (`alembix-cli`, feature `postgres`) over a folder with the history: `upgrade heads --db URL --schemas 'tenant\\_%' --jobs J`, then `check` with the same fleet. Each schema gets its own version and history tables and its own run lock; a worker keeps its connection from schema to schema.");
    let _ = writeln!(md, "- **Floor**: J `psql` processes started at once, each with a script for every J-th schema: `SET search_path`, the version table, then per migration `BEGIN`, its statements, the version row, `COMMIT`. At head, J `psql` sessions each read every J-th schema's version table. No lock, no history table, no checksum.");
    let _ = writeln!(md, "- **Rounds**: each contender gets a fresh database with the empty schemas created beforehand (not timed); the order alternates from round to round; after each run every schema is checked to hold all tables and the last revision.\n");
    let load = machine
        .mean_load()
        .map_or_else(|| "unknown".to_string(), |mean| format!("{mean:.2}"));
    let _ = writeln!(
        md,
        "Machine: {}, {}, {} logical CPUs, mean 1-minute load before rounds {load}.\n",
        machine.date, machine.cpu, machine.nproc
    );
    let _ = writeln!(md, "Versions:\n");
    for (what, version) in &machine.versions {
        let _ = writeln!(md, "- {what}: {version}");
    }
    md
}
