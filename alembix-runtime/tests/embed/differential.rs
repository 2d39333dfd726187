//! The embedded set equals what the runtime loads from the same folder at run
//! time with `scan_folder` + `MigrationSet::from_sources`: ids, parents, labels,
//! order, SQL, statements (per dialect, with what each leaves unterminated),
//! checksums, heads and the whole graph.

use crate::TestResult;
use alembix_runtime::core::scan::{read_settings, scan_folder};
use alembix_runtime::core::{Checksum, GraphOptions, MigrationSet, SqlDialect};
use alembix_runtime::EmbeddedMigrations;
use std::path::Path;
use std::time::Duration;

static MERGED: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");
static LABELLED_HEADS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/labelled_heads");
static DIALECTS: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/fixtures/dialects");
static VARIANTS: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/fixtures/variants");
static TIMEOUTS: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/fixtures/timeouts");

fn scanned(folder: &str) -> Result<MigrationSet, Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = scan_folder(root, folder)?;
    let settings = read_settings(root, folder)?;
    Ok(MigrationSet::from_sources_with_settings(
        &sources,
        &GraphOptions::default(),
        &settings,
    )?)
}

fn assert_same(embedded: &EmbeddedMigrations, folder: &str) -> TestResult {
    let scanned = scanned(folder)?;
    assert_eq!(embedded.len(), scanned.files().len());
    assert_eq!(embedded.migrations().len(), scanned.files().len());
    for (m, f) in embedded.migrations().zip(scanned.files()) {
        // Field by field, through the public accessors…
        assert_eq!(m.revision(), f.revision);
        assert_eq!(m.down_revisions().collect::<Vec<_>>(), f.down_revisions);
        assert_eq!(m.branch_labels().collect::<Vec<_>>(), f.branch_labels);
        assert_eq!(m.depends_on().collect::<Vec<_>>(), f.depends_on);
        assert_eq!(m.message(), f.message);
        assert_eq!(m.create_date(), f.create_date.as_deref());
        assert_eq!(m.file(), f.file);
        assert_eq!(m.transaction(), f.transaction);
        assert_eq!(m.timeouts(), f.timeouts);
        for dialect in SqlDialect::ALL {
            assert_eq!(
                m.checksum(dialect).to_string(),
                f.checksum(dialect).as_str()
            );
            assert_eq!(
                m.checksum(dialect),
                Checksum::of_sql(f.upgrade.text(dialect).unwrap_or_default())
            );
        }
        assert_eq!(m.header_lines(), f.lines);
        assert_eq!(m.upgrade().line(), f.upgrade.line);
        assert_eq!(m.upgrade().sql(), f.upgrade.sql);
        let sections = [Some(m.upgrade()), m.downgrade()];
        let expected = [Some(&f.upgrade), f.downgrade.as_ref()];
        for (section, expected) in sections.iter().zip(expected) {
            assert_eq!(section.map(|s| s.line()), expected.map(|s| s.line));
            assert_eq!(section.map(|s| s.sql()), expected.map(|s| s.sql.as_str()));
            assert_eq!(
                section.map(|s| s.has_variants()),
                expected.map(|s| s.has_variants())
            );
            for dialect in SqlDialect::ALL {
                assert_eq!(
                    section.and_then(|s| s.text(dialect)),
                    expected.and_then(|s| s.text(dialect)),
                    "{dialect}"
                );
                let statements: Option<Vec<(u32, &str)>> =
                    section.map(|s| s.statements(dialect).map(|s| (s.line(), s.sql())).collect());
                let want: Option<Vec<(u32, &str)>> = expected.map(|s| {
                    s.statements(dialect)
                        .iter()
                        .map(|s| (s.line, s.sql.as_str()))
                        .collect()
                });
                assert_eq!(statements, want, "{dialect}");
                assert_eq!(
                    section.and_then(|s| s.unterminated(dialect)),
                    expected.and_then(|s| s.unterminated(dialect).cloned()),
                    "{dialect}"
                );
            }
            assert_eq!(
                section.map(|s| s.is_uniform()),
                expected.map(|s| s.splits.is_uniform())
            );
        }
        // …and whole, through the core's type.
        assert_eq!(&m.to_file(), f);
    }
    let heads = scanned.graph().ids(scanned.graph().heads());
    assert_eq!(embedded.heads(), heads);
    assert_eq!(embedded.dialects(), scanned.settings().dialects);
    let rebuilt = embedded.to_set()?;
    assert_eq!(rebuilt.settings(), scanned.settings());
    assert_eq!(rebuilt.files(), scanned.files());
    assert_eq!(rebuilt.graph().revisions(), scanned.graph().revisions());
    Ok(())
}

#[test]
fn merged_history_matches_the_folder() -> TestResult {
    assert_same(&MERGED, "tests/ui/fixtures/merged")
}

#[test]
fn labelled_heads_match_the_folder() -> TestResult {
    assert_same(&LABELLED_HEADS, "tests/ui/fixtures/labelled_heads")
}

#[test]
fn sections_split_per_dialect_match_the_folder() -> TestResult {
    assert_same(&DIALECTS, "tests/fixtures/dialects")?;
    // The fixture holds what it is for: splits that differ, a string left
    // open on MySQL only, a dollar-quoted body left open on PostgreSQL only.
    let sections: Vec<_> = DIALECTS
        .migrations()
        .flat_map(|m| [Some(m.upgrade()), m.downgrade()])
        .flatten()
        .collect();
    assert!(sections.iter().any(|s| !s.is_uniform()));
    let trigger = DIALECTS.get("d1a1e1c1d1a1").ok_or("no trigger")?.upgrade();
    assert_eq!(trigger.statements(SqlDialect::Mysql).len(), 2);
    assert_eq!(trigger.statements(SqlDialect::Postgres).len(), 4);
    let backslash = DIALECTS.get("d1a1e1c1d1a3").ok_or("no backslash")?;
    let open = backslash.upgrade().unterminated(SqlDialect::Mysql);
    assert_eq!(open.map(|u| u.line), Some(7));
    assert_eq!(backslash.upgrade().unterminated(SqlDialect::Sqlite), None);
    let body = backslash
        .downgrade()
        .and_then(|d| d.unterminated(SqlDialect::Postgres));
    assert_eq!(
        body.map(|u| u.to_string()).as_deref(),
        Some("a body opened with `$open$` on line 11 is never closed")
    );
    Ok(())
}

#[test]
fn variants_match_the_folder() -> TestResult {
    assert_same(&VARIANTS, "tests/fixtures/variants")?;
    let notes = VARIANTS.get("e1e1e1e1e1e1").ok_or("no notes")?;
    let upgrade = notes.upgrade();
    assert!(upgrade.has_variants());
    let first = |d: SqlDialect| upgrade.statements(d).next().map(|s| s.sql());
    assert!(first(SqlDialect::Postgres).is_some_and(|s| s.contains("BIGSERIAL")));
    assert!(first(SqlDialect::Mysql).is_some_and(|s| s.contains("AUTO_INCREMENT")));
    assert!(first(SqlDialect::Sqlite).is_some_and(|s| s.contains("AUTOINCREMENT")));
    assert_ne!(
        notes.checksum(SqlDialect::Postgres),
        notes.checksum(SqlDialect::Mysql)
    );
    // The second revision's upgrade has no variants: one checksum for all.
    let tags = VARIANTS.get("e2e2e2e2e2e2").ok_or("no tags")?;
    assert!(!tags.upgrade().has_variants());
    assert!(tags.downgrade().is_some_and(|d| d.has_variants()));
    assert_eq!(
        tags.checksum(SqlDialect::Sqlite),
        tags.checksum(SqlDialect::Mysql)
    );
    Ok(())
}

#[test]
fn timeouts_match_the_folder() -> TestResult {
    assert_same(&TIMEOUTS, "tests/fixtures/timeouts")?;
    let create = TIMEOUTS.get("f1f1f1f1f1f1").ok_or("no create")?;
    assert!(create.timeouts().is_empty());
    let note = TIMEOUTS.get("f2f2f2f2f2f2").ok_or("no note")?;
    assert_eq!(note.timeouts().lock, Some(Duration::from_millis(200)));
    assert_eq!(note.timeouts().statement, Some(Duration::from_secs(30)));
    // The fields after the timeouts in the record still read right.
    assert_eq!(note.header_lines().down_revision, 2);
    assert_eq!(note.upgrade().statements(SqlDialect::Postgres).len(), 2);
    Ok(())
}
