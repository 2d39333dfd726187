//! Idempotent relaunch: a launch against a database at the head writes
//! nothing. Judged by the database's own write counters, each shown to move
//! during the first launch and then not at all during the second: PostgreSQL's
//! `pg_stat_user_tables` (rows inserted, updated, deleted) and the `xmin` of
//! every bookkeeping row; SQLite's `PRAGMA data_version` (changes committed by
//! other connections) and the file's size and modification time; MariaDB's
//! `UPDATE_TIME` of the version and history tables. Plus the row counts and a
//! whole-database snapshot.

use crate::child::{self, Spec};
use crate::fixtures::{self, MAIN};
use crate::oracle::{self, snapshot};
use crate::support::{Kind, Oracle, TestDb};
use std::time::{Duration, Instant};

/// The backend's write counters for the version and history tables.
fn counters(t: &TestDb, o: &mut Oracle) -> Vec<String> {
    match t.kind {
        Kind::Postgres => {
            // Statistics are flushed when a backend exits: wait for the child's.
            let deadline = Instant::now() + Duration::from_secs(10);
            while o.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") > 0 {
                assert!(Instant::now() < deadline, "the child's backend did not exit");
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(100));
            o.exec("SELECT pg_stat_clear_snapshot()");
            let mut c = o.strings("SELECT CAST(relname AS TEXT) || ' writes ' || CAST(n_tup_ins + n_tup_upd + n_tup_del AS TEXT) AS s FROM pg_stat_user_tables WHERE relname IN ('alembic_version', 'alembic_version_history')");
            if o.tables().contains(&"alembic_version_history".to_string()) {
                c.extend(o.strings(
                    "SELECT 'version xmin ' || CAST(xmin AS TEXT) AS s FROM alembic_version",
                ));
                c.extend(o.strings("SELECT 'history xmin ' || CAST(xmin AS TEXT) AS s FROM alembic_version_history"));
            }
            c.sort();
            c
        }
        Kind::Sqlite => {
            use std::os::unix::fs::MetadataExt;
            let version = o.number("SELECT data_version AS n FROM pragma_data_version");
            let path = t.sqlite_path().expect("sqlite file");
            let meta = std::fs::metadata(&path).expect("database file");
            vec![
                format!("data_version {version}"),
                format!("file size {}", meta.len()),
                format!("file mtime {}.{}", meta.mtime(), meta.mtime_nsec()),
            ]
        }
        Kind::Mysql => {
            let mut c = o.strings("SELECT CAST(CONCAT(table_name, ' updated ', COALESCE(CAST(update_time AS CHAR), 'never')) AS CHAR) AS s FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('alembic_version', 'alembic_version_history')");
            c.sort();
            c
        }
    }
}

fn relaunch_writes_nothing(kind: Kind) {
    let label = format!("{kind:?} idempotent relaunch");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    let (root, folder) = fixtures::history(kind, "main");
    let launch = Spec::launch(&t.url, root, &folder);
    let mut o = t.oracle();
    let version_before = counters(&t, &mut o);

    let (first, code) = child::run(&launch);
    assert_eq!(code, 0, "{label}: {first:?}");
    assert_eq!(first.applied().len(), MAIN.len(), "{label}");
    let after_first = counters(&t, &mut o);
    assert_ne!(
        after_first, version_before,
        "{label}: the counters see the first launch's writes"
    );
    if kind == Kind::Mysql {
        assert!(
            after_first.iter().all(|c| !c.ends_with("never")),
            "{label}: {after_first:?}"
        );
        // UPDATE_TIME has whole seconds: let one pass so a write would show.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let rows = o.count("alembic_version_history");
    let settled = snapshot(&mut o);

    for n in 2..=3 {
        let (again, code) = child::run(&launch);
        assert_eq!(code, 0, "{label}: launch {n}: {again:?}");
        assert!(again.applied().is_empty(), "{label}: launch {n}: {again:?}");
        assert_eq!(
            counters(&t, &mut o),
            after_first,
            "{label}: launch {n} wrote"
        );
        assert_eq!(o.count("alembic_version_history"), rows, "{label}");
        assert_eq!(snapshot(&mut o), settled, "{label}: launch {n}");
    }
    if kind == Kind::Sqlite {
        assert!(
            !oracle::sqlite_lock_file(&t).exists(),
            "{label}: no lock taken"
        );
    }
    crate::tally(&format!(
        "{label}: launches 2 and 3 at the head wrote nothing ({})",
        after_first.join(", ")
    ));
}

#[test]
fn sqlite_relaunch_at_head_writes_nothing() {
    relaunch_writes_nothing(Kind::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_relaunch_at_head_writes_nothing() {
    relaunch_writes_nothing(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_relaunch_at_head_writes_nothing() {
    relaunch_writes_nothing(Kind::Mysql);
}
