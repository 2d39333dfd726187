//! `import-alembic`: ids, parents, labels, order, placeholders, and real Alembic.

use crate::support::{
    alembix, alembix_in, apply_order, file_of, fill_placeholders, fixture, load,
    placeholder_revisions, sql_files, Run,
};
use crate::venv::python_with_alembic;
use alembix_core::sql::SqlDialect;
use alembix_core::TransactionMode;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The fixture's revisions in Alembic's load order (sorted file names).
const LOAD_ORDER: [&str; 8] = [
    "1a2b3c4d5e6f",
    "22cc00000002",
    "33dd00000003",
    "44ee00000004",
    "55ff00000005",
    "66aa00000006",
    "77bb00000007",
    "9f8e00000001",
];

/// The fixture's SQL is read as SQLite reads it.
const SQLITE: SqlDialect = SqlDialect::Sqlite;

fn import(args: &[&str], out: &Path) -> Run {
    let mut all: Vec<std::ffi::OsString> = vec!["import-alembic".into()];
    all.extend(args.iter().map(Into::into));
    all.push("--out".into());
    all.push(out.into());
    alembix(all)
}

fn out_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("migrations");
    (tmp, out)
}

#[test]
fn keeps_ids_parents_labels_dependencies_and_load_order() {
    let (_tmp, out) = out_dir();
    let project = fixture("alembic_project");
    let run = import(&[project.to_str().unwrap(), "--skip-sql"], &out);
    assert!(run.ok, "{run:?}");
    assert!(run.stdout.contains("--skip-sql was given"), "{run:?}");

    // The placeholders fail the build, naming exactly the files that need SQL.
    let problems = load(&out).unwrap_err();
    assert_eq!(
        placeholder_revisions(&problems),
        [
            "1a2b3c4d5e6f",
            "22cc00000002",
            "44ee00000004",
            "55ff00000005",
            "77bb00000007",
            "9f8e00000001"
        ],
        "{problems}"
    );
    assert!(
        run.stdout
            .contains("build fails until the 6 placeholder file(s) are filled"),
        "{run:?}"
    );

    fill_placeholders(&out, "SELECT 1;");
    let set = load(&out).unwrap();
    let ids: Vec<&str> = set.files().iter().map(|f| f.revision.as_str()).collect();
    assert_eq!(ids, LOAD_ORDER, "our load order is Alembic's");
    // 9f8e (created 03-02) would sort before its sibling 22cc (03-05) by date: a
    // sequence number keeps Alembic's tie-breaking order.
    assert_eq!(
        sql_files(&out),
        [
            "0001_2024-03-01_create_users_1a2b3c4d5e6f.sql",
            "0002_2024-03-05_add_posts_22cc00000002.sql",
            "0003_2024-03-06_merge_email_and_posts_33dd00000003.sql",
            "0004_2024-03-07_audit_log_an_independent_branch_44ee00000004.sql",
            "0005_2024-03-08_index_user_names_55ff00000005.sql",
            "0006_0000-00-00_release_marker_66aa00000006.sql",
            "0007_2024-03-10_backfill_names_77bb00000007.sql",
            "0008_2024-03-02_add_email_to_users_9f8e00000001.sql",
        ]
    );
    assert!(run
        .stdout
        .contains("sequence number in Alembic's load order"));

    let file = |id: &str| {
        set.files()
            .iter()
            .find(|f| f.revision == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert!(file("1a2b3c4d5e6f").down_revisions.is_empty());
    assert_eq!(file("22cc00000002").down_revisions, ["1a2b3c4d5e6f"]);
    assert_eq!(
        file("33dd00000003").down_revisions,
        ["9f8e00000001", "22cc00000002"],
        "merge parents in Alembic's order"
    );
    assert!(file("44ee00000004").down_revisions.is_empty());
    assert_eq!(file("44ee00000004").branch_labels, ["audit"]);
    assert_eq!(file("55ff00000005").depends_on, ["audit"]);
    assert_eq!(file("1a2b3c4d5e6f").message, "create users");
    assert_eq!(
        file("44ee00000004").message,
        "audit log, an independent branch"
    );
    assert_eq!(
        file("1a2b3c4d5e6f").create_date.as_deref(),
        Some("2024-03-01 09:00:00.000000")
    );
    assert_eq!(file("66aa00000006").create_date, None);
    // Statically known bodies need no Alembic: a merge, a no-op, an irreversible.
    assert!(file("33dd00000003").upgrade.statements(SQLITE).is_empty());
    assert_eq!(
        file("66aa00000006").upgrade.statements(SQLITE)[0].sql,
        "SELECT 1"
    );
    assert!(
        file("55ff00000005").downgrade.is_none(),
        "downgrade() raises"
    );
    assert!(file("77bb00000007")
        .downgrade
        .as_ref()
        .unwrap()
        .statements(SQLITE)
        .is_empty());

    let graph = set.graph();
    assert_eq!(graph.ids(graph.heads()), ["44ee00000004", "77bb00000007"]);
    assert_eq!(graph.ids(graph.real_heads()), ["77bb00000007"]);
    // 44ee00000004 is a versioned head only reached through depends_on: not an
    // unmerged head, so the build's default rule accepts the history as Alembic does.
    assert!(
        !run.stdout
            .contains("but the build's default rule refuses it"),
        "{run:?}"
    );
    assert!(file_of(&out, "1a2b3c4d5e6f")
        .contains("-- Imported by `alembix import-alembic` from alembic/versions/1a2b3c4d5e6f_create_users.py"));
}

#[test]
fn a_linear_history_keeps_create_date_names() {
    let (_tmp, out) = out_dir();
    let run = import(&["alembic_linear/versions"], &out);
    assert!(run.ok, "{run:?}");
    assert_eq!(
        sql_files(&out),
        [
            "0000-00-00_legacy_no_revision_variable_the_hex_file_cc.sql",
            "2024-01-15_second_dated_before_the_first_bbbb.sql",
            "2024-02-01_first_aaaa.sql",
        ],
        "on one line of descent the file order changes nothing"
    );
    assert!(!run.stdout.contains("sequence number"));
    assert!(!run.stdout.contains("warning"), "{run:?}");
    assert!(
        run.stdout.contains("no alembic.ini was found"),
        "without an ini, Alembic cannot run: {run:?}"
    );
    fill_placeholders(&out, "SELECT 1;");
    let set = load(&out).unwrap();
    let graph = set.graph();
    let cc = graph
        .index_of("cc")
        .expect("the legacy hex file name is the id");
    assert_eq!(graph.ids(&graph.rev(cc).down), ["bbbb"]);
    assert_eq!(graph.ids(graph.heads()), ["cc"]);
}

#[test]
fn refused_identifiers_name_every_file_and_nothing_is_written() {
    let (_tmp, out) = out_dir();
    let run = import(&["alembic_bad/versions"], &out);
    assert!(!run.ok, "{run:?}");
    for expected in [
        "alembic_bad/versions/a_dash.py:2: revision id `no-dashes` contains `-`",
        "alembic_bad/versions/b_long.py:2: revision id `abcdefabcdefabcdefabcdefabcdefabc` is 33 characters long",
        "alembic_bad/versions/c_label.py: branch label `head` is a reserved word",
        "alembic_bad/versions/d_computed.py:5: cannot read `down_revision` statically",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{run:?}");
    }
    assert!(sql_files(&out).is_empty());
}

#[test]
fn never_overwrites_a_file() {
    let (_tmp, out) = out_dir();
    assert!(import(&["alembic_linear/versions"], &out).ok);
    let before: Vec<String> = sql_files(&out)
        .iter()
        .map(|n| std::fs::read_to_string(out.join(n)).unwrap())
        .collect();
    let again = import(&["alembic_linear/versions"], &out);
    assert!(!again.ok, "{again:?}");
    assert!(again.stderr.contains("nothing was written"), "{again:?}");
    assert!(again.stderr.contains("never overwrites"), "{again:?}");
    assert!(again.stderr.contains("revision aaaa (from"), "{again:?}");
    let after: Vec<String> = sql_files(&out)
        .iter()
        .map(|n| std::fs::read_to_string(out.join(n)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn finds_the_ini_from_the_script_folder_or_the_ini_file() {
    for path in ["alembic_project/alembic", "alembic_project/alembic.ini"] {
        let (_tmp, out) = out_dir();
        let run = import(&[path, "--skip-sql"], &out);
        assert!(run.ok, "{path}: {run:?}");
        assert_eq!(sql_files(&out).len(), 8, "{path}");
        assert!(
            file_of(&out, "22cc00000002")
                .contains("from alembic/versions/22cc00000002_add_posts.py"),
            "{path}: sources are named relative to the project"
        );
    }
}

/// Runs every upgrade section, parents first, in a fresh SQLite database with the
/// venv's Python; returns the tables and columns that exist afterwards.
fn apply_in_sqlite(python: &Path, out: &Path) -> String {
    let set = load(out).unwrap();
    let mut script = String::new();
    for i in apply_order(&set) {
        script.push_str(&set.file(i).upgrade.sql);
        script.push('\n');
    }
    let check = "import sqlite3, sys\n\
                 db = sqlite3.connect(':memory:')\n\
                 db.executescript(sys.stdin.read())\n\
                 for (t,) in db.execute(\"SELECT name FROM sqlite_master WHERE type='table' ORDER BY name\"):\n\
                 \x20   cols = [r[1] for r in db.execute(f'PRAGMA table_info({t})')]\n\
                 \x20   print(t, ','.join(cols))\n";
    let mut child = Command::new(python)
        .args(["-c", check])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let result = child.wait_with_output().unwrap();
    assert!(
        result.status.success(),
        "the imported SQL fails in SQLite:\n{}\n{script}",
        String::from_utf8_lossy(&result.stderr)
    );
    String::from_utf8_lossy(&result.stdout).into_owned()
}

#[test]
fn real_alembic_fills_the_sql_from_offline_mode() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let (_tmp, out) = out_dir();
    let run = import(
        &["alembic_project", "--python", python.to_str().unwrap()],
        &out,
    );
    assert!(run.ok, "{run:?}");
    assert!(run.stdout.contains("Alembic used SQLiteImpl"), "{run:?}");

    let users = file_of(&out, "1a2b3c4d5e6f");
    assert!(users.contains("CREATE TABLE users ("), "{users}");
    assert!(
        users.contains("INSERT INTO users (name) VALUES ('semi;colon'), ('it''s');"),
        "{users}"
    );
    assert!(
        users.contains("-- migrate:downgrade\nDROP TABLE users;"),
        "{users}"
    );
    for name in sql_files(&out) {
        let text = std::fs::read_to_string(out.join(&name)).unwrap();
        let sql: Vec<&str> = text.lines().filter(|l| !l.starts_with("--")).collect();
        assert!(
            !sql.iter().any(|l| l.contains("alembic_version")),
            "{name} keeps Alembic's bookkeeping:\n{text}"
        );
        assert!(
            !text.lines().any(|l| l == "BEGIN;" || l == "COMMIT;"),
            "{name}"
        );
    }
    // What offline mode cannot produce stays a placeholder, with Alembic's reason:
    // a data migration reading rows, and a batch-mode downgrade on SQLite.
    assert!(run.stdout.contains("AttributeError"), "{run:?}");
    assert!(run.stdout.contains("batch mode"), "{run:?}");
    let problems = load(&out).unwrap_err();
    assert_eq!(
        placeholder_revisions(&problems),
        ["77bb00000007", "9f8e00000001"],
        "{problems}"
    );
    assert!(
        file_of(&out, "9f8e00000001").contains("ALTER TABLE users ADD COLUMN email VARCHAR(100);")
    );

    fill_placeholders(&out, "SELECT 1;");
    let set = load(&out).unwrap();
    // Online, Alembic commits before an `autocommit_block` on SQLite too (offline
    // mode prints no COMMIT for it there): the driver sees the block entered.
    for f in set.files() {
        let expected = if f.revision == "44ee00000004" {
            TransactionMode::None
        } else {
            TransactionMode::PerMigration
        };
        assert_eq!(f.transaction, expected, "{}", f.revision);
    }
    assert!(
        run.stdout.contains(
            "44ee00000004 commits inside its upgrade or downgrade (an `autocommit_block`, seen while rendering)"
        ),
        "{run:?}"
    );
    let tables = apply_in_sqlite(&python, &out);
    assert!(tables.contains("users id,name,email"), "{tables}");
    assert!(tables.contains("posts id,user_id"), "{tables}");
    assert!(tables.contains("audit_log id,at"), "{tables}");
}

#[test]
fn real_alembic_for_postgresql_drops_transactions_and_keeps_autocommit_blocks_outside() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let (_tmp, out) = out_dir();
    let run = import(
        &[
            "alembic_project",
            "--python",
            python.to_str().unwrap(),
            "-x",
            "url=postgresql://localhost/fixture",
        ],
        &out,
    );
    assert!(run.ok, "{run:?}");
    assert!(
        run.stdout.contains("Alembic used PostgresqlImpl"),
        "{run:?}"
    );
    assert!(file_of(&out, "1a2b3c4d5e6f").contains("id SERIAL NOT NULL"));
    for name in sql_files(&out) {
        let text = std::fs::read_to_string(out.join(&name)).unwrap();
        assert!(
            !text.lines().any(|l| l == "BEGIN;" || l == "COMMIT;"),
            "{name}:\n{text}"
        );
    }
    let audit = file_of(&out, "44ee00000004");
    assert!(audit.contains("-- transaction: none"), "{audit}");
    assert!(
        audit.contains("CREATE INDEX CONCURRENTLY ix_audit_at ON audit_log (at);"),
        "{audit}"
    );
    assert!(
        run.stdout
            .contains("44ee00000004 commits inside its upgrade"),
        "{run:?}"
    );
    // On PostgreSQL, batch mode needs no reflection: only the data migration is left.
    let problems = load(&out).unwrap_err();
    assert_eq!(
        placeholder_revisions(&problems),
        ["77bb00000007"],
        "{problems}"
    );
}

#[test]
fn placeholders_let_the_history_be_read_but_not_applied() {
    let (tmp, out) = out_dir();
    let project = fixture("alembic_project");
    assert!(import(&[project.to_str().unwrap(), "--skip-sql"], &out).ok);
    let dir = out.to_str().unwrap();

    let heads = alembix(["--dir", dir, "heads"]);
    assert!(heads.ok, "{heads:?}");
    assert!(heads.stdout.contains("77bb00000007"), "{heads:?}");
    let history = alembix(["--dir", dir, "history"]);
    assert!(history.ok, "{history:?}");
    assert_eq!(history.stdout.lines().count(), 8, "{history:?}");
    for run in [&heads, &history] {
        let warnings: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "one warning: {run:?}");
        assert!(
            warnings[0].contains("6 file(s) hold a `-- migrate:todo` placeholder"),
            "{run:?}"
        );
        assert!(
            warnings[0].contains("migrations/0001_2024-03-01_create_users_1a2b3c4d5e6f.sql"),
            "{run:?}"
        );
    }

    let db = format!("sqlite://{}", tmp.path().join("app.sqlite").display());
    let up = alembix(["--dir", dir, "upgrade", "heads", "--db", &db]);
    assert!(!up.ok, "{up:?}");
    assert!(
        up.stderr.contains(
            "migrations/0001_2024-03-01_create_users_1a2b3c4d5e6f.sql:11: unknown section marker `-- migrate:todo"
        ),
        "{up:?}"
    );
    assert!(
        up.stderr
            .contains("still hold a `-- migrate:todo` placeholder"),
        "{up:?}"
    );
}

/// Copies a folder tree (no symlinks in the fixtures).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The fixture's ini with `script_location` set to `location`.
fn ini_with_script_location(location: &str) -> String {
    let ini = std::fs::read_to_string(fixture("alembic_project/alembic.ini")).unwrap();
    assert!(ini.contains("script_location = %(here)s/alembic\n"));
    ini.replace(
        "script_location = %(here)s/alembic\n",
        &format!("script_location = {location}\n"),
    )
}

#[test]
fn a_relative_script_location_is_resolved_against_the_current_directory() {
    // A shipped layout: `alembic -c config/alembic.ini …` run from the repository.
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    copy_tree(
        &fixture("alembic_project/alembic"),
        &repo.join("db/alembic"),
    );
    std::fs::create_dir_all(repo.join("config")).unwrap();
    std::fs::write(
        repo.join("config/alembic.ini"),
        ini_with_script_location("db/alembic"),
    )
    .unwrap();
    let run = alembix_in(
        repo,
        [
            "import-alembic",
            "config/alembic.ini",
            "--skip-sql",
            "--out",
            "out",
        ],
    );
    assert!(run.ok, "{run:?}");
    let out = repo.join("out");
    assert_eq!(sql_files(&out).len(), 8);
    for name in sql_files(&out) {
        let text = std::fs::read_to_string(out.join(&name)).unwrap();
        assert!(
            text.contains("-- Imported by `alembix import-alembic` from db/alembic/versions/"),
            "the path inside the project: {text}"
        );
        assert!(!text.contains("//"), "{text}");
        assert!(!text.contains(&repo.display().to_string()), "{text}");
    }
    assert!(file_of(&out, "1a2b3c4d5e6f").contains(
        "-- TODO(import-alembic): Write the SQL that upgrade() in db/alembic/versions/1a2b3c4d5e6f_create_users.py runs."
    ));

    // Alembic runs in the same directory, so it finds the same revisions.
    if let Some(python) = python_with_alembic() {
        let run = alembix_in(
            repo,
            [
                "import-alembic",
                "config/alembic.ini",
                "--python",
                python.to_str().unwrap(),
                "--out",
                "out_sql",
            ],
        );
        assert!(run.ok, "{run:?}");
        assert!(
            run.stdout
                .contains("-c config/alembic.ini upgrade heads --sql"),
            "{run:?}"
        );
        let users = file_of(&repo.join("out_sql"), "1a2b3c4d5e6f");
        assert!(users.contains("CREATE TABLE users ("), "{run:?}\n{users}");
    }

    // Alembic's old template (`script_location = alembic`), run from elsewhere:
    // refused, naming the ini and how to run it.
    copy_tree(
        &fixture("alembic_project/alembic"),
        &repo.join("legacy/alembic"),
    );
    std::fs::write(
        repo.join("legacy/alembic.ini"),
        ini_with_script_location("alembic"),
    )
    .unwrap();
    let run = alembix_in(
        repo,
        [
            "import-alembic",
            "legacy",
            "--skip-sql",
            "--out",
            "out_legacy",
        ],
    );
    assert!(!run.ok, "{run:?}");
    assert!(
        run.stderr
            .contains("legacy/alembic.ini: script_location `alembic` is "),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("resolved against the current directory, as Alembic does"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("legacy && alembix import-alembic . --out "),
        "{run:?}"
    );
    assert!(sql_files(&repo.join("out_legacy")).is_empty());
    let run = alembix_in(
        &repo.join("legacy"),
        ["import-alembic", ".", "--skip-sql", "--out", "out"],
    );
    assert!(run.ok, "{run:?}");
    assert!(file_of(&repo.join("legacy/out"), "1a2b3c4d5e6f")
        .contains("from alembic/versions/1a2b3c4d5e6f_create_users.py"));
}
