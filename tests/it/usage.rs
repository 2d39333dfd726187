//! Usage errors under `--json`: one JSON document on stdout, clap's text on
//! stderr, exit code 2, in the service binary and in `cargo xtask`.

use crate::support::{chatbot, scratch_dir, xtask, Run, TempDir};

fn assert_usage_document(run: &Run, command: Option<&str>, says: &str) {
    let doc = run.json();
    match command {
        Some(name) => assert_eq!(doc["command"], name, "{}", run.all()),
        None => assert!(doc["command"].is_null(), "{}", run.all()),
    }
    assert_eq!(doc["error"]["kind"], "usage", "{}", run.all());
    assert_eq!(doc["exit_code"], 2, "{}", run.all());
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message}");
    assert!(!message.starts_with("error:"), "{message}");
    assert!(
        run.stderr.contains(says),
        "clap's text goes to stderr too: {}",
        run.stderr
    );
}

#[test]
fn clap_usage_errors_are_json_documents_under_json() {
    let dir = TempDir(scratch_dir("chatbot-usage-json"));
    let missing = chatbot(&dir.0, &["migrate", "upgrade", "--json"]).code(2);
    assert_usage_document(&missing, Some("upgrade"), "<TARGET>");

    let unknown_flag = chatbot(&dir.0, &["migrate", "current", "--json", "--bogus"]).code(2);
    assert_usage_document(&unknown_flag, Some("current"), "--bogus");

    let unknown_command = chatbot(&dir.0, &["migrate", "frobnicate", "--json"]).code(2);
    assert_usage_document(&unknown_command, None, "frobnicate");

    // Without --json, clap's text alone, as before.
    let text = chatbot(&dir.0, &["migrate", "upgrade"]).code(2);
    assert!(text.stdout.is_empty(), "{}", text.stdout);
    assert!(text.stderr.contains("<TARGET>"), "{}", text.stderr);
    // After `--`, `--json` is not an option but the target (which names nothing).
    let after = chatbot(&dir.0, &["migrate", "upgrade", "--", "--json"]).code(1);
    assert!(after.stdout.is_empty(), "{}", after.stdout);

    // Help is still help.
    let help = chatbot(&dir.0, &["migrate", "current", "--json", "--help"]).code(0);
    assert!(help.stdout.contains("Usage:"), "{}", help.stdout);
}

#[test]
fn a_range_flag_never_swallows_json() {
    let dir = TempDir(scratch_dir("chatbot-range-json"));
    let run = chatbot(&dir.0, &["migrate", "history", "-r", "--json"]).code(2);
    assert_usage_document(&run, Some("history"), "is an option, not a range");
    // A range that starts with a dash is still a range.
    let ok = chatbot(&dir.0, &["migrate", "history", "-r", "-2:", "--json"]).code(0);
    assert_eq!(ok.json()["range"], "-2:");
}

#[test]
fn the_xtask_answers_the_same_way() {
    let dir = TempDir(scratch_dir("xtask-usage-json"));
    let run = xtask(&dir.0, &["stamp", "--json"]).code(2);
    assert_usage_document(&run, Some("stamp"), "<TARGETS>");
}
