//! The run lock as a lease row (`RunLock::Table`), PostgreSQL and MariaDB:
//! a lease left by a process that is gone is taken over once it expired (and
//! not before: the timeout error names its owner and when it expires); a
//! `kill -9` of the holder mid-step leaves its row, the next run waits until
//! the lease expires, no longer, then takes over, and the usual
//! unfinished-step rules apply; every run, failed ones included, deletes its
//! row. The races are in `race.rs`.

use crate::fixtures::{self, BASE, ITEMS, LAST, MAIN};
use crate::oracle::{self, LOCK_TABLE};
use crate::support::{Kind, TestDb};
use alembix_runtime::{Config, Error, Migrator, RunLock};
use std::time::Duration;

fn migrator(kind: Kind, expiry: Duration, lock_timeout: Duration) -> Migrator {
    let (root, folder) = fixtures::history(kind, "main");
    let config = Config {
        run_lock: RunLock::Table { expiry },
        lock_timeout,
        ..Config::default()
    };
    Migrator::from_folder(&root, &folder, config).expect("fixture history loads")
}

/// Another owner's lease, expiring `seconds` from now (negative: expired).
fn plant(o: &mut crate::support::Oracle, kind: Kind, owner: &str, seconds: i64) {
    let (now, unit) = match kind {
        Kind::Mysql => ("UTC_TIMESTAMP(6)", format!("INTERVAL {seconds} SECOND")),
        _ => (
            "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')",
            format!("INTERVAL '1 second' * {seconds}"),
        ),
    };
    o.exec(&format!(
        "INSERT INTO {LOCK_TABLE} (id, owner, acquired_at, heartbeat_at, expires_at) VALUES (1, '{owner}', {now}, {now}, {now} + {unit})"
    ));
}

fn lease_rules(kind: Kind) {
    let label = format!("{kind:?} lock table lease");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    let m = migrator(kind, Duration::from_secs(60), Duration::from_millis(600));
    let mut db = t.connect();
    let mut o = t.oracle();
    m.upgrade(&mut db, BASE)
        .expect("a first run creates the lock table");
    assert_eq!(
        oracle::lock_table_owners(&mut o),
        Some(Vec::new()),
        "{label}: the release leaves no row"
    );

    // A live lease of another owner: waited for, then a timeout naming it.
    plant(&mut o, kind, "other-host:4242:feed", 3600);
    let err = m.upgrade(&mut db, ITEMS).expect_err("the lease is held");
    let Error::LockTimeout { lock, holder, .. } = &err else {
        panic!("{label}: expected LockTimeout, got {err:?}");
    };
    assert!(lock.contains(LOCK_TABLE), "{label}: {lock}");
    for needle in ["other-host:4242:feed", "expires at", "UTC"] {
        assert!(holder.contains(needle), "{label}: `{needle}` in {holder}");
    }
    assert_eq!(oracle::rows(&mut o), vec![BASE.to_string()], "{label}");
    assert_eq!(
        oracle::lock_table_owners(&mut o),
        Some(vec!["other-host:4242:feed".to_string()]),
        "{label}: another owner's live lease is left alone"
    );

    // The same lease past its expiry: taken over, the run completes, and
    // its release leaves no row.
    o.exec(&format!("DELETE FROM {LOCK_TABLE}"));
    plant(&mut o, kind, "other-host:4242:feed", -1);
    let report = m
        .upgrade(&mut db, "heads")
        .expect("the expired lease is taken over");
    assert_eq!(report.steps.len(), MAIN.len() - 1, "{label}");
    assert_eq!(oracle::rows(&mut o), vec![LAST.to_string()], "{label}");
    assert_eq!(
        oracle::lock_table_owners(&mut o),
        Some(Vec::new()),
        "{label}: the release leaves no row"
    );
    oracle::lock_free(&t).unwrap_or_else(|e| panic!("{label}: no session lock taken: {e}"));
    crate::tally(&format!(
        "{label}: a live lease waited for and named, an expired one taken over, no row left"
    ));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_lock_table_lease_rules() {
    lease_rules(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_lock_table_lease_rules() {
    lease_rules(Kind::Mysql);
}

/// `kill -9` of the lease's holder between two statements of `rl02item0002`.
#[cfg(feature = "failpoints")]
fn kill9_holder(kind: Kind) {
    use crate::child::{self, Proc, Spec};
    use alembix_runtime::failpoint::BETWEEN_STATEMENTS;
    use std::time::Instant;

    let label = format!("{kind:?} kill -9 of the lock table's holder");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    {
        let mut db = t.connect();
        fixtures::migrator(kind, "main")
            .upgrade(&mut db, BASE)
            .expect("prepare");
    }
    let mut o = t.oracle();
    let expiry = Duration::from_secs(2);
    let (root, folder) = fixtures::history(kind, "main");
    let launch = Spec {
        lock_timeout: Duration::from_secs(30),
        lock_table: Some(expiry),
        ..Spec::launch(&t.url, root, &folder)
    };
    let killed = Spec {
        failpoint: Some((BETWEEN_STATEMENTS.to_string(), Some(ITEMS.to_string()))),
        ..launch.clone()
    };
    let mut p = Proc::spawn(&killed);
    p.wait_line("ALEMBIX_FAILPOINT_HIT", Duration::from_secs(60));
    let owners = oracle::lock_table_owners(&mut o).expect("the lock table");
    assert_eq!(owners.len(), 1, "{label}: {owners:?}");
    assert!(
        owners[0].contains(&format!(":{}:", p.pid())),
        "{label}: held by the child: {owners:?}"
    );
    assert_eq!(oracle::lock_holder(&t), None, "{label}: no session lock");
    p.kill9();
    let killed_at = Instant::now();
    assert_eq!(
        oracle::lock_table_owners(&mut o),
        Some(owners.clone()),
        "{label}: the lease outlives its process"
    );

    let (outcome, code) = child::run(&launch);
    let waited = killed_at.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < expiry + Duration::from_secs(8),
        "{label}: the next run waited for the lease to expire, no longer: {waited:?}"
    );
    if kind == Kind::Mysql {
        // DDL committed statement by statement: the step is recorded in
        // progress, and the next run refuses until a repair, as always.
        assert_eq!(code, 2, "{label}: {outcome:?}");
        let (variant, message) = outcome.error();
        assert_eq!(variant, "Unfinished", "{label}: {message}");
        assert!(message.contains(ITEMS), "{label}: {message}");
    } else {
        // Rolled back whole: the next run applies it and the rest.
        assert_eq!(code, 0, "{label}: {outcome:?}");
        let at = MAIN.iter().position(|r| *r == ITEMS).expect("in main");
        let expected: Vec<String> = MAIN[at..].iter().map(|r| r.to_string()).collect();
        assert_eq!(outcome.applied(), expected.as_slice(), "{label}");
        oracle::assert_witness_once(&mut o, &MAIN, &label);
        assert_eq!(oracle::rows(&mut o), vec![LAST.to_string()], "{label}");
    }
    assert_eq!(
        oracle::lock_table_owners(&mut o),
        Some(Vec::new()),
        "{label}: the next run, refused or not, deleted its row"
    );
    crate::tally(&format!(
        "{label}: the next run took over after {waited:.1?} (expiry {expiry:?})"
    ));
}

#[cfg(all(feature = "failpoints", feature = "postgres"))]
#[test]
fn postgres_kill9_of_the_lock_table_holder() {
    kill9_holder(Kind::Postgres);
}

#[cfg(all(feature = "failpoints", feature = "mysql"))]
#[test]
fn mysql_kill9_of_the_lock_table_holder() {
    kill9_holder(Kind::Mysql);
}
