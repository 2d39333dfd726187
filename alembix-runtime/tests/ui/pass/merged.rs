//! A valid history with two labelled branches and a merge embeds, in load order,
//! with one head.

use alembix_runtime::core::TransactionMode;
use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");

fn main() {
    let revisions: Vec<&str> = MIGRATIONS.migrations().map(|m| m.revision()).collect();
    assert_eq!(
        revisions,
        [
            "1a2b3c4d5e6f",
            "2b3c4d5e6f70",
            "3c4d5e6f7081",
            "4d5e6f708192",
            "5e6f708192a3",
            "6f708192a3b4",
            "708192a3b4c5",
            "8192a3b4c5d6",
        ]
    );
    assert_eq!(MIGRATIONS.heads(), ["8192a3b4c5d6"]);
    let merge = MIGRATIONS
        .get("6f708192a3b4")
        .map(|m| m.down_revisions().collect::<Vec<_>>());
    assert_eq!(merge, Some(vec!["5e6f708192a3", "4d5e6f708192"]));
    let billing = MIGRATIONS
        .get("3c4d5e6f7081")
        .map(|m| m.branch_labels().collect::<Vec<_>>());
    assert_eq!(billing, Some(vec!["billing"]));
    let index = MIGRATIONS.get("708192a3b4c5").map(|m| m.transaction());
    assert_eq!(index, Some(TransactionMode::None));
    let backfill = MIGRATIONS.get("8192a3b4c5d6").map(|m| m.is_reversible());
    assert_eq!(backfill, Some(false));
    let set = MIGRATIONS.to_set();
    assert!(set.is_ok(), "{set:?}");
}
