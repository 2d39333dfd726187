//! Offline SQL: the script is what the online run would do — running it by hand
//! leaves the database exactly where an online upgrade would, and the next
//! online launch has nothing to do. `each_script_through_its_client_equals_the_online_run`
//! runs every script through the dialect's real client (`sqlite3`,
//! `psql -v ON_ERROR_STOP=1`, `mariadb`/`mysql`), which must be installed (the
//! test is skipped without it, except with `CI=true`).

use crate::sql_client::run_script;
use crate::support::{migrator, migrator_of, Kind, Oracle, TestDb};
use alembix_runtime::core::SourceFile;
use alembix_runtime::{Config, Dialect, Error, Migrator, OfflineCommand};

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

fn dialect(kind: Kind) -> Dialect {
    match kind {
        Kind::Sqlite => Dialect::Sqlite,
        Kind::Postgres => Dialect::Postgres,
        Kind::Mysql => Dialect::Mysql,
    }
}

#[test]
fn script_shape_follows_alembic() {
    let m = migrator("linear", Config::default());
    let pg = m
        .offline_sql(Dialect::Postgres, OfflineCommand::Upgrade("heads"))
        .unwrap();
    assert!(pg.starts_with("SET client_encoding = 'UTF8';\n\nCREATE TABLE \"alembic_version\" (\n    version_num VARCHAR(32) NOT NULL,\n    CONSTRAINT \"alembic_version_pkc\" PRIMARY KEY (version_num)\n);\n\n"), "{pg}");
    assert!(
        pg.contains(&format!(
            "BEGIN;\n\n-- Running upgrade  -> {A}\n\nCREATE TABLE users"
        )),
        "{pg}"
    );
    assert!(
        pg.contains(&format!("-- Running upgrade {A} -> {B}\n\n")),
        "{pg}"
    );
    assert!(
        pg.contains(&format!(
            "UPDATE \"alembic_version\" SET version_num = '{B}' WHERE version_num = '{A}';\n\n"
        )),
        "{pg}"
    );
    assert!(pg.trim_end().ends_with("COMMIT;"), "{pg}");
    let my = m
        .offline_sql(
            Dialect::Mysql,
            OfflineCommand::Upgrade(&format!("{A}:heads")),
        )
        .unwrap();
    assert!(
        !my.contains("BEGIN") && !my.contains("CREATE TABLE `alembic_version`"),
        "{my}"
    );
    assert!(my.starts_with("SET NAMES utf8mb4;\n\n"), "{my}");
    assert!(
        my.contains("CREATE TABLE IF NOT EXISTS `alembic_version_history`"),
        "{my}"
    );
    let down = m
        .offline_sql(
            Dialect::Sqlite,
            OfflineCommand::Downgrade(&format!("{C}:{A}")),
        )
        .unwrap();
    assert!(
        down.contains(&format!("-- Running downgrade {C} -> {B}")),
        "{down}"
    );
    assert!(down.contains("DROP TABLE posts;"), "{down}");
    let err = m
        .offline_sql(Dialect::Sqlite, OfflineCommand::Downgrade(A))
        .unwrap_err();
    assert!(matches!(err, Error::Plan(_)), "{err}");
}

fn running_the_script_equals_the_online_run(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let script = m
        .offline_sql(dialect(t.kind), OfflineCommand::Upgrade("heads"))
        .unwrap();
    let mut o = t.oracle();
    o.exec(&script);
    assert_eq!(o.rows("alembic_version"), vec![C]);
    assert_eq!(
        o.user_tables(),
        vec!["posts".to_string(), "users".to_string()]
    );
    let mut db = t.connect();
    assert!(m.is_up_to_date(&mut db).unwrap());
    assert!(m.launch(&mut db).unwrap().is_empty());
    let entries = m.applied_history(&mut db).unwrap();
    assert_eq!(entries.len(), 3);

    // And back down by script.
    let down = m
        .offline_sql(
            dialect(t.kind),
            OfflineCommand::Downgrade(&format!("{C}:base")),
        )
        .unwrap();
    o.exec(&down);
    assert!(o.rows("alembic_version").is_empty());
    assert!(o.user_tables().is_empty());
}

const NOTES: &str = "a0a0a0a0a0a1";
const GUARD: &str = "a0a0a0a0a0a2";
const PATHS: &str = "a0a0a0a0a0a3";

fn source(revision: &str, down: &str, message: &str, upgrade: &str, downgrade: &str) -> SourceFile {
    SourceFile {
        name: format!("{revision}.sql"),
        text: format!(
            "-- revision: {revision}\n-- down_revision: {down}\n-- message: {message}\n\n-- migrate:upgrade\n{upgrade}\n\n-- migrate:downgrade\n{downgrade}\n"
        ),
    }
}

/// A history with what broke the scripts: statements that end in a comment,
/// a trigger with a compound body (`IF … END IF` on MySQL), 4-byte
/// characters in a message and in data, a backslash before a quote.
fn awkward_history(kind: Kind) -> Vec<SourceFile> {
    let charset = if kind == Kind::Mysql {
        " CHARACTER SET utf8mb4"
    } else {
        ""
    };
    let notes = source(
        NOTES,
        "none",
        "notes 🎉 with an emoji",
        &format!(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(200){charset} NOT NULL); -- the notes\n\
             INSERT INTO notes VALUES (1, 'hello 😀') -- a 4-byte character\n;\n\
             INSERT INTO notes VALUES (2, 'two; -- not a comment') -- the last one ends in a comment"
        ),
        "DROP TABLE notes -- and its rows",
    );
    let (guard_up, guard_down) = match kind {
        Kind::Mysql => (
            "CREATE TRIGGER notes_guard BEFORE INSERT ON notes FOR EACH ROW\n\
             BEGIN\n\
               IF NEW.id < 0 THEN\n\
                 SET NEW.id = -NEW.id; -- flip\n\
               ELSEIF NEW.id = 0 THEN\n\
                 SET NEW.id = 100;\n\
               END IF;\n\
               CASE WHEN NEW.body = '' THEN SET NEW.body = 'empty; 🙂'; ELSE SET NEW.body = NEW.body; END CASE;\n\
             END; -- the trigger\n\
             INSERT INTO notes VALUES (-3, ''); # fires it",
            "DROP TRIGGER notes_guard;\nDELETE FROM notes WHERE id = 3",
        ),
        Kind::Postgres => (
            "CREATE FUNCTION notes_guard() RETURNS trigger LANGUAGE plpgsql AS $$\n\
             BEGIN\n\
               IF NEW.id < 0 THEN NEW.id := -NEW.id; END IF; -- flip\n\
               IF NEW.body = '' THEN NEW.body := 'empty; 🙂'; END IF;\n\
               RETURN NEW;\n\
             END $$;\n\
             CREATE TRIGGER notes_guard BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION notes_guard();\n\
             CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql\n\
             BEGIN ATOMIC\n\
               SELECT count(*) FROM notes; -- inside\n\
             END;\n\
             INSERT INTO notes VALUES (-3, ''); -- fires it",
            "DELETE FROM notes WHERE id = 3;\nDROP FUNCTION note_count();\nDROP TRIGGER notes_guard ON notes;\nDROP FUNCTION notes_guard()",
        ),
        Kind::Sqlite => (
            "CREATE TRIGGER notes_guard AFTER INSERT ON notes WHEN NEW.id < 0\n\
             BEGIN\n\
               UPDATE notes SET id = -NEW.id, body = CASE WHEN NEW.body = '' THEN 'empty; 🙂' ELSE NEW.body END WHERE id = NEW.id; -- flip\n\
             END;\n\
             INSERT INTO notes VALUES (-3, ''); -- fires it",
            "DROP TRIGGER notes_guard;\nDELETE FROM notes WHERE id = 3",
        ),
    };
    let guard = source(GUARD, NOTES, "guard notes", guard_up, guard_down);
    let path = if kind == Kind::Mysql {
        "'C:\\\\'"
    } else {
        "'C:\\'"
    };
    let paths = source(
        PATHS,
        GUARD,
        "a path ✓",
        &format!("INSERT INTO notes VALUES (4, {path})"),
        "DELETE FROM notes WHERE id = 4 -- the path",
    );
    vec![notes, guard, paths]
}

/// What must be equal between the two databases: the schema (tables,
/// columns, triggers, routines), the rows of `notes`, the version rows and
/// the history rows (revision, operation, state, message).
fn snapshot(o: &mut Oracle) -> Vec<String> {
    let queries: Vec<String> = match o.kind() {
        Kind::Sqlite => vec![
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS s FROM sqlite_master".into(),
        ],
        Kind::Postgres => vec![
            "SELECT table_name || '.' || column_name || ' ' || data_type AS s FROM information_schema.columns WHERE table_schema = current_schema()".into(),
            "SELECT indexdef AS s FROM pg_indexes WHERE schemaname = current_schema()".into(),
            "SELECT tgname || ' ' || pg_get_triggerdef(oid) AS s FROM pg_trigger WHERE NOT tgisinternal".into(),
            "SELECT pg_get_functiondef(oid) AS s FROM pg_proc WHERE pronamespace = current_schema()::regnamespace".into(),
        ],
        Kind::Mysql => vec![
            "SELECT CONCAT(table_name, '.', column_name, ' ', column_type, ' ', IFNULL(character_set_name, '')) AS s FROM information_schema.columns WHERE table_schema = DATABASE()".into(),
            "SELECT CONCAT(trigger_name, ' ', action_timing, ' ', event_manipulation, ' ', action_statement) AS s FROM information_schema.triggers WHERE trigger_schema = DATABASE()".into(),
            "SELECT CONCAT(routine_name, ' ', routine_definition) AS s FROM information_schema.routines WHERE routine_schema = DATABASE()".into(),
        ],
    };
    let mut out = Vec::new();
    for query in queries {
        let mut rows = o.strings(&query);
        rows.sort();
        out.extend(rows);
    }
    let text = if o.kind() == Kind::Mysql {
        "CHAR"
    } else {
        "TEXT"
    };
    if o.tables().contains(&"notes".to_string()) {
        let mut notes = o.strings(&format!(
            "SELECT CAST(id AS {text}) || ':' || body AS s FROM notes"
        ));
        if o.kind() == Kind::Mysql {
            notes = o.strings("SELECT CONCAT(id, ':', body) AS s FROM notes");
        }
        notes.sort();
        out.push(format!("notes: {notes:?}"));
    }
    out.push(format!("rows: {:?}", o.rows("alembic_version")));
    let history = o.history("alembic_version_history");
    out.push(format!("history: {history:?}"));
    out.push(format!(
        "messages: {:?}",
        o.strings("SELECT COALESCE(message, '') AS s FROM alembic_version_history ORDER BY id")
    ));
    out
}

fn each_script_through_its_client_equals_the_online_run(t: &TestDb) {
    let sources = awkward_history(t.kind);
    let m: Migrator = migrator_of(&sources, Config::default());
    let Some(scripted) = TestDb::create(t.kind, "scripted") else {
        return;
    };
    let up = m
        .offline_sql(dialect(t.kind), OfflineCommand::Upgrade("heads"))
        .unwrap();
    if run_script(&scripted.url, &up).is_none() {
        return;
    }
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    let online = snapshot(&mut t.oracle());
    assert_eq!(
        snapshot(&mut scripted.oracle()),
        online,
        "--- script:\n{up}"
    );
    assert!(
        online
            .iter()
            .any(|s| s.contains("1:hello 😀") && s.contains("3:empty; 🙂") && s.contains("4:C:\\")),
        "{online:#?}"
    );
    assert!(
        online.iter().any(|s| s.contains("notes 🎉 with an emoji")),
        "{online:#?}"
    );
    let mut scripted_db = scripted.connect();
    assert!(m.is_up_to_date(&mut scripted_db).unwrap());

    // And back down: by script on one, online on the other.
    let down = m
        .offline_sql(
            dialect(t.kind),
            OfflineCommand::Downgrade(&format!("{PATHS}:base")),
        )
        .unwrap();
    run_script(&scripted.url, &down).expect("the client ran before");
    m.downgrade(&mut db, "base").unwrap();
    let online = snapshot(&mut t.oracle());
    assert_eq!(
        snapshot(&mut scripted.oracle()),
        online,
        "--- script:\n{down}"
    );
    assert!(online.iter().any(|s| s == "rows: []"), "{online:#?}");
}

crate::on_all_backends!(
    running_the_script_equals_the_online_run,
    each_script_through_its_client_equals_the_online_run
);
