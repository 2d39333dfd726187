//! Build-time benchmark of `embed_migrations!`, side by side with
//! `diesel_migrations::embed_migrations!` on the same SQL.
//!
//! ```text
//! cargo bench -p migrate-macros --bench embed_build -- [--sizes 100,1000,10000] [--runs 3] [--workspace DIR]
//! ```
//!
//! `--workspace` points at another checkout of this workspace (default: this one)
//! whose `migrate-runtime` the generated crates depend on.
//!
//! For every size N it writes two binary crates under `<target>/bench-embed/`, one
//! per tool, embedding N generated migrations (each `CREATE TABLE` + `CREATE INDEX`,
//! reverted by `DROP INDEX` + `DROP TABLE`; ours as one `.sql` file per revision
//! in a chain, diesel's as `<version>_<name>/up.sql` + `down.sql`). Both crates
//! carry the same one-line `build.rs` (`cargo:rerun-if-changed=migrations`) and
//! share one target dir, so dependencies are built once. It measures:
//!
//! - **clean build**: `cargo build` of the crate alone after `cargo clean -p`
//!   (dependencies already built), dev profile;
//! - **+1 rebuild**: `cargo build` after adding one migration to the folder;
//! - **release size added**: size of the `--release` binary minus that of the same
//!   crate embedding an empty folder.
//!
//! Timings are the median of `--runs` (default 1). It prints a Markdown table.
//! Run by `cargo test` (without `--bench`) it does nothing.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Ours,
    Diesel,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "migrate embed_migrations!",
            Tool::Diesel => "diesel_migrations::embed_migrations!",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("embed_build: run with `cargo bench -p migrate-macros --bench embed_build`");
        return Ok(());
    }
    let options = parse(&args)?;
    let this = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("migrate-macros has no parent folder")?
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| this.join("target"));
    let workspace = options.workspace.clone().unwrap_or(this);
    let bench = Bench {
        root: target.join("bench-embed"),
        workspace,
    };
    fs::create_dir_all(&bench.root)?;

    let mut table = String::from(
        "| migrations | tool | clean build (s) | +1 rebuild (s) | release size added (KiB) |\n\
         | ---: | --- | ---: | ---: | ---: |\n",
    );
    for &n in &options.sizes {
        for tool in [Tool::Ours, Tool::Diesel] {
            eprintln!("== {} with {n} migrations", tool.name());
            let row = bench.measure(tool, n, options.runs)?;
            writeln!(
                table,
                "| {n} | {} | {:.2} | {:.2} | {:.0} |",
                tool.name(),
                row.clean.as_secs_f64(),
                row.rebuild.as_secs_f64(),
                row.size_added as f64 / 1024.0
            )?;
            eprintln!("{table}");
        }
    }
    println!("{table}");
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

struct Bench {
    root: PathBuf,
    workspace: PathBuf,
}

struct Row {
    clean: Duration,
    rebuild: Duration,
    size_added: i64,
}

impl Bench {
    fn measure(&self, tool: Tool, n: usize, runs: usize) -> Result<Row> {
        let krate = self.write_crate(tool, n)?;
        let empty = self.write_crate(tool, 0)?;
        // Dependencies (and the crate once), so later timings are the crate alone.
        self.cargo(&krate, &["build"])?;

        let mut clean = Vec::with_capacity(runs);
        let mut rebuild = Vec::with_capacity(runs);
        for run in 0..runs {
            self.cargo(&krate, &["clean", "-p", &crate_name(tool, n)])?;
            clean.push(self.cargo(&krate, &["build"])?);
            write_migration(tool, &krate.join("migrations"), n + run)?;
            rebuild.push(self.cargo(&krate, &["build"])?);
        }
        eprintln!("   clean {clean:.2?}, +1 rebuild {rebuild:.2?}");
        // Back to N migrations for the release build.
        for extra in 0..runs {
            remove_migration(tool, &krate.join("migrations"), n + extra)?;
        }
        self.cargo(&krate, &["build", "--release"])?;
        self.cargo(&empty, &["build", "--release"])?;
        let size = |name: String| -> Result<i64> {
            let binary = self.root.join("target/release").join(name);
            Ok(i64::try_from(fs::metadata(binary)?.len())?)
        };
        let size_added = size(crate_name(tool, n))? - size(crate_name(tool, 0))?;
        Ok(Row {
            clean: median(clean),
            rebuild: median(rebuild),
            size_added,
        })
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
        let dependency = match tool {
            Tool::Ours => format!(
                "migrate-runtime = {{ path = {:?} }}",
                self.workspace.join("migrate-runtime").display().to_string()
            ),
            Tool::Diesel => {
                "diesel_migrations = { version = \"2\", default-features = false }".to_string()
            }
        };
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\n{dependency}\n\n[workspace]\n"
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
            Tool::Ours => {
                "static MIGRATIONS: migrate_runtime::EmbeddedMigrations =\n    \
                 migrate_runtime::embed_migrations!(\"migrations\");\n\n\
                 fn main() {\n    std::hint::black_box(&MIGRATIONS);\n}\n"
            }
            Tool::Diesel => {
                "static MIGRATIONS: diesel_migrations::EmbeddedMigrations =\n    \
                 diesel_migrations::embed_migrations!(\"migrations\");\n\n\
                 fn main() {\n    std::hint::black_box(&MIGRATIONS);\n}\n"
            }
        };
        fs::write(dir.join("src/main.rs"), main)?;
        for i in 0..n {
            write_migration(tool, &migrations, i)?;
        }
        Ok(dir)
    }

    /// Runs cargo in `krate` with the shared target dir; returns how long it took.
    fn cargo(&self, krate: &Path, args: &[&str]) -> Result<Duration> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let start = Instant::now();
        let out = Command::new(cargo)
            .args(args)
            .arg("--quiet")
            .current_dir(krate)
            .env("CARGO_TARGET_DIR", self.root.join("target"))
            .env_remove("MIGRATE_MANIFEST_DIR_OVERRIDE")
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

/// The middle timing (the lower middle of an even count).
fn median(mut timings: Vec<Duration>) -> Duration {
    timings.sort();
    timings
        .get(timings.len().saturating_sub(1) / 2)
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
    format!("DROP INDEX t{i}_name;\nDROP TABLE t{i};\n")
}

fn revision(i: usize) -> String {
    format!("{:012x}", i + 1)
}

/// Writes migration `i` (whose parent is migration `i - 1`) in `tool`'s layout.
fn write_migration(tool: Tool, folder: &Path, i: usize) -> Result<()> {
    match tool {
        Tool::Ours => {
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
        Tool::Ours => fs::remove_file(folder.join(ours_file(i)))?,
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
