//! Alembic's revision graph for Rust: a folder of migrations **checked when the
//! binary is built**, embedded in it, and applied **at launch** with diesel.
//!
//! This is the crate to depend on. It re-exports the runtime ([`Migrations`],
//! [`Migrator`], [`Database`], [`Config`], …), the build-time macro
//! [`embed_migrations!`] and, with the default `cli` feature, the command set a
//! binary mounts ([`cli`]).
//!
//! ```no_run
//! // The folder is relative to the crate's Cargo.toml; usually "migrations".
//! static MIGRATIONS: alembix::EmbeddedMigrations = alembix::embed_migrations!("tests/migrations");
//!
//! /// How this service migrates: its launch and `app migrate …` share it.
//! fn migrations() -> alembix::Migrations {
//!     alembix::Migrations::embedded(&MIGRATIONS).default_database("sqlite://app.sqlite")
//! }
//!
//! fn main() -> Result<(), alembix::Error> {
//!     // Connect ($DATABASE_URL, else the default), lock, upgrade heads:
//!     // one query when already there.
//!     let report = migrations().launch(None)?;
//!     println!("schema at {}", report.rows_after.join(", "));
//!     Ok(())
//! }
//! ```
//!
//! # On the application's own connection, in an async service
//!
//! [`Migrations::launch_on`] borrows a diesel connection (`&mut PgConnection`,
//! `&mut SqliteConnection`, `&mut MysqlConnection`; a pooled one through
//! deref) and gives it back as it was. The launch blocks, so an async service
//! runs it on a blocking thread before it serves:
//!
//! ```ignore
//! # // Compiled and run as tests/async_service.rs (needs tokio and diesel's r2d2).
//! let pool = Pool::builder().build(ConnectionManager::<PgConnection>::new(url))?;
//! let launch_pool = pool.clone();
//! let report = tokio::task::spawn_blocking(move || {
//!     let mut conn = launch_pool.get()?;
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(migrations().launch_on(&mut *conn)?)
//! })
//! .await??;
//! // … then build the router over `pool` and serve.
//! ```
//!
//! # Features
//!
//! | feature | what it adds | system packages (Debian/Ubuntu) |
//! | --- | --- | --- |
//! | `sqlite` (default) | SQLite, compiled in | none |
//! | `cli` (default) | [`cli`]: `upgrade`, `downgrade`, `current`, `history`, `stamp`, `check`, … as `<binary> migrate …` (clap) | none |
//! | `tool` | [`tool`]: the whole command set over a migrations folder — `new-migration`, `merge`, `import-alembic`, `import-diesel` and the commands of [`cli`] — to mount in a project's own xtask (the `alembix-cli` crate, also the `alembix` binary) | none |
//! | `postgres` | PostgreSQL through libpq | `libpq-dev` |
//! | `mysql` | MySQL and MariaDB | `default-libmysqlclient-dev`, `pkg-config` |
//!
//! A PostgreSQL-only service that brings its own command line writes
//! `alembix = { version = "0.1", default-features = false, features = ["postgres"] }`:
//! no SQLite C code and no clap are built.

pub use alembix_runtime::*;

/// The whole command set over a migrations folder (`new-migration`, `merge`, the
/// importers, and [`cli`]'s commands), for a project's own xtask:
/// `fn main() -> ExitCode { alembix::tool::main("cargo xtask") }`.
#[cfg(feature = "tool")]
pub use alembix_cli as tool;
