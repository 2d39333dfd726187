//! `import-alembic --dialect`: one Alembic history imported for several
//! dialects. A generated history whose `op.*` calls render differently per
//! dialect (an autoincrement key, a `sa.Boolean` server default and values,
//! `sa.Enum`, `op.alter_column(type_=…)`, `op.drop_index`) and one that a
//! dialect cannot render (`op.create_check_constraint` on SQLite): the files
//! hold a variant exactly where the renderings differ, a placeholder only in
//! the variant of the dialect that failed, and `alembix.toml` declares the
//! dialects. Each dialect's SQL is what the import for that dialect alone
//! gives; applied on PostgreSQL and on MariaDB it leaves the schema and rows
//! Alembic's own online run leaves there, and its downgrades leave nothing.
//!
//! Servers as in `offline_sql.rs`: a server that cannot be reached skips its
//! test with a message, except with `CI=true`, where the test fails.

use crate::offline_sql::{
    alembic_online, db, import_for, server_db, upgrade_statements, write_project,
};
use crate::online::{downgrade_statements, MARKER};
use crate::support::{alembix_in, fill_placeholders, load, placeholder_revisions, sql_files, Run};
use crate::venv::python_with_alembic;
use alembix_core::sql::SqlDialect;
use std::path::Path;

const NOTES_UP: &str = r#"    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(40)),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
    )"#;
const NOTES_DOWN: &str = r#"    op.drop_table("notes")
    sa.Enum(name="mood").drop(op.get_bind(), checkfirst=False)"#;
const WIDEN_UP: &str = r#"    op.alter_column("notes", "title", type_=sa.String(80), existing_type=sa.String(40), existing_nullable=True)"#;
const WIDEN_DOWN: &str = r#"    op.alter_column("notes", "title", type_=sa.String(40), existing_type=sa.String(80), existing_nullable=True)"#;
const ROWS_UP: &str = r#"    op.create_index("ix_notes_title", "notes", ["title"])
    notes = sa.table(
        "notes",
        sa.column("title", sa.String),
        sa.column("done", sa.Boolean),
        sa.column("mood", sa.Enum("happy", "sad", name="mood")),
    )
    op.bulk_insert(notes, [
        {"title": "first", "done": True, "mood": "happy"},
        {"title": "second", "done": False, "mood": None},
    ])"#;
const ROWS_DOWN: &str = r#"    op.execute("DELETE FROM notes")
    op.drop_index("ix_notes_title", table_name="notes")"#;
const CHECK_UP: &str =
    r#"    op.create_check_constraint("ck_notes_title", "notes", "title <> ''")"#;
const CHECK_DOWN: &str = r#"    op.drop_constraint("ck_notes_title", "notes", type_="check")"#;

/// The history PostgreSQL and MariaDB both run.
const REVISIONS: [(&str, Option<&str>, &str, &str); 4] = [
    ("dv01", None, NOTES_UP, NOTES_DOWN),
    ("dv02", Some("dv01"), WIDEN_UP, WIDEN_DOWN),
    ("dv03", Some("dv02"), ROWS_UP, ROWS_DOWN),
    ("dv04", Some("dv03"), CHECK_UP, CHECK_DOWN),
];

/// The history without `alter_column`, which Alembic renders for SQLite as
/// PostgreSQL's `ALTER COLUMN … TYPE` (SQLite cannot run it).
const SQLITE_REVISIONS: [(&str, Option<&str>, &str, &str); 3] = [
    ("dv01", None, NOTES_UP, NOTES_DOWN),
    ("dv03", Some("dv01"), ROWS_UP, ROWS_DOWN),
    ("dv04", Some("dv03"), CHECK_UP, CHECK_DOWN),
];

/// `import-alembic . --out OUT ARGS…` in `project`, with the venv.
fn import(python: &Path, project: &Path, out: &str, args: &[&str]) -> Run {
    let mut all: Vec<String> = vec![
        "import-alembic".into(),
        ".".into(),
        "--python".into(),
        python.display().to_string(),
        "--out".into(),
        out.into(),
    ];
    all.extend(args.iter().map(|a| (*a).to_string()));
    alembix_in(project, all)
}

/// The text of the file of `revision` in `dir`.
fn text_of(dir: &Path, revision: &str) -> String {
    crate::support::file_of(dir, revision)
}

/// The section marker lines of a file, in order.
fn markers(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            l.starts_with("-- migrate:upgrade")
                || l.starts_with("-- migrate:downgrade")
                || l.starts_with("-- migrate:irreversible")
        })
        .collect()
}

/// The part of `text` after the marker line `marker`, up to the next marker.
fn part<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text
        .find(&format!("{marker}\n"))
        .unwrap_or_else(|| panic!("no `{marker}` in:\n{text}"))
        + marker.len()
        + 1;
    let rest = &text[start..];
    let end = ["\n-- migrate:upgrade", "\n-- migrate:downgrade"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The table the history makes (constraints, columns, rows); no other table
/// but Alembic's and the runtime's own.
fn notes_schema(python: &Path, kind: &str, url: &str) -> String {
    let tables: Vec<String> = db(python, kind, url, &["tables"], "")
        .unwrap()
        .lines()
        .filter(|t| !t.starts_with("alembic_version"))
        .map(str::to_string)
        .collect();
    assert_eq!(tables, ["notes"], "{kind}");
    db(python, kind, url, &["snapshot", "notes"], "").unwrap()
}

/// The statements `dialect` runs, file by file, in an imported folder.
fn statements_by_file(out: &Path, dialect: SqlDialect) -> Vec<(String, Vec<String>, Vec<String>)> {
    let set = load(out).unwrap();
    set.files()
        .iter()
        .map(|f| {
            let up = f.upgrade.statements(dialect).iter().map(|s| s.sql.clone());
            let down = f
                .downgrade
                .as_ref()
                .map(|d| d.statements(dialect).to_vec())
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.sql);
            (f.revision.clone(), up.collect(), down.collect())
        })
        .collect()
}

#[test]
fn one_history_gets_a_variant_where_postgresql_and_mariadb_render_differently() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let Some(pg_online) = server_db(&python, "postgresql") else {
        return;
    };
    let Some(my_online) = server_db(&python, "mysql") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    // alembic.ini names SQLite: each rendering replaces it.
    write_project(project, &REVISIONS);
    alembic_online(&python, project, &pg_online.url());
    alembic_online(&python, project, &my_online.url());
    let expected = [
        (
            "postgresql",
            notes_schema(&python, "postgresql", &pg_online.url()),
        ),
        ("mysql", notes_schema(&python, "mysql", &my_online.url())),
    ];
    assert!(expected[0].1.contains("'first'"), "{}", expected[0].1);
    let version = db(&python, "mysql", &my_online.url(), &["version"], "").unwrap();
    let version = version.trim();

    let run = import(
        &python,
        project,
        "out",
        &[
            "--dialect",
            "postgresql",
            "--dialect",
            "mysql",
            "--server-version",
            version,
        ],
    );
    assert!(run.ok, "{run:?}");
    let out = project.join("out");
    assert!(
        load(&out).is_ok(),
        "no placeholder, valid for both: {run:?}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("alembix.toml"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["dialects = [\"postgresql\", \"mysql\"]"]
    );
    for expected in [
        "in offline mode for each of postgresql, mysql, in 1 Python process(es)",
        "; 0 file(s) with placeholders; 3 file(s) with dialect variants",
        "wrote out/alembix.toml: the history declares postgresql, mysql",
        "note: the SQL is rendered as Alembic renders it online against MariaDB ",
        "dv03  out/2024-01-03_step_2_dv03.sql  upgrade: SQL from Alembic (3 statement(s)); downgrade: SQL from Alembic (2 statement(s)), variant for mysql",
        "verified: out loads with alembix-core (the same check the build runs)",
    ] {
        assert!(run.stdout.contains(expected), "{expected}\n{run:?}");
    }
    let show = alembix_in(project, ["--dir", "out", "show", "dv01"]);
    assert!(
        show.ok && show.stdout.contains("Variants: mysql\n"),
        "{show:?}"
    );

    // A variant exactly where the renderings differ; the default is the first
    // dialect's on a tie.
    let up = "-- migrate:upgrade";
    let up_mysql = "-- migrate:upgrade mysql";
    let down = "-- migrate:downgrade";
    let down_mysql = "-- migrate:downgrade mysql";
    for (revision, expected) in [
        ("dv01", vec![up, up_mysql, down, down_mysql]),
        ("dv02", vec![up, up_mysql, down, down_mysql]),
        ("dv03", vec![up, down, down_mysql]),
        // MariaDB drops a check constraint as PostgreSQL does.
        ("dv04", vec![up, down]),
    ] {
        let text = text_of(&out, revision);
        assert_eq!(markers(&text), expected, "{revision}:\n{text}");
    }
    let dv01 = text_of(&out, "dv01");
    assert!(
        part(&dv01, up).contains("CREATE TYPE mood AS ENUM ('happy', 'sad');"),
        "{dv01}"
    );
    assert!(part(&dv01, up).contains("id SERIAL NOT NULL"), "{dv01}");
    assert!(
        part(&dv01, up_mysql).contains("id INTEGER NOT NULL AUTO_INCREMENT"),
        "{dv01}"
    );
    assert!(
        part(&dv01, up_mysql).contains("mood ENUM('happy','sad')"),
        "{dv01}"
    );
    assert!(part(&dv01, down).contains("DROP TYPE mood;"), "{dv01}");
    assert!(!part(&dv01, down_mysql).contains("TYPE"), "{dv01}");
    let dv02 = text_of(&out, "dv02");
    assert!(
        part(&dv02, up).contains("ALTER COLUMN title TYPE VARCHAR(80)"),
        "{dv02}"
    );
    assert!(
        part(&dv02, up_mysql).contains("MODIFY title VARCHAR(80) NULL"),
        "{dv02}"
    );
    assert!(
        text_of(&out, "dv04").contains("ALTER TABLE notes DROP CONSTRAINT ck_notes_title;"),
        "{run:?}"
    );

    // Each dialect runs what the import for that dialect alone gives.
    let alone = [
        (
            "postgresql",
            SqlDialect::Postgres,
            "postgresql://u@h/db",
            vec![],
        ),
        (
            "mysql",
            SqlDialect::Mysql,
            "mysql+pymysql://u@h/db",
            vec!["--server-version", version],
        ),
    ];
    for (name, dialect, url, args) in &alone {
        let single = format!("out_{name}");
        let run = import_for(&python, project, &single, url, args);
        assert!(run.ok, "{run:?}");
        assert!(!project.join(&single).join("alembix.toml").exists());
        assert_eq!(
            statements_by_file(&out, *dialect),
            statements_by_file(&project.join(&single), *dialect),
            "{name}"
        );
    }

    // Applied on each server: Alembic's own result; reverted: nothing left.
    for (kind, expected) in &expected {
        let dialect = if *kind == "mysql" {
            SqlDialect::Mysql
        } else {
            SqlDialect::Postgres
        };
        let ours = server_db(&python, kind).unwrap();
        let statements = upgrade_statements(&out, kind).join("\0");
        db(&python, kind, &ours.url(), &["apply"], &statements)
            .unwrap_or_else(|e| panic!("our SQL on {kind} fails:\n{e}\n{statements}"));
        assert_eq!(
            &notes_schema(&python, kind, &ours.url()),
            expected,
            "{kind}"
        );
        let statements = downgrade_statements(&out, dialect).join("\0");
        db(&python, kind, &ours.url(), &["apply"], &statements)
            .unwrap_or_else(|e| panic!("our downgrades on {kind} fail:\n{e}\n{statements}"));
        assert_eq!(db(&python, kind, &ours.url(), &["tables"], "").unwrap(), "");
    }
}

#[test]
fn a_revision_one_dialect_cannot_render_has_its_placeholder_in_that_variant() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    write_project(project, &SQLITE_REVISIONS);
    let run = import(
        &python,
        project,
        "out",
        &["--dialect", "sqlite", "--dialect", "postgresql"],
    );
    assert!(run.ok, "{run:?}");
    let out = project.join("out");
    assert!(
        run.stdout
            .contains("; 1 file(s) with placeholders; 3 file(s) with dialect variants"),
        "{run:?}"
    );
    let problems = load(&out).unwrap_err();
    assert_eq!(placeholder_revisions(&problems), ["dv04"], "{problems}");
    let up = "-- migrate:upgrade";
    let down = "-- migrate:downgrade";
    for (revision, expected) in [
        (
            "dv01",
            vec![
                up,
                "-- migrate:upgrade postgresql",
                down,
                "-- migrate:downgrade postgresql",
            ],
        ),
        ("dv03", vec![up, "-- migrate:upgrade postgresql", down]),
        // SQLite's rendering failed: PostgreSQL's is the default.
        (
            "dv04",
            vec![
                up,
                "-- migrate:upgrade sqlite",
                down,
                "-- migrate:downgrade sqlite",
            ],
        ),
    ] {
        let text = text_of(&out, revision);
        assert_eq!(markers(&text), expected, "{revision}:\n{text}");
    }
    let dv03 = text_of(&out, "dv03");
    assert!(
        part(&dv03, up).contains("VALUES ('first', 1, 'happy');"),
        "{dv03}"
    );
    assert!(
        part(&dv03, "-- migrate:upgrade postgresql").contains("VALUES ('first', true, 'happy');"),
        "{dv03}"
    );
    let dv04 = text_of(&out, "dv04");
    assert!(
        part(&dv04, up)
            .contains("ALTER TABLE notes ADD CONSTRAINT ck_notes_title CHECK (title <> '');"),
        "{dv04}"
    );
    let sqlite = part(&dv04, "-- migrate:upgrade sqlite");
    for expected in [
        "No support for ALTER of constraints in SQLite dialect",
        "-- TODO(import-alembic): This is the sqlite variant: the default section holds what the other dialects rendered.",
        "-- migrate:todo (import-alembic) write the upgrade SQL for sqlite here, then delete this line",
    ] {
        assert!(sqlite.contains(expected), "{expected}\n{dv04}");
    }
    assert!(
        part(&dv04, down).contains("ALTER TABLE notes DROP CONSTRAINT ck_notes_title;"),
        "{dv04}"
    );
    let imported: Vec<(String, String)> = sql_files(&out)
        .into_iter()
        .map(|n| (n.clone(), std::fs::read_to_string(out.join(&n)).unwrap()))
        .collect();

    // Filled, the history runs on SQLite with the alembix binary, both ways.
    fill_placeholders(&out, "SELECT 1;");
    let ours = project.join("ours.db");
    let db_url = format!("sqlite://{}", ours.display());
    let upgraded = alembix_in(
        project,
        ["--dir", "out", "upgrade", "heads", "--db", &db_url],
    );
    assert!(upgraded.ok, "{upgraded:?}");
    let snapshot = notes_schema(&python, "sqlite", ours.to_str().unwrap());
    assert!(snapshot.contains("(1, 'first', 1, 'happy')"), "{snapshot}");
    let reverted = alembix_in(
        project,
        ["--dir", "out", "downgrade", "base", "--db", &db_url],
    );
    assert!(reverted.ok, "{reverted:?}");

    // Without --dialect, the dialects the folder's alembix.toml declares.
    let declared = project.join("out_declared");
    std::fs::create_dir_all(&declared).unwrap();
    std::fs::write(
        declared.join("alembix.toml"),
        "dialects = [\"postgresql\", \"sqlite\"]\n",
    )
    .unwrap();
    let run = import(&python, project, "out_declared", &[]);
    assert!(run.ok, "{run:?}");
    assert!(
        run.stdout.contains(
            "note: rendering for the dialects out_declared/alembix.toml declares (sqlite, postgresql), as if given with --dialect"
        ),
        "{run:?}"
    );
    let again: Vec<(String, String)> = sql_files(&declared)
        .into_iter()
        .map(|n| {
            (
                n.clone(),
                std::fs::read_to_string(declared.join(&n)).unwrap(),
            )
        })
        .collect();
    assert_eq!(again, imported);
    assert_eq!(
        std::fs::read_to_string(declared.join("alembix.toml")).unwrap(),
        "dialects = [\"postgresql\", \"sqlite\"]\n",
        "never rewritten"
    );

    // Refused before Alembic runs, nothing written.
    let other = project.join("out_other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("alembix.toml"), "dialects = [\"postgresql\"]\n").unwrap();
    let refusals: [(&str, &[&str], &str); 4] = [
        (
            "out_other",
            &["--dialect", "sqlite", "--dialect", "postgresql"],
            "out_other/alembix.toml declares the dialects postgresql, and the import is for sqlite, postgresql: the imported files must have SQL for exactly the dialects the folder declares",
        ),
        (
            "out_version",
            &["--dialect", "sqlite", "--dialect", "postgresql", "--server-version", "10.11.6-MariaDB"],
            "--server-version 10.11.6-MariaDB: it applies to MySQL and MariaDB, and the SQL is rendered for sqlite, postgresql; drop it, or add --dialect mysql; nothing was written",
        ),
        (
            "out_scratch",
            &["--dialect", "postgresql", "--online-scratch", "sqlite"],
            "--online-scratch sqlite: a sqlite server, and the SQL is rendered for postgresql; it fills the placeholders of its own dialect's rendering",
        ),
        (
            "out_typo",
            &["--dialect", "postgres"],
            "unknown dialect `postgres`: the dialects are `sqlite`, `postgresql` and `mysql` (MySQL and MariaDB); did you mean `postgresql`?",
        ),
    ];
    for (out, args, expected) in refusals {
        let run = import(&python, project, out, args);
        assert!(!run.ok, "{run:?}");
        assert!(run.stderr.contains(expected), "{expected}\n{run:?}");
        assert!(sql_files(&project.join(out)).is_empty(), "{out}");
        assert!(!run.stdout.contains("loading the revisions"), "{run:?}");
    }
}

#[test]
fn online_scratch_fills_the_placeholders_of_its_own_dialect() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    // A table made offline, one made only if `has_table` says it is missing.
    write_project(project, &crate::online::REVISIONS[..2]);
    let run = import(
        &python,
        project,
        "out",
        &[
            "--dialect",
            "postgresql",
            "--dialect",
            "sqlite",
            "--online-scratch",
            "sqlite",
        ],
    );
    assert!(run.ok, "{run:?}");
    assert!(
        run.stdout
            .contains("2 section(s) of 1 revision(s) rendered online against an empty SQLite "),
        "{run:?}"
    );
    let out = project.join("out");
    let problems = load(&out).unwrap_err();
    assert_eq!(placeholder_revisions(&problems), ["on02"], "{run:?}");
    let on02 = text_of(&out, "on02");
    assert_eq!(
        markers(&on02),
        [
            "-- migrate:upgrade",
            "-- migrate:upgrade postgresql",
            "-- migrate:downgrade",
            "-- migrate:downgrade postgresql"
        ],
        "{on02}"
    );
    let default = part(&on02, "-- migrate:upgrade");
    assert!(default.starts_with(&format!("{MARKER}SQLite ")), "{on02}");
    assert!(default.contains("CREATE TABLE settings ("), "{on02}");
    let postgresql = part(&on02, "-- migrate:upgrade postgresql");
    assert!(postgresql.contains("NoInspectionAvailable"), "{on02}");
    assert!(
        postgresql
            .contains("-- migrate:todo (import-alembic) write the upgrade SQL for postgresql here"),
        "{on02}"
    );
}
