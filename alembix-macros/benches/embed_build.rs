//! Build-time benchmark of `embed_migrations!`, side by side with
//! `diesel_migrations::embed_migrations!` on the same SQL.
//!
//! ```text
//! cargo bench -p alembix-macros --bench embed_build -- [--sizes 100,1000,10000] [--runs 3] [--workspace DIR]
//! ```
//!
//! `--workspace` points at another checkout of this workspace (default: this one)
//! whose `alembix-runtime` the generated crates depend on (e.g. an export of a
//! commit, so that edits made while the bench runs do not end up in it).
//!
//! For every size N it writes two binary crates under `<target>/bench-embed/`, one
//! per tool, embedding N generated migrations (each `CREATE TABLE` + `CREATE INDEX`,
//! reverted by `DROP TABLE`; ours as one `.sql` file per revision
//! in a chain, diesel's as `<version>_<name>/up.sql` + `down.sql`). A third
//! crate is ours with an `alembix.toml` declaring SQLite, PostgreSQL and MySQL:
//! the difference is what parsing every statement for each dialect costs.
//!
//! The two crates are built alike, so that only the macro differs:
//!
//! - the same backend: SQLite, from the same bundled `libsqlite3-sys`
//!   (`alembix-runtime` with only its `sqlite` feature, no `cli`; `diesel` with
//!   `sqlite` and `diesel_migrations` with `sqlite`, plus `libsqlite3-sys`
//!   `bundled` as `alembix-runtime` has it), and the versions of the
//!   workspace's `Cargo.lock`;
//! - the same `main`: it only references the embedded set (`black_box`);
//! - the same one-line `build.rs` (`cargo:rerun-if-changed=migrations`), edition,
//!   default profiles (no profile, codegen-units or flags set by either), and one
//!   shared target dir;
//! - dependencies built before any timing: every timed build is checked (through
//!   a `RUSTC_WRAPPER`, below) to have compiled nothing but the crate and its
//!   build script, and is taken again if it compiled anything else (a path
//!   dependency edited meanwhile);
//! - the runs interleave the two tools, so that a slower moment of the machine
//!   falls on both.
//!
//! It measures:
//!
//! - **clean build**: `cargo build` of the crate alone after `cargo clean -p`
//!   (dependencies already built), dev profile, with N migrations;
//! - **+1 rebuild**: `cargo build` after adding migration N + 1 (removed again
//!   before the next run);
//! - **release size added**: size of the `--release` binary minus that of the same
//!   crate embedding an empty folder.
//!
//! Timings are the median of `--runs` (default 1). It prints a Markdown table
//! (the one `cargo xtask bench` reads), then a second one splitting each timing
//! into the crate's own `rustc` run (macro expansion, type check, codegen, link)
//! and the rest (cargo, the build script's compile and run). The split comes
//! from this binary acting as `RUSTC_WRAPPER` for the builds it times: run with
//! `EMBED_BUILD_RUSTC_LOG` set, it runs the rustc it is given and appends the
//! package, crate and seconds to that file.
//!
//! Run by `cargo test` (without `--bench`) it does nothing.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Set by the bench for the cargo it runs: this binary is then the rustc wrapper.
const RUSTC_LOG: &str = "EMBED_BUILD_RUSTC_LOG";

/// How often a timed build is taken again when it compiled a dependency.
const ATTEMPTS: usize = 3;

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Ours,
    /// Ours, the history declaring all three dialects: the build also
    /// parses every statement for each (`alembix_core::sql_check`).
    Checked,
    Diesel,
}

impl Tool {
    const ALL: [Tool; 3] = [Tool::Ours, Tool::Checked, Tool::Diesel];

    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "migrate embed_migrations!",
            // Not "migrate …": `cargo xtask bench` reads the first two rows only.
            Tool::Checked => "alembix, 3 dialects declared: SQL checked",
            Tool::Diesel => "diesel_migrations::embed_migrations!",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::Checked => "checked",
            Tool::Diesel => "diesel",
        }
    }
}

struct Options {
    sizes: Vec<usize>,
    runs: usize,
    workspace: Option<PathBuf>,
}

fn main() -> Result<()> {
    if let Some(log) = std::env::var_os(RUSTC_LOG) {
        return wrap_rustc(&log);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("embed_build: run with `cargo bench -p alembix-macros --bench embed_build`");
        return Ok(());
    }
    let options = parse(&args)?;
    let this = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("alembix-macros has no parent folder")?
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| this.join("target"));
    let workspace = options.workspace.clone().unwrap_or(this);
    let root = target.join("bench-embed");
    fs::create_dir_all(&root)?;
    let bench = Bench {
        rustc_log: root.join("rustc.log"),
        wrapper: std::env::current_exe()?,
        root,
        workspace: fs::canonicalize(&workspace)?,
    };

    let mut table = String::from(
        "| migrations | tool | clean build (s) | +1 rebuild (s) | release size added (KiB) |\n\
         | ---: | --- | ---: | ---: | ---: |\n",
    );
    let mut split = String::from(
        "| migrations | tool | clean: crate rustc (s) | clean: rest (s) | +1: crate rustc (s) | +1: rest (s) |\n\
         | ---: | --- | ---: | ---: | ---: | ---: |\n",
    );
    for &n in &options.sizes {
        let rows = bench.measure(n, options.runs)?;
        for (tool, row) in Tool::ALL.into_iter().zip(rows) {
            writeln!(
                table,
                "| {n} | {} | {:.2} | {:.2} | {:.0} |",
                tool.name(),
                row.clean.wall.as_secs_f64(),
                row.rebuild.wall.as_secs_f64(),
                row.size_added as f64 / 1024.0
            )?;
            writeln!(
                split,
                "| {n} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                tool.name(),
                row.clean.rustc.as_secs_f64(),
                row.clean.rest().as_secs_f64(),
                row.rebuild.rustc.as_secs_f64(),
                row.rebuild.rest().as_secs_f64(),
            )?;
        }
        eprintln!("{table}");
    }
    println!("{table}");
    println!("Where the time goes (medians; rest = cargo, build script compile and run):\n");
    println!("{split}");
    Ok(())
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        sizes: vec![100, 1_000, 10_000],
        runs: 1,
        workspace: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sizes" => {
                let list = it.next().ok_or("--sizes needs a value, e.g. 100,1000")?;
                options.sizes = list
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<std::result::Result<_, _>>()?;
            }
            "--runs" => {
                let runs = it.next().ok_or("--runs needs a value")?;
                options.runs = runs.parse::<usize>()?.max(1);
            }
            "--workspace" => {
                let dir = it.next().ok_or("--workspace needs a folder")?;
                options.workspace = Some(PathBuf::from(dir));
            }
            _ => {} // `--bench` and anything cargo adds
        }
    }
    Ok(options)
}

/// The wrapper side: runs `rustc ARGS…` as cargo asked, and logs how long the
/// compilation of each named crate took (`package<TAB>crate<TAB>seconds`).
fn wrap_rustc(log: &std::ffi::OsStr) -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let rustc = args.next().ok_or("used as RUSTC_WRAPPER without a rustc")?;
    let args: Vec<OsString> = args.collect();
    let start = Instant::now();
    let status = Command::new(rustc).args(&args).status()?;
    let took = start.elapsed();
    let crate_name = args
        .windows(2)
        .find(|w| w[0] == "--crate-name")
        .map(|w| w[1].to_string_lossy().into_owned());
    // `___` is cargo asking rustc about the target, not a compilation.
    if let Some(crate_name) = crate_name.filter(|c| c != "___") {
        let package = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
        let mut file = fs::OpenOptions::new().create(true).append(true).open(log)?;
        file.write_all(format!("{package}\t{crate_name}\t{}\n", took.as_secs_f64()).as_bytes())?;
    }
    std::process::exit(status.code().unwrap_or(1));
}

struct Bench {
    root: PathBuf,
    workspace: PathBuf,
    /// This binary, the `RUSTC_WRAPPER` of every build.
    wrapper: PathBuf,
    rustc_log: PathBuf,
}

/// One timed build.
#[derive(Clone, Copy, Default)]
struct Timing {
    /// `cargo build`, start to end.
    wall: Duration,
    /// The crate's own rustc run (the binary: expansion to link).
    rustc: Duration,
}

impl Timing {
    /// Everything but the crate's rustc: cargo, the build script.
    fn rest(self) -> Duration {
        self.wall.saturating_sub(self.rustc)
    }
}

struct Row {
    clean: Timing,
    rebuild: Timing,
    size_added: i64,
}

impl Bench {
    /// Every tool at size `n`, their runs interleaved; rows in `Tool::ALL` order.
    fn measure(&self, n: usize, runs: usize) -> Result<Vec<Row>> {
        let mut crates = Vec::new();
        for tool in Tool::ALL {
            let krate = self.write_crate(tool, n)?;
            let empty = self.write_crate(tool, 0)?;
            // Dependencies (and the crate once), so later timings are the crate alone.
            self.cargo(&krate, &["build"])?;
            crates.push((tool, krate, empty));
        }
        let mut clean = vec![Vec::with_capacity(runs); crates.len()];
        let mut rebuild = vec![Vec::with_capacity(runs); crates.len()];
        for run in 0..runs {
            // Rotate which tool goes first.
            let order: Vec<usize> = (0..crates.len())
                .map(|k| (k + run) % crates.len())
                .collect();
            for i in order {
                let (tool, krate, _) = &crates[i];
                eprintln!("== {} with {n} migrations, run {}", tool.name(), run + 1);
                let (c, r) = self.one_run(*tool, krate, n)?;
                clean[i].push(c);
                rebuild[i].push(r);
            }
        }
        let mut rows = Vec::new();
        for (i, (tool, krate, empty)) in crates.iter().enumerate() {
            eprintln!(
                "   {}: clean {:.2?}, +1 rebuild {:.2?}",
                tool.slug(),
                clean[i].iter().map(|t| t.wall).collect::<Vec<_>>(),
                rebuild[i].iter().map(|t| t.wall).collect::<Vec<_>>()
            );
            self.cargo(krate, &["build", "--release"])?;
            self.cargo(empty, &["build", "--release"])?;
            let size = |name: String| -> Result<i64> {
                let binary = self.root.join("target/release").join(name);
                Ok(i64::try_from(fs::metadata(binary)?.len())?)
            };
            let size_added = size(crate_name(*tool, n))? - size(crate_name(*tool, 0))?;
            rows.push(Row {
                clean: median(&clean[i]),
                rebuild: median(&rebuild[i]),
                size_added,
            });
        }
        Ok(rows)
    }

    /// One clean build with `n` migrations and one rebuild with `n + 1`; the
    /// folder is back at `n` afterwards. Taken again (up to [`ATTEMPTS`] times)
    /// when a build compiled more than the crate.
    fn one_run(&self, tool: Tool, krate: &Path, n: usize) -> Result<(Timing, Timing)> {
        let name = crate_name(tool, n);
        let migrations = krate.join("migrations");
        for attempt in 1..=ATTEMPTS {
            // Brings every dependency up to date (untimed), then forgets the crate.
            self.cargo(krate, &["build"])?;
            self.cargo(krate, &["clean", "-p", &name])?;
            let clean = self.timed_build(krate, &name);
            write_migration(tool, &migrations, n)?;
            let rebuild = self.timed_build(krate, &name);
            remove_migration(tool, &migrations, n)?;
            match (clean?, rebuild?) {
                (Ok(clean), Ok(rebuild)) => return Ok((clean, rebuild)),
                (Err(others), _) | (_, Err(others)) => eprintln!(
                    "   attempt {attempt}: the timed build also compiled {others}; taking it again"
                ),
            }
        }
        Err(format!("{name}: every timed build also compiled a dependency; is a path dependency being edited?").into())
    }

    /// `cargo build` of `krate`, timed; `Ok(Err(what))` when it compiled more
    /// than the crate `name` and its build script.
    fn timed_build(&self, krate: &Path, name: &str) -> Result<std::result::Result<Timing, String>> {
        if self.rustc_log.exists() {
            fs::remove_file(&self.rustc_log)?;
        }
        let wall = self.cargo(krate, &["build"])?;
        let log = fs::read_to_string(&self.rustc_log).unwrap_or_default();
        let mut rustc = Duration::ZERO;
        let mut others = Vec::new();
        for line in log.lines() {
            let mut cells = line.split('\t');
            let (Some(package), Some(krate), Some(secs)) =
                (cells.next(), cells.next(), cells.next())
            else {
                continue;
            };
            if package != name {
                others.push(format!("{package} ({krate})"));
            } else if krate == name {
                rustc += Duration::try_from_secs_f64(secs.parse()?)?;
            }
        }
        if others.is_empty() {
            Ok(Ok(Timing { wall, rustc }))
        } else {
            Ok(Err(others.join(", ")))
        }
    }

    /// Writes (or rewrites) the crate embedding `n` migrations with `tool`.
    fn write_crate(&self, tool: Tool, n: usize) -> Result<PathBuf> {
        let name = crate_name(tool, n);
        let dir = self.root.join(&name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(dir.join("src"))?;
        let migrations = dir.join("migrations");
        fs::create_dir_all(&migrations)?;
        // The same backend on both sides: SQLite from the same bundled
        // libsqlite3-sys, nothing else (no `cli` for ours).
        let dependencies = match tool {
            Tool::Ours | Tool::Checked => format!(
                "alembix-runtime = {{ path = {:?}, default-features = false, features = [\"sqlite\"] }}\n",
                self.workspace.join("alembix-runtime").display().to_string()
            ),
            Tool::Diesel => "diesel = { version = \"2.3\", default-features = false, features = [\"sqlite\"] }\n\
                 diesel_migrations = { version = \"2.3\", default-features = false, features = [\"sqlite\"] }\n\
                 libsqlite3-sys = { version = \">=0.30, <0.40\", features = [\"bundled\"] }\n"
                .to_string(),
        };
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\n{dependencies}\n[workspace]\n"
            ),
        )?;
        let lock = self.workspace.join("Cargo.lock");
        if lock.is_file() {
            fs::copy(lock, dir.join("Cargo.lock"))?;
        }
        fs::write(
            dir.join("build.rs"),
            "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n",
        )?;
        let main = match tool {
            Tool::Ours | Tool::Checked => {
                "static MIGRATIONS: alembix_runtime::EmbeddedMigrations =\n    \
                 alembix_runtime::embed_migrations!(\"migrations\");\n\n\
                 fn main() {\n    std::hint::black_box(&MIGRATIONS);\n}\n"
            }
            Tool::Diesel => {
                "static MIGRATIONS: diesel_migrations::EmbeddedMigrations =\n    \
                 diesel_migrations::embed_migrations!(\"migrations\");\n\n\
                 fn main() {\n    std::hint::black_box(&MIGRATIONS);\n}\n"
            }
        };
        fs::write(dir.join("src/main.rs"), main)?;
        if tool == Tool::Checked {
            fs::write(
                migrations.join("alembix.toml"),
                "dialects = [\"sqlite\", \"postgresql\", \"mysql\"]\n",
            )?;
        }
        for i in 0..n {
            write_migration(tool, &migrations, i)?;
        }
        Ok(dir)
    }

    /// Runs cargo in `krate` with the shared target dir and this binary as
    /// rustc wrapper; returns how long it took.
    fn cargo(&self, krate: &Path, args: &[&str]) -> Result<Duration> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let start = Instant::now();
        let out = Command::new(cargo)
            .args(args)
            .arg("--quiet")
            .current_dir(krate)
            .env("CARGO_TARGET_DIR", self.root.join("target"))
            .env("RUSTC_WRAPPER", &self.wrapper)
            .env(RUSTC_LOG, &self.rustc_log)
            .env_remove("ALEMBIX_MANIFEST_DIR_OVERRIDE")
            .output()?;
        let took = start.elapsed();
        if !out.status.success() {
            return Err(format!(
                "cargo {} in {} failed:\n{}",
                args.join(" "),
                krate.display(),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(took)
    }
}

/// The middle timing by wall time (the lower middle of an even count).
fn median(timings: &[Timing]) -> Timing {
    let mut sorted = timings.to_vec();
    sorted.sort_by_key(|t| t.wall);
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

fn crate_name(tool: Tool, n: usize) -> String {
    format!("embed_{}_{n}", tool.slug())
}

fn up_sql(i: usize) -> String {
    format!(
        "CREATE TABLE t{i} (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL,\n    created_at TEXT\n);\n\
         CREATE INDEX t{i}_name ON t{i} (name);\n"
    )
}

fn down_sql(i: usize) -> String {
    // `DROP TABLE` drops its indexes on every backend (MySQL's `DROP INDEX`
    // would need `ON t{i}`), so the SQL is valid on all three.
    format!("DROP TABLE t{i};\n")
}

fn revision(i: usize) -> String {
    format!("{:012x}", i + 1)
}

/// Writes migration `i` (whose parent is migration `i - 1`) in `tool`'s layout.
fn write_migration(tool: Tool, folder: &Path, i: usize) -> Result<()> {
    match tool {
        Tool::Ours | Tool::Checked => {
            let down = if i == 0 {
                "none".to_string()
            } else {
                revision(i - 1)
            };
            let text = format!(
                "-- revision: {}\n-- down_revision: {down}\n-- message: create t{i}\n\n\
                 -- migrate:upgrade\n{}\n-- migrate:downgrade\n{}",
                revision(i),
                up_sql(i),
                down_sql(i)
            );
            fs::write(folder.join(ours_file(i)), text)?;
        }
        Tool::Diesel => {
            let dir = folder.join(diesel_dir(i));
            fs::create_dir_all(&dir)?;
            fs::write(dir.join("up.sql"), up_sql(i))?;
            fs::write(dir.join("down.sql"), down_sql(i))?;
        }
    }
    Ok(())
}

fn remove_migration(tool: Tool, folder: &Path, i: usize) -> Result<()> {
    match tool {
        Tool::Ours | Tool::Checked => fs::remove_file(folder.join(ours_file(i)))?,
        Tool::Diesel => fs::remove_dir_all(folder.join(diesel_dir(i)))?,
    }
    Ok(())
}

fn ours_file(i: usize) -> String {
    format!("{i:05}_create_t{i}_{}.sql", revision(i))
}

fn diesel_dir(i: usize) -> String {
    format!("{i:05}_create_t{i}")
}
