//! `import-alembic --online-scratch URL`: the revisions offline mode cannot
//! render (they inspect the live schema: `sa.inspect(bind)`, `has_table`,
//! reflection; or they run their SQL through the connection) rendered instead by
//! running the history with Alembic against an **empty scratch database** of the
//! target dialect, which the import creates on the given server and drops
//! afterwards, also on failure.
//!
//! The whole history runs in one Python process ([`alembic_driver::render_online`]):
//! `upgrade heads`, then `downgrade base`, every statement each step executed
//! captured with its parameters inlined as the driver sent them, reflection's
//! own reads left out. Only the sections that offline mode left as placeholders
//! take that SQL; each is marked in its file as rendered online against an
//! empty database (what a fresh install runs), so a reviewer knows to check it
//! for databases in other states. The captured text goes through the same
//! cleanup as offline output ([`offline_sql::clean_chunk`]), with no `%`
//! escaping to undo: it is already what the driver sent.

use crate::alembic_driver::{self, Direction, Job, Rendered};
use crate::offline_sql::{clean_chunk, Cleaned, Family, Rendering};
use alembix_runtime::redact::{redact_url, Scrubber};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The kinds of server `--online-scratch` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Postgres,
    Mysql,
    Sqlite,
}

/// The `--online-scratch` server: where the scratch database is made.
#[derive(Debug, Clone)]
pub(crate) struct ScratchServer {
    kind: Kind,
    /// As given (the password included): only the Python driver sees it, through
    /// its environment.
    url: String,
    /// As messages show it: the password masked.
    pub shown: String,
    scrubber: Scrubber,
}

impl ScratchServer {
    /// Reads `--online-scratch`: a `postgresql://` (`postgres://`), `mysql://` or
    /// `mariadb://` server URL (a `+driver` names the Python driver), or `sqlite`.
    pub(crate) fn parse(value: &str) -> Result<ScratchServer, String> {
        let shown = redact_url(value);
        let scheme = value
            .split_once("://")
            .map(|(s, _)| s.split('+').next().unwrap_or(s).to_ascii_lowercase());
        let kind = match scheme.as_deref() {
            _ if value.eq_ignore_ascii_case("sqlite") => Kind::Sqlite,
            Some("postgresql" | "postgres") => Kind::Postgres,
            Some("mysql" | "mariadb") => Kind::Mysql,
            _ => {
                return Err(format!(
                    "--online-scratch `{shown}`: give the URL of a database server to make the scratch database on (`postgresql://user@host/postgres`, `mysql://root@host`, `mariadb://…`; `+driver` names the Python driver, e.g. `mysql+pymysql://`), or `sqlite` for a temporary file"
                ))
            }
        };
        // SQLAlchemy reads `postgres://` no more.
        let url = match value.strip_prefix("postgres://") {
            Some(rest) => format!("postgresql://{rest}"),
            None => value.to_string(),
        };
        Ok(ScratchServer {
            kind,
            scrubber: Scrubber::for_url(value),
            url,
            shown,
        })
    }

    /// The SQL family of the server.
    pub(crate) fn family(&self) -> Family {
        match self.kind {
            Kind::Postgres => Family::Postgres,
            Kind::Mysql => Family::Mysql,
            Kind::Sqlite => Family::Sqlite,
        }
    }

    /// Whether the offline run should ask this server its version first: MySQL's
    /// dialect renders per server (MariaDB or MySQL, and which version).
    pub(crate) fn renders_per_version(&self) -> bool {
        self.kind == Kind::Mysql
    }

    /// The URL the Python driver reads: the server's (SQLite: the scratch file's).
    pub(crate) fn driver_url(&self) -> &str {
        &self.url
    }

    /// `text` without the password.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.scrubber.scrub(text)
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Postgres => "PostgreSQL",
            Kind::Mysql => "MySQL/MariaDB",
            Kind::Sqlite => "SQLite",
        }
    }
}

/// A scratch database: made by the online run, dropped when this goes out of
/// scope (also when the run failed or the process died); a drop that fails is
/// reported with the database's name.
struct Scratch<'a> {
    job: Job<'a>,
    name: String,
    /// The SQLite file, which the import itself removes.
    file: Option<PathBuf>,
    server: &'a ScratchServer,
    /// Whether the run said it created the database (`None`: it did not say).
    created: Option<bool>,
}

impl Scratch<'_> {
    /// How the name is shown: the server's database, or the file.
    fn shown(&self) -> String {
        match &self.file {
            Some(file) => file.display().to_string(),
            None => format!("`{}` on {}", self.name, self.server.shown),
        }
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if self.created == Some(false) {
            return;
        }
        let outcome = match &self.file {
            Some(file) => {
                for suffix in ["-journal", "-wal", "-shm"] {
                    let mut side = file.clone().into_os_string();
                    side.push(suffix);
                    let _ = std::fs::remove_file(side);
                }
                match std::fs::remove_file(file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                    _ => Ok(()),
                }
            }
            None => alembic_driver::drop_scratch(&self.job, &self.name),
        };
        match (outcome, self.created) {
            (Ok(()), Some(true)) => println!("dropped the scratch database {}", self.shown()),
            (Err(why), Some(true)) => println!(
                "warning: the scratch database {} could not be dropped ({}); drop it by hand",
                self.shown(),
                self.server.scrub(&why)
            ),
            // Never created, as far as the import heard: nothing to report.
            _ => {}
        }
    }
}

/// A name no other import uses at the same time: the process id and the time.
fn scratch_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("alembix_import_{}_{nanos:x}", std::process::id())
}

/// What the Alembic run needs besides the server (the same as the offline run's).
pub(crate) struct AlembicArgs<'a> {
    pub python: &'a Path,
    pub ini: &'a Path,
    pub name: &'a str,
    pub x_args: &'a [String],
}

/// What the offline rendering was, for the online one to match.
pub(crate) struct Offline<'a> {
    /// SQLAlchemy's dialect name (`postgresql`, `mysql`, `mariadb`, `sqlite`).
    pub dialect: &'a str,
    /// Whether it rendered for MariaDB.
    pub is_mariadb: bool,
    /// The version table env.py names.
    pub version_table: &'a str,
}

/// What the online run gave the sections that needed it.
#[derive(Debug, Default)]
pub(crate) struct Online {
    /// The server as the marker names it: `PostgreSQL 15.20`.
    pub server: String,
    upgrades: HashMap<String, Cleaned>,
    downgrades: HashMap<String, Cleaned>,
    /// Why a needed section got no SQL online.
    failures: HashMap<(Direction, String), String>,
    /// Revisions whose online step entered `autocommit_block()`.
    pub autocommit: HashSet<String>,
}

impl Online {
    /// The SQL `revision`'s step in `direction` executed online, if it was needed
    /// and taken.
    pub(crate) fn sql(&self, direction: Direction, revision: &str) -> Option<&Cleaned> {
        match direction {
            Direction::Upgrade => self.upgrades.get(revision),
            Direction::Downgrade => self.downgrades.get(revision),
        }
    }

    /// Why a needed section got no SQL online.
    pub(crate) fn failure(&self, direction: Direction, revision: &str) -> Option<&str> {
        self.failures
            .get(&(direction, revision.to_string()))
            .map(String::as_str)
    }

    /// The comment lines above a section rendered online (`why_offline`: what
    /// offline mode said), and after them, when it executed nothing, that too.
    pub(crate) fn marker(
        &self,
        tool: &str,
        direction: Direction,
        why_offline: &str,
        statements: usize,
    ) -> String {
        let function = direction.name();
        let mut lines = vec![
            format!(
                "-- NOTE({tool}): rendered online against an empty {} database (a scratch database the import made and dropped):",
                self.server
            ),
            format!(
                "-- this is the SQL {function}() executed there, parameters inlined, because offline mode could not render it ({}).",
                short(why_offline)
            ),
            "-- It is what a fresh install runs: review it for databases in another state (rows, or objects this revision looks for).".to_string(),
        ];
        if statements == 0 {
            lines.push("-- On that database it executed no statement.".to_string());
        }
        lines.join("\n")
    }
}

/// `text` on one line, at most 160 characters.
fn short(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = line.trim_end_matches('.');
    match line.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// Runs the history online against a new scratch database on `server` and takes,
/// for each `(direction, revision)` in `needed`, the SQL its step executed there.
/// `Err` when the scratch database cannot be made or the run cannot start at all
/// (the import stops: the user asked for this rendering).
pub(crate) fn render(
    alembic: &AlembicArgs<'_>,
    server: &ScratchServer,
    offline: &Offline<'_>,
    needed: &[(Direction, String)],
) -> Result<Online, String> {
    let name = scratch_name();
    let file =
        (server.kind == Kind::Sqlite).then(|| std::env::temp_dir().join(format!("{name}.sqlite")));
    let sqlite_url = file.as_ref().map(|f| format!("sqlite:///{}", f.display()));
    let server_url = sqlite_url.as_deref().unwrap_or(server.driver_url());
    let job = || Job {
        python: alembic.python,
        ini: alembic.ini,
        name: alembic.name,
        x_args: alembic.x_args,
        dialects: &[],
        server_version: None,
        server_url: Some(server_url),
        probe: false,
    };
    let mut scratch = Scratch {
        job: job(),
        name: name.clone(),
        file,
        server,
        created: None,
    };
    println!(
        "rendering {} section(s) online: Alembic runs the history (upgrade heads, then downgrade base) against a new, empty scratch database {}, in one process…",
        needed.len(),
        scratch.shown()
    );
    let rendered = alembic_driver::render_online(&job(), &name).map_err(|f| match f {
        alembic_driver::Failure::NoAlembic(why) | alembic_driver::Failure::Broken(why) => {
            format!(
                "--online-scratch: the online run could not start: {}",
                server.scrub(&why)
            )
        }
    })?;
    scratch.created = rendered.scratch_created.as_ref().map(Result::is_ok);
    match &rendered.scratch_created {
        Some(Ok(())) => {}
        Some(Err(why)) => {
            return Err(format!(
                "--online-scratch {}: cannot create the scratch database there: {}; nothing was written",
                server.shown,
                server.scrub(why)
            ))
        }
        None => {
            let why = rendered
                .scripts
                .as_ref()
                .and_then(|s| s.as_ref().err())
                .or(rendered.crashed.as_ref())
                .map_or("no report", String::as_str);
            return Err(format!(
                "--online-scratch: Alembic did not get as far as the scratch database: {}; nothing was written",
                server.scrub(why)
            ));
        }
    }
    let online = taken(&rendered, server, offline, needed);
    drop(scratch);
    let stopped = rendered
        .run_failures
        .first()
        .map(|f| format!("its {} failed: {}", f.direction.name(), f.message))
        .or_else(|| rendered.crashed.clone());
    if let Some(why) = stopped {
        println!(
            "note: Alembic's online run stopped ({}); the sections it did not render stay placeholders, each saying why",
            server.scrub(why.trim_end_matches('.'))
        );
    }
    Ok(online)
}

/// The online SQL of each needed section, or why there is none.
fn taken(
    rendered: &Rendered,
    server: &ScratchServer,
    offline: &Offline<'_>,
    needed: &[(Direction, String)],
) -> Online {
    let context = rendered.contexts.iter().find(|c| c.online);
    let mut online = Online {
        server: server.kind_name().to_string(),
        ..Online::default()
    };
    let mismatch = context.and_then(|c| {
        let mariadb = c.is_mariadb.unwrap_or(false);
        if c.dialect != offline.dialect {
            Some(format!(
                "env.py's online run used the {} dialect, and the offline SQL of the other revisions is for {}",
                c.dialect, offline.dialect
            ))
        } else if mariadb != offline.is_mariadb {
            let (server, rendered) = if mariadb {
                ("MariaDB", "MySQL")
            } else {
                ("MySQL", "MariaDB")
            };
            Some(format!(
                "the scratch server is {server}, and the offline SQL was rendered for {rendered}: give --server-version as `SELECT VERSION()` prints it on the server you target"
            ))
        } else {
            None
        }
    });
    if let Some(c) = context {
        let name = match (Family::of(&c.dialect), c.is_mariadb) {
            (Family::Postgres, _) => "PostgreSQL",
            (Family::Mysql, Some(true)) => "MariaDB",
            (Family::Mysql, _) => "MySQL",
            (Family::Sqlite, _) => "SQLite",
            (Family::Other, _) => c.dialect.as_str(),
        };
        let version = c
            .server_version_info
            .iter()
            .flatten()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".");
        online.server = if version.is_empty() {
            name.to_string()
        } else {
            format!("{name} {version}")
        };
    }
    let rendering = context.map(|c| Rendering {
        family: Family::of(&c.dialect),
        paramstyle: c.paramstyle.clone().unwrap_or_default(),
        // What the driver sent: nothing to undo.
        double_percents: false,
    });
    let family = rendering.as_ref().map_or(server.family(), |r| r.family);
    for (direction, revision) in needed {
        let key = (*direction, revision.clone());
        let step = rendered.step(0, *direction, revision);
        let why = match (&mismatch, step) {
            (Some(mismatch), _) => Err(format!("not taken: {mismatch}")),
            (None, Some(step)) => match &step.error {
                Some(error) => Err(format!("Alembic failed in this revision: {error}")),
                None => {
                    if step.autocommit {
                        online.autocommit.insert(revision.clone());
                    }
                    clean_chunk(&step.sql, offline.version_table, rendering.as_ref(), family)
                }
            },
            (None, None) => Err(not_reached(rendered, *direction)),
        };
        match why {
            Ok(cleaned) => {
                match direction {
                    Direction::Upgrade => online.upgrades.insert(revision.clone(), cleaned),
                    Direction::Downgrade => online.downgrades.insert(revision.clone(), cleaned),
                };
            }
            Err(why) => {
                online.failures.insert(key, server.scrub(&why));
            }
        }
    }
    online
}

/// Why the online run has no step for a revision in `direction`.
fn not_reached(rendered: &Rendered, direction: Direction) -> String {
    let failed = |d: Direction| {
        rendered
            .run_failures
            .iter()
            .find(|f| f.direction == d)
            .map(|f| f.message.clone())
    };
    let upgrade_failed = failed(Direction::Upgrade);
    match (
        direction,
        &upgrade_failed,
        failed(direction),
        &rendered.crashed,
    ) {
        (Direction::Downgrade, Some(up), _, _) => {
            format!("the online run did not downgrade: its upgrade stopped ({up})")
        }
        (_, _, Some(f), _) => format!(
            "the online {} stopped before this revision: {f}",
            direction.name()
        ),
        (_, _, None, Some(crash)) => {
            format!("the online run stopped before this revision: {crash}")
        }
        _ => format!(
            "the online {} did not run this revision (is it on the way from base to the heads?)",
            direction.name()
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn servers_are_read_by_kind_and_shown_without_their_password() {
        for (given, kind, shown, url) in [
            (
                "postgresql://app:s3cret@db:5432/postgres",
                Kind::Postgres,
                "postgresql://app:***@db:5432/postgres",
                "postgresql://app:s3cret@db:5432/postgres",
            ),
            (
                "postgres://app@db",
                Kind::Postgres,
                "postgres://app@db",
                "postgresql://app@db",
            ),
            (
                "postgresql+psycopg://app@db",
                Kind::Postgres,
                "postgresql+psycopg://app@db",
                "postgresql+psycopg://app@db",
            ),
            (
                "mysql://root:pw@127.0.0.1:3306",
                Kind::Mysql,
                "mysql://root:***@127.0.0.1:3306",
                "mysql://root:pw@127.0.0.1:3306",
            ),
            (
                "MariaDB+pymysql://root@h/test",
                Kind::Mysql,
                "MariaDB+pymysql://root@h/test",
                "MariaDB+pymysql://root@h/test",
            ),
            ("sqlite", Kind::Sqlite, "sqlite", "sqlite"),
            ("SQLite", Kind::Sqlite, "SQLite", "SQLite"),
        ] {
            let server = ScratchServer::parse(given).unwrap();
            assert_eq!(server.kind, kind, "{given}");
            assert_eq!(server.shown, shown, "{given}");
            assert_eq!(server.driver_url(), url, "{given}");
        }
        let server = ScratchServer::parse("mysql://root:pw1234@h").unwrap();
        assert_eq!(
            server.scrub("Access denied (pw1234)"),
            "Access denied (***)"
        );
        assert!(server.renders_per_version());
        assert!(!ScratchServer::parse("sqlite")
            .unwrap()
            .renders_per_version());
        for refused in ["sqlite:///x.db", "oracle://u:pw@h", "db.example", ""] {
            let why = ScratchServer::parse(refused).unwrap_err();
            assert!(why.starts_with("--online-scratch `"), "{why}");
            assert!(!why.contains("pw@"), "{why}");
        }
    }

    #[test]
    fn the_marker_says_where_it_ran_and_why() {
        let online = Online {
            server: "PostgreSQL 15.20".to_string(),
            ..Online::default()
        };
        let marker = online.marker(
            "import-alembic",
            Direction::Downgrade,
            "Alembic failed in this revision: NoInspectionAvailable: No inspection system\nis available.",
            0,
        );
        assert_eq!(
            marker,
            "-- NOTE(import-alembic): rendered online against an empty PostgreSQL 15.20 database (a scratch database the import made and dropped):\n\
             -- this is the SQL downgrade() executed there, parameters inlined, because offline mode could not render it (Alembic failed in this revision: NoInspectionAvailable: No inspection system is available).\n\
             -- It is what a fresh install runs: review it for databases in another state (rows, or objects this revision looks for).\n\
             -- On that database it executed no statement."
        );
        assert!(crate::import_output::check_sql_body(&marker).is_ok());
        let long = "x ".repeat(200);
        assert!(short(&long).ends_with('…'));
        assert_eq!(short(&long).chars().count(), 161);
    }
}
