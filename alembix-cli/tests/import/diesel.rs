//! `import-diesel`: a linear chain in diesel's order, with diesel's own rules.

use crate::support::{alembix_in, file_of, fixture, load, sql_files};
use alembix_core::sql::SqlDialect;
use alembix_core::TransactionMode;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// diesel's order: versions compared as text, so `10` before `2`.
const DIESEL_ORDER: [&str; 6] = [
    "diesel_00000000000000",
    "diesel_10",
    "diesel_2",
    "diesel_20240101120000",
    "diesel_20240102090000",
    "diesel_20240103100000",
];

#[test]
fn builds_a_linear_chain_in_diesel_order() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("diesel_project");
    copy_dir(&fixture("diesel_project"), &project);
    // diesel skips empty folders (git cannot keep one in the fixture).
    std::fs::create_dir(project.join("migrations/2024-06-01-000000_empty")).unwrap();
    let run = alembix_in(
        tmp.path(),
        ["import-diesel", "diesel_project", "--out", "out"],
    );
    assert!(run.ok, "{run:?}");
    assert!(
        run.stdout.contains("warning: diesel runs 10_legacy_ten (version 10) before 2_legacy_two (version 2) because it compares versions as text"),
        "{run:?}"
    );
    assert_eq!(run.stdout.matches("warning:").count(), 1, "{run:?}");
    assert!(
        run.stdout.contains("verified: out loads with alembix-core"),
        "{run:?}"
    );

    let out = tmp.path().join("out");
    let set = load(&out).unwrap();
    let graph = set.graph();
    // Walk the chain from its one base.
    assert_eq!(graph.ids(graph.bases()), ["diesel_00000000000000"]);
    let mut chain = Vec::new();
    let mut at = graph.bases()[0];
    loop {
        chain.push(graph.rev(at).id.clone());
        match graph.rev(at).children.as_slice() {
            [] => break,
            [next] => at = *next,
            more => panic!("not linear at {}: {more:?}", graph.rev(at).id),
        }
    }
    assert_eq!(chain, DIESEL_ORDER);

    let file = |id: &str| set.files().iter().find(|f| f.revision == id).unwrap();
    let setup = file("diesel_00000000000000");
    assert_eq!(setup.message, "diesel initial setup");
    assert_eq!(
        setup.upgrade.statements(SqlDialect::Postgres).len(),
        2,
        "the $$ bodies stay whole"
    );
    let users = file("diesel_20240101120000");
    assert_eq!(users.message, "create users");
    assert_eq!(users.create_date.as_deref(), Some("2024-01-01 12:00:00"));
    assert_eq!(
        file("diesel_20240102090000").transaction,
        TransactionMode::None,
        "run_in_transaction = false"
    );
    assert!(
        file("diesel_20240103100000").downgrade.is_none(),
        "no down.sql"
    );
    let ten = file("diesel_10").downgrade.clone().unwrap();
    assert!(ten.is_empty() && ten.sql.contains("This file should undo"));
    assert_eq!(
        sql_files(&out)[0],
        "0000-00-00_diesel_initial_setup_diesel_00000000000000.sql"
    );
    assert!(file_of(&out, "diesel_2").contains(
        "-- Imported by `alembix import-diesel` from diesel_project/migrations/2_legacy_two/"
    ));
    assert!(!run.stdout.contains(".hidden") && !run.stdout.contains("empty"));
}

#[test]
fn reads_the_migrations_folder_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = alembix_in(
        &fixture("diesel_project"),
        [
            "import-diesel".as_ref(),
            "migrations".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert!(run.ok, "{run:?}");
    assert_eq!(sql_files(&out).len(), 6);
}

#[test]
fn refuses_duplicate_versions_and_folders_without_up_sql() {
    let tmp = tempfile::tempdir().unwrap();
    let migrations = tmp.path().join("migrations");
    for (folder, file) in [
        ("2024-01-01-120000_first", "up.sql"),
        ("20240101120000_same_version", "up.sql"),
        ("2024-02-01-000000_no_up", "down.sql"),
    ] {
        std::fs::create_dir_all(migrations.join(folder)).unwrap();
        std::fs::write(migrations.join(folder).join(file), "SELECT 1;\n").unwrap();
    }
    let run = alembix_in(tmp.path(), ["import-diesel", "migrations", "--out", "out"]);
    assert!(!run.ok, "{run:?}");
    assert!(
        run.stderr
            .contains("migrations/2024-02-01-000000_no_up: no up.sql"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("migrations/2024-01-01-120000_first and migrations/20240101120000_same_version have the same version `20240101120000`"),
        "{run:?}"
    );
    assert!(sql_files(&tmp.path().join("out")).is_empty());
}
