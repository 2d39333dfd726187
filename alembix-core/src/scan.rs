//! The scan step: which files of a folder are migrations. The only IO in the core.
//!
//! Both the macro (at build time) and the runtime/xtask (folder mode) call
//! [`scan_folder`], so what counts as a migration file is decided in one place:
//!
//! - `*.sql` files anywhere below the folder are migrations (subfolders allowed,
//!   sorted by file name like Alembic's `recursive_version_locations`);
//! - `README*`, `*.md`, `*.txt`, `.gitkeep` and `.gitignore` are allowed and ignored;
//! - `alembix.toml` at the top of the folder is the history's settings
//!   ([`crate::settings`]), read by [`read_settings`];
//! - anything else is an error, never silently skipped: a stray `0003.sq`
//!   or an editor backup would otherwise hide a migration;
//! - only regular files are read: a FIFO, a socket or a device is an error,
//!   told apart by its type before anything opens it (a FIFO would block the
//!   build until something writes to it);
//! - a symlink must stay inside the folder; a file must be UTF-8, and so must
//!   its name and the names of the folders on its path (a name that is not
//!   cannot be written in messages nor tracked by the build).

use crate::problem::{Problem, ProblemKind, Problems};
use crate::set::{InOrder, SourceFile, Workers};
use crate::settings::{self, Settings, SETTINGS_FILE};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Reads the migration files below `root.join(rel)`.
///
/// `rel` is the folder as the user wrote it (relative to `root`, the crate or
/// project root); names in the result and in problems are relative to `root`.
///
/// The files are read on every available core; the files and problems come
/// back in walk order, exactly as a sequential scan gives them.
pub fn scan_folder(root: &Path, rel: &str) -> Result<Vec<SourceFile>, Problems> {
    scan_folder_with(root, rel, Workers::available())
}

/// [`scan_folder`], reading the files on `workers`.
fn scan_folder_with(root: &Path, rel: &str, workers: Workers) -> Result<Vec<SourceFile>, Problems> {
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
    let folder = Folder {
        root,
        rel,
        canonical_dir: &canonical_dir,
        dir: &dir,
        dir_bytes: dir.as_os_str().as_encoded_bytes(),
        dir_name: display_name(root, &dir),
    };
    let examined = match folder.read_plain(workers) {
        Some(examined) => examined,
        None => folder.walk_then_read(workers),
    };
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for outcome in examined {
        match outcome {
            Examined::Migration(file) => files.push(file),
            Examined::Problem(problem) => problems.push(problem),
            Examined::Ignored => {}
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(Problems(problems))
    }
}

/// Reads the history's settings, `alembix.toml` in the folder `root.join(rel)`
/// (see [`crate::settings`]); the defaults (nothing declared) when there is
/// no such file.
pub fn read_settings(root: &Path, rel: &str) -> Result<Settings, Problems> {
    let path = root.join(rel).join(SETTINGS_FILE);
    let name = display_name(root, &path);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Ok(meta) if !meta.is_file() => {
            return Err(
                Problem::new(ProblemKind::File, "the settings file is not a regular file")
                    .at(name, None)
                    .help("make `alembix.toml` a plain file in the migrations folder")
                    .into(),
            )
        }
        _ => {}
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => settings::parse(&name, &text),
        Err(e) => Err(
            Problem::new(ProblemKind::File, format!("cannot be read: {e}"))
                .at(name, None)
                .into(),
        ),
    }
}

/// The folder being scanned, as [`Folder::examine`] needs it.
struct Folder<'a> {
    root: &'a Path,
    rel: &'a str,
    canonical_dir: &'a Path,
    /// `root.join(rel)`, where the walk starts: every path of the walk is it
    /// followed by `/`-separated file names.
    dir: &'a Path,
    /// `dir` as bytes.
    dir_bytes: &'a [u8],
    /// `display_name(root, dir)`.
    dir_name: String,
}

/// What one entry of the walk turned out to be.
enum Examined {
    Migration(SourceFile),
    Problem(Problem),
    /// A folder, or a file allowed to stay (README, .gitkeep, ...).
    Ignored,
}

impl Folder<'_> {
    /// Walks the folder in order (siblings sorted by file name), then examines
    /// the entries, walk errors included, on `workers`; the results are in
    /// walk order.
    fn walk_then_read(&self, workers: Workers) -> InOrder<Examined> {
        // Siblings are sorted by file name. They share their parent's path, so
        // comparing whole paths as bytes gives exactly the order of comparing their
        // names (walkdir's `sort_by_file_name`) without re-parsing path components
        // on every comparison, which was a fifth of `heads` on 100,000 files.
        let entries: Vec<walkdir::Result<walkdir::DirEntry>> = walkdir::WalkDir::new(self.dir)
            .follow_links(true)
            .sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()))
            .into_iter()
            .collect();
        workers.map_in_order(&entries, Vec::new, |buffer, entry| match entry {
            Ok(entry) => self.examine(entry, buffer),
            Err(err) => self.walk_problem(err),
        })
    }

    /// What [`Folder::walk_then_read`] gives, for the common folder of folders
    /// and regular files, without walkdir's path and entry per file (a tenth of
    /// the scan on 100,000 files, with the sort inside the walk, which chases
    /// every path): the files are listed with `std::fs::read_dir`, their names
    /// below the folder kept side by side and sorted by [`WalkOrder`], then
    /// examined on `workers`.
    ///
    /// `None` as soon as the listing meets anything else (a symlink, a FIFO,
    /// ...) or a folder it cannot list: then [`Folder::walk_then_read`] gives
    /// the answer, errors in their places.
    #[cfg(unix)]
    fn read_plain(&self, workers: Workers) -> Option<InOrder<Examined>> {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let mut files = WalkOrder::default();
        // Folders still to list, with their names below the folder.
        let mut folders: Vec<(PathBuf, Vec<u8>)> = vec![(self.dir.to_path_buf(), Vec::new())];
        while let Some((path, below)) = folders.pop() {
            for entry in std::fs::read_dir(&path).ok()? {
                let entry = entry.ok()?;
                let kind = entry.file_type().ok()?;
                if kind.is_file() {
                    files.push(&below, entry.file_name().as_bytes());
                } else if kind.is_dir() {
                    let mut inner = below.clone();
                    if !inner.is_empty() {
                        inner.push(b'/');
                    }
                    inner.extend(entry.file_name().into_vec());
                    folders.push((entry.path(), inner));
                } else {
                    return None;
                }
            }
        }
        let order = files.sorted();
        // `dir.join(below)`, as the walk would give it, built without parsing.
        let separator = if self.dir_bytes.ends_with(b"/") {
            ""
        } else {
            "/"
        };
        let examine = |(buffer, path): &mut (Vec<u8>, PathBuf), &at: &usize| {
            let below = files.name(at);
            let path_text = path.as_mut_os_string();
            path_text.clear();
            path_text.push(self.dir);
            path_text.push(separator);
            path_text.push(std::ffi::OsStr::from_bytes(below));
            if let Err(file_name_bad) = utf8_names(below) {
                return Examined::Problem(not_utf8_name(self.name_below(below), file_name_bad));
            }
            let last = below.rsplit(|&b| b == b'/').next().unwrap_or(below);
            self.examine_file(
                path,
                &String::from_utf8_lossy(last),
                || self.name_below(below),
                buffer,
            )
        };
        Some(workers.map_in_order(&order, || (Vec::new(), PathBuf::new()), examine))
    }

    /// Off Unix, walkdir lists the folder ([`Folder::walk_then_read`]).
    #[cfg(not(unix))]
    fn read_plain(&self, _workers: Workers) -> Option<InOrder<Examined>> {
        None
    }

    /// The part of `path` below the folder: file names joined by `/`, empty for
    /// the folder itself; `None` if the path is not shaped so (then names come
    /// from [`display_name`]).
    fn below<'p>(&self, path: &'p Path) -> Option<&'p [u8]> {
        let tail = path
            .as_os_str()
            .as_encoded_bytes()
            .strip_prefix(self.dir_bytes)?;
        let below = if tail.is_empty() || self.dir_bytes.ends_with(b"/") {
            tail
        } else {
            tail.strip_prefix(b"/")?
        };
        is_plain_names(below).then_some(below)
    }

    /// [`display_name`] of the path `below` the folder, without parsing the
    /// path's components again.
    fn name_below(&self, below: &[u8]) -> String {
        let below = String::from_utf8_lossy(below);
        if below.is_empty() {
            return self.dir_name.clone();
        }
        if self.dir_name.is_empty() {
            return below.into_owned();
        }
        let mut name = String::with_capacity(self.dir_name.len() + 1 + below.len());
        name.push_str(&self.dir_name);
        name.push('/');
        name.push_str(&below);
        name
    }

    /// The problem of an entry the walk could not give.
    fn walk_problem(&self, err: &walkdir::Error) -> Examined {
        let at = err
            .path()
            .map(|p| display_name(self.root, p))
            .unwrap_or_else(|| self.rel.to_string());
        let msg = if err.loop_ancestor().is_some() {
            "a symlink loop".to_string()
        } else {
            format!(
                "cannot be read: {}",
                err.io_error()
                    .map_or_else(|| err.to_string(), ToString::to_string)
            )
        };
        Examined::Problem(Problem::new(ProblemKind::File, msg).at(at, None))
    }

    /// Classifies one entry of the walk and reads it when it is a migration.
    /// `buffer` is scratch space for reading, reused from file to file.
    fn examine(&self, entry: &walkdir::DirEntry, buffer: &mut Vec<u8>) -> Examined {
        let path = entry.path();
        let below = self.below(path);
        let name = || match below {
            Some(below) => self.name_below(below),
            None => display_name(self.root, path),
        };
        if entry.path_is_symlink() {
            let target = path.canonicalize().ok();
            if !target.is_some_and(|t| t.starts_with(self.canonical_dir)) {
                return Examined::Problem(
                    Problem::new(ProblemKind::File, "a symlink that leaves the migrations folder")
                        .at(name(), None)
                        .help("copy the file into the folder instead of linking to it; migrations embedded in a binary must live in the folder"),
                );
            }
        }
        let kind = entry.file_type();
        if kind.is_dir() {
            return Examined::Ignored;
        }
        if !kind.is_file() {
            return Examined::Problem(
                Problem::new(
                    ProblemKind::File,
                    format!("{}, not a regular file", special_file_kind(kind)),
                )
                .at(name(), None)
                .help("move it out of the migrations folder: only regular files are read (a FIFO would block the build until something writes to it)"),
            );
        }
        let names_utf8 = match below {
            Some(below) => utf8_names(below),
            None => match path.strip_prefix(self.dir) {
                Ok(rest) => utf8_names(rest.as_os_str().as_encoded_bytes()),
                Err(_) => match entry.file_name().to_str() {
                    Some(_) => Ok(()),
                    None => Err(true),
                },
            },
        };
        if let Err(file_name_bad) = names_utf8 {
            return Examined::Problem(not_utf8_name(name(), file_name_bad));
        }
        let file_name = match below.and_then(|b| b.rsplit(|&c| c == b'/').next()) {
            Some(last) if !last.is_empty() => String::from_utf8_lossy(last),
            _ => entry.file_name().to_string_lossy(),
        };
        self.examine_file(path, &file_name, name, buffer)
    }

    /// Examines a regular file of the walk whose name is UTF-8: ignored, a
    /// stray file, or read as a migration. `name` gives its name in messages.
    fn examine_file(
        &self,
        path: &Path,
        file_name: &str,
        name: impl FnOnce() -> String,
        buffer: &mut Vec<u8>,
    ) -> Examined {
        if !file_name.ends_with(".sql") {
            if is_allowed_extra(file_name)
                || (file_name == SETTINGS_FILE && path.parent() == Some(self.dir))
            {
                return Examined::Ignored;
            }
            return Examined::Problem(
                Problem::new(ProblemKind::File, "a file in the migrations folder that is not a migration")
                    .at(name(), None)
                    .help("migrations end in `.sql`; move other files out of the folder (README, *.md, *.txt, .gitkeep and .gitignore may stay)"),
            );
        }
        let name = name();
        match read_file(path, buffer) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Examined::Migration(SourceFile { name, text }),
                Err(e) => {
                    let bad = e.utf8_error().valid_up_to();
                    let line = 1 + e.as_bytes()[..bad].iter().filter(|&&b| b == b'\n').count();
                    Examined::Problem(
                        Problem::new(ProblemKind::File, format!("not valid UTF-8 (byte {bad})"))
                            .at(name, u32::try_from(line).ok())
                            .help("save the file as UTF-8"),
                    )
                }
            },
            Err(e) => Examined::Problem(
                Problem::new(ProblemKind::File, format!("cannot be read: {e}")).at(name, None),
            ),
        }
    }
}

/// Files by their names below the folder (`/`-separated), to put them in the
/// order of the sorted walk: a folder's entries sorted by file name, each
/// followed by what is below it. That is the order of the names compared name
/// by name, i.e. as bytes once each `/` is read as a byte below every byte a
/// file name can hold (0: no file name holds it).
#[cfg(unix)]
#[derive(Default)]
struct WalkOrder {
    /// Every name, one after another.
    names: Vec<u8>,
    /// Where each name starts in `names`; it ends where the next starts.
    starts: Vec<usize>,
}

#[cfg(unix)]
impl WalkOrder {
    /// Adds the file `name` in the folder `below` the folder walked.
    fn push(&mut self, below: &[u8], name: &[u8]) {
        self.starts.push(self.names.len());
        self.names.extend_from_slice(below);
        if !below.is_empty() {
            self.names.push(b'/');
        }
        self.names.extend_from_slice(name);
    }

    /// The name of file `at`, below the folder.
    fn name(&self, at: usize) -> &[u8] {
        let end = self.starts.get(at + 1).copied().unwrap_or(self.names.len());
        &self.names[self.starts[at]..end]
    }

    /// The name of file `at` as it is compared: `/` read as 0.
    fn key(&self, at: usize) -> impl Iterator<Item = u8> + '_ {
        self.name(at).iter().map(|&b| if b == b'/' { 0 } else { b })
    }

    /// The files (by position) in sorted-walk order.
    fn sorted(&self) -> Vec<usize> {
        // The first eight bytes decide most comparisons without leaving this
        // vector; names are distinct, so the order is total.
        let mut keys: Vec<(u64, usize)> = (0..self.starts.len())
            .map(|at| {
                let mut prefix = [0u8; 8];
                for (to, from) in prefix.iter_mut().zip(self.key(at)) {
                    *to = from;
                }
                (u64::from_be_bytes(prefix), at)
            })
            .collect();
        keys.sort_unstable_by(|(a_prefix, a), (b_prefix, b)| {
            a_prefix
                .cmp(b_prefix)
                .then_with(|| self.key(*a).cmp(self.key(*b)))
        });
        keys.into_iter().map(|(_, at)| at).collect()
    }
}

/// Whether `below` is file names joined by single `/` (what a walk appends to
/// its folder), so its components are exactly its `/`-separated parts.
fn is_plain_names(below: &[u8]) -> bool {
    below.is_empty()
        || below
            .split(|&b| b == b'/')
            .all(|name| !name.is_empty() && name != b"." && name != b"..")
}

/// The whole file at `path`, read through `buffer`: open, read until the end,
/// close. Unlike `std::fs::read` this asks for no metadata (a `statx` per file),
/// and a file that fits the buffer is copied out at its exact size.
fn read_file(path: &Path, buffer: &mut Vec<u8>) -> std::io::Result<Vec<u8>> {
    const START: usize = 64 * 1024;
    let mut file = std::fs::File::open(path)?;
    let mut len = 0;
    loop {
        if len == buffer.len() {
            buffer.resize((2 * len).max(START), 0);
        }
        match file.read(&mut buffer[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if buffer.len() > START {
        // A big file grew the buffer: hand it over instead of copying it (the
        // next file starts a buffer of the usual size).
        let mut whole = std::mem::take(buffer);
        whole.truncate(len);
        return Ok(whole);
    }
    Ok(buffer[..len].to_vec())
}

/// Whether the names `below` the folder (joined by `/`, as the platform
/// encodes them) are UTF-8; if not, `Err(true)` when the last one (the file
/// name) is not, `Err(false)` when only a folder name before it is not.
fn utf8_names(below: &[u8]) -> Result<(), bool> {
    match std::str::from_utf8(below) {
        Ok(_) => Ok(()),
        Err(_) => {
            let last_start = below
                .iter()
                .rposition(|&b| b == b'/')
                .map_or(0, |at| at + 1);
            Err(std::str::from_utf8(&below[last_start..]).is_err())
        }
    }
}

/// The problem of an entry (named `name`, lossily) whose file name, or the
/// name of a folder on its path, is not UTF-8.
fn not_utf8_name(name: String, file_name_bad: bool) -> Problem {
    let (what, help) = if file_name_bad {
        (
            "the file name is not valid UTF-8",
            "rename the file; `cargo xtask new-migration` writes names like `2026-01-02_add_users_a1b2c3d4e5f6.sql`",
        )
    } else {
        (
            "the name of a folder on its path is not valid UTF-8",
            "rename the folder (names in the migrations folder must be UTF-8)",
        )
    };
    Problem::new(ProblemKind::File, what)
        .at(name, None)
        .help(help)
}

/// What an entry that is neither a folder nor a regular file is, for messages.
fn special_file_kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_symlink() {
        return "a symlink";
    }
    "a special file"
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
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut name = String::with_capacity(rel.as_os_str().len());
    for (i, component) in rel.components().enumerate() {
        if i > 0 {
            name.push('/');
        }
        name.push_str(&component.as_os_str().to_string_lossy());
    }
    name
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scratch folder below the system's temporary folder, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "alembix-core-scan-{}-{}",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn write(&self, rel: &str, bytes: &[u8]) {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Sequential, and parallel in several shapes (one file per block, so
    /// the threads interleave even on a few files).
    fn all_workers() -> Vec<Workers> {
        let mut all = vec![Workers::available()];
        for threads in 1..=4 {
            for block in 1..=3 {
                all.push(Workers { threads, block });
            }
        }
        all
    }

    /// `scan_folder` on every shape of workers gives what the sequential scan
    /// this replaced gave, files and problems in the same order.
    fn assert_same_as_before(root: &Path, rel: &str) -> Result<Vec<SourceFile>, Problems> {
        let before = reference_scan(root, rel);
        for workers in all_workers() {
            assert_eq!(scan_folder_with(root, rel, workers), before, "{workers:?}");
        }
        before
    }

    fn migration(revision: &str) -> Vec<u8> {
        format!(
            "-- revision: {revision}\n-- down_revision: none\n\n-- migrate:upgrade\nCREATE TABLE t (id int);\n\n-- migrate:downgrade\nDROP TABLE t;\n"
        )
        .into_bytes()
    }

    #[test]
    fn parallel_scan_gives_the_files_in_walk_order() {
        let scratch = Scratch::new();
        for name in [
            "b_0002.sql",
            "a_0001.sql",
            "c/d_0004.sql",
            "c_0003.sql",
            "c-e_0005.sql",
        ] {
            scratch.write(&format!("migrations/{name}"), &migration("x"));
        }
        scratch.write("migrations/README.md", b"notes");
        scratch.write("migrations/.gitkeep", b"");
        let files = assert_same_as_before(&scratch.0, "migrations").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        let expected = vec![
            "migrations/a_0001.sql",
            "migrations/b_0002.sql",
            "migrations/c/d_0004.sql",
            "migrations/c-e_0005.sql",
            "migrations/c_0003.sql",
        ];
        assert_eq!(names, expected);
    }

    /// `(file, line, message)` of every problem.
    fn found(problems: &Problems) -> Vec<(Option<&str>, Option<u32>, &str)> {
        problems
            .iter()
            .map(|p| (p.file.as_deref(), p.line, p.message.as_str()))
            .collect()
    }

    /// A name that is not UTF-8, of a file or of a folder on its path, is a
    /// problem (the macro and the commands share this scan, so both refuse
    /// it), whichever way the folder is listed: plain, or walked because a
    /// symlink is in it.
    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_problems() {
        use std::os::unix::ffi::OsStrExt;
        for with_symlink in [false, true] {
            let scratch = Scratch::new();
            scratch.write("m/a_0001.sql", &migration("0001"));
            scratch.write("m/c/README.md", b"notes");
            let dir = scratch.0.join("m");
            let bad_file = std::ffi::OsStr::from_bytes(b"b\xff_0002.sql");
            std::fs::write(dir.join(bad_file), migration("0002")).unwrap();
            let bad_folder = dir.join(std::ffi::OsStr::from_bytes(b"c\xfe"));
            std::fs::create_dir_all(&bad_folder).unwrap();
            std::fs::write(bad_folder.join("d_0003.sql"), migration("0003")).unwrap();
            std::fs::write(dir.join("c").join(bad_file), b"").unwrap();
            if with_symlink {
                std::os::unix::fs::symlink(dir.join("a_0001.sql"), dir.join("e_0004.sql")).unwrap();
            }
            let problems = assert_same_as_before(&scratch.0, "m").unwrap_err();
            assert_eq!(
                found(&problems),
                [
                    (
                        Some("m/b\u{fffd}_0002.sql"),
                        None,
                        "the file name is not valid UTF-8"
                    ),
                    (
                        Some("m/c/b\u{fffd}_0002.sql"),
                        None,
                        "the file name is not valid UTF-8"
                    ),
                    (
                        Some("m/c\u{fffd}/d_0003.sql"),
                        None,
                        "the name of a folder on its path is not valid UTF-8"
                    ),
                ],
                "with a symlink: {with_symlink}"
            );
        }
    }

    /// Creates a FIFO at `path` with the system's `mkfifo`.
    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "mkfifo {}", path.display());
    }

    /// A FIFO is a problem and is never opened (opening it would block the
    /// scan until something writes to it), whatever its name, and so is a
    /// symlink to one; the regular files around it are read as usual.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_a_problem_and_is_never_opened() {
        let scratch = Scratch::new();
        scratch.write("m/a_0001.sql", &migration("0001"));
        scratch.write("m/d_0004.sql", &migration("0004"));
        let dir = scratch.0.join("m");
        mkfifo(&dir.join("b_0002.sql"));
        mkfifo(&dir.join("notes.txt"));
        std::os::unix::fs::symlink(dir.join("b_0002.sql"), dir.join("c_0003.sql")).unwrap();
        let problems = assert_same_as_before(&scratch.0, "m").unwrap_err();
        let fifo = "a FIFO (named pipe), not a regular file";
        assert_eq!(
            found(&problems),
            [
                (Some("m/b_0002.sql"), None, fifo),
                (Some("m/c_0003.sql"), None, fifo),
                (Some("m/notes.txt"), None, fifo),
            ]
        );
        assert!(problems.iter().all(|p| p
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("move it out of the migrations folder"))));
    }

    #[test]
    fn parallel_scan_reports_the_same_problems_in_the_same_order() {
        let scratch = Scratch::new();
        scratch.write("migrations/a_0001.sql", &migration("0001"));
        scratch.write(
            "migrations/b_0002.sql",
            b"-- revision: 0002\n\xff\xfe broken\n",
        );
        scratch.write("migrations/c_0003.sq", b"a stray file");
        scratch.write("migrations/d_0004.sql", &migration("0004"));
        scratch.write("migrations/sub/e_0005.sql~", b"an editor backup");
        scratch.write("migrations/sub/f_0006.sql", b"\xc3");
        scratch.write("outside.sql", &migration("0007"));
        #[cfg(unix)]
        {
            let dir = scratch.0.join("migrations");
            std::os::unix::fs::symlink(scratch.0.join("outside.sql"), dir.join("g_0007.sql"))
                .unwrap();
            std::os::unix::fs::symlink(dir.join("missing.sql"), dir.join("h_0008.sql")).unwrap();
            std::os::unix::fs::symlink(dir.join("a_0001.sql"), dir.join("i_0009.sql")).unwrap();
            std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
        }
        let problems = assert_same_as_before(&scratch.0, "migrations").unwrap_err();
        let found: Vec<(Option<&str>, Option<u32>, &str)> = problems
            .iter()
            .map(|p| (p.file.as_deref(), p.line, p.message.as_str()))
            .collect();
        let mut expected = vec![
            (
                Some("migrations/b_0002.sql"),
                Some(2),
                "not valid UTF-8 (byte 18)",
            ),
            (
                Some("migrations/c_0003.sq"),
                None,
                "a file in the migrations folder that is not a migration",
            ),
        ];
        if cfg!(unix) {
            expected.extend([
                (
                    Some("migrations/g_0007.sql"),
                    None,
                    "a symlink that leaves the migrations folder",
                ),
                (
                    Some("migrations/h_0008.sql"),
                    None,
                    "cannot be read: No such file or directory (os error 2)",
                ),
            ]);
        }
        expected.extend([
            (
                Some("migrations/sub/e_0005.sql~"),
                None,
                "a file in the migrations folder that is not a migration",
            ),
            (
                Some("migrations/sub/f_0006.sql"),
                Some(1),
                "not valid UTF-8 (byte 0)",
            ),
        ]);
        if cfg!(unix) {
            expected.push((Some("migrations/sub/loop"), None, "a symlink loop"));
        }
        assert_eq!(found, expected);
    }

    #[test]
    fn files_bigger_than_the_read_buffer_are_read_whole() {
        let scratch = Scratch::new();
        let big: Vec<u8> = (0..200_000).map(|i| b'a' + (i % 26) as u8).collect();
        scratch.write("m/a_big.sql", &big);
        scratch.write("m/b_small.sql", b"small");
        scratch.write("m/c_big.sql", &big[..70_000]);
        let files = assert_same_as_before(&scratch.0, "m").unwrap();
        let lengths: Vec<usize> = files.iter().map(|f| f.text.len()).collect();
        assert_eq!(lengths, [200_000, 5, 70_000]);
    }

    #[test]
    fn folder_problems_are_the_same_as_before() {
        let scratch = Scratch::new();
        scratch.write("file.sql", b"");
        for rel in ["../up", "/abs", "missing", "file.sql"] {
            assert!(assert_same_as_before(&scratch.0, rel).is_err(), "{rel}");
        }
    }

    #[test]
    fn names_are_the_same_however_the_folder_is_written() {
        let scratch = Scratch::new();
        scratch.write("m/a_0001.sql", &migration("0001"));
        scratch.write("m/s/b_0002.sql", &migration("0002"));
        scratch.write("m/x.txt", b"");
        scratch.write("m/y.bin", b"");
        for rel in ["m", "m/", "./m", "m/.", "m//", "./m/./", "m/s", ".", ""] {
            let _ = assert_same_as_before(&scratch.0, rel);
        }
        let _ = assert_same_as_before(&scratch.0.join("."), "m");
        let _ = assert_same_as_before(&scratch.0.join("m").join(".."), "m");
    }

    /// One generated entry: where it goes, and whether it is a migration, a
    /// file that is not valid UTF-8, or a stray file.
    fn entry() -> impl Strategy<Value = (String, u8)> {
        let name = proptest::sample::select(vec![
            "a", "b", "a-b", "a.b", "a b", "a!", "a_b", "B", "0", "é",
        ]);
        (proptest::collection::vec(name, 1..4), 0u8..4)
            .prop_map(|(parts, kind)| (parts.join("/"), kind))
    }

    proptest! {
        // Each case writes a folder: fewer cases than the default, unless
        // `PROPTEST_CASES` asks for more.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_folder_scans_the_same_on_any_workers(
            entries in proptest::collection::vec(entry(), 0..24),
        ) {
            let scratch = Scratch::new();
            std::fs::create_dir_all(scratch.0.join("m")).unwrap();
            for (path, kind) in &entries {
                let (name, bytes) = match kind {
                    0 | 1 => (format!("{path}_{kind}.sql"), migration("x")),
                    2 => (format!("{path}_{kind}.sql"), b"-- x\n\x80".to_vec()),
                    _ => (format!("{path}_{kind}.txt~"), Vec::new()),
                };
                let full = scratch.0.join("m").join(&name);
                // A name may already be a folder (or a file where a folder is
                // wanted): skip it, the folder is shaped anyway.
                if std::fs::create_dir_all(full.parent().unwrap()).is_ok() && !full.is_dir() {
                    let _ = std::fs::write(&full, bytes);
                }
            }
            let before = reference_scan(&scratch.0, "m");
            for workers in all_workers() {
                prop_assert_eq!(&scan_folder_with(&scratch.0, "m", workers), &before);
            }
        }
    }

    /// The scan as it was before it read files on several threads.
    fn reference_scan(root: &Path, rel: &str) -> Result<Vec<SourceFile>, Problems> {
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
            .help(
                "give a path relative to the crate's Cargo.toml, without `..`, e.g. \"migrations\"",
            )
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
                        .map(|p| reference_display_name(root, p))
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
            let name = reference_display_name(root, path);
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
            if !entry.file_type().is_file() {
                problems.push(
                    Problem::new(
                        ProblemKind::File,
                        format!("{}, not a regular file", special_file_kind(entry.file_type())),
                    )
                    .at(name, None)
                    .help("move it out of the migrations folder: only regular files are read (a FIFO would block the build until something writes to it)"),
                );
                continue;
            }
            if path.strip_prefix(&dir).unwrap_or(path).to_str().is_none() {
                let file_name_bad = entry.file_name().to_str().is_none();
                problems.push(not_utf8_name(name, file_name_bad));
                continue;
            }
            let file_name = entry.file_name().to_string_lossy();
            if !file_name.ends_with(".sql") {
                if reference_is_allowed_extra(&file_name) {
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
                            Problem::new(
                                ProblemKind::File,
                                format!("not valid UTF-8 (byte {bad})"),
                            )
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

    fn reference_is_allowed_extra(name: &str) -> bool {
        name.starts_with("README")
            || name.ends_with(".md")
            || name.ends_with(".txt")
            || name == ".gitkeep"
            || name == ".gitignore"
    }

    /// `path` relative to `root`, with `/` separators.
    fn reference_display_name(root: &Path, path: &Path) -> String {
        let rel: PathBuf = path
            .strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf());
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}
