//! The three backends, and one fresh database per measured run: a new SQLite
//! file, or a uniquely named PostgreSQL database (created and dropped through
//! `psql`) or MySQL/MariaDB database (through the `mariadb` client). Also the
//! untimed checks that a contender really did its work.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The `psql` program itself: `<pg_config --bindir>/psql` when there is one.
/// On Debian and Ubuntu, `psql` on the PATH is `pg_wrapper`, a Perl script that
/// picks a cluster and then runs the real program; its start-up (some 20 ms)
/// is not the cost of talking to PostgreSQL, so the floor does without it.
pub fn psql() -> &'static Path {
    static PSQL: OnceLock<PathBuf> = OnceLock::new();
    PSQL.get_or_init(|| {
        Command::new("pg_config")
            .arg("--bindir")
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("psql"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"))
    })
}

/// A database backend the suite measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    /// SQLite, a file.
    Sqlite,
    /// PostgreSQL, the local server.
    Postgres,
    /// MySQL or MariaDB, the local server.
    Mysql,
}

impl Backend {
    /// Its name in options and tables.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    /// Its name in prose.
    pub fn title(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL/MariaDB",
        }
    }

    /// Parses an option value.
    pub fn parse(s: &str) -> Result<Backend, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::Mysql),
            other => Err(format!(
                "unknown backend `{other}`; use sqlite, postgres and/or mysql"
            )),
        }
    }
}

/// Where the databases of runs are made.
#[derive(Debug, Clone)]
pub struct Servers {
    /// Folder for SQLite files.
    pub sqlite_dir: PathBuf,
    /// PostgreSQL server URL without a database: `postgresql://postgres@127.0.0.1:5432`.
    pub postgres: String,
    /// MySQL/MariaDB server URL without a database: `mysql://root@127.0.0.1:3306`.
    pub mysql: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database that exists for one run and is removed when dropped.
#[derive(Debug)]
pub struct RunDb {
    backend: Backend,
    /// SQLite: the file. PostgreSQL, MySQL: the server URL.
    location: String,
    /// PostgreSQL, MySQL: the database name.
    name: String,
}

impl RunDb {
    /// A fresh, empty database (SQLite: a path where no file exists yet).
    pub fn create(servers: &Servers, backend: Backend) -> Result<RunDb, String> {
        let k = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("xtask_bench_{}_{k}", std::process::id());
        match backend {
            Backend::Sqlite => {
                std::fs::create_dir_all(&servers.sqlite_dir)
                    .map_err(|e| format!("{}: {e}", servers.sqlite_dir.display()))?;
                let path = servers.sqlite_dir.join(format!("{name}.sqlite"));
                let db = RunDb {
                    backend,
                    location: path.display().to_string(),
                    name,
                };
                db.remove_files();
                Ok(db)
            }
            Backend::Postgres => {
                psql_admin(&servers.postgres, &format!("CREATE DATABASE {name}"))?;
                Ok(RunDb {
                    backend,
                    location: servers.postgres.clone(),
                    name,
                })
            }
            Backend::Mysql => {
                mariadb_admin(&servers.mysql, &format!("CREATE DATABASE {name}"))?;
                Ok(RunDb {
                    backend,
                    location: servers.mysql.clone(),
                    name,
                })
            }
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite: the file's path.
    pub fn path(&self) -> &str {
        &self.location
    }

    /// The URL the Rust contenders take: `sqlite://FILE`, `postgres://…/DB` or
    /// `mysql://…/DB`.
    pub fn rust_url(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.location),
            Backend::Mysql => format!("{}/{}", self.location, self.name),
            Backend::Postgres => format!(
                "postgres://{}/{}",
                self.location.split_once("://").map_or("", |(_, r)| r),
                self.name
            ),
        }
    }

    /// The URL SQLAlchemy (Alembic) takes; PostgreSQL through psycopg2 (the
    /// driver the suite installs; SQLAlchemy 2.1 would default to psycopg 3),
    /// MySQL through PyMySQL (pure Python: installs without compiling).
    pub fn sqlalchemy_url(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite:///{}", self.location),
            Backend::Mysql => format!(
                "mysql+pymysql://{}/{}",
                self.location.split_once("://").map_or("", |(_, r)| r),
                self.name
            ),
            Backend::Postgres => format!(
                "postgresql+psycopg2://{}/{}",
                self.location.split_once("://").map_or("", |(_, r)| r),
                self.name
            ),
        }
    }

    /// `postgresql://…/DB`.
    pub fn psql_url(&self) -> String {
        format!(
            "postgresql://{}/{}",
            self.location.split_once("://").map_or("", |(_, r)| r),
            self.name
        )
    }

    /// The database name (PostgreSQL, MySQL).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The MySQL server URL (without the database).
    pub fn server(&self) -> &str {
        &self.location
    }

    /// A query's output through the backend's own client (`sqlite3` / `psql` /
    /// `mariadb`):
    /// one line per row, `|` between columns.
    pub fn query(&self, sql: &str) -> Result<String, String> {
        let mut command = match self.backend {
            Backend::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.args(["-init", "/dev/null", "-batch"])
                    .arg(&self.location)
                    .arg(sql);
                c
            }
            Backend::Postgres => {
                let mut c = Command::new(psql());
                c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
                    .arg(self.psql_url());
                c
            }
            Backend::Mysql => {
                let mut c = mariadb(&self.location, Some(&self.name))?;
                c.args(["-N", "-B", "-e", sql]);
                c
            }
        };
        capture(&mut command)
    }

    /// The `t<n>` tables that exist.
    pub fn table_count(&self) -> Result<usize, String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 't[0-9]*'"
            }
            Backend::Postgres => {
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name ~ '^t[0-9]+$'"
            }
            Backend::Mysql => {
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name REGEXP '^t[0-9]+$'"
            }
        };
        let out = self.query(sql)?;
        out.trim()
            .parse()
            .map_err(|_| format!("unexpected table count {out:?}"))
    }

    fn remove_files(&self) {
        for suffix in ["", "-journal", "-wal", "-shm", "-migrate-lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.location));
        }
    }
}

impl Drop for RunDb {
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => self.remove_files(),
            Backend::Postgres => {
                if let Err(e) = psql_admin(
                    &self.location,
                    &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                ) {
                    eprintln!("bench: could not drop database {}: {e}", self.name);
                }
            }
            Backend::Mysql => {
                if let Err(e) = mariadb_admin(
                    &self.location,
                    &format!("DROP DATABASE IF EXISTS {}", self.name),
                ) {
                    eprintln!("bench: could not drop database {}: {e}", self.name);
                }
            }
        }
    }
}

/// Removes what earlier runs that were interrupted left behind: SQLite files
/// and PostgreSQL and MySQL databases named `xtask_bench_<pid>_<k>` whose
/// process is gone.
pub fn remove_leftovers(servers: &Servers, backends: &[Backend]) {
    let dead = |name: &str| {
        name.strip_prefix("xtask_bench_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| {
                pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
            })
    };
    if backends.contains(&Backend::Sqlite) {
        if let Ok(entries) = std::fs::read_dir(&servers.sqlite_dir) {
            for entry in entries.flatten() {
                if dead(&entry.file_name().to_string_lossy()) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
    if backends.contains(&Backend::Postgres) && Path::new("/proc/self").exists() {
        let listed = psql_admin(
            &servers.postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'xtask\\_bench\\_%'",
        );
        for name in listed.unwrap_or_default().lines().map(str::trim) {
            if dead(name) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                let _ = psql_admin(
                    &servers.postgres,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
        }
    }
    if backends.contains(&Backend::Mysql) && Path::new("/proc/self").exists() {
        let listed = mariadb_admin(&servers.mysql, "SHOW DATABASES LIKE 'xtask\\_bench\\_%'");
        for name in listed.unwrap_or_default().lines().map(str::trim) {
            if dead(name) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                let _ = mariadb_admin(&servers.mysql, &format!("DROP DATABASE IF EXISTS {name}"));
            }
        }
    }
}

/// The MySQL/MariaDB command-line client: `mariadb`, or `mysql` where only
/// that name is installed.
pub fn mariadb_program() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        if has_program(Path::new("mariadb"), "--version") {
            PathBuf::from("mariadb")
        } else {
            PathBuf::from("mysql")
        }
    })
}

/// The client connected over TCP to the server of `server`
/// (`mysql://user[:password]@host[:port]`), on `database` when given, with no
/// option file read (`--no-defaults`, as `psql -X`).
pub fn mariadb(server: &str, database: Option<&str>) -> Result<Command, String> {
    let rest = server
        .strip_prefix("mysql://")
        .or_else(|| server.strip_prefix("mariadb://"))
        .ok_or_else(|| format!("--mysql-url: `{server}` is not a mysql:// URL"))?;
    let rest = rest.trim_end_matches('/');
    let (user, host) = match rest.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, rest),
    };
    let (host, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (host, None),
    };
    let mut c = Command::new(mariadb_program());
    c.args(["--no-defaults", "--protocol=TCP", "-h", host]);
    if let Some(port) = port {
        c.args(["-P", port]);
    }
    if let Some(user) = user {
        let (user, password) = match user.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (user, None),
        };
        c.args(["-u", user]);
        if let Some(password) = password {
            c.arg(format!("--password={password}"));
        }
    }
    if let Some(database) = database {
        c.args(["-D", database]);
    }
    Ok(c)
}

/// Runs one statement on the MySQL server, on no database.
pub fn mariadb_admin(server: &str, sql: &str) -> Result<String, String> {
    capture(mariadb(server, None)?.args(["-N", "-B", "-e", sql]))
}

/// Runs one statement on the server's `postgres` database.
pub fn psql_admin(server: &str, sql: &str) -> Result<String, String> {
    capture(
        Command::new(psql())
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .arg(format!("{server}/postgres")),
    )
}

/// Runs `command`, returning its stdout, or its stderr as the error.
pub fn capture(command: &mut Command) -> Result<String, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether a program runs at all (`sqlite3 --version`, …).
pub fn has_program(program: &Path, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}
