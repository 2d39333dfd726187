//! `kill -9` at exact points (feature `failpoints`): after the lock is taken,
//! between two statements, before a migration's commit, and after the last
//! commit before the lock is released; once on a migration with four
//! statements in one transaction (`rl02item0002`; on MariaDB DDL commits
//! implicitly, so it runs statement by statement there) and once on a
//! `-- transaction: none` migration (`rl03index003`, `CREATE INDEX
//! CONCURRENTLY` on PostgreSQL).
//!
//! Afterwards, from the database: a transactional migration left the whole
//! database (schema, data, version and history rows) exactly as before it or
//! exactly as after it, never between; a non-transactional one left its
//! progress recorded (`in_progress`, k of n statements). The lock is free.
//! The next launch does the documented thing: continue, or refuse with repair
//! instructions until an audited `repair` (after which it continues); the
//! launch after that is a no-op.

use crate::child::{self, Proc, Spec};
use crate::fixtures::{self, BASE, INDEXES, ITEMS, LAST, MAIN};
use crate::oracle::{self, snapshot, without_history};
use crate::support::{Kind, TestDb};
use alembix_runtime::failpoint::{
    AFTER_COMMIT_BEFORE_UNLOCK, AFTER_LOCK, BEFORE_COMMIT, BETWEEN_STATEMENTS,
};
use alembix_runtime::RepairAction;
use std::collections::BTreeMap;
use std::time::Duration;

const POINTS: [&str; 4] = [
    AFTER_LOCK,
    BETWEEN_STATEMENTS,
    BEFORE_COMMIT,
    AFTER_COMMIT_BEFORE_UNLOCK,
];

/// Whole-database snapshots of a clean run, per revision reached.
fn references(kind: Kind) -> Option<BTreeMap<&'static str, Vec<String>>> {
    let t = TestDb::create(kind, "kill reference")?;
    let m = fixtures::migrator(kind, "main");
    let mut db = t.connect();
    let mut o = t.oracle();
    let mut map = BTreeMap::new();
    for target in [BASE, ITEMS, INDEXES, LAST] {
        m.upgrade(&mut db, target).expect("reference run");
        map.insert(target, snapshot(&mut o));
    }
    Some(map)
}

fn previous(revision: &str) -> &'static str {
    match revision {
        ITEMS => BASE,
        INDEXES => ITEMS,
        other => panic!("no kill scenario for {other}"),
    }
}

/// The revisions a launch applies after `revision`.
fn after(revision: &str) -> Vec<String> {
    let at = MAIN.iter().position(|r| *r == revision).expect("in main");
    MAIN[at + 1..].iter().map(|r| r.to_string()).collect()
}

fn from(revision: &str) -> Vec<String> {
    let at = MAIN.iter().position(|r| *r == revision).expect("in main");
    MAIN[at..].iter().map(|r| r.to_string()).collect()
}

fn ops(h: &[oracle::Row]) -> Vec<String> {
    h.iter()
        .map(|r| format!("{} {} {}", r.revision, r.operation, r.state))
        .collect()
}

/// One kill: returns the number of launches it took (the killed one included).
fn scenario(
    kind: Kind,
    revision: &'static str,
    point: &str,
    refs: &BTreeMap<&'static str, Vec<String>>,
) -> usize {
    let label = format!("{kind:?} kill -9 at {point} in {revision}");
    let Some(t) = TestDb::create(kind, &label) else {
        return 0;
    };
    let m = fixtures::migrator(kind, "main");
    let prev = previous(revision);
    {
        let mut db = t.connect();
        m.upgrade(&mut db, prev).expect("prepare");
    }
    let mut o = t.oracle();
    let before = snapshot(&mut o);
    assert_eq!(&before, &refs[prev], "{label}: the prepared database");
    let transactional = kind != Kind::Mysql && revision == ITEMS;
    let statements = fixtures::statements(&m, revision);
    let (root, folder) = fixtures::history(kind, "main");
    let launch = Spec {
        lock_timeout: Duration::from_secs(20),
        ..Spec::launch(&t.url, root, &folder)
    };

    // 1. The launch that dies.
    let killed = Spec {
        failpoint: Some((
            point.to_string(),
            (point != AFTER_LOCK).then(|| revision.to_string()),
        )),
        target: (point == AFTER_COMMIT_BEFORE_UNLOCK).then(|| revision.to_string()),
        ..launch.clone()
    };
    let mut p = Proc::spawn(&killed);
    let marker = p.wait_line("ALEMBIX_FAILPOINT_HIT", Duration::from_secs(60));
    assert!(
        marker.starts_with(&format!("ALEMBIX_FAILPOINT_HIT {point} ")),
        "{label}: {marker}"
    );
    // Stopped there, it holds the run lock (as the server / kernel says; asked
    // again for a moment, in case a reading missed it).
    let holder = oracle::wait_lock_held(&t, Duration::from_secs(5));
    assert!(
        holder.is_some(),
        "{label}: the lock is held at the failpoint"
    );
    if kind == Kind::Sqlite {
        assert_eq!(
            holder,
            Some(p.pid().to_string()),
            "{label}: held by the child"
        );
    }
    p.kill9();
    oracle::wait_lock_free(&t, Duration::from_secs(10));
    let after_kill = snapshot(&mut o);
    let h = oracle::history(&mut o);
    let mut launches = 1;

    // 2. What the database shows.
    let unfinished = match point {
        p if p == AFTER_LOCK => {
            assert_eq!(after_kill, before, "{label}: nothing happened");
            None
        }
        p if p == AFTER_COMMIT_BEFORE_UNLOCK => {
            assert_eq!(
                &after_kill, &refs[revision],
                "{label}: exactly the next revision"
            );
            None
        }
        _ if transactional => {
            assert_eq!(
                after_kill, before,
                "{label}: exactly the previous revision, bookkeeping included"
            );
            None
        }
        p => {
            // Recorded progress: the claim, and how many statements ran.
            assert_eq!(oracle::rows(&mut o), vec![prev.to_string()], "{label}");
            let last = h.last().expect("a history row").clone();
            let done = if p == BETWEEN_STATEMENTS {
                1
            } else {
                statements.len() as i64
            };
            assert_eq!(
                (
                    last.revision.as_str(),
                    last.operation.as_str(),
                    last.state.as_str(),
                    last.done,
                    last.total
                ),
                (
                    revision,
                    "upgrade",
                    "in_progress",
                    done,
                    statements.len() as i64
                ),
                "{label}: recorded progress"
            );
            Some(done as usize)
        }
    };

    // 3. The next launch (the lock must be free while it still lives).
    let (outcome, code) = child::run_held(&launch, |outcome| {
        oracle::lock_free(&t)
            .unwrap_or_else(|e| panic!("{label}: after {outcome:?}, while the process lives: {e}"));
    });
    launches += 1;
    match unfinished {
        None => {
            assert_eq!(code, 0, "{label}: the next launch continues: {outcome:?}");
            let expected = if point == AFTER_COMMIT_BEFORE_UNLOCK {
                after(revision)
            } else {
                from(revision)
            };
            assert_eq!(outcome.applied(), expected.as_slice(), "{label}");
            assert_eq!(&snapshot(&mut o), &refs[LAST], "{label}: a clean head");
        }
        Some(done) => {
            assert_eq!(code, 2, "{label}: the next launch refuses: {outcome:?}");
            let (variant, message) = outcome.error();
            let file = fixtures::file_name(&m, revision);
            assert_eq!(variant, "Unfinished", "{label}: {message}");
            for needle in [
                revision,
                file.as_str(),
                &format!("{done} of {} statements", statements.len()),
                "Migrator::repair",
                "in progress",
            ] {
                assert!(message.contains(needle), "{label}: `{needle}` in {message}");
            }
            assert_eq!(
                snapshot(&mut o),
                after_kill,
                "{label}: the refusal changed nothing"
            );

            // The audited repair: a person looks, finishes (or undoes) the
            // statements by hand, and records it.
            let mut db = t.connect();
            let rolled_back =
                kind == Kind::Mysql && revision == ITEMS && point == BETWEEN_STATEMENTS;
            let (action, reason) = if rolled_back {
                // Statement 1 (`ALTER TABLE items ADD COLUMN price`) ran: undo it.
                assert_eq!(done, 1, "{label}");
                o.exec("ALTER TABLE items DROP COLUMN price");
                (RepairAction::RolledBack, "ops: dropped items.price by hand")
            } else {
                for sql in &statements[done..] {
                    o.exec(sql);
                }
                (
                    RepairAction::Completed,
                    "ops: ran the remaining statements by hand",
                )
            };
            m.repair(&mut db, revision, action, reason)
                .expect("the audited repair");
            let h = oracle::history(&mut o);
            let last = h.last().expect("the repair row");
            assert_eq!(last.operation, "repair", "{label}");
            assert!(
                last.detail.contains(reason),
                "{label}: the reason is recorded"
            );

            // Now it continues.
            let (outcome, code) = child::run(&launch);
            launches += 1;
            assert_eq!(code, 0, "{label}: after the repair: {outcome:?}");
            let expected = if rolled_back {
                from(revision)
            } else {
                after(revision)
            };
            assert_eq!(outcome.applied(), expected.as_slice(), "{label}");
            assert_eq!(
                without_history(&snapshot(&mut o)),
                without_history(&refs[LAST]),
                "{label}: the schema and data of a clean head"
            );
            // The history tells the whole story, the dead run's row untouched.
            let story = ops(&oracle::history(&mut o));
            let at = MAIN.iter().position(|r| *r == revision).expect("in main");
            let mut expected: Vec<String> = MAIN[..at]
                .iter()
                .map(|r| format!("{r} upgrade applied"))
                .collect();
            expected.push(format!("{revision} upgrade in_progress"));
            if rolled_back {
                expected.push(format!("{revision} repair rolled_back"));
                expected.push(format!("{revision} upgrade applied"));
            } else {
                expected.push(format!("{revision} repair applied"));
            }
            expected.extend(
                MAIN[at + 1..]
                    .iter()
                    .map(|r| format!("{r} upgrade applied")),
            );
            assert_eq!(story, expected, "{label}: the history");
            let dead = oracle::history(&mut o)
                .into_iter()
                .find(|r| r.state == "in_progress")
                .expect("the dead run's row");
            assert_eq!(
                dead.done as usize, done,
                "{label}: the dead run's row is kept as it was"
            );
        }
    }
    oracle::assert_witness_once(&mut o, &MAIN, &label);
    assert_eq!(oracle::rows(&mut o), vec![LAST.to_string()], "{label}");

    // 4. A third launch is a no-op.
    let settled = snapshot(&mut o);
    let (outcome, code) = child::run(&launch);
    launches += 1;
    assert_eq!(code, 0, "{label}: {outcome:?}");
    assert!(outcome.applied().is_empty(), "{label}: {outcome:?}");
    assert_eq!(
        snapshot(&mut o),
        settled,
        "{label}: the no-op launch wrote nothing"
    );
    oracle::lock_free(&t).unwrap_or_else(|e| panic!("{label}: {e}"));
    launches
}

fn kills(kind: Kind, revision: &'static str) {
    let Some(refs) = references(kind) else {
        return;
    };
    let mut launches = 0;
    for point in POINTS {
        launches += scenario(kind, revision, point, &refs);
    }
    let outcome = if kind != Kind::Mysql && revision == ITEMS {
        "each time exactly the previous or the next revision"
    } else {
        "progress recorded, refused until an audited repair, then continued"
    };
    crate::tally(&format!(
        "{kind:?} kill -9: {} points x {revision}, {launches} launches; {outcome}; nothing lost",
        POINTS.len()
    ));
}

#[test]
fn sqlite_kill9_in_a_transactional_migration() {
    kills(Kind::Sqlite, ITEMS);
}

#[test]
fn sqlite_kill9_in_a_non_transactional_migration() {
    kills(Kind::Sqlite, INDEXES);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_kill9_in_a_transactional_migration() {
    kills(Kind::Postgres, ITEMS);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_kill9_in_a_non_transactional_migration() {
    kills(Kind::Postgres, INDEXES);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_kill9_in_a_multi_statement_migration() {
    kills(Kind::Mysql, ITEMS);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_kill9_in_a_non_transactional_migration() {
    kills(Kind::Mysql, INDEXES);
}
