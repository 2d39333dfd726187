//! What a command's `run` has to work with ([`Context`]), and the steps that
//! several commands share: finding the database, and printing an offline
//! (`--sql`) script instead of connecting.

use super::failure::Failure;
use super::stdio::Out;
use super::{DatabaseArg, Exit, OfflineArgs};
use crate::backend::Database;
use crate::dialect::Dialect;
use crate::migrator::Migrator;
use crate::next_step::Naming;
use crate::offline::OfflineCommand;
use alembix_core::MigrationSet;
use serde::Serialize;

/// One command's run: the history and its migrator, where it writes, and how.
pub(super) struct Context<'a> {
    /// The migrator over the history (the library does the work).
    pub migrator: &'a Migrator,
    /// Where results (stdout) and errors (stderr) go.
    pub out: &'a Out,
    /// Whether `--json` was given: one document on stdout instead of text.
    pub json: bool,
    /// The command's name (the JSON `command` field).
    pub name: &'static str,
    /// How messages name what to run next: the command line (`myapp
    /// migrate`, `cargo xtask`) and the `--db` the operator passed.
    pub naming: &'a Naming,
    /// The history, configuration and default database the runner was made from.
    pub migrations: &'a crate::migrations::Migrations,
}

impl Context<'_> {
    /// The history, its graph built on first use (an embedded history's
    /// `upgrade heads` at the heads never builds it).
    pub fn set(&self) -> Result<&MigrationSet, Failure> {
        Ok(self.migrator.set()?)
    }

    /// The database URL: `--db`, `DATABASE_URL`, or the runner's default
    /// (the precedence the launch uses: [`Migrations::database_url`](crate::Migrations::database_url)).
    pub fn url(&self, arg: &DatabaseArg) -> Result<String, Failure> {
        self.migrations
            .database_url(arg.url.as_deref())
            .ok_or_else(|| {
                Failure::usage(format!(
                    "`{}` needs a database: pass --db URL or set DATABASE_URL (sqlite://app.sqlite, postgres://user@host/db, mysql://user@host/db)",
                    self.name
                ))
            })
    }

    /// Connects to the database the arguments name.
    /// A URL of a dialect the history does not declare is refused before
    /// connecting.
    pub fn connect(&self, arg: &DatabaseArg) -> Result<Database<'static>, Failure> {
        let url = self.url(arg)?;
        if let Some(dialect) = Dialect::of_url(&url) {
            self.migrator.check_dialect(dialect)?;
        }
        Ok(Database::connect(&url)?)
    }

    /// `--sql`: prints the script of `command` (`range` as typed), or its JSON
    /// document; nothing connects.
    pub fn print_script(
        &self,
        offline: OfflineArgs,
        db: &DatabaseArg,
        command: OfflineCommand<'_>,
        range: &str,
    ) -> Result<Exit, Failure> {
        let dialect = self.dialect(offline, db)?;
        let script = self.migrator.offline_sql(dialect, command)?;
        if self.json {
            self.out.json(&ScriptDocument {
                command: self.name,
                offline: true,
                dialect: dialect.name(),
                range,
                sql: &script,
            });
        } else {
            self.out.print(script);
        }
        Ok(Exit::Success)
    }

    /// The dialect of a `--sql` script: `--dialect`, else the URL's scheme
    /// (the URL is not connected to).
    fn dialect(&self, offline: OfflineArgs, db: &DatabaseArg) -> Result<Dialect, Failure> {
        if let Some(d) = offline.dialect {
            return Ok(d.into());
        }
        let declared: Vec<_> = self.migrator.dialects().allowed().collect();
        let url = self.url(db);
        if let ([only], true) = (declared.as_slice(), self.migrator.dialects().is_declared()) {
            if url.is_err() {
                return Ok(Dialect::from_sql_dialect(*only));
            }
        }
        let url = url.map_err(|_| {
            Failure::usage(format!(
                "`{} --sql` needs a dialect: pass --dialect sqlite|postgresql|mysql (or --db URL, which is not connected to)",
                self.name
            ))
        })?;
        Dialect::of_url(&url).ok_or_else(|| {
            Failure::usage(
                "cannot tell the SQL dialect from the URL's scheme; pass --dialect sqlite|postgresql|mysql"
                    .to_string(),
            )
        })
    }
}

/// The document of `upgrade`, `downgrade` or `stamp` with `--sql`.
#[derive(Serialize)]
struct ScriptDocument<'a> {
    command: &'static str,
    /// Always `true`: nothing ran.
    offline: bool,
    /// `sqlite`, `postgresql` or `mysql`.
    dialect: &'static str,
    /// The target or `FROM:TO` range, as typed.
    range: &'a str,
    /// The script.
    sql: &'a str,
}
