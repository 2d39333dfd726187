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
        "adopt-diesel",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
}
