//! The service's defaults: a SQLite file in the current directory, used by
//! both the launch and `chatbot migrate`.

use crate::support::{chatbot, scratch_dir, strs, TempDir, HEAD};

#[test]
fn default_database_is_a_file_in_the_current_directory() {
    let dir = TempDir(scratch_dir("chatbot-default"));
    let launch = chatbot(&dir.0, &[]).ok();
    assert!(
        launch
            .stdout
            .starts_with("chatbot: database sqlite://chatbot.sqlite\n"),
        "{launch:?}"
    );
    assert!(dir.0.join("chatbot.sqlite").is_file());
    let current = chatbot(&dir.0, &["migrate", "current", "--json"])
        .ok()
        .json();
    assert_eq!(current["database"], "sqlite://chatbot.sqlite");
    assert_eq!(strs(&current["rows"]), [HEAD]);
}

#[test]
fn help_lists_every_command() {
    let dir = TempDir(scratch_dir("chatbot-help"));
    let help = chatbot(&dir.0, &["migrate", "--help"]).ok().stdout;
    for command in [
        "show",
        "heads",
        "branches",
        "history",
        "current",
        "upgrade",
        "downgrade",
        "stamp",
        "check",
        "repair",
        "log",
        "adopt-diesel",
        "schema",
        "print-schema",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
}

/// `--db` is optional wherever the service's default (or DATABASE_URL)
/// serves, and the usage line and help say so (issue: a usage line once
/// showed `--db <URL>` as required).
#[test]
fn usage_shows_the_database_as_optional() {
    let dir = TempDir(scratch_dir("chatbot-usage"));
    for (command, operand) in [
        ("upgrade", "<TARGET>"),
        ("downgrade", "<TARGET>"),
        ("stamp", "<TARGETS>..."),
    ] {
        let help = chatbot(&dir.0, &["migrate", command, "--help"]).ok().stdout;
        let usage = help.lines().find(|l| l.starts_with("Usage:")).unwrap_or("");
        assert_eq!(
            usage,
            format!("Usage: chatbot migrate {command} [OPTIONS] {operand}"),
            "{help}"
        );
        assert!(
            help.contains("[default: $DATABASE_URL, else the program's own default database"),
            "{help}"
        );
    }
    for command in ["current", "check", "log"] {
        let help = chatbot(&dir.0, &["migrate", command, "--help"]).ok().stdout;
        assert!(
            help.contains(&format!("Usage: chatbot migrate {command} [OPTIONS]\n")),
            "{help}"
        );
    }
}

/// `migrate log`: what ran, newest first, with one UTC time format.
#[test]
fn log_shows_what_ran_newest_first() {
    let dir = TempDir(scratch_dir("chatbot-log"));
    chatbot(&dir.0, &[]).ok();
    let text = chatbot(&dir.0, &["migrate", "log", "-n", "2"]).ok().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(&format!("  upgrade {HEAD} applied in ")),
        "{text}"
    );
    assert!(
        lines[0].ends_with(&format!("[alembix {}]", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let doc = chatbot(&dir.0, &["migrate", "log", "--json"]).ok().json();
    let entries = doc["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 9);
    assert_eq!(entries[0]["revision"], HEAD);
    let at = entries[0]["started_at"].as_str().expect("started_at");
    assert!(
        at.len() == 27 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "{at}"
    );
    assert!(
        lines[0].starts_with(at),
        "the text and the JSON print the same time: {text}"
    );
}

/// `migrate schema dump` prints the schema the embedded history builds,
/// replayed in memory (no file is created); after the launch, `--live`
/// reads the same text from the service's database and `schema diff` finds
/// nothing; a column added by hand is a `+` line and exit 7, for `check
/// --schema-drift` too.
#[test]
fn schema_dump_and_diff_over_the_embedded_history() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let dir = TempDir(scratch_dir("chatbot-schema"));
    let dump = chatbot(&dir.0, &["migrate", "schema", "dump"]).ok();
    assert!(!dir.0.join("chatbot.sqlite").exists(), "{dump:?}");
    assert!(dump.stdout.starts_with("table forum_config\n"), "{dump:?}");
    assert!(
        dump.stdout
            .contains("\ntable users\n  column id bigint not null\n"),
        "{dump:?}"
    );
    assert!(!dump.stdout.contains("alembic_version"), "{dump:?}");
    chatbot(&dir.0, &[]).ok();
    let live = chatbot(&dir.0, &["migrate", "schema", "dump", "--live"]).ok();
    assert_eq!(live.stdout, dump.stdout);
    let same = chatbot(&dir.0, &["migrate", "schema", "diff"]).ok();
    assert_eq!(same.stdout, "");
    let mut conn =
        diesel::SqliteConnection::establish(&dir.0.join("chatbot.sqlite").to_string_lossy())
            .expect("open the service's database");
    conn.batch_execute("ALTER TABLE guilds ADD COLUMN note TEXT")
        .expect("a change by hand");
    let differs = chatbot(&dir.0, &["migrate", "schema", "diff"]).code(7);
    assert_eq!(
        differs.stdout,
        "--- history (heads)\n+++ live (sqlite://chatbot.sqlite)\n table guilds\n+  column note text\n"
    );
    let check = chatbot(&dir.0, &["migrate", "check", "--schema-drift", "--json"]).code(7);
    assert_eq!(check.json()["status"], "schema_drift");
    assert_eq!(
        check.json()["schema_differences"][1]["line"],
        "  column note text"
    );
}
