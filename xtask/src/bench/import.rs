//! `cargo xtask bench-import`: how long `import-alembic` takes on a generated
//! Alembic project of a few hundred revisions with merges, beside the time
//! Alembic itself takes to render the same history offline; written to
//! `BENCHMARKS-import.md`.
//!
//! ```text
//! cargo xtask bench-import                      # 344 revisions, 3 runs
//! cargo xtask bench-import --revisions 1000 --runs 1 --out target/import.md
//! ```
//!
//! The project is shaped like a real one: `env.py` imports the application's
//! models (a few hundred SQLAlchemy declarative classes: the boot Alembic pays on
//! every launch), revisions create tables, add columns and indexes, change data,
//! insert rows with `uuid4()`/`datetime.now()`, use `autocommit_block()`, and a
//! branch and a merge every 31 revisions. Two variants: every revision renders
//! offline, or one in ten is a data migration that reads rows from the live
//! database (which offline mode cannot render: each becomes a placeholder).
//! Alembic's own offline run (`alembic upgrade heads --sql`, then `alembic
//! downgrade <head>:base --sql`) is timed on the first; on the second it stops at
//! the first data migration. The importer runs through a wrapper Python that
//! counts its launches.

use super::alembic::Venv;
use super::measure::{median, short};
use super::report::{typed_command, Machine};
use super::scratch::{generate, Scratch};
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bumped when the generated project changes.
const GENERATOR_VERSION: &str = "import-2";

/// Declarative models the generated application defines.
const MODELS: usize = 300;

/// The dialect rendered for (nothing connects).
const URL: &str = "url=postgresql://bench@localhost/bench";

/// Options of `cargo xtask bench-import`.
#[derive(Debug, Clone, Args)]
pub struct ImportBenchArgs {
    /// Revisions in the generated history.
    #[arg(long, default_value_t = 344)]
    revisions: usize,
    /// Measured runs per cell (after one warm-up).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Where to write the report [default: BENCHMARKS-import.md at the workspace root].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The two variants of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// Every revision renders offline.
    Renders,
    /// One revision in ten reads rows from the live database, both ways.
    DataMigrations,
}

impl Variant {
    fn slug(self) -> &'static str {
        match self {
            Variant::Renders => "renders",
            Variant::DataMigrations => "data",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Variant::Renders => "every revision renders offline",
            Variant::DataMigrations => "one revision in ten reads rows (a data migration)",
        }
    }
}

/// One revision of the generated history.
struct Revision {
    id: String,
    parents: Vec<String>,
    upgrade: String,
    downgrade: String,
    /// Whether offline mode cannot render it (a data migration).
    fails: bool,
}

/// The history: trunk segments of 20 revisions, each followed by a fork into
/// two branches of 5 and their merge; trunk revisions fill the rest.
fn history(n: usize, variant: Variant) -> Vec<Revision> {
    let mut revs: Vec<Revision> = Vec::with_capacity(n);
    let mut head: Option<String> = None;
    let push = |revs: &mut Vec<Revision>, parents: Vec<String>| -> String {
        let i = revs.len();
        // Ids like Alembic's (12 hex digits), in no particular order.
        let id = format!(
            "{:012x}",
            (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16
        );
        let (upgrade, downgrade, fails) = bodies(i, &parents, variant);
        revs.push(Revision {
            id: id.clone(),
            parents,
            upgrade,
            downgrade,
            fails,
        });
        id
    };
    const SEGMENT: usize = 20 + 5 + 5 + 1;
    while revs.len() < n {
        if n - revs.len() < SEGMENT {
            head = Some(push(&mut revs, head.into_iter().collect()));
            continue;
        }
        for _ in 0..20 {
            head = Some(push(&mut revs, head.into_iter().collect()));
        }
        let fork = head.clone();
        let mut tips = Vec::new();
        for _ in 0..2 {
            let mut tip = fork.clone();
            for _ in 0..5 {
                tip = Some(push(&mut revs, tip.into_iter().collect()));
            }
            tips.extend(tip);
        }
        head = Some(push(&mut revs, tips));
    }
    revs
}

/// The bodies of revision `i`.
fn bodies(i: usize, parents: &[String], variant: Variant) -> (String, String, bool) {
    if parents.len() > 1 {
        return ("    pass".into(), "    pass".into(), false);
    }
    let table = format!("t_{:04}", i / 8 * 8);
    if variant == Variant::DataMigrations && i % 10 == 9 {
        let data = |step: &str| {
            format!(
                "    rows = op.get_bind().execute(sa.text(\"SELECT id FROM {table}\")).fetchall()\n    for (row_id,) in rows:\n        op.execute(sa.text(\"UPDATE {table} SET n = n {step} 1 WHERE id = :id\").bindparams(id=row_id))"
            )
        };
        return (data("+"), data("-"), true);
    }
    match i % 8 {
        0 => (
            format!(
                "    op.create_table(\n        \"{table}\",\n        sa.Column(\"id\", sa.Integer, primary_key=True),\n        sa.Column(\"name\", sa.String(50), nullable=False, server_default=\"\"),\n        sa.Column(\"n\", sa.Integer, nullable=False, server_default=\"0\"),\n        sa.Column(\"created_at\", sa.DateTime, server_default=sa.func.now()),\n    )\n    op.create_index(\"ix_{table}_name\", \"{table}\", [\"name\"])"
            ),
            format!("    op.drop_index(\"ix_{table}_name\")\n    op.drop_table(\"{table}\")"),
            false,
        ),
        4 if i % 50 == 4 => (
            format!(
                "    t = sa.table(\"{table}\", sa.column(\"name\", sa.String), sa.column(\"created_at\", sa.DateTime))\n    op.bulk_insert(t, [{{\"name\": str(uuid.uuid4()), \"created_at\": datetime.datetime.now()}}])"
            ),
            format!("    op.execute(\"DELETE FROM {table}\")"),
            false,
        ),
        5 if i % 60 == 5 => (
            format!(
                "    with op.get_context().autocommit_block():\n        op.create_index(\"ix_{table}_n_{i}\", \"{table}\", [\"n\"], postgresql_concurrently=True)"
            ),
            format!("    op.drop_index(\"ix_{table}_n_{i}\", table_name=\"{table}\")"),
            false,
        ),
        3 | 6 => (
            format!("    op.execute(\"UPDATE {table} SET n = n + {i} WHERE name LIKE 'a%'\")"),
            format!("    op.execute(\"UPDATE {table} SET n = n - {i} WHERE name LIKE 'a%'\")"),
            false,
        ),
        _ => (
            format!(
                "    op.add_column(\"{table}\", sa.Column(\"c_{i}\", sa.String(20), nullable=True))"
            ),
            format!("    op.drop_column(\"{table}\", \"c_{i}\")"),
            false,
        ),
    }
}

const INI: &str = "# Generated by `cargo xtask bench-import`.
[alembic]
script_location = %(here)s/alembic
prepend_sys_path = .
path_separator = os
sqlalchemy.url = postgresql://bench@localhost/bench
";

/// Alembic's generic template (offline part), with the application's metadata.
const ENV_PY: &str = r#"from logging.config import fileConfig

from alembic import context

from app.models import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = Base.metadata


def database_url():
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )


if not context.is_offline_mode():
    raise SystemExit("the import benchmark renders offline only")
context.configure(
    url=database_url(),
    target_metadata=target_metadata,
    literal_binds=True,
    dialect_opts={"paramstyle": "named"},
)
with context.begin_transaction():
    context.run_migrations()
"#;

/// The application's models: declarative classes with a few columns, a foreign
/// key and a relationship each, mappers configured at import (as an
/// application's boot does).
fn models_py() -> String {
    let mut py = String::from(
        "import datetime\nfrom typing import Optional\n\nfrom sqlalchemy import DateTime, ForeignKey, Integer, String\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column, relationship\n\n\nclass Base(DeclarativeBase):\n    pass\n\n",
    );
    for m in 0..MODELS {
        let parent = if m == 0 { 0 } else { m - 1 };
        let _ = write!(
            py,
            "\nclass Model{m:04}(Base):\n    __tablename__ = \"model_{m:04}\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str] = mapped_column(String(50), index=True)\n    n: Mapped[int] = mapped_column(Integer, default=0)\n    created_at: Mapped[datetime.datetime] = mapped_column(DateTime)\n    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey(\"model_{parent:04}.id\"))\n    parent: Mapped[Optional[\"Model{parent:04}\"]] = relationship(foreign_keys=[parent_id])\n\n"
        );
    }
    py.push_str("\nconfigure_mappers()\n");
    py
}

fn write_project(dir: &Path, revs: &[Revision]) -> std::io::Result<()> {
    std::fs::write(
        dir.join("alembic.ini"),
        format!("{INI}\n{}", super::alembic::INI_LOGGING),
    )?;
    std::fs::create_dir_all(dir.join("app"))?;
    std::fs::write(dir.join("app/__init__.py"), "")?;
    std::fs::write(dir.join("app/models.py"), models_py())?;
    let versions = dir.join("alembic/versions");
    std::fs::create_dir_all(&versions)?;
    std::fs::write(dir.join("alembic/env.py"), ENV_PY)?;
    for (i, r) in revs.iter().enumerate() {
        let down = match r.parents.as_slice() {
            [] => "None".to_string(),
            [one] => format!("{one:?}"),
            many => format!(
                "({})",
                many.iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let day = 1 + i / 24;
        let text = format!(
            "\"\"\"step {i}\n\nRevision ID: {id}\nRevises: {revises}\nCreate Date: 2024-{month:02}-{dom:02} {hour:02}:00:00.000000\n\n\"\"\"\nimport datetime\nimport uuid\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n\nrevision = {id:?}\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n{up}\n\n\ndef downgrade():\n{downgrade}\n",
            id = r.id,
            revises = r.parents.join(", "),
            month = 1 + (day - 1) / 28 % 12,
            dom = 1 + (day - 1) % 28,
            hour = i % 24,
            up = r.upgrade,
            downgrade = r.downgrade,
        );
        std::fs::write(versions.join(format!("{}_step_{i}.py", r.id)), text)?;
    }
    Ok(())
}

/// What was measured for one variant.
struct Row {
    variant: Variant,
    import: Vec<Duration>,
    launches: usize,
    placeholders: usize,
    /// Alembic's own offline run both ways; `Err` when it cannot complete.
    alembic: Result<Vec<Duration>, String>,
}

/// Runs the benchmark and writes the report.
pub fn run(args: &ImportBenchArgs) -> Result<(), String> {
    let workspace = crate::workspace_root();
    let scratch = Scratch::new(&workspace);
    let mut machine = Machine::now(typed_command());
    let venv = Venv::ensure(&scratch)?;
    let python = venv.alembic().with_file_name("python");
    let root = scratch.root.join("import");
    let counting = root.join("counting-python");
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    std::fs::write(
        &counting,
        format!(
            "#!/bin/sh\necho launch >> \"$BENCH_IMPORT_LAUNCHES\"\nexec '{}' \"$@\"\n",
            python.display()
        ),
    )
    .map_err(|e| format!("{}: {e}", counting.display()))?;
    run_quietly(Command::new("chmod").arg("+x").arg(&counting), "chmod")?;
    let xtask = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;

    let n = args.revisions;
    let mut boot = Vec::new();
    let mut rows = Vec::new();
    for variant in [Variant::Renders, Variant::DataMigrations] {
        let dir = root.join(format!("{}-{n}", variant.slug()));
        let revs = history(n, variant);
        let stamp = format!("{GENERATOR_VERSION} {MODELS} {n} {}", variant.slug());
        generate(&dir, &stamp, |d| write_project(d, &revs))?;
        let failing = revs.iter().filter(|r| r.fails).count();
        let head = revs.last().map(|r| r.id.clone()).unwrap_or_default();
        eprintln!(
            "bench-import: {n} revisions, {} ({failing} data migrations)",
            variant.title()
        );

        if variant == Variant::Renders {
            for round in 0..=args.runs {
                machine.sample_load();
                let t = timed(
                    Command::new(&python)
                        .args(["-c", "import app.models"])
                        .current_dir(&dir),
                    "importing the application",
                )?;
                if round > 0 {
                    boot.push(t);
                }
            }
        }

        let mut import = Vec::new();
        let mut launches = 0;
        let mut placeholders = 0;
        for round in 0..=args.runs {
            let out = dir.join(format!("out-{round}"));
            let _ = std::fs::remove_dir_all(&out);
            let count = dir.join(format!("launches-{round}.txt"));
            let _ = std::fs::remove_file(&count);
            machine.sample_load();
            let start = Instant::now();
            let output = Command::new(&xtask)
                .arg("import-alembic")
                .arg(".")
                .arg("--python")
                .arg(&counting)
                .arg("--out")
                .arg(&out)
                .args(["-x", URL])
                .current_dir(&dir)
                .env("BENCH_IMPORT_LAUNCHES", &count)
                .output()
                .map_err(|e| format!("running {}: {e}", xtask.display()))?;
            let took = start.elapsed();
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                return Err(format!(
                    "import-alembic failed:\n{stdout}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            launches = std::fs::read_to_string(&count).map_or(0, |t| t.lines().count());
            placeholders = stdout
                .lines()
                .find_map(|l| {
                    l.strip_prefix("summary: ")?
                        .rsplit("; ")
                        .next()?
                        .split_whitespace()
                        .next()?
                        .parse()
                        .ok()
                })
                .unwrap_or(usize::MAX);
            if placeholders != failing {
                return Err(format!(
                    "import-alembic left {placeholders} file(s) with placeholders, {failing} expected:\n{stdout}"
                ));
            }
            let _ = std::fs::remove_dir_all(&out);
            eprintln!(
                "bench-import:   import {} ({launches} Python launch(es))",
                short(took)
            );
            if round > 0 {
                import.push(took);
            }
        }

        let mut alembic = Ok(Vec::new());
        for round in 0..=args.runs {
            machine.sample_load();
            let up = timed(
                Command::new(&python)
                    .args(["-m", "alembic", "-x", URL, "upgrade", "heads", "--sql"])
                    .current_dir(&dir),
                "alembic upgrade heads --sql",
            );
            let down = up.and_then(|up| {
                timed(
                    Command::new(&python)
                        .args(["-m", "alembic", "-x", URL, "downgrade"])
                        .arg(format!("{head}:base"))
                        .arg("--sql")
                        .current_dir(&dir),
                    "alembic downgrade head:base --sql",
                )
                .map(|down| up + down)
            });
            match down {
                Ok(t) => {
                    eprintln!("bench-import:   alembic offline {}", short(t));
                    if round > 0 {
                        if let Ok(samples) = &mut alembic {
                            samples.push(t);
                        }
                    }
                }
                Err(why) => {
                    alembic = Err(why);
                    break;
                }
            }
        }
        if variant == Variant::Renders {
            if let Err(why) = &alembic {
                return Err(format!("Alembic's own offline run failed: {why}"));
            }
        }
        rows.push(Row {
            variant,
            import,
            launches,
            placeholders,
            alembic,
        });
    }
    machine.versions = ["alembic", "sqlalchemy"]
        .iter()
        .filter_map(|d| venv.version(d).ok().map(|v| (d.to_string(), v)))
        .collect();

    let text = render(n, args.runs, &rows, median(&boot), &machine);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace.join("BENCHMARKS-import.md"));
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{text}");
    eprintln!("bench-import: wrote {}", out.display());
    Ok(())
}

fn render(
    n: usize,
    runs: usize,
    rows: &[Row],
    boot: Option<Duration>,
    machine: &Machine,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmark: importing an Alembic history\n");
    let _ = writeln!(
        md,
        "`import-alembic` on a generated Alembic project of {n} revisions (a branch and a merge every 31), beside Alembic's own offline run of the same history. Whole processes, median of {runs} runs after a warm-up. Regenerate with:\n"
    );
    let _ = writeln!(md, "```sh\n{}\n```\n", machine.command);
    let load = machine.mean_load().map_or_else(
        || "not sampled".to_string(),
        |mean| format!("{mean:.2} on average"),
    );
    let versions = machine
        .versions
        .iter()
        .map(|(what, v)| format!("{what} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        md,
        "Measured {} on {} ({} logical CPUs, shared: 1-minute load {load}), {versions}; the importer is this workspace's `cargo xtask` (dev profile: the time is Python's).\n",
        machine.date, machine.cpu, machine.nproc
    );
    let _ = writeln!(
        md,
        "The application `env.py` imports ({MODELS} SQLAlchemy declarative models) takes {} to import: what every Python launch pays before Alembic starts.\n",
        boot.map_or_else(|| "—".to_string(), short)
    );
    let _ = writeln!(
        md,
        "| history | Alembic offline: `upgrade heads --sql` + `downgrade <head>:base --sql` | `import-alembic` (both ways, rendered twice) | Python launches | placeholders |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let alembic = match &row.alembic {
            Ok(samples) => median(samples).map_or_else(|| "—".to_string(), short),
            Err(_) => "stops at the first data migration".to_string(),
        };
        let import = median(&row.import).map_or_else(|| "—".to_string(), short);
        let _ = writeln!(
            md,
            "| {}, {n} revisions | {alembic} | {import} | {} | {} |",
            row.variant.title(),
            row.launches,
            row.placeholders
        );
    }
    let _ = writeln!(
        md,
        "\nThe import loads the scripts with Alembic (which gives the headers, evaluated) and renders every revision four times in one process (upgrade and downgrade, twice, to find values Python computed while rendering); a data migration fails alone, and rendering goes on past it. Before, the importer started Alembic again after each revision that failed (one launch per failure, each booting the application)."
    );
    md
}

fn timed(command: &mut Command, what: &str) -> Result<Duration, String> {
    let start = Instant::now();
    run_quietly(command, what)?;
    Ok(start.elapsed())
}

fn run_quietly(command: &mut Command, what: &str) -> Result<(), String> {
    let out = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{what} failed: {}",
            stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("no message")
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_history_has_one_head_merges_and_unique_ids() {
        let revs = history(344, Variant::DataMigrations);
        assert_eq!(revs.len(), 344);
        let ids: std::collections::HashSet<&str> = revs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 344);
        let merges = revs.iter().filter(|r| r.parents.len() == 2).count();
        assert_eq!(merges, 11);
        let parents: std::collections::HashSet<&str> = revs
            .iter()
            .flat_map(|r| r.parents.iter().map(String::as_str))
            .collect();
        let heads: Vec<&str> = revs
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| !parents.contains(id))
            .collect();
        assert_eq!(heads, [revs[343].id.as_str()]);
        assert!(revs.iter().filter(|r| r.fails).count() >= 30);
        assert!(history(344, Variant::Renders).iter().all(|r| !r.fails));
    }
}
