//! Running the real binaries, test databases on the real servers, and oracles
//! that read the database directly (never the binaries' own reports).
//!
//! Servers: PostgreSQL at `ALEMBIX_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and MariaDB/MySQL at
//! `ALEMBIX_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`), with
//! the `postgres` / `mysql` features. Each test creates its own database there
//! and drops it afterwards; SQLite tests use a file in a fresh folder. When a
//! server is unreachable the test prints a skip line, except with `CI=true`,
//! where it fails.

#![allow(dead_code)]

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The example history's revisions, in load order.
pub const REVISIONS: [&str; 9] = [
    "1c0f5e2a9b31",
    "7d4e8a0b6c52",
    "5e6f7a8b9c0d",
    "a93b1f7e2d04",
    "3b2c1d0e9f8a",
    "c4d5e6f70812",
    "d8e9f0a1b2c3",
    "e1f2a3b4c5d6",
    "f6a7b8c9d0e1",
];

/// The head of the example history.
pub const HEAD: &str = "f6a7b8c9d0e1";

/// What a process did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code `code` and returns the run.
    pub fn code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }

    /// Asserts success.
    pub fn ok(self) -> Run {
        self.code(0)
    }

    /// Stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:#?}"))
    }

    /// Stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn run(mut command: Command) -> Run {
    let output = command
        .env_remove("DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the example service's binary in `cwd`.
pub fn chatbot(cwd: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatbot"));
    command.args(args).current_dir(cwd);
    run(command)
}

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's target dir (where cargo built this test).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace().join("target"))
}

/// `cargo` with the workspace's target dir, so built dependencies are reused.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("ALEMBIX_MANIFEST_DIR_OVERRIDE");
    command
}

/// The xtask binary, built (or found fresh) by cargo once per test process.
pub fn xtask_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let built = run({
                let mut c = cargo();
                c.args(["build", "--quiet", "-p", "xtask"])
                    .current_dir(workspace());
                c
            });
            assert_eq!(built.code, 0, "cargo build -p xtask failed: {built:#?}");
            target_dir()
                .join("debug")
                .join(format!("xtask{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

/// Runs `cargo xtask …` (the built binary) in `cwd`.
pub fn xtask(cwd: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(xtask_binary());
    command.args(args).current_dir(cwd);
    run(command)
}

/// A fresh empty folder.
pub fn scratch_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    dir
}

/// Removes a folder when dropped.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique(prefix: &str) -> String {
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

/// `url` with `password` set in its user info (`scheme://user:password@host/…`).
pub fn with_password(url: &str, password: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    match url[scheme_end..].find('@') {
        Some(at) => {
            let user = &url[scheme_end..scheme_end + at];
            let user = user.split(':').next().unwrap_or(user);
            format!(
                "{}{user}:{password}{}",
                &url[..scheme_end],
                &url[scheme_end + at..]
            )
        }
        None => url.to_string(),
    }
}

/// A database of one backend and a working folder for the binaries, both
/// removed when this goes out of scope.
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    pub name: String,
    /// The working directory the binaries run in.
    pub dir: PathBuf,
}

impl TestDb {
    /// Creates a fresh database, or `None` (with a skip line) when the server
    /// is unreachable outside CI.
    pub fn create(kind: Kind, test: &str) -> Option<TestDb> {
        let name = unique("cb");
        let dir = scratch_dir("chatbot-test");
        let url = match kind {
            Kind::Sqlite => format!("sqlite://{}", dir.join("test.sqlite").display()),
            #[cfg(feature = "postgres")]
            Kind::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match diesel::PgConnection::establish(&admin) {
                    Ok(c) => c,
                    Err(e) => return skip(kind, test, &e.to_string(), &dir),
                };
                conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .expect("create database");
                with_database(&admin, &name)
            }
            #[cfg(feature = "mysql")]
            Kind::Mysql => {
                let admin = mysql_admin_url();
                let mut conn = match diesel::MysqlConnection::establish(&admin) {
                    Ok(c) => c,
                    Err(e) => return skip(kind, test, &e.to_string(), &dir),
                };
                conn.batch_execute(&format!("CREATE DATABASE `{name}`"))
                    .expect("create database");
                with_database(&admin, &name)
            }
            #[allow(unreachable_patterns)]
            other => return skip(other, test, "support for it is not compiled in", &dir),
        };
        Some(TestDb {
            kind,
            url,
            name,
            dir,
        })
    }

    /// `chatbot <args…>` in this test's folder.
    pub fn chatbot(&self, args: &[&str]) -> Run {
        chatbot(&self.dir, args)
    }

    /// `chatbot migrate <args…> --db <url>`.
    pub fn migrate(&self, args: &[&str]) -> Run {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--db", &self.url]);
        chatbot(&self.dir, &all)
    }

    pub fn oracle(&self) -> Oracle {
        Oracle::connect(self.kind, &self.url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        match self.kind {
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
            _ => {}
        }
    }
}

fn skip(kind: Kind, test: &str, why: &str, dir: &Path) -> Option<TestDb> {
    let _ = std::fs::remove_dir_all(dir);
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{kind:?} server unreachable in CI ({test}): {why}");
    }
    eprintln!("skipping {test} on {kind:?}: server unreachable: {why}");
    None
}

/// Runs `f` against a fresh database of `kind`.
pub fn on(kind: Kind, test: &str, f: fn(&TestDb)) {
    if let Some(db) = TestDb::create(kind, test) {
        f(&db);
    }
}

/// Generates one `#[test]` per backend for each named `fn(&TestDb)`.
#[macro_export]
macro_rules! on_all_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    $crate::support::on($crate::support::Kind::Sqlite, stringify!($name), super::$name)
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::support::on($crate::support::Kind::Postgres, stringify!($name), super::$name)
                }
            )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[test]
                fn $name() {
                    $crate::support::on($crate::support::Kind::Mysql, stringify!($name), super::$name)
                }
            )*
        }
    };
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

/// A direct connection for checking what the binaries did.
pub enum Oracle {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

macro_rules! oracle {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            Oracle::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            Oracle::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Oracle::Mysql($c) => $body,
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
            other => panic!("{other:?} is not compiled in"),
        }
    }

    pub fn exec(&mut self, sql: &str) {
        oracle!(self, c => c.batch_execute(sql)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn strings(&mut self, sql: &str) -> Vec<String> {
        let rows: Vec<S> = oracle!(self, c => diesel::sql_query(sql).load(c))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|r| r.s).collect()
    }

    /// A query returning one BIGINT column named `n`.
    pub fn number(&mut self, sql: &str) -> i64 {
        let rows: Vec<N> = oracle!(self, c => diesel::sql_query(sql).load(c))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.first().map_or(0, |r| r.n)
    }

    /// The rows of `alembic_version`, sorted.
    pub fn rows(&mut self) -> Vec<String> {
        self.strings("SELECT version_num AS s FROM alembic_version ORDER BY version_num")
    }

    /// Whether a table of that name exists in the test database.
    pub fn has_table(&mut self, name: &str) -> bool {
        let sql = match self {
            Oracle::Sqlite(_) => format!(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '{name}'"
            ),
            #[cfg(feature = "postgres")]
            Oracle::Postgres(_) => format!(
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = '{name}'"
            ),
            #[cfg(feature = "mysql")]
            Oracle::Mysql(_) => format!(
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{name}'"
            ),
        };
        self.number(&sql) > 0
    }

    /// `SELECT COUNT(*)` of a table.
    pub fn count(&mut self, table: &str) -> i64 {
        self.number(&format!("SELECT COUNT(*) AS n FROM {table}"))
    }

    /// Records in the history table that `revision`, on `parent`, was applied
    /// (as a newer build, or another branch, would have).
    pub fn record_foreign(&mut self, revision: &str, parent: &str) {
        self.exec(&format!(
            "INSERT INTO alembic_version_history (revision, down_revisions, depends_on, operation, state, checksum, statements_done, statements_total, tool) \
             VALUES ('{revision}', '{parent}', '', 'upgrade', 'applied', 'sha256:00', 1, 1, 'another build')"
        ));
    }
}

/// A JSON array of strings as a `Vec<&str>`.
pub fn strs(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .collect()
}

/// The `revision` fields of a JSON array of objects.
pub fn revisions(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| {
            v["revision"]
                .as_str()
                .unwrap_or_else(|| panic!("no revision: {v}"))
        })
        .collect()
}
