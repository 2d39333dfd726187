//! A linear history on every backend: upgrade, relaunch, current, pending,
//! downgrade, stamp, and the Alembic-compatible tables.

use crate::support::{migrator, sorted, TestDb};
use alembix_runtime::{Config, StampMode, Standing};

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

fn upgrade_to_heads_then_relaunch_is_a_noop(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    assert!(!m.is_up_to_date(&mut db).unwrap());
    assert_eq!(m.pending(&mut db).unwrap(), vec![A, B, C]);

    let report = m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(report.revisions(), vec![A, B, C]);
    assert!(report.rows_before.is_empty());
    assert_eq!(report.rows_after, vec![C]);
    assert_eq!(report.steps[1].statements, 2);

    let mut o = t.oracle();
    assert_eq!(o.rows("alembic_version"), vec![C]);
    assert_eq!(o.user_tables(), sorted(&["posts", "users"]));
    assert_eq!(o.count("users"), 1);
    let history = o.history("alembic_version_history");
    assert_eq!(history.len(), 3);
    assert!(history
        .iter()
        .all(|(_, op, st)| op == "upgrade" && st == "applied"));

    // Relaunch: nothing runs, nothing is written, and no lock is needed (one
    // query answers it): it succeeds while another process holds the lock.
    let holder = crate::support::hold_run_lock(t);
    let quick = migrator(
        "linear",
        Config {
            lock_timeout: std::time::Duration::from_millis(200),
            ..Config::default()
        },
    );
    let mut fresh = t.connect();
    let again = quick.launch(&mut fresh).unwrap();
    assert!(again.is_empty());
    assert!(quick.is_up_to_date(&mut fresh).unwrap());
    drop(holder);
    assert_eq!(o.history("alembic_version_history").len(), 3);
    assert!(m.is_up_to_date(&mut db).unwrap());
    assert!(m.pending(&mut db).unwrap().is_empty());
    let check = m.check(&mut db).unwrap();
    assert!(check.is_ok());
    assert_eq!(check.standing, Standing::UpToDate);

    let current = m.current(&mut db).unwrap();
    assert_eq!(current.rows, vec![C]);
    let entries = m.applied_history(&mut db).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].revision, A);
    assert!(entries[0].checksum.starts_with("sha256:"));
    assert_eq!(entries[1].down_revisions, A);
    assert!(entries.iter().all(|e| e.duration_ms.is_some()));
}

fn upgrade_to_a_revision_then_downgrade_to_base(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    let report = m.upgrade(&mut db, B).unwrap();
    assert_eq!(report.revisions(), vec![A, B]);
    let mut o = t.oracle();
    assert_eq!(o.rows("alembic_version"), vec![B]);
    assert_eq!(m.pending(&mut db).unwrap(), vec![C]);

    let down = m.downgrade(&mut db, A).unwrap();
    assert_eq!(down.revisions(), vec![B]);
    assert_eq!(o.rows("alembic_version"), vec![A]);

    m.upgrade(&mut db, "heads").unwrap();
    let down = m.downgrade(&mut db, "base").unwrap();
    assert_eq!(down.revisions(), vec![C, B, A]);
    assert!(o.rows("alembic_version").is_empty());
    assert!(o.user_tables().is_empty());
    // The version table is never dropped; the history records every step.
    assert!(o.tables().contains(&"alembic_version".to_string()));
    let history = o.history("alembic_version_history");
    assert_eq!(history.len(), 2 + 1 + 2 + 3);
    assert_eq!(
        history
            .last()
            .map(|h| (h.0.as_str(), h.1.as_str(), h.2.as_str())),
        Some((A, "downgrade", "reverted"))
    );
}

fn stamp_then_upgrade_runs_only_what_follows(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let mut o = t.oracle();
    // The schema of A exists already (created by hand).
    o.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)");
    let mut db = t.connect();
    let stamped = m.stamp(&mut db, &[A], StampMode::Keep).unwrap();
    assert_eq!(stamped.steps.len(), 1);
    assert!(stamped.steps[0].stamp);
    assert_eq!(o.rows("alembic_version"), vec![A]);
    let report = m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(report.revisions(), vec![B, C]);

    // Purge removes every row, unknown ones included.
    o.exec("INSERT INTO alembic_version (version_num) VALUES ('zzzzzzzzzzzz')");
    let purged = m.stamp(&mut db, &[B], StampMode::Purge).unwrap();
    assert_eq!(o.rows("alembic_version"), vec![B]);
    assert_eq!(purged.rows_after, vec![B]);
}

fn version_table_is_alembics(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, A).unwrap();
    let mut o = t.oracle();
    // A second row with the same revision is refused: the primary key exists.
    assert!(o
        .try_exec(&format!(
            "INSERT INTO alembic_version (version_num) VALUES ('{A}')"
        ))
        .is_err());
    // 32 characters fit, 33 do not (where the backend enforces lengths).
    let long = "x".repeat(33);
    let r = o.try_exec(&format!(
        "INSERT INTO alembic_version (version_num) VALUES ('{long}')"
    ));
    if t.kind != crate::support::Kind::Sqlite {
        assert!(r.is_err(), "VARCHAR(32) must refuse 33 characters");
    }
}

fn custom_table_name_and_whole_run(t: &TestDb) {
    let config = Config {
        version_table: "Schema_Revisions".to_string(),
        transaction: if t.kind == crate::support::Kind::Mysql {
            alembix_runtime::RunTransaction::PerMigration
        } else {
            alembix_runtime::RunTransaction::WholeRun
        },
        ..Config::default()
    };
    let m = migrator("linear", config);
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    let mut o = t.oracle();
    assert_eq!(o.rows("Schema_Revisions"), vec![C]);
    assert_eq!(o.history("Schema_Revisions_history").len(), 3);
    assert!(m.is_up_to_date(&mut db).unwrap());
}

crate::on_all_backends!(
    relative_targets,
    upgrade_to_heads_then_relaunch_is_a_noop,
    upgrade_to_a_revision_then_downgrade_to_base,
    stamp_then_upgrade_runs_only_what_follows,
    version_table_is_alembics,
    custom_table_name_and_whole_run,
    history_times_are_utc_on_every_backend,
);

/// `started_at` is one type on every backend, in UTC: the rows a run just
/// wrote read as "now" (the test's clock and the server's agree here), in
/// order, and print as RFC 3339 with a `Z`.
fn history_times_are_utc_on_every_backend(t: &TestDb) {
    let micros = |time: std::time::SystemTime| {
        time.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64
    };
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    let before = micros(std::time::SystemTime::now());
    m.upgrade(&mut db, "heads").unwrap();
    let after = micros(std::time::SystemTime::now());
    let history = m.applied_history(&mut db).unwrap();
    assert_eq!(history.len(), 3);
    let mut previous = i64::MIN;
    for entry in &history {
        let at = entry.started_at.unix_micros();
        // A minute of slack for clocks; a time-zone error is hours off.
        assert!(
            at > before - 60_000_000 && at < after + 60_000_000,
            "{:?}: {} is not between {before} and {after}",
            t.kind,
            entry.started_at
        );
        assert!(at >= previous, "{:?}: out of order", t.kind);
        previous = at;
        let text = entry.started_at.to_string();
        assert!(text.ends_with('Z') && text.len() == 27, "{text}");
        assert_eq!(micros(entry.started_at.to_system_time()), at);
    }
}

fn relative_targets(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    let mut o = t.oracle();
    assert_eq!(m.upgrade(&mut db, "+1").unwrap().revisions(), vec![A]);
    assert_eq!(m.upgrade(&mut db, "+2").unwrap().revisions(), vec![B, C]);
    assert_eq!(m.downgrade(&mut db, "-1").unwrap().revisions(), vec![C]);
    assert_eq!(o.rows("alembic_version"), vec![B]);
    assert_eq!(m.downgrade(&mut db, "-2").unwrap().revisions(), vec![B, A]);
    assert!(o.rows("alembic_version").is_empty());
    // Past base: Alembic's error, nothing changes.
    let err = m.downgrade(&mut db, "-1").unwrap_err();
    assert!(matches!(err, alembix_runtime::Error::Plan(_)), "{err}");
    // An id prefix and `head` work as in Alembic.
    assert_eq!(m.upgrade(&mut db, "b2b2").unwrap().revisions(), vec![A, B]);
    assert_eq!(m.upgrade(&mut db, "head").unwrap().revisions(), vec![C]);
    assert!(m.upgrade(&mut db, "nonexistent").is_err());
}
