//! The commands that need no database (`heads`, `branches`, `history`, `show`,
//! `--sql`), usage errors and their exit codes, through `chatbot migrate`; and
//! the example history's `--sql` scripts run through each dialect's real
//! client (`sqlite3`, `psql -v ON_ERROR_STOP=1`, `mariadb`/`mysql`), which
//! leave the same database as the online run (skipped without the client,
//! except with `CI=true`).

use crate::sql_client::run_script;
use crate::support::{
    chatbot, revisions, scratch_dir, strs, Kind, Oracle, Run, TempDir, TestDb, HEAD, REVISIONS,
};

fn migrate(args: &[&str]) -> Run {
    let dir = TempDir(scratch_dir("chatbot-offline"));
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    let run = chatbot(&dir.0, &all);
    let left: Vec<_> = std::fs::read_dir(&dir.0)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "`migrate {}` wrote files without a database: {left:?}",
        args.join(" ")
    );
    run
}

#[test]
fn heads_text_and_json() {
    assert_eq!(migrate(&["heads"]).ok().stdout, format!("{HEAD} (head)\n"));
    let doc = migrate(&["heads", "--json"]).ok().json();
    assert_eq!(doc["command"], "heads");
    let heads = doc["heads"].as_array().expect("heads array");
    assert_eq!(heads.len(), 1);
    let head = &heads[0];
    assert_eq!(head["revision"], HEAD);
    assert_eq!(strs(&head["down_revisions"]), ["e1f2a3b4c5d6"]);
    assert_eq!(strs(&head["depends_on"]), Vec::<&str>::new());
    assert_eq!(strs(&head["branch_labels"]), Vec::<&str>::new());
    assert_eq!(
        head["file"],
        "migrations/2026-11-08_backfill_display_names_f6a7b8c9d0e1.sql"
    );
    assert!(head["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("backfill display names")));
    assert_eq!(strs(&head["children"]), Vec::<&str>::new());
    assert_eq!(head["is_head"], true);
    assert_eq!(head["is_base"], false);
    assert_eq!(head["is_branch_point"], false);
    assert_eq!(head["is_merge_point"], false);
    assert!(
        head.get("applied").is_none(),
        "no database was read: {head}"
    );
}

#[test]
fn branches_text_and_json() {
    assert_eq!(
        migrate(&["branches"]).ok().stdout,
        "7d4e8a0b6c52 (branchpoint)\n             -> 5e6f7a8b9c0d\n             -> a93b1f7e2d04\n\n"
    );
    let doc = migrate(&["branches", "--json"]).ok().json();
    assert_eq!(doc["command"], "branches");
    assert_eq!(revisions(&doc["branch_points"]), ["7d4e8a0b6c52"]);
    let point = &doc["branch_points"][0];
    assert_eq!(strs(&point["children"]), ["5e6f7a8b9c0d", "a93b1f7e2d04"]);
    assert_eq!(point["is_branch_point"], true);
}

#[test]
fn history_text_ranges_and_json() {
    let text = migrate(&["history"]).ok().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9, "{text}");
    assert!(lines[0].starts_with("e1f2a3b4c5d6 -> f6a7b8c9d0e1 (head), backfill display names"));
    assert!(lines.contains(
        &"a93b1f7e2d04, 5e6f7a8b9c0d -> 3b2c1d0e9f8a (mergepoint), merge the github and forum branches"
    ));
    assert!(lines.contains(&"1c0f5e2a9b31 -> 7d4e8a0b6c52 (branchpoint), create users"));
    assert_eq!(lines[8], "<base> -> 1c0f5e2a9b31, create guilds");

    let doc = migrate(&["history", "-r", "7d4e8a0b6c52:3b2c1d0e9f8a", "--json"])
        .ok()
        .json();
    assert_eq!(doc["command"], "history");
    assert_eq!(doc["range"], "7d4e8a0b6c52:3b2c1d0e9f8a");
    assert_eq!(
        revisions(&doc["revisions"]),
        [
            "3b2c1d0e9f8a",
            "a93b1f7e2d04",
            "5e6f7a8b9c0d",
            "7d4e8a0b6c52"
        ]
    );
    let merge = &doc["revisions"][0];
    assert_eq!(
        strs(&merge["down_revisions"]),
        ["a93b1f7e2d04", "5e6f7a8b9c0d"]
    );
    assert_eq!(merge["is_merge_point"], true);
    assert!(merge.get("current").is_none());

    // Relative and open ranges.
    let doc = migrate(&["history", "-r", "-2:", "--json"]).ok().json();
    assert_eq!(
        revisions(&doc["revisions"]),
        [HEAD, "e1f2a3b4c5d6", "d8e9f0a1b2c3"]
    );

    let verbose = migrate(&["history", "-v", "-r", "3b2c1d0e9f8a:3b2c1d0e9f8a"])
        .ok()
        .stdout;
    assert!(
        verbose.starts_with(
            "Rev: 3b2c1d0e9f8a (mergepoint)\nMerges: a93b1f7e2d04, 5e6f7a8b9c0d\nPath: migrations/2026-11-04_merge_integrations_3b2c1d0e9f8a.sql\n"
        ),
        "{verbose}"
    );

    let bad = migrate(&["history", "-r", "5e6f7a8b9c0d:a93b1f7e2d04", "--json"]).code(1);
    let doc = bad.json();
    assert_eq!(doc["command"], "history");
    assert_eq!(doc["error"]["kind"], "plan");
    assert_eq!(doc["exit_code"], 1);
    assert!(bad
        .stderr
        .contains("does not refer to ancestor/descendant revisions"));
}

/// `history --graph` and `--format dot|mermaid`: the README shows exactly
/// what the example service prints; every revision is drawn once.
#[test]
fn history_drawn_as_a_graph() {
    let range = "1c0f5e2a9b31:c4d5e6f70812";
    let readme = std::fs::read_to_string(crate::support::workspace().join("README.md")).unwrap();
    let graph = migrate(&["history", "--graph", "-r", range]).ok().stdout;
    assert!(
        readme.contains(&format!("migrate history --graph -r {range}\n{graph}```")),
        "README's graph differs from:\n{graph}"
    );
    let mermaid = migrate(&["history", "--format", "mermaid", "-r", range])
        .ok()
        .stdout;
    assert!(
        readme.contains(&format!("```mermaid\n{mermaid}```")),
        "README's Mermaid differs from:\n{mermaid}"
    );
    let whole = migrate(&["history", "--graph"]).ok().stdout;
    assert_eq!(whole.matches("* ").count(), REVISIONS.len(), "{whole}");
    for r in REVISIONS {
        assert_eq!(whole.matches(r).count(), 1, "{r} in {whole}");
    }
    let dot = migrate(&["history", "--format", "dot"]).ok().stdout;
    assert!(
        dot.starts_with("digraph history {\n") && dot.ends_with("}\n"),
        "{dot}"
    );
    assert!(
        dot.contains("\"3b2c1d0e9f8a\" -> \"a93b1f7e2d04\";"),
        "{dot}"
    );
    assert!(
        dot.contains("\"3b2c1d0e9f8a\" -> \"5e6f7a8b9c0d\";"),
        "{dot}"
    );
    // A picture and a JSON document do not go together.
    let refused = migrate(&["history", "--graph", "--json"]).code(2);
    assert!(
        refused.stderr.contains("cannot be used with"),
        "{refused:?}"
    );
}

#[test]
fn show_resolves_every_identifier_form() {
    let doc = migrate(&["show", "3b2c", "--json"]).ok().json();
    assert_eq!(doc["command"], "show");
    let merge = &doc["revisions"][0];
    assert_eq!(merge["revision"], "3b2c1d0e9f8a");
    assert_eq!(merge["create_date"], "2026-11-04 08:00:00");
    assert_eq!(merge["transaction"], "per-migration");
    assert_eq!(merge["reversible"], true);
    assert_eq!(merge["upgrade_statements"], 0);
    assert_eq!(merge["downgrade_statements"], 0);
    assert!(merge["checksum"]
        .as_str()
        .is_some_and(|c| c.starts_with("sha256:") && c.len() == 71));

    let backfill = migrate(&["show", "head", "--json"]).ok().json();
    assert_eq!(revisions(&backfill["revisions"]), [HEAD]);
    assert_eq!(backfill["revisions"][0]["transaction"], "none");
    assert_eq!(backfill["revisions"][0]["upgrade_statements"], 2);

    let text = migrate(&["show", "7d4e"]).ok().stdout;
    assert!(text.starts_with("Rev: 7d4e8a0b6c52 (branchpoint)\nParent: 1c0f5e2a9b31\nBranches into: 5e6f7a8b9c0d, a93b1f7e2d04\n"), "{text}");
    assert!(
        text.contains("Statements: upgrade 2, downgrade 1\n"),
        "{text}"
    );

    let missing = migrate(&["show", "0000", "--json"]).code(1);
    assert_eq!(missing.json()["error"]["kind"], "plan");
    // `base` and `<label>@base` name no revision: nothing is listed and the
    // command succeeds, as `alembic show base` (which prints nothing).
    let base = migrate(&["show", "base"]).ok();
    assert_eq!((base.stdout.as_str(), base.stderr.as_str()), ("", ""));
    for ident in ["base", "7d4e@base"] {
        let doc = migrate(&["show", ident, "--json"]).ok().json();
        assert_eq!(doc["command"], "show");
        assert_eq!(doc["revisions"], serde_json::json!([]), "{ident}");
    }
    assert_eq!(migrate(&["show", "7d4e8a0b6c52@base"]).ok().stdout, "");
    // Unlike Alembic, a label that names nothing is an error, not an empty answer.
    let unknown = migrate(&["show", "nosuch@base", "--json"]).code(1).json();
    assert_eq!(unknown["error"]["kind"], "plan");
    assert!(
        unknown["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("No such branch: 'nosuch'")),
        "{unknown}"
    );
}

#[test]
fn offline_sql_per_dialect() {
    let pg = migrate(&["upgrade", "heads", "--sql", "--dialect", "postgresql"])
        .ok()
        .stdout;
    assert!(
        pg.starts_with("SET client_encoding = 'UTF8';\n\nCREATE TABLE \"alembic_version\""),
        "{pg}"
    );
    for rev in REVISIONS {
        assert!(pg.contains(&format!(" -> {rev}\n")), "{rev} missing:\n{pg}");
    }
    assert!(pg.contains("BEGIN;"));

    let mysql = migrate(&["upgrade", "heads", "--sql", "--dialect", "mariadb"])
        .ok()
        .stdout;
    assert!(mysql.contains("CREATE TABLE `alembic_version`"));
    assert!(!mysql.contains("BEGIN;"), "no transactional DDL on MySQL");

    // The dialect can come from the URL, which is not connected to.
    let from_url = migrate(&[
        "upgrade",
        "1c0f5e2a9b31:7d4e8a0b6c52",
        "--sql",
        "--db",
        "postgres://nobody:secret@203.0.113.1:9/none",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(from_url["command"], "upgrade");
    assert_eq!(from_url["offline"], true);
    assert_eq!(from_url["dialect"], "postgresql");
    assert_eq!(from_url["range"], "1c0f5e2a9b31:7d4e8a0b6c52");
    let sql = from_url["sql"].as_str().expect("sql");
    assert!(sql.contains("-- Running upgrade 1c0f5e2a9b31 -> 7d4e8a0b6c52"));
    assert!(!sql.contains("create guilds"));

    let down = migrate(&[
        "downgrade",
        "f6a7b8c9d0e1:base",
        "--sql",
        "--dialect",
        "sqlite",
    ])
    .ok()
    .stdout;
    assert!(down.contains("DROP TABLE guilds;"));
    assert!(down.contains("-- Running downgrade 1c0f5e2a9b31 -> "));

    let stamp = migrate(&["stamp", "heads", "--sql", "--dialect", "mysql"])
        .ok()
        .stdout;
    assert!(
        stamp.contains("INSERT INTO `alembic_version` (version_num) VALUES ('f6a7b8c9d0e1')"),
        "{stamp}"
    );

    // Alembic's rules: offline downgrade needs a start; live moves take no range.
    let needs_start = migrate(&["downgrade", "-1", "--sql", "--dialect", "sqlite"]).code(1);
    assert!(needs_start.stderr.contains("requires <fromrev>:<torev>"));
    let range_live = migrate(&[
        "upgrade",
        "1c0f5e2a9b31:heads",
        "--db",
        "sqlite::memory:",
        "--json",
    ])
    .code(1);
    assert_eq!(range_live.json()["error"]["kind"], "plan");
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let no_dialect = migrate(&[
        "upgrade",
        "heads",
        "--sql",
        "--db",
        "oracle://h/db",
        "--json",
    ])
    .code(2);
    assert_eq!(no_dialect.json()["error"]["kind"], "usage");
    assert!(no_dialect.stderr.contains("--dialect"));

    let purge = migrate(&["stamp", "heads", "--purge", "--sql", "--dialect", "sqlite"]).code(2);
    assert!(purge.stderr.contains("--purge"));
    let several = migrate(&["stamp", "a93b", "5e6f", "--sql", "--dialect", "sqlite"]).code(2);
    assert!(several.stderr.contains("one [FROM:]TO target"));

    // clap's own usage errors.
    migrate(&["upgrade"]).code(2);
    migrate(&["frobnicate"]).code(2);
    let dir = TempDir(scratch_dir("chatbot-usage"));
    let misplaced = chatbot(&dir.0, &["--db", "sqlite://x.sqlite", "migrate", "current"]).code(2);
    assert!(misplaced.stderr.contains("after the migrate command"));
}

#[test]
fn no_password_in_errors() {
    let marker = "pw-marker-7f3a9";
    for url in [
        format!("postgres://user:{marker}@127.0.0.1:1/db"),
        format!("mysql://user:{marker}@127.0.0.1:1/db"),
        format!("oracle://user:{marker}@127.0.0.1:1/db"),
    ] {
        let run = migrate(&["current", "--db", &url, "--json"]);
        assert_ne!(run.code, 0);
        assert!(!run.all().contains(marker), "password leaked: {run:#?}");
        assert!(run.json()["error"]["message"].is_string());
    }
}

/// The schema, the rows of every table (counted, and the permission list),
/// the version rows and the history (revision, operation, state) of a database.
fn snapshot(o: &mut Oracle, kind: Kind) -> Vec<String> {
    let (schema, tables, history): (Vec<&str>, &str, &str) = match kind {
        Kind::Sqlite => (
            vec!["SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS s FROM sqlite_master"],
            "SELECT name AS s FROM sqlite_master WHERE type = 'table'",
            "SELECT revision || ' ' || operation || ' ' || state AS s FROM alembic_version_history ORDER BY id",
        ),
        Kind::Postgres => (
            vec![
                "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || COALESCE(column_default, '') AS s FROM information_schema.columns WHERE table_schema = current_schema()",
                "SELECT indexdef AS s FROM pg_indexes WHERE schemaname = current_schema()",
            ],
            "SELECT CAST(table_name AS TEXT) AS s FROM information_schema.tables WHERE table_schema = current_schema()",
            "SELECT revision || ' ' || operation || ' ' || state AS s FROM alembic_version_history ORDER BY id",
        ),
        Kind::Mysql => (
            vec![
                "SELECT CONCAT(table_name, '.', column_name, ' ', column_type, ' ', IFNULL(column_default, '')) AS s FROM information_schema.columns WHERE table_schema = DATABASE()",
                "SELECT CONCAT(table_name, '.', index_name, ' ', column_name, ' ', non_unique) AS s FROM information_schema.statistics WHERE table_schema = DATABASE()",
            ],
            "SELECT CAST(table_name AS CHAR) AS s FROM information_schema.tables WHERE table_schema = DATABASE()",
            "SELECT CONCAT(revision, ' ', operation, ' ', state) AS s FROM alembic_version_history ORDER BY id",
        ),
    };
    let mut out = Vec::new();
    for query in schema {
        let mut rows = o.strings(query);
        rows.sort();
        out.extend(rows);
    }
    let mut names = o.strings(tables);
    names.sort();
    for table in names {
        out.push(format!("{table}: {} row(s)", o.count(&table)));
    }
    if o.has_table("permission_defaults") {
        let concat = if kind == Kind::Mysql {
            "SELECT CONCAT(role_name, ':', permission) AS s FROM permission_defaults"
        } else {
            "SELECT role_name || ':' || permission AS s FROM permission_defaults"
        };
        let mut rows = o.strings(concat);
        rows.sort();
        out.push(format!("permissions: {rows:?}"));
    }
    out.push(format!("version: {:?}", o.rows()));
    out.push(format!("history: {:?}", o.strings(history)));
    out
}

fn example_scripts_through_the_client_equal_the_online_run(db: &TestDb) {
    let Some(scripted) = TestDb::create(db.kind, "scripted") else {
        return;
    };
    let dialect = match db.kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgresql",
        Kind::Mysql => "mysql",
    };
    let up = migrate(&["upgrade", "heads", "--sql", "--dialect", dialect])
        .ok()
        .stdout;
    if run_script(&scripted.url, &up).is_none() {
        return;
    }
    db.migrate(&["upgrade", "heads"]).ok();
    let online = snapshot(&mut db.oracle(), db.kind);
    assert_eq!(
        snapshot(&mut scripted.oracle(), db.kind),
        online,
        "--- script:\n{up}"
    );
    assert!(
        online.contains(&format!("version: [{HEAD:?}]")),
        "{online:#?}"
    );
    // The online runtime finds the scripted database at the head.
    scripted.migrate(&["check"]).ok();

    let down = migrate(&[
        "downgrade",
        &format!("{HEAD}:base"),
        "--sql",
        "--dialect",
        dialect,
    ])
    .ok()
    .stdout;
    run_script(&scripted.url, &down).expect("the client ran before");
    db.migrate(&["downgrade", "base"]).ok();
    let online = snapshot(&mut db.oracle(), db.kind);
    assert_eq!(
        snapshot(&mut scripted.oracle(), db.kind),
        online,
        "--- script:\n{down}"
    );
    assert!(online.contains(&"version: []".to_string()), "{online:#?}");
}

crate::on_all_backends!(example_scripts_through_the_client_equal_the_online_run);
