//! The suite's scratch folder under `target/`, and folders generated once and
//! kept until what they were generated from changes.
//!
//! Each generated folder carries a `.generated` stamp naming what it holds; a
//! folder whose stamp matches is reused as it is (so a 100,000-file history is
//! written once, and a generated crate is not rebuilt for nothing). A folder is
//! written beside its final place and renamed into it when complete, so an
//! interrupted run never leaves a half-written folder that looks finished.

use super::history::Form;
use std::fs;
use std::path::{Path, PathBuf};

const STAMP: &str = ".generated";

/// Paths of the scratch folder.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// `target/xtask-bench`.
    pub root: PathBuf,
}

impl Scratch {
    /// The scratch folder below the workspace's target directory.
    pub fn new(workspace: &Path) -> Scratch {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| {
                if t.is_relative() {
                    workspace.join(t)
                } else {
                    t
                }
            })
            .unwrap_or_else(|| workspace.join("target"));
        Scratch {
            root: target.join("xtask-bench"),
        }
    }

    /// The cargo workspace of the generated crates.
    pub fn crates(&self) -> PathBuf {
        self.root.join("crates")
    }

    /// The target directories of the generated crates (one per flavor below it).
    pub fn target(&self) -> PathBuf {
        self.root.join("target")
    }

    /// The Alembic project of `n` migrations spelled for `form`.
    pub fn alembic(&self, n: usize, form: Form) -> PathBuf {
        self.root.join("alembic").join(sized(n, form))
    }

    /// The Python virtual environment with Alembic.
    pub fn venv(&self) -> PathBuf {
        self.root.join("alembic-venv")
    }

    /// The floor's scripts for `n` migrations spelled for `form`.
    pub fn floor(&self, n: usize, form: Form) -> PathBuf {
        self.root.join("floor").join(sized(n, form))
    }

    /// Where SQLite database files of the runs live.
    pub fn runs(&self) -> PathBuf {
        self.root.join("run")
    }
}

/// `1000` for the standard form, `my-1000` for MySQL's.
fn sized(n: usize, form: Form) -> String {
    match form {
        Form::Standard => n.to_string(),
        form => format!("{}-{n}", form.tag()),
    }
}

/// Makes `dir` hold what `write` writes, unless its stamp already says `stamp`.
/// Returns whether it was (re)written.
pub fn generate(
    dir: &Path,
    stamp: &str,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<bool, String> {
    if fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s == stamp) {
        return Ok(false);
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let io = |what: &str, p: &Path| {
        let p = p.display().to_string();
        let what = what.to_string();
        move |e: std::io::Error| format!("{what} {p}: {e}")
    };
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io("removing", &tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io("creating", &tmp))?;
    write(&tmp).map_err(io("writing into", &tmp))?;
    fs::write(tmp.join(STAMP), stamp).map_err(io("writing the stamp in", &tmp))?;
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(io("removing the stale", dir))?;
    }
    fs::rename(&tmp, dir).map_err(io("moving the generated folder to", dir))?;
    Ok(true)
}

/// Writes `text` to `path` unless it already holds exactly that (keeps mtimes,
/// so cargo does not rebuild what did not change).
pub fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
