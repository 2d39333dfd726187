//! The Alembic takeover rule without Python, on every backend: version rows
//! that another tool wrote (here: by hand, as Alembic would) are adopted,
//! never re-run, never drift; rows the binary does not know adopt nothing.
//! Over the runtime's `linear` fixture: a1a1… → b2b2… → c3c3….

use crate::support::{hold_run_lock, migrator, TestDb};
use crate::tools::history;
use alembix_runtime::{Config, Error};
use std::time::Duration;

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

fn rows_without_history_are_adopted(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, B).unwrap();
    // What Alembic leaves: the schema and its version table, nothing of ours.
    let mut o = t.oracle();
    o.exec(&format!(
        "DROP TABLE {}",
        o.quote("alembic_version_history")
    ));

    let report = m.launch(&mut db).unwrap();
    assert_eq!(report.revisions(), [C]);
    assert_eq!(
        history(t),
        [
            format!("{A} adopt adopted"),
            format!("{B} adopt adopted"),
            format!("{C} upgrade applied"),
        ]
    );
    assert!(m.check(&mut db).unwrap().drift.is_empty());
    assert!(m.launch(&mut db).unwrap().is_empty());

    // Another tool re-applies what we reverted: adopted again, not re-run.
    m.downgrade(&mut db, "-1").unwrap();
    o.exec("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, body VARCHAR(200) NOT NULL)");
    o.exec("CREATE INDEX posts_user ON posts (user_id)");
    o.exec(&format!(
        "UPDATE {} SET version_num = '{C}' WHERE version_num = '{B}'",
        o.quote("alembic_version")
    ));
    assert!(m.launch(&mut db).unwrap().is_empty());
    let rows = history(t);
    assert_eq!(
        rows[rows.len() - 2..],
        [
            format!("{C} downgrade reverted"),
            format!("{C} adopt adopted")
        ]
    );
    assert!(m.is_up_to_date(&mut db).unwrap());
    // The adoption wrote the applied-set digest: the next launch is the
    // one-query path, which takes no lock (another process holds it here;
    // on SQLite that is a write transaction, which a careful run with nothing
    // to do would not need either, so the proof is PostgreSQL's and MariaDB's).
    let _held = hold_run_lock(t);
    let quick = migrator(
        "linear",
        Config {
            lock_timeout: Duration::from_millis(300),
            ..Config::default()
        },
    );
    assert!(quick.launch(&mut db).unwrap().is_empty());
}

fn unknown_rows_adopt_nothing(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, A).unwrap();
    let mut o = t.oracle();
    o.exec(&format!(
        "DROP TABLE {}",
        o.quote("alembic_version_history")
    ));
    o.exec(&format!(
        "UPDATE {} SET version_num = 'f00f00f00f00'",
        o.quote("alembic_version")
    ));
    let err = m.launch(&mut db).unwrap_err();
    assert!(matches!(err, Error::UnknownRevisions { .. }), "{err:?}");
    assert!(history(t).is_empty(), "{:?}", history(t));
}

crate::on_all_backends!(rows_without_history_are_adopted, unknown_rows_adopt_nothing);
