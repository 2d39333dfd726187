//! The embedded set equals what the runtime loads from the same folder at run
//! time with `scan_folder` + `MigrationSet::from_sources`: ids, parents, labels,
//! order, SQL, statements, checksums, heads and the whole graph.

use crate::TestResult;
use migrate_runtime::core::scan::scan_folder;
use migrate_runtime::core::{Checksum, GraphOptions, MigrationSet};
use migrate_runtime::EmbeddedMigrations;
use std::path::Path;

static MERGED: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/ui/fixtures/merged");
static LABELLED_HEADS: EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/ui/fixtures/labelled_heads");

fn scanned(folder: &str) -> Result<MigrationSet, Box<dyn std::error::Error>> {
    let sources = scan_folder(Path::new(env!("CARGO_MANIFEST_DIR")), folder)?;
    Ok(MigrationSet::from_sources(
        &sources,
        &GraphOptions::default(),
    )?)
}

fn assert_same(embedded: &EmbeddedMigrations, folder: &str) -> TestResult {
    let scanned = scanned(folder)?;
    assert_eq!(embedded.len(), scanned.files().len());
    for (m, f) in embedded.migrations().iter().zip(scanned.files()) {
        // Field by field, through the public accessors…
        assert_eq!(m.revision(), f.revision);
        assert_eq!(m.down_revisions(), f.down_revisions);
        assert_eq!(m.branch_labels(), f.branch_labels);
        assert_eq!(m.depends_on(), f.depends_on);
        assert_eq!(m.message(), f.message);
        assert_eq!(m.create_date(), f.create_date.as_deref());
        assert_eq!(m.file(), f.file);
        assert_eq!(m.transaction(), f.transaction);
        assert_eq!(m.checksum(), f.checksum.as_str());
        assert_eq!(m.checksum(), Checksum::of_sql(&f.upgrade.sql).as_str());
        assert_eq!(m.upgrade().line(), f.upgrade.line);
        assert_eq!(m.upgrade().sql(), f.upgrade.sql);
        let statements: Vec<(u32, &str)> = m
            .upgrade()
            .statements()
            .iter()
            .map(|s| (s.line(), s.sql()))
            .collect();
        let expected: Vec<(u32, &str)> = f
            .upgrade
            .statements
            .iter()
            .map(|s| (s.line, s.sql.as_str()))
            .collect();
        assert_eq!(statements, expected);
        assert_eq!(
            m.downgrade().map(|d| d.sql()),
            f.downgrade.as_ref().map(|d| d.sql.as_str())
        );
        // …and whole, through the core's type.
        assert_eq!(&m.to_file(), f);
    }
    let heads = scanned.graph().ids(scanned.graph().heads());
    assert_eq!(embedded.heads(), heads);
    let rebuilt = embedded.to_set()?;
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
