//! Histories that declare their dialects (`alembix.toml`): section variants
//! run on the backend they are written for, through the folder and through
//! `embed_migrations!`, and a database of an undeclared dialect is refused
//! before any statement.

use crate::support::{migrator, Kind, TestDb};
use alembix_runtime::core::{Dialects, SqlDialect};
use alembix_runtime::{Config, EmbeddedMigrations, Error, Migrator};

static VARIANTS: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/fixtures/variants");
static POSTGRES_ONLY: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/fixtures/postgres_only");

const NOTES: &str = "e1e1e1e1e1e1";
const TAGS: &str = "e2e2e2e2e2e2";

fn dialect_of(kind: Kind) -> SqlDialect {
    match kind {
        Kind::Sqlite => SqlDialect::Sqlite,
        Kind::Postgres => SqlDialect::Postgres,
        Kind::Mysql => SqlDialect::Mysql,
    }
}

fn variants_run_where_they_are_written(t: &TestDb) {
    let embedded = Migrator::from_embedded(&VARIANTS, Config::default()).unwrap();
    let folder = migrator("variants", Config::default());
    assert_eq!(embedded.dialects(), Dialects::of(&SqlDialect::ALL));
    assert_eq!(folder.dialects(), embedded.dialects());
    let mut db = t.connect();
    let report = embedded.launch(&mut db).unwrap();
    assert_eq!(report.revisions(), vec![NOTES, TAGS]);
    let mut o = t.oracle();
    assert_eq!(o.count("notes"), 1);
    // The key is the backend's own auto-increment: a second row gets id 2.
    o.exec("INSERT INTO notes (body) VALUES ('second')");
    assert_eq!(
        o.number(&format!(
            "SELECT CAST(MAX(id) AS {}) AS n FROM notes",
            o.bigint()
        )),
        2
    );
    // The history records the checksum of the SQL this backend ran; the
    // folder agrees with the binary, so the launch at the heads is one read.
    let dialect = dialect_of(t.kind);
    let set = folder.set().unwrap();
    let history = embedded.applied_history(&mut db).unwrap();
    assert_eq!(
        history[0].checksum,
        set.files()[0].checksum(dialect).as_str()
    );
    let others: Vec<&str> = SqlDialect::ALL
        .into_iter()
        .filter(|&d| d != dialect)
        .map(|d| set.files()[0].checksum(d).as_str())
        .collect();
    assert!(!others.contains(&history[0].checksum.as_str()));
    assert!(folder.launch(&mut db).unwrap().is_empty());
    assert!(folder.check(&mut db).unwrap().is_ok());
    // And back down, through the downgrade variant on MySQL.
    let down = folder.downgrade(&mut db, "base").unwrap();
    assert_eq!(down.revisions(), vec![TAGS, NOTES]);
    assert!(o.user_tables().is_empty());
}

fn an_undeclared_dialect_is_refused_before_any_statement(t: &TestDb) {
    let embedded = Migrator::from_embedded(&POSTGRES_ONLY, Config::default()).unwrap();
    let folder = migrator("postgres_only", Config::default());
    let mut db = t.connect();
    if t.kind == Kind::Postgres {
        assert_eq!(
            embedded.launch(&mut db).unwrap().revisions(),
            vec!["f1f1f1f1f1f1"]
        );
        return;
    }
    for m in [&embedded, &folder] {
        let err = m.launch(&mut db).unwrap_err();
        let Error::UndeclaredDialect { dialect, declared } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*dialect, dialect_of(t.kind).name());
        assert_eq!(declared, "postgresql");
        let text = err.to_string();
        assert!(
            text.contains("written for postgresql (the dialects"),
            "{text}"
        );
        assert!(text.contains("alembix.toml"), "{text}");
        assert!(m.current(&mut db).is_err());
        let script = m.offline_sql(
            alembix_runtime::Dialect::Sqlite,
            alembix_runtime::OfflineCommand::Upgrade("heads"),
        );
        assert!(matches!(script, Err(Error::UndeclaredDialect { .. })));
    }
    // Nothing was created: not even the version table.
    assert!(t.oracle().tables().is_empty());
}

/// The one-call launch refuses the URL of an undeclared dialect before it
/// connects: the SQLite file the URL names is not created.
#[test]
fn a_sqlite_url_is_refused_before_the_file_exists() {
    let dir = std::env::temp_dir().join(format!("alembix-undeclared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.sqlite");
    let url = format!("sqlite://{}", file.display());
    let err = alembix_runtime::Migrations::embedded(&POSTGRES_ONLY)
        .launch(Some(&url))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UndeclaredDialect {
                dialect: "sqlite",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

crate::on_all_backends!(
    variants_run_where_they_are_written,
    an_undeclared_dialect_is_refused_before_any_statement,
);
