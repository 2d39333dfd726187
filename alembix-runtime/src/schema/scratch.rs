//! [`Scratch`]: a throwaway database to replay a history into — SQLite in
//! memory, or a database created on a PostgreSQL or MySQL/MariaDB server
//! and dropped when the scratch goes away, on every path.

use crate::backend::Database;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::ident::Identifier;
use std::sync::atomic::{AtomicU32, Ordering};

/// Scratch databases made by this process so far (part of their names).
static MADE: AtomicU32 = AtomicU32::new(0);

/// A scratch database: [`Scratch::in_memory`] (SQLite) or
/// [`Scratch::on_server`] (`CREATE DATABASE alembix_scratch_<pid>_<n>` on
/// the server of a URL, dropped when the `Scratch` is dropped or
/// [`Scratch::remove`]d).
#[derive(Debug)]
pub struct Scratch {
    db: Option<Database<'static>>,
    server: Option<Server>,
}

/// The server side of a scratch database: where it was created, and its name.
#[derive(Debug)]
struct Server {
    admin: Database<'static>,
    name: Identifier,
}

impl Scratch {
    /// An in-memory SQLite database.
    pub fn in_memory() -> Result<Scratch> {
        Ok(Scratch {
            db: Some(Database::connect("sqlite::memory:")?),
            server: None,
        })
    }

    /// A new database on the PostgreSQL or MySQL/MariaDB server of `url`
    /// (whose own database is only connected to, to create and drop the
    /// scratch), or for a SQLite URL an in-memory database.
    pub fn on_server(url: &str) -> Result<Scratch> {
        if Dialect::of_url(url) == Some(Dialect::Sqlite) {
            return Scratch::in_memory();
        }
        let mut admin = Database::connect(url)?;
        let name = Identifier::new(
            &format!(
                "alembix_scratch_{}_{}",
                std::process::id(),
                MADE.fetch_add(1, Ordering::SeqCst)
            ),
            "scratch database",
        )?;
        let quoted = admin.dialect().quote(&name);
        admin.batch_or(
            &format!("CREATE DATABASE {quoted}"),
            &format!("creating the scratch database {name} (this needs the CREATE DATABASE privilege; or replay into SQLite: drop --db)"),
        )?;
        tracing::debug!(scratch = %name, "created a scratch database");
        let scratch_url = with_database(url, name.as_str());
        let mut scratch = Scratch {
            db: None,
            server: Some(Server { admin, name }),
        };
        // On failure, `scratch` is dropped here, and drops the database.
        scratch.db = Some(Database::connect(&scratch_url)?);
        Ok(scratch)
    }

    /// The name of the database created on the server (`None` in memory).
    pub fn name(&self) -> Option<&str> {
        self.server.as_ref().map(|s| s.name.as_str())
    }

    /// The connection to the scratch database.
    pub fn database(&mut self) -> Result<&mut Database<'static>> {
        self.db.as_mut().ok_or_else(|| {
            Error::Unsupported("the scratch database was removed already".to_string())
        })
    }

    /// Runs a script (a `schema.sql`, generated statements) on the scratch
    /// database, statement by statement as a migration section of its
    /// dialect is cut; a failure names `source`, the statement's line and
    /// its text.
    pub fn run_script(&mut self, sql: &str, source: &str) -> Result<()> {
        let db = self.database()?;
        let dialect = db.dialect().sql_dialect();
        let split = alembix_core::sql::split_statements(sql, 1, dialect);
        if let Some(open) = &split.unterminated {
            return Err(Error::Unsupported(format!("{source}: {open}")));
        }
        for statement in &split.statements {
            let doing = format!(
                "running {source}:{} on the scratch database: {}",
                statement.line,
                first_line(&statement.sql)
            );
            db.batch_or(&statement.sql, &doing)?;
        }
        Ok(())
    }

    /// Closes the scratch connection and drops the database now, saying
    /// whether dropping it failed (dropping the `Scratch` does the same
    /// and only logs a failure).
    pub fn remove(mut self) -> Result<()> {
        self.drop_database()
    }

    fn drop_database(&mut self) -> Result<()> {
        self.db = None;
        let Some(mut server) = self.server.take() else {
            return Ok(());
        };
        let quoted = server.admin.dialect().quote(&server.name);
        let doing = format!("dropping the scratch database {}", server.name);
        match server.admin.dialect() {
            Dialect::Postgres => {
                // `WITH (FORCE)` (PostgreSQL 13+) ends a session left behind;
                // older servers take the plain form.
                let forced = format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)");
                if server.admin.batch(&forced).is_err() {
                    server
                        .admin
                        .batch_or(&format!("DROP DATABASE IF EXISTS {quoted}"), &doing)?;
                }
            }
            _ => server
                .admin
                .batch_or(&format!("DROP DATABASE IF EXISTS {quoted}"), &doing)?,
        }
        tracing::debug!(scratch = %server.name, "dropped the scratch database");
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.drop_database() {
            tracing::warn!(error = %e, "the scratch database is left behind; drop it by hand");
        }
    }
}

/// A statement's first line, shortened, for a message.
fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or_default();
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// `url` with its database (the path) replaced by `name`, the query kept.
///
/// The host starts after the **last** `@` (the rule of [`crate::redact`]:
/// a password may hold a raw `?` or `#`, which libpq reads as its own, and
/// a URL the drivers would read otherwise was refused before this).
fn with_database(url: &str, name: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let host = url[authority..]
        .rfind('@')
        .map_or(authority, |i| authority + i + 1);
    let path = url[host..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| host + i);
    let query = url[path..].find('?').map_or("", |i| &url[path + i..]);
    format!("{}/{name}{query}", &url[..path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/app?sslmode=disable", "s"),
            "postgres://u:p@h:5432/s?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h", "s"), "mysql://root@h/s");
        assert_eq!(
            with_database("postgres://u:a?b/c#d@h/app?x=1", "s"),
            "postgres://u:a?b/c#d@h/s?x=1"
        );
    }
}
