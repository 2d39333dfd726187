//! Compound statements and per-dialect quoting, applied through the runtime on
//! the real servers: a MySQL trigger with `IF … END IF` and `CASE … END CASE`,
//! a PostgreSQL `BEGIN ATOMIC` function, `'C:\'` on PostgreSQL and SQLite (a
//! backslash is no escape there), a SQLite trigger with `CASE … END`. Each
//! migration is upgraded, its effect read from the database, and downgraded.
//! A section that only this dialect reads as unterminated is refused before
//! anything runs.

use crate::support::{migration, migrator_of, Kind, TestDb};
use alembix_runtime::{Config, Dialect, Error, OfflineCommand};

const TABLE: &str = "c0c0c0c0c0c1";
const BODY: &str = "c0c0c0c0c0c2";

/// The upgrade and downgrade of the compound migration of each backend, and
/// the rows of `notes` (as `id:body`) once it ran.
fn compound(kind: Kind) -> (&'static str, &'static str, Vec<&'static str>) {
    match kind {
        Kind::Mysql => (
            "CREATE TRIGGER notes_guard BEFORE INSERT ON notes FOR EACH ROW\n\
             BEGIN\n\
               IF NEW.id < 0 THEN\n\
                 SET NEW.id = -NEW.id;\n\
               ELSEIF NEW.id = 0 THEN\n\
                 SET NEW.id = 100;\n\
               END IF;\n\
               CASE\n\
                 WHEN NEW.body = '' THEN SET NEW.body = IF(NEW.id > 50, 'big; empty', 'empty');\n\
                 ELSE SET NEW.body = REPEAT(NEW.body, 2);\n\
               END CASE;\n\
             END;\n\
             INSERT INTO notes VALUES (-3, '');\n\
             INSERT INTO notes VALUES (0, '');\n\
             INSERT INTO notes VALUES (5, 'ab');\n\
             INSERT INTO notes VALUES (6, 'C:\\\\')",
            "DROP TRIGGER notes_guard;\nDELETE FROM notes",
            vec!["100:big; empty", "3:empty", "5:abab", "6:C:\\C:\\"],
        ),
        Kind::Postgres => (
            "CREATE FUNCTION note_label(n integer) RETURNS text LANGUAGE sql\n\
             BEGIN ATOMIC\n\
               SELECT CASE WHEN n < 0 THEN 'negative; ' || n ELSE 'C:\\' END;\n\
             END;\n\
             CREATE PROCEDURE add_note(n integer) LANGUAGE sql\n\
             BEGIN ATOMIC\n\
               INSERT INTO notes VALUES (n, note_label(n));\n\
               INSERT INTO notes VALUES (n + 100, E'tab\\there; ' || note_label(-n));\n\
             END;\n\
             CALL add_note(2);\n\
             INSERT INTO notes VALUES (7, 'D:\\')",
            "DELETE FROM notes;\nDROP PROCEDURE add_note(integer);\nDROP FUNCTION note_label(integer)",
            vec!["102:tab\there; negative; -2", "2:C:\\", "7:D:\\"],
        ),
        Kind::Sqlite => (
            "CREATE TRIGGER notes_guard AFTER INSERT ON notes WHEN NEW.id < 0\n\
             BEGIN\n\
               UPDATE notes SET id = -NEW.id,\n\
                 body = CASE WHEN NEW.body = '' THEN 'empty; ' || 'C:\\' ELSE NEW.body END\n\
               WHERE id = NEW.id;\n\
             END;\n\
             INSERT INTO notes VALUES (-3, '');\n\
             INSERT INTO notes VALUES (4, 'D:\\')",
            "DROP TRIGGER notes_guard;\nDELETE FROM notes",
            vec!["3:empty; C:\\", "4:D:\\"],
        ),
    }
}

fn notes(t: &TestDb) -> Vec<String> {
    let mut o = t.oracle();
    let sql = match t.kind {
        Kind::Mysql => "SELECT CONCAT(id, ':', body) AS s FROM notes",
        _ => "SELECT CAST(id AS TEXT) || ':' || body AS s FROM notes",
    };
    let mut rows = o.strings(sql);
    rows.sort();
    rows
}

fn compound_statements_apply_and_revert(t: &TestDb) {
    let (up, down, expected) = compound(t.kind);
    let sources = [
        migration(
            TABLE,
            "none",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(100) NOT NULL)",
            "DROP TABLE notes",
        ),
        migration(BODY, TABLE, up, down),
    ];
    let m = migrator_of(&sources, Config::default());
    let mut db = t.connect();
    let report = m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(report.revisions(), vec![TABLE, BODY]);
    assert_eq!(notes(t), expected);
    assert_eq!(t.oracle().rows("alembic_version"), vec![BODY]);

    m.downgrade(&mut db, TABLE).unwrap();
    assert!(notes(t).is_empty());
    assert_eq!(t.oracle().rows("alembic_version"), vec![TABLE]);
    // Upgraded again: the body and the trigger were dropped, not left behind.
    m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(notes(t), expected);
    m.downgrade(&mut db, "base").unwrap();
    assert!(t.oracle().user_tables().is_empty());
}

/// A section that is unterminated only as this backend reads it: a `[` name
/// on SQLite, a `$tag$` body on PostgreSQL, `'C:\'` on MySQL (its backslash
/// escapes the quote).
fn open_only_here(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "INSERT INTO notes VALUES (1, 'one');\nSELECT [open",
        Kind::Postgres => "INSERT INTO notes VALUES (1, 'one');\nSELECT $open$ never closed",
        Kind::Mysql => "INSERT INTO notes VALUES (1, 'one');\nINSERT INTO notes VALUES (2, 'C:\\')",
    }
}

fn a_section_open_on_this_dialect_is_refused_before_anything_runs(t: &TestDb) {
    let sources = [
        migration(
            TABLE,
            "none",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(100) NOT NULL)",
            "DROP TABLE notes",
        ),
        migration(BODY, TABLE, open_only_here(t.kind), "DELETE FROM notes"),
    ];
    let m = migrator_of(&sources, Config::default());
    let mut db = t.connect();
    let err = m.upgrade(&mut db, "heads").unwrap_err();
    let text = err.to_string();
    // `migration` puts the upgrade on line 6: the open construct is on line 7.
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(
        text.contains(&format!("revision {BODY} ({BODY}.sql:7)")),
        "{text}"
    );
    assert!(
        text.contains("never closed") && text.contains("Nothing was run"),
        "{text}"
    );
    assert!(
        t.oracle().user_tables().is_empty(),
        "the first migration ran"
    );
    let dialect = match t.kind {
        Kind::Sqlite => Dialect::Sqlite,
        Kind::Postgres => Dialect::Postgres,
        Kind::Mysql => Dialect::Mysql,
    };
    let offline = m
        .offline_sql(dialect, OfflineCommand::Upgrade("heads"))
        .unwrap_err();
    assert!(
        offline.to_string().contains(&format!("{BODY}.sql:7")),
        "{offline}"
    );
    // Another dialect reads the same section whole: its script is written.
    let other = if dialect == Dialect::Sqlite {
        Dialect::Postgres
    } else {
        Dialect::Sqlite
    };
    let script = m
        .offline_sql(other, OfflineCommand::Upgrade("heads"))
        .unwrap();
    assert!(
        script.contains("INSERT INTO notes VALUES (1, 'one');"),
        "{script}"
    );
}

crate::on_all_backends!(
    compound_statements_apply_and_revert,
    a_section_open_on_this_dialect_is_refused_before_anything_runs
);
