//! The same command set mounted in the xtask (`cargo xtask <command>`), over
//! the workspace's `migrations/` folder (found from the current directory) or
//! `--dir`, against SQLite.

use crate::support::{chatbot, revisions, scratch_dir, strs, workspace, xtask, TempDir, HEAD};
use std::fs;

#[test]
fn xtask_runs_the_commands_over_the_folder() {
    let dir = TempDir(scratch_dir("xtask-commands"));
    let url = format!("sqlite://{}", dir.0.join("dev.sqlite").display());
    // Run inside the workspace: the folder is found from there, whatever the
    // tool was built from.
    let here = workspace().join("src");

    let heads = xtask(&here, &["heads", "--json"]).ok().json();
    assert_eq!(heads["command"], "heads");
    assert_eq!(revisions(&heads["heads"]), [HEAD]);

    // Commands that read only the history, or write a script, need no database.
    let history = xtask(&here, &["history"]).ok();
    assert_eq!(history.stdout.lines().count(), 9);
    let script = xtask(&here, &["upgrade", "heads", "--sql", "--dialect", "sqlite"]).ok();
    assert!(script
        .stdout
        .starts_with("CREATE TABLE \"alembic_version\""));

    // Database commands need a database: the xtask has no default.
    let no_db = xtask(&here, &["current"]).code(2);
    assert!(
        no_db
            .stderr
            .contains("`current` needs a database: pass --db URL or set DATABASE_URL"),
        "{no_db:?}"
    );

    let up = xtask(&here, &["upgrade", "heads", "--db", &url, "--json"])
        .ok()
        .json();
    assert_eq!(up["steps"].as_array().map(Vec::len), Some(9));
    assert_eq!(strs(&up["rows_after"]), [HEAD]);

    // Outside the workspace there is no folder to find: the xtask does not fall
    // back on the one it was built from, and says how to name one.
    let elsewhere = xtask(&dir.0, &["heads"]).code(1);
    assert!(
        elsewhere.stderr.contains("no migrations folder")
            && elsewhere.stderr.contains("`--dir path/to/migrations`")
            && elsewhere.stderr.contains("`cargo xtask new-migration"),
        "{elsewhere:?}"
    );

    // The folder and the embedded set are the same history, checksums included.
    let check = chatbot(&dir.0, &["migrate", "check", "--db", &url, "--json"])
        .ok()
        .json();
    assert_eq!(check["status"], "ok");
}

#[test]
fn xtask_sees_a_newer_history_than_the_binary() {
    let dir = TempDir(scratch_dir("xtask-ahead"));
    let url = format!("sqlite://{}", dir.0.join("dev.sqlite").display());
    // A newer checkout: the workspace's migrations plus one on top.
    let folder = dir.0.join("migrations");
    fs::create_dir_all(&folder).expect("folder");
    for entry in fs::read_dir(workspace().join("migrations")).expect("migrations") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), folder.join(entry.file_name())).expect("copy");
    }
    fs::write(
        folder.join("2026-11-09_add_topics_abcdefabcdef.sql"),
        format!(
            "-- revision: abcdefabcdef\n-- down_revision: {HEAD}\n-- message: topics\n\n\
             -- migrate:upgrade\nCREATE TABLE topics (id BIGINT PRIMARY KEY);\n\n\
             -- migrate:downgrade\nDROP TABLE topics;\n"
        ),
    )
    .expect("write");
    let dir_arg = folder.display().to_string();
    xtask(
        &dir.0,
        &["upgrade", "heads", "--dir", &dir_arg, "--db", &url],
    )
    .ok();
    assert_eq!(
        revisions(
            &xtask(
                &dir.0,
                &["--dir", &dir_arg, "show", "current", "--db", &url, "--json"]
            )
            .ok()
            .json()["revisions"]
        ),
        ["abcdefabcdef"]
    );

    // The released binary does not contain it: ahead, refused, exit 4.
    let check = chatbot(&dir.0, &["migrate", "check", "--db", &url, "--json"])
        .code(4)
        .json();
    assert_eq!(check["status"], "ahead");
    assert_eq!(strs(&check["unknown"]), ["abcdefabcdef"]);
    let launch = chatbot(&dir.0, &["--db", &url]).code(1);
    assert!(
        launch
            .stderr
            .contains("the database is ahead of this binary"),
        "{launch:?}"
    );
}
