//! Alembic's revision graph for Rust: a folder of migrations **checked when the
//! binary is built**, embedded in it, and applied **at launch** with diesel.
//!
//! This is the crate to depend on. It re-exports the runtime ([`Migrator`],
//! [`Database`], [`Config`], …), the build-time macro [`embed_migrations!`] and,
//! with the default `cli` feature, the command set a binary mounts ([`cli`]).
//!
//! ```no_run
//! // The folder is relative to the crate's Cargo.toml; usually "migrations".
//! static MIGRATIONS: alembix::EmbeddedMigrations =
//!     alembix::embed_migrations!("../alembix-runtime/tests/fixtures/linear");
//!
//! fn main() -> Result<(), alembix::Error> {
//!     let migrator = alembix::Migrator::from_embedded(&MIGRATIONS, Default::default())?;
//!     let mut db = alembix::Database::connect("sqlite://app.sqlite")?;
//!     migrator.launch(&mut db)?; // upgrade heads; one query when already there
//!     Ok(())
//! }
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
