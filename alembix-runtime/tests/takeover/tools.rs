//! The real tools the takeover tests drive: a virtualenv with Alembic and
//! psycopg2 (made once, kept under `target/tmp`), the xtask binary (built once
//! with cargo, as `cargo xtask` would), and the fixture projects.
//!
//! The virtualenv is made the way `alembix-cli/tests/import/venv.rs` makes its own:
//! in a scratch folder renamed into place when complete, so an interrupted
//! install is never mistaken for a ready one; only `python -m alembic` is used
//! from it. Without Python or the package index, Alembic tests print a skip
//! line, or fail with `CI=true`.

use crate::support::{Kind, TestDb};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// What the virtualenv holds: the Alembic the import tests pin, and the
/// PostgreSQL driver SQLAlchemy uses by default.
const PACKAGES: [&str; 2] = ["alembic==1.20.1", "psycopg2-binary==2.9.10"];

/// A fixture under `tests/fixtures/takeover`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/takeover")
        .join(name)
}

/// A fresh, empty folder, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "migrate-takeover-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The virtualenv's Python, or `None` (with a printed skip line) when no
/// virtualenv with Alembic can be made here. With `CI=true`, a test failure.
pub fn python_with_alembic(test: &str) -> Option<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(make_venv) {
        Ok(python) => Some(python.clone()),
        Err(why) => {
            if ci() {
                panic!("CI=true needs a real Alembic for {test}, but: {why}");
            }
            // Straight to stderr so that the test harness does not swallow it.
            let _ = writeln!(
                std::io::stderr(),
                "SKIP {test}: no real Alembic: {why} (with CI=true this fails)"
            );
            None
        }
    }
}

fn venv_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join("Scripts").join("python.exe")
    } else {
        dir.join("bin").join("python")
    }
}

fn venv_works(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import alembic, psycopg2"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(format!(
        "{what} failed: {}",
        stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message")
    ))
}

fn make_venv() -> Result<PathBuf, String> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join("takeover-venv");
    let wanted = PACKAGES.join(" ");
    let marker = dir.join(".takeover-packages");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) && venv_works(&venv_python(&dir))
    {
        return Ok(venv_python(&dir));
    }
    let host = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let scratch = base.join(format!("takeover-venv.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    run_checked(
        Command::new(&host).args(["-m", "venv"]).arg(&scratch),
        &format!("`{host} -m venv`"),
    )?;
    run_checked(
        Command::new(venv_python(&scratch))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "--timeout",
                "60",
            ])
            .args(PACKAGES),
        &format!("`pip install {wanted}`"),
    )?;
    std::fs::write(scratch.join(".takeover-packages"), &wanted).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::rename(&scratch, &dir).is_err() {
        // Another test process finished first; use its virtualenv.
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let python = venv_python(&dir);
    if venv_works(&python) {
        Ok(python)
    } else {
        Err(format!(
            "{} cannot import alembic and psycopg2",
            python.display()
        ))
    }
}

/// The xtask binary, built once per test process with the cargo running the
/// tests (a no-op when it is up to date).
pub fn xtask() -> PathBuf {
    static XTASK: OnceLock<PathBuf> = OnceLock::new();
    XTASK
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("the workspace root");
            let out = Command::new(cargo)
                .args([
                    "build",
                    "--package",
                    "xtask",
                    "--bin",
                    "xtask",
                    "--message-format=json-render-diagnostics",
                ])
                .current_dir(workspace)
                .output()
                .expect("cargo runs");
            assert!(
                out.status.success(),
                "building the xtask failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let key = "\"executable\":\"";
            stdout
                .lines()
                .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
                .filter(|l| l.contains("\"name\":\"xtask\""))
                .find_map(|l| {
                    let start = l.find(key)? + key.len();
                    let end = start + l[start..].find('"')?;
                    Some(PathBuf::from(&l[start..end]))
                })
                .expect("cargo names the xtask executable")
        })
        .clone()
}

/// Runs the xtask binary; panics with its output when it fails.
pub fn run_xtask(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(xtask())
        .args(args)
        .output()
        .expect("xtask runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "xtask {args:?} failed:\n{text}");
    text
}

/// The SQLAlchemy URL of a test database.
pub fn sqlalchemy_url(t: &TestDb) -> String {
    match t.kind {
        Kind::Sqlite => format!(
            "sqlite:///{}",
            t.sqlite_path().expect("a SQLite file").display()
        ),
        Kind::Postgres => t
            .url
            .replacen("postgresql://", "postgresql+psycopg2://", 1)
            .replacen("postgres://", "postgresql+psycopg2://", 1),
        Kind::Mysql => panic!("the Alembic tests do not run on MySQL"),
    }
}

/// Alembic's CLI on the fixture project, against `url`.
pub struct Alembic {
    python: PathBuf,
    project: PathBuf,
    url: String,
}

impl Alembic {
    pub fn new(python: PathBuf, t: &TestDb) -> Alembic {
        Alembic {
            python,
            project: fixture("alembic_project"),
            url: sqlalchemy_url(t),
        }
    }

    fn command(&self, args: &[&str]) -> Output {
        Command::new(&self.python)
            .args(["-m", "alembic", "-c"])
            .arg(self.project.join("alembic.ini"))
            .arg("-x")
            .arg(format!("url={}", self.url))
            .args(args)
            .current_dir(&self.project)
            .output()
            .expect("python runs")
    }

    /// Runs `alembic ARGS`; returns its stdout, panics with its output on failure.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "alembic {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `alembic current`: the revision ids it prints, with `(head)` marks.
    pub fn current(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .run(&["current"])
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    }

    /// `cargo xtask import-alembic` of the fixture project into `out`, its SQL
    /// from this Alembic in offline mode for this database's dialect.
    pub fn import(&self, out: &Path) -> String {
        run_xtask(&[
            "import-alembic".as_ref(),
            self.project.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--python".as_ref(),
            self.python.as_os_str(),
            "-x".as_ref(),
            format!("url={}", self.url).as_ref(),
        ])
    }
}

/// `cargo xtask import-diesel FOLDER --out OUT`.
pub fn import_diesel(folder: &Path, out: &Path) -> String {
    run_xtask(&[
        "import-diesel".as_ref(),
        folder.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
}

/// The `events` rows (one per migration run), sorted.
pub fn events(t: &TestDb) -> Vec<String> {
    let mut rows = t.oracle().strings("SELECT revision AS s FROM events");
    rows.sort();
    rows
}

fn has_table(t: &TestDb, table: &str) -> bool {
    t.oracle().tables().iter().any(|name| name == table)
}

/// `(revision, operation, state)` of every history row, oldest first, as
/// `"rev op state"`; empty when the history table does not exist.
pub fn history(t: &TestDb) -> Vec<String> {
    if !has_table(t, "alembic_version_history") {
        return Vec::new();
    }
    t.oracle()
        .history("alembic_version_history")
        .into_iter()
        .map(|(r, o, s)| format!("{r} {o} {s}"))
        .collect()
}

/// The version rows, sorted; empty when the version table does not exist.
pub fn version_rows(t: &TestDb) -> Vec<String> {
    if !has_table(t, "alembic_version") {
        return Vec::new();
    }
    t.oracle().rows("alembic_version")
}

/// Set in the child [`migrate_command`] runs: the folder, then the arguments,
/// one per line.
const ENV_CLI: &str = "TAKEOVER_CLI_CHILD";

/// A binary's `migrate` subcommand, as a service mounts it.
#[derive(clap::Parser)]
struct Cli {
    #[command(subcommand)]
    command: alembix_runtime::cli::Command,
}

/// The child of [`migrate_command`]: a program that mounts the command set
/// over a folder (`Runner::folder`), parses its arguments with clap and exits
/// with the command's code. Returns at once in a normal run.
#[test]
fn cli_child() {
    use clap::Parser as _;
    let Some(spec) = std::env::var_os(ENV_CLI) else {
        return;
    };
    let spec = spec.to_string_lossy().into_owned();
    let mut lines = spec.split('\n');
    let folder = PathBuf::from(lines.next().unwrap());
    let cli = Cli::try_parse_from(std::iter::once("app").chain(lines)).unwrap();
    let exit = alembix_runtime::cli::Runner::folder(folder)
        .program("app migrate")
        .run(&cli.command);
    std::io::stdout().flush().unwrap();
    std::process::exit(i32::from(exit.code()));
}

/// What `app migrate <args>` printed, and its exit code.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `app migrate <args>` over `folder` in a child process (this test
/// binary again, as [`cli_child`]), as an operator would in a deploy step.
pub fn migrate_command(folder: &Path, args: &[&str]) -> Ran {
    let exe = std::env::current_exe().unwrap();
    let spec = std::iter::once(folder.to_str().unwrap())
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    let out = Command::new(exe)
        .args([
            "--exact",
            "tools::cli_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(ENV_CLI, spec)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest's own lines (`running 1 test`, `test … ...`) come first.
    let stdout = stdout
        .lines()
        .filter(|l| !l.is_empty() && *l != "running 1 test")
        .map(|l| l.trim_start_matches("test tools::cli_child ... "))
        .collect::<Vec<_>>()
        .join("\n");
    Ran {
        code: out.status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
