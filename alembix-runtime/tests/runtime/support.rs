//! Test databases on the real servers, fixtures, and oracles read straight from
//! the database (never from the runtime's own reports).
//!
//! Servers: PostgreSQL at `ALEMBIX_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and MariaDB/MySQL at
//! `ALEMBIX_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). Each
//! test creates its own database there and drops it afterwards. SQLite tests use
//! a file in a fresh temporary folder. When a server is unreachable the suite is
//! skipped with a message, except with `CI=true`, where the test fails.

#![allow(dead_code)]

use alembix_runtime::core::{GraphOptions, MigrationSet, SourceFile};
use alembix_runtime::{Config, Database, Migrator};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

pub fn postgres_admin_url() -> String {
    std::env::var("ALEMBIX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

pub fn mysql_admin_url() -> String {
    std::env::var("ALEMBIX_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// Replaces the database name (the path) of a server URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &base[..path_start])
}

/// A database of one backend, dropped when this goes out of scope.
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    pub name: String,
    dir: Option<PathBuf>,
}

impl TestDb {
    /// Creates a fresh database, or `None` (with a message) when the server is
    /// unreachable outside CI.
    pub fn create(kind: Kind, test: &str) -> Option<TestDb> {
        let name = unique("mt");
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(unique("alembix-runtime-test"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let path = dir.join("test.db");
                Some(TestDb {
                    kind,
                    url: format!("sqlite://{}", path.display()),
                    name,
                    dir: Some(dir),
                })
            }
            #[cfg(feature = "postgres")]
            Kind::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match diesel::PgConnection::establish(&admin) {
                    Ok(c) => c,
                    Err(e) => return skip(kind, test, &e.to_string()),
                };
                conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .expect("create database");
                Some(TestDb {
                    kind,
                    url: with_database(&admin, &name),
                    name,
                    dir: None,
                })
            }
            #[cfg(feature = "mysql")]
            Kind::Mysql => {
                let admin = mysql_admin_url();
                let mut conn = match diesel::MysqlConnection::establish(&admin) {
                    Ok(c) => c,
                    Err(e) => return skip(kind, test, &e.to_string()),
                };
                conn.batch_execute(&format!("CREATE DATABASE `{name}`"))
                    .expect("create database");
                Some(TestDb {
                    kind,
                    url: with_database(&admin, &name),
                    name,
                    dir: None,
                })
            }
            #[allow(unreachable_patterns)]
            other => skip(other, test, "support for it is not compiled in"),
        }
    }

    pub fn connect(&self) -> Database<'static> {
        Database::connect(&self.url).expect("connect to the test database")
    }

    pub fn oracle(&self) -> Oracle {
        Oracle::connect(self.kind, &self.url)
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("test.db"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.kind {
            Kind::Sqlite => {
                if let Some(dir) = &self.dir {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            #[cfg(feature = "postgres")]
            Kind::Postgres => {
                if let Ok(mut c) = diesel::PgConnection::establish(&postgres_admin_url()) {
                    let _ = c.batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    ));
                }
            }
            #[cfg(feature = "mysql")]
            Kind::Mysql => {
                if let Ok(mut c) = diesel::MysqlConnection::establish(&mysql_admin_url()) {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
                }
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
}

fn skip(kind: Kind, test: &str, why: &str) -> Option<TestDb> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{kind:?} server unreachable in CI ({test}): {why}");
    }
    eprintln!("skipping the {kind:?} suite ({test}): server unreachable: {why}");
    None
}

/// Runs `f` against a fresh database of `kind`.
pub fn run(kind: Kind, test: &str, f: fn(&TestDb)) {
    if let Some(db) = TestDb::create(kind, test) {
        f(&db);
    }
}

/// Generates one `#[test]` per backend for each named function `fn(&TestDb)`.
#[macro_export]
macro_rules! on_all_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    $crate::support::run($crate::support::Kind::Sqlite, stringify!($name), super::$name)
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::support::run($crate::support::Kind::Postgres, stringify!($name), super::$name)
                }
            )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[test]
                fn $name() {
                    $crate::support::run($crate::support::Kind::Mysql, stringify!($name), super::$name)
                }
            )*
        }
    };
}

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs one command of the set (`args` as typed after `migrate`) over a
/// fixture folder, as a binary's `migrate` subcommand does; its exit code.
#[cfg(feature = "cli")]
pub fn run_command(fixture: &str, args: &[&str]) -> alembix_runtime::cli::Exit {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: alembix_runtime::cli::Command,
    }
    let cli = Cli::try_parse_from(std::iter::once("app").chain(args.iter().copied()))
        .expect("arguments parse");
    alembix_runtime::cli::Runner::folder(fixtures().join(fixture)).run(&cli.command)
}

/// A migrator over a fixture folder.
pub fn migrator(fixture: &str, config: Config) -> Migrator {
    Migrator::from_folder(&fixtures(), fixture, config).expect("fixture loads")
}

/// A migration file text in our format.
pub fn migration(revision: &str, down: &str, upgrade: &str, downgrade: &str) -> SourceFile {
    SourceFile {
        name: format!("{revision}.sql"),
        text: format!(
            "-- revision: {revision}\n-- down_revision: {down}\n-- message: {revision}\n\n-- migrate:upgrade\n{upgrade}\n\n-- migrate:downgrade\n{downgrade}\n"
        ),
    }
}

/// A migrator over sources written in the test.
pub fn migrator_of(sources: &[SourceFile], config: Config) -> Migrator {
    let set = MigrationSet::from_sources(sources, &GraphOptions::default()).expect("valid set");
    Migrator::new(set, config).expect("valid config")
}

#[derive(QueryableByName)]
struct S {
    #[diesel(sql_type = Text)]
    s: String,
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Direct access to the database under test, independent of the runtime.
pub enum Oracle {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

macro_rules! each {
    ($o:expr, $c:ident => $e:expr) => {
        match $o {
            Oracle::Sqlite($c) => $e,
            #[cfg(feature = "postgres")]
            Oracle::Postgres($c) => $e,
            #[cfg(feature = "mysql")]
            Oracle::Mysql($c) => $e,
        }
    };
}

impl Oracle {
    pub fn connect(kind: Kind, url: &str) -> Oracle {
        match kind {
            Kind::Sqlite => Oracle::Sqlite(
                diesel::SqliteConnection::establish(url.trim_start_matches("sqlite://"))
                    .expect("oracle connects"),
            ),
            #[cfg(feature = "postgres")]
            Kind::Postgres => {
                Oracle::Postgres(diesel::PgConnection::establish(url).expect("oracle connects"))
            }
            #[cfg(feature = "mysql")]
            Kind::Mysql => {
                Oracle::Mysql(diesel::MysqlConnection::establish(url).expect("oracle connects"))
            }
            #[allow(unreachable_patterns)]
            other => panic!("{other:?} not compiled in"),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Oracle::Sqlite(_) => Kind::Sqlite,
            #[cfg(feature = "postgres")]
            Oracle::Postgres(_) => Kind::Postgres,
            #[cfg(feature = "mysql")]
            Oracle::Mysql(_) => Kind::Mysql,
        }
    }

    pub fn exec(&mut self, sql: &str) {
        each!(self, c => c.batch_execute(sql)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn try_exec(&mut self, sql: &str) -> Result<(), String> {
        each!(self, c => c.batch_execute(sql)).map_err(|e| e.to_string())
    }

    /// A query returning one text column named `s`.
    pub fn strings(&mut self, sql: &str) -> Vec<String> {
        let rows: Vec<S> = each!(self, c => diesel::sql_query(sql).load(c))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|r| r.s).collect()
    }

    /// A query returning one BIGINT column named `n`.
    pub fn number(&mut self, sql: &str) -> i64 {
        let rows: Vec<N> = each!(self, c => diesel::sql_query(sql).load(c))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.first().map_or(0, |r| r.n)
    }

    /// User tables, sorted.
    pub fn tables(&mut self) -> Vec<String> {
        let sql = match self.kind() {
            Kind::Sqlite => "SELECT name AS s FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            Kind::Postgres => "SELECT CAST(table_name AS TEXT) AS s FROM information_schema.tables WHERE table_schema = current_schema()",
            Kind::Mysql => "SELECT CAST(table_name AS CHAR) AS s FROM information_schema.tables WHERE table_schema = DATABASE()",
        };
        let mut t = self.strings(sql);
        t.sort();
        t
    }

    /// Tables other than the version and history tables, sorted.
    pub fn user_tables(&mut self) -> Vec<String> {
        self.tables()
            .into_iter()
            .filter(|t| !t.starts_with("alembic_version"))
            .collect()
    }

    /// The rows of a version table, sorted.
    pub fn rows(&mut self, table: &str) -> Vec<String> {
        let q = self.quote(table);
        let mut r = self.strings(&format!("SELECT version_num AS s FROM {q}"));
        r.sort();
        r
    }

    /// `(revision, operation, state)` of every history row, oldest first.
    pub fn history(&mut self, table: &str) -> Vec<(String, String, String)> {
        let q = self.quote(table);
        let sep = match self.kind() {
            Kind::Mysql => format!(
                "SELECT CONCAT(revision, ' ', operation, ' ', state) AS s FROM {q} ORDER BY id"
            ),
            _ => format!(
                "SELECT revision || ' ' || operation || ' ' || state AS s FROM {q} ORDER BY id"
            ),
        };
        self.strings(&sep)
            .into_iter()
            .map(|s| {
                let mut p = s.split(' ').map(str::to_string);
                (
                    p.next().unwrap_or_default(),
                    p.next().unwrap_or_default(),
                    p.next().unwrap_or_default(),
                )
            })
            .collect()
    }

    pub fn quote(&self, ident: &str) -> String {
        match self.kind() {
            Kind::Mysql => format!("`{ident}`"),
            _ => format!("\"{ident}\""),
        }
    }

    pub fn count(&mut self, table: &str) -> i64 {
        let q = self.quote(table);
        self.number(&format!(
            "SELECT CAST(COUNT(*) AS {}) AS n FROM {q}",
            self.bigint()
        ))
    }

    pub fn bigint(&self) -> &'static str {
        match self.kind() {
            Kind::Mysql => "SIGNED",
            _ => "BIGINT",
        }
    }
}

/// Sorted owned strings.
pub fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Takes the migration lock the runtime uses for the default version table, on
/// a separate connection, and keeps it until the returned oracle is dropped.
pub fn hold_run_lock(t: &TestDb) -> Oracle {
    let mut holder = t.oracle();
    match t.kind {
        Kind::Sqlite => holder.exec("BEGIN IMMEDIATE"),
        Kind::Postgres => {
            // The key is part of the contract between versions of the runtime:
            // (ASCII `migr`, first 4 bytes of sha256("migrate:<table>") & 0x7fffffff).
            use sha2::{Digest, Sha256};
            let d = Sha256::digest(b"migrate:alembic_version");
            let object = i32::from_be_bytes([d[0], d[1], d[2], d[3]]) & 0x7fff_ffff;
            holder.exec(&format!(
                "SELECT pg_advisory_lock({}, {object})",
                0x6d69_6772
            ));
        }
        Kind::Mysql => {
            holder.exec(&format!(
                "DO GET_LOCK('migrate:{}.alembic_version', 0)",
                t.name
            ));
        }
    }
    holder
}
