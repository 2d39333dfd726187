//! Running the `alembix` binary and reading what it wrote.

use alembix_core::scan::{read_settings, scan_folder};
use alembix_core::{GraphOptions, HeadPolicy, MigrationSet, Problems};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fixture folder under `alembix-cli/tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// What one run of the binary did.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit ok: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.ok, self.stdout, self.stderr
        )
    }
}

/// Runs `alembix ARGS` in `cwd`.
pub fn alembix_in<I, S>(cwd: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_alembix"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the alembix binary runs");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `alembix ARGS` from the fixtures folder.
pub fn alembix<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    alembix_in(&fixture(""), args)
}

/// Loads a folder the way the build does (scan, its `alembix.toml`, core),
/// tolerating several heads.
pub fn load(dir: &Path) -> Result<MigrationSet, Problems> {
    let root = dir.parent().unwrap();
    let rel = dir.file_name().unwrap().to_str().unwrap();
    let sources = scan_folder(root, rel)?;
    let settings = read_settings(root, rel)?;
    MigrationSet::from_sources_with_settings(
        &sources,
        &GraphOptions {
            heads: HeadPolicy::Any,
        },
        &settings,
    )
}

/// The `.sql` file names of a folder, sorted.
pub fn sql_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The text of the one file in `dir` whose name ends with `_<revision>.sql`.
pub fn file_of(dir: &Path, revision: &str) -> String {
    let suffix = format!("_{revision}.sql");
    let name = sql_files(dir)
        .into_iter()
        .find(|n| n.ends_with(&suffix))
        .unwrap_or_else(|| panic!("no file for {revision} in {}", dir.display()));
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Replaces every placeholder line with `replacement` (as a person filling it would).
pub fn fill_placeholders(dir: &Path, replacement: &str) {
    for name in sql_files(dir) {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let filled: Vec<&str> = text
            .lines()
            .map(|l| {
                if l.starts_with("-- migrate:todo") {
                    replacement
                } else {
                    l
                }
            })
            .collect();
        std::fs::write(&path, filled.join("\n") + "\n").unwrap();
    }
}

/// The revision ids of the files the core reports a placeholder in, sorted.
pub fn placeholder_revisions(problems: &Problems) -> Vec<String> {
    let mut revs: Vec<String> = problems
        .iter()
        .filter(|p| p.message.contains("migrate:todo"))
        .map(|p| {
            let file = p.file.as_deref().unwrap();
            let stem = file.strip_suffix(".sql").unwrap();
            stem.rsplit('_').next().unwrap().to_string()
        })
        .collect();
    revs.sort();
    revs.dedup();
    revs
}

/// Revisions in an order that applies parents (and dependencies) first.
pub fn apply_order(set: &MigrationSet) -> Vec<usize> {
    let graph = set.graph();
    let mut done = vec![false; graph.len()];
    let mut order = Vec::new();
    while order.len() < graph.len() {
        let next = (0..graph.len())
            .find(|&i| !done[i] && graph.rev(i).all_parents().all(|p| done[p]))
            .expect("the graph has no cycle");
        done[next] = true;
        order.push(next);
    }
    order
}
