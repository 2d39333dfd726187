//! The Rust contenders, generated as crates of one scratch cargo workspace that
//! path-depends on this workspace's crates and builds in release:
//!
//! - `bench_ours_<n>`: a service binary embedding the history with this
//!   project's `embed_migrations!`; `launch` calls [`Migrator::launch`] (what a
//!   service does at start), `downgrade-base` calls `downgrade(db, "base")`.
//! - `bench_diesel_<n>`: the same with `diesel_migrations::embed_migrations!`
//!   and `MigrationHarness::{run_pending_migrations, revert_all_migrations}`.
//! - `bench_ours_cli`: `cargo xtask`'s command set (`alembix_runtime::cli` over
//!   a folder, exactly what `cargo xtask heads|history --dir DIR` runs), built
//!   in release, for the graph commands over files.
//! - `bench_graph_<n>`: a binary embedding `n` revisions and mounting the same
//!   command set (`<binary> migrate heads`), for the graph commands alone.
//!
//! The two service apps are built once per backend, with only that backend's
//! features (as a service using one database is built: a SQLite service does
//! not load libpq at start), each flavor in its own target directory shared by
//! all its crates, so dependencies build once per flavor. Both apps use the
//! same bundled SQLite and the same libpq.
//!
//! [`Migrator::launch`]: alembix_runtime::Migrator::launch

use super::db::Backend;
use super::history::{self, GENERATOR_VERSION};
use super::scratch::{generate, write_if_changed, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bumped when a template below changes.
const TEMPLATE_VERSION: &str = "crates-3";

const OURS_MAIN: &str = r#"//! Benchmark service: embeds the generated history and runs one operation on
//! `DATABASE_URL`: `launch` (migrate to the heads, as a service does at start)
//! or `downgrade-base`.

use alembix_runtime::{Config, Database, EmbeddedMigrations, Migrator};
use std::process::ExitCode;

static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!("migrations");

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let operation = std::env::args().nth(1).unwrap_or_default();
    let url = std::env::var("DATABASE_URL")?;
    let migrator = Migrator::from_embedded(&MIGRATIONS, Config::default())?;
    let mut db = Database::connect(&url)?;
    match operation.as_str() {
        "launch" => {
            migrator.launch(&mut db)?;
        }
        "downgrade-base" => {
            migrator.downgrade(&mut db, "base")?;
        }
        other => return Err(format!("unknown operation {other:?}").into()),
    }
    Ok(())
}
"#;

const DIESEL_MAIN: &str = r#"//! Benchmark service: embeds the generated history with diesel_migrations and
//! runs one operation on `DATABASE_URL`: `launch` (run pending migrations, as a
//! service does at start) or `downgrade-base` (revert all).

use diesel::backend::Backend;
use diesel::Connection;
#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::process::ExitCode;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    let operation = std::env::args().nth(1).unwrap_or_default();
    let url = std::env::var("DATABASE_URL")?;
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres(&url, &operation)
    } else {
        sqlite(url.strip_prefix("sqlite://").unwrap_or(&url), &operation)
    }
}

#[cfg(feature = "postgres")]
fn postgres(url: &str, operation: &str) -> Result<(), BoxError> {
    let mut conn = PgConnection::establish(url)?;
    apply(&mut conn, operation)
}

#[cfg(not(feature = "postgres"))]
fn postgres(_: &str, _: &str) -> Result<(), BoxError> {
    Err("built without the postgres feature".into())
}

#[cfg(feature = "sqlite")]
fn sqlite(path: &str, operation: &str) -> Result<(), BoxError> {
    let mut conn = SqliteConnection::establish(path)?;
    apply(&mut conn, operation)
}

#[cfg(not(feature = "sqlite"))]
fn sqlite(_: &str, _: &str) -> Result<(), BoxError> {
    Err("built without the sqlite feature".into())
}

fn apply<DB: Backend>(conn: &mut impl MigrationHarness<DB>, operation: &str) -> Result<(), BoxError> {
    match operation {
        "launch" => {
            conn.run_pending_migrations(MIGRATIONS)?;
        }
        "downgrade-base" => {
            conn.revert_all_migrations(MIGRATIONS)?;
        }
        other => return Err(format!("unknown operation {other:?}").into()),
    }
    Ok(())
}
"#;

const CLI_MAIN: &str = r#"//! `cargo xtask`'s migration commands over a folder, in release:
//! `bench_ours_cli --dir DIR heads|history|…`.

use clap::Parser;
use alembix_runtime::cli::{Command, Runner};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
struct Cli {
    /// The migrations folder.
    #[arg(long)]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    Runner::folder(cli.dir).run(&cli.command).into()
}
"#;

const GRAPH_MAIN: &str = r#"//! A service binary embedding a large history, mounting the command set:
//! `bench_graph_<n> heads|history|…` (what `<binary> migrate …` runs).

use clap::Parser;
use alembix_runtime::cli::{Command, Runner};
use alembix_runtime::EmbeddedMigrations;
use std::process::ExitCode;

static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!("migrations");

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    Runner::new(alembix_runtime::Migrations::embedded(&MIGRATIONS)).run(&cli.command).into()
}
"#;

const BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n";

/// Which embedding a generated app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// This project's `embed_migrations!` and `Migrator`.
    Ours,
    /// `diesel_migrations::embed_migrations!` and `MigrationHarness`.
    Diesel,
}

impl App {
    fn slug(self) -> &'static str {
        match self {
            App::Ours => "ours",
            App::Diesel => "diesel",
        }
    }

    /// The package (and binary) name of the app embedding `n` migrations.
    pub fn package(self, n: usize) -> String {
        format!("bench_{}_{n}", self.slug())
    }
}

/// The package of the folder-mode command set.
pub const CLI_PACKAGE: &str = "bench_ours_cli";

/// The package embedding `n` revisions for the graph commands.
pub fn graph_package(n: usize) -> String {
    format!("bench_graph_{n}")
}

/// The generated crates and where their binaries land.
#[derive(Debug)]
pub struct Crates {
    dir: PathBuf,
    target: PathBuf,
    workspace: PathBuf,
}

impl Crates {
    /// The crates of `scratch`, depending on the workspace at `workspace`.
    pub fn new(scratch: &Scratch, workspace: &Path) -> Crates {
        Crates {
            dir: scratch.crates(),
            target: scratch.target(),
            workspace: workspace.to_path_buf(),
        }
    }

    /// The target directory of a backend's flavor (the graph binaries share
    /// SQLite's: they use the runtime's default features, as that flavor does).
    fn target_dir(&self, backend: Backend) -> PathBuf {
        self.target.join(backend.name())
    }

    /// The release binary of an app built for `backend`.
    pub fn app_binary(&self, backend: Backend, package: &str) -> PathBuf {
        self.target_dir(backend)
            .join("release")
            .join(format!("{package}{}", std::env::consts::EXE_SUFFIX))
    }

    /// The release binary of `bench_ours_cli` or a `bench_graph_<n>`.
    pub fn graph_binary(&self, package: &str) -> PathBuf {
        self.app_binary(Backend::Sqlite, package)
    }

    /// The folder of `.sql` files embedded by `bench_graph_<n>`.
    pub fn graph_migrations(&self, n: usize) -> PathBuf {
        self.dir.join(graph_package(n)).join("migrations")
    }

    /// The scratch workspace's `Cargo.lock` (for the versions it resolved).
    pub fn lock_file(&self) -> PathBuf {
        self.dir.join("Cargo.lock")
    }

    fn runtime_path(&self) -> String {
        self.workspace.join("alembix-runtime").display().to_string()
    }

    /// Writes the scratch workspace (its `Cargo.lock` starts as a copy of this
    /// workspace's, so the apps build the very diesel, libsqlite3-sys and
    /// pq-sys the runtime is tested with).
    fn write_workspace(&self) -> Result<(), String> {
        write_if_changed(
            &self.dir.join("Cargo.toml"),
            "# Generated by `cargo xtask bench`.\n[workspace]\nmembers = [\"bench_*\"]\nresolver = \"2\"\n",
        )?;
        let lock = self.lock_file();
        if !lock.exists() {
            let _ = std::fs::copy(self.workspace.join("Cargo.lock"), &lock);
        }
        Ok(())
    }

    /// Writes the apps of `apps` for `sizes` (reusing those already written)
    /// and builds them in release for each of `backends`.
    pub fn prepare_apps(
        &self,
        sizes: &[usize],
        apps: &[App],
        backends: &[Backend],
    ) -> Result<(), String> {
        if sizes.is_empty() || apps.is_empty() || backends.is_empty() {
            return Ok(());
        }
        self.write_workspace()?;
        let runtime = self.runtime_path();
        let ours = format!(
            "[dependencies]\nalembix-runtime = {{ path = {runtime:?}, default-features = false }}\n\n\
             [features]\nsqlite = [\"alembix-runtime/sqlite\", \"alembix-runtime/cli\"]\n\
             postgres = [\"alembix-runtime/postgres\"]\n"
        );
        let diesel = "[dependencies]\n\
             diesel = { version = \"2.2\", default-features = false }\n\
             diesel_migrations = { version = \"2.2\", default-features = false }\n\
             libsqlite3-sys = { version = \">=0.30, <0.40\", features = [\"bundled\"], optional = true }\n\n\
             [features]\nsqlite = [\"diesel/sqlite\", \"dep:libsqlite3-sys\"]\n\
             postgres = [\"diesel/postgres\"]\n";
        let mut packages = Vec::new();
        for &n in sizes {
            let history = history::history(n);
            for &app in apps {
                let package = app.package(n);
                let (manifest_tail, main) = match app {
                    App::Ours => (ours.as_str(), OURS_MAIN),
                    App::Diesel => (diesel, DIESEL_MAIN),
                };
                let stamp = format!("{GENERATOR_VERSION} {TEMPLATE_VERSION} {n} {runtime}");
                generate(&self.dir.join(&package), &stamp, |dir| {
                    std::fs::write(dir.join("Cargo.toml"), manifest(&package, manifest_tail))?;
                    std::fs::write(dir.join("build.rs"), BUILD_RS)?;
                    std::fs::create_dir_all(dir.join("src"))?;
                    std::fs::write(dir.join("src/main.rs"), main)?;
                    let migrations = dir.join("migrations");
                    std::fs::create_dir_all(&migrations)?;
                    match app {
                        App::Ours => history::write_ours(&migrations, &history),
                        App::Diesel => history::write_diesel(&migrations, &history),
                    }
                })?;
                packages.push(package);
            }
        }
        for &backend in backends {
            self.build(&packages, Some(backend.name()), &self.target_dir(backend))?;
        }
        Ok(())
    }

    /// Writes and builds `bench_ours_cli` and, for each of `sizes`, a
    /// `bench_graph_<n>` (whose `migrations/` the folder-mode runs read too).
    pub fn prepare_graph(&self, sizes: &[usize]) -> Result<(), String> {
        if sizes.is_empty() {
            return Ok(());
        }
        self.write_workspace()?;
        let runtime = self.runtime_path();
        let dependencies = format!(
            "[dependencies]\nalembix-runtime = {{ path = {runtime:?} }}\n\
             clap = {{ version = \"4\", features = [\"derive\"] }}\n"
        );
        let stamp = format!("{TEMPLATE_VERSION} {runtime}");
        generate(&self.dir.join(CLI_PACKAGE), &stamp, |dir| {
            std::fs::write(dir.join("Cargo.toml"), manifest(CLI_PACKAGE, &dependencies))?;
            std::fs::create_dir_all(dir.join("src"))?;
            std::fs::write(dir.join("src/main.rs"), CLI_MAIN)
        })?;
        let mut packages = vec![CLI_PACKAGE.to_string()];
        for &n in sizes {
            let package = graph_package(n);
            let stamp = format!("{GENERATOR_VERSION} {TEMPLATE_VERSION} {n} {runtime}");
            eprintln!("bench: writing the {n}-revision history (once)");
            generate(&self.dir.join(&package), &stamp, |dir| {
                std::fs::write(dir.join("Cargo.toml"), manifest(&package, &dependencies))?;
                std::fs::write(dir.join("build.rs"), BUILD_RS)?;
                std::fs::create_dir_all(dir.join("src"))?;
                std::fs::write(dir.join("src/main.rs"), GRAPH_MAIN)?;
                let migrations = dir.join("migrations");
                std::fs::create_dir_all(&migrations)?;
                history::write_ours(&migrations, &history::history(n))
            })?;
            packages.push(package);
        }
        self.build(&packages, None, &self.target_dir(Backend::Sqlite))
    }

    fn build(
        &self,
        packages: &[String],
        features: Option<&str>,
        target: &Path,
    ) -> Result<(), String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "--release", "--quiet"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", target)
            .env_remove("ALEMBIX_MANIFEST_DIR_OVERRIDE");
        for p in packages {
            command.args(["-p", p]);
        }
        if let Some(features) = features {
            command.args(["--features", features]);
        }
        let status = command
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "building the generated crates in {} failed (see above)",
                self.dir.display()
            ))
        }
    }
}

fn manifest(name: &str, tail: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n{tail}"
    )
}
