//! `import-alembic --online-scratch`: a generated Alembic history whose
//! revisions inspect the live schema (`sa.inspect(bind).has_table`, a table
//! reflected with `autoload_with`, data written through the connection), which
//! offline mode cannot render, imported with the venv's Alembic run online
//! against a scratch database on PostgreSQL, MariaDB and SQLite. The files hold
//! the SQL, the marker and the downgrade; the imported history applied on a
//! fresh database (on SQLite by the `alembix` binary's `upgrade heads`, on the
//! servers statement by statement as the runtime splits them) leaves the schema
//! and rows Alembic's own online run leaves, and its downgrades leave nothing;
//! the scratch database is gone afterwards.
//!
//! Servers as in `offline_sql.rs`: a server that cannot be reached skips its
//! test with a message, except with `CI=true`, where the test fails.

use crate::offline_sql::{
    alembic_online, db, import_for, server_db, server_url, upgrade_statements, write_project,
};
use crate::support::{alembix_in, apply_order, file_of, load, placeholder_revisions, Run};
use crate::venv::python_with_alembic;
use alembix_core::sql::SqlDialect;
use std::path::Path;

/// A table made offline; one made only if `has_table` says it is missing;
/// rows written through the connection into a reflected table (values with
/// `%`, a quote, an expanding `IN`); a check that emits nothing on an empty
/// database; and an offline-renderable revision on the table made online.
pub(crate) const REVISIONS: [(&str, Option<&str>, &str, &str); 5] = [
    (
        "on01",
        None,
        r#"    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("plan", sa.String(20), server_default="100%"),
    )"#,
        r#"    op.drop_table("accounts")"#,
    ),
    (
        "on02",
        Some("on01"),
        r#"    if not sa.inspect(op.get_bind()).has_table("settings"):
        op.create_table(
            "settings",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("setting", sa.String(40), nullable=False),
            sa.CheckConstraint("setting <> ''", name="ck_settings_setting"),
        )"#,
        r#"    if sa.inspect(op.get_bind()).has_table("settings"):
        op.drop_table("settings")"#,
    ),
    (
        "on03",
        Some("on02"),
        r#"    bind = op.get_bind()
    accounts = sa.Table("accounts", sa.MetaData(), autoload_with=bind)
    bind.execute(accounts.insert(), [
        {"id": 1, "name": "50% off", "plan": "a%%b"},
        {"id": 2, "name": "it's", "plan": None},
    ])
    columns = {c["name"] for c in sa.inspect(bind).get_columns("accounts")}
    if "legacy" in columns:
        op.drop_column("accounts", "legacy")
    bind.execute(sa.text("INSERT INTO settings (id, setting) VALUES (:id, :setting)"), {"id": 1, "setting": "rate:50%"})"#,
        r#"    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM settings WHERE id = :id"), {"id": 1})
    accounts = sa.Table("accounts", sa.MetaData(), autoload_with=bind)
    bind.execute(accounts.delete().where(accounts.c.id.in_([1, 2])))"#,
    ),
    (
        "on04",
        Some("on03"),
        r#"    if sa.inspect(op.get_bind()).has_table("old_accounts"):
        op.drop_table("old_accounts")"#,
        "    pass",
    ),
    (
        "on05",
        Some("on04"),
        r#"    op.add_column("settings", sa.Column("note", sa.String(40), server_default="50%"))"#,
        r#"    op.drop_column("settings", "note")"#,
    ),
];

/// The start of the comment above a section rendered online.
pub(crate) const MARKER: &str = "-- NOTE(import-alembic): rendered online against an empty ";

/// What the tables the history makes hold (constraints, columns, rows), and the
/// other tables there (Alembic's and the runtime's own left out).
fn schema(python: &Path, kind: &str, url: &str) -> String {
    let tables: Vec<String> = db(python, kind, url, &["tables"], "")
        .unwrap()
        .lines()
        .filter(|t| !t.starts_with("alembic_version"))
        .map(str::to_string)
        .collect();
    assert_eq!(tables, ["accounts", "settings"], "{kind}");
    let mut out = String::new();
    for table in ["accounts", "settings"] {
        out.push_str(&db(python, kind, url, &["snapshot", table], "").unwrap());
    }
    out
}

/// The downgrade statements of an imported folder, children first.
pub(crate) fn downgrade_statements(out: &Path, dialect: SqlDialect) -> Vec<String> {
    let set = load(out).unwrap();
    apply_order(&set)
        .into_iter()
        .rev()
        .flat_map(|i| {
            set.file(i)
                .downgrade
                .as_ref()
                .map(|d| d.statements(dialect).to_vec())
                .unwrap_or_default()
        })
        .map(|s| s.sql)
        .collect()
}

/// The scratch database the import named when it dropped it.
fn dropped_scratch(run: &Run) -> String {
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("dropped the scratch database "))
        .unwrap_or_else(|| panic!("the import drops its scratch database: {run:?}"));
    line.trim_start_matches('`')
        .split(['`', ' '])
        .next()
        .unwrap()
        .to_string()
}

/// What every backend's import holds: offline SQL where offline mode rendered,
/// the online SQL with its marker where it could not, no reflection query.
fn check_files(run: &Run, out: &Path, server: &str) {
    assert!(load(out).is_ok(), "no placeholder left: {run:?}");
    assert!(
        run.stdout.contains(&format!(
            "summary: 5 revision(s); 5 section(s) filled from Alembic's offline SQL; 5 section(s) of 3 revision(s) rendered online against an empty {server}"
        )),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("; 0 file(s) with placeholders"),
        "{run:?}"
    );
    let marker = format!("{MARKER}{server}");
    for (revision, markers) in [
        ("on01", 0),
        ("on02", 2),
        ("on03", 2),
        ("on04", 1),
        ("on05", 0),
    ] {
        let text = file_of(out, revision);
        assert_eq!(
            text.matches(&marker).count(),
            markers,
            "{revision}:\n{text}"
        );
        for read in [
            "pg_catalog",
            "DESCRIBE",
            "PRAGMA",
            "information_schema",
            "SHOW ",
        ] {
            assert!(
                !text.contains(read),
                "{revision} holds a reflection query:\n{text}"
            );
        }
    }
    let on02 = file_of(out, "on02");
    let (up, down) = on02.split_once("-- migrate:downgrade\n").unwrap();
    assert!(up.contains("this is the SQL upgrade() executed there, parameters inlined, because offline mode could not render it (Alembic failed in this revision: NoInspectionAvailable"), "{on02}");
    assert!(up.contains("CREATE TABLE settings ("), "{on02}");
    assert!(down.starts_with(&marker), "{on02}");
    assert!(down.contains("\nDROP TABLE settings;"), "{on02}");
    let on03 = file_of(out, "on03");
    assert!(on03.contains("'50% off'"), "{on03}");
    assert!(
        on03.contains("'a%%b'"),
        "two signs in the data stay two:\n{on03}"
    );
    assert!(
        on03.contains("INSERT INTO settings (id, setting) VALUES (1, 'rate:50%');"),
        "{on03}"
    );
    assert!(
        on03.contains("DELETE FROM settings WHERE id = 1;"),
        "{on03}"
    );
    assert!(on03.contains("IN (1, 2)"), "{on03}");
    let on04 = file_of(out, "on04");
    assert!(
        on04.contains("-- On that database it executed no statement.\n-- `SELECT 1` keeps the section valid: an upgrade needs a statement.\nSELECT 1;"),
        "{on04}"
    );
    assert!(
        on04.contains("-- migrate:downgrade\n-- downgrade() in"),
        "{on04}"
    );
    assert!(file_of(out, "on05").contains("note"));
}

/// The import on a server of `kind`: files, the scratch database dropped, the
/// SQL applied on a fresh database equal to Alembic's online run, its
/// downgrades leaving no table.
fn server_case(kind: &'static str, x_url: &str, server: &str) {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let Some(online) = server_db(&python, kind) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    write_project(project, &REVISIONS);
    alembic_online(&python, project, &online.url());
    let expected = schema(&python, kind, &online.url());
    assert!(expected.contains("'50% off'"), "{expected}");

    let admin = server_url(kind);
    let run = import_for(
        &python,
        project,
        "out",
        x_url,
        &["--online-scratch", &admin],
    );
    assert!(run.ok, "{run:?}");
    let out = project.join("out");
    check_files(&run, &out, server);
    let scratch = dropped_scratch(&run);
    assert!(scratch.starts_with("alembix_import_"), "{scratch}");
    let databases = db(&python, kind, &admin, &["databases"], "").unwrap();
    assert!(
        !databases.lines().any(|d| d == scratch),
        "{scratch} is gone: {databases}"
    );

    let ours = server_db(&python, kind).unwrap();
    let statements = upgrade_statements(&out, kind).join("\0");
    db(&python, kind, &ours.url(), &["apply"], &statements)
        .unwrap_or_else(|e| panic!("our SQL on {kind} fails:\n{e}\n{statements}"));
    assert_eq!(schema(&python, kind, &ours.url()), expected, "{kind}");
    let dialect = if kind == "mysql" {
        SqlDialect::Mysql
    } else {
        SqlDialect::Postgres
    };
    let statements = downgrade_statements(&out, dialect).join("\0");
    db(&python, kind, &ours.url(), &["apply"], &statements)
        .unwrap_or_else(|e| panic!("our downgrades on {kind} fail:\n{e}\n{statements}"));
    assert_eq!(db(&python, kind, &ours.url(), &["tables"], "").unwrap(), "");
}

#[test]
fn inspecting_revisions_render_online_on_postgresql() {
    server_case("postgresql", "postgresql://u@h/db", "PostgreSQL ");
}

#[test]
fn inspecting_revisions_render_online_on_mariadb() {
    server_case("mysql", "mysql+pymysql://u@h/db", "MariaDB ");
    // A password never shows: here a wrong one, which the server refuses.
    let Some(python) = python_with_alembic() else {
        return;
    };
    let admin = server_url("mysql");
    let Some((scheme, rest)) = admin.split_once("://") else {
        return;
    };
    let Some((user, host)) = rest.split_once('@').filter(|(u, _)| !u.contains(':')) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    write_project(project, &REVISIONS);
    let wrong = format!("{scheme}://{user}:n0t-the-Pa55word@{host}");
    let run = import_for(
        &python,
        project,
        "out",
        "mysql+pymysql://u@h/db",
        &["--online-scratch", &wrong],
    );
    assert!(!run.ok, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "--online-scratch {scheme}://{user}:***@{host}: cannot ask the server its version"
        )),
        "{run:?}"
    );
    assert!(!format!("{run:?}").contains("n0t-the-Pa55word"), "{run:?}");
    assert!(!project.join("out").exists(), "nothing written");
}

#[test]
fn inspecting_revisions_render_online_on_sqlite() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    write_project(project, &REVISIONS);
    let online = project.join("online.db");
    alembic_online(&python, project, &format!("sqlite:///{}", online.display()));
    let expected = schema(&python, "sqlite", online.to_str().unwrap());

    let run = alembix_in(
        project,
        [
            "import-alembic",
            ".",
            "--python",
            python.to_str().unwrap(),
            "--out",
            "out",
            "--online-scratch",
            "sqlite",
        ],
    );
    assert!(run.ok, "{run:?}");
    let out = project.join("out");
    check_files(&run, &out, "SQLite ");
    let scratch = dropped_scratch(&run);
    assert!(scratch.ends_with(".sqlite"), "{scratch}");
    assert!(!Path::new(&scratch).exists(), "{scratch} is gone");

    // The runtime applies the imported history, and reverts it.
    let ours = project.join("ours.db");
    let db_url = format!("sqlite://{}", ours.display());
    let up = alembix_in(
        project,
        ["--dir", "out", "upgrade", "heads", "--db", &db_url],
    );
    assert!(up.ok, "{up:?}");
    assert_eq!(schema(&python, "sqlite", ours.to_str().unwrap()), expected);
    let down = alembix_in(
        project,
        ["--dir", "out", "downgrade", "base", "--db", &db_url],
    );
    assert!(down.ok, "{down:?}");
    let left = db(&python, "sqlite", ours.to_str().unwrap(), &["tables"], "").unwrap();
    assert!(
        left.lines().all(|t| t.starts_with("alembic_version")),
        "{left}"
    );

    // The scratch server must be of the kind the SQL is rendered for.
    let run = import_for(
        &python,
        project,
        "out_pg",
        "postgresql://u@h/db",
        &["--online-scratch", "sqlite"],
    );
    assert!(!run.ok, "{run:?}");
    assert!(
        run.stderr
            .contains("--online-scratch sqlite: the SQL is rendered for the postgresql dialect"),
        "{run:?}"
    );
    assert!(!project.join("out_pg").exists());
}

#[test]
fn a_revision_that_fails_online_too_stays_a_placeholder() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    write_project(
        project,
        &[
            (
                "fo01",
                None,
                r#"    if not sa.inspect(op.get_bind()).has_table("t"):
        op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))"#,
                r#"    if sa.inspect(op.get_bind()).has_table("t"):
        op.drop_table("t")"#,
            ),
            (
                "fo02",
                Some("fo01"),
                r#"    if op.get_bind().execute(sa.text("SELECT count(*) FROM t")).scalar() == 0:
        raise RuntimeError("t must hold the production rows")"#,
                "    pass",
            ),
        ],
    );
    let run = alembix_in(
        project,
        [
            "import-alembic",
            ".",
            "--python",
            python.to_str().unwrap(),
            "--out",
            "out",
            "--online-scratch",
            "sqlite",
        ],
    );
    assert!(run.ok, "{run:?}");
    let scratch = dropped_scratch(&run);
    assert!(!Path::new(&scratch).exists(), "{scratch} is gone");
    let out = project.join("out");
    let problems = load(&out).unwrap_err();
    assert_eq!(
        placeholder_revisions(&problems),
        ["fo01", "fo02"],
        "{run:?}"
    );
    let fo01 = file_of(&out, "fo01");
    let (up, down) = fo01.split_once("-- migrate:downgrade\n").unwrap();
    assert!(
        up.contains(MARKER) && up.contains("CREATE TABLE t ("),
        "{fo01}"
    );
    assert!(
        down.contains("it gave no SQL either: the online run did not downgrade: its upgrade stopped (RuntimeError: t must hold the production rows"),
        "{fo01}"
    );
    let fo02 = file_of(&out, "fo02");
    assert!(
        fo02.contains("-- TODO(import-alembic): Run online against an empty SQLite "),
        "{fo02}"
    );
    assert!(
        fo02.contains("it gave no SQL either: Alembic failed in this revision: RuntimeError: t must hold the production rows."),
        "{fo02}"
    );
    assert!(
        run.stdout
            .contains("1 section(s) of 1 revision(s) rendered online against an empty SQLite "),
        "{run:?}"
    );
}

/// env.py whose online branch connects through a `creator` (the application's
/// own connection), which no URL points elsewhere.
const ENV_PY_OWN_CONNECTION: &str = r#"import sqlite3

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect("production.db"), poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"#;

#[test]
fn nothing_runs_online_unless_env_py_connects_to_the_scratch_database() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    write_project(project, &REVISIONS[..2]);
    std::fs::write(project.join("alembic/env.py"), ENV_PY_OWN_CONNECTION).unwrap();
    let run = alembix_in(
        project,
        [
            "import-alembic",
            ".",
            "--python",
            python.to_str().unwrap(),
            "--out",
            "out",
            "--online-scratch",
            "sqlite",
        ],
    );
    assert!(run.ok, "{run:?}");
    assert!(
        run.stdout.contains(
            "note: Alembic's online run stopped (its upgrade failed: env.py connected Alembic to '"
        ),
        "{run:?}"
    );
    let production = project.join("production.db");
    let tables = db(
        &python,
        "sqlite",
        production.to_str().unwrap(),
        &["tables"],
        "",
    )
    .unwrap();
    assert_eq!(tables, "", "nothing ran on the application's database");
    let scratch = dropped_scratch(&run);
    assert!(!Path::new(&scratch).exists(), "{scratch} is gone");
    let out = project.join("out");
    let problems = load(&out).unwrap_err();
    assert_eq!(placeholder_revisions(&problems), ["on02"], "{run:?}");
    let on02 = file_of(&out, "on02");
    assert!(
        on02.contains("production.db', not to the import's scratch database"),
        "{on02}"
    );
}
