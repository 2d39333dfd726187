//! Real processes: the child side (a service that migrates on launch) and the
//! parent side ([`Proc`]: spawn, start barrier, markers, SIGKILL, exit).
//!
//! The child is this test binary run as `--exact child_main --nocapture
//! --test-threads 1` with `RELIABILITY_CHILD=1`. It reads its orders from the
//! environment, connects, builds its migrator from a folder, prints `READY`,
//! waits for a line on stdin when `RELIABILITY_BARRIER=1`, runs the upgrade
//! and prints one result line:
//!
//! - `RESULT ok <revision,revision,…>` (the steps it applied; empty for none), exit 0;
//! - `RESULT err <Variant> <message on one line>`, exit 2.
//!
//! With `RELIABILITY_HOLD=1` it prints `HOLDING` after the result and waits for
//! another line before exiting (to look at the database while it still lives).
//! A failpoint (`ALEMBIX_FAILPOINT`, feature `failpoints`) makes it print
//! `ALEMBIX_FAILPOINT_HIT <point> <revision>` and sleep until killed.

use alembix_runtime::{Config, Database, Error, Migrator, RunLock};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ENV_CHILD: &str = "RELIABILITY_CHILD";
const ENV_URL: &str = "RELIABILITY_URL";
const ENV_ROOT: &str = "RELIABILITY_ROOT";
const ENV_FOLDER: &str = "RELIABILITY_FOLDER";
const ENV_TARGET: &str = "RELIABILITY_TARGET";
const ENV_LOCK_TIMEOUT_MS: &str = "RELIABILITY_LOCK_TIMEOUT_MS";
const ENV_BARRIER: &str = "RELIABILITY_BARRIER";
const ENV_HOLD: &str = "RELIABILITY_HOLD";
const ENV_LOCK_TABLE_MS: &str = "RELIABILITY_LOCK_TABLE_EXPIRY_MS";

/// What a child (or the runtime's failpoint hook) prints.
const TOKENS: [&str; 4] = ["READY", "RESULT ", "HOLDING", "ALEMBIX_FAILPOINT_HIT"];

/// The short name of an error variant, for the result line.
pub fn variant(err: &Error) -> &'static str {
    match err {
        Error::InvalidIdentifier { .. } => "InvalidIdentifier",
        Error::Unsupported(_) => "Unsupported",
        Error::History(_) => "History",
        Error::Url { .. } => "Url",
        Error::Connect { .. } => "Connect",
        Error::Database { .. } => "Database",
        Error::Migration { .. } => "Migration",
        Error::LockTimeout { .. } => "LockTimeout",
        Error::Drift(_) => "Drift",
        Error::DatabaseAhead { .. } => "DatabaseAhead",
        Error::DatabaseDiverged { .. } => "DatabaseDiverged",
        Error::UnknownRevisions { .. } => "UnknownRevisions",
        Error::Unfinished(_) => "Unfinished",
        Error::Plan(_) => "Plan",
        Error::Irreversible { .. } => "Irreversible",
        Error::VersionTable(_) => "VersionTable",
        Error::DieselNotAdopted { .. } => "DieselNotAdopted",
        Error::Repair(_) => "Repair",
        _ => "Other",
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn wait_for_line() {
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}

/// Runs the child when `RELIABILITY_CHILD` is set; returns at once otherwise.
pub fn main_if_child() {
    if std::env::var_os(ENV_CHILD).is_none() {
        return;
    }
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let lock_timeout = env(ENV_LOCK_TIMEOUT_MS).parse().unwrap_or(60_000u64);
    let run_lock = match env(ENV_LOCK_TABLE_MS).parse::<u64>() {
        Ok(ms) => RunLock::Table {
            expiry: Duration::from_millis(ms),
        },
        Err(_) => RunLock::Advisory,
    };
    let config = Config {
        lock_timeout: Duration::from_millis(lock_timeout),
        run_lock,
        ..Config::default()
    };
    let outcome = (|| -> Result<Vec<String>, Error> {
        let migrator = Migrator::from_folder(
            &PathBuf::from(env(ENV_ROOT)),
            &env(ENV_FOLDER),
            config.clone(),
        )?;
        let mut db = Database::connect(&env(ENV_URL))?;
        say("READY");
        if env(ENV_BARRIER) == "1" {
            wait_for_line();
        }
        let target = std::env::var(ENV_TARGET).unwrap_or_else(|_| "heads".to_string());
        let report = migrator.upgrade(&mut db, &target)?;
        Ok(report
            .steps
            .iter()
            .filter_map(|s| s.revision.clone())
            .collect())
    })();
    let code = match &outcome {
        Ok(applied) => {
            say(&format!("RESULT ok {}", applied.join(",")));
            0
        }
        Err(e) => {
            let message = e.to_string().replace('\n', " | ");
            say(&format!("RESULT err {} {message}", variant(e)));
            2
        }
    };
    if env(ENV_HOLD) == "1" {
        say("HOLDING");
        wait_for_line();
    }
    std::process::exit(code);
}

/// What a child is told to do.
#[derive(Debug, Clone)]
pub struct Spec {
    pub url: String,
    /// Migrations are read from `root/folder`.
    pub root: PathBuf,
    pub folder: String,
    /// `heads` unless set.
    pub target: Option<String>,
    pub lock_timeout: Duration,
    /// Wait for a line on stdin after `READY`.
    pub barrier: bool,
    /// Wait for a line on stdin after the result.
    pub hold: bool,
    /// `(point, revision)` for `ALEMBIX_FAILPOINT` / `ALEMBIX_FAILPOINT_REVISION`.
    pub failpoint: Option<(String, Option<String>)>,
    /// `RunLock::Table` with this expiry; `None`: the advisory lock.
    pub lock_table: Option<Duration>,
}

impl Spec {
    /// A plain launch (`upgrade heads`) of `root/folder` against `url`.
    pub fn launch(url: &str, root: PathBuf, folder: &str) -> Spec {
        Spec {
            url: url.to_string(),
            root,
            folder: folder.to_string(),
            target: None,
            lock_timeout: Duration::from_secs(60),
            barrier: false,
            hold: false,
            failpoint: None,
            lock_table: None,
        }
    }
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `RESULT ok`: the revisions it applied.
    Ok(Vec<String>),
    /// `RESULT err`: the variant and the message.
    Err(String, String),
}

impl Outcome {
    pub fn applied(&self) -> &[String] {
        match self {
            Outcome::Ok(a) => a,
            Outcome::Err(kind, message) => panic!("expected success, got {kind}: {message}"),
        }
    }

    pub fn error(&self) -> (&str, &str) {
        match self {
            Outcome::Err(kind, message) => (kind, message),
            Outcome::Ok(a) => panic!("expected an error, the child applied {a:?}"),
        }
    }
}

/// A running child.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    result: Option<Outcome>,
}

impl Proc {
    /// Starts a child for `spec`.
    pub fn spawn(spec: &Spec) -> Proc {
        let exe = std::env::current_exe().expect("the test binary");
        let mut cmd = Command::new(exe);
        cmd.args([
            "--exact",
            "child_main",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(ENV_CHILD, "1")
        .env(ENV_URL, &spec.url)
        .env(ENV_ROOT, &spec.root)
        .env(ENV_FOLDER, &spec.folder)
        .env(
            ENV_LOCK_TIMEOUT_MS,
            spec.lock_timeout.as_millis().to_string(),
        )
        .env(ENV_BARRIER, if spec.barrier { "1" } else { "0" })
        .env(ENV_HOLD, if spec.hold { "1" } else { "0" })
        .env_remove("ALEMBIX_FAILPOINT")
        .env_remove("ALEMBIX_FAILPOINT_REVISION")
        .env_remove(ENV_TARGET)
        .env_remove(ENV_LOCK_TABLE_MS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        if let Some(target) = &spec.target {
            cmd.env(ENV_TARGET, target);
        }
        if let Some(expiry) = spec.lock_table {
            cmd.env(ENV_LOCK_TABLE_MS, expiry.as_millis().to_string());
        }
        if let Some((point, revision)) = &spec.failpoint {
            cmd.env("ALEMBIX_FAILPOINT", point);
            if let Some(r) = revision {
                cmd.env("ALEMBIX_FAILPOINT_REVISION", r);
            }
        }
        let mut child = cmd.spawn().expect("spawn the child");
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("piped stdout");
        let kept = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                // The test harness prints `test child_main ... ` without a
                // newline: our tokens may follow it on the same line.
                let line = TOKENS
                    .iter()
                    .filter_map(|t| line.find(t))
                    .min()
                    .map_or(line.clone(), |at| line[at..].to_string());
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().expect("piped stderr");
        let kept = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut text = kept.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Proc {
            child,
            stdin,
            lines,
            stdout,
            stderr,
            result: None,
        }
    }

    /// The child's OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the child printed so far (for failure messages).
    pub fn transcript(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    /// Waits for a line starting with `prefix` and returns it.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("RESULT ") {
                        self.result = Some(parse_result(rest));
                    }
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no `{prefix}` line from child {} within {timeout:?}\n{}",
                    self.pid(),
                    self.transcript()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "child {} ended without a `{prefix}` line\n{}",
                    self.pid(),
                    self.transcript()
                ),
            }
        }
    }

    /// Sends a line to the child's stdin (the start barrier, or `HOLD` release).
    pub fn release(&mut self) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(b"go\n");
            let _ = stdin.flush();
        }
    }

    /// SIGKILL, then reap.
    #[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL the child");
        let status = self.child.wait().expect("reap the child");
        assert!(!status.success(), "a killed child does not succeed");
    }

    /// Waits for the child to exit (at most `timeout`); its result and exit code.
    pub fn finish(mut self, timeout: Duration) -> (Outcome, i32) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                // Drain what is left of stdout for the result line.
                while self.result.is_none() {
                    match self.lines.recv_timeout(Duration::from_secs(5)) {
                        Ok(line) => {
                            if let Some(rest) = line.strip_prefix("RESULT ") {
                                self.result = Some(parse_result(rest));
                            }
                        }
                        Err(_) => break,
                    }
                }
                let code = status.code().unwrap_or(-1);
                let Some(result) = self.result.take() else {
                    panic!(
                        "child {} exited ({status}) without a result\n{}",
                        self.pid(),
                        self.transcript()
                    );
                };
                return (result, code);
            }
            if Instant::now() >= deadline {
                let transcript = self.transcript();
                let pid = self.pid();
                let _ = self.child.kill();
                panic!("child {pid} still running after {timeout:?} (a hang)\n{transcript}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn parse_result(rest: &str) -> Outcome {
    if let Some(applied) = rest.strip_prefix("ok") {
        let applied = applied.trim();
        Outcome::Ok(if applied.is_empty() {
            Vec::new()
        } else {
            applied.split(',').map(str::to_string).collect()
        })
    } else {
        let rest = rest.strip_prefix("err ").unwrap_or(rest);
        let (kind, message) = rest.split_once(' ').unwrap_or((rest, ""));
        Outcome::Err(kind.to_string(), message.to_string())
    }
}

/// Runs one child to its result, then — while it still lives, its connection
/// open — calls `check`, then lets it exit. For "the lock was released by the
/// process itself, not by its death".
pub fn run_held(spec: &Spec, check: impl FnOnce(&Outcome)) -> (Outcome, i32) {
    let mut p = Proc::spawn(&Spec {
        hold: true,
        ..spec.clone()
    });
    let line = p.wait_line("RESULT ", Duration::from_secs(120));
    p.wait_line("HOLDING", Duration::from_secs(10));
    let outcome = parse_result(line.trim_start_matches("RESULT "));
    check(&outcome);
    p.release();
    p.finish(Duration::from_secs(30))
}

/// Runs one child to the end: a launch that must not hang.
pub fn run(spec: &Spec) -> (Outcome, i32) {
    let mut p = Proc::spawn(spec);
    if spec.barrier {
        p.wait_line("READY", Duration::from_secs(60));
        p.release();
    }
    p.finish(Duration::from_secs(120))
}
