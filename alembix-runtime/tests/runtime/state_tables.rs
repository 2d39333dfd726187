//! The tables the runtime keeps its state in, as hostile testing found them:
//! of a wrong shape (checked before anything runs, from `check` too), left
//! behind by a refused run, named by the hundred in an "ahead" message, or
//! read-only.

use crate::support::{migration, migrator_of, Kind, TestDb};
use alembix_runtime::core::SourceFile;
use alembix_runtime::{Config, Error, StampMode};

const R1: &str = "st1st1st1st1";
const R2: &str = "st2st2st2st2";

fn two() -> Vec<SourceFile> {
    vec![
        migration(
            R1,
            "none",
            "CREATE TABLE st_one (id INTEGER);",
            "DROP TABLE st_one;",
        ),
        migration(
            R2,
            R1,
            "CREATE TABLE st_two (id INTEGER);",
            "DROP TABLE st_two;",
        ),
    ]
}

/// Every way in: launch, check, current, stamp. Each refuses with the one
/// shape error, and nothing of the history runs.
fn assert_refused_everywhere(t: &TestDb, says: &str) {
    let migrator = migrator_of(&two(), Config::default());
    let mut db = t.connect();
    let errors = [
        migrator.launch(&mut db).err(),
        migrator.check(&mut db).err(),
        migrator.current(&mut db).err(),
        migrator.stamp(&mut db, &["heads"], StampMode::Keep).err(),
    ];
    for err in errors {
        let err = err.expect("a wrong-shape table is refused");
        assert!(matches!(err, Error::VersionTable(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(says), "{says:?} not in: {text}");
        assert!(text.contains("Nothing was run"), "{text}");
    }
    let mut o = t.oracle();
    assert!(
        !o.tables().iter().any(|t| t == "st_one"),
        "{:?}",
        o.tables()
    );
}

fn version_num_is_an_integer(t: &TestDb) {
    t.oracle()
        .exec("CREATE TABLE alembic_version (version_num INTEGER NOT NULL PRIMARY KEY)");
    assert_refused_everywhere(t, "a text column is needed");
}

fn version_num_is_too_short(t: &TestDb) {
    if t.kind == Kind::Sqlite {
        return; // SQLite does not enforce lengths: VARCHAR(8) holds any id.
    }
    t.oracle()
        .exec("CREATE TABLE alembic_version (version_num VARCHAR(8) NOT NULL PRIMARY KEY)");
    assert_refused_everywhere(t, "holds 8 characters");
}

fn an_extra_required_column(t: &TestDb) {
    t.oracle().exec(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY, owner VARCHAR(20) NOT NULL)",
    );
    assert_refused_everywhere(t, "'alembic_version'.owner is NOT NULL without a default");
}

fn a_view_under_our_name(t: &TestDb) {
    let mut o = t.oracle();
    o.exec("CREATE TABLE elsewhere (version_num VARCHAR(32) NOT NULL)");
    o.exec("CREATE VIEW alembic_version AS SELECT version_num FROM elsewhere");
    assert_refused_everywhere(t, "'alembic_version' is a view, not a table");
}

fn a_history_table_that_is_not_ours(t: &TestDb) {
    t.oracle().exec(
        "CREATE TABLE alembic_version_history (id BIGINT PRIMARY KEY, revision VARCHAR(32) NOT NULL)",
    );
    assert_refused_everywhere(t, "'alembic_version_history' has no column down_revisions");
}

fn alembic_s_own_table_is_taken_over(t: &TestDb) {
    // The table Alembic creates passes the check, on every backend.
    t.oracle().exec(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
    );
    let migrator = migrator_of(&two(), Config::default());
    let mut db = t.connect();
    migrator
        .launch(&mut db)
        .expect("Alembic's table is ours to use");
    assert_eq!(t.oracle().rows("alembic_version"), vec![R2.to_string()]);
}

fn refused_runs_leave_a_new_database_untouched(t: &TestDb) {
    let migrator = migrator_of(&two(), Config::default());
    let mut db = t.connect();
    let refused = [
        migrator.downgrade(&mut db, "-1").err(),
        migrator.downgrade(&mut db, "nosuchrev").err(),
        migrator
            .stamp(&mut db, &["nosuchrev"], StampMode::Keep)
            .err(),
        migrator.upgrade(&mut db, "nosuchrev").err(),
    ];
    for err in refused {
        assert!(matches!(err, Some(Error::Plan(_))), "{err:?}");
    }
    let mut o = t.oracle();
    assert!(
        o.tables().is_empty(),
        "a refused run created {:?}",
        o.tables()
    );
    // A run that does something still leaves both tables.
    migrator
        .stamp(&mut db, &["base"], StampMode::Keep)
        .expect("stamp base");
    let tables = t.oracle().tables();
    assert!(
        tables.contains(&"alembic_version".to_string()),
        "{tables:?}"
    );
    assert!(
        tables.contains(&"alembic_version_history".to_string()),
        "{tables:?}"
    );
}

fn an_ahead_database_is_named_by_its_rows(t: &TestDb) {
    // A newer binary applied 40 revisions on top of the two this one has.
    let mut newer = two();
    let mut parent = R2.to_string();
    for i in 0..40 {
        let id = format!("ahead{i:03}xx");
        newer.push(migration(&id, &parent, "SELECT 1;", "SELECT 1;"));
        parent = id;
    }
    let mut db = t.connect();
    migrator_of(&newer, Config::default())
        .launch(&mut db)
        .expect("the newer binary migrates");
    let older = migrator_of(&two(), Config::default());
    let err = older.launch(&mut db).expect_err("ahead is refused");
    let Error::DatabaseAhead { unknown } = &err else {
        panic!("expected DatabaseAhead, got {err:?}");
    };
    assert_eq!(unknown, &vec!["ahead039xx".to_string()]);
    let text = err.to_string();
    assert!(
        text.contains("ahead039xx") && !text.contains("ahead038xx"),
        "{text}"
    );
    let report = older.check(&mut db).expect("check reads");
    assert!(
        matches!(&report.standing, alembix_runtime::Standing::Ahead { unknown } if unknown == &vec!["ahead039xx".to_string()]),
        "{:?}",
        report.standing
    );
}

fn a_read_only_database_says_so(t: &TestDb) {
    let url = match t.kind {
        Kind::Postgres => {
            t.oracle().exec(&format!(
                "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
                t.name
            ));
            t.url.clone()
        }
        // MySQL's read_only is server-wide; a test cannot set it without
        // disturbing every other test on the server.
        Kind::Mysql => return,
        Kind::Sqlite => {
            let path = t.sqlite_path().expect("a file database");
            // Create the file, then open it read-only.
            t.oracle().exec("CREATE TABLE present (id INTEGER)");
            format!("file:{}?mode=ro", path.display())
        }
    };
    let mut db = alembix_runtime::Database::connect(&url).expect("connects");
    let err = migrator_of(&two(), Config::default())
        .launch(&mut db)
        .expect_err("a read-only database refuses the upgrade");
    let text = err.to_string();
    assert!(text.contains("the database is read-only"), "{text}");
    assert!(!text.contains("Fix the SQL"), "{text}");
}

/// Another session holds a lock on the version table and keeps it: every
/// command answers within the configured `lock_timeout`, with an error that
/// says so. (The channel's long wait only keeps a regression from hanging
/// the suite; it measures nothing.)
fn a_lock_held_elsewhere_bounds_every_statement(t: &TestDb) {
    let migrator = migrator_of(&two(), Config::default());
    migrator
        .upgrade(&mut t.connect(), R1)
        .expect("first revision applied");
    let mut holder = t.oracle();
    match t.kind {
        Kind::Postgres => {
            holder.exec("BEGIN");
            holder.exec("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE");
        }
        Kind::Mysql => holder.exec("LOCK TABLES alembic_version WRITE"),
        Kind::Sqlite => holder.exec("BEGIN EXCLUSIVE"),
    }
    let config = Config {
        lock_timeout: std::time::Duration::from_millis(500),
        ..Config::default()
    };
    let (send, receive) = std::sync::mpsc::channel();
    let url = t.url.clone();
    std::thread::spawn(move || {
        let migrator = migrator_of(&two(), config);
        let mut db = alembix_runtime::Database::connect(&url).expect("connects");
        let answers = [
            migrator.current(&mut db).map(|_| ()).err(),
            migrator.check(&mut db).map(|_| ()).err(),
            migrator.launch(&mut db).map(|_| ()).err(),
        ];
        let _ = send.send(answers.map(|e| e.map(|e| e.to_string())));
    });
    let answers = receive
        .recv_timeout(std::time::Duration::from_secs(300))
        .expect("every command answers while the lock is held");
    for answer in answers {
        let text = answer.expect("refused while the lock is held");
        assert!(
            text.contains("lock_timeout") || text.contains("migration lock"),
            "{text}"
        );
    }
    drop(holder);
    assert_eq!(t.oracle().rows("alembic_version"), vec![R1.to_string()]);
}

crate::on_all_backends!(
    a_database_never_stamped_is_told_to_stamp,
    a_lock_held_elsewhere_bounds_every_statement,
    version_num_is_an_integer,
    version_num_is_too_short,
    an_extra_required_column,
    a_view_under_our_name,
    a_history_table_that_is_not_ours,
    alembic_s_own_table_is_taken_over,
    refused_runs_leave_a_new_database_untouched,
    an_ahead_database_is_named_by_its_rows,
    a_read_only_database_says_so,
);

#[cfg(feature = "postgres")]
mod postgres_only {
    use super::*;
    use crate::support::run;

    /// PostgreSQL pads a `CHAR(32)`: our own revision would read back unknown.
    fn a_padded_version_column(t: &TestDb) {
        t.oracle()
            .exec("CREATE TABLE alembic_version (version_num CHAR(32) NOT NULL PRIMARY KEY)");
        assert_refused_everywhere(
            t,
            "ALTER TABLE alembic_version ALTER COLUMN version_num TYPE VARCHAR(32)",
        );
    }

    #[test]
    fn padded_version_column() {
        run(
            Kind::Postgres,
            "padded_version_column",
            a_padded_version_column,
        );
    }
}

/// A database whose schema was made before this tool (its first migration's
/// table exists, the version table is empty): the failure says to `stamp`.
fn a_database_never_stamped_is_told_to_stamp(t: &TestDb) {
    t.oracle().exec("CREATE TABLE st_one (id INTEGER)");
    let migrator = migrator_of(&two(), Config::default());
    let mut db = t.connect();
    let err = migrator.launch(&mut db).expect_err("st_one exists");
    let text = err.to_string();
    assert!(
        matches!(err, Error::Migration { hint: Some(_), .. }),
        "{err:?}"
    );
    assert!(
        text.contains("`Migrator::stamp(&mut db, &[\"REVISION\"], StampMode::Keep)`"),
        "{text}"
    );
    assert!(!text.contains("Fix the SQL"), "{text}");
    if t.kind == Kind::Mysql {
        assert!(text.contains("RepairAction::RolledBack"), "{text}");
        migrator
            .repair(
                &mut db,
                R1,
                alembix_runtime::RepairAction::RolledBack,
                "existed before",
            )
            .expect("repair");
    }
    migrator
        .stamp(&mut db, &[R1], StampMode::Keep)
        .expect("stamp the baseline");
    migrator.launch(&mut db).expect("then the rest runs");
    assert_eq!(t.oracle().rows("alembic_version"), vec![R2.to_string()]);

    // A database this tool migrated before gets no such hint.
    migrator.downgrade(&mut db, R1).expect("back to R1");
    t.oracle().exec("CREATE TABLE st_two (id INTEGER)");
    let err = migrator.launch(&mut db).expect_err("st_two exists");
    assert!(
        matches!(err, Error::Migration { hint: None, .. }),
        "{err:?}"
    );
}
