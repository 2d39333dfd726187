//! The `alembix` binary in scratch projects: which migrations folder it works
//! on (`--dir`, else `migrations/` found upward, never past the workspace root),
//! what it says when there is none, and that its hints name `alembix`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

mod common;
use common::{alembix, write};

/// A complete migration file named `<revision>.sql`-style, on `down` (or none).
fn migration(revision: &str, down: Option<&str>) -> (String, String) {
    let name = format!("2026-01-01_m_{revision}.sql");
    let text = format!(
        "-- revision: {revision}\n-- down_revision: {}\n-- message: m {revision}\n\n-- migrate:upgrade\nCREATE TABLE t_{revision} (id INTEGER);\n\n-- migrate:downgrade\nDROP TABLE t_{revision};\n",
        down.unwrap_or("none")
    );
    (name, text)
}

/// `folder/<file>` for each migration.
fn history(root: &Path, folder: &str, revisions: &[(&str, Option<&str>)]) {
    for (revision, down) in revisions {
        let (name, text) = migration(revision, *down);
        write(root, &format!("{folder}/{name}"), &text);
    }
}

const WORKSPACE: &str = "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n";
const PACKAGE: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

#[test]
fn the_folder_is_found_from_a_nested_subdirectory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "ws/Cargo.toml", WORKSPACE);
    write(root, "ws/app/Cargo.toml", PACKAGE);
    history(
        root,
        "ws/migrations",
        &[
            ("aaaaaaaaaaa1", None),
            ("aaaaaaaaaaa2", Some("aaaaaaaaaaa1")),
        ],
    );
    let deep = root.join("ws/app/src/deep");
    std::fs::create_dir_all(&deep).unwrap();

    let heads = alembix(&deep, &["heads"]);
    assert_eq!(heads.code, 0, "{heads:?}");
    assert_eq!(heads.stdout, "aaaaaaaaaaa2 (head)\n");

    // The nearest folder wins: a crate's own `migrations/` before the workspace's.
    history(root, "ws/app/migrations", &[("bbbbbbbbbbb1", None)]);
    let heads = alembix(&deep, &["heads"]);
    assert_eq!(heads.stdout, "bbbbbbbbbbb1 (head)\n", "{heads:?}");

    // A new migration goes into the folder found, and says where, from here.
    let created = alembix(
        &deep,
        &["new-migration", "-m", "next", "--rev-id", "bbbbbbbbbbb2"],
    );
    assert_eq!(created.code, 0, "{created:?}");
    assert!(
        created.stdout.starts_with("created ../../migrations/2")
            && created.stdout.contains(
                "_next_bbbbbbbbbbb2.sql (revision bbbbbbbbbbb2, down_revision bbbbbbbbbbb1)"
            ),
        "{created:?}"
    );
    assert!(
        created.stdout.contains("created ../../build.rs"),
        "{created:?}"
    );
}

#[test]
fn the_walk_stops_at_the_workspace_root_and_says_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // A `migrations/` above the workspace is not this workspace's.
    history(root, "migrations", &[("ccccccccccc1", None)]);
    write(root, "ws/Cargo.toml", WORKSPACE);
    write(root, "ws/app/Cargo.toml", PACKAGE);
    let src = root.join("ws/app/src");
    std::fs::create_dir_all(&src).unwrap();

    let heads = alembix(&src, &["heads"]);
    assert_eq!(heads.code, 1, "{heads:?}");
    assert_eq!(heads.stdout, "", "{heads:?}");
    for expected in [
        "error: no migrations folder: no `migrations/` folder in the current directory or above it, up to the workspace root ../..;",
        "pass the folder with `--dir path/to/migrations`",
        "start one with `alembix new-migration -m \"…\"` (it creates ../migrations)",
    ] {
        assert!(heads.stderr.contains(expected), "`{expected}` in {heads:?}");
    }

    // Under --json, the error is one JSON document on stdout too.
    let json = alembix(&src, &["history", "--json"]);
    assert_eq!(json.code, 1, "{json:?}");
    assert!(
        json.stdout.starts_with(
            "{\"command\":\"history\",\"error\":{\"kind\":\"history\",\"message\":\"no migrations folder: "
        ) && json.stdout.ends_with(",\"exit_code\":1}\n"),
        "{json:?}"
    );

    // `merge` needs a history: it does not create one.
    let merge = alembix(&src, &["merge"]);
    assert_eq!(merge.code, 1, "{merge:?}");
    assert!(merge.stderr.contains("no migrations folder"), "{merge:?}");
    assert!(!root.join("ws/app/migrations").exists());
}

#[test]
fn new_migration_creates_the_folder_beside_the_nearest_cargo_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "ws/Cargo.toml", WORKSPACE);
    write(root, "ws/app/Cargo.toml", PACKAGE);
    let src = root.join("ws/app/src");
    std::fs::create_dir_all(&src).unwrap();

    let created = alembix(
        &src,
        &[
            "new-migration",
            "-m",
            "create users",
            "--rev-id",
            "ddddddddddd1",
        ],
    );
    assert_eq!(created.code, 0, "{created:?}");
    let lines: Vec<&str> = created.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "no `migrations/` folder in the current directory or above it, up to the workspace root ../..: created ../migrations beside ../Cargo.toml (pass `--dir` for another folder)",
        "{created:?}"
    );
    assert!(
        lines[1].starts_with("created ../migrations/"),
        "{created:?}"
    );
    let files: Vec<_> = std::fs::read_dir(root.join("ws/app/migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].ends_with("_create_users_ddddddddddd1.sql"),
        "{files:?}"
    );
    // The crate rebuilds when a file is added.
    let build = std::fs::read_to_string(root.join("ws/app/build.rs")).unwrap();
    assert!(
        build.contains("cargo:rerun-if-changed=migrations"),
        "{build}"
    );

    // Without any Cargo.toml, the folder goes into the current directory.
    let plain = root.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let created = alembix(
        &plain,
        &["new-migration", "-m", "first", "--rev-id", "ddddddddddd2"],
    );
    assert_eq!(created.code, 0, "{created:?}");
    assert!(
        created.stdout.starts_with("no `migrations/` folder in the current directory or above it, up to the filesystem root /: created migrations in the current directory (no Cargo.toml above it)"),
        "{created:?}"
    );
    assert_eq!(
        std::fs::read_dir(plain.join("migrations")).unwrap().count(),
        1
    );
    assert!(!plain.join("build.rs").exists());
}

#[test]
fn dir_is_relative_to_the_current_directory_and_wins_over_the_walk() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "ws/Cargo.toml", WORKSPACE);
    history(root, "ws/migrations", &[("eeeeeeeeeee1", None)]);
    history(root, "ws/db/schema", &[("fffffffffff1", None)]);
    let ws = root.join("ws");

    let heads = alembix(&ws, &["heads", "--dir", "db/schema"]);
    assert_eq!(heads.stdout, "fffffffffff1 (head)\n", "{heads:?}");
    // Before the command, too (a global option).
    let heads = alembix(&ws.join("db"), &["--dir", "schema", "heads"]);
    assert_eq!(heads.stdout, "fffffffffff1 (head)\n", "{heads:?}");

    let created = alembix(
        &ws,
        &[
            "new-migration",
            "-m",
            "more",
            "--rev-id",
            "fffffffffff2",
            "--dir",
            "db/schema",
        ],
    );
    assert_eq!(created.code, 0, "{created:?}");
    assert!(
        created.stdout.starts_with("created db/schema/"),
        "{created:?}"
    );
    assert!(
        created.stdout.contains("down_revision fffffffffff1)"),
        "{created:?}"
    );

    // A --dir that does not exist is not created: the command says so.
    for command in [&["new-migration", "-m", "x"][..], &["heads"]] {
        let mut args = command.to_vec();
        args.extend(["--dir", "db/nope"]);
        let missing = alembix(&ws, &args);
        assert_eq!(missing.code, 1, "{missing:?}");
        assert!(
            missing.stderr.contains("error: the migrations folder db/nope (--dir) does not exist; pass the folder that holds the migration files, or create it first (`mkdir -p db/nope`)"),
            "{missing:?}"
        );
    }
    assert!(!ws.join("db/nope").exists());

    // The importers write where --out says, and refuse --dir.
    let import = alembix(&ws, &["import-diesel", "legacy", "--dir", "db/schema"]);
    assert_eq!(import.code, 1, "{import:?}");
    assert!(
        import
            .stderr
            .contains("the importers take `--out DIR` for the folder they write"),
        "{import:?}"
    );
}

#[test]
fn hints_name_the_alembix_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "Cargo.toml", PACKAGE);
    history(
        root,
        "migrations",
        &[
            ("aaaaaaaaaaa1", None),
            ("aaaaaaaaaaa2", Some("aaaaaaaaaaa1")),
            ("aaaaaaaaaaa3", Some("aaaaaaaaaaa1")),
        ],
    );

    let help = alembix(root, &["--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(
        help.stdout.contains("Usage: alembix [OPTIONS] <COMMAND>"),
        "{help:?}"
    );
    let usage = alembix(root, &["merge", "--bogus"]);
    assert_eq!(usage.code, 2, "{usage:?}");
    assert!(usage.stderr.contains("Usage: alembix merge"), "{usage:?}");

    // Two heads: the core's help names this binary, not `cargo xtask`.
    let heads = alembix(root, &["heads"]);
    assert_eq!(heads.code, 0, "{heads:?}");
    assert!(
        heads.stderr.contains("merge them with `alembix merge"),
        "{heads:?}"
    );
    let upgrade = alembix(root, &["upgrade", "heads", "--sql", "--dialect", "sqlite"]);
    assert!(upgrade.stderr.contains("`alembix merge"), "{upgrade:?}");
    let new = alembix(root, &["new-migration", "-m", "x"]);
    assert_eq!(new.code, 1, "{new:?}");
    assert!(new.stderr.contains("`alembix merge"), "{new:?}");
    for run in [&heads, &upgrade, &new] {
        assert!(!run.stderr.contains("cargo xtask"), "{run:?}");
    }

    let merged = alembix(root, &["merge", "--rev-id", "aaaaaaaaaaa4"]);
    assert_eq!(merged.code, 0, "{merged:?}");
    let db = format!("sqlite://{}", root.join("app.sqlite").display());
    let current = alembix(root, &["current", "--check-heads", "--db", &db]);
    assert_eq!(current.code, 3, "{current:?}");
    assert!(
        current
            .stderr
            .contains(&format!("run `alembix upgrade heads --db {db}`")),
        "{current:?}"
    );
}

#[test]
fn imports_without_out_write_into_the_folder_found_or_a_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "Cargo.toml", PACKAGE);
    write(
        root,
        "legacy/migrations/2024-01-01-000000_create_users/up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    write(
        root,
        "legacy/migrations/2024-01-01-000000_create_users/down.sql",
        "DROP TABLE users;\n",
    );

    // No `migrations/` yet: the import makes one beside Cargo.toml and says so.
    let import = alembix(root, &["import-diesel", "legacy"]);
    assert_eq!(import.code, 0, "{import:?}");
    assert!(
        import
            .stdout
            .contains(": created migrations beside Cargo.toml"),
        "{import:?}"
    );
    let files: Vec<_> = std::fs::read_dir(root.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        text.contains("-- Imported by `alembix import-diesel` from legacy/migrations/"),
        "{text}"
    );
    let heads = alembix(root, &["heads"]);
    assert_eq!(heads.stdout, "diesel_20240101000000 (head)\n", "{heads:?}");

    // From inside the diesel project, the folder found is diesel's own: refused.
    let inside = alembix(&root.join("legacy"), &["import-diesel", "."]);
    assert_eq!(inside.code, 1, "{inside:?}");
    assert!(
        inside
            .stderr
            .contains("would be imported into the same folder; pass another folder with --out"),
        "{inside:?}"
    );
}

/// A folder with two unmerged heads (mid-merge, or just imported from
/// Alembic) works in every command, as Alembic does: one warning naming the
/// heads and the merge command, then Alembic's answers; only what Alembic
/// finds ambiguous is refused.
#[test]
fn two_unmerged_heads_work_in_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    history(
        root,
        "migrations",
        &[
            ("aaaaaaaaaaa1", None),
            ("bbbbbbbbbbb2", Some("aaaaaaaaaaa1")),
            ("ccccccccccc3", Some("aaaaaaaaaaa1")),
        ],
    );
    let db = format!("sqlite://{}", root.join("x.db").display());
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        if !matches!(args[0], "heads" | "history") {
            all.extend(["--db", &db]);
        }
        let run = alembix(root, &all);
        assert_eq!(
            run.stderr.matches("warning: ").count(),
            1,
            "one warning for `{}`: {run:?}",
            args.join(" ")
        );
        assert!(run.stderr.contains("the history has 2 heads"), "{run:?}");
        assert!(run.stderr.contains("`alembix merge"), "{run:?}");
        run
    };
    assert_eq!(run(&["current"]).stdout, "<base> (no revision applied)\n");
    let ambiguous = run(&["upgrade", "head"]);
    assert_eq!(ambiguous.code, 1, "{ambiguous:?}");
    assert!(
        ambiguous
            .stderr
            .contains("Multiple head revisions are present for given argument 'head'"),
        "{ambiguous:?}"
    );
    let upgraded = run(&["upgrade", "heads"]);
    assert_eq!(upgraded.code, 0, "{upgraded:?}");
    assert_eq!(
        run(&["current"]).stdout,
        "bbbbbbbbbbb2 (head)\nccccccccccc3 (head)\n"
    );
    let down = run(&["downgrade", "-1"]);
    assert_eq!(down.code, 1, "{down:?}");
    assert!(down.stderr.contains("ambiguous"), "{down:?}");
    assert!(down.stderr.contains("(e.g. `bbbbbbbbbbb2@-1`)"), "{down:?}");
    // The branch-local form reverts that branch alone, as in Alembic.
    assert_eq!(run(&["downgrade", "bbbbbbbbbbb2@-1"]).code, 0);
    assert_eq!(run(&["current"]).stdout, "ccccccccccc3 (head)\n");
    assert_eq!(run(&["stamp", "heads"]).code, 0);
    assert_eq!(
        run(&["current"]).stdout,
        "bbbbbbbbbbb2 (head)\nccccccccccc3 (head)\n"
    );
    assert_eq!(run(&["history"]).code, 0);
    assert_eq!(run(&["heads"]).code, 0);
}

/// With `--dir`, the hints repeat it, so that they run as printed.
#[test]
fn hints_repeat_the_folder_given() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    history(
        root,
        "db/my migrations",
        &[
            ("aaaaaaaaaaa1", None),
            ("bbbbbbbbbbb2", Some("aaaaaaaaaaa1")),
            ("ccccccccccc3", Some("aaaaaaaaaaa1")),
        ],
    );
    let heads = alembix(root, &["heads", "--dir", "db/my migrations"]);
    assert_eq!(heads.code, 0, "{heads:?}");
    assert!(
        heads
            .stderr
            .contains("`alembix --dir 'db/my migrations' merge -m"),
        "{heads:?}"
    );
}

#[test]
fn show_says_a_migrations_timeouts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "migrations/2026-01-01_m_aaaaaaaaaaa1.sql",
        "-- revision: aaaaaaaaaaa1\n-- down_revision: none\n-- lock_timeout: 2s\n-- statement_timeout: 90000ms\n\n-- migrate:upgrade\nCREATE TABLE t (id INTEGER);\n\n-- migrate:downgrade\nDROP TABLE t;\n",
    );
    let text = alembix(root, &["--dir", "migrations", "show", "aaaaaaaaaaa1"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout
            .contains("Transaction: per-migration\nLock Timeout: 2s\nStatement Timeout: 90s\n"),
        "{text:?}"
    );
    let json = alembix(
        root,
        &["--dir", "migrations", "show", "aaaaaaaaaaa1", "--json"],
    );
    assert_eq!(json.code, 0, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let revision = &doc["revisions"][0];
    assert_eq!(revision["lock_timeout"], "2s", "{doc}");
    assert_eq!(revision["statement_timeout"], "90s", "{doc}");
}
