//! The set as a diesel `MigrationSource`: diesel's own harness can run it.

use crate::support::migrator;
use alembix_runtime::Config;
use diesel::Connection;
use diesel_migrations::MigrationHarness;

#[test]
fn diesel_harness_runs_the_branched_history_in_graph_order() {
    let m = migrator("branched", Config::default());
    let source = m.diesel_source().unwrap();
    let versions = source.versions();
    assert_eq!(versions.len(), 8);
    assert!(versions[0].ends_with("r0base000001"), "{versions:?}");
    let pos = |rev: &str| versions.iter().position(|v| v.ends_with(rev)).unwrap();
    assert!(
        pos("r1bill000001") < pos("x1audit00001"),
        "depends_on orders too"
    );
    assert!(pos("r3merge00001") < pos("r4post000001"));

    let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
    let applied = conn.run_pending_migrations(source.clone()).unwrap();
    assert_eq!(applied.len(), 8);
    assert!(!conn.has_pending_migration(source.clone()).unwrap());
    conn.revert_last_migration(source).unwrap();
}
