//! Exactly once: N real processes released together behind a start barrier
//! against a fresh database and against one that is behind, round after
//! round. The `main` history sleeps in every migration to widen the race, has
//! a branch and a merge, and a `-- transaction: none` migration
//! (`CREATE INDEX CONCURRENTLY` on PostgreSQL) in the middle.
//!
//! Oracle, from the database only: each migration's witness row exactly once,
//! one `upgrade applied` history row per migration and nothing else, the
//! version table at the head, no lock left, PostgreSQL's indexes valid; and
//! every process exited 0.

use crate::child::{Proc, Spec};
use crate::fixtures::{self, MAIN};
use crate::oracle;
use crate::support::{Kind, TestDb};
use std::time::{Duration, Instant};

/// The rounds: `(behind, processes)` each. A database that is behind at
/// `rl02item0002` makes the non-transactional `rl03index003` the first step of
/// every process at once, the narrowest race; those rounds are cheap, so
/// there are more of them.
fn rounds() -> Vec<(bool, usize)> {
    if crate::full() {
        let mut r = vec![(false, 16), (false, 12)];
        r.extend(std::iter::repeat_n((true, 12), 8));
        r
    } else {
        vec![(false, 8), (true, 8), (true, 8)]
    }
}

/// One round: `processes` launches released together; returns the revisions
/// the processes reported applying (each must appear once, summed over all).
fn round(kind: Kind, behind: bool, processes: usize, label: &str, lock_table: Option<Duration>) {
    let Some(t) = TestDb::create(kind, label) else {
        return;
    };
    let already: &[&str] = if behind { &MAIN[..2] } else { &[] };
    if behind {
        // An older deployment left it at rl02item0002.
        let m = fixtures::migrator(kind, "main");
        let mut db = t.connect();
        m.upgrade(&mut db, fixtures::ITEMS)
            .expect("prepare a database that is behind");
    }
    let (root, folder) = fixtures::history(kind, "main");
    let spec = Spec {
        barrier: true,
        lock_table,
        ..Spec::launch(&t.url, root, &folder)
    };
    let mut procs: Vec<Proc> = (0..processes).map(|_| Proc::spawn(&spec)).collect();
    for p in &mut procs {
        p.wait_line("READY", Duration::from_secs(60));
    }
    // Everyone is connected and waiting: release them together.
    let released = Instant::now();
    for p in &mut procs {
        p.release();
    }
    let mut applied: Vec<String> = Vec::new();
    for p in procs {
        let pid = p.pid();
        let (outcome, code) = p.finish(Duration::from_secs(120));
        assert_eq!(code, 0, "{label}: process {pid} failed: {outcome:?}");
        applied.extend(outcome.applied().iter().cloned());
    }
    let took = released.elapsed();

    let mut o = t.oracle();
    let context = format!("{label} ({processes} processes)");
    oracle::assert_witness_once(&mut o, &MAIN, &context);
    oracle::assert_history_clean(&mut o, &MAIN, &context);
    assert_eq!(
        oracle::rows(&mut o),
        vec![fixtures::LAST.to_string()],
        "{context}: at the head"
    );
    // The processes' own reports agree: each pending migration applied by exactly one.
    applied.sort();
    let mut pending: Vec<String> = MAIN
        .iter()
        .filter(|r| !already.contains(r))
        .map(|r| r.to_string())
        .collect();
    pending.sort();
    assert_eq!(applied, pending, "{context}: the reports of all processes");
    if kind == Kind::Postgres {
        assert_eq!(
            oracle::valid_indexes(&mut o, &["items_name", "items_price"]),
            vec!["items_name".to_string(), "items_price".to_string()],
            "{context}: CREATE INDEX CONCURRENTLY left valid indexes"
        );
    }
    // Released explicitly by whoever held it, before exiting: no wait here.
    // With the lock table, no advisory lock was ever taken either.
    oracle::lock_free(&t).unwrap_or_else(|e| panic!("{context}: {e}"));
    if lock_table.is_some() {
        assert_eq!(
            oracle::lock_table_owners(&mut o),
            Some(Vec::new()),
            "{context}: the lock table exists and its lease row was deleted"
        );
    }
    if kind == Kind::Sqlite {
        assert!(
            !oracle::sqlite_lock_file(&t).exists(),
            "{context}: a released SQLite lock file is removed"
        );
    }
    crate::tally(&format!(
        "{label}: {processes} processes, {} migrations applied exactly once, {took:.1?}, nothing lost",
        pending.len()
    ));
}

fn races(kind: Kind, lock_table: Option<Duration>) {
    let rounds = rounds();
    let total = rounds.len();
    let how = if lock_table.is_some() {
        " with the lock table"
    } else {
        ""
    };
    for (i, (behind, processes)) in rounds.into_iter().enumerate() {
        let state = if behind { "behind" } else { "fresh" };
        round(
            kind,
            behind,
            processes,
            &format!(
                "{kind:?} race{how} round {}/{total}, {state} database",
                i + 1
            ),
            lock_table,
        );
    }
}

#[test]
fn sqlite_processes_race_to_migrate() {
    races(Kind::Sqlite, None);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_processes_race_to_migrate() {
    races(Kind::Postgres, None);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_processes_race_to_migrate() {
    races(Kind::Mysql, None);
}

/// The same races with `RunLock::Table`: a lease row instead of a session
/// lock (PgBouncer's transaction pooling, CockroachDB).
#[cfg(feature = "postgres")]
#[test]
fn postgres_processes_race_with_the_lock_table() {
    races(Kind::Postgres, Some(Duration::from_secs(60)));
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_processes_race_with_the_lock_table() {
    races(Kind::Mysql, Some(Duration::from_secs(60)));
}
