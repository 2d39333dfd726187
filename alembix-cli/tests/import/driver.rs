//! `import-alembic` with Alembic loading and rendering the whole history in one
//! Python process: generated projects whose headers name constants of the
//! project's own module, whose revisions fail offline (each alone), end the
//! process, enter `autocommit_block()`, compute values while rendering, and keep
//! the version table in a schema. The Python is a wrapper that counts launches.

use crate::support::{alembix_in, file_of, fill_placeholders, load, placeholder_revisions, Run};
use crate::venv::python_with_alembic;
use alembix_core::TransactionMode;
use std::path::{Path, PathBuf};

const INI: &str = "[alembic]
script_location = %(here)s/alembic
prepend_sys_path = .
path_separator = os
sqlalchemy.url = sqlite:///offline.db

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
";

/// Alembic's generic offline env.py, with `-x url=…` and `-x schema=…` (the
/// version table's schema).
const ENV_PY: &str = r#"from logging.config import fileConfig

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
x = context.get_x_argument(as_dictionary=True)

context.configure(
    url=x.get("url") or config.get_main_option("sqlalchemy.url"),
    target_metadata=None,
    literal_binds=True,
    version_table_schema=x.get("schema"),
)
with context.begin_transaction():
    context.run_migrations()
"#;

/// The project's own module, whose constants the revisions' headers name.
const CLI_PY: &str = r#"EXPAND_BRANCH = "expand"
CONTRACT_BRANCH = "contract"
FIRST = "t00"


def after(revision):
    return revision
"#;

/// One generated revision: its headers as Python expressions, its bodies
/// (indented by four spaces).
struct Rev {
    id: String,
    down: String,
    labels: &'static str,
    depends: &'static str,
    upgrade: String,
    downgrade: String,
}

fn rev(id: &str, down: Option<&str>, upgrade: &str, downgrade: &str) -> Rev {
    Rev {
        id: id.to_string(),
        down: down.map_or("None".to_string(), |d| format!("{d:?}")),
        labels: "None",
        depends: "None",
        upgrade: upgrade.to_string(),
        downgrade: downgrade.to_string(),
    }
}

fn write_project(dir: &Path, revisions: &[Rev]) {
    let versions = dir.join("alembic/versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::create_dir_all(dir.join("myapp")).unwrap();
    std::fs::write(dir.join("myapp/__init__.py"), "").unwrap();
    std::fs::write(dir.join("myapp/cli.py"), CLI_PY).unwrap();
    std::fs::write(dir.join("alembic.ini"), INI).unwrap();
    std::fs::write(dir.join("alembic/env.py"), ENV_PY).unwrap();
    for r in revisions {
        let text = format!(
            "\"\"\"step {id}\n\nRevision ID: {id}\nCreate Date: 2024-01-01 00:00:00\n\n\"\"\"\nimport datetime\nimport os\nimport uuid\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nfrom myapp import cli\n\nrevision = {id:?}\ndown_revision = {down}\nbranch_labels = {labels}\ndepends_on = {depends}\n\n\ndef upgrade():\n{up}\n\n\ndef downgrade():\n{down_body}\n",
            id = r.id,
            down = r.down,
            labels = r.labels,
            depends = r.depends,
            up = r.upgrade,
            down_body = r.downgrade,
        );
        std::fs::write(versions.join(format!("{}_step.py", r.id)), text).unwrap();
    }
}

/// A Python that counts its launches (one line each in `launches.txt`).
fn counting_python(dir: &Path, python: &Path) -> PathBuf {
    let wrapper = dir.join("counting-python");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho launch >> '{}'\nexec '{}' \"$@\"\n",
            dir.join("launches.txt").display(),
            python.display()
        ),
    )
    .unwrap();
    let chmod = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap();
    assert!(chmod.success());
    wrapper
}

fn launches(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("launches.txt")).map_or(0, |t| t.lines().count())
}

fn import(dir: &Path, python: &Path, out: &str, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "import-alembic".into(),
        ".".into(),
        "--python".into(),
        python.display().to_string(),
        "--out".into(),
        out.into(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_string()));
    alembix_in(dir, args)
}

const FETCH: &str = "    rows = op.get_bind().execute(sa.text(\"SELECT id FROM items\")).fetchall()\n    op.execute(\"UPDATE items SET n = %d\" % len(rows))";

/// A trunk, two labelled branches merged, more trunk: the branch labels and a
/// `depends_on` name constants of `myapp.cli`, a `down_revision` one of its
/// functions. Three revisions cannot be rendered offline (two upgrades, one
/// downgrade read rows from the live database).
fn branched_history() -> Vec<Rev> {
    let create = "    op.create_table(\"items\", sa.Column(\"id\", sa.Integer, primary_key=True), sa.Column(\"n\", sa.Integer))";
    let mut revs = vec![rev("t00", None, create, "    op.drop_table(\"items\")")];
    let column = |name: &str| {
        (
            format!("    op.add_column(\"items\", sa.Column(\"{name}\", sa.Integer))"),
            format!("    op.drop_column(\"items\", \"{name}\")"),
        )
    };
    let chain = |id: &str, down: &str, revs: &mut Vec<Rev>| {
        let (up, down_body) = column(&format!("c_{id}"));
        revs.push(rev(id, Some(down), &up, &down_body));
    };
    chain("t01", "t00", &mut revs);
    // `down_revision = cli.FIRST`: a constant of the project's module.
    revs.last_mut().unwrap().down = "cli.FIRST".into();
    chain("t02", "t01", &mut revs);
    chain("t03", "t02", &mut revs);
    chain("a04", "t03", &mut revs);
    revs.last_mut().unwrap().labels = "(cli.EXPAND_BRANCH,)";
    revs.push(rev("a05", Some("a04"), FETCH, "    pass"));
    chain("a06", "a05", &mut revs);
    chain("b04", "t03", &mut revs);
    revs.last_mut().unwrap().labels = "cli.CONTRACT_BRANCH";
    let (up, _) = column("c_b05");
    revs.push(rev("b05", Some("b04"), &up, FETCH));
    revs.last_mut().unwrap().depends = "[cli.EXPAND_BRANCH]";
    revs.push(Rev {
        down: "(\"a06\", \"b05\")".into(),
        ..rev("m07", None, "    pass", "    pass")
    });
    chain("t08", "m07", &mut revs);
    revs.push(rev(
        "t09",
        Some("t08"),
        "    op.execute(\"UPDATE items SET n = 0\")\n    raise RuntimeError(\"this step needs the live database\")",
        "    pass",
    ));
    chain("t10", "t09", &mut revs);
    revs.last_mut().unwrap().down = "cli.after(\"t09\")".into();
    chain("t11", "t10", &mut revs);
    revs
}

#[test]
fn one_launch_renders_a_branched_history_whose_headers_are_constants() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_project(dir, &branched_history());
    let counting = counting_python(dir, &python);

    let run = import(dir, &counting, "out", &[]);
    assert!(run.ok, "{run:?}");
    assert_eq!(
        launches(dir),
        1,
        "one Python process for everything: {run:?}"
    );
    assert!(
        run.stdout
            .contains("Alembic loaded 14 revision script(s) and rendered them in offline mode, in 1 Python process(es)"),
        "{run:?}"
    );

    // Each failure stays with its own revision; everything else has its SQL.
    let out = dir.join("out");
    let problems = load(&out).unwrap_err();
    assert_eq!(
        placeholder_revisions(&problems),
        ["a05", "b05", "t09"],
        "{problems}"
    );
    assert!(
        file_of(&out, "a05")
            .contains("AttributeError: 'NoneType' object has no attribute 'fetchall'"),
        "{}",
        file_of(&out, "a05")
    );
    assert!(file_of(&out, "t09").contains(
        "Alembic failed in this revision: RuntimeError: this step needs the live database"
    ));
    let b05 = file_of(&out, "b05");
    assert!(
        b05.contains("ALTER TABLE items ADD COLUMN c_b05 INTEGER;"),
        "{b05}"
    );
    assert!(b05.contains("-- migrate:downgrade\n-- TODO(import-alembic): No SQL was imported: Alembic failed in this revision: AttributeError"), "{b05}");
    let t10 = file_of(&out, "t10");
    assert!(
        t10.contains("ALTER TABLE items ADD COLUMN c_t10 INTEGER;"),
        "rendered past the failing t09: {t10}"
    );

    // The headers are what Alembic evaluated.
    fill_placeholders(&out, "SELECT 1;");
    let set = load(&out).unwrap();
    let file = |id: &str| set.files().iter().find(|f| f.revision == id).unwrap();
    assert_eq!(file("t01").down_revisions, ["t00"]);
    assert_eq!(file("t10").down_revisions, ["t09"]);
    assert_eq!(file("a04").branch_labels, ["expand"]);
    assert_eq!(file("b04").branch_labels, ["contract"]);
    assert_eq!(file("b05").depends_on, ["expand"]);
    assert_eq!(file("m07").down_revisions, ["a06", "b05"]);
    let graph = set.graph();
    assert_eq!(graph.ids(graph.heads()), ["t11"]);

    // Without Alembic, the same headers cannot be read: the refusal says why.
    let run = import(dir, &counting, "out_static", &["--skip-sql"]);
    assert!(!run.ok, "{run:?}");
    assert!(
        run.stderr
            .contains("a04_step.py:18: cannot read `branch_labels` statically"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("with Alembic it takes them from Alembic's own loading of the scripts, which evaluates them. Alembic did not load them here (--skip-sql was given)"),
        "{run:?}"
    );
    assert_eq!(launches(dir), 1, "--skip-sql runs no Python");
}

#[test]
fn a_revision_that_ends_the_process_costs_one_more_launch_and_only_itself() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut revs = branched_history();
    revs.push(rev(
        "x12",
        Some("t11"),
        "    op.execute(\"UPDATE items SET n = 1\")\n    os._exit(7)",
        "    op.execute(\"UPDATE items SET n = 2\")",
    ));
    write_project(dir, &revs);
    let counting = counting_python(dir, &python);
    let run = import(dir, &counting, "out", &[]);
    assert!(run.ok, "{run:?}");
    assert_eq!(launches(dir), 2, "{run:?}");
    let out = dir.join("out");
    let problems = load(&out).unwrap_err();
    assert_eq!(
        placeholder_revisions(&problems),
        ["a05", "b05", "t09", "x12"],
        "{problems}"
    );
    let x12 = file_of(&out, "x12");
    assert!(
        x12.contains("Alembic failed in this revision: the Python process ended (exit status: 7)"),
        "{x12}"
    );
    assert!(
        x12.contains("-- migrate:downgrade\nUPDATE items SET n = 2;"),
        "its downgrade rendered in the next launch: {x12}"
    );
    assert!(file_of(&out, "t11").contains("ADD COLUMN c_t11"));
}

#[test]
fn autocommit_blocks_keep_no_transaction_even_in_placeholders() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let create = "    op.create_table(\"items\", sa.Column(\"id\", sa.Integer, primary_key=True), sa.Column(\"n\", sa.Integer))";
    let index = "    with op.get_context().autocommit_block():\n        op.create_index(\"ix_n\", \"items\", [\"n\"], postgresql_concurrently=True)";
    write_project(
        dir,
        &[
            rev("ac01", None, create, "    op.drop_table(\"items\")"),
            // The block runs, then the step fails: seen while rendering.
            rev(
                "ac02",
                Some("ac01"),
                &format!("{index}\n{FETCH}"),
                "    op.drop_index(\"ix_n\")",
            ),
            // The step fails before its block: the source names it.
            rev(
                "ac03",
                Some("ac02"),
                &format!("{FETCH}\n{index}"),
                "    op.drop_index(\"ix_n\")",
            ),
            // Rendered in full: its COMMIT shows it.
            rev("ac04", Some("ac03"), index, "    op.drop_index(\"ix_n\")"),
            rev(
                "ac05",
                Some("ac04"),
                "    op.execute(\"UPDATE items SET n = 1\")",
                "    pass",
            ),
        ],
    );
    let run = import(
        dir,
        &python,
        "out",
        &["-x", "url=postgresql://u@localhost/db"],
    );
    assert!(run.ok, "{run:?}");
    let out = dir.join("out");
    let problems = load(&out).unwrap_err();
    assert_eq!(
        placeholder_revisions(&problems),
        ["ac02", "ac03"],
        "{problems}"
    );
    for (id, how) in [
        ("ac02", "seen while rendering), so it runs with `-- transaction: none`; its placeholder keeps that mode"),
        ("ac03", "named in its source), so it runs with `-- transaction: none`; its placeholder keeps that mode"),
        ("ac04", "seen while rendering), so it runs with `-- transaction: none`\n"),
    ] {
        assert!(
            run.stdout.contains(&format!(
                "note: {id} commits inside its upgrade or downgrade (an `autocommit_block`, {how}"
            )),
            "{id}: {run:?}"
        );
        assert!(file_of(&out, id).contains("\n-- transaction: none\n"), "{id}");
    }
    fill_placeholders(&out, "SELECT 1;");
    let set = load(&out).unwrap();
    let modes: Vec<(&str, TransactionMode)> = set
        .files()
        .iter()
        .map(|f| (f.revision.as_str(), f.transaction))
        .collect();
    assert_eq!(
        modes,
        [
            ("ac01", TransactionMode::PerMigration),
            ("ac02", TransactionMode::None),
            ("ac03", TransactionMode::None),
            ("ac04", TransactionMode::None),
            ("ac05", TransactionMode::PerMigration),
        ]
    );
}

#[test]
fn values_computed_while_rendering_are_noted_and_the_version_table_schema_reported() {
    let Some(python) = python_with_alembic() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let create = "    op.create_table(\"settings\", sa.Column(\"id\", sa.String(36), primary_key=True), sa.Column(\"at\", sa.DateTime), sa.Column(\"note\", sa.String(20)))";
    write_project(
        dir,
        &[
            rev("fv01", None, create, "    op.drop_table(\"settings\")"),
            rev(
                "fv02",
                Some("fv01"),
                "    settings = sa.table(\"settings\", sa.column(\"id\", sa.String), sa.column(\"at\", sa.DateTime), sa.column(\"note\", sa.String))\n    op.bulk_insert(settings, [{\"id\": str(uuid.uuid4()), \"at\": datetime.datetime.now(), \"note\": \"fixed\"}])\n    op.execute(\"UPDATE settings SET note = 'same'\")",
                "    op.execute(\"DELETE FROM settings WHERE note = 'same'\")",
            ),
        ],
    );
    let run = import(
        dir,
        &python,
        "out",
        &["-x", "url=postgresql://u@localhost/db", "-x", "schema=ops"],
    );
    assert!(run.ok, "{run:?}");
    let out = dir.join("out");
    assert!(load(&out).is_ok(), "{run:?}");
    let fv02 = file_of(&out, "fv02");
    let notes: Vec<&str> = fv02
        .lines()
        .filter(|l| l.starts_with("-- NOTE(import-alembic): `'"))
        .collect();
    assert_eq!(notes.len(), 2, "the uuid and the timestamp:\n{fv02}");
    assert!(
        notes.iter().all(|n| n.contains(
            "was computed by Python when Alembic rendered this SQL (another rendering gave another value), so it is frozen here"
        )),
        "{fv02}"
    );
    assert!(
        fv02.contains("frozen here: every database that runs this file gets this same value\nINSERT INTO settings"),
        "{fv02}"
    );
    assert!(
        fv02.contains("'fixed');\n\nUPDATE settings SET note = 'same';"),
        "the statement without computed values has no note:\n{fv02}"
    );
    let printed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("note: fv02 upgrade statement 1: `'"))
        .collect();
    assert_eq!(printed.len(), 2, "{run:?}");
    assert!(
        printed[0].contains("was computed by Python while Alembic rendered it"),
        "{run:?}"
    );
    assert!(
        !fv02.contains("-- migrate:downgrade\n-- NOTE"),
        "the downgrade computes nothing:\n{fv02}"
    );
    assert!(
        run.stdout.contains(
            "note: env.py keeps the version table in schema `ops` (`version_table_schema`); configure the runtime with the same schema (`Config { version_table_schema: Some(\"ops\".into()), .. }`)"
        ),
        "{run:?}"
    );
    for id in ["fv01", "fv02"] {
        assert!(
            !file_of(&out, id).contains("alembic_version"),
            "no bookkeeping in {id}"
        );
    }
}
