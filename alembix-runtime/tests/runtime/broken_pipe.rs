//! `<binary> migrate <command> | head -1`: a reader that closes stdout early
//! ends the output quietly — no panic, nothing on stderr but the command's own
//! errors, and the exit code the command has with its output read to the end.
//!
//! The binary is this test binary run again as `--exact broken_pipe::child_main
//! --nocapture` with `BROKEN_PIPE_CHILD=1`: a program that mounts the command set
//! (`Runner::new(Migrations::embedded(…))` over `tests/fixtures/linear`, or `Runner::folder`) and
//! parses its arguments with clap, as a service binary does. It prints `READY`;
//! the parent reads up to that line and closes its end of stdout. With
//! `BROKEN_PIPE_BARRIER=1` the child then waits for a line on stdin, so the
//! command's first write already finds the pipe closed; without it the child
//! writes a history larger than a pipe holds, and the parent reads one line of
//! it before closing, as `head -1` does.

use alembix_runtime::cli::{Command, Runner};
use alembix_runtime::{Config, Database, EmbeddedMigrations, Migrator};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/fixtures/linear");

const ENV_CHILD: &str = "BROKEN_PIPE_CHILD";
const ENV_ARGS: &str = "BROKEN_PIPE_ARGS";
const ENV_FOLDER: &str = "BROKEN_PIPE_FOLDER";
const ENV_BARRIER: &str = "BROKEN_PIPE_BARRIER";

/// The linear fixture's head.
const HEAD: &str = "c3c3c3c3c3c3";

/// A binary's `migrate` subcommand, as a service mounts it.
#[derive(clap::Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The child: runs one command and exits with its code (before libtest
/// writes its own lines to the closed stdout). Returns at once in a normal run.
#[test]
fn child_main() {
    use clap::Parser as _;
    if std::env::var_os(ENV_CHILD).is_none() {
        return;
    }
    let args = std::env::var(ENV_ARGS).unwrap();
    let cli = Cli::try_parse_from(std::iter::once("app").chain(args.split('\n'))).unwrap();
    let runner = match std::env::var_os(ENV_FOLDER) {
        Some(folder) => Runner::folder(PathBuf::from(folder)),
        None => Runner::new(alembix_runtime::Migrations::embedded(&MIGRATIONS)),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(b"READY\n").unwrap();
    stdout.flush().unwrap();
    drop(stdout);
    if std::env::var_os(ENV_BARRIER).is_some() {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
    }
    let exit = runner.run(&cli.command);
    std::process::exit(i32::from(exit.code()));
}

/// How a child ended.
struct Ended {
    code: Option<i32>,
    stderr: String,
    /// The lines read from stdout after `READY`.
    read: Vec<String>,
}

/// Runs `args` in a child whose stdout is closed after `READY` and `lines_read`
/// more lines.
fn run(args: &[&str], folder: Option<&Path>, barrier: bool, lines_read: usize) -> Ended {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "--exact",
        "broken_pipe::child_main",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(ENV_CHILD, "1")
    .env(ENV_ARGS, args.join("\n"))
    .env_remove(ENV_FOLDER)
    .env_remove(ENV_BARRIER)
    .env_remove("DATABASE_URL")
    .env_remove("RUST_BACKTRACE")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(folder) = folder {
        cmd.env(ENV_FOLDER, folder);
    }
    if barrier {
        cmd.env(ENV_BARRIER, "1");
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stderr = child.stderr.take().unwrap();
    // libtest's own lines come first (`running 1 test`, `test … ... `).
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdout.read_line(&mut line).unwrap();
        if n == 0 || line.trim_end().ends_with("READY") {
            break;
        }
    }
    let mut read = Vec::new();
    for _ in 0..lines_read {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        read.push(line.trim_end().to_string());
    }
    // `head` exits: the read end of the pipe is closed.
    drop(stdout);
    let _ = stdin.write_all(b"go\n");
    drop(stdin);
    let mut text = String::new();
    stderr.read_to_string(&mut text).unwrap();
    let status = child.wait().unwrap();
    Ended {
        code: status.code(),
        stderr: text,
        read,
    }
}

/// Runs `args` with stdout closed before the command writes; checks the exit
/// code and that stderr holds no panic, and returns stderr.
fn closed_before_output(args: &[&str], expected: u8) -> String {
    let ended = run(args, None, true, 0);
    assert!(
        !ended.stderr.contains("panicked") && !ended.stderr.contains("Broken pipe"),
        "{args:?} panicked or complained:\n{}",
        ended.stderr
    );
    assert_eq!(
        ended.code,
        Some(i32::from(expected)),
        "{args:?}; stderr:\n{}",
        ended.stderr
    );
    ended.stderr
}

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "migrate-broken-pipe-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `migrate history -v | head -1` on a history larger than a pipe holds: one
/// line arrives, the rest ends quietly, exit `0`.
#[test]
fn history_piped_into_head_ends_quietly_with_status_0() {
    let dir = temp_dir("head");
    let folder = dir.join("migrations");
    std::fs::create_dir_all(&folder).unwrap();
    // ~600 KB of `history -v`, far more than a pipe's 64 KiB.
    let n = 3_000;
    for i in 0..n {
        let revision = format!("{:012x}", i + 1);
        let down = if i == 0 {
            "none".to_string()
        } else {
            format!("{i:012x}")
        };
        std::fs::write(
            folder.join(format!("{i:05}_create_t{i}_{revision}.sql")),
            format!(
                "-- revision: {revision}\n-- down_revision: {down}\n-- message: create table t{i} with an index on its name\n\n\
                 -- migrate:upgrade\nCREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT);\n\n\
                 -- migrate:downgrade\nDROP TABLE t{i};\n"
            ),
        )
        .unwrap();
    }
    for args in [&["history", "-v"][..], &["history"], &["history", "--json"]] {
        let ended = run(args, Some(&folder), false, 1);
        assert_eq!(ended.read.len(), 1, "{args:?}: {}", ended.stderr);
        for noise in ["panicked", "Broken pipe", "error"] {
            assert!(
                !ended.stderr.contains(noise),
                "{args:?}: `{noise}` on stderr:\n{}",
                ended.stderr
            );
        }
        assert_eq!(ended.code, Some(0), "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every command's output path, the error paths included, with stdout closed
/// before its first write; the database commands on one SQLite file, in turn.
#[test]
fn every_command_survives_a_closed_stdout() {
    // No database.
    for args in [
        &["history"][..],
        &["history", "-v", "-r", "base:head"],
        &["heads", "-v"],
        &["heads", "--json"],
        &["branches"],
        &["show", "heads"],
        &["show", HEAD, "--json"],
        &["upgrade", "heads", "--sql", "--dialect", "sqlite"],
        &[
            "downgrade",
            "c3c3c3c3c3c3:base",
            "--sql",
            "--dialect",
            "postgresql",
        ],
        &["stamp", "heads", "--sql", "--dialect", "mysql", "--json"],
    ] {
        closed_before_output(args, 0);
    }
    // Failures still say why on stderr, and keep their codes.
    let stderr = closed_before_output(&["show", "ffffffffffff"], 1);
    assert!(stderr.contains("error:"), "{stderr}");
    let stderr = closed_before_output(&["show", "ffffffffffff", "--json"], 1);
    assert!(stderr.contains("error:"), "{stderr}");
    let stderr = closed_before_output(&["current"], 2);
    assert!(stderr.contains("needs a database"), "{stderr}");

    let dir = temp_dir("commands");
    let url = format!("sqlite://{}", dir.join("app.db").display());
    let db = ["--db", url.as_str()];
    let with_db = |args: &[&'static str]| -> Vec<&str> {
        args.iter().copied().chain(db.iter().copied()).collect()
    };
    closed_before_output(&with_db(&["current"]), 0);
    closed_before_output(&with_db(&["history", "-i"]), 0);
    closed_before_output(&with_db(&["check"]), 3);
    closed_before_output(&with_db(&["check", "--json"]), 3);
    let stderr = closed_before_output(&with_db(&["current", "--check-heads"]), 3);
    assert!(stderr.contains("upgrade heads"), "{stderr}");
    // The upgrade is not cut short by its reader going away.
    closed_before_output(&with_db(&["upgrade", "heads"]), 0);
    let migrator = Migrator::from_embedded(&MIGRATIONS, Config::default()).unwrap();
    let mut conn = Database::connect(&url).unwrap();
    assert_eq!(migrator.current(&mut conn).unwrap().revisions, [HEAD]);
    drop(conn);
    closed_before_output(&with_db(&["check"]), 0);
    closed_before_output(&with_db(&["show", "current"]), 0);
    closed_before_output(&with_db(&["downgrade", "-1", "--json"]), 0);
    closed_before_output(&with_db(&["stamp", "heads"]), 0);
    closed_before_output(&with_db(&["current", "-v", "--check-heads"]), 0);
    let stderr = closed_before_output(
        &with_db(&["repair", HEAD, "--completed", "--reason", "by hand"]),
        1,
    );
    assert!(stderr.contains("error:"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
