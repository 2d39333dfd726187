//! Alembic and our runtime take turns on one database, over the history
//! `cargo xtask import-alembic` made from the fixture project:
//!
//! ```text
//! c0ffee000001 ─┬─ c0ffee000002 ─┬─ c0ffee000004 (merge) ── c0ffee000005 ── c0ffee000006
//!               └─ c0ffee000003 ─┘
//! ```
//!
//! Alembic first, then us (from two Alembic heads, through the merge), then
//! `alembic downgrade -1` of what we applied; and the reverse: we go part-way,
//! Alembic continues, we take the database back.

use crate::support::{sorted, TestDb};
use crate::tools::{events, history, python_with_alembic, Alembic, Scratch};
use alembix_runtime::{Config, Migrator, Standing};
use std::path::Path;

const R1: &str = "c0ffee000001";
const R2: &str = "c0ffee000002";
const R3: &str = "c0ffee000003";
const R4: &str = "c0ffee000004";
const R5: &str = "c0ffee000005";
const R6: &str = "c0ffee000006";

/// Alembic for this database, and the imported history in a scratch folder.
fn setup(t: &TestDb, test: &str) -> Option<(Alembic, Scratch, Migrator)> {
    let python = python_with_alembic(test)?;
    let alembic = Alembic::new(python, t);
    let scratch = Scratch::new();
    let printed = alembic.import(&scratch.path().join("migrations"));
    assert!(
        printed.contains("0 file(s) with placeholders"),
        "every body comes from Alembic:\n{printed}"
    );
    let migrator = Migrator::from_folder(scratch.path(), "migrations", Config::default())
        .expect("the imported history loads");
    assert_eq!(migrator.heads().unwrap(), [R6]);
    Some((alembic, scratch, migrator))
}

fn alembic_then_runtime(t: &TestDb) {
    let Some((alembic, scratch, m)) = setup(t, "alembic_then_runtime") else {
        return;
    };
    // Alembic applies both branches: two heads, no history table of ours.
    alembic.run(&["upgrade", R2]);
    alembic.run(&["upgrade", R3]);
    let mut o = t.oracle();
    assert_eq!(o.rows("alembic_version"), sorted(&[R2, R3]));
    assert!(!o.tables().contains(&"alembic_version_history".to_string()));
    assert_eq!(events(t), [R1, R2, R3]);

    // Our runtime continues through the merge to the head; nothing Alembic
    // applied runs again, and it is recorded as adopted.
    let mut db = t.connect();
    assert_eq!(m.pending(&mut db).unwrap(), [R4, R5, R6]);
    let report = m.launch(&mut db).unwrap();
    assert_eq!(report.revisions(), [R4, R5, R6]);
    // The report says what it adopted, not only the history table.
    assert_eq!(report.adopted, [R1, R2, R3]);
    assert_eq!(o.rows("alembic_version"), [R6]);
    assert_eq!(events(t), [R1, R2, R3, R4, R5, R6]);
    assert_eq!(
        history(t),
        [
            format!("{R1} adopt adopted"),
            format!("{R2} adopt adopted"),
            format!("{R3} adopt adopted"),
            format!("{R4} upgrade applied"),
            format!("{R5} upgrade applied"),
            format!("{R6} upgrade applied"),
        ]
    );
    assert_eq!(
        o.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM accounts WHERE name = 'admin'"),
        1
    );

    // Alembic sees our head; a second launch does nothing.
    assert_eq!(alembic.current(), [format!("{R6} (head)")]);
    assert!(m.launch(&mut db).unwrap().is_empty());
    assert!(m.is_up_to_date(&mut db).unwrap());
    let check = m.check(&mut db).unwrap();
    assert_eq!(check.standing, Standing::UpToDate);
    assert!(check.drift.is_empty(), "{:?}", check.drift);

    // No checksum was recorded for what Alembic ran: editing such a file is
    // not drift; editing one we applied is.
    let edited = Scratch::new();
    copy_dir(&scratch.path().join("migrations"), &edited.path().join("m"));
    append_to_upgrade(&edited.path().join("m"), R2, "SELECT 2;");
    let m2 = Migrator::from_folder(edited.path(), "m", Config::default()).unwrap();
    assert!(m2.check(&mut db).unwrap().drift.is_empty());
    append_to_upgrade(&edited.path().join("m"), R5, "SELECT 5;");
    let m3 = Migrator::from_folder(edited.path(), "m", Config::default()).unwrap();
    let drift = m3.check(&mut db).unwrap().drift;
    assert_eq!(
        drift
            .iter()
            .map(|d| d.revision.as_str())
            .collect::<Vec<_>>(),
        [R5]
    );

    // `alembic downgrade -1` reverts what we applied, with Alembic's Python.
    alembic.run(&["downgrade", "-1"]);
    assert_eq!(o.rows("alembic_version"), [R5]);
    assert_eq!(events(t), [R1, R2, R3, R4, R5]);
    assert_eq!(alembic.current(), [R5.to_string()]);
    assert_eq!(
        o.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM accounts"),
        0
    );

    // And we bring it back to the head: only R6 runs.
    let report = m.launch(&mut db).unwrap();
    assert_eq!(report.revisions(), [R6]);
    assert_eq!(events(t), [R1, R2, R3, R4, R5, R6]);
    assert_eq!(
        history(t).last().map(String::as_str),
        Some(format!("{R6} upgrade applied").as_str())
    );
    assert_eq!(alembic.current(), [format!("{R6} (head)")]);
}

fn runtime_then_alembic(t: &TestDb) {
    let Some((alembic, _scratch, m)) = setup(t, "runtime_then_alembic") else {
        return;
    };
    // We go part-way: one branch.
    let mut db = t.connect();
    assert_eq!(m.upgrade(&mut db, R2).unwrap().revisions(), [R1, R2]);
    assert_eq!(alembic.current(), [R2.to_string()]);

    // Alembic continues to the head from our version table.
    alembic.run(&["upgrade", "heads"]);
    let mut o = t.oracle();
    assert_eq!(o.rows("alembic_version"), [R6]);
    assert_eq!(events(t), [R1, R2, R3, R4, R5, R6]);

    // We take it back: nothing to run, no drift; what Alembic applied is
    // recorded as adopted, once.
    let check = m.check(&mut db).unwrap();
    assert_eq!(check.standing, Standing::UpToDate);
    assert!(check.drift.is_empty());
    assert!(m.launch(&mut db).unwrap().is_empty());
    assert!(m.launch(&mut db).unwrap().is_empty());
    assert_eq!(
        history(t),
        [
            format!("{R1} upgrade applied"),
            format!("{R2} upgrade applied"),
            format!("{R3} adopt adopted"),
            format!("{R4} adopt adopted"),
            format!("{R5} adopt adopted"),
            format!("{R6} adopt adopted"),
        ]
    );
    assert_eq!(events(t), [R1, R2, R3, R4, R5, R6]);

    // Our downgrade reverts what Alembic applied, with our SQL.
    assert_eq!(m.downgrade(&mut db, "-1").unwrap().revisions(), [R6]);
    assert_eq!(alembic.current(), [R5.to_string()]);
    // Alembic applies it again; our next launch adopts it again.
    alembic.run(&["upgrade", "head"]);
    let report = m.launch(&mut db).unwrap();
    assert!(report.is_empty());
    assert_eq!(report.adopted, [R6]);
    let rows = history(t);
    assert_eq!(
        rows[rows.len() - 2..],
        [
            format!("{R6} downgrade reverted"),
            format!("{R6} adopt adopted")
        ]
    );
    assert_eq!(events(t), [R1, R2, R3, R4, R5, R6]);
    // All the way down with our SQL, then up with Alembic's: they agree.
    m.downgrade(&mut db, "base").unwrap();
    assert!(o.user_tables().is_empty(), "{:?}", o.user_tables());
    alembic.run(&["upgrade", "heads"]);
    assert_eq!(events(t), [R1, R2, R3, R4, R5, R6]);
    assert!(m.is_up_to_date(&mut db).unwrap());
}

crate::on_alembic_backends!(alembic_then_runtime, runtime_then_alembic);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Adds a statement at the end of the upgrade section of `revision`'s file.
fn append_to_upgrade(dir: &Path, revision: &str, statement: &str) {
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(&format!("_{revision}.sql")))
        .unwrap_or_else(|| panic!("no file for {revision} in {}", dir.display()));
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen(
        "\n-- migrate:downgrade",
        &format!("\n{statement}\n\n-- migrate:downgrade"),
        1,
    );
    assert_ne!(text, edited, "{} has a downgrade section", file.display());
    std::fs::write(&file, edited).unwrap();
}
