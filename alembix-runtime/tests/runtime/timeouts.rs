//! DDL that waits politely: a migration's `-- lock_timeout:` bounds how
//! long its statements wait for a lock that another session holds; a step
//! that times out is rolled back (or stopped before anything ran), recorded
//! `retried` in the history table, and run again after a pause, until the
//! lock is released or `Config::lock_retries` runs out. Nothing is ever
//! half applied. PostgreSQL: another session holds `ACCESS EXCLUSIVE` on the
//! table; MariaDB/MySQL: another session's open transaction read the table
//! (a metadata lock, what DDL waits for).

// Most of this file is about the servers: built for SQLite alone, its server
// helpers and their imports are unused.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql")),
    allow(
        dead_code,
        unused_imports,
        unused_variables,
        unused_mut,
        unreachable_code
    )
)]

use crate::support::{migrator, Kind, Oracle, TestDb};
use alembix_runtime::{Config, Error, FailureOutcome, MigrationHint};
use std::time::{Duration, Instant};

const CREATE: &str = "f1f1f1f1f1f1";
const NOTE: &str = "f2f2f2f2f2f2";
const HISTORY: &str = "alembic_version_history";

fn config(lock_retries: u32) -> Config {
    Config {
        lock_retries,
        lock_retry_backoff: Duration::from_millis(100),
        ..Config::default()
    }
}

/// Another session, holding the lock that `ALTER TABLE guarded` needs until
/// it commits.
fn hold_guarded(t: &TestDb) -> Oracle {
    let mut holder = t.oracle();
    match t.kind {
        Kind::Postgres => {
            holder.exec("BEGIN");
            holder.exec("LOCK TABLE guarded IN ACCESS EXCLUSIVE MODE");
        }
        _ => {
            holder.exec("START TRANSACTION");
            assert_eq!(
                holder.strings("SELECT CAST(name AS CHAR) AS s FROM guarded"),
                ["ada"]
            );
        }
    }
    holder
}

/// Whether `guarded` has the column the second migration adds.
fn has_note(oracle: &mut Oracle) -> bool {
    let schema = match oracle.kind() {
        Kind::Mysql => "DATABASE()",
        _ => "current_schema()",
    };
    oracle.number(&format!(
        "SELECT CAST(COUNT(*) AS {}) AS n FROM information_schema.columns WHERE table_schema = {schema} AND table_name = 'guarded' AND column_name = 'note'",
        oracle.bigint()
    )) == 1
}

/// `(operation, state)` of the history rows of the second migration.
fn tries_of_note(oracle: &mut Oracle) -> Vec<(String, String)> {
    oracle
        .history(HISTORY)
        .into_iter()
        .filter(|(revision, _, _)| revision == NOTE)
        .map(|(_, operation, state)| (operation, state))
        .collect()
}

/// The `detail` of every `retried` row.
fn retried_details(oracle: &mut Oracle) -> Vec<String> {
    oracle.strings(&format!(
        "SELECT CAST(COALESCE(detail, '') AS {}) AS s FROM {HISTORY} WHERE state = 'retried' ORDER BY id",
        match oracle.kind() {
            Kind::Mysql => "CHAR",
            _ => "TEXT",
        }
    ))
}

fn retried(n: usize) -> Vec<(String, String)> {
    vec![("upgrade".to_string(), "retried".to_string()); n]
}

fn waits_retries_and_succeeds_once_the_lock_is_released(t: &TestDb) {
    let m = migrator("timeouts", config(20));
    let mut db = t.connect();
    m.upgrade(&mut db, CREATE).unwrap();
    let holder = hold_guarded(t);
    let hold = match t.kind {
        Kind::Postgres => Duration::from_millis(1000),
        // MySQL's lock_wait_timeout counts whole seconds: 200 ms waits 1 s.
        _ => Duration::from_millis(2500),
    };
    let release = std::thread::spawn(move || {
        let mut holder = holder;
        std::thread::sleep(hold);
        holder.exec("COMMIT");
    });
    let started = Instant::now();
    let report = m.upgrade(&mut db, "heads");
    release.join().unwrap();
    let report = report.unwrap();
    assert!(started.elapsed() >= hold, "{:?}", started.elapsed());
    assert_eq!(report.rows_after, [NOTE]);

    let mut oracle = t.oracle();
    let tries = tries_of_note(&mut oracle);
    let (last, before) = tries.split_last().unwrap();
    assert!(!before.is_empty(), "it waited: {tries:?}");
    assert_eq!(before, retried(before.len()));
    assert_eq!(last, &("upgrade".to_string(), "applied".to_string()));
    let details = retried_details(&mut oracle);
    assert!(
        details
            .iter()
            .all(|d| d.contains("Lock wait timeout") || d.contains("lock timeout")),
        "{details:?}"
    );
    let first = match t.kind {
        // Rolled back, then recorded.
        Kind::Postgres => details[0].starts_with("try 1: "),
        // The claim of a step outside a transaction, closed.
        _ => details[0].ends_with("timed out waiting for a lock: nothing ran)"),
    };
    assert!(first, "{details:?}");
    // Applied whole, once.
    assert!(has_note(&mut oracle));
    let text = match t.kind {
        Kind::Mysql => "CHAR",
        _ => "TEXT",
    };
    assert_eq!(
        oracle.strings(&format!("SELECT CAST(note AS {text}) AS s FROM guarded")),
        ["noted"]
    );
    assert_eq!(oracle.rows("alembic_version"), [NOTE]);
    // The retried rows block nothing and say nothing about what is applied.
    assert!(m.is_up_to_date(&mut db).unwrap());
    assert!(m.upgrade(&mut db, "heads").unwrap().steps.is_empty());
    m.downgrade(&mut db, CREATE).unwrap();
    assert!(!has_note(&mut oracle));
}

fn gives_up_after_the_last_try_with_nothing_applied(t: &TestDb) {
    let m = migrator("timeouts", config(2));
    let mut db = t.connect();
    m.upgrade(&mut db, CREATE).unwrap();
    let mut holder = hold_guarded(t);
    let error = m.upgrade(&mut db, "heads").unwrap_err();
    holder.exec("COMMIT");
    match &error {
        Error::Migration {
            revision,
            statement,
            outcome,
            hint,
            ..
        } => {
            assert_eq!(revision, NOTE);
            assert_eq!(*statement, 1);
            assert_eq!(*outcome, FailureOutcome::RolledBack);
            assert_eq!(
                *hint,
                Some(MigrationHint::LockRetriesExhausted {
                    tries: 3,
                    lock_timeout_ms: 200
                })
            );
        }
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    for words in [
        "each of its 3 tries waited 200ms (its lock_timeout)",
        "the database is as it was before it",
        "Config::lock_retries",
        "-- lock_timeout:",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }

    let mut oracle = t.oracle();
    assert_eq!(tries_of_note(&mut oracle), retried(3));
    let details = retried_details(&mut oracle);
    assert!(
        details[2].contains("gave up") || t.kind == Kind::Mysql,
        "{details:?}"
    );
    assert!(!has_note(&mut oracle), "nothing half applied");
    assert_eq!(oracle.rows("alembic_version"), [CREATE]);
    // Once the lock is free, the next run applies it: nothing was left open.
    m.upgrade(&mut db, "heads").unwrap();
    assert!(has_note(&mut oracle));
    assert_eq!(oracle.rows("alembic_version"), [NOTE]);
}

#[cfg(feature = "postgres")]
mod postgres {
    use crate::support::{run, Kind};

    #[test]
    fn waits_retries_and_succeeds_once_the_lock_is_released() {
        run(
            Kind::Postgres,
            "timeouts_retry",
            super::waits_retries_and_succeeds_once_the_lock_is_released,
        );
    }

    #[test]
    fn gives_up_after_the_last_try_with_nothing_applied() {
        run(
            Kind::Postgres,
            "timeouts_give_up",
            super::gives_up_after_the_last_try_with_nothing_applied,
        );
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use crate::support::{run, Kind};

    #[test]
    fn waits_retries_and_succeeds_once_the_lock_is_released() {
        run(
            Kind::Mysql,
            "timeouts_retry",
            super::waits_retries_and_succeeds_once_the_lock_is_released,
        );
    }

    #[test]
    fn gives_up_after_the_last_try_with_nothing_applied() {
        run(
            Kind::Mysql,
            "timeouts_give_up",
            super::gives_up_after_the_last_try_with_nothing_applied,
        );
    }
}

#[test]
fn sqlite_ignores_the_timeouts() {
    let Some(t) = TestDb::create(Kind::Sqlite, "timeouts_sqlite") else {
        return;
    };
    let m = migrator("timeouts", config(0));
    let mut db = t.connect();
    let report = m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(report.rows_after, [NOTE]);
}

#[test]
fn a_zero_timeout_in_the_config_is_refused() {
    for config in [
        Config {
            ddl_lock_timeout: Some(Duration::ZERO),
            ..Config::default()
        },
        Config {
            statement_timeout: Some(Duration::ZERO),
            ..Config::default()
        },
    ] {
        let set =
            alembix_runtime::core::MigrationSet::from_sources(&[], &Default::default()).unwrap();
        let refused = alembix_runtime::Migrator::new(set, config);
        assert!(
            matches!(&refused, Err(Error::Unsupported(m)) if m.contains("is zero")),
            "{refused:?}"
        );
    }
}

#[test]
fn offline_scripts_set_the_timeouts_around_the_migration() {
    use alembix_runtime::{Dialect, OfflineCommand};
    let m = migrator("timeouts", config(3));
    let pg = m
        .offline_sql(Dialect::Postgres, OfflineCommand::Upgrade("heads"))
        .unwrap();
    let step = pg
        .split("-- Running upgrade f1f1f1f1f1f1 -> f2f2f2f2f2f2")
        .nth(1)
        .unwrap();
    assert!(
        step.starts_with(
            "\n\nSET LOCAL lock_timeout = 200;\n\nSET LOCAL statement_timeout = 30000;\n\nALTER TABLE guarded ADD COLUMN note"
        ),
        "{step}"
    );
    // Only the migration with the header gets them.
    assert_eq!(pg.matches("SET LOCAL").count(), 2, "{pg}");
    let mysql = m
        .offline_sql(Dialect::Mysql, OfflineCommand::Upgrade("heads"))
        .unwrap();
    let step = mysql
        .split("-- Running upgrade f1f1f1f1f1f1 -> f2f2f2f2f2f2")
        .nth(1)
        .unwrap();
    assert!(
        step.starts_with(
            "\n\nSET SESSION lock_wait_timeout = 1, SESSION innodb_lock_wait_timeout = 1;\n\nSET SESSION max_statement_time = 30.000;\n\nALTER TABLE guarded ADD COLUMN note"
        ),
        "{step}"
    );
    assert!(
        step.contains("UPDATE guarded SET note = 'noted';\n\nSET SESSION lock_wait_timeout = DEFAULT, SESSION innodb_lock_wait_timeout = DEFAULT;\n\nSET SESSION max_statement_time = DEFAULT;"),
        "{step}"
    );
    // The configuration's timeouts apply where a header is silent.
    let configured = migrator(
        "timeouts",
        Config {
            ddl_lock_timeout: Some(Duration::from_secs(5)),
            ..config(3)
        },
    );
    let pg = configured
        .offline_sql(Dialect::Postgres, OfflineCommand::Upgrade("heads"))
        .unwrap();
    assert!(pg.contains("SET LOCAL lock_timeout = 5000;"), "{pg}");
    assert!(pg.contains("SET LOCAL lock_timeout = 200;"), "{pg}");
}

/// A history: `guarded` created, then `second` with `header` lines and `upgrade`.
fn history_with(header: &str, upgrade: &str, config: Config) -> alembix_runtime::Migrator {
    use alembix_runtime::core::SourceFile;
    let create = SourceFile {
        name: "f1f1f1f1f1f1.sql".to_string(),
        text: "-- revision: f1f1f1f1f1f1\n-- down_revision: none\n\n-- migrate:upgrade\nCREATE TABLE guarded (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\nINSERT INTO guarded (id, name) VALUES (1, 'ada');\n\n-- migrate:downgrade\nDROP TABLE guarded;\n".to_string(),
    };
    let second = SourceFile {
        name: format!("{NOTE}.sql"),
        text: format!(
            "-- revision: {NOTE}\n-- down_revision: f1f1f1f1f1f1\n{header}\n\n-- migrate:upgrade\n{upgrade}\n\n-- migrate:downgrade\n-- nothing to revert\n"
        ),
    };
    crate::support::migrator_of(&[create, second], config)
}

/// PostgreSQL, `-- transaction: none`: the `SET` is session-level, and the
/// step is retried because its first statement is the one that timed out.
#[cfg(feature = "postgres")]
#[test]
fn postgres_retries_a_step_outside_a_transaction_when_nothing_ran() {
    let Some(t) = TestDb::create(Kind::Postgres, "timeouts_no_tx") else {
        return;
    };
    let m = history_with(
        "-- transaction: none\n-- lock_timeout: 200ms",
        "CREATE INDEX CONCURRENTLY guarded_name ON guarded (name);",
        config(20),
    );
    let mut db = t.connect();
    m.upgrade(&mut db, CREATE).unwrap();
    let holder = hold_guarded(&t);
    let release = std::thread::spawn(move || {
        let mut holder = holder;
        std::thread::sleep(Duration::from_millis(1000));
        holder.exec("COMMIT");
    });
    let report = m.upgrade(&mut db, "heads");
    release.join().unwrap();
    assert_eq!(report.unwrap().rows_after, [NOTE]);
    let mut oracle = t.oracle();
    let tries = tries_of_note(&mut oracle);
    let (last, before) = tries.split_last().unwrap();
    assert!(!before.is_empty(), "it waited: {tries:?}");
    assert_eq!(before, retried(before.len()));
    assert_eq!(last, &("upgrade".to_string(), "applied".to_string()));
    assert_eq!(
        oracle.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'guarded_name' AND i.indisvalid"),
        1
    );
}

/// One transaction around the whole run: the step's `SET LOCAL` bounds its
/// statements, and a timeout fails the run (rolled back whole, no retry).
#[cfg(feature = "postgres")]
#[test]
fn postgres_whole_run_bounds_each_step_without_retrying() {
    let Some(t) = TestDb::create(Kind::Postgres, "timeouts_whole_run") else {
        return;
    };
    let whole_run = Config {
        transaction: alembix_runtime::RunTransaction::WholeRun,
        ..config(5)
    };
    let m = migrator("timeouts", whole_run);
    let mut db = t.connect();
    m.upgrade(&mut db, CREATE).unwrap();
    let mut holder = hold_guarded(&t);
    let started = Instant::now();
    let error = m.upgrade(&mut db, "heads").unwrap_err();
    holder.exec("COMMIT");
    assert!(started.elapsed() < Duration::from_secs(5), "{error}");
    assert!(error.to_string().contains("lock timeout"), "{error}");
    let mut oracle = t.oracle();
    assert!(tries_of_note(&mut oracle).is_empty());
    assert!(!has_note(&mut oracle));
    assert_eq!(oracle.rows("alembic_version"), [CREATE]);
    assert_eq!(m.upgrade(&mut db, "heads").unwrap().rows_after, [NOTE]);
}

/// MySQL/MariaDB: DDL commits as it goes, so a timeout after the first
/// statement is not retried: the step is recorded `failed` as any failure.
#[cfg(feature = "mysql")]
#[test]
fn mysql_does_not_retry_after_the_first_statement() {
    let Some(t) = TestDb::create(Kind::Mysql, "timeouts_later") else {
        return;
    };
    let m = history_with(
        "-- lock_timeout: 200ms",
        "CREATE TABLE beside (id INTEGER PRIMARY KEY);\nALTER TABLE guarded ADD COLUMN note VARCHAR(100);",
        config(5),
    );
    let mut db = t.connect();
    m.upgrade(&mut db, CREATE).unwrap();
    let mut holder = hold_guarded(&t);
    let error = m.upgrade(&mut db, "heads").unwrap_err();
    holder.exec("COMMIT");
    match &error {
        Error::Migration {
            statement,
            outcome,
            hint,
            ..
        } => {
            assert_eq!(*statement, 2);
            assert_eq!(*outcome, FailureOutcome::RecordedFailed);
            assert_eq!(*hint, None);
        }
        other => panic!("{other:?}"),
    }
    let mut oracle = t.oracle();
    assert_eq!(
        tries_of_note(&mut oracle),
        [("upgrade".to_string(), "failed".to_string())]
    );
}

/// The first migration on a database new to the runtime: the tables it
/// would create in its transaction are rolled back with each try, so the
/// first `retried` row creates them on its own.
#[cfg(feature = "postgres")]
#[test]
fn postgres_retries_the_first_migration_of_a_new_database() {
    use alembix_runtime::core::SourceFile;
    let Some(t) = TestDb::create(Kind::Postgres, "timeouts_first") else {
        return;
    };
    let mut oracle = t.oracle();
    oracle.exec("CREATE TABLE guarded (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)");
    oracle.exec("INSERT INTO guarded (id, name) VALUES (1, 'ada')");
    let only = SourceFile {
        name: format!("{NOTE}.sql"),
        text: format!(
            "-- revision: {NOTE}\n-- down_revision: none\n-- lock_timeout: 200ms\n\n-- migrate:upgrade\nALTER TABLE guarded ADD COLUMN note VARCHAR(100);\n\n-- migrate:downgrade\nALTER TABLE guarded DROP COLUMN note;\n"
        ),
    };
    let m = crate::support::migrator_of(&[only], config(20));
    let holder = hold_guarded(&t);
    let release = std::thread::spawn(move || {
        let mut holder = holder;
        std::thread::sleep(Duration::from_millis(800));
        holder.exec("COMMIT");
    });
    let mut db = t.connect();
    let report = m.upgrade(&mut db, "heads");
    release.join().unwrap();
    assert_eq!(report.unwrap().rows_after, [NOTE]);
    let tries = tries_of_note(&mut oracle);
    let (last, before) = tries.split_last().unwrap();
    assert!(!before.is_empty(), "it waited: {tries:?}");
    assert_eq!(before, retried(before.len()));
    assert_eq!(last, &("upgrade".to_string(), "applied".to_string()));
    assert!(has_note(&mut oracle));
}
