//! [`Migrations`]: an application's migrations and how it applies them, the one
//! value its launch and its `migrate` commands are both made from.
//!
//! See [`Migrations`].

use crate::backend::Database;
use crate::config::Config;
use crate::embedded::EmbeddedMigrations;
use crate::error::{Error, Result};
use crate::migrator::Migrator;
use crate::report::Report;
use alembix_core::{Problem, ProblemKind};
use std::path::{Path, PathBuf};

/// The environment variable read for the database URL when none is given.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";

/// An application's migrations and how it applies them: where the history
/// comes from, the [`Config`] (version table, lock timeout, …) and the
/// database used when none is named.
///
/// A service that gave its launch one version table and its command line
/// another would have `migrate current` report an empty database and `migrate
/// upgrade heads` create a second version table. Built from one `Migrations`,
/// they cannot differ:
///
/// ```no_run
/// use alembix_runtime::{Config, EmbeddedMigrations, Migrations};
///
/// static MIGRATIONS: EmbeddedMigrations =
///     alembix_runtime::embed_migrations!("tests/fixtures/linear");
///
/// /// How this service migrates: used by the launch and by `app migrate …`.
/// fn migrations() -> Migrations {
///     Migrations::embedded(&MIGRATIONS)
///         .config(Config { version_table: "ddl_version".into(), ..Config::default() })
///         .default_database("sqlite://app.sqlite")
/// }
///
/// fn main() -> Result<(), alembix_runtime::Error> {
///     // One call: connect ($DATABASE_URL, else the default), lock, upgrade heads.
///     let report = migrations().launch(None)?;
///     println!("at {}", report.rows_after.join(", "));
///     Ok(())
/// }
/// ```
///
/// With the `cli` feature, `alembix_runtime::cli::Runner::new(migrations())`
/// runs the commands over the same value.
#[derive(Debug, Clone)]
pub struct Migrations {
    source: Source,
    config: Config,
    default_database: Option<String>,
}

/// Where the history comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Built into the binary by `embed_migrations!`.
    Embedded(&'static EmbeddedMigrations),
    /// A folder of `.sql` files, read when a migrator is made.
    Folder(PathBuf),
}

impl Migrations {
    /// The history `embed_migrations!` built into the binary.
    pub fn embedded(migrations: &'static EmbeddedMigrations) -> Migrations {
        Migrations::new(Source::Embedded(migrations))
    }

    /// A folder of migration files, read each time a migrator is made.
    pub fn folder(dir: impl Into<PathBuf>) -> Migrations {
        Migrations::new(Source::Folder(dir.into()))
    }

    fn new(source: Source) -> Migrations {
        Migrations {
            source,
            config: Config::default(),
            default_database: None,
        }
    }

    /// Sets the [`Config`] (version table and schema, lock timeout, …).
    pub fn config(mut self, config: Config) -> Migrations {
        self.config = config;
        self
    }

    /// Sets the database used when neither a URL nor `DATABASE_URL` is given.
    pub fn default_database(mut self, url: impl Into<String>) -> Migrations {
        self.default_database = Some(url.into());
        self
    }

    /// The [`Config`] in use.
    pub fn configuration(&self) -> &Config {
        &self.config
    }

    /// The database to use: `given`, else `$DATABASE_URL`, else the default.
    pub fn database_url(&self, given: Option<&str>) -> Option<String> {
        given
            .map(str::to_string)
            .or_else(|| {
                std::env::var(DATABASE_URL_VAR)
                    .ok()
                    .filter(|u| !u.is_empty())
            })
            .or_else(|| self.default_database.clone())
    }

    /// Where the history comes from.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub(crate) fn source(&self) -> &Source {
        &self.source
    }

    /// A [`Migrator`] over the history (a folder is read and validated now).
    pub fn migrator(&self) -> Result<Migrator> {
        match &self.source {
            Source::Embedded(m) => Migrator::from_embedded(m, self.config.clone()),
            Source::Folder(dir) => {
                let (root, folder) = split_folder(dir)?;
                Migrator::from_folder(root, &folder, self.config.clone())
            }
        }
    }

    /// Connects to [`Migrations::database_url`]`(given)`.
    pub fn connect(&self, given: Option<&str>) -> Result<Database<'static>> {
        Database::connect(&self.required_url(given)?)
    }

    /// [`Migrations::database_url`], or the error that names the URL forms.
    fn required_url(&self, given: Option<&str>) -> Result<String> {
        self.database_url(given).ok_or_else(|| Error::NoDatabase {
            accepted: crate::dialect::Dialect::accepted_urls(),
        })
    }

    /// The launch in one call: connects to `url` (else `$DATABASE_URL`, else
    /// the default database) and upgrades to the heads ([`Migrator::launch`]:
    /// one query when already there).
    ///
    /// A URL of a dialect the history does not declare is refused before
    /// connecting (a SQLite file is not even created).
    pub fn launch(&self, url: Option<&str>) -> Result<Report> {
        let migrator = self.migrator()?;
        let url = self.required_url(url)?;
        if let Some(dialect) = crate::dialect::Dialect::of_url(&url) {
            migrator.check_dialect(dialect)?;
        }
        let mut db = Database::connect(&url)?;
        migrator.launch(&mut db)
    }

    /// The launch on the application's own connection, which it keeps using
    /// afterwards: `migrations.launch_on(&mut conn)` for a `&mut PgConnection`,
    /// `&mut SqliteConnection` or `&mut MysqlConnection`, and
    /// `launch_on(&mut *pooled)` for a pooled one. The connection is given
    /// back as it was lent (see [`Database`]).
    pub fn launch_on<'c>(&self, conn: impl Into<Database<'c>>) -> Result<Report> {
        let mut db = conn.into();
        self.migrator()?.launch(&mut db)
    }
}

/// A folder path as the scan takes it: its parent and its name.
pub(crate) fn split_folder(dir: &Path) -> Result<(&Path, String)> {
    match (dir.parent(), dir.file_name()) {
        (Some(root), Some(name)) => Ok((root, name.to_string_lossy().into_owned())),
        _ => Err(Error::History(
            Problem::new(
                ProblemKind::File,
                format!("`{}` is not a folder path", dir.display()),
            )
            .help("name the migrations folder, e.g. `--dir migrations`")
            .into(),
        )),
    }
}
