//! Failing closed and staying consistent: SQL errors mid-migration, drift,
//! ahead/diverged databases, non-transactional migrations, lock timeouts, repair.

use crate::support::{migration, migrator_of, Kind, TestDb};
use alembix_runtime::core::SourceFile;
use alembix_runtime::{
    AheadPolicy, Config, Error, FailureOutcome, RepairAction, RunTransaction, StampMode, Standing,
};
use std::time::Duration;

const F1: &str = "f1f1f1f1f1f1";
const F2: &str = "f2f2f2f2f2f2";
const F3: &str = "f3f3f3f3f3f3";

fn base() -> SourceFile {
    migration(
        F1,
        "none",
        "CREATE TABLE base_t (id INTEGER PRIMARY KEY);",
        "DROP TABLE base_t;",
    )
}

fn five_statements(third: &str) -> SourceFile {
    migration(
        F2,
        F1,
        &format!(
            "CREATE TABLE t2a (id INTEGER PRIMARY KEY);\nINSERT INTO base_t (id) VALUES (1);\n{third};\nCREATE TABLE t2b (id INTEGER PRIMARY KEY);\nINSERT INTO base_t (id) VALUES (2);"
        ),
        "DROP TABLE t2b;\nDELETE FROM base_t;\nDROP TABLE t2a;",
    )
}

fn sql_error_in_statement_3_of_5(t: &TestDb) {
    let m = migrator_of(
        &[
            base(),
            five_statements("INSERT INTO no_such_table (id) VALUES (1)"),
        ],
        Config::default(),
    );
    let mut db = t.connect();
    let err = m.upgrade(&mut db, "heads").unwrap_err();
    let text = err.to_string();
    let Error::Migration {
        revision,
        file,
        statement,
        statement_count,
        line,
        outcome,
        ..
    } = &err
    else {
        panic!("expected a migration error, got {err:?}");
    };
    assert_eq!(revision, F2);
    assert_eq!(file, &format!("{F2}.sql"));
    assert_eq!((*statement, *statement_count, *line), (3, 5, 8));
    // The partial report: F1 committed before F2 failed, and stays.
    let Error::Migration { partial, .. } = &err else {
        unreachable!()
    };
    assert_eq!(partial.revisions(), vec![F1]);
    assert_eq!(partial.rows_after, vec![F1.to_string()]);
    assert!(
        text.contains(&format!(
            "before it, this run applied 1 migration(s), which stay applied: {F1}"
        )),
        "{text}"
    );
    assert!(
        text.contains(F2) && text.contains("statement 3 of 5") && text.contains(":8"),
        "{text}"
    );

    let mut o = t.oracle();
    assert_eq!(o.rows("alembic_version"), vec![F1]);
    if t.kind == Kind::Mysql {
        // DDL committed; the history says how far it got.
        assert_eq!(*outcome, FailureOutcome::RecordedFailed);
        assert!(
            text.contains("MySQL/MariaDB commit each DDL statement"),
            "{text}"
        );
        assert!(o.tables().contains(&"t2a".to_string()));
        assert_eq!(o.count("base_t"), 1);
        let history = m.applied_history(&mut db).unwrap();
        let last = history.last().unwrap();
        assert_eq!(
            (last.revision.as_str(), last.state.as_str()),
            (F2, "failed")
        );
        assert_eq!((last.statements_done, last.statements_total), (2, 5));
        assert!(last
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("no_such_table"));
        // Launch refuses until repaired; the lock was released (no hang).
        let quick = migrator_of(
            &[
                base(),
                five_statements("INSERT INTO no_such_table (id) VALUES (1)"),
            ],
            Config {
                lock_timeout: Duration::from_secs(2),
                ..Config::default()
            },
        );
        let again = quick.upgrade(&mut db, "heads").unwrap_err();
        assert!(matches!(again, Error::Unfinished(_)), "{again}");
        assert!(again.to_string().contains("repair"), "{again}");
        assert!(quick.is_up_to_date(&mut db).is_err());
        assert!(!quick.check(&mut db).unwrap().is_ok());

        // Undo by hand, record it, then a fixed binary runs.
        o.exec("DROP TABLE t2a");
        o.exec("DELETE FROM base_t");
        let repaired = quick
            .repair(
                &mut db,
                F2,
                RepairAction::RolledBack,
                "ops: dropped t2a and the row by hand",
            )
            .unwrap();
        assert_eq!(repaired.rows_after, vec![F1]);
        let fixed = migrator_of(&[base(), five_statements("SELECT 1")], Config::default());
        fixed.upgrade(&mut db, "heads").unwrap();
        assert_eq!(o.rows("alembic_version"), vec![F2]);
        let ops: Vec<String> = o
            .history("alembic_version_history")
            .into_iter()
            .map(|(r, op, st)| format!("{r} {op} {st}"))
            .collect();
        assert_eq!(
            ops,
            vec![
                format!("{F1} upgrade applied"),
                format!("{F2} upgrade failed"),
                format!("{F2} repair rolled_back"),
                format!("{F2} upgrade applied"),
            ]
        );
    } else {
        assert_eq!(*outcome, FailureOutcome::RolledBack);
        assert_eq!(o.user_tables(), vec!["base_t".to_string()]);
        assert_eq!(o.count("base_t"), 0);
        assert_eq!(o.history("alembic_version_history").len(), 1);
        // The lock was released in the same process: the next run does not hang.
        let quick = migrator_of(
            &[
                base(),
                five_statements("INSERT INTO no_such_table (id) VALUES (1)"),
            ],
            Config {
                lock_timeout: Duration::from_secs(2),
                ..Config::default()
            },
        );
        let again = quick.upgrade(&mut db, "heads").unwrap_err();
        assert!(matches!(again, Error::Migration { .. }), "{again}");
    }
}

fn repair_completed_applies_the_version_change(t: &TestDb) {
    if t.kind != Kind::Mysql {
        return; // Only non-transactional steps can be left failed; see the next test for PG/SQLite.
    }
    let m = migrator_of(
        &[
            base(),
            five_statements("INSERT INTO no_such_table (id) VALUES (1)"),
        ],
        Config::default(),
    );
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap_err();
    let mut o = t.oracle();
    // Finish the step by hand: the remaining statements, corrected.
    o.exec("CREATE TABLE t2b (id INTEGER PRIMARY KEY)");
    o.exec("INSERT INTO base_t (id) VALUES (2)");
    let err = m
        .repair(&mut db, F2, RepairAction::Completed, "  ")
        .unwrap_err();
    assert!(
        matches!(err, Error::Repair(_)),
        "a reason is required: {err}"
    );
    m.repair(
        &mut db,
        F2,
        RepairAction::Completed,
        "ops: ran statements 3-5 by hand",
    )
    .unwrap();
    assert_eq!(o.rows("alembic_version"), vec![F2]);
    let history = m.applied_history(&mut db).unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.operation.as_str(), last.state.as_str()),
        ("repair", "applied")
    );
    assert!(last
        .detail
        .as_deref()
        .unwrap_or("")
        .contains("statements 3-5"));
    // Nothing left to repair; the binary is now up to date.
    assert!(matches!(
        m.repair(&mut db, F2, RepairAction::Completed, "again"),
        Err(Error::Repair(_))
    ));
    assert!(m.is_up_to_date(&mut db).unwrap());
}

fn non_transactional_migration(t: &TestDb) {
    let index = if t.kind == Kind::Postgres {
        "CREATE INDEX CONCURRENTLY base_t_id ON base_t (id)"
    } else {
        "CREATE INDEX base_t_id ON base_t (id)"
    };
    let mut nontx = migration(F2, F1, &format!("{index};"), "DROP TABLE base_t;");
    nontx.text = nontx
        .text
        .replace("-- message:", "-- transaction: none\n-- message:");
    let m = migrator_of(&[base(), nontx.clone()], Config::default());
    let mut db = t.connect();
    let report = m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(report.revisions(), vec![F1, F2]);
    let mut o = t.oracle();
    assert_eq!(o.rows("alembic_version"), vec![F2]);
    let history = o.history("alembic_version_history");
    assert_eq!(history.last().unwrap().2, "applied");
    if t.kind == Kind::Postgres {
        let valid = o.number(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'base_t_id' AND i.indisvalid",
        );
        assert_eq!(valid, 1);
    }
    if t.kind != Kind::Mysql {
        // The whole-run mode refuses it before applying anything.
        let t2 = TestDb::create(t.kind, "non_transactional_whole_run").unwrap();
        let whole = migrator_of(
            &[base(), nontx],
            Config {
                transaction: RunTransaction::WholeRun,
                ..Config::default()
            },
        );
        let mut db2 = t2.connect();
        let err = whole.upgrade(&mut db2, "heads").unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert!(t2.oracle().user_tables().is_empty());
    }
}

fn drift_is_refused_but_crlf_and_bom_are_not_drift(t: &TestDb) {
    let third = migration(
        F3,
        F2,
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t3;",
    );
    let original = five_statements("SELECT 1");
    let m = migrator_of(&[base(), original.clone()], Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();

    // Re-saved with CRLF and a BOM: same checksum, the next migration runs.
    let mut crlf = original.clone();
    crlf.text = format!("\u{feff}{}", original.text.replace('\n', "\r\n"));
    let resaved = migrator_of(&[base(), crlf, third.clone()], Config::default());
    assert_eq!(
        resaved.upgrade(&mut db, "heads").unwrap().revisions(),
        vec![F3]
    );

    // Edited: refused, both checksums shown, nothing applied.
    let mut edited = original;
    edited.text = edited.text.replace("SELECT 1", "SELECT 2");
    let fourth = migration(
        "f4f4f4f4f4f4",
        F3,
        "CREATE TABLE t4 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t4;",
    );
    let changed = migrator_of(&[base(), edited, third, fourth], Config::default());
    let mut o = t.oracle();
    let before = o.history("alembic_version_history");
    let err = changed.upgrade(&mut db, "heads").unwrap_err();
    let Error::Drift(drift) = &err else {
        panic!("expected drift, got {err}");
    };
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].revision, F2);
    assert_ne!(drift[0].recorded, drift[0].current);
    let text = err.to_string();
    assert!(
        text.contains(&drift[0].recorded) && text.contains(&drift[0].current),
        "{text}"
    );
    assert!(!o.tables().contains(&"t4".to_string()));
    assert_eq!(o.history("alembic_version_history"), before);
    assert!(changed.is_up_to_date(&mut db).is_err());
    assert_eq!(changed.check(&mut db).unwrap().drift.len(), 1);
}

fn ahead_and_diverged_are_told_apart(t: &TestDb) {
    let third = migration(
        F3,
        F2,
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t3;",
    );
    let second = five_statements("SELECT 1");
    let newer = migrator_of(&[base(), second.clone(), third], Config::default());
    let mut db = t.connect();
    newer.upgrade(&mut db, "heads").unwrap();
    let mut o = t.oracle();
    let history = o.history("alembic_version_history");

    // An older binary (F1, F2): ahead.
    let older = migrator_of(&[base(), second.clone()], Config::default());
    let err = older.upgrade(&mut db, "heads").unwrap_err();
    assert!(
        matches!(&err, Error::DatabaseAhead { unknown } if unknown == &vec![F3.to_string()]),
        "{err}"
    );
    assert!(err.to_string().contains("ahead"));
    assert!(matches!(
        older.check(&mut db).unwrap().standing,
        Standing::Ahead { .. }
    ));
    let tolerant = migrator_of(
        &[base(), second.clone()],
        Config {
            when_ahead: AheadPolicy::Allow,
            ..Config::default()
        },
    );
    assert!(tolerant.upgrade(&mut db, "heads").unwrap().is_empty());
    assert!(tolerant.is_up_to_date(&mut db).unwrap());

    // A binary that went another way after F2: diverged.
    let other = migration(
        "f9f9f9f9f9f9",
        F2,
        "CREATE TABLE t9 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t9;",
    );
    let sideways = migrator_of(&[base(), second, other], Config::default());
    let err = sideways.upgrade(&mut db, "heads").unwrap_err();
    assert!(
        matches!(&err, Error::DatabaseDiverged { unknown, fork } if unknown == &vec![F3.to_string()] && fork.as_deref() == Some(F2)),
        "{err}"
    );
    assert!(err.to_string().contains("diverged"));
    assert!(!o.tables().contains(&"t9".to_string()));
    assert_eq!(o.history("alembic_version_history"), history);

    // A row nobody recorded: unknown.
    o.exec("INSERT INTO alembic_version (version_num) VALUES ('ffffffffffff')");
    let err = newer.upgrade(&mut db, "heads").unwrap_err();
    assert!(matches!(err, Error::UnknownRevisions { .. }), "{err}");
    // The hint's command is the one that works: a plain stamp is refused
    // the same way, `stamp --purge` replaces the rows.
    assert!(
        err.to_string()
            .contains("`Migrator::stamp(&mut db, &[\"REVISION\"], StampMode::Purge)`"),
        "{err}"
    );
    let plain = newer
        .stamp(&mut db, &[F1], StampMode::Keep)
        .expect_err("a plain stamp keeps the unknown row");
    assert!(matches!(plain, Error::UnknownRevisions { .. }), "{plain}");
    newer
        .stamp(&mut db, &[F1], StampMode::Purge)
        .expect("stamp --purge replaces the rows");
    assert_eq!(o.rows("alembic_version"), vec![F1.to_string()]);
}

fn lock_timeout_names_the_holder(t: &TestDb) {
    let m = migrator_of(
        &[base()],
        Config {
            lock_timeout: Duration::from_millis(1500),
            ..Config::default()
        },
    );
    let holder = crate::support::hold_run_lock(t);
    let mut db = t.connect();
    let started = std::time::Instant::now();
    let err = m.upgrade(&mut db, "heads").unwrap_err();
    let Error::LockTimeout { holder: who, .. } = &err else {
        panic!("expected a lock timeout, got {err}");
    };
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    match t.kind {
        Kind::Postgres => assert!(who.contains("pid "), "{who}"),
        Kind::Mysql => assert!(who.contains("connection id "), "{who}"),
        Kind::Sqlite => assert!(who.contains("another connection"), "{who}"),
    }
    // Once the holder lets go, the same migrator proceeds.
    drop(holder);
    m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(t.oracle().rows("alembic_version"), vec![F1]);
}

fn irreversible_downgrade_runs_nothing(t: &TestDb) {
    let mut second = migration(F2, F1, "CREATE TABLE t2 (id INTEGER PRIMARY KEY);", "");
    second.text = second
        .text
        .replace("-- migrate:downgrade\n", "-- migrate:irreversible\n");
    let m = migrator_of(&[base(), second], Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    let err = m.downgrade(&mut db, "base").unwrap_err();
    assert!(matches!(err, Error::Irreversible { .. }), "{err}");
    assert_eq!(t.oracle().rows("alembic_version"), vec![F2]);
}

/// A step left in progress (a process killed mid-way) blocks every run until
/// it is repaired; the error says what to do.
fn in_progress_row_blocks_until_repaired(t: &TestDb) {
    let config = Config {
        lock_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let m = migrator_of(&[base(), five_statements("SELECT 1")], config);
    let mut db = t.connect();
    m.upgrade(&mut db, F1).unwrap();
    let mut o = t.oracle();
    o.exec(&format!(
        "INSERT INTO alembic_version_history (revision, down_revisions, depends_on, operation, state, checksum, statements_done, statements_total, tool) VALUES ('{F2}', '{F1}', '', 'upgrade', 'in_progress', 'sha256:00', 2, 5, 'test')"
    ));
    let err = m.upgrade(&mut db, "heads").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Unfinished(_)), "{text}");
    assert!(
        text.contains(F2) && text.contains("2 of 5") && text.contains("repair"),
        "{text}"
    );
    assert!(!m.is_up_to_date(&mut db).is_ok_and(|ok| ok));
    assert_eq!(o.rows("alembic_version"), vec![F1]);
    m.repair(
        &mut db,
        F2,
        RepairAction::RolledBack,
        "test: nothing had run",
    )
    .unwrap();
    assert_eq!(m.upgrade(&mut db, "heads").unwrap().revisions(), vec![F2]);
    assert!(m.is_up_to_date(&mut db).unwrap());
}

/// The statement that failed is named however the backend sends them (on
/// PostgreSQL the only statement travels with the version-table change, and
/// statements after the first travel together).
fn sql_error_is_named(t: &TestDb, upgrade: &str, count: usize) {
    let m = migrator_of(
        &[base(), migration(F2, F1, upgrade, "SELECT 1;")],
        Config::default(),
    );
    let mut db = t.connect();
    let err = m.upgrade(&mut db, "heads").unwrap_err();
    let Error::Migration {
        revision,
        statement,
        statement_count,
        message,
        ..
    } = &err
    else {
        panic!("expected a migration error, got {err:?}");
    };
    assert_eq!(
        (revision.as_str(), *statement, *statement_count),
        (F2, 1, count)
    );
    assert!(message.contains("no_such_table"), "{message}");
    let mut o = t.oracle();
    assert_eq!(o.rows("alembic_version"), vec![F1]);
    if t.kind != Kind::Mysql {
        assert!(!o.tables().contains(&"t2a".to_string()), "rolled back");
    }
}

fn sql_error_in_the_only_statement(t: &TestDb) {
    sql_error_is_named(t, "INSERT INTO no_such_table (id) VALUES (1);", 1);
}

fn sql_error_in_the_first_of_three(t: &TestDb) {
    sql_error_is_named(
        t,
        "INSERT INTO no_such_table (id) VALUES (1);\nCREATE TABLE t2a (id INTEGER PRIMARY KEY);\nCREATE TABLE t2b (id INTEGER PRIMARY KEY);",
        3,
    );
}

/// On a database new to the runtime, SQLite and PostgreSQL create the version
/// and history tables in the first migration's transaction: when that
/// migration fails, nothing is left behind, not even empty tables (MySQL,
/// whose DDL commits, creates them first). Fixed, the next run applies it.
fn failing_first_migration_leaves_a_new_database_as_it_was(t: &TestDb) {
    for transaction in [RunTransaction::PerMigration, RunTransaction::WholeRun] {
        if t.kind == Kind::Mysql && transaction == RunTransaction::WholeRun {
            continue;
        }
        let config = Config {
            transaction,
            ..Config::default()
        };
        let broken = migration(
            F1,
            "none",
            "CREATE TABLE first_t (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table (id) VALUES (1);",
            "DROP TABLE first_t;",
        );
        let mut db = t.connect();
        let err = migrator_of(&[broken], config.clone())
            .upgrade(&mut db, "heads")
            .unwrap_err();
        let Error::Migration {
            revision,
            statement,
            message,
            ..
        } = &err
        else {
            panic!("expected a migration error, got {err:?}");
        };
        assert_eq!((revision.as_str(), *statement), (F1, 2), "{transaction:?}");
        assert!(message.contains("no_such_table"), "{message}");
        let mut o = t.oracle();
        if t.kind == Kind::Mysql {
            // The tables came first; the half-applied step is recorded as failed.
            assert!(o.tables().contains(&"alembic_version".to_string()));
            assert!(o.rows("alembic_version").is_empty());
            return;
        }
        assert_eq!(o.tables(), Vec::<String>::new(), "{transaction:?}");

        let m = migrator_of(&[base()], config);
        assert_eq!(m.upgrade(&mut db, "heads").unwrap().revisions(), vec![F1]);
        assert_eq!(o.rows("alembic_version"), vec![F1]);
        let history = m.applied_history(&mut db).unwrap();
        assert_eq!(history.len(), 1, "{transaction:?}");
        assert_eq!(history[0].revision, F1);
        m.downgrade(&mut db, "base").unwrap();
        for table in ["first_t", "base_t"] {
            assert!(!o.tables().contains(&table.to_string()), "{table}");
        }
        drop(o);
        reset_tables(t);
    }
}

/// A run with nothing to apply still leaves both tables behind, as Alembic
/// leaves its version table.
fn empty_run_creates_the_tables(t: &TestDb) {
    let m = migrator_of(&[base()], Config::default());
    let mut db = t.connect();
    assert!(m.upgrade(&mut db, "base").unwrap().steps.is_empty());
    let tables = t.oracle().tables();
    for table in ["alembic_version", "alembic_version_history"] {
        assert!(tables.contains(&table.to_string()), "{table}: {tables:?}");
    }
    assert_eq!(m.upgrade(&mut db, "heads").unwrap().revisions(), vec![F1]);
}

/// Drops the version and history tables, so that the next run finds the
/// database new to the runtime again.
fn reset_tables(t: &TestDb) {
    let mut o = t.oracle();
    for table in ["alembic_version", "alembic_version_history"] {
        if o.tables().contains(&table.to_string()) {
            let quoted = o.quote(table);
            o.exec(&format!("DROP TABLE {quoted}"));
        }
    }
}

/// PostgreSQL checks, in the round trip that changes it, that the version
/// table holds exactly the rows the step leads to: a row another writer added
/// (here: the migration itself) fails the step, and nothing is committed.
#[cfg(feature = "postgres")]
#[test]
fn postgres_refuses_a_version_row_it_did_not_write() {
    crate::support::run(
        Kind::Postgres,
        "postgres_refuses_a_version_row_it_did_not_write",
        |t| {
            for upgrade in [
            "INSERT INTO alembic_version (version_num) VALUES ('e0e0e0e0e0e0')",
            "CREATE TABLE t2a (id INTEGER PRIMARY KEY);\nINSERT INTO alembic_version (version_num) VALUES ('e0e0e0e0e0e0');\nCREATE TABLE t2b (id INTEGER PRIMARY KEY)",
        ] {
            let m = migrator_of(&[base(), migration(F2, F1, upgrade, "SELECT 1;")], Config::default());
            let mut db = t.connect();
            let err = m.upgrade(&mut db, "heads").unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, Error::VersionTable(_)), "{err:?}");
            assert!(text.contains("e0e0e0e0e0e0") && text.contains("Another process changed the version table"), "{text}");
            let mut o = t.oracle();
            assert_eq!(o.rows("alembic_version"), vec![F1]);
            assert!(!o.tables().contains(&"t2a".to_string()), "rolled back");
        }
        },
    );
}

crate::on_all_backends!(
    in_progress_row_blocks_until_repaired,
    sql_error_in_statement_3_of_5,
    sql_error_in_the_only_statement,
    sql_error_in_the_first_of_three,
    failing_first_migration_leaves_a_new_database_as_it_was,
    empty_run_creates_the_tables,
    repair_completed_applies_the_version_change,
    non_transactional_migration,
    drift_is_refused_but_crlf_and_bom_are_not_drift,
    ahead_and_diverged_are_told_apart,
    lock_timeout_names_the_holder,
    irreversible_downgrade_runs_nothing,
);

/// PostgreSQL's `DETAIL` (which key was duplicated) reaches the error, both
/// from a migration in a transaction and from one outside it.
#[cfg(feature = "postgres")]
#[test]
fn postgres_errors_carry_the_detail() {
    crate::support::run(Kind::Postgres, "postgres_errors_carry_the_detail", |t| {
        for mode in ["per-migration", "none"] {
            let failing = SourceFile {
                name: format!("{F2}.sql"),
                text: format!(
                    "-- revision: {F2}\n-- down_revision: {F1}\n-- message: duplicate\n-- transaction: {mode}\n\n-- migrate:upgrade\nINSERT INTO base_t (id) VALUES (7);\nINSERT INTO base_t (id) VALUES (7);\n\n-- migrate:downgrade\nDELETE FROM base_t;\n"
                ),
            };
            let m = migrator_of(&[base(), failing], Config::default());
            let mut db = t.connect();
            m.upgrade(&mut db, F1).expect("base applies");
            let err = m.upgrade(&mut db, "heads").unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, Error::Migration { statement: 2, .. }),
                "{mode}: {err:?}"
            );
            assert!(
                text.contains("DETAIL: Key (id)=(7) already exists."),
                "{mode}: {text}"
            );
            // The cause of a step outside a transaction is the file's mode.
            assert_eq!(
                text.contains("the file is marked `-- transaction: none`"),
                mode == "none",
                "{mode}: {text}"
            );
            assert!(!text.contains("MySQL"), "{mode}: {text}");
            if mode == "none" {
                m.repair(&mut db, F2, RepairAction::RolledBack, "test")
                    .expect("repair");
                t.oracle().exec("DELETE FROM base_t");
            }
            m.downgrade(&mut db, "base").expect("back to base");
        }
    });
}
