//! The audited ways out of a refused launch, through the example service's
//! binary on each backend, and how its hints name them: its own command line
//! (`chatbot migrate repair … --db …`, password masked), never `Migrator::`
//! calls or `cargo xtask` for the commands the binary has.

use crate::support::{chatbot, strs, TestDb, HEAD};
#[cfg(feature = "postgres")]
use crate::support::{with_password, Kind};

crate::on_all_backends!(
    a_failed_step_is_resumed_through_the_binary,
    an_edit_is_accepted_through_the_binary,
);

/// The backfill migration (`-- transaction: none`, two statements).
const BACKFILL_FILE: &str = "migrations/2026-11-08_backfill_display_names_f6a7b8c9d0e1.sql";
const FIRST: &str = "1c0f5e2a9b31";
const FIRST_FILE: &str = "migrations/2026-11-01_create_guilds_1c0f5e2a9b31.sql";

fn checksum(db: &TestDb, revision: &str) -> String {
    db.migrate(&["show", revision, "--json"]).ok().json()["revisions"][0]["checksum"]
        .as_str()
        .expect("a checksum")
        .to_string()
}

/// Issue 20 items 4, 11 and 12: the backfill stopped after its first
/// statement (recorded `failed`, 1 of 2, with the file's checksum). The
/// launch, `upgrade` and `stamp` refuse, naming the binary's `repair
/// --resume` and `repair --completed|--rolled-back` with the `--db` given;
/// `repair --resume` runs statement 2 and the next launch serves.
fn a_failed_step_is_resumed_through_the_binary(db: &TestDb) {
    let mut oracle = db.oracle();
    db.migrate(&["upgrade", "e1f2a3b4c5d6"]).ok();
    let sum = checksum(db, HEAD);
    oracle.exec(&format!(
        "INSERT INTO alembic_version_history (revision, down_revisions, depends_on, operation, state, checksum, statements_done, statements_total, detail, tool) \
         VALUES ('{HEAD}', 'e1f2a3b4c5d6', '', 'upgrade', 'failed', '{sum}', 1, 2, 'lost connection', 'test')"
    ));
    let resume = format!(
        "run `chatbot migrate repair {HEAD} --resume --reason \"…\" --db {}` to run the statements that did not run; or finish or undo them by hand, then run `chatbot migrate repair {HEAD} --completed|--rolled-back --reason \"…\" --db {}`",
        db.url, db.url
    );

    // The launch of the service itself.
    let launch = db.chatbot(&["--db", &db.url]).code(1);
    assert!(launch.stderr.contains(&resume), "{launch:#?}");
    assert!(!launch.all().contains("Migrator::"), "{launch:#?}");

    // `upgrade`, and `stamp`, which refuses the same way (exit 6).
    for args in [
        &["upgrade", "heads"][..],
        &["stamp", "heads"],
        &["stamp", "--purge", "heads"],
    ] {
        let refused = db.migrate(args).code(6);
        assert!(refused.stderr.contains(&resume), "{args:?}: {refused:#?}");
        assert!(
            refused.stderr.contains(&format!(
                "failed upgrade of revision {HEAD} ({BACKFILL_FILE}): 1 of 2 statements ran; error: lost connection"
            )),
            "{args:?}: {refused:#?}"
        );
    }
    let stamp = db.migrate(&["stamp", "heads", "--json"]).code(6).json();
    assert_eq!(stamp["error"]["kind"], "unfinished");
    assert_eq!(oracle.rows(), ["e1f2a3b4c5d6"], "nothing was stamped");
    let check = db.migrate(&["check"]).code(6).stdout;
    assert!(
        check.contains(&format!(
            "  next: fix what made the step fail, then {resume}"
        )),
        "{check}"
    );

    // The cause is fixed (here: nothing to fix); resume runs statement 2.
    let resumed = db
        .migrate(&[
            "repair",
            HEAD,
            "--resume",
            "--reason",
            "the connection is back",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(resumed["command"], "repair");
    assert_eq!(resumed["action"], "resumed");
    assert_eq!(resumed["steps"][0]["revision"], HEAD);
    assert_eq!(resumed["steps"][0]["statements"], 1);
    assert_eq!(strs(&resumed["rows_after"]), [HEAD]);
    assert_eq!(oracle.rows(), [HEAD]);
    let last = oracle.strings(
        "SELECT detail AS s FROM alembic_version_history WHERE operation = 'resume' AND state = 'applied'",
    );
    assert_eq!(
        last,
        ["resumed at statement 2 of 2: the connection is back"]
    );
    db.migrate(&["check"]).ok();
    let served = db.chatbot(&["--db", &db.url]).ok().stdout;
    assert!(
        served.contains(&format!("schema up to date at {HEAD}")),
        "{served}"
    );

    // Nothing left to resume: said as the library says it, exit 1.
    let again = db
        .migrate(&["repair", HEAD, "--resume", "--reason", "again", "--json"])
        .code(1)
        .json();
    assert_eq!(again["error"]["kind"], "repair");
    assert!(
        again["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("has nothing to resume")),
        "{again}"
    );
}

/// Issue 20 items 4 and 10: an applied migration's recorded checksum differs
/// from the binary's (what an edited comment does). The launch refuses,
/// naming `repair --accept-edit`; accepting records it, `check` and
/// `current` show it, and the launch serves.
fn an_edit_is_accepted_through_the_binary(db: &TestDb) {
    let mut oracle = db.oracle();
    db.migrate(&["upgrade", "heads"]).ok();
    let sum = checksum(db, FIRST);
    // What an edit leaves: the recorded checksum is not the binary's (and
    // the binary's applied-set digest no longer matches the newest row's).
    oracle.exec(&format!(
        "UPDATE alembic_version_history SET checksum = 'sha256:0000' WHERE revision = '{FIRST}'"
    ));
    oracle.exec("UPDATE alembic_version_history SET applied_digest = NULL");
    let accept = format!(
        "run `chatbot migrate repair {FIRST} --accept-edit --reason \"…\" --db {}`",
        db.url
    );
    let launch = db.chatbot(&["--db", &db.url]).code(1);
    assert!(
        launch.stderr.contains(&format!(
            "If the edit is deliberate and changes nothing the database has (a comment, formatting), accept it: {accept}"
        )),
        "{launch:#?}"
    );
    assert!(!launch.all().contains("Migrator::"), "{launch:#?}");
    let check = db.migrate(&["check"]).code(5).stdout;
    assert!(check.contains(&format!("{accept} to accept it")), "{check}");

    // Only a revision with drift can be accepted.
    let refused = db
        .migrate(&["repair", HEAD, "--accept-edit", "--reason", "x", "--json"])
        .code(1)
        .json();
    assert_eq!(refused["error"]["kind"], "repair");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("revision {HEAD} ({BACKFILL_FILE}) has no drift"))),
        "{refused}"
    );

    let accepted = db
        .migrate(&[
            "repair",
            FIRST,
            "--accept-edit",
            "--reason",
            "reworded a comment",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(accepted["action"], "accepted_edit");
    assert_eq!(strs(&accepted["rows_after"]), [HEAD]);

    let check = db.migrate(&["check", "--json"]).ok().json();
    assert_eq!(check["status"], "ok");
    let edit = &check["accepted_edits"][0];
    assert_eq!(edit["revision"], FIRST);
    assert_eq!(edit["file"], FIRST_FILE);
    assert_eq!(edit["applied_with"], "sha256:0000");
    assert_eq!(edit["accepted"], sum.as_str());
    assert_eq!(edit["reason"], "reworded a comment");
    let line = format!(
        "accepted edit: {FIRST} ({FIRST_FILE}): applied with sha256:0000, its edited text accepted as {sum}: reworded a comment"
    );
    let text = db.migrate(&["check"]).ok().stdout;
    assert!(text.contains(&line), "{text}");
    let current = db.migrate(&["current"]).ok().stdout;
    assert_eq!(current, format!("{HEAD} (head)\n{line}\n"));
    let current = db.migrate(&["current", "--json"]).ok().json();
    assert_eq!(current["accepted_edits"][0]["revision"], FIRST);
    assert_eq!(
        oracle.strings(&format!(
            "SELECT operation AS s FROM alembic_version_history WHERE revision = '{FIRST}' ORDER BY id"
        )),
        ["upgrade", "accept"]
    );
    let served = db.chatbot(&["--db", &db.url]).ok().stdout;
    assert!(
        served.contains(&format!("schema up to date at {HEAD}")),
        "{served}"
    );
}

/// Issue 20 item 4: the `--db` a hint repeats has its password masked,
/// quoted for the shell; the password appears nowhere.
#[cfg(feature = "postgres")]
#[test]
fn a_hint_repeats_the_db_without_its_password() {
    crate::support::on(
        Kind::Postgres,
        "a_hint_repeats_the_db_without_its_password",
        |db| {
            let marker = "hint-s3cret-77";
            let url = with_password(&db.url, marker);
            db.chatbot(&["migrate", "upgrade", "e1f2a3b4c5d6", "--db", &url])
                .ok();
            db.oracle().exec(&format!(
            "INSERT INTO alembic_version_history (revision, down_revisions, depends_on, operation, state, checksum, statements_done, statements_total, tool) \
             VALUES ('{HEAD}', 'e1f2a3b4c5d6', '', 'upgrade', 'failed', 'sha256:00', 1, 2, 'test')"
        ));
            let masked = with_password(&db.url, "***");
            for run in [
                db.chatbot(&["--db", &url]).code(1),
                db.chatbot(&["migrate", "upgrade", "heads", "--db", &url])
                    .code(6),
                db.chatbot(&["migrate", "check", "--db", &url]).code(6),
            ] {
                assert!(!run.all().contains(marker), "password leaked: {run:#?}");
                assert!(
                    run.all().contains(&format!(
                        "`chatbot migrate repair {HEAD} --resume --reason \"…\" --db '{masked}'`"
                    )),
                    "{run:#?}"
                );
            }
        },
    );
}

/// Issue 20 item 4: the core's help names the binary's own `history`; a URL
/// from `DATABASE_URL` is not repeated as `--db`.
#[test]
fn the_binary_names_its_own_commands() {
    let dir = crate::support::scratch_dir("chatbot-naming");
    let _cleanup = crate::support::TempDir(dir.clone());
    let show = chatbot(&dir, &["migrate", "show", "0000aaaa"]).code(1);
    assert!(
        show.stderr
            .contains("help: `chatbot migrate history` lists the revisions"),
        "{show:#?}"
    );
    assert!(!show.stderr.contains("cargo xtask"), "{show:#?}");

    let url = format!("sqlite://{}", dir.join("env.sqlite").display());
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_chatbot"))
            .args(args)
            .current_dir(&dir)
            .env("DATABASE_URL", &url)
            .output()
            .expect("chatbot runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let pending = run(&["migrate", "check"]);
    assert!(
        pending.contains("  next: `chatbot migrate upgrade heads` applies them"),
        "{pending}"
    );
}
