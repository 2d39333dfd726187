//! Which migrations folder the commands work on: `--dir`, or `migrations/` found
//! from the current directory upward, and how messages show a path.
//!
//! The walk looks for a `migrations/` folder in the current directory and each
//! folder above it, and stops at the workspace root (the first folder whose
//! `Cargo.toml` has a `[workspace]` table) or at the filesystem root. Nothing
//! depends on where the tool was built: a binary installed with `cargo install`
//! and a project's own xtask find the same folder.

use std::path::{Component, Path, PathBuf};

/// The folder the commands look for.
const MIGRATIONS: &str = "migrations";

/// The current directory, `--dir`, and what a walk up from the current directory found.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// How messages name the tool (`alembix`, `cargo xtask`).
    pub program: &'a str,
    /// The current directory.
    pub cwd: PathBuf,
    /// `--dir`, made absolute against the current directory.
    dir: Option<PathBuf>,
    walk: Walk,
}

/// What the walk from the current directory upward found.
#[derive(Debug)]
struct Walk {
    /// The first `migrations/` folder.
    found: Option<PathBuf>,
    /// The last folder looked in.
    stop: Stop,
    /// The nearest folder with a `Cargo.toml`, at or above the current directory.
    nearest_manifest: Option<PathBuf>,
}

/// Where the walk stopped.
#[derive(Debug)]
enum Stop {
    /// The first folder above whose `Cargo.toml` has a `[workspace]` table.
    Workspace(PathBuf),
    /// No workspace above: the filesystem root.
    FilesystemRoot(PathBuf),
}

/// The folder a writing command (`new-migration`, the importers) writes into.
#[derive(Debug)]
pub(crate) struct Target {
    /// The folder, absolute.
    pub dir: PathBuf,
    /// Set when no folder was found and `dir` is where one is to be made: says
    /// where the tool looked and why it chose `dir`.
    pub created_because: Option<String>,
}

impl<'a> Context<'a> {
    /// Reads the current directory and walks up from it.
    pub fn new(program: &'a str, dir: Option<&Path>) -> Result<Context<'a>, String> {
        let cwd = std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?;
        let dir = dir.map(|d| cwd.join(d));
        let walk = walk(&cwd);
        Ok(Context {
            program,
            cwd,
            dir,
            walk,
        })
    }

    /// `--dir` as given on the command line, made absolute.
    pub fn dir_option(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The folder for the commands that read one: `--dir`, else the one found;
    /// else an error naming where the walk looked and how to go on.
    pub fn existing_folder(&self) -> Result<PathBuf, String> {
        if let Some(dir) = &self.dir {
            return self.given_folder(dir);
        }
        match &self.walk.found {
            Some(found) => Ok(found.clone()),
            None => Err(format!(
                "no migrations folder: {}; pass the folder with `--dir path/to/migrations` (relative to the current directory), or start one with `{} new-migration -m \"…\"` (it creates {})",
                self.looked(),
                self.program,
                self.show(&self.new_folder()),
            )),
        }
    }

    /// The folder a writing command writes into: the importers' `--out` (made
    /// if missing), else `--dir` (which must exist), else the one found, else
    /// `migrations/` beside the nearest `Cargo.toml` (in the current directory
    /// when there is none), to be created.
    pub fn folder_to_write(&self, out: Option<&Path>) -> Result<Target, String> {
        let given = match (out, &self.dir) {
            (Some(out), _) => Some(self.cwd.join(out)),
            (None, Some(dir)) => Some(self.given_folder(dir)?),
            (None, None) => None,
        };
        if let Some(dir) = given.or_else(|| self.walk.found.clone()) {
            return Ok(Target {
                dir,
                created_because: None,
            });
        }
        let dir = self.new_folder();
        let beside = match &self.walk.nearest_manifest {
            Some(crate_dir) => format!("beside {}", self.show(&crate_dir.join("Cargo.toml"))),
            None => "in the current directory (no Cargo.toml above it)".to_string(),
        };
        Ok(Target {
            created_because: Some(format!(
                "{}: created {} {beside} (pass `--dir` for another folder)",
                self.looked(),
                self.show(&dir),
            )),
            dir,
        })
    }

    /// `--dir`, which must be a folder: a typo is not made into a new one.
    fn given_folder(&self, dir: &Path) -> Result<PathBuf, String> {
        if dir.is_dir() {
            return Ok(dir.to_path_buf());
        }
        let shown = self.show(dir);
        let what = if dir.exists() {
            "is not a folder"
        } else {
            "does not exist"
        };
        Err(format!(
            "the migrations folder {shown} (--dir) {what}; pass the folder that holds the migration files, or create it first (`mkdir -p {shown}`)"
        ))
    }

    /// Where a new folder goes: beside the nearest `Cargo.toml`, or here.
    fn new_folder(&self) -> PathBuf {
        self.walk
            .nearest_manifest
            .as_deref()
            .unwrap_or(&self.cwd)
            .join(MIGRATIONS)
    }

    /// "no `migrations/` from the current directory up to …".
    fn looked(&self) -> String {
        let (stop, what) = match &self.walk.stop {
            Stop::Workspace(root) => (root, "the workspace root"),
            Stop::FilesystemRoot(root) => (root, "the filesystem root"),
        };
        if *stop == self.cwd {
            return format!("no `{MIGRATIONS}/` folder in the current directory ({what})");
        }
        format!(
            "no `{MIGRATIONS}/` folder in the current directory or above it, up to {what} {}",
            self.show(stop)
        )
    }

    /// `path` as a message shows it: relative to the current directory when it
    /// lies below it, or when both lie in the same project (the workspace, or
    /// the crate of the nearest `Cargo.toml`) and that is shorter; else whole.
    pub fn show(&self, path: &Path) -> String {
        if let Ok(below) = path.strip_prefix(&self.cwd) {
            if below.as_os_str().is_empty() {
                return ".".to_string();
            }
            return below.display().to_string();
        }
        let project = match &self.walk.stop {
            Stop::Workspace(root) => Some(root.as_path()),
            Stop::FilesystemRoot(_) => self.walk.nearest_manifest.as_deref(),
        };
        let relative = project
            .filter(|root| path.starts_with(root))
            .and_then(|_| relative_path(path, &self.cwd));
        match relative {
            Some(r) if r.as_os_str().len() < path.as_os_str().len() => r.display().to_string(),
            _ => path.display().to_string(),
        }
    }
}

/// Walks from `cwd` upward to the workspace root (or the filesystem root): the
/// first `migrations/` on the way, where the walk stops, and the nearest
/// `Cargo.toml`.
fn walk(cwd: &Path) -> Walk {
    let mut found = None;
    let mut nearest_manifest = None;
    let mut last = cwd;
    for folder in cwd.ancestors() {
        last = folder;
        let candidate = folder.join(MIGRATIONS);
        if found.is_none() && candidate.is_dir() {
            found = Some(candidate);
        }
        let manifest = std::fs::read_to_string(folder.join("Cargo.toml")).ok();
        if manifest.is_some() && nearest_manifest.is_none() {
            nearest_manifest = Some(folder.to_path_buf());
        }
        if manifest.as_deref().is_some_and(has_workspace_table) {
            return Walk {
                found,
                stop: Stop::Workspace(folder.to_path_buf()),
                nearest_manifest,
            };
        }
    }
    Walk {
        found,
        stop: Stop::FilesystemRoot(last.to_path_buf()),
        nearest_manifest,
    }
}

/// Whether a `Cargo.toml` has a `[workspace]` table (or a `[workspace.…]` one,
/// which makes it too): the manifest of a workspace root.
fn has_workspace_table(manifest: &str) -> bool {
    manifest.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some(header) = line
            .strip_prefix('[')
            .filter(|rest| !rest.starts_with('['))
            .and_then(|rest| rest.strip_suffix(']'))
        else {
            return false;
        };
        let name = header.trim();
        name == "workspace"
            || name
                .strip_prefix("workspace")
                .is_some_and(|r| r.trim_start().starts_with('.'))
    })
}

/// `path` relative to `base`, both absolute and without `.` or `..` components.
fn relative_path(path: &Path, base: &Path) -> Option<PathBuf> {
    let plain = |p: &Path| {
        p.is_absolute()
            && p.components()
                .all(|c| !matches!(c, Component::CurDir | Component::ParentDir))
    };
    if !plain(path) || !plain(base) {
        return None;
    }
    let common = path
        .components()
        .zip(base.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative = PathBuf::new();
    for _ in base.components().skip(common) {
        relative.push("..");
    }
    relative.extend(path.components().skip(common));
    Some(relative)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn workspace_tables_are_recognised() {
        for manifest in [
            "[workspace]\nmembers = []\n",
            "[package]\nname = \"x\"\n\n[ workspace ]  # the root\n",
            "[workspace.dependencies]\nclap = \"4\"\n",
        ] {
            assert!(has_workspace_table(manifest), "{manifest}");
        }
        for manifest in [
            "[package]\nname = \"x\"\nworkspace = \"..\"\n",
            "[[workspace]]\n",
            "[workspaces]\n",
            "# [workspace]\n",
            "[package]\ndescription = \"no [workspace] here\"\n",
        ] {
            assert!(!has_workspace_table(manifest), "{manifest}");
        }
    }

    #[test]
    fn relative_paths_climb_and_descend() {
        let rel = |p: &str, b: &str| relative_path(Path::new(p), Path::new(b));
        assert_eq!(rel("/a/b", "/a/b/c/d").unwrap(), Path::new("../.."));
        assert_eq!(
            rel("/a/b/migrations", "/a/b/c").unwrap(),
            Path::new("../migrations")
        );
        assert_eq!(rel("/a/x/y", "/a/b").unwrap(), Path::new("../x/y"));
        assert_eq!(rel("/a/../b", "/a"), None);
    }

    fn scratch(name: &str, layout: &[&str]) -> (PathBuf, impl Drop) {
        struct Remove(PathBuf);
        impl Drop for Remove {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
        let root = std::env::temp_dir().join(format!("alembix-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for entry in layout {
            let path = root.join(entry.trim_end_matches('/'));
            if entry.ends_with('/') {
                std::fs::create_dir_all(&path).unwrap();
            } else {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let text = if entry.ends_with("ws/Cargo.toml") {
                    "[workspace]\n"
                } else {
                    "[package]\n"
                };
                std::fs::write(&path, text).unwrap();
            }
        }
        (root.clone(), Remove(root))
    }

    #[test]
    fn the_walk_finds_the_nearest_folder_and_stops_at_the_workspace() {
        let (root, _keep) = scratch(
            "walk",
            &[
                "migrations/",
                "ws/Cargo.toml",
                "ws/app/Cargo.toml",
                "ws/app/src/deep/",
                "ws/tool/migrations/",
                "ws/tool/src/",
            ],
        );
        let found = walk(&root.join("ws/tool/src"));
        assert_eq!(found.found, Some(root.join("ws/tool/migrations")));
        assert!(matches!(&found.stop, Stop::Workspace(r) if *r == root.join("ws")));
        assert_eq!(found.nearest_manifest, Some(root.join("ws")));

        // The `migrations/` above the workspace is never reached.
        let missing = walk(&root.join("ws/app/src/deep"));
        assert_eq!(missing.found, None);
        assert!(matches!(&missing.stop, Stop::Workspace(r) if *r == root.join("ws")));
        assert_eq!(missing.nearest_manifest, Some(root.join("ws/app")));
    }
}
