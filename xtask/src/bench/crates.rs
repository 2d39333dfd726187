//! The Rust contenders, generated as crates of scratch cargo workspaces (not
//! members of this workspace, each with its own `Cargo.lock`), built in release:
//!
//! - `bench_ours_<n>`: a service binary embedding the history with this
//!   project's `embed_migrations!`; `launch` calls [`Migrator::launch`] (what a
//!   service does at start), `launch-whole-run` the same with
//!   [`RunTransaction::WholeRun`], `downgrade-base` calls `downgrade(db, "base")`.
//! - `bench_diesel_<n>`: the same with `diesel_migrations::embed_migrations!`
//!   and `MigrationHarness::{run_pending_migrations, revert_all_migrations}`.
//! - `bench_sqlx_<n>` (workspace `crates-sqlx/`): `sqlx::migrate!` with
//!   reversible migrations, `Migrator::run` and `Migrator::undo(conn, 0)` on
//!   one connection, on a current-thread tokio runtime.
//! - `bench_refinery_<n>` (workspace `crates-refinery/`):
//!   `refinery::embed_migrations!` and `runner().run(&mut conn)` with the
//!   synchronous drivers (rusqlite bundled, `postgres`, `mysql`); no downgrade.
//! - `bench_ours_cli`: `cargo xtask`'s command set (`alembix_runtime::cli` over
//!   a folder, exactly what `cargo xtask heads|history --dir DIR` runs), built
//!   in release, for the graph commands over files.
//! - `bench_graph_<n>`: a binary embedding `n` revisions and mounting the same
//!   command set (`<binary> migrate heads`), for the graph commands alone.
//!
//! The service apps are built once per backend, with only that backend's
//! features (as a service using one database is built: a SQLite service does
//! not load libpq at start), each flavor in its own target directory shared by
//! all its crates, so dependencies build once per flavor. This project and
//! diesel use the same bundled SQLite, libpq and libmysqlclient (their scratch
//! workspace's lock starts as a copy of this workspace's); sqlx and refinery
//! resolve their own current versions in their own workspaces (sqlx's and
//! rusqlite's `libsqlite3-sys` could not share one lock with diesel's). MySQL
//! gets its own crates (`bench_<app>_my_<n>`): its history spells
//! `DROP INDEX … ON <table>`.
//!
//! [`Migrator::launch`]: alembix_runtime::Migrator::launch
//! [`RunTransaction::WholeRun`]: alembix_runtime::RunTransaction::WholeRun

use super::db::Backend;
use super::history::{self, Form, GENERATOR_VERSION};
use super::scratch::{generate, write_if_changed, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bumped when a template below changes.
const TEMPLATE_VERSION: &str = "crates-6";

const OURS_MAIN: &str = r#"//! Benchmark service: embeds the generated history and runs one operation on
//! `DATABASE_URL`: `launch` (migrate to the heads, as a service does at start),
//! `launch-whole-run` (the same in one transaction), `downgrade-base`, or
//! (SQLite, whose flavor has the command set) `migrate-upgrade-heads`: the
//! service's own `<binary> migrate upgrade heads --db URL`.

use alembix_runtime::{Config, Database, EmbeddedMigrations, Migrator, RunTransaction};
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
    #[cfg(feature = "sqlite")]
    if operation == "migrate-upgrade-heads" {
        use alembix_runtime::cli::{Command, DatabaseArg, Exit, Runner, UpgradeArgs};
        use alembix_runtime::Migrations;
        let command = Command::Upgrade(UpgradeArgs {
            target: "heads".to_string(),
            offline: Default::default(),
            db: DatabaseArg { url: Some(url), schema: None },
            fleet: Default::default(),
            output: Default::default(),
        });
        let exit = Runner::new(Migrations::embedded(&MIGRATIONS)).program("bench migrate").run(&command);
        return if exit == Exit::Success { Ok(()) } else { Err(format!("exit {}", exit.code()).into()) };
    }
    let config = if operation == "launch-whole-run" {
        Config {
            transaction: RunTransaction::WholeRun,
            ..Config::default()
        }
    } else {
        Config::default()
    };
    let migrator = Migrator::from_embedded(&MIGRATIONS, config)?;
    let mut db = Database::connect(&url)?;
    match operation.as_str() {
        "launch" | "launch-whole-run" => {
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
#[cfg(feature = "mysql")]
use diesel::MysqlConnection;
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
    } else if url.starts_with("mysql://") {
        mysql(&url, &operation)
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

#[cfg(feature = "mysql")]
fn mysql(url: &str, operation: &str) -> Result<(), BoxError> {
    let mut conn = MysqlConnection::establish(url)?;
    apply(&mut conn, operation)
}

#[cfg(not(feature = "mysql"))]
fn mysql(_: &str, _: &str) -> Result<(), BoxError> {
    Err("built without the mysql feature".into())
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

const SQLX_MAIN: &str = r#"//! Benchmark service: embeds the generated history with `sqlx::migrate!` and
//! runs one operation on `DATABASE_URL`: `launch` (`Migrator::run`, as a
//! service does at start) or `downgrade-base` (`Migrator::undo` to 0).

use sqlx::migrate::Migrator;
use sqlx::Connection;
use std::process::ExitCode;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[cfg(feature = "sqlite")]
async fn connect(url: &str) -> Result<sqlx::SqliteConnection, BoxError> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.create_if_missing(true);
    Ok(sqlx::SqliteConnection::connect_with(&options).await?)
}

#[cfg(feature = "postgres")]
async fn connect(url: &str) -> Result<sqlx::PgConnection, BoxError> {
    Ok(sqlx::PgConnection::connect(url).await?)
}

#[cfg(feature = "mysql")]
async fn connect(url: &str) -> Result<sqlx::MySqlConnection, BoxError> {
    Ok(sqlx::MySqlConnection::connect(url).await?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let operation = std::env::args().nth(1).unwrap_or_default();
    let url = std::env::var("DATABASE_URL")?;
    let mut conn = connect(&url).await?;
    match operation.as_str() {
        "launch" => MIGRATOR.run(&mut conn).await?,
        "downgrade-base" => MIGRATOR.undo(&mut conn, 0).await?,
        other => return Err(format!("unknown operation {other:?}").into()),
    }
    conn.close().await?;
    Ok(())
}
"#;

const REFINERY_MAIN: &str = r#"//! Benchmark service: embeds the generated history with
//! `refinery::embed_migrations!` and runs `launch` on `DATABASE_URL`
//! (`runner().run`, as a service does at start; refinery has no downgrade).

use std::process::ExitCode;

refinery::embed_migrations!("migrations");

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
    if operation != "launch" {
        return Err(format!("unknown operation {operation:?} (refinery has no downgrade)").into());
    }
    migrate(&url)
}

#[cfg(feature = "sqlite")]
fn migrate(url: &str) -> Result<(), BoxError> {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    let mut conn = refinery_core::rusqlite::Connection::open(path)?;
    migrations::runner().run(&mut conn)?;
    Ok(())
}

#[cfg(feature = "postgres")]
fn migrate(url: &str) -> Result<(), BoxError> {
    use refinery_core::postgres::{Client, NoTls};
    let mut client = Client::connect(url, NoTls)?;
    migrations::runner().run(&mut client)?;
    Ok(())
}

#[cfg(feature = "mysql")]
fn migrate(url: &str) -> Result<(), BoxError> {
    use refinery_core::mysql::{Conn, Opts};
    let mut conn = Conn::new(Opts::from_url(url)?)?;
    migrations::runner().run(&mut conn)?;
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
    /// `sqlx::migrate!` and `sqlx::migrate::Migrator`.
    Sqlx,
    /// `refinery::embed_migrations!` and its `Runner`.
    Refinery,
}

impl App {
    fn slug(self) -> &'static str {
        match self {
            App::Ours => "ours",
            App::Diesel => "diesel",
            App::Sqlx => "sqlx",
            App::Refinery => "refinery",
        }
    }

    /// The scratch workspace (and target-directory prefix) the app builds in:
    /// this project and diesel share one, sqlx and refinery have their own.
    fn family(self) -> &'static str {
        match self {
            App::Ours | App::Diesel => "crates",
            App::Sqlx => "crates-sqlx",
            App::Refinery => "crates-refinery",
        }
    }

    /// The package (and binary) name of the app embedding `n` migrations
    /// spelled for `backend`.
    pub fn package(self, n: usize, backend: Backend) -> String {
        match Form::of(backend) {
            Form::Standard => format!("bench_{}_{n}", self.slug()),
            form => format!("bench_{}_{}_{n}", self.slug(), form.tag()),
        }
    }

    /// Its dependencies and features (one feature per backend).
    fn manifest_tail(self, runtime: &str) -> String {
        match self {
            App::Ours => format!(
                "[dependencies]\nalembix-runtime = {{ path = {runtime:?}, default-features = false }}\n\n\
                 [features]\nsqlite = [\"alembix-runtime/sqlite\", \"alembix-runtime/cli\"]\n\
                 postgres = [\"alembix-runtime/postgres\"]\nmysql = [\"alembix-runtime/mysql\"]\n"
            ),
            App::Diesel => "[dependencies]\n\
                 diesel = { version = \"2.2\", default-features = false }\n\
                 diesel_migrations = { version = \"2.2\", default-features = false }\n\
                 libsqlite3-sys = { version = \">=0.30, <0.40\", features = [\"bundled\"], optional = true }\n\n\
                 [features]\nsqlite = [\"diesel/sqlite\", \"dep:libsqlite3-sys\"]\n\
                 postgres = [\"diesel/postgres\"]\nmysql = [\"diesel/mysql\"]\n"
                .to_string(),
            // `migrate!` lives behind `macros`; no TLS, no `any`, no `json`.
            App::Sqlx => "[dependencies]\n\
                 sqlx = { version = \"0.9\", default-features = false, features = [\"runtime-tokio\", \"migrate\", \"macros\"] }\n\
                 tokio = { version = \"1\", default-features = false, features = [\"rt\", \"macros\"] }\n\n\
                 [features]\nsqlite = [\"sqlx/sqlite-bundled\"]\npostgres = [\"sqlx/postgres\"]\nmysql = [\"sqlx/mysql\"]\n"
                .to_string(),
            // refinery-core re-exports the driver crates it was built with.
            App::Refinery => "[dependencies]\n\
                 refinery = { version = \"0.10\", default-features = false }\n\
                 refinery-core = { version = \"0.10\", default-features = false }\n\n\
                 [features]\nsqlite = [\"refinery/rusqlite-bundled\", \"refinery-core/rusqlite-bundled\"]\n\
                 postgres = [\"refinery/postgres\", \"refinery-core/postgres\"]\n\
                 mysql = [\"refinery/mysql\", \"refinery-core/mysql\"]\n"
                .to_string(),
        }
    }

    fn main(self) -> &'static str {
        match self {
            App::Ours => OURS_MAIN,
            App::Diesel => DIESEL_MAIN,
            App::Sqlx => SQLX_MAIN,
            App::Refinery => REFINERY_MAIN,
        }
    }

    fn write_migrations(self, dir: &Path, history: &[history::Migration]) -> std::io::Result<()> {
        match self {
            App::Ours => history::write_ours(dir, history),
            App::Diesel => history::write_diesel(dir, history),
            App::Sqlx => history::write_sqlx(dir, history),
            App::Refinery => history::write_refinery(dir, history),
        }
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
    root: PathBuf,
    dir: PathBuf,
    target: PathBuf,
    workspace: PathBuf,
}

impl Crates {
    /// The crates of `scratch`, depending on the workspace at `workspace`.
    pub fn new(scratch: &Scratch, workspace: &Path) -> Crates {
        Crates {
            root: scratch.root.clone(),
            dir: scratch.crates(),
            target: scratch.target(),
            workspace: workspace.to_path_buf(),
        }
    }

    /// The target directory of a backend's flavor of `app` (the graph
    /// binaries share SQLite's of this project: they use the runtime's default
    /// features, as that flavor does).
    fn target_dir(&self, app: App, backend: Backend) -> PathBuf {
        match app {
            App::Ours | App::Diesel => self.target.join(backend.name()),
            other => self
                .target
                .join(format!("{}-{}", other.slug(), backend.name())),
        }
    }

    /// The scratch workspace of `app`.
    fn workspace_dir(&self, app: App) -> PathBuf {
        match app {
            App::Ours | App::Diesel => self.dir.clone(),
            other => self.root.join(other.family()),
        }
    }

    /// The release binary of `app` embedding `n` migrations, built for `backend`.
    pub fn app_binary(&self, app: App, n: usize, backend: Backend) -> PathBuf {
        self.target_dir(app, backend).join("release").join(format!(
            "{}{}",
            app.package(n, backend),
            std::env::consts::EXE_SUFFIX
        ))
    }

    /// The release binary of `bench_ours_cli` or a `bench_graph_<n>`.
    pub fn graph_binary(&self, package: &str) -> PathBuf {
        self.target_dir(App::Ours, Backend::Sqlite)
            .join("release")
            .join(format!("{package}{}", std::env::consts::EXE_SUFFIX))
    }

    /// The folder of `.sql` files embedded by `bench_graph_<n>`.
    pub fn graph_migrations(&self, n: usize) -> PathBuf {
        self.dir.join(graph_package(n)).join("migrations")
    }

    /// The `Cargo.lock` of `app`'s scratch workspace (for the versions it
    /// resolved).
    pub fn lock_file(&self, app: App) -> PathBuf {
        self.workspace_dir(app).join("Cargo.lock")
    }

    fn runtime_path(&self) -> String {
        self.workspace.join("alembix-runtime").display().to_string()
    }

    /// Writes the scratch workspace of `app` (this project's and diesel's
    /// `Cargo.lock` starts as a copy of this workspace's, so the apps build the
    /// very diesel, libsqlite3-sys, pq-sys and mysqlclient-sys the runtime is
    /// tested with; sqlx's and refinery's resolve their current versions).
    fn write_workspace(&self, app: App) -> Result<(), String> {
        let dir = self.workspace_dir(app);
        write_if_changed(
            &dir.join("Cargo.toml"),
            "# Generated by `cargo xtask bench`.\n[workspace]\nmembers = [\"bench_*\"]\nresolver = \"2\"\n",
        )?;
        let lock = dir.join("Cargo.lock");
        if matches!(app, App::Ours | App::Diesel) && !lock.exists() {
            let _ = std::fs::copy(self.workspace.join("Cargo.lock"), &lock);
        }
        Ok(())
    }

    /// Writes the apps of `apps` for `sizes` (reusing those already written)
    /// and builds them in release for each of `backends`, each app family in
    /// its own workspace and target directory.
    pub fn prepare_apps(
        &self,
        sizes: &[usize],
        apps: &[App],
        backends: &[Backend],
    ) -> Result<(), String> {
        if sizes.is_empty() || apps.is_empty() || backends.is_empty() {
            return Ok(());
        }
        let runtime = self.runtime_path();
        for &backend in backends {
            let form = Form::of(backend);
            for family in [
                &[App::Ours, App::Diesel][..],
                &[App::Sqlx],
                &[App::Refinery],
            ] {
                let family: Vec<App> = family
                    .iter()
                    .copied()
                    .filter(|a| apps.contains(a))
                    .collect();
                let Some(&first) = family.first() else {
                    continue;
                };
                self.write_workspace(first)?;
                let mut packages = Vec::new();
                for &n in sizes {
                    let history = history::history_in(n, form);
                    for &app in &family {
                        let package = app.package(n, backend);
                        let stamp = format!(
                            "{GENERATOR_VERSION} {TEMPLATE_VERSION} {n} {form:?} {runtime}"
                        );
                        let tail = app.manifest_tail(&runtime);
                        generate(&self.workspace_dir(app).join(&package), &stamp, |dir| {
                            std::fs::write(dir.join("Cargo.toml"), manifest(&package, &tail))?;
                            std::fs::write(dir.join("build.rs"), BUILD_RS)?;
                            std::fs::create_dir_all(dir.join("src"))?;
                            std::fs::write(dir.join("src/main.rs"), app.main())?;
                            let migrations = dir.join("migrations");
                            std::fs::create_dir_all(&migrations)?;
                            app.write_migrations(&migrations, &history)
                        })?;
                        packages.push(package);
                    }
                }
                self.build(
                    &self.workspace_dir(first),
                    &packages,
                    Some(backend.name()),
                    &self.target_dir(first, backend),
                )?;
            }
        }
        Ok(())
    }
    /// Writes and builds `bench_ours_cli` and, for each of `sizes`, a
    /// `bench_graph_<n>` (whose `migrations/` the folder-mode runs read too).
    pub fn prepare_graph(&self, sizes: &[usize]) -> Result<(), String> {
        if sizes.is_empty() {
            return Ok(());
        }
        self.write_workspace(App::Ours)?;
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
        self.build(
            &self.dir,
            &packages,
            None,
            &self.target_dir(App::Ours, Backend::Sqlite),
        )
    }

    fn build(
        &self,
        dir: &Path,
        packages: &[String],
        features: Option<&str>,
        target: &Path,
    ) -> Result<(), String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "--release", "--quiet"])
            .current_dir(dir)
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
                dir.display()
            ))
        }
    }
}

fn manifest(name: &str, tail: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n{tail}"
    )
}
