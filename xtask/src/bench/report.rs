//! `BENCHMARKS.md`: a table per backend (every contender measured there, its
//! median and its ratio to the floor and to this project), the graph commands, the build rows, the
//! issue's targets judged against the figures, and the machine, date, load and
//! exact command. Medians and ratios only: the machine is shared and noisy.

use super::build_rows::BuildRow;
use super::db::Backend;
use super::measure::{
    median, short, Contender, DbSamples, GraphCommand, GraphSamples, GraphTool, Operation,
    LAUNCH_REPEATS,
};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where and with what the figures were taken.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs available.
    pub nproc: usize,
    /// 1-minute load averages sampled before every measured round.
    pub loads: Vec<f64>,
    /// `YYYY-MM-DD HH:MM UTC` at the start.
    pub date: String,
    /// `cargo xtask bench …` as typed.
    pub command: String,
    /// Tool versions, `(what, version)`.
    pub versions: Vec<(String, String)>,
}

impl Machine {
    /// The CPU, processor count and date of this machine now.
    pub fn now(command: String) -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".to_string());
        Machine {
            cpu,
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            loads: Vec::new(),
            date: utc_now(),
            command,
            versions: Vec::new(),
        }
    }

    /// Records the current 1-minute load average.
    pub fn sample_load(&mut self) {
        if let Some(load) = load_average() {
            self.loads.push(load);
        }
    }

    /// The mean of the sampled 1-minute load averages; `None` when none was sampled.
    pub fn mean_load(&self) -> Option<f64> {
        if self.loads.is_empty() {
            None
        } else {
            Some(self.loads.iter().sum::<f64>() / self.loads.len() as f64)
        }
    }
}

/// The command line as typed, `cargo xtask …`, for a report's "reproduce" line.
pub fn typed_command() -> String {
    std::iter::once("cargo xtask".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 1-minute load average from `/proc/loadavg`.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Everything measured.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Database operations.
    pub db: DbSamples,
    /// Graph commands.
    pub graph: GraphSamples,
    /// Build rows from embed_build (empty when skipped).
    pub build: Vec<BuildRow>,
    /// Measured runs per cell.
    pub runs: usize,
}

impl Results {
    fn db_median(&self, b: Backend, o: Operation, n: usize, c: Contender) -> Option<Duration> {
        self.db.get(&(b, o, n, c)).and_then(|s| median(s))
    }

    fn graph_median(&self, g: GraphCommand, n: usize, c: GraphTool) -> Option<Duration> {
        self.graph.get(&(g, n, c)).and_then(|s| median(s))
    }

    /// The contenders measured on `backend`, in table order.
    fn contenders(&self, backend: Backend) -> Vec<Contender> {
        Contender::ALL
            .into_iter()
            .filter(|&c| self.db.keys().any(|k| k.0 == backend && k.3 == c))
            .collect()
    }

    fn backends(&self) -> Vec<Backend> {
        let mut v: Vec<Backend> = self.db.keys().map(|k| k.0).collect();
        v.dedup();
        v
    }

    fn sizes(&self, backend: Backend) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .db
            .keys()
            .filter(|k| k.0 == backend)
            .map(|k| k.2)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    fn graph_sizes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.graph.keys().map(|k| k.1).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// `a / b` as `1.04×`, `12.3×`, `312×`.
fn ratio(a: Duration, b: Duration) -> String {
    let r = a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    ratio_text(r)
}

fn ratio_text(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}×")
    } else if r >= 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

fn thousands(n: usize) -> String {
    let digits: Vec<char> = n.to_string().chars().collect();
    let groups: Vec<String> = digits
        .rchunks(3)
        .rev()
        .map(|group| group.iter().collect())
        .collect();
    groups.join(",")
}

/// One judged target.
struct Verdict {
    target: String,
    met: Option<bool>,
    detail: String,
}

fn verdicts(r: &Results) -> Vec<Verdict> {
    let mut out = Vec::new();
    let backends = r.backends();
    // Launch at head vs floor and Alembic.
    for &b in &backends {
        let mut within = Vec::new();
        let mut vs_alembic = Vec::new();
        for n in r.sizes(b) {
            let ours = r.db_median(b, Operation::Launch, n, Contender::Ours);
            let floor = r.db_median(b, Operation::Launch, n, Contender::Floor);
            let alembic = r.db_median(b, Operation::Launch, n, Contender::Alembic);
            if let (Some(o), Some(f)) = (ours, floor) {
                within.push((n, o.as_secs_f64() / f.as_secs_f64().max(1e-9)));
            }
            if let (Some(o), Some(a)) = (ours, alembic) {
                vs_alembic.push((n, a.as_secs_f64() / o.as_secs_f64().max(1e-9)));
            }
        }
        if !within.is_empty() {
            out.push(Verdict {
                target: format!("{}: launch at head within 1.2× of the floor", b.title()),
                met: Some(within.iter().all(|(_, x)| *x <= 1.2)),
                detail: within
                    .iter()
                    .map(|(n, x)| format!("N={}: {}", thousands(*n), ratio_text(*x)))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if !vs_alembic.is_empty() {
            out.push(Verdict {
                target: format!("{}: launch at head ≥20× faster than Alembic", b.title()),
                met: Some(vs_alembic.iter().all(|(_, x)| *x >= 20.0)),
                detail: vs_alembic
                    .iter()
                    .map(|(n, x)| format!("N={}: {} faster", thousands(*n), ratio_text(*x)))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    // Cold apply of 1,000.
    for &b in &backends {
        let ours = r.db_median(b, Operation::Cold, 1000, Contender::Ours);
        let floor = r.db_median(b, Operation::Cold, 1000, Contender::Floor);
        let (met, detail) = match (ours, floor) {
            (Some(o), Some(f)) => {
                let x = o.as_secs_f64() / f.as_secs_f64().max(1e-9);
                (
                    Some(x <= 1.3),
                    format!("{} vs {}: {}", short(o), short(f), ratio_text(x)),
                )
            }
            _ => (
                None,
                "not measured in this run (N=1,000 not selected)".to_string(),
            ),
        };
        out.push(Verdict {
            target: format!(
                "{}: cold apply of 1,000 within 1.3× of the floor",
                b.title()
            ),
            met,
            detail,
        });
    }
    // The whole-run transaction against the per-migration floor (issue 19).
    for &b in &backends {
        let mut figures = Vec::new();
        for n in r.sizes(b) {
            let whole = r.db_median(b, Operation::Cold, n, Contender::OursWholeRun);
            let floor = r.db_median(b, Operation::Cold, n, Contender::Floor);
            if let (Some(w), Some(f)) = (whole, floor) {
                figures.push((n, w.as_secs_f64() / f.as_secs_f64().max(1e-9)));
            }
        }
        if !figures.is_empty() {
            out.push(Verdict {
                target: format!(
                    "{}: cold apply in one transaction (`RunTransaction::WholeRun`) beats the per-migration floor",
                    b.title()
                ),
                met: Some(figures.iter().all(|(_, x)| *x < 1.0)),
                detail: figures
                    .iter()
                    .map(|(n, x)| format!("N={}: {}", thousands(*n), ratio_text(*x)))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    // Faster than diesel_migrations wherever both run.
    let mut rows = 0;
    let mut slower = Vec::new();
    for (&(b, o, n, c), _) in r.db.iter().filter(|(k, _)| k.3 == Contender::Ours) {
        if let (Some(ours), Some(diesel)) = (
            r.db_median(b, o, n, c),
            r.db_median(b, o, n, Contender::Diesel),
        ) {
            rows += 1;
            if ours >= diesel {
                slower.push(format!(
                    "{} {} N={}: {} vs {}",
                    b.title(),
                    o.title(),
                    thousands(n),
                    short(ours),
                    short(diesel)
                ));
            }
        }
    }
    for n in r
        .build
        .iter()
        .map(|b| b.n)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let ours = r.build.iter().find(|b| b.n == n && b.ours);
        let diesel = r.build.iter().find(|b| b.n == n && !b.ours);
        if let (Some(o), Some(d)) = (ours, diesel) {
            // Times must be lower; a size only not larger (embed_build
            // rounds sizes to whole KiB, so small histories often tie).
            for (what, a, z, unit, tie_ok) in [
                ("clean build", o.clean_s, d.clean_s, "s", false),
                ("+1 rebuild", o.rebuild_s, d.rebuild_s, "s", false),
                ("release size added", o.size_kib, d.size_kib, "KiB", true),
            ] {
                rows += 1;
                if a > z || (a == z && !tie_ok) {
                    slower.push(format!(
                        "build {what} N={}: {a} {unit} vs {z} {unit}",
                        thousands(n)
                    ));
                }
            }
        }
    }
    if rows > 0 {
        out.push(Verdict {
            target: "faster than diesel_migrations on every row where both run (binary size: not larger)".to_string(),
            met: Some(slower.is_empty()),
            detail: if slower.is_empty() {
                format!("{rows} of {rows} rows")
            } else {
                format!(
                    "{} of {rows} rows; not on: {}",
                    rows - slower.len(),
                    slower.join("; ")
                )
            },
        });
    }
    // Graph commands on 100,000 revisions: each of this project's two ways.
    let largest = r.graph_sizes().into_iter().max();
    for tool in [GraphTool::Binary, GraphTool::Xtask] {
        let mut detail = Vec::new();
        let mut met = None;
        let mut measured = false;
        if let Some(n) = largest {
            let mut all = true;
            for g in GraphCommand::ALL {
                if let Some(d) = r.graph_median(g, n, tool) {
                    measured = true;
                    all &= d < Duration::from_secs(1);
                    detail.push(format!("`{}` {}", g.name(), short(d)));
                }
            }
            if n >= 100_000 && measured {
                met = Some(all);
            } else if measured {
                detail.push(format!("(largest measured: {} revisions)", thousands(n)));
            }
        }
        if !measured {
            continue;
        }
        out.push(Verdict {
            target: format!(
                "graph commands on 100,000 revisions under a second: {}",
                tool.title()
            ),
            met,
            detail: detail.join(", "),
        });
    }
    out
}

/// The whole `BENCHMARKS.md`.
pub fn render(r: &Results, machine: &Machine) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "This project side by side with [Alembic](https://alembic.sqlalchemy.org), \
         [diesel_migrations](https://docs.rs/diesel_migrations), \
         [sqlx](https://docs.rs/sqlx), [refinery](https://docs.rs/refinery) and the floor \
         (the same SQL through `sqlite3` / `psql` / `mariadb`), on one generated history. \
         Whole processes, median of \
         {} runs after a warm-up ({} for the database rows of histories of up to {} \
         migrations, whose cells last milliseconds). Regenerate with:\n",
        r.runs,
        super::measure::rounds_for(super::measure::SMALL_HISTORY, r.runs),
        super::measure::SMALL_HISTORY
    );
    let _ = writeln!(md, "```sh\n{}\n```\n", machine.command);
    let _ = writeln!(
        md,
        "Importing an Alembic history is measured apart: [BENCHMARKS-import.md](BENCHMARKS-import.md) (`cargo xtask bench-import`); so are what the build's SQL check costs a history that declares its dialects ([BENCHMARKS-sqlcheck.md](BENCHMARKS-sqlcheck.md)), a fleet of 1,000 tenant schemas ([BENCHMARKS-fleet.md](BENCHMARKS-fleet.md), `cargo xtask bench-fleet`) and the schema commands: dump, `print-schema`, `new-migration --autogenerate` beside diesel_cli and Alembic ([BENCHMARKS-schema.md](BENCHMARKS-schema.md), `cargo xtask bench-schema`).\n"
    );
    let loads = &machine.loads;
    let load = if loads.is_empty() {
        "not sampled".to_string()
    } else {
        let min = loads.iter().copied().fold(f64::INFINITY, f64::min);
        let max = loads.iter().copied().fold(0.0, f64::max);
        let mean = loads.iter().sum::<f64>() / loads.len() as f64;
        format!("{mean:.2} on average (from {min:.2} to {max:.2})")
    };
    let _ = writeln!(
        md,
        "Measured {} on {} ({} logical CPUs), a machine shared with other builds: 1-minute \
         load average {load} over the measured rounds. Ratios are better guides than the \
         absolute figures.\n",
        machine.date, machine.cpu, machine.nproc
    );

    let _ = writeln!(md, "## Targets (issue 7)\n");
    let _ = writeln!(md, "| target | met | figures |\n| --- | --- | --- |");
    for v in verdicts(r) {
        let met = match v.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(md, "| {} | {met} | {} |", v.target, v.detail);
    }
    let _ = writeln!(md);

    for b in r.backends() {
        let _ = writeln!(md, "## {}\n", b.title());
        let _ = writeln!(
            md,
            "Each cell: median wall time of the whole process, then its ratio to the floor \
             (`F`) and to this project (`us`); lower is better; — where the contender does \
             not have the operation.\n"
        );
        if b == Backend::Mysql {
            let _ = writeln!(
                md,
                "MySQL/MariaDB commits every DDL statement on its own: a migration's \
                 `BEGIN`/`COMMIT` (the floor's, every tool's) holds only its version-table \
                 update, and a failed migration stays half applied whatever the tool.\n"
            );
        }
        let contenders = r.contenders(b);
        let _ = write!(md, "| operation | migrations |");
        for c in &contenders {
            let _ = write!(md, " {} |", c.title());
        }
        let _ = writeln!(md, "\n| --- | ---: |{}", " ---: |".repeat(contenders.len()));
        for o in Operation::ALL {
            for n in r.sizes(b) {
                let floor = r.db_median(b, o, n, Contender::Floor);
                let ours = r.db_median(b, o, n, Contender::Ours);
                let _ = write!(md, "| {} | {} |", o.title(), thousands(n));
                for &c in &contenders {
                    let Some(m) = r.db_median(b, o, n, c) else {
                        let _ = write!(md, " — |");
                        continue;
                    };
                    let mut cell = short(m);
                    let mut parts = Vec::new();
                    if c != Contender::Floor {
                        if let Some(f) = floor {
                            parts.push(format!("{} F", ratio(m, f)));
                        }
                    }
                    if c != Contender::Floor && c != Contender::Ours {
                        if let Some(o) = ours {
                            parts.push(format!("{} us", ratio(m, o)));
                        }
                    }
                    if !parts.is_empty() {
                        let _ = write!(cell, " ({})", parts.join(", "));
                    }
                    let _ = write!(md, " {cell} |");
                }
                let _ = writeln!(md);
            }
        }
        let _ = writeln!(md);
    }

    let graph_sizes = r.graph_sizes();
    if !graph_sizes.is_empty() {
        let _ = writeln!(md, "## Graph commands (no database)\n");
        let _ = writeln!(
            md,
            "`heads` and `history` on a chain of N revisions (the same generated migrations). \
             This project two ways, both its one command set (`alembix_runtime::cli`) built in \
             release: over the folder, as `cargo xtask heads|history --dir DIR` runs (reads, \
             parses, checksums and validates every file, then answers), and from a binary that \
             embeds the history, as `<binary> migrate heads|history` (no file is read: the graph \
             cost alone). Alembic: `alembic heads|history` (imports every revision module; \
             bytecode caches warm). Each tool runs one untimed `heads` right before its timed \
             commands, so all read their files from a warm cache. Ratios are Alembic over each \
             of ours.\n"
        );
        let _ = write!(md, "| command | revisions |");
        for t in GraphTool::ALL {
            let _ = write!(md, " {} |", t.title());
        }
        let _ = writeln!(md, "\n| --- | ---: | ---: | ---: | ---: |");
        for g in GraphCommand::ALL {
            for &n in &graph_sizes {
                let xtask = r.graph_median(g, n, GraphTool::Xtask);
                let binary = r.graph_median(g, n, GraphTool::Binary);
                let alembic = r.graph_median(g, n, GraphTool::Alembic);
                let cell = |d: Option<Duration>| d.map_or("—".to_string(), short);
                let mut cell_alembic = cell(alembic);
                if let Some(a) = alembic {
                    let ratios: Vec<String> = [(xtask, "xtask"), (binary, "binary")]
                        .into_iter()
                        .filter_map(|(o, name)| o.map(|o| format!("{} {name}", ratio(a, o))))
                        .collect();
                    if !ratios.is_empty() {
                        let _ = write!(cell_alembic, " ({})", ratios.join(", "));
                    }
                }
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} | {} | {cell_alembic} |",
                    g.name(),
                    thousands(n),
                    cell(xtask),
                    cell(binary)
                );
            }
        }
        let _ = writeln!(md);
    }

    if !r.build.is_empty() {
        let _ = writeln!(md, "## Build\n");
        let _ = writeln!(
            md,
            "From `cargo bench -p alembix-macros --bench embed_build` (run by the suite): a \
             binary crate that only embeds N migrations (`CREATE TABLE` + `CREATE INDEX` each) \
             with each tool, both on the same SQLite backend (bundled `libsqlite3-sys`) and \
             otherwise alike (same `main`, `build.rs`, profile and lock file; the tools take \
             turns going first). Clean build: the crate alone, dependencies already built \
             (checked: a timed build that compiled anything else is taken again), dev \
             profile; +1 rebuild: after adding one migration (both crates carry the one-line \
             `build.rs`); size: release binary minus the same crate embedding an empty folder. \
             Ratios are diesel_migrations over this project. One difference is left: this \
             project is a path dependency here (this checkout), diesel_migrations a registry \
             one. Cargo treats a path dependency as the user's own code: on every build it \
             reads that workspace's manifest and checks the timestamps of its source files, \
             and it compiles it incrementally, into more object files for the linker. A \
             service that depends on a published version pays neither; the small rows carry \
             that cost.\n"
        );
        let _ = writeln!(
            md,
            "| migrations | measure | this project | diesel_migrations |\n| ---: | --- | ---: | ---: |"
        );
        let sizes: std::collections::BTreeSet<usize> = r.build.iter().map(|b| b.n).collect();
        for n in sizes {
            let ours = r.build.iter().find(|b| b.n == n && b.ours);
            let diesel = r.build.iter().find(|b| b.n == n && !b.ours);
            for (what, get, unit) in [
                (
                    "clean build",
                    (|b: &BuildRow| b.clean_s) as fn(&BuildRow) -> f64,
                    "s",
                ),
                ("+1 rebuild", |b: &BuildRow| b.rebuild_s, "s"),
                ("release size added", |b: &BuildRow| b.size_kib, "KiB"),
            ] {
                let fmt = |v: f64| {
                    if unit == "s" {
                        format!("{v:.2} s")
                    } else {
                        format!("{v:.0} KiB")
                    }
                };
                let o = ours.map(get);
                let d = diesel.map(get);
                let cell_d = match (d, o) {
                    (Some(d), Some(o)) if o > 0.0 => {
                        format!("{} ({} us)", fmt(d), ratio_text(d / o))
                    }
                    (Some(d), _) => fmt(d),
                    (None, _) => "—".to_string(),
                };
                let _ = writeln!(
                    md,
                    "| {} | {what} | {} | {cell_d} |",
                    thousands(n),
                    o.map_or("—".to_string(), fmt)
                );
            }
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## How it is measured\n");
    let _ = writeln!(
        md,
        "- **History**: N migrations in one chain; migration *i* creates table `t<i>` (five \
         columns) and an index on it and adds a column to table `t<i/2>`; its downgrade undoes \
         the three. Every contender runs the same SQL text: this project's `.sql` files, an \
         Alembic project (one `op.execute` per statement), a diesel_migrations folder \
         (`up.sql`/`down.sql`), an sqlx folder of reversible migrations \
         (`<version>_<name>.up.sql`/`.down.sql`), a refinery folder (`V<version>__<name>.sql`) \
         and the floor's scripts. MySQL/MariaDB gets the same history but for one spelling \
         (`DROP INDEX … ON <table>`). All generated under `target/xtask-bench/`.\n\
         - **This project**: a release binary embedding the folder with `embed_migrations!` \
         and calling `Migrator::launch` (cold and launch at head) or \
         `Migrator::downgrade(db, \"base\")`. **diesel_migrations**: the same binary with \
         `diesel_migrations::embed_migrations!` and `run_pending_migrations` / \
         `revert_all_migrations`. Both are built once per backend with only that backend's \
         features, as a service using one database is (the SQLite build does not load libpq), \
         against the same bundled SQLite, the same libpq and the same libmysqlclient. **Alembic**: the `alembic` \
         command of a venv the suite creates (`pip install alembic sqlalchemy \
         psycopg2-binary pymysql`), `upgrade head` / `downgrade base`, with \
         `transaction_per_migration=True` and the logging setup of `alembic init`; on \
         MySQL/MariaDB through PyMySQL (`mysql+pymysql://`, pure Python).\n\
         - **This project, whole run**: the same binary with `Config {{ transaction: \
         RunTransaction::WholeRun, .. }}`, one transaction around the whole run (all or \
         nothing), timed on cold apply on SQLite and PostgreSQL only (MySQL/MariaDB cannot \
         roll DDL back, so the runtime refuses it there; its launch at head is the default \
         one). Its floor is the same per-migration floor as every other row (one \
         transaction per migration): the floor does not get a whole-run script, so this row \
         shows what one transaction saves.\n\
         - **This project, `migrate upgrade heads`**: the same SQLite binary running the \
         service's own command, `<binary> migrate upgrade heads --db URL` (the command set's \
         `Runner` with `Command::Upgrade`, as a pre-deploy step or a fleet run does at every \
         tenant), timed on launch at head: it takes the launch's path (one read, no lock) \
         and prints its summary line.\n\
         - **sqlx**: a release binary with `sqlx::migrate!(\"./migrations\")` (features \
         `runtime-tokio`, `migrate`, `macros` (which `migrate!` needs) and the one driver; no \
         TLS) running `Migrator::run` (cold and launch at head) or `Migrator::undo(conn, 0)` \
         (downgrade) on one connection on a current-thread tokio runtime; each migration in \
         its own transaction with its `_sqlx_migrations` row. **refinery**: a release binary \
         with `refinery::embed_migrations!` and `migrations::runner().run(&mut conn)` over \
         the synchronous drivers it re-exports (`rusqlite` bundled, `postgres` without TLS, \
         `mysql` minimal); refinery has no downgrade, so its downgrade cells are empty. Both \
         are built once per backend with only that backend's feature, each in its own \
         scratch workspace with its own lock (their current crates.io versions, see \
         Versions; not this workspace's `Cargo.lock`).\n\
         - **Floor**: the same SQL through one `sqlite3` / `psql` / `mariadb` process (the \
         `psql` program itself, not Debian's Perl `pg_wrapper` in front of it; `mariadb \
         --no-defaults` over TCP reading the script on its standard input), one transaction \
         and one `alembic_version` update per migration (on MySQL/MariaDB the DDL commits \
         by itself, so the transaction holds the update alone); launch at head is one process that connects \
         and reads the version table once. The `sqlite3` command may run an older SQLite \
         than the ones bundled into the Rust binaries (see Versions), and the SQLite rows \
         (downgrade above all: `DROP COLUMN`) depend on that version as much as on the tool. \
         Every \
         PostgreSQL client connects over TCP with \
         libpq's defaults (TLS when the server offers it), except sqlx and refinery, built \
         without TLS: when the server has `ssl = on`, they skip the TLS handshake that the \
         floor, this project, diesel and Alembic (psycopg2, libpq too) make on every \
         connection, which shows above all on launch at head. MySQL/MariaDB clients \
         connect over TCP without TLS.\n\
         - **Rounds**: each round gives every contender a fresh database (a new SQLite file; a \
         uniquely named PostgreSQL or MySQL/MariaDB database on the local server, created \
         before and dropped after) and runs cold, then launch at head ({LAUNCH_REPEATS} processes, pooled into \
         the median), then downgrade to base. Contenders are interleaved and their order \
         rotates from round to round. The warm-up round is not counted; it checks that each \
         step created or dropped the N tables and wrote the version rows.\n"
    );
    if !machine.versions.is_empty() {
        let _ = writeln!(md, "Versions:\n");
        for (what, version) in &machine.versions {
            let _ = writeln!(md, "- {what}: {version}");
        }
        let _ = writeln!(md);
    }
    md
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(10), "10");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
    }

    #[test]
    fn report_marks_a_missed_target() {
        let ms = Duration::from_millis;
        let mut r = Results {
            runs: 1,
            ..Results::default()
        };
        for (c, t) in [
            (Contender::Floor, 10),
            (Contender::Ours, 13),
            (Contender::Diesel, 20),
            (Contender::Alembic, 900),
        ] {
            r.db.insert((Backend::Sqlite, Operation::Launch, 10, c), vec![ms(t)]);
        }
        let md = render(&r, &Machine::default());
        assert!(md.contains(
            "| SQLite: launch at head within 1.2× of the floor | **no** | N=10: 1.30× |"
        ));
        assert!(md.contains(
            "| SQLite: launch at head ≥20× faster than Alembic | yes | N=10: 69.2× faster |"
        ));
        assert!(md.contains(
            "| launch at head | 10 | 10.0 ms | 13.0 ms (1.30× F) | 20.0 ms (2.00× F, 1.54× us) |"
        ));
    }
}
