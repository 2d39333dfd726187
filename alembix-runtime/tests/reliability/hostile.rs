//! Hostile input: configured identifiers and connection URLs.
//!
//! - Version-table names carrying SQL (`x; DROP TABLE t; --`, quotes,
//!   backticks, comments, NUL, Unicode, overlong) are rejected by
//!   `Migrator::new`, which holds no connection: no SQL can have been sent,
//!   and a `tracing` capture at TRACE level (the runtime traces every
//!   statement it sends) shows none. A property test over arbitrary strings:
//!   each is either rejected, or a real launch creates tables with exactly
//!   that name (`information_schema` / `sqlite_master`, compared byte for
//!   byte) and applies the migration exactly once.
//! - A password carrying a unique marker, with a wrong password, a wrong
//!   port, an unknown database, and SQL errors after connecting: the marker
//!   appears in no error text, no `Debug` output, no `tracing` event and no
//!   history row, while the host and the database name do appear.

use crate::capture::Capture;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::support::with_database;
use crate::support::{migration, Kind, Oracle, TestDb};
use alembix_runtime::core::{GraphOptions, MigrationSet};
use alembix_runtime::{Config, Error, Migrator};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use std::cell::RefCell;

/// The rule, written independently of the runtime: a version table name is
/// `[A-Za-z_][A-Za-z0-9_]*` and at most 55 bytes, so that `<name>_history`
/// fits PostgreSQL's 63.
fn acceptable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 55
}

fn probe_set() -> MigrationSet {
    MigrationSet::from_sources(
        &[migration(
            "hp01probe001",
            "none",
            "INSERT INTO probe_9q (id) VALUES (1);",
            "DELETE FROM probe_9q;",
        )],
        &GraphOptions::default(),
    )
    .expect("valid set")
}

const HOSTILE: &[&str] = &[
    "x; DROP TABLE t; --",
    "alembic_version\"; DROP TABLE t; --",
    "Robert'); DROP TABLE t;--",
    "' OR '1'='1",
    "a'b",
    "a\"b",
    "a`b",
    "`t`",
    "t` (x int); DROP TABLE t; -- ",
    "x/* comment */",
    "x--",
    "x\\",
    "x$y",
    "%s",
    "",
    " ",
    "a b",
    "a.b",
    "public.t",
    "1abc",
    "tab\tle",
    "new\nline",
    "a\0b",
    "ünïcode",
    "ｘ",
];

fn hostile_names_are_rejected_before_any_sql(kind: Kind) {
    let label = format!("{kind:?} hostile version-table names");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    let mut o = t.oracle();
    o.exec("CREATE TABLE t (id INTEGER)");
    let too_long = "x".repeat(64);
    let capture = Capture::default();
    let mut tried = 0;
    capture.during(|| {
        // Connected, as a service would be when it reads its configuration.
        let _db = t.connect();
        for name in HOSTILE.iter().copied().chain([too_long.as_str()]) {
            for schema in [false, true] {
                let config = if schema {
                    Config {
                        version_table_schema: Some(name.to_string()),
                        ..Config::default()
                    }
                } else {
                    Config {
                        version_table: name.to_string(),
                        ..Config::default()
                    }
                };
                tried += 1;
                match Migrator::new(probe_set(), config) {
                    Err(Error::InvalidIdentifier { reason, .. }) => {
                        assert!(!reason.is_empty(), "{label}: {name:?}")
                    }
                    other => panic!("{label}: {name:?} (schema: {schema}) accepted: {other:?}"),
                }
            }
        }
        // 56 characters: a valid schema, but `<name>_history` would not fit.
        tried += 1;
        let long_table = Config {
            version_table: "x".repeat(56),
            ..Config::default()
        };
        assert!(
            matches!(
                Migrator::new(probe_set(), long_table),
                Err(Error::InvalidIdentifier { .. })
            ),
            "{label}: a version table whose history table name would be too long"
        );
    });
    let logs = capture.text();
    assert!(
        logs.contains("connected"),
        "{label}: the capture works:\n{logs}"
    );
    assert!(
        !logs.contains("sql="),
        "{label}: SQL was sent while rejecting names:\n{logs}"
    );
    assert_eq!(
        o.tables(),
        vec!["t".to_string()],
        "{label}: nothing created or dropped"
    );
    crate::tally(&format!("{label}: {tried} settings rejected, no SQL sent"));
}

/// Every table of the database, exactly as the catalog spells it.
fn catalog_tables(o: &mut Oracle) -> Vec<String> {
    o.tables()
}

fn drop_table(o: &mut Oracle, name: &str) {
    let quoted = o.quote(name);
    o.exec(&format!("DROP TABLE {quoted}"));
}

fn arbitrary_names_are_rejected_or_created_exactly(kind: Kind) {
    let label = format!("{kind:?} arbitrary version-table names");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    let mut o = t.oracle();
    o.exec("CREATE TABLE probe_9q (id INTEGER)");
    let db = t.connect();
    let cases = if crate::full() { 96 } else { 32 };
    let strategy = prop_oneof![
        any::<String>(),
        "[A-Za-z_][A-Za-z0-9_]{0,20}",
        "[A-Za-z_][A-Za-z0-9_]{50,58}",
        "[A-Za-z0-9_ ;'\"`\\\\.$/*-]{0,16}",
        "(x|a_b|T)(;|'|\"|`| |--|/\\*|\\\\)(DROP TABLE probe_9q|x|)",
        "[a-z]{1,6}[\\x00-\\x1f\\x7f-\\u{ff}][a-z]{0,4}",
    ];
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    // TestRunner::run takes a `Fn`: the connections and counts live in cells.
    let cell = RefCell::new((o, db, 0i64, 0i64));
    let result = runner.run(&strategy, |name| {
        let mut guard = cell.borrow_mut();
        let (o, db, accepted, rejected) = &mut *guard;
        let config = Config {
            version_table: name.clone(),
            ..Config::default()
        };
        let migrator = Migrator::new(probe_set(), config);
        let tables_before = catalog_tables(o);
        match migrator {
            Err(Error::InvalidIdentifier { .. }) => {
                prop_assert!(!acceptable(&name), "{:?} was rejected", name);
                prop_assert_eq!(&catalog_tables(o), &tables_before);
                *rejected += 1;
            }
            Err(other) => {
                return Err(TestCaseError::fail(format!("{name:?}: {other}")));
            }
            Ok(m) if kind == Kind::Sqlite && name.to_ascii_lowercase().starts_with("sqlite_") => {
                // Valid, but SQLite reserves the prefix: the launch fails closed.
                prop_assert!(acceptable(&name), "{:?} was accepted", name);
                let err = m.upgrade(db, "heads").err();
                prop_assert!(
                    err.as_ref()
                        .is_some_and(|e| e.to_string().contains("reserved")),
                    "{:?}: {:?}",
                    name,
                    err
                );
                prop_assert_eq!(&catalog_tables(o), &tables_before);
                *rejected += 1;
            }
            Ok(m) => {
                prop_assert!(acceptable(&name), "{:?} was accepted", name);
                let report = m
                    .upgrade(db, "heads")
                    .map_err(|e| TestCaseError::fail(format!("{name:?}: {e}")))?;
                prop_assert_eq!(report.revisions(), vec!["hp01probe001"]);
                let history = format!("{name}_history");
                let now = catalog_tables(o);
                prop_assert!(now.contains(&name), "{:?} not in {:?}", name, now);
                prop_assert!(now.contains(&history), "{:?} not in {:?}", history, now);
                let mut created: Vec<String> = now
                    .into_iter()
                    .filter(|t| !tables_before.contains(t))
                    .collect();
                created.sort();
                let mut expected = vec![name.clone(), history.clone()];
                expected.sort();
                prop_assert_eq!(created, expected, "exactly these two tables");
                prop_assert_eq!(o.rows(&name), vec!["hp01probe001".to_string()]);
                drop_table(o, &history);
                drop_table(o, &name);
                *accepted += 1;
                prop_assert_eq!(o.count("probe_9q"), *accepted, "applied exactly once");
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{label}: {e}");
    }
    let (mut o, _db, accepted, rejected) = cell.into_inner();
    assert_eq!(o.tables(), vec!["probe_9q".to_string()], "{label}");
    crate::tally(&format!(
        "{label}: {} inputs, {rejected} rejected, {accepted} created exactly and applied once",
        rejected + accepted
    ));
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
const MARKER: &str = "Mk7LeakQz93";

/// `url` with user, password, port and database replaced.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn url_with(
    t: &TestDb,
    user: &str,
    password: &str,
    port: Option<u16>,
    database: Option<&str>,
) -> String {
    let url = with_database(&t.url, database.unwrap_or(&t.name));
    let (scheme, rest) = url.split_once("://").expect("a server URL");
    let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host_and_path = match port {
        Some(p) => {
            let (hostport, path) = host_and_path.split_once('/').expect("a path");
            let host = hostport.split(':').next().unwrap_or(hostport);
            format!("{host}:{p}/{path}")
        }
        None => host_and_path.to_string(),
    };
    if password.is_empty() {
        format!("{scheme}://{user}@{host_and_path}")
    } else {
        format!("{scheme}://{user}:{password}@{host_and_path}")
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn password_marker_never_leaks(kind: Kind) {
    use std::fmt::Write as _;
    let label = format!("{kind:?} password marker");
    let Some(t) = TestDb::create(kind, &label) else {
        return;
    };
    let mut o = t.oracle();
    // A user whose real password carries the marker.
    let user = match kind {
        Kind::Mysql => {
            let user = format!("leak_{}", std::process::id());
            for host in ["%", "localhost", "127.0.0.1"] {
                o.exec(&format!(
                    "CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{MARKER}'"
                ));
                o.exec(&format!("GRANT ALL ON `{}`.* TO '{user}'@'{host}'", t.name));
            }
            user
        }
        // The test server trusts local users: any password gets in.
        _ => "postgres".to_string(),
    };
    let host = "127.0.0.1";
    let unknown = "no_such_database_leak";
    let mut cases: Vec<(&str, String)> = vec![
        ("right password", url_with(&t, &user, MARKER, None, None)),
        (
            "wrong password",
            url_with(&t, &user, &format!("{MARKER}x"), None, None),
        ),
        (
            "wrong password, percent-encoded",
            url_with(&t, &user, &format!("{MARKER}%2F%40x"), None, None),
        ),
        ("wrong port", url_with(&t, &user, MARKER, Some(1), None)),
        (
            "unknown database",
            url_with(&t, &user, MARKER, None, Some(unknown)),
        ),
    ];
    if kind == Kind::Postgres {
        cases.push((
            "password as a query parameter",
            format!("{}?password={MARKER}", url_with(&t, &user, "", None, None)),
        ));
        cases.push((
            "bad option beside the password",
            format!(
                "{}?password={MARKER}&sslmode=bogus",
                url_with(&t, &user, "", None, None)
            ),
        ));
    }
    let broken = crate::fixtures::migrator(kind, "broken");
    let capture = Capture::default();
    let mut seen = String::new();
    let mut connected = 0;
    capture.during(|| {
        for (case, url) in &cases {
            match alembix_runtime::Database::connect(url) {
                Ok(mut db) => {
                    connected += 1;
                    let _ = writeln!(seen, "{case}: {db:?} {}", db.redacted_url());
                    assert!(db.redacted_url().contains(host), "{label}: {case}");
                    // SQL errors after connecting: a failing migration, twice.
                    for _ in 0..2 {
                        let err = broken.upgrade(&mut db, "heads").unwrap_err();
                        let _ = writeln!(seen, "{case}: {err}\n{err:?}");
                    }
                    let _ = writeln!(seen, "{case}: {db:?}");
                }
                Err(err) => {
                    let text = format!("{err}\n{err:?}");
                    assert!(
                        matches!(err, Error::Connect { .. }),
                        "{label}: {case}: {text}"
                    );
                    assert!(
                        text.contains(host),
                        "{label}: {case}: the host is named: {text}"
                    );
                    let database = if *case == "unknown database" {
                        unknown
                    } else {
                        t.name.as_str()
                    };
                    assert!(
                        text.contains(database),
                        "{label}: {case}: the database is named: {text}"
                    );
                    let _ = writeln!(seen, "{case}: {text}");
                }
            }
        }
    });
    if std::env::var_os("SHOW_ERRORS").is_some() {
        eprintln!("{seen}");
    }
    assert!(connected > 0, "{label}: the SQL-error path ran");
    let logs = capture.text();
    assert!(
        logs.contains("sql="),
        "{label}: the capture sees the runtime's statements"
    );
    assert!(
        !seen.contains(MARKER),
        "{label}: the marker leaked:\n{seen}"
    );
    assert!(
        !logs.contains(MARKER),
        "{label}: the marker leaked into a log:\n{logs}"
    );
    let text_columns = match kind {
        Kind::Mysql => "CONCAT_WS('|', revision, down_revisions, depends_on, operation, state, checksum, COALESCE(message, ''), COALESCE(detail, ''), tool, COALESCE(applied_digest, ''))",
        _ => "revision || down_revisions || depends_on || operation || state || checksum || COALESCE(message, '') || COALESCE(detail, '') || tool || COALESCE(applied_digest, '')",
    };
    let rows = o.strings(&format!(
        "SELECT {text_columns} AS s FROM alembic_version_history"
    ));
    assert!(!rows.is_empty(), "{label}: the failures were recorded");
    assert!(
        rows.iter().all(|r| !r.contains(MARKER)),
        "{label}: the marker is in a history row: {rows:?}"
    );
    if kind == Kind::Mysql {
        for host in ["%", "localhost", "127.0.0.1"] {
            let _ = o.try_exec(&format!("DROP USER IF EXISTS '{user}'@'{host}'"));
        }
    }
    crate::tally(&format!(
        "{label}: {} URLs ({connected} connected and failed in SQL), marker in no error, Debug, log line or history row",
        cases.len()
    ));
}

#[test]
fn sqlite_hostile_names_are_rejected_before_any_sql() {
    hostile_names_are_rejected_before_any_sql(Kind::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_hostile_names_are_rejected_before_any_sql() {
    hostile_names_are_rejected_before_any_sql(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_hostile_names_are_rejected_before_any_sql() {
    hostile_names_are_rejected_before_any_sql(Kind::Mysql);
}

#[test]
fn sqlite_arbitrary_version_table_names() {
    arbitrary_names_are_rejected_or_created_exactly(Kind::Sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_arbitrary_version_table_names() {
    arbitrary_names_are_rejected_or_created_exactly(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_arbitrary_version_table_names() {
    arbitrary_names_are_rejected_or_created_exactly(Kind::Mysql);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_password_marker_never_leaks() {
    password_marker_never_leaks(Kind::Postgres);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_password_marker_never_leaks() {
    password_marker_never_leaks(Kind::Mysql);
}
