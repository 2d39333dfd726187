//! Fail closed before touching anything: an applied migration edited (drift:
//! both checksums named) versus one only re-saved with CRLF line endings and a
//! BOM (not drift: the launch continues), and the binary rolled back: an older
//! binary against a newer database (ahead) and a binary whose history went
//! another way (diverged). Each refusal is a distinct error from a real
//! launch, and the database — schema, data, version and history rows — is
//! exactly as before.

use crate::child::{self, Spec};
use crate::fixtures::{self, Copy, INDEXES, ITEMS, LAST, MAIN, MERGE};
use crate::oracle::{self, snapshot};
use crate::support::{Kind, TestDb};

/// A launch of `copy`; the lock must be free while the process still lives.
fn launch(t: &TestDb, copy: &Copy) -> (child::Outcome, i32) {
    child::run_held(
        &Spec::launch(&t.url, copy.root.clone(), &copy.folder),
        |outcome| {
            oracle::lock_free(t)
                .unwrap_or_else(|e| panic!("after {outcome:?}, while the process lives: {e}"));
        },
    )
}

fn edited_versus_resaved(kind: Kind) {
    let label = format!("{kind:?} drift");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    // Applied up to rl03index003 by the original files.
    let original = fixtures::migrator(kind, "main");
    original
        .upgrade(&mut t.connect(), INDEXES)
        .expect("prepare");
    let mut o = t.oracle();
    let before = snapshot(&mut o);

    // Edited: one literal of an applied migration changed.
    let edited = Copy::of(kind, "main");
    edited.edit(ITEMS, |text| text.replace("'first'", "'First'"));
    let (outcome, code) = launch(&t, &edited);
    assert_eq!(code, 2, "{label}: {outcome:?}");
    let (variant, message) = outcome.error();
    assert_eq!(variant, "Drift", "{label}: {message}");
    let recorded = fixtures::checksum(&original, ITEMS);
    let current = fixtures::checksum(&edited.migrator(), ITEMS);
    assert_ne!(recorded, current);
    for needle in [
        ITEMS,
        fixtures::file_name(&edited.migrator(), ITEMS).as_str(),
        recorded.as_str(),
        current.as_str(),
    ] {
        assert!(message.contains(needle), "{label}: `{needle}` in {message}");
    }
    assert_eq!(
        snapshot(&mut o),
        before,
        "{label}: nothing applied, nothing written"
    );

    // Re-saved on Windows: CRLF and a BOM in every file. Not drift.
    let resaved = Copy::of(kind, "main");
    for revision in MAIN {
        resaved.edit(revision, |text| {
            format!("\u{feff}{}", text.replace('\n', "\r\n"))
        });
    }
    assert_eq!(
        fixtures::checksum(&resaved.migrator(), ITEMS),
        recorded,
        "{label}: line endings and a BOM do not change a checksum"
    );
    let (outcome, code) = launch(&t, &resaved);
    assert_eq!(code, 0, "{label}: CRLF is not drift: {outcome:?}");
    let at = MAIN.iter().position(|r| *r == INDEXES).expect("in main");
    assert_eq!(outcome.applied(), &MAIN[at + 1..], "{label}");
    oracle::assert_witness_once(&mut o, &MAIN, &label);
    oracle::assert_history_clean(&mut o, &MAIN, &label);
    crate::tally(&format!(
        "{label}: edited -> Drift with both checksums, nothing written; CRLF+BOM -> continued"
    ));
}

fn ahead_and_diverged(kind: Kind) {
    let label = format!("{kind:?} binary rollback");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    fixtures::migrator(kind, "main")
        .upgrade(&mut t.connect(), "heads")
        .expect("prepare");
    let mut o = t.oracle();
    let before = snapshot(&mut o);

    // An older binary: it does not know the head yet.
    let older = Copy::of(kind, "main");
    older.remove(LAST);
    let (outcome, code) = launch(&t, &older);
    assert_eq!(code, 2, "{label}: {outcome:?}");
    let (variant, message) = outcome.error();
    assert_eq!(variant, "DatabaseAhead", "{label}: {message}");
    assert!(
        message.contains(LAST) && message.contains("ahead"),
        "{label}: {message}"
    );
    assert_eq!(snapshot(&mut o), before, "{label}: ahead: nothing changed");

    // A binary that went another way after the merge.
    let other = "rl07othr0007";
    let sideways = Copy::of(kind, "main");
    sideways.remove(LAST);
    sideways.add(
        &format!("2026-03-06_other_{other}.sql"),
        &format!(
            "-- revision: {other}\n-- down_revision: {MERGE}\n-- message: another way\n\n-- migrate:upgrade\nINSERT INTO witness (revision) VALUES ('{other}');\n\n-- migrate:downgrade\nDELETE FROM witness WHERE revision = '{other}';\n"
        ),
    );
    let (outcome, code) = launch(&t, &sideways);
    assert_eq!(code, 2, "{label}: {outcome:?}");
    let (variant, message) = outcome.error();
    assert_eq!(variant, "DatabaseDiverged", "{label}: {message}");
    assert!(
        message.contains(LAST) && message.contains("diverged") && message.contains(MERGE),
        "{label}: names the unknown revision and where the histories split: {message}"
    );
    assert_eq!(
        snapshot(&mut o),
        before,
        "{label}: diverged: nothing changed"
    );
    crate::tally(&format!(
        "{label}: ahead -> DatabaseAhead, diverged -> DatabaseDiverged; history unchanged"
    ));
}

#[test]
fn sqlite_drift_versus_crlf() {
    edited_versus_resaved(Kind::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_drift_versus_crlf() {
    edited_versus_resaved(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_drift_versus_crlf() {
    edited_versus_resaved(Kind::Mysql);
}

#[test]
fn sqlite_older_binary_and_diverged_history() {
    ahead_and_diverged(Kind::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_older_binary_and_diverged_history() {
    ahead_and_diverged(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_older_binary_and_diverged_history() {
    ahead_and_diverged(Kind::Mysql);
}
