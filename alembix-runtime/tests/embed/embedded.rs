//! The API of an embedded set, on the valid fixtures.

use crate::TestResult;
use alembix_runtime::core::SqlDialect;
use alembix_runtime::core::TransactionMode;
use alembix_runtime::EmbeddedMigrations;

static MERGED: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");
static LABELLED_HEADS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/labelled_heads");

#[test]
fn migrations_are_in_load_order_with_their_header() -> TestResult {
    assert_eq!(MERGED.len(), 8);
    assert!(!MERGED.is_empty());
    let first = MERGED.migrations().get(0).ok_or("no migration")?;
    assert_eq!(first.revision(), "1a2b3c4d5e6f");
    assert!(first.down_revisions().is_empty());
    assert_eq!(first.message(), "create users");
    assert_eq!(first.create_date(), Some("2026-01-01 09:00:00"));
    assert_eq!(
        first.file(),
        "tests/ui/fixtures/merged/2026-01-01_create_users_1a2b3c4d5e6f.sql"
    );
    assert_eq!(first.transaction(), TransactionMode::PerMigration);
    assert_eq!(first.header_lines().revision, 1);
    assert_eq!(first.header_lines().down_revision, 2);
    assert!(first
        .checksum(SqlDialect::Sqlite)
        .to_string()
        .starts_with("sha256:"));
    assert_eq!(
        first.checksum(SqlDialect::Sqlite),
        first.checksum(SqlDialect::Sqlite).to_string().as_str()
    );
    assert_ne!(first.checksum(SqlDialect::Sqlite), "sha256:0000");

    let notes = MERGED.get("5e6f708192a3");
    assert_eq!(
        notes.map(|m| m.depends_on().collect()),
        Some(vec!["search"])
    );
    assert_eq!(MERGED.get("ffffffffffff").map(|m| m.revision()), None);

    // The list of migrations is an iterator that also answers by position.
    let mut migrations = MERGED.migrations();
    assert_eq!(migrations.len(), 8);
    assert_eq!(
        migrations.nth(6).map(|m| m.revision()),
        Some("708192a3b4c5")
    );
    assert_eq!(
        migrations.get(0).map(|m| m.revision()),
        Some("8192a3b4c5d6")
    );
    assert_eq!(migrations.get(1).map(|m| m.revision()), None);
    let backwards: Vec<&str> = MERGED.migrations().rev().map(|m| m.revision()).collect();
    assert_eq!(backwards.first(), Some(&"8192a3b4c5d6"));
    assert_eq!(backwards.len(), 8);
    Ok(())
}

#[test]
fn sections_keep_their_text_and_statements() -> TestResult {
    let email = MERGED
        .get("2b3c4d5e6f70")
        .ok_or("2b3c4d5e6f70 is not embedded")?;
    let upgrade = email.upgrade();
    assert_eq!(upgrade.line(), 6);
    assert!(upgrade.sql().contains("-- a comment between statements"));
    let statements: Vec<(u32, &str)> = upgrade
        .statements(SqlDialect::Sqlite)
        .map(|s| (s.line(), s.sql()))
        .collect();
    assert_eq!(
        statements,
        [
            (7, "ALTER TABLE users ADD COLUMN email TEXT"),
            (9, "CREATE UNIQUE INDEX users_email ON users (email)"),
        ]
    );
    let downgrade = email
        .downgrade()
        .map(|d| d.statements(SqlDialect::Sqlite).len());
    assert_eq!(downgrade, Some(2));

    // A `;` inside a string literal does not split a statement.
    let notes = MERGED
        .get("5e6f708192a3")
        .and_then(|m| m.upgrade().statements(SqlDialect::Sqlite).get(0))
        .map(|s| s.sql());
    assert_eq!(
        notes,
        Some("ALTER TABLE invoices ADD COLUMN notes TEXT DEFAULT 'none; really'")
    );
    // A downgrade that is only a comment is a deliberate no-op: no statement.
    let noop = MERGED
        .get("5e6f708192a3")
        .and_then(|m| m.downgrade())
        .map(|d| d.statements(SqlDialect::Sqlite).len());
    assert_eq!(noop, Some(0));
    Ok(())
}

#[test]
fn merges_labels_and_irreversible_migrations() {
    assert_eq!(MERGED.heads(), ["8192a3b4c5d6"]);
    let merge = MERGED.get("6f708192a3b4");
    assert_eq!(
        merge.map(|m| m.down_revisions().collect()),
        Some(vec!["5e6f708192a3", "4d5e6f708192"])
    );
    assert_eq!(
        merge.map(|m| m.down_revisions().get(1)),
        Some(Some("4d5e6f708192"))
    );
    assert_eq!(
        merge.map(|m| m.upgrade().statements(SqlDialect::Sqlite).len()),
        Some(0)
    );
    assert_eq!(
        merge.map(|m| m.upgrade().statements(SqlDialect::Sqlite).is_empty()),
        Some(true)
    );
    let search = MERGED
        .get("4d5e6f708192")
        .map(|m| m.branch_labels().collect());
    assert_eq!(search, Some(vec!["search"]));
    let index = MERGED.get("708192a3b4c5").map(|m| m.transaction());
    assert_eq!(index, Some(TransactionMode::None));
    let backfill = MERGED.get("8192a3b4c5d6");
    assert_eq!(backfill.map(|m| m.is_reversible()), Some(false));
    assert!(backfill.is_some_and(|m| m.downgrade().is_none()));
}

#[test]
fn independent_labelled_branches_are_two_heads() {
    assert_eq!(LABELLED_HEADS.heads(), ["b1b1b1b1b1b1", "a2a2a2a2a2a2"]);
}

#[test]
fn to_set_rebuilds_the_graph() -> TestResult {
    let set = MERGED.to_set()?;
    let graph = set.graph();
    assert_eq!(graph.len(), 8);
    assert_eq!(graph.ids(graph.heads()), ["8192a3b4c5d6"]);
    let merges: Vec<&str> = graph
        .merge_points()
        .map(|i| graph.rev(i).id.as_str())
        .collect();
    assert_eq!(merges, ["6f708192a3b4"]);
    let labelled = LABELLED_HEADS.to_set()?;
    assert_eq!(labelled.graph().heads().len(), 2);
    Ok(())
}

#[test]
fn debug_shows_the_sql_not_the_whole_text() -> TestResult {
    let first = MERGED.migrations().get(0).ok_or("no migration")?;
    let statement = first
        .upgrade()
        .statements(SqlDialect::Sqlite)
        .get(0)
        .ok_or("no statement")?;
    let debug = format!("{statement:?}");
    assert!(
        debug.starts_with("EmbeddedStatement { line: 7, sql: \"CREATE TABLE users ("),
        "{debug}"
    );
    assert!(!debug.contains("DROP TABLE users"), "{debug}");
    let debug = format!("{first:?}");
    assert!(debug.contains("down_revisions: [], "), "{debug}");
    assert!(debug.contains("checksum: \"sha256:"), "{debug}");
    let debug = format!(
        "{:?}",
        MERGED.get("6f708192a3b4").map(|m| m.down_revisions())
    );
    assert_eq!(debug, "Some([\"5e6f708192a3\", \"4d5e6f708192\"])");
    Ok(())
}

#[test]
fn an_empty_folder_embeds_an_empty_set() -> TestResult {
    static EMPTY: EmbeddedMigrations =
        alembix_runtime::embed_migrations!("tests/ui/fixtures/empty");
    assert!(EMPTY.is_empty());
    assert_eq!(EMPTY.migrations().count(), 0);
    assert!(EMPTY.heads().is_empty());
    assert!(EMPTY.to_set()?.files().is_empty());
    Ok(())
}
