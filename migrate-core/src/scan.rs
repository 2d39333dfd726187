//! The scan step: which files of a folder are migrations. The only IO in the core.
//!
//! Both the macro (at build time) and the runtime/xtask (folder mode) call
//! [`scan_folder`], so what counts as a migration file is decided in one place:
//!
//! - `*.sql` files anywhere below the folder are migrations (subfolders allowed,
//!   sorted by file name like Alembic's `recursive_version_locations`);
//! - `README*`, `*.md`, `*.txt`, `.gitkeep` and `.gitignore` are allowed and ignored;
//! - anything else is an error, never silently skipped: a stray `0003.sq`
//!   or an editor backup would otherwise hide a migration;
//! - a symlink must stay inside the folder; a file must be UTF-8.

use crate::problem::{Problem, ProblemKind, Problems};
use crate::set::SourceFile;
use std::path::{Component, Path, PathBuf};

/// Reads the migration files below `root.join(rel)`.
///
/// `rel` is the folder as the user wrote it (relative to `root`, the crate or
/// project root); names in the result and in problems are relative to `root`.
pub fn scan_folder(root: &Path, rel: &str) -> Result<Vec<SourceFile>, Problems> {
    let rel_path = Path::new(rel);
    if rel_path.is_absolute()
        || rel_path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return Err(Problem::new(
            ProblemKind::File,
            format!("migrations folder `{rel}` is outside the crate"),
        )
        .help("give a path relative to the crate's Cargo.toml, without `..`, e.g. \"migrations\"")
        .into());
    }
    let dir = root.join(rel_path);
    let meta = match std::fs::metadata(&dir) {
        Ok(m) => m,
        Err(_) => {
            return Err(Problem::new(
                ProblemKind::File,
                format!("migrations folder `{rel}` does not exist"),
            )
            .help(format!(
                "create it (`mkdir {rel}`) and add a first migration with `cargo xtask new-migration -m \"...\"`; the path is relative to the crate's Cargo.toml"
            ))
            .into())
        }
    };
    if !meta.is_dir() {
        return Err(
            Problem::new(ProblemKind::File, format!("`{rel}` is not a folder"))
                .help("point at the folder that holds the .sql migrations")
                .into(),
        );
    }
    let canonical_dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
    let mut problems = Vec::new();
    let mut files = Vec::new();
    // Siblings are sorted by file name. They share their parent's path, so
    // comparing whole paths as bytes gives exactly the order of comparing their
    // names (walkdir's `sort_by_file_name`) without re-parsing path components
    // on every comparison, which was a fifth of `heads` on 100,000 files.
    let walker = walkdir::WalkDir::new(&dir)
        .follow_links(true)
        .sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()))
        .into_iter();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let at = err
                    .path()
                    .map(|p| display_name(root, p))
                    .unwrap_or_else(|| rel.to_string());
                let msg = if err.loop_ancestor().is_some() {
                    "a symlink loop".to_string()
                } else {
                    format!(
                        "cannot be read: {}",
                        err.io_error()
                            .map_or_else(|| err.to_string(), ToString::to_string)
                    )
                };
                problems.push(Problem::new(ProblemKind::File, msg).at(at, None));
                continue;
            }
        };
        let path = entry.path();
        let name = display_name(root, path);
        if entry.path_is_symlink() {
            let target = path.canonicalize().ok();
            if !target.is_some_and(|t| t.starts_with(&canonical_dir)) {
                problems.push(
                    Problem::new(ProblemKind::File, "a symlink that leaves the migrations folder")
                        .at(name, None)
                        .help("copy the file into the folder instead of linking to it; migrations embedded in a binary must live in the folder"),
                );
                continue;
            }
        }
        if entry.file_type().is_dir() {
            continue;
        }
        let file_name = entry.file_name().to_string_lossy();
        if !file_name.ends_with(".sql") {
            if is_allowed_extra(&file_name) {
                continue;
            }
            problems.push(
                Problem::new(ProblemKind::File, "a file in the migrations folder that is not a migration")
                    .at(name, None)
                    .help("migrations end in `.sql`; move other files out of the folder (README, *.md, *.txt, .gitkeep and .gitignore may stay)"),
            );
            continue;
        }
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push(SourceFile { name, text }),
                Err(e) => {
                    let bad = e.utf8_error().valid_up_to();
                    let line = 1 + e.as_bytes()[..bad].iter().filter(|&&b| b == b'\n').count();
                    problems.push(
                        Problem::new(ProblemKind::File, format!("not valid UTF-8 (byte {bad})"))
                            .at(name, u32::try_from(line).ok())
                            .help("save the file as UTF-8"),
                    );
                }
            },
            Err(e) => problems.push(
                Problem::new(ProblemKind::File, format!("cannot be read: {e}")).at(name, None),
            ),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(Problems(problems))
    }
}

fn is_allowed_extra(name: &str) -> bool {
    name.starts_with("README")
        || name.ends_with(".md")
        || name.ends_with(".txt")
        || name == ".gitkeep"
        || name == ".gitignore"
}

/// `path` relative to `root`, with `/` separators.
fn display_name(root: &Path, path: &Path) -> String {
    let rel: PathBuf = path
        .strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf());
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
