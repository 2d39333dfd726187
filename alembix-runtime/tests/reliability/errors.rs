//! Failures that must not leave anything behind: an SQL error in statement 3
//! of 5, and a lock timeout.
//!
//! - SQL error: the error names the revision, the file and the statement (with
//!   its line); PostgreSQL and SQLite are exactly as before (whole-database
//!   snapshot), MariaDB records the revision as failed with the count of
//!   statements that ran. The lock is released *by the failing process
//!   itself*: it is checked free while that process is still alive (held
//!   after its error), and a second launch meanwhile does not hang.
//! - Lock timeout: while one process holds the lock (in a migration that
//!   takes a few seconds, and frozen there with SIGSTOP so that the test does
//!   not depend on the machine's speed), another with a 1 s timeout gives up
//!   with an error naming the holder as the server / kernel knows it
//!   (PostgreSQL backend pid, MariaDB connection id, SQLite holder's OS pid),
//!   having written nothing; the holder, resumed with SIGCONT, finishes
//!   normally.

use crate::child::{self, Proc, Spec};
use crate::fixtures::{self, BASE, BROKEN, SLOW};
use crate::oracle::{self, snapshot};
use crate::support::{Kind, TestDb};
use std::time::{Duration, Instant};

fn sql_error_in_statement_3_of_5(kind: Kind) {
    let label = format!("{kind:?} SQL error in statement 3 of 5");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    let m = fixtures::migrator(kind, "broken");
    m.upgrade(&mut t.connect(), BASE).expect("prepare");
    let mut o = t.oracle();
    let before = snapshot(&mut o);
    let (root, folder) = fixtures::history(kind, "broken");
    let spec = Spec {
        hold: true,
        lock_timeout: Duration::from_secs(5),
        ..Spec::launch(&t.url, root.clone(), &folder)
    };
    let mut failing = Proc::spawn(&spec);
    let result = failing.wait_line("RESULT ", Duration::from_secs(60));
    failing.wait_line("HOLDING", Duration::from_secs(10));
    let file = fixtures::file_name(&m, BROKEN);
    assert!(
        result.starts_with("RESULT err Migration "),
        "{label}: {result}"
    );
    for needle in [
        BROKEN,
        file.as_str(),
        "statement 3 of 5",
        &format!("{file}:9"),
        "no_such_table",
    ] {
        assert!(result.contains(needle), "{label}: `{needle}` in {result}");
    }
    // The failing process is alive, and the lock is already free.
    oracle::lock_free(&t).unwrap_or_else(|e| panic!("{label}: while the process lives: {e}"));
    if kind == Kind::Mysql {
        assert!(
            result.contains("recorded") || result.contains("failed"),
            "{result}"
        );
        let h = oracle::history(&mut o);
        let last = h.last().expect("a history row");
        assert_eq!(
            (
                last.revision.as_str(),
                last.state.as_str(),
                last.done,
                last.total
            ),
            (BROKEN, "failed", 2, 5),
            "{label}: recorded as failed after 2 of 5"
        );
        assert!(last.detail.contains("no_such_table"), "{label}: {last:?}");
        assert_eq!(oracle::rows(&mut o), vec![BASE.to_string()]);
        assert!(
            o.tables().contains(&"broken_a".to_string()),
            "{label}: DDL committed"
        );
    } else {
        assert!(result.contains("rolled back"), "{label}: {result}");
        assert_eq!(snapshot(&mut o), before, "{label}: exactly as before");
    }
    let after_first = snapshot(&mut o);
    // A second launch while the first process still lives: it gets the lock at
    // once and fails the same way (or, on MariaDB, refuses until a repair).
    let started = Instant::now();
    let (second, code) = child::run(&Spec {
        hold: false,
        ..spec.clone()
    });
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{label}: the second launch waited {:?} for a lock nobody should hold",
        started.elapsed()
    );
    assert_eq!(code, 2, "{label}: {second:?}");
    let (variant, message) = second.error();
    match kind {
        Kind::Mysql => {
            assert_eq!(variant, "Unfinished", "{label}: {message}");
            assert!(message.contains("repair"), "{label}: {message}");
        }
        _ => assert_eq!(variant, "Migration", "{label}: {message}"),
    }
    assert_eq!(
        snapshot(&mut o),
        after_first,
        "{label}: the second launch changed nothing"
    );
    failing.release();
    let (_, code) = failing.finish(Duration::from_secs(30));
    assert_eq!(code, 2, "{label}");
    oracle::lock_free(&t).unwrap_or_else(|e| panic!("{label}: {e}"));
    crate::tally(&format!(
        "{label}: error named revision, file, statement; nothing lost"
    ));
}

fn lock_timeout_names_the_holder(kind: Kind) {
    let label = format!("{kind:?} lock timeout");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    let (root, folder) = fixtures::history(kind, "slow");
    let launch = Spec::launch(&t.url, root, &folder);
    let holder = Proc::spawn(&launch);
    // Wait until it holds the lock, as the server / kernel says.
    let deadline = Instant::now() + Duration::from_secs(30);
    let held_by = loop {
        if let Some(h) = oracle::lock_holder(&t) {
            break h;
        }
        assert!(
            Instant::now() < deadline,
            "{label}: the holder never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    if kind == Kind::Sqlite {
        assert_eq!(held_by, holder.pid().to_string(), "{label}");
    }
    // Freeze the holder inside its run: the lock stays held however fast
    // this machine runs the slow migration.
    signal(holder.pid(), "STOP");
    let mut o = t.oracle();
    let started = Instant::now();
    let (waiter, code) = child::run(&Spec {
        lock_timeout: Duration::from_millis(1000),
        ..launch.clone()
    });
    let waited = started.elapsed();
    assert_eq!(code, 2, "{label}: {waiter:?}");
    let (variant, message) = waiter.error();
    assert_eq!(variant, "LockTimeout", "{label}: {message}");
    assert!(
        waited >= Duration::from_millis(1000),
        "{label}: gave up after {waited:?}"
    );
    let named = match kind {
        Kind::Postgres | Kind::Sqlite => format!("pid {held_by}"),
        Kind::Mysql => format!("connection id {held_by}"),
    };
    assert!(message.contains(&named), "{label}: `{named}` in {message}");
    assert_eq!(
        oracle::lock_holder(&t),
        Some(held_by.clone()),
        "{label}: the waiter took nothing"
    );
    // The holder, resumed, finishes normally.
    signal(holder.pid(), "CONT");
    let (outcome, code) = holder.finish(Duration::from_secs(60));
    assert_eq!(code, 0, "{label}: the holder: {outcome:?}");
    assert_eq!(
        outcome.applied(),
        [BASE.to_string(), SLOW.to_string()],
        "{label}"
    );
    oracle::assert_witness_once(&mut o, &[BASE, SLOW], &label);
    oracle::assert_history_clean(&mut o, &[BASE, SLOW], &label);
    oracle::lock_free(&t).unwrap_or_else(|e| panic!("{label}: {e}"));
    crate::tally(&format!(
        "{label}: the waiter gave up after {waited:.1?} naming `{named}`; the holder finished"
    ));
}

/// Sends SIGSTOP / SIGCONT through the shell's `kill` (no libc in tests).
fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -{name} {pid}")])
        .status()
        .expect("run sh");
    assert!(status.success(), "kill -{name} {pid}");
}

#[test]
fn sqlite_sql_error_in_statement_3_of_5() {
    sql_error_in_statement_3_of_5(Kind::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_sql_error_in_statement_3_of_5() {
    sql_error_in_statement_3_of_5(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_sql_error_in_statement_3_of_5() {
    sql_error_in_statement_3_of_5(Kind::Mysql);
}

#[test]
fn sqlite_lock_timeout_names_the_holder() {
    lock_timeout_names_the_holder(Kind::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_lock_timeout_names_the_holder() {
    lock_timeout_names_the_holder(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_lock_timeout_names_the_holder() {
    lock_timeout_names_the_holder(Kind::Mysql);
}
