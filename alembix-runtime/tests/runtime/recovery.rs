//! The audited ways out of a refused launch, run end to end on each backend:
//! resuming a step that failed outside a transaction (MySQL/MariaDB DDL, and
//! `-- transaction: none` files on PostgreSQL and SQLite), accepting a
//! deliberate edit of an applied migration, and `stamp` refusing while a step
//! is unfinished. The database is checked directly.

use crate::support::{migration, migrator_of, Kind, TestDb};
use alembix_runtime::core::{SourceFile, SqlDialect};
use alembix_runtime::{Config, Error, FailureOutcome, Migrator, RepairAction, StampMode};

const F1: &str = "f1f1f1f1f1f1";
const F2: &str = "f2f2f2f2f2f2";
const F3: &str = "f3f3f3f3f3f3";

crate::on_all_backends!(
    resume_runs_the_statements_that_did_not_run,
    resume_refuses_what_it_cannot_line_up,
    resume_finishes_a_failed_downgrade,
    accept_edit_lets_an_edited_migration_launch,
    stamp_refuses_while_a_step_is_unfinished,
    stamp_over_drift_does_not_hide_it,
);

fn base() -> SourceFile {
    migration(
        F1,
        "none",
        "CREATE TABLE base_t (id INTEGER PRIMARY KEY);",
        "DROP TABLE base_t;",
    )
}

/// Five statements; the third writes to `later_t`, which does not exist
/// until the operator creates it. Outside a transaction everywhere: on
/// MySQL/MariaDB because its DDL commits, elsewhere by the file's header.
fn five_statements(t: &TestDb, third: &str) -> SourceFile {
    let mut file = migration(
        F2,
        F1,
        &format!(
            "CREATE TABLE t2a (id INTEGER PRIMARY KEY);\nINSERT INTO base_t (id) VALUES (1);\n{third};\nCREATE TABLE t2b (id INTEGER PRIMARY KEY);\nINSERT INTO base_t (id) VALUES (2);"
        ),
        "DROP TABLE t2b;\nDELETE FROM base_t;\nDROP TABLE t2a;",
    );
    if t.kind != Kind::Mysql {
        file.text = file
            .text
            .replace("-- message:", "-- transaction: none\n-- message:");
    }
    file
}

fn third() -> SourceFile {
    migration(
        F3,
        F2,
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t3;",
    )
}

fn failing(t: &TestDb) -> Migrator {
    migrator_of(
        &[
            base(),
            five_statements(t, "INSERT INTO later_t (id) VALUES (1)"),
        ],
        Config::default(),
    )
}

fn history(t: &TestDb) -> Vec<String> {
    t.oracle()
        .history("alembic_version_history")
        .into_iter()
        .map(|(r, op, st)| format!("{r} {op} {st}"))
        .collect()
}

/// Issue 20 item 11: after statement 3 of 5 failed outside a transaction
/// and the operator fixed its cause, `resume` runs statements 3 to 5, records
/// progress as a run does, and the step ends applied by a `resume` row; a
/// resumption that fails again is recorded as such and can be resumed again.
fn resume_runs_the_statements_that_did_not_run(t: &TestDb) {
    let m = failing(t);
    let mut db = t.connect();
    let err = m.upgrade(&mut db, "heads").unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Migration {
                statement: 3,
                statement_count: 5,
                outcome: FailureOutcome::RecordedFailed,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        text.contains(&format!(
            "fix what made statement 3 fail, then call `Migrator::resume(&mut db, \"{F2}\", reason)` to run statements 3 to 5; or finish or undo the statements by hand, then call `Migrator::repair(&mut db, \"{F2}\", RepairAction::Completed | RepairAction::RolledBack, reason)`"
        )),
        "{text}"
    );
    let refused = m.launch(&mut db).unwrap_err();
    assert!(matches!(refused, Error::Unfinished(_)), "{refused}");
    assert!(
        refused.to_string().contains(&format!(
            "call `Migrator::resume(&mut db, \"{F2}\", reason)` to run the statements that did not run"
        )),
        "{refused}"
    );

    // Resumed before the cause is fixed: it fails again, at the same
    // statement, and says so in a `resume` row.
    let again = m
        .resume(&mut db, F2, "ops: retry before the fix")
        .unwrap_err();
    assert!(
        matches!(
            again,
            Error::Migration {
                statement: 3,
                outcome: FailureOutcome::RecordedFailed,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(
        history(t),
        [
            format!("{F1} upgrade applied"),
            format!("{F2} upgrade failed"),
            format!("{F2} resume failed"),
        ]
    );

    // Fixed: statements 3 to 5 run, once each; the step is done.
    let mut o = t.oracle();
    o.exec("CREATE TABLE later_t (id INTEGER PRIMARY KEY)");
    let report = m
        .resume(&mut db, F2, "ops: created later_t, which statement 3 needs")
        .unwrap();
    assert_eq!(report.revisions(), vec![F2]);
    assert_eq!(report.steps[0].statements, 3);
    assert_eq!(report.rows_after, vec![F2.to_string()]);
    assert_eq!(o.rows("alembic_version"), vec![F2]);
    assert_eq!(
        o.count("base_t"),
        2,
        "statement 2 ran once, statement 5 once"
    );
    assert_eq!(o.count("later_t"), 1);
    assert!(o.tables().contains(&"t2b".to_string()));
    assert_eq!(
        history(t),
        [
            format!("{F1} upgrade applied"),
            format!("{F2} upgrade failed"),
            format!("{F2} resume failed"),
            format!("{F2} resume applied"),
        ]
    );
    let last = m.applied_history(&mut db).unwrap().pop().unwrap();
    assert_eq!((last.statements_done, last.statements_total), (5, 5));
    assert_eq!(
        last.detail.as_deref(),
        Some("resumed at statement 3 of 5: ops: created later_t, which statement 3 needs")
    );

    // The next launch passes, and a newer binary goes on from there.
    assert!(m.is_up_to_date(&mut db).unwrap());
    assert!(m.launch(&mut db).unwrap().is_empty());
    assert!(m.check(&mut db).unwrap().is_ok());
    let newer = migrator_of(
        &[
            base(),
            five_statements(t, "INSERT INTO later_t (id) VALUES (1)"),
            third(),
        ],
        Config::default(),
    );
    assert_eq!(newer.launch(&mut db).unwrap().revisions(), vec![F3]);
    // Nothing left to resume.
    let nothing = m.resume(&mut db, F2, "again").unwrap_err();
    assert!(
        matches!(&nothing, Error::Repair(text) if text.contains("nothing to resume")),
        "{nothing}"
    );
}

/// `resume` runs nothing when the statements it would run may not be the
/// ones that did not run: the file changed since, or the step ran in a
/// transaction (nothing of it stays); and it needs a failed step and a reason.
fn resume_refuses_what_it_cannot_line_up(t: &TestDb) {
    let m = failing(t);
    let mut db = t.connect();
    let err = m.resume(&mut db, F1, "ops").unwrap_err();
    assert!(
        matches!(&err, Error::Repair(text) if text.contains("has no history row")),
        "{err}"
    );
    m.upgrade(&mut db, "heads").unwrap_err();
    let err = m.resume(&mut db, F2, " ").unwrap_err();
    assert!(
        matches!(&err, Error::Repair(text) if text.contains("give a reason")),
        "{err}"
    );

    // The file was edited after the step failed: refused, both checksums named.
    let edited = migrator_of(
        &[
            base(),
            five_statements(t, "INSERT INTO base_t (id) VALUES (3)"),
        ],
        Config::default(),
    );
    let err = edited
        .resume(&mut db, F2, "ops: fixed the SQL")
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Repair(_)), "{err:?}");
    let recorded = m.set().unwrap().files()[1]
        .checksum(SqlDialect::Sqlite)
        .as_str()
        .to_string();
    let now = edited.set().unwrap().files()[1]
        .checksum(SqlDialect::Sqlite)
        .as_str()
        .to_string();
    assert!(
        text.contains(&format!(
            "revision {F2} ({F2}.sql) changed since its step ran: the step ran with {recorded}, the file now has {now}"
        )),
        "{text}"
    );
    let mut o = t.oracle();
    assert!(!o.tables().contains(&"t2b".to_string()), "nothing ran");
    assert_eq!(
        history(t),
        [
            format!("{F1} upgrade applied"),
            format!("{F2} upgrade failed")
        ]
    );

    // A migration that runs in a transaction leaves nothing to resume.
    if t.kind != Kind::Mysql {
        let mut transactional = five_statements(t, "INSERT INTO later_t (id) VALUES (1)");
        transactional.text = transactional.text.replace("-- transaction: none\n", "");
        let in_a_transaction = migrator_of(&[base(), transactional], Config::default());
        let err = in_a_transaction
            .resume(&mut db, F2, "ops")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "revision {F2} ({F2}.sql) runs in a transaction on {}",
                if t.kind == Kind::Postgres {
                    "postgresql"
                } else {
                    "sqlite"
                }
            )),
            "{err}"
        );
    }
    assert_eq!(o.rows("alembic_version"), vec![F1]);
}

/// A downgrade outside a transaction that failed at statement 2 of 3 is
/// resumed the same way: statements 2 and 3 run, the version table moves
/// down, and the `resume` row ends `reverted`.
fn resume_finishes_a_failed_downgrade(t: &TestDb) {
    let mut file = five_statements(t, "SELECT 1");
    file.text = file
        .text
        .replace("DELETE FROM base_t;", "DELETE FROM later_t;");
    let m = migrator_of(&[base(), file], Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    let err = m.downgrade(&mut db, F1).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Migration {
                statement: 2,
                statement_count: 3,
                outcome: FailureOutcome::RecordedFailed,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!(
            "call `Migrator::resume(&mut db, \"{F2}\", reason)` to run statements 2 to 3"
        )),
        "{err}"
    );
    let mut o = t.oracle();
    assert!(
        !o.tables().contains(&"t2b".to_string()),
        "statement 1 stays"
    );
    o.exec("CREATE TABLE later_t (id INTEGER PRIMARY KEY)");
    let report = m.resume(&mut db, F2, "ops: created later_t").unwrap();
    assert_eq!(report.steps[0].statements, 2);
    assert_eq!(report.rows_after, vec![F1.to_string()]);
    assert_eq!(o.rows("alembic_version"), vec![F1]);
    assert!(!o.tables().contains(&"t2a".to_string()));
    assert_eq!(
        history(t)[2..],
        [
            format!("{F2} downgrade failed"),
            format!("{F2} resume reverted"),
        ]
    );
    let check = m.check(&mut db).unwrap();
    assert!(check.is_ok() && check.unfinished.is_empty(), "{check:?}");
}

/// Issue 20 item 10: a comment added to an applied migration blocks every
/// launch as drift; `accept_edit` records the new checksum with the reason,
/// the next launch passes (and applies what comes after), `check` and
/// `current` show the accepted edit, and a revision without drift is refused.
fn accept_edit_lets_an_edited_migration_launch(t: &TestDb) {
    let ok = |statement| migration(F2, F1, statement, "DROP TABLE t2;");
    let applied = migrator_of(
        &[base(), ok("CREATE TABLE t2 (id INTEGER PRIMARY KEY);")],
        Config::default(),
    );
    let mut db = t.connect();
    applied.launch(&mut db).unwrap();
    let recorded = applied.set().unwrap().files()[1]
        .checksum(SqlDialect::Sqlite)
        .as_str()
        .to_string();

    let commented = migrator_of(
        &[
            base(),
            ok("-- t2 holds the second thing.\nCREATE TABLE t2 (id INTEGER PRIMARY KEY);"),
            third(),
        ],
        Config::default(),
    );
    let now = commented.set().unwrap().files()[1]
        .checksum(SqlDialect::Sqlite)
        .as_str()
        .to_string();
    assert_ne!(recorded, now, "a comment in the upgrade section is drift");
    let err = commented.launch(&mut db).unwrap_err();
    assert!(matches!(err, Error::Drift(_)), "{err:?}");
    assert!(
        err.to_string().contains(&format!(
            "If the edit is deliberate and changes nothing the database has (a comment, formatting), accept it: call `Migrator::accept_edit(&mut db, \"{F2}\", reason)`"
        )),
        "{err}"
    );

    // Only a revision that drifted can be accepted, and with a reason.
    let err = commented.accept_edit(&mut db, F1, "ops").unwrap_err();
    assert!(
        matches!(&err, Error::Repair(text) if text.contains(&format!("revision {F1} ({F1}.sql) has no drift"))),
        "{err}"
    );
    let err = commented.accept_edit(&mut db, F3, "ops").unwrap_err();
    assert!(
        matches!(&err, Error::Repair(text) if text.contains("is not applied to this database")),
        "{err}"
    );
    assert!(matches!(
        commented.accept_edit(&mut db, F2, ""),
        Err(Error::Repair(_))
    ));

    let report = commented
        .accept_edit(&mut db, F2, "ops: a comment explaining t2, no SQL changed")
        .unwrap();
    assert_eq!(report.revisions(), vec![F2]);
    assert_eq!(report.rows_after, vec![F2.to_string()]);
    let last = commented.applied_history(&mut db).unwrap().pop().unwrap();
    assert_eq!(
        (
            last.operation.as_str(),
            last.state.as_str(),
            last.checksum.as_str()
        ),
        ("accept", "applied", now.as_str())
    );
    assert_eq!(
        last.detail.as_deref(),
        Some(
            format!(
                "edit accepted: {recorded} -> {now}; reason: ops: a comment explaining t2, no SQL changed"
            )
            .as_str()
        )
    );

    // Shown by check and current; the next launch passes and goes on.
    let check = commented.check(&mut db).unwrap();
    assert!(check.drift.is_empty(), "{check:?}");
    assert_eq!(check.accepted_edits.len(), 1);
    let accepted = &check.accepted_edits[0];
    assert_eq!(
        (
            accepted.revision.as_str(),
            accepted.applied_with.as_str(),
            accepted.accepted.as_str(),
            accepted.reason.as_str()
        ),
        (
            F2,
            recorded.as_str(),
            now.as_str(),
            "ops: a comment explaining t2, no SQL changed"
        )
    );
    assert_eq!(
        accepted.to_string(),
        format!("{F2} ({F2}.sql): applied with {recorded}, its edited text accepted as {now}: ops: a comment explaining t2, no SQL changed")
    );
    assert_eq!(
        commented.current(&mut db).unwrap().accepted_edits,
        check.accepted_edits
    );
    assert_eq!(commented.launch(&mut db).unwrap().revisions(), vec![F3]);
    assert!(commented.is_up_to_date(&mut db).unwrap());
    assert_eq!(commented.check(&mut db).unwrap().accepted_edits.len(), 1);
    let err = commented.accept_edit(&mut db, F2, "again").unwrap_err();
    assert!(
        matches!(&err, Error::Repair(text) if text.contains("has no drift")),
        "{err}"
    );
    // The original binary now sees the accepted text as drift of its own.
    assert!(matches!(
        applied.is_up_to_date(&mut db),
        Err(Error::Drift(_)) | Err(Error::DatabaseAhead { .. })
    ));
    assert_eq!(t.oracle().rows("alembic_version"), vec![F3]);
}

/// Issue 20 item 12: `stamp` (plain or `--purge`) refuses while a step is
/// failed, on every backend, naming `repair`; nothing changes. Once the step
/// is repaired, it stamps.
fn stamp_refuses_while_a_step_is_unfinished(t: &TestDb) {
    let m = failing(t);
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap_err();
    let before = history(t);
    for mode in [StampMode::Keep, StampMode::Purge] {
        let err = m.stamp(&mut db, &[F2], mode).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Unfinished(_)), "{mode:?}: {err:?}");
        assert!(
            text.contains(&format!("failed upgrade of revision {F2}"))
                && text.contains("Migrator::repair"),
            "{mode:?}: {text}"
        );
        assert_eq!(t.oracle().rows("alembic_version"), vec![F1], "{mode:?}");
        assert_eq!(history(t), before, "{mode:?}");
    }
    let mut o = t.oracle();
    o.exec("CREATE TABLE later_t (id INTEGER PRIMARY KEY)");
    o.exec("INSERT INTO later_t (id) VALUES (1)");
    o.exec("CREATE TABLE t2b (id INTEGER PRIMARY KEY)");
    o.exec("INSERT INTO base_t (id) VALUES (2)");
    m.repair(
        &mut db,
        F2,
        RepairAction::Completed,
        "ops: ran statements 3 to 5 by hand",
    )
    .unwrap();
    m.stamp(&mut db, &[F1], StampMode::Keep).unwrap();
    assert_eq!(o.rows("alembic_version"), vec![F1]);
}

/// A stamp that would leave a drifted revision applied is refused as drift
/// (it would otherwise record the edited text as what ran, unaudited); a
/// stamp below the drifted revision, so that it runs again, is allowed and
/// writes no digest that would let a launch skip its checks.
fn stamp_over_drift_does_not_hide_it(t: &TestDb) {
    let second = migration(
        F2,
        F1,
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY);",
        "DROP TABLE t2;",
    );
    let first = migrator_of(&[base(), second.clone()], Config::default());
    let mut db = t.connect();
    first.launch(&mut db).unwrap();
    let mut edited = base();
    edited.text = edited.text.replace(
        "CREATE TABLE base_t",
        "-- edited after it ran\nCREATE TABLE base_t",
    );
    let m = migrator_of(&[edited, second, third()], Config::default());
    for targets in [&["heads"][..], &[F2], &[F1]] {
        let err = m.stamp(&mut db, targets, StampMode::Keep).unwrap_err();
        assert!(
            matches!(&err, Error::Drift(d) if d.len() == 1 && d[0].revision == F1),
            "stamp {targets:?}: {err:?}"
        );
        assert_eq!(t.oracle().rows("alembic_version"), vec![F2]);
    }
    let err = m.launch(&mut db).unwrap_err();
    assert!(matches!(err, Error::Drift(_)), "{err:?}");
    // Below the drifted revision: it is no longer applied, and runs again.
    m.stamp(&mut db, &["base"], StampMode::Keep).unwrap();
    assert!(t.oracle().rows("alembic_version").is_empty());
    assert!(!m.is_up_to_date(&mut db).unwrap());
}
