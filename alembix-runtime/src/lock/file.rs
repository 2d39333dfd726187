//! The SQLite run lock: an exclusive `flock` on a file beside the database.
//!
//! SQLite has no session lock a migrator could keep across several
//! transactions, so the run lock lives beside the database, in
//! `<database file>-migrate-lock`:
//!
//! - **Taken** with a non-blocking exclusive `flock`, polled until the lock
//!   timeout. After taking it the holder checks that the path still names the
//!   file it locked (a previous holder removes the file when it lets go, see
//!   below); if not, it starts over with the new file.
//! - **Named**: the holder writes one line into the file (pid, host, program,
//!   when), which a waiter that gives up quotes in its error. The line is only
//!   a description: the kernel's lock is the truth.
//! - **Released** by removing the file *while still holding the lock*, then
//!   closing it. Removing first is what makes removal safe: a waiter that
//!   locked the old, unlinked file sees that the path no longer names it.
//! - **A killed process cannot leave it held**: `flock` locks belong to the open
//!   file, and the kernel closes every file of a process that dies, `kill -9`
//!   included. No lease, no pid check, no stale-lock rule is needed; the file
//!   may stay behind (with the dead holder's line in it), which is harmless:
//!   the next holder locks it, overwrites the line and removes it.
//!
//! Like SQLite's own locks, this relies on the file system's locking; a
//! network file system without working locks is as unsafe for this lock as it
//! is for SQLite itself.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Whether this platform has `flock` (Unix but a few). Elsewhere SQLite runs
/// have no run lock and rely on each migration's `BEGIN IMMEDIATE`.
pub(crate) const AVAILABLE: bool = cfg!(all(
    unix,
    not(any(
        target_os = "solaris",
        target_os = "espidf",
        target_os = "horizon",
        target_os = "vita"
    ))
));

/// The suffix of the lock file, after the database file's name.
pub(crate) const SUFFIX: &str = "-migrate-lock";

/// The lock file of the SQLite database at `database_file`.
pub(crate) fn lock_path(database_file: &Path) -> PathBuf {
    let resolved = std::fs::canonicalize(database_file).unwrap_or_else(|_| database_file.into());
    let mut name = resolved.clone().into_os_string();
    name.push(SUFFIX);
    PathBuf::from(name)
}

/// A held lock file; dropping it releases the lock (and removes the file).
#[derive(Debug)]
pub(crate) struct FileLock {
    file: Option<File>,
    path: PathBuf,
}

/// Why [`FileLock::acquire`] returned without the lock.
#[derive(Debug)]
pub(crate) enum AcquireError {
    /// The lock stayed held for the whole timeout.
    TimedOut {
        /// How long we waited.
        waited: Duration,
        /// Who holds it, as its line in the file says.
        holder: String,
    },
    /// The file could not be created, opened or locked.
    Io(io::Error),
}

impl From<io::Error> for AcquireError {
    fn from(e: io::Error) -> Self {
        AcquireError::Io(e)
    }
}

impl FileLock {
    /// Takes the lock at `path`, waiting at most `timeout`.
    pub(crate) fn acquire(path: &Path, timeout: Duration) -> Result<FileLock, AcquireError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            if try_lock(&file)? {
                if names_file(path, &file)? {
                    let mut lock = FileLock {
                        file: Some(file),
                        path: path.to_path_buf(),
                    };
                    lock.write_holder();
                    return Ok(lock);
                }
                // The previous holder removed the file as it let go; we locked
                // the unlinked one. Start over with whatever the path names now.
                drop(file);
                continue;
            }
            drop(file);
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(AcquireError::TimedOut {
                    waited,
                    holder: read_holder(path),
                });
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// The lock file.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn write_holder(&mut self) {
        let line = holder_line();
        if let Some(file) = self.file.as_mut() {
            let written = file.set_len(0).and_then(|()| {
                let mut f: &File = file;
                f.write_all(line.as_bytes())
            });
            if let Err(e) = written {
                // Only the description is missing; the lock itself is held.
                tracing::debug!(error = %e, path = %self.path.display(), "could not name the holder in the lock file");
            }
        }
    }

    /// Releases the lock: removes the file while holding it, then closes it.
    pub(crate) fn release(mut self) {
        self.release_now();
    }

    fn release_now(&mut self) {
        if let Some(file) = self.file.take() {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::debug!(error = %e, path = %self.path.display(), "could not remove the lock file; it stays, unlocked");
            }
            drop(file);
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        self.release_now();
    }
}

/// `true` when we got the lock, `false` when someone else holds it.
#[cfg(all(
    unix,
    not(any(
        target_os = "solaris",
        target_os = "espidf",
        target_os = "horizon",
        target_os = "vita"
    ))
))]
fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    use rustix::io::Errno;
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == Errno::WOULDBLOCK || e == Errno::AGAIN || e == Errno::INTR => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Never called where [`AVAILABLE`] is false.
#[cfg(not(all(
    unix,
    not(any(
        target_os = "solaris",
        target_os = "espidf",
        target_os = "horizon",
        target_os = "vita"
    ))
)))]
fn try_lock(_file: &File) -> io::Result<bool> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no flock on this platform",
    ))
}

/// Whether `path` still names the open `file` (same device and inode).
#[cfg(unix)]
fn names_file(path: &Path, file: &File) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let locked = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(now) => Ok(now.dev() == locked.dev() && now.ino() == locked.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Never called where [`AVAILABLE`] is false.
#[cfg(not(unix))]
fn names_file(_path: &Path, _file: &File) -> io::Result<bool> {
    Ok(false)
}

fn unix_ms(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// `pid=…;host=…;program=…;since_ms=…`: what a waiter quotes.
fn holder_line() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "?".to_string());
    format!(
        "pid={};host={};program={};since_ms={}\n",
        std::process::id(),
        host_name(),
        clean(&program),
        unix_ms(SystemTime::now())
    )
}

pub(crate) fn host_name() -> String {
    let from_kernel = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    let name = from_kernel
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "?".to_string());
    clean(&name)
}

/// No separators or control characters in a field.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() && *c != ';' && *c != '=')
        .take(100)
        .collect()
}

/// The holder as its line in the lock file describes it.
pub(crate) fn read_holder(path: &Path) -> String {
    let mut text = String::new();
    let read = File::open(path).and_then(|f| f.take(1024).read_to_string(&mut text));
    match read {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            "nobody any more (it was released just now)".to_string()
        }
        Err(e) => format!(
            "an unknown process (the lock file {} could not be read: {e})",
            path.display()
        ),
        Ok(_) => describe(text.trim(), path),
    }
}

fn describe(line: &str, path: &Path) -> String {
    let field = |key: &str| {
        line.split(';').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        })
    };
    match (field("pid"), field("host"), field("program")) {
        (Some(pid), Some(host), Some(program)) => {
            let held = field("since_ms")
                .and_then(|s| s.parse::<u128>().ok())
                .map(|since| unix_ms(SystemTime::now()).saturating_sub(since))
                .map(|ms| format!(", holding it for {:.1} s", ms as f64 / 1000.0))
                .unwrap_or_default();
            format!("pid {pid} on host {host} (program {program}){held}, as the lock file says")
        }
        _ => format!(
            "a process that has not named itself yet in the lock file {}",
            path.display()
        ),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "alembix-lock-test-{}-{name}{SUFFIX}",
            std::process::id()
        ))
    }

    #[test]
    fn a_second_holder_waits_and_names_the_first() {
        let path = temp_path("second");
        let first = FileLock::acquire(&path, Duration::ZERO);
        let Ok(first) = first else {
            unreachable!("a fresh lock file is free: {first:?}")
        };
        let started = Instant::now();
        match FileLock::acquire(&path, Duration::from_millis(150)) {
            Err(AcquireError::TimedOut { holder, waited }) => {
                assert!(waited >= Duration::from_millis(150), "{waited:?}");
                assert!(started.elapsed() >= Duration::from_millis(150));
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                );
            }
            other => unreachable!("the lock is held: {other:?}"),
        }
        first.release();
        assert!(!path.exists(), "released locks remove their file");
        let again = FileLock::acquire(&path, Duration::ZERO);
        assert!(again.is_ok(), "{again:?}");
    }

    #[test]
    fn a_file_left_behind_is_free_and_reused() {
        let path = temp_path("left");
        std::fs::write(&path, "pid=1;host=gone;program=x;since_ms=0\n").unwrap_or_default();
        let lock = FileLock::acquire(&path, Duration::ZERO);
        let Ok(lock) = lock else {
            unreachable!("a file nobody locks is free: {lock:?}")
        };
        let text = std::fs::read_to_string(lock.path()).unwrap_or_default();
        assert!(
            text.starts_with(&format!("pid={};", std::process::id())),
            "{text}"
        );
        drop(lock);
        assert!(!path.exists());
    }
}
