//! Every command against SQLite, PostgreSQL and MariaDB through the real
//! binary: the service's launch, `current`, `history -i`, `show current`,
//! `upgrade`, `downgrade`, `stamp`, `check` (with each of its exit codes) and
//! `repair`; JSON checked field by field, the database checked directly.

use crate::support::{revisions, strs, with_password, Kind, TestDb, HEAD, REVISIONS};

crate::on_all_backends!(
    launch_migrates_then_serves,
    reading_commands_after_launch,
    moving_between_revisions,
    check_exit_codes,
    unfinished_step_and_repair,
    password_never_printed,
);

fn launch_migrates_then_serves(db: &TestDb) {
    let first = db.chatbot(&["--db", &db.url]).ok();
    let out = &first.stdout;
    let steps: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("Running upgrade"))
        .collect();
    assert_eq!(steps.len(), 9, "{out}");
    assert!(steps[0].starts_with("Running upgrade <base> -> 1c0f5e2a9b31, create guilds ... "));
    assert!(steps[4].starts_with(
        "Running upgrade a93b1f7e2d04, 5e6f7a8b9c0d -> 3b2c1d0e9f8a, merge the github and forum branches ... "
    ));
    // Load order: the forum branch's file sorts before the github one's.
    for (line, rev) in steps.iter().zip(REVISIONS) {
        assert!(line.contains(&format!(" -> {rev}, ")), "{line}");
        assert!(line.ends_with(" ms") || line.ends_with(" s"), "{line}");
    }
    assert!(
        out.contains("migrated to f6a7b8c9d0e1: 9 migration(s) in "),
        "{out}"
    );
    assert!(out.contains("registered the demo guild"));
    assert!(out.contains("guild 1001 Rustaceans: 2 user(s) (Ferris, Corro the Unsafe)"));
    assert!(out.contains("  github: rust-lang/rust, announces releases"));
    // The data migration's defaults, copied for the guild.
    assert!(out.contains(
        "  permissions: admin:configure admin:moderate everyone:ping moderator:moderate"
    ));

    let second = db.chatbot(&["--db", &db.url]).ok();
    assert!(second.stdout.contains("schema up to date at f6a7b8c9d0e1"));
    assert!(!second.stdout.contains("Running upgrade"));
    assert!(!second.stdout.contains("registered"));

    // The pre-deploy `migrate upgrade heads` at the heads takes the launch's
    // path: one read, no run lock. Another session holds the lock: without
    // that path the command would wait the lock timeout (60 s) and fail.
    let holder = match db.kind {
        Kind::Postgres => {
            let mut holder = db.oracle();
            holder.exec(
                "SELECT pg_advisory_lock(1835624306, (('x' || substr(encode(sha256('migrate:alembic_version'), 'hex'), 1, 8))::bit(32)::int & 2147483647))",
            );
            Some(holder)
        }
        Kind::Mysql => {
            let mut holder = db.oracle();
            holder.exec(&format!(
                "DO GET_LOCK('migrate:{}.alembic_version', 0)",
                db.name
            ));
            Some(holder)
        }
        Kind::Sqlite => None,
    };
    let pre_deploy = db.migrate(&["upgrade", "heads"]).ok();
    assert_eq!(
        pre_deploy.stdout,
        "nothing to do: the database is at f6a7b8c9d0e1\n"
    );
    let json = db.migrate(&["upgrade", "heads", "--json"]).ok().json();
    assert_eq!(strs(&json["rows_after"]), [HEAD]);
    assert_eq!(json["steps"], serde_json::json!([]));
    drop(holder);

    let mut oracle = db.oracle();
    assert_eq!(oracle.rows(), [HEAD]);
    assert_eq!(oracle.count("guilds"), 1);
    assert_eq!(oracle.count("permission_defaults"), 4);
    assert_eq!(oracle.count("alembic_version_history"), 9);
}

fn reading_commands_after_launch(db: &TestDb) {
    // Before anything: base, and no table is created by reading.
    let empty = db.migrate(&["current", "--json"]).ok().json();
    assert_eq!(strs(&empty["rows"]), Vec::<&str>::new());
    assert_eq!(empty["at_head"], false);
    assert_eq!(
        db.migrate(&["current"]).ok().stdout,
        "<base> (no revision applied)\n"
    );
    assert!(!db.oracle().has_table("alembic_version"));

    db.chatbot(&["--db", &db.url]).ok();

    let current = db.migrate(&["current", "--json"]).ok().json();
    assert_eq!(current["command"], "current");
    assert_eq!(current["database"], db.url.as_str());
    assert_eq!(strs(&current["rows"]), [HEAD]);
    assert_eq!(strs(&current["revisions"]), [HEAD]);
    assert_eq!(strs(&current["heads"]), [HEAD]);
    assert_eq!(current["at_head"], true);
    assert_eq!(
        db.migrate(&["current"]).ok().stdout,
        format!("{HEAD} (head)\n")
    );
    db.migrate(&["current", "--check-heads"]).ok();

    let history = db.migrate(&["history", "-i", "--json"]).ok().json();
    assert_eq!(history["range"], serde_json::Value::Null);
    let items = history["revisions"].as_array().expect("revisions");
    assert_eq!(items.len(), 9);
    assert_eq!(items[0]["revision"], HEAD);
    assert_eq!(items[0]["current"], true);
    assert!(items.iter().all(|i| i["applied"] == true));
    assert!(items[1..].iter().all(|i| i["current"] == false));
    let text = db.migrate(&["history", "-i", "-r", "-1:"]).ok().stdout;
    assert_eq!(
        text.lines().next(),
        Some("e1f2a3b4c5d6 -> f6a7b8c9d0e1 (head) (current), backfill display names outside a transaction, so a large users table is not locked for the whole run")
    );
    let range = db
        .migrate(&["history", "-r", "3b2c1d0e9f8a:current", "--json"])
        .ok()
        .json();
    assert_eq!(
        revisions(&range["revisions"]),
        [
            HEAD,
            "e1f2a3b4c5d6",
            "d8e9f0a1b2c3",
            "c4d5e6f70812",
            "3b2c1d0e9f8a"
        ]
    );

    let show = db.migrate(&["show", "current", "--json"]).ok().json();
    assert_eq!(revisions(&show["revisions"]), [HEAD]);
    assert_eq!(show["revisions"][0]["current"], true);

    let check = db.migrate(&["check", "--json"]).ok().json();
    assert_eq!(check["command"], "check");
    assert_eq!(check["database"], db.url.as_str());
    assert_eq!(check["status"], "ok");
    assert_eq!(check["exit_code"], 0);
    assert_eq!(strs(&check["rows"]), [HEAD]);
    assert_eq!(strs(&check["pending"]), Vec::<&str>::new());
    assert_eq!(strs(&check["unknown"]), Vec::<&str>::new());
    assert_eq!(check["fork"], serde_json::Value::Null);
    assert_eq!(check["drift"], serde_json::json!([]));
    assert_eq!(check["unfinished"], serde_json::json!([]));
    assert_eq!(check["version_table_exists"], true);
    assert_eq!(check["history_table_exists"], true);
}

fn moving_between_revisions(db: &TestDb) {
    let mut oracle = db.oracle();

    let up = db.migrate(&["upgrade", "+2", "--json"]).ok().json();
    assert_eq!(up["command"], "upgrade");
    assert_eq!(up["database"], db.url.as_str());
    assert_eq!(up["target"], "+2");
    assert_eq!(strs(&up["rows_before"]), Vec::<&str>::new());
    assert_eq!(strs(&up["rows_after"]), ["7d4e8a0b6c52"]);
    assert!(up["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
    assert_eq!(revisions(&up["steps"]), ["1c0f5e2a9b31", "7d4e8a0b6c52"]);
    let step = &up["steps"][1];
    assert_eq!(
        step["file"],
        "migrations/2026-11-02_create_users_7d4e8a0b6c52.sql"
    );
    assert_eq!(step["direction"], "upgrade");
    assert_eq!(step["stamp"], false);
    assert_eq!(step["statements"], 2);
    assert_eq!(strs(&step["removed"]), ["1c0f5e2a9b31"]);
    assert_eq!(strs(&step["added"]), ["7d4e8a0b6c52"]);
    assert!(step["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
    assert_eq!(oracle.rows(), ["7d4e8a0b6c52"]);
    assert!(oracle.has_table("users"));
    // The history declares the three dialects; MySQL runs its own variant of
    // this step (no index on an expression), the others the default.
    let show = db.migrate(&["show", "7d4e8a0b6c52"]).ok().stdout;
    assert!(show.contains("Variants: mysql"), "{show}");
    if db.kind == Kind::Postgres {
        let index = oracle
            .strings("SELECT indexdef AS s FROM pg_indexes WHERE indexname = 'users_by_name'");
        assert!(index.iter().any(|d| d.contains("lower")), "{index:?}");
    }

    // One branch of the merge.
    let text = db.migrate(&["upgrade", "a93b"]).ok().stdout;
    assert!(text.starts_with(
        "Running upgrade 7d4e8a0b6c52 -> a93b1f7e2d04, github integration settings per guild ... "
    ), "{text}");
    assert!(text.contains("upgraded to a93b1f7e2d04: 1 migration(s) in "));
    let current = db.migrate(&["current", "--json"]).ok().json();
    assert_eq!(strs(&current["rows"]), ["a93b1f7e2d04"]);
    assert_eq!(current["at_head"], false);
    let not_at_head = db.migrate(&["current", "--check-heads", "--json"]).code(3);
    assert_eq!(not_at_head.json()["at_head"], false);
    assert!(
        not_at_head.stderr.contains(&format!(
            "Database is not on all head revisions; run `chatbot migrate upgrade heads --db {}`",
            db.url
        )),
        "{not_at_head:?}"
    );

    let rest = db.migrate(&["upgrade", "heads", "--json"]).ok().json();
    assert_eq!(
        revisions(&rest["steps"]),
        [
            "5e6f7a8b9c0d",
            "3b2c1d0e9f8a",
            "c4d5e6f70812",
            "d8e9f0a1b2c3",
            "e1f2a3b4c5d6",
            HEAD
        ]
    );
    assert_eq!(oracle.rows(), [HEAD]);
    let nothing = db.migrate(&["upgrade", "heads"]).ok().stdout;
    assert_eq!(
        nothing,
        format!("nothing to do: the database is at {HEAD}\n")
    );

    let down = db.migrate(&["downgrade", "-1", "--json"]).ok().json();
    assert_eq!(down["command"], "downgrade");
    assert_eq!(revisions(&down["steps"]), [HEAD]);
    assert_eq!(down["steps"][0]["direction"], "downgrade");
    assert_eq!(strs(&down["steps"][0]["removed"]), [HEAD]);
    assert_eq!(strs(&down["steps"][0]["added"]), ["e1f2a3b4c5d6"]);
    assert_eq!(oracle.rows(), ["e1f2a3b4c5d6"]);

    // Below the merge: both branches are reverted.
    let below = db
        .migrate(&["downgrade", "7d4e8a0b6c52", "--json"])
        .ok()
        .json();
    assert_eq!(
        revisions(&below["steps"]),
        [
            "e1f2a3b4c5d6",
            "d8e9f0a1b2c3",
            "c4d5e6f70812",
            "3b2c1d0e9f8a",
            "a93b1f7e2d04",
            "5e6f7a8b9c0d"
        ]
    );
    assert_eq!(strs(&below["rows_after"]), ["7d4e8a0b6c52"]);
    assert_eq!(oracle.rows(), ["7d4e8a0b6c52"]);
    assert!(!oracle.has_table("github_config"));
    assert!(!oracle.has_table("permission_lists"));

    // Stamp: the version table moves, no SQL runs.
    let stamp = db.migrate(&["stamp", "heads", "--json"]).ok().json();
    assert_eq!(stamp["command"], "stamp");
    assert_eq!(strs(&stamp["targets"]), ["heads"]);
    assert_eq!(stamp["purge"], false);
    assert_eq!(strs(&stamp["rows_before"]), ["7d4e8a0b6c52"]);
    assert_eq!(strs(&stamp["rows_after"]), [HEAD]);
    assert!(stamp["steps"]
        .as_array()
        .is_some_and(|s| s.iter().all(|s| s["stamp"] == true)));
    assert_eq!(oracle.rows(), [HEAD]);
    assert!(!oracle.has_table("permission_lists"));

    let purge = db
        .migrate(&["stamp", "--purge", "7d4e8a0b6c52", "--json"])
        .ok()
        .json();
    assert_eq!(purge["purge"], true);
    assert_eq!(strs(&purge["rows_after"]), ["7d4e8a0b6c52"]);
    let text = db.migrate(&["stamp", "base"]).ok().stdout;
    assert!(
        text.ends_with(
            "stamped: the version table now holds <base> (was 7d4e8a0b6c52); no migration ran\n"
        ),
        "{text}"
    );
    assert_eq!(oracle.rows(), Vec::<String>::new());

    db.migrate(&["stamp", "7d4e8a0b6c52"]).ok();
    let base = db.migrate(&["downgrade", "base", "--json"]).ok().json();
    assert_eq!(revisions(&base["steps"]), ["7d4e8a0b6c52", "1c0f5e2a9b31"]);
    assert!(!oracle.has_table("guilds"));
}

fn check_exit_codes(db: &TestDb) {
    let mut oracle = db.oracle();

    // A fresh database: everything pending.
    let fresh = db.migrate(&["check", "--json"]).code(3).json();
    assert_eq!(fresh["status"], "pending");
    assert_eq!(fresh["exit_code"], 3);
    assert_eq!(
        strs(&fresh["pending"]),
        [
            "1c0f5e2a9b31",
            "7d4e8a0b6c52",
            "5e6f7a8b9c0d",
            "a93b1f7e2d04",
            "3b2c1d0e9f8a",
            "c4d5e6f70812",
            "d8e9f0a1b2c3",
            "e1f2a3b4c5d6",
            HEAD
        ]
    );
    assert_eq!(fresh["version_table_exists"], false);
    assert_eq!(fresh["history_table_exists"], false);
    let text = db.migrate(&["check"]).code(3).stdout;
    assert!(
        text.contains(&format!(
            "next: `chatbot migrate upgrade heads --db {}` applies them",
            db.url
        )),
        "{text}"
    );
    assert!(text.ends_with("status: pending\n"));

    db.migrate(&["upgrade", "heads"]).ok();
    db.migrate(&["check"]).ok();

    // Drift: an applied migration's recorded checksum differs from the binary's.
    let checksum = db.migrate(&["show", "1c0f", "--json"]).ok().json()["revisions"][0]["checksum"]
        .as_str()
        .expect("checksum")
        .to_string();
    oracle.exec("UPDATE alembic_version_history SET checksum = 'sha256:0000' WHERE revision = '1c0f5e2a9b31'");
    let drift = db.migrate(&["check", "--json"]).code(5).json();
    assert_eq!(drift["status"], "drift");
    assert_eq!(drift["exit_code"], 5);
    let entry = &drift["drift"][0];
    assert_eq!(entry["revision"], "1c0f5e2a9b31");
    assert_eq!(
        entry["file"],
        "migrations/2026-11-01_create_guilds_1c0f5e2a9b31.sql"
    );
    assert_eq!(entry["recorded"], "sha256:0000");
    assert_eq!(entry["current"], checksum.as_str());
    let refused = db.migrate(&["downgrade", "-1", "--json"]).code(5);
    let doc = refused.json();
    assert_eq!(doc["command"], "downgrade");
    assert_eq!(doc["error"]["kind"], "drift");
    assert_eq!(doc["exit_code"], 5);
    assert!(
        refused.stderr.contains("restore the original text"),
        "{refused:?}"
    );
    assert_eq!(oracle.rows(), [HEAD], "nothing was applied");
    oracle.exec(&format!(
        "UPDATE alembic_version_history SET checksum = '{checksum}' WHERE revision = '1c0f5e2a9b31'"
    ));
    db.migrate(&["check"]).ok();

    // Unknown: a row this binary does not contain, with no history.
    oracle.exec("UPDATE alembic_version SET version_num = 'ffffffffffff'");
    let unknown = db.migrate(&["check", "--json"]).code(4).json();
    assert_eq!(unknown["status"], "unknown");
    assert_eq!(strs(&unknown["unknown"]), ["ffffffffffff"]);
    let refused = db.migrate(&["upgrade", "heads", "--json"]).code(4).json();
    assert_eq!(refused["error"]["kind"], "unknown_revisions");

    // Ahead: a newer build applied a revision on top of our head.
    oracle.record_foreign("a0a0a0a0a0a0", HEAD);
    oracle.exec("UPDATE alembic_version SET version_num = 'a0a0a0a0a0a0'");
    let ahead = db.migrate(&["check", "--json"]).code(4).json();
    assert_eq!(ahead["status"], "ahead");
    assert_eq!(strs(&ahead["unknown"]), ["a0a0a0a0a0a0"]);
    let refused = db.migrate(&["upgrade", "heads", "--json"]).code(4).json();
    assert_eq!(refused["error"]["kind"], "database_ahead");

    // Diverged: another branch was applied after e1f2a3b4c5d6.
    oracle.record_foreign("b0b0b0b0b0b0", "e1f2a3b4c5d6");
    oracle.exec("UPDATE alembic_version SET version_num = 'b0b0b0b0b0b0'");
    let diverged = db.migrate(&["check", "--json"]).code(4).json();
    assert_eq!(diverged["status"], "diverged");
    assert_eq!(strs(&diverged["unknown"]), ["b0b0b0b0b0b0"]);
    assert_eq!(diverged["fork"], "e1f2a3b4c5d6");

    // `stamp --purge` is the way back to a known state.
    db.migrate(&["stamp", "--purge", "heads"]).ok();
    let ok = db.migrate(&["check", "--json"]).ok().json();
    assert_eq!(ok["status"], "ok");
}

fn unfinished_step_and_repair(db: &TestDb) {
    let mut oracle = db.oracle();
    db.migrate(&["upgrade", "e1f2a3b4c5d6"]).ok();
    // What a crash in the middle of the non-transactional backfill leaves behind.
    oracle.exec(
        "INSERT INTO alembic_version_history (revision, down_revisions, depends_on, operation, state, checksum, statements_done, statements_total, detail, tool) \
         VALUES ('f6a7b8c9d0e1', 'e1f2a3b4c5d6', '', 'upgrade', 'failed', 'sha256:00', 1, 2, 'lost connection', 'test')",
    );
    let check = db.migrate(&["check", "--json"]).code(6).json();
    assert_eq!(check["status"], "unfinished");
    assert_eq!(check["exit_code"], 6);
    let u = &check["unfinished"][0];
    assert_eq!(u["revision"], HEAD);
    assert_eq!(
        u["file"],
        "migrations/2026-11-08_backfill_display_names_f6a7b8c9d0e1.sql"
    );
    assert_eq!(u["operation"], "upgrade");
    assert_eq!(u["state"], "failed");
    assert_eq!(u["statements_done"], 1);
    assert_eq!(u["statements_total"], 2);
    assert_eq!(u["error"], "lost connection");
    let text = db.migrate(&["check"]).code(6).stdout;
    assert!(
        text.contains(&format!(
            "`chatbot migrate repair {HEAD} --completed|--rolled-back --reason \"…\" --db {}`",
            db.url
        )),
        "{text}"
    );
    assert_eq!(
        db.migrate(&["upgrade", "heads", "--json"]).code(6).json()["error"]["kind"],
        "unfinished"
    );

    let repair = db
        .migrate(&[
            "repair",
            HEAD,
            "--completed",
            "--reason",
            "ran the second UPDATE by hand",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(repair["command"], "repair");
    assert_eq!(repair["revision"], HEAD);
    assert_eq!(repair["action"], "completed");
    assert_eq!(strs(&repair["rows_after"]), [HEAD]);
    assert_eq!(oracle.rows(), [HEAD]);
    db.migrate(&["check"]).ok();
}

fn password_never_printed(db: &TestDb) {
    if db.kind == Kind::Sqlite {
        return;
    }
    let marker = "s3cret-marker-41c9";
    let url = with_password(&db.url, marker);
    assert!(url.contains(marker), "{url}");
    // PostgreSQL here trusts any password; MariaDB's root has none and refuses it.
    let launch = db.chatbot(&["--db", &url]);
    let current = db.chatbot(&["migrate", "current", "--json", "--db", &url]);
    let check = db.chatbot(&["migrate", "check", "--db", &url]);
    for run in [&launch, &current, &check] {
        assert!(!run.all().contains(marker), "password leaked: {run:#?}");
    }
    if current.code == 0 {
        let shown = current.json()["database"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert!(shown.contains(":***@"), "{shown}");
    } else {
        assert!(current.json()["error"]["message"].is_string());
    }
}

/// `--schema` through the service's own `migrate` commands on PostgreSQL:
/// the whole history runs in the schema named (created), nothing in
/// `public`; a command without the flag is refused, naming the flag; hints
/// repeat it.
#[cfg(feature = "postgres")]
#[test]
fn schema_flag_on_postgres() {
    crate::support::on(Kind::Postgres, "schema_flag_on_postgres", schema_flag);
}

#[cfg(feature = "postgres")]
fn schema_flag(db: &TestDb) {
    let pending = db.migrate(&["check", "--schema", "tenant_a"]).code(3);
    assert!(
        pending.stdout.contains("upgrade heads --db ")
            && pending.stdout.contains(" --schema tenant_a`"),
        "{pending:#?}"
    );
    let mut oracle = db.oracle();
    let schemas =
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_namespace WHERE nspname = 'tenant_a'";
    assert_eq!(oracle.number(schemas), 0, "check created the schema");

    let upgraded = db
        .migrate(&["upgrade", "heads", "--schema", "tenant_a"])
        .ok();
    assert!(
        upgraded.stdout.contains("upgraded to f6a7b8c9d0e1"),
        "{upgraded:#?}"
    );
    let in_schema = |oracle: &mut crate::support::Oracle, schema: &str| {
        oracle.number(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM information_schema.tables WHERE table_schema = '{schema}'"
        ))
    };
    assert!(in_schema(&mut oracle, "tenant_a") > 2);
    assert_eq!(in_schema(&mut oracle, "public"), 0, "public got tables");
    assert_eq!(
        oracle.strings("SELECT version_num AS s FROM tenant_a.alembic_version"),
        [HEAD]
    );

    // Without the flag: the version table is only in tenant_a.
    let refused = db.migrate(&["upgrade", "heads"]).code(1);
    assert!(
        refused
            .stderr
            .contains("run again with `--schema tenant_a`"),
        "{refused:#?}"
    );
    assert_eq!(in_schema(&mut oracle, "public"), 0, "public got tables");

    let json = db
        .migrate(&["current", "--json", "--schema", "tenant_a"])
        .ok()
        .json();
    assert_eq!(strs(&json["rows"]), [HEAD]);
    db.migrate(&["check", "--schema", "tenant_a"]).ok();
}
