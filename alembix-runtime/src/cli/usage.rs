//! Parsing a binary's command line so that a usage error under `--json` is
//! one JSON document too, as every other answer of the command set is.
//!
//! clap prints its usage errors as text and exits `2`. A script that asked for
//! `--json` reads stdout as JSON: [`parse`] gives it `{"command": …, "error":
//! {"kind": "usage", "message": …}, "exit_code": 2}` on stdout, and clap's own
//! text on stderr for the person reading the terminal. Help and `--version`
//! are printed as clap prints them.

use super::failure::{ErrorDocument, ErrorJson};
use super::stdio::Out;
use super::{Command, Exit};
use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use std::ffi::OsString;

/// Parses the process's arguments into `P` (the binary's own clap parser, into
/// which the command set is mounted), exiting on an error as clap does, except
/// that with `--json` among the arguments the error is also one JSON document
/// on stdout (exit code `2`).
///
/// ```no_run
/// # #[derive(clap::Parser)] struct Cli { #[command(subcommand)] command: Option<alembix_runtime::cli::Command> }
/// let cli: Cli = alembix_runtime::cli::parse();
/// ```
pub fn parse<P: Parser>() -> P {
    parse_from(std::env::args_os())
}

/// [`parse`] over the given arguments (the first is the program's name).
pub fn parse_from<P, I, T>(args: I) -> P
where
    P: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    match P::try_parse_from(&args) {
        Ok(parsed) => parsed,
        Err(error) => {
            let exit = report(&args, &error);
            std::process::exit(i32::from(exit.code()))
        }
    }
}

/// Prints `error` (and its JSON form when asked for); the exit code to end with.
fn report(args: &[OsString], error: &clap::Error) -> Exit {
    let shown_as_clap_prints_it = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if shown_as_clap_prints_it || !wants_json(args) {
        // clap's own printing and exit code (0 for help, 2 for usage).
        let _ = error.print();
        return if error.use_stderr() {
            Exit::Usage
        } else {
            Exit::Success
        };
    }
    let message = error.render().to_string();
    let out = Out::stdio();
    out.error(message.trim_end());
    out.json(&usage_document(args, &message));
    out.finish(Exit::Usage)
}

/// Whether `--json` was given as an option (not after `--`).
fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// The JSON form of a usage error; `command` is the first argument that names
/// a command of the set, or null.
fn usage_document<'a>(args: &'a [OsString], message: &'a str) -> ErrorDocument<'a> {
    let names = Command::augment_subcommands(clap::Command::new("commands"));
    let command = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .filter_map(|a| a.to_str())
        .find(|a| names.get_subcommands().any(|c| c.get_name() == *a));
    let message = message
        .trim_end()
        .strip_prefix("error: ")
        .unwrap_or(message.trim_end());
    ErrorDocument {
        command,
        error: ErrorJson {
            kind: "usage",
            message,
        },
        exit_code: Exit::Usage.code(),
    }
}

/// Refuses an option name where `history -r` expects its range, so that
/// `history -r --json` is a usage error instead of a range named `--json`.
pub(super) fn range(value: &str) -> Result<String, String> {
    if value.starts_with("--") {
        return Err(format!(
            "`{value}` is an option, not a range: give the range right after -r (`-r base:head`, `-r -3:`, `-r ae10:`)"
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::json_writer;
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn json_is_asked_for_only_before_a_double_dash() {
        assert!(wants_json(&os(&["app", "migrate", "current", "--json"])));
        assert!(!wants_json(&os(&["app", "migrate", "current"])));
        assert!(!wants_json(&os(&["app", "--", "--json"])));
        assert!(
            !wants_json(&os(&["--json"])),
            "the program name is not an option"
        );
    }

    #[test]
    fn the_document_names_the_command_and_the_message() {
        let args = os(&["app", "migrate", "upgrade", "--json", "--bogus"]);
        let doc = usage_document(
            &args,
            "error: unexpected argument '--bogus' found\n\nUsage: …\n",
        );
        assert_eq!(
            json_writer::text(&doc),
            "{\n  \"command\": \"upgrade\",\n  \"error\": {\n    \"kind\": \"usage\",\n    \"message\": \"unexpected argument '--bogus' found\\n\\nUsage: …\"\n  },\n  \"exit_code\": 2\n}"
        );
        let args = os(&["app", "--json"]);
        let doc = usage_document(&args, "error: x");
        assert!(
            json_writer::text(&doc).starts_with("{\n  \"command\": null,\n"),
            "{}",
            json_writer::text(&doc)
        );
    }

    #[test]
    fn an_option_is_not_a_range() {
        assert!(range("--json").is_err());
        assert_eq!(range("-3:").as_deref(), Ok("-3:"));
        assert_eq!(range("base:head").as_deref(), Ok("base:head"));
    }
}
