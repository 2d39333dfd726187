//! A Python virtual environment with Alembic (and the PostgreSQL and MariaDB
//! drivers), made once and kept under target/.
//!
//! Made in a scratch folder and renamed into place when complete, so an
//! interrupted install is never mistaken for a ready one. Only `python -m alembic`
//! is used from it (console scripts carry the scratch path in their shebang).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The Alembic the tests pin (SEMANTICS.md was checked against it), the
/// SQLAlchemy it renders with, and the drivers Alembic's online runs use to compare
/// with (psycopg2 for PostgreSQL, PyMySQL for MariaDB).
const REQUIREMENTS: [&str; 4] = [
    "alembic==1.20.1",
    "SQLAlchemy==2.1.9",
    "psycopg2-binary==2.9.13",
    "PyMySQL==1.2.4",
];

/// The venv's Python, or `None` (with a printed skip line) when no venv with
/// Alembic can be made here. With `CI=true`, that is a test failure instead.
pub fn python_with_alembic() -> Option<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(make) {
        Ok(python) => Some(python.clone()),
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true needs a real Alembic for this test, but: {why}");
            }
            // Written straight to stderr so the test harness does not swallow it.
            let _ = writeln!(
                std::io::stderr(),
                "SKIP real-Alembic import test: {why} (with CI=true this fails)"
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

fn has_alembic(python: &Path) -> bool {
    Command::new(python)
        .args(["-m", "alembic", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("no message")
        ))
    }
}

fn make() -> Result<PathBuf, String> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join("alembic-venv");
    let marker = dir.join(".xtask-alembic");
    let wanted = REQUIREMENTS.join(" ");
    let ready = std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted);
    if ready && has_alembic(&venv_python(&dir)) {
        return Ok(venv_python(&dir));
    }
    let host = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let scratch = base.join(format!("alembic-venv.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    run(
        Command::new(&host).args(["-m", "venv"]).arg(&scratch),
        &format!("`{host} -m venv`"),
    )?;
    run(
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
            .args(REQUIREMENTS),
        &format!("`pip install {wanted}`"),
    )?;
    std::fs::write(scratch.join(".xtask-alembic"), &wanted).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::rename(&scratch, &dir).is_err() {
        // Another process finished first; use its venv.
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let python = venv_python(&dir);
    if has_alembic(&python) {
        Ok(python)
    } else {
        Err(format!("{} -m alembic does not run", python.display()))
    }
}
