//! Hostile configuration and leaked secrets: identifiers are rejected before any
//! SQL is sent, and a password marker appears in no error, `Debug` output, log
//! line or history row.

use crate::capture::Capture;
use crate::support::{migration, migrator_of, with_database, Kind, TestDb};
use alembix_runtime::{Config, Database, Error, Migrator};
use std::fmt::Write as _;

const MARKER: &str = "Pw0rdMARKER7731";

fn set() -> Vec<alembix_runtime::core::SourceFile> {
    vec![
        migration(
            "h1h1h1h1h1h1",
            "none",
            "CREATE TABLE h1 (id INTEGER PRIMARY KEY);",
            "DROP TABLE h1;",
        ),
        migration(
            "h2h2h2h2h2h2",
            "h1h1h1h1h1h1",
            "INSERT INTO h1 (id) VALUES (1);\nINSERT INTO missing_table (id) VALUES (1);",
            "DELETE FROM h1;",
        ),
    ]
}

#[test]
fn hostile_identifiers_are_rejected_before_any_sql() {
    let names = [
        "x; DROP TABLE t; --",
        "alembic_version\"; DROP TABLE t; --",
        "a`b",
        "a'b",
        "a\"b",
        "",
        " ",
        "1abc",
        "a.b",
        "a-b",
        "tab\tle",
        "ünïcode",
        "a\0b",
        &"x".repeat(64),
        // SQLite's reserved prefix, in any case: refused on every backend.
        "sqlite_master",
        "sqlite_version",
        "SQLite_Version",
        "SQLITE_",
    ];
    for name in names {
        let as_table = Config {
            version_table: name.to_string(),
            ..Config::default()
        };
        let err = Migrator::new(empty_set(), as_table).unwrap_err();
        assert!(
            matches!(err, Error::InvalidIdentifier { .. }),
            "{name:?}: {err}"
        );
        let as_schema = Config {
            version_table_schema: Some(name.to_string()),
            ..Config::default()
        };
        let err = Migrator::new(empty_set(), as_schema).unwrap_err();
        assert!(
            matches!(err, Error::InvalidIdentifier { .. }),
            "{name:?}: {err}"
        );
    }
    // The history table's name (table + `_history`) must fit too.
    let long = Config {
        version_table: "v".repeat(60),
        ..Config::default()
    };
    assert!(Migrator::new(empty_set(), long).is_err());
}

/// A version table whose history table (`<name>_history`) would start with
/// SQLite's reserved `sqlite_` is refused too, with a message that says what to
/// do; names that merely contain `sqlite` are fine.
#[test]
fn sqlite_reserved_names_are_rejected_with_advice() {
    for name in ["sqlite_version", "Sqlite_migrations"] {
        let config = Config {
            version_table: name.to_string(),
            ..Config::default()
        };
        let err = Migrator::new(empty_set(), config).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, Error::InvalidIdentifier { setting, .. } if setting == "version_table"),
            "{name}: {text}"
        );
        assert!(text.contains("SQLite reserves"), "{text}");
        assert!(text.contains("does not start with `sqlite_`"), "{text}");
    }
    // `sqlite` itself is a valid table name, but its history table would be
    // `sqlite_history`.
    for name in ["sqlite", "SQLite"] {
        let config = Config {
            version_table: name.to_string(),
            ..Config::default()
        };
        let err = Migrator::new(empty_set(), config).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, Error::InvalidIdentifier { setting, .. } if setting.contains("_history")),
            "{name}: {text}"
        );
        assert!(text.contains("`sqlite_history`"), "{text}");
    }
    for name in ["sqlitex", "app_sqlite_version", "my_sqlite"] {
        let config = Config {
            version_table: name.to_string(),
            ..Config::default()
        };
        assert!(Migrator::new(empty_set(), config).is_ok(), "{name}");
    }
}

fn empty_set() -> alembix_runtime::core::MigrationSet {
    alembix_runtime::core::MigrationSet::from_sources(&[], &Default::default()).unwrap()
}

/// Reserved words and mixed case are valid names: quoted, created exactly.
fn odd_but_valid_table_names_are_created_exactly(t: &TestDb) {
    for name in [
        "order",
        "Select_Revisions",
        "_v1",
        // Contain `sqlite`, but not SQLite's reserved `sqlite_` prefix.
        "app_sqlite_version",
        "sqlitex_version",
    ] {
        let m = migrator_of(
            &set()[..1],
            Config {
                version_table: name.to_string(),
                ..Config::default()
            },
        );
        let mut db = t.connect();
        m.upgrade(&mut db, "heads").unwrap();
        let mut o = t.oracle();
        assert_eq!(o.rows(name), vec!["h1h1h1h1h1h1".to_string()], "{name}");
        assert!(o.tables().contains(&format!("{name}_history")), "{name}");
        o.exec("DROP TABLE h1");
    }
}

fn url_with_password(t: &TestDb, password: &str, port: Option<u16>, db: Option<&str>) -> String {
    let url = with_database(&t.url, db.unwrap_or(&t.name));
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host_and_path) = rest.split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    let host_and_path = match port {
        Some(p) => {
            let (hostport, path) = host_and_path.split_once('/').unwrap();
            let host = hostport.split(':').next().unwrap();
            format!("{host}:{p}/{path}")
        }
        None => host_and_path.to_string(),
    };
    format!("{scheme}://{user}:{password}@{host_and_path}")
}

/// Wrong password, wrong port, unknown database and an SQL error, with a
/// password carrying a marker: the marker is nowhere, host and database are.
fn password_marker_never_leaks(t: &TestDb) {
    if t.kind == Kind::Sqlite {
        // SQLite URLs carry no password; the redaction itself is unit-tested.
        return;
    }
    let capture = Capture::default();
    let mut seen = String::new();
    capture.during(|| {
        let m = migrator_of(&set(), Config::default());
        let cases = [
            url_with_password(t, MARKER, None, None),
            url_with_password(t, MARKER, Some(1), None),
            url_with_password(t, MARKER, None, Some("no_such_database_xyz")),
        ];
        for (i, url) in cases.iter().enumerate() {
            match Database::connect(url) {
                Ok(mut db) => {
                    let _ = write!(seen, "{db:?}\n{}\n", db.redacted_url());
                    // PostgreSQL here trusts local users, so the right user gets in
                    // whatever the password; MariaDB refuses a wrong one.
                    let err = m.upgrade(&mut db, "heads").unwrap_err();
                    let _ = write!(seen, "{err}\n{err:?}\n");
                    assert!(matches!(err, Error::Migration { .. }), "{err}");
                    for entry in m.applied_history(&mut db).unwrap() {
                        let _ = writeln!(seen, "{entry:?}");
                    }
                }
                Err(err) => {
                    let text = format!("{err}\n{err:?}\n");
                    seen.push_str(&text);
                    assert!(text.contains("127.0.0.1"), "the host is named: {text}");
                    if i == 2 {
                        assert!(
                            text.contains("no_such_database_xyz"),
                            "the database is named: {text}"
                        );
                    }
                }
            }
        }
    });
    if t.kind == Kind::Mysql {
        // MariaDB checks the password: every connection above was refused.
        assert!(!seen.contains("Migration"), "{seen}");
    }
    if std::env::var_os("SHOW_ERRORS").is_some() {
        eprintln!("{seen}");
    }
    let logs = capture.text();
    assert!(!logs.is_empty(), "the runtime logs through tracing");
    assert!(
        !seen.contains(MARKER),
        "marker leaked into an error:\n{seen}"
    );
    assert!(
        !logs.contains(MARKER),
        "marker leaked into a log line:\n{logs}"
    );
    let mut o = t.oracle();
    if o.tables().contains(&"alembic_version_history".to_string()) {
        let all = o.strings("SELECT COALESCE(detail, '') AS s FROM alembic_version_history");
        assert!(all.iter().all(|d| !d.contains(MARKER)), "{all:?}");
    }
}

crate::on_all_backends!(
    odd_but_valid_table_names_are_created_exactly,
    password_marker_never_leaks,
);
