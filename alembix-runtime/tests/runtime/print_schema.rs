//! `print-schema` ([`schema_rs`]) against the real `diesel print-schema`:
//! the `print_schema` fixture upgraded into a test database of each
//! backend, diesel_cli run on it, and our text — from the history replayed
//! into a scratch database, no live database read — equal to diesel's byte
//! for byte. diesel_cli is `target/diesel-cli/bin/diesel` (installed by
//! `.ci/run`) or `$ALEMBIX_DIESEL_CLI`; without it the test is skipped,
//! except with `CI=true`, where it fails.
//!
//! The version tables are passed to diesel as `--except-tables` (this tool
//! leaves its own tables out); on PostgreSQL and MySQL/MariaDB so is `notes`,
//! which has no primary key: diesel 2.3 refuses such a table, we leave it
//! out with a warning.

// Built for SQLite alone, the server helpers are unused.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql")),
    allow(
        dead_code,
        unused_imports,
        unused_variables,
        unused_mut,
        unreachable_code
    )
)]

use crate::support::{migrator, Kind, TestDb};
use alembix_runtime::schema::{schema_rs, Scratch};
use alembix_runtime::Config;
use std::path::PathBuf;
use std::process::Command;

/// The diesel_cli binary, or `None` (with a message) outside CI.
fn diesel_cli() -> Option<PathBuf> {
    let path = std::env::var_os("ALEMBIX_DIESEL_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/diesel-cli/bin/diesel")
        });
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "diesel_cli is not installed at {} (.ci/run installs it)",
            path.display()
        );
    }
    eprintln!(
        "skipping the comparison with diesel print-schema: no {} (cargo install diesel_cli --version 2.3.14 --no-default-features --features sqlite-bundled,postgres,mysql --root target/diesel-cli)",
        path.display()
    );
    None
}

fn the_schema_rs_is_diesels(t: &TestDb) {
    let Some(diesel) = diesel_cli() else {
        return;
    };
    let migrator = migrator("print_schema", Config::default());
    let mut db = t.connect();
    migrator.upgrade(&mut db, "heads").expect("upgrade");
    drop(db);

    let mut scratch = Scratch::on_server(&t.url).expect("scratch database");
    let schema = migrator
        .replay_schema(&mut scratch, "heads")
        .expect("replay");
    let ours = schema_rs(&schema).expect("schema.rs");

    let (url, except) = match t.kind {
        Kind::Sqlite => (
            t.sqlite_path().expect("a file").display().to_string(),
            "^alembic_version",
        ),
        _ => (t.url.clone(), "^(alembic_version|notes$)"),
    };
    let expected_skipped: &[&str] = match t.kind {
        Kind::Sqlite => &[],
        _ => &["notes"],
    };
    assert_eq!(ours.skipped, expected_skipped);
    let theirs = diesels(&diesel, t, &url, except);
    assert_eq!(
        ours.text, theirs,
        "ours (left) differs from diesel's (right)"
    );
}

/// diesel's text for `url` (the tables `except` matches left out), run in
/// an empty folder so that no diesel.toml applies.
fn diesels(diesel: &std::path::Path, t: &TestDb, url: &str, except: &str) -> String {
    let cwd = std::env::temp_dir().join(format!(
        "alembix-print-schema-{}-{}",
        std::process::id(),
        t.name
    ));
    std::fs::create_dir_all(&cwd).expect("temp dir");
    let output = Command::new(diesel)
        .current_dir(&cwd)
        .args([
            "print-schema",
            "--database-url",
            url,
            "--except-tables",
            except,
        ])
        .output()
        .expect("run diesel print-schema");
    let _ = std::fs::remove_dir_all(&cwd);
    assert!(
        output.status.success(),
        "diesel print-schema failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Many tables with short names: rustfmt lays `allow_tables_to_appear_in_same_query!`
/// out as many a line as fit (names of up to 10 characters), else one a line.
fn many_short_table_names_are_laid_out_as_diesel_does(t: &TestDb) {
    let Some(diesel) = diesel_cli() else {
        return;
    };
    for (revision, longest) in [("short", "abcdefghij"), ("long", "abcdefghijk")] {
        let mut upgrade: Vec<String> = (1..=25)
            .map(|i| format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY);"))
            .collect();
        upgrade.push(format!("CREATE TABLE {longest} (id INTEGER PRIMARY KEY);"));
        let mut downgrade: Vec<String> = (1..=25).map(|i| format!("DROP TABLE t{i};")).collect();
        downgrade.push(format!("DROP TABLE {longest};"));
        let m = crate::support::migrator_of(
            &[crate::support::migration(
                revision,
                "none",
                &upgrade.join("\n"),
                &downgrade.join("\n"),
            )],
            Config::default(),
        );
        let mut db = t.connect();
        m.upgrade(&mut db, "heads").expect("upgrade");
        let ours = schema_rs(&m.inspect_schema(&mut db).expect("read")).expect("schema.rs");
        let url = match t.kind {
            Kind::Sqlite => t.sqlite_path().expect("a file").display().to_string(),
            _ => t.url.clone(),
        };
        let theirs = diesels(&diesel, t, &url, "^alembic_version");
        assert_eq!(
            ours.text, theirs,
            "{revision}: ours (left) differs from diesel's (right)"
        );
        m.downgrade(&mut db, "base").expect("downgrade");
    }
}

crate::on_all_backends!(
    the_schema_rs_is_diesels,
    many_short_table_names_are_laid_out_as_diesel_does
);

/// `print-schema --output FILE` writes the text; `--check FILE` exits 0 on
/// it, and 7 once the file differs (a column type edited by hand).
#[cfg(feature = "cli")]
#[test]
fn check_passes_on_the_written_file_and_fails_on_a_stale_one() {
    use alembix_runtime::cli::Exit;
    let run = |args: &[&str]| crate::support::run_command("print_schema", args);
    let dir = std::env::temp_dir().join(format!("alembix-print-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("schema.rs");
    let path = file.display().to_string();
    assert_eq!(run(&["print-schema", "--output", &path]), Exit::Success);
    let written = std::fs::read_to_string(&file).expect("written");
    assert!(written.starts_with("// @generated automatically by Diesel CLI.\n"));
    assert!(written.contains("diesel::joinable!(comments -> posts (post_id));"));
    assert_eq!(run(&["print-schema", "--check", &path]), Exit::Success);
    std::fs::write(&file, written.replace("title -> Text", "title -> Varchar")).expect("edit");
    assert_eq!(run(&["print-schema", "--check", &path]), Exit::SchemaDrift);
    assert_eq!(
        run(&["print-schema", "--check", &path, "--json"]),
        Exit::SchemaDrift
    );
    let missing = dir.join("missing.rs").display().to_string();
    assert_eq!(run(&["print-schema", "--check", &missing]), Exit::Failure);
    let _ = std::fs::remove_dir_all(&dir);
}
