//! Why a command failed: the error's `kind` (a stable word for scripts), the
//! message for people, and the exit code; and the JSON document that says so.

use super::Exit;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::next_step::Naming;
use serde::Serialize;

/// Why a command failed, how to say it, and the exit code.
#[derive(Debug)]
pub(super) struct Failure {
    /// The JSON `error.kind`: `usage`, `connect`, `drift`, … (listed in the README).
    pub kind: &'static str,
    /// The library's error, when it returned one: said at the end, naming
    /// what to run next as the command line that ran (see [`Failure::text`]).
    error: Option<Box<Error>>,
    /// What went wrong and what to do, for people: the whole message of a
    /// usage error, or what follows the library error's message.
    pub message: String,
    /// The exit code it ends the command with.
    pub exit: Exit,
}

impl Failure {
    /// Arguments that do not go together: exit `2`.
    pub fn usage(message: String) -> Failure {
        Failure {
            kind: "usage",
            error: None,
            message,
            exit: Exit::Usage,
        }
    }

    /// A file that could not be read or written: exit `1`, kind `file`.
    pub fn file(message: String) -> Failure {
        Failure {
            kind: "file",
            error: None,
            message,
            exit: Exit::Failure,
        }
    }

    /// What went wrong and what to do, naming next steps as `naming` does.
    pub fn text(&self, naming: &Naming) -> String {
        let text = match &self.error {
            Some(error) => format!("{}{}", error.message(naming), self.message),
            None => self.message.clone(),
        };
        naming.core_text(&text)
    }

    /// The JSON document of this failure for `command`, its message `text`.
    pub fn document<'a>(&'a self, command: &'a str, text: &'a str) -> ErrorDocument<'a> {
        ErrorDocument {
            command: Some(command),
            error: ErrorJson {
                kind: self.kind,
                message: text,
            },
            exit_code: self.exit.code(),
        }
    }
}

/// The JSON `error.kind` of a library error, and the exit code it ends a command with.
pub(super) fn classify(e: &Error) -> (&'static str, Exit) {
    #[allow(unreachable_patterns)]
    match e {
        Error::InvalidIdentifier { .. } => ("invalid_identifier", Exit::Failure),
        Error::Unsupported(_) => ("unsupported", Exit::Failure),
        Error::UndeclaredDialect { .. } => ("undeclared_dialect", Exit::Failure),
        Error::History(_) => ("history", Exit::Failure),
        Error::Url { .. } => ("url", Exit::Usage),
        Error::NoDatabase { .. } => ("usage", Exit::Usage),
        Error::Connect { .. } => ("connect", Exit::Failure),
        Error::Database { .. } => ("database", Exit::Failure),
        Error::Migration { .. } => ("migration", Exit::Failure),
        Error::LockTimeout { .. } => ("lock_timeout", Exit::Failure),
        Error::Drift(_) => ("drift", Exit::Drift),
        Error::DatabaseAhead { .. } => ("database_ahead", Exit::UnknownRevisions),
        Error::DatabaseDiverged { .. } => ("database_diverged", Exit::UnknownRevisions),
        Error::UnknownRevisions { .. } => ("unknown_revisions", Exit::UnknownRevisions),
        Error::Unfinished(_) => ("unfinished", Exit::Unfinished),
        Error::Plan(_) => ("plan", Exit::Failure),
        Error::Irreversible { .. } => ("irreversible", Exit::Failure),
        Error::VersionTable(_) | Error::DieselNotAdopted { .. } => ("version_table", Exit::Failure),
        Error::Repair(_) => ("repair", Exit::Failure),
        Error::VersionTableElsewhere { .. } => ("version_table_elsewhere", Exit::Failure),
        _ => ("error", Exit::Failure),
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let (kind, exit) = classify(&e);
        let mut message = String::new();
        if let Error::Connect { url, .. } = &e {
            message.push_str(if Dialect::of_url(url) == Some(Dialect::Sqlite) {
                "\n  help: check that the file's folder exists and is writable (--db or DATABASE_URL)"
            } else {
                "\n  help: check that the server is up and that the URL (--db or DATABASE_URL) names the right host, database and user"
            });
        }
        Failure {
            kind,
            error: Some(Box::new(e)),
            message,
            exit,
        }
    }
}

impl From<alembix_core::PlanError> for Failure {
    fn from(e: alembix_core::PlanError) -> Failure {
        Error::Plan(e).into()
    }
}

/// `{"command": …, "error": {"kind": …, "message": …}, "exit_code": …}`: a
/// failed command's document, and a usage error's (whose `command` may be null).
#[derive(Debug, Serialize)]
pub(super) struct ErrorDocument<'a> {
    /// The command's name; `None` when a usage error names no command.
    pub command: Option<&'a str>,
    /// What went wrong.
    pub error: ErrorJson<'a>,
    /// The exit code the process ends with.
    pub exit_code: u8,
}

/// The `error` object of an [`ErrorDocument`].
#[derive(Debug, Serialize)]
pub(super) struct ErrorJson<'a> {
    /// A stable word for scripts (see the README's list).
    pub kind: &'a str,
    /// The message, as on stderr without its `error: ` prefix.
    pub message: &'a str,
}
