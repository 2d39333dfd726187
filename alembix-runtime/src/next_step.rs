//! What an error tells a person to run next ([`NextCommand`]), and how it is
//! named ([`Naming`]): as a call of this library for a Rust caller (what an
//! error's `Display` shows), or as the command line of the binary or tool
//! that printed it (`myapp migrate repair … --db …`), its database URL's
//! password masked.

use crate::redact::redact_url;
use crate::report::RepairAction;
use alembix_core::problem::shell_word;
use alembix_core::problem::{name_commands, AUTHORING_COMMANDS};

/// A command an error suggests: what to run (or call) next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextCommand {
    /// Run the statements of a failed step outside a transaction that did
    /// not run, once the cause is fixed ([`Migrator::resume`](crate::Migrator::resume),
    /// `repair REV --resume`).
    Resume {
        /// The revision, when the error names one.
        revision: Option<String>,
    },
    /// Record how a person resolved a failed step by hand
    /// ([`Migrator::repair`](crate::Migrator::repair), `repair REV
    /// --completed|--rolled-back`).
    Repair {
        /// The revision, when the error names one.
        revision: Option<String>,
        /// One action, or either when `None`.
        action: Option<RepairAction>,
    },
    /// Accept a deliberate edit of an applied migration
    /// ([`Migrator::accept_edit`](crate::Migrator::accept_edit), `repair REV --accept-edit`).
    AcceptEdit {
        /// The revision, when the error names one.
        revision: Option<String>,
    },
    /// Record the revision the schema matches without running anything
    /// ([`Migrator::stamp`](crate::Migrator::stamp), `stamp [--purge] REVISION`).
    Stamp {
        /// Delete every version row first ([`StampMode::Purge`](crate::StampMode::Purge)).
        purge: bool,
    },
    /// Take over a database diesel_migrations migrated
    /// ([`Migrator::adopt_diesel`](crate::Migrator::adopt_diesel), `adopt-diesel`).
    AdoptDiesel,
    /// Apply the pending migrations ([`Migrator::upgrade`](crate::Migrator::upgrade), `upgrade heads`).
    UpgradeHeads,
    /// Show what differs between the schema the history builds and the
    /// database's ([`schema::diff`](crate::schema::diff), `schema diff`).
    SchemaDiff,
    /// Write diesel's `schema.rs` for the history
    /// ([`schema::schema_rs`](crate::schema::schema_rs), `print-schema --output FILE`).
    PrintSchema {
        /// The file to write.
        output: String,
        /// The history's target, when not the heads.
        revision: Option<String>,
    },
}

/// How messages name the command to run next: a call of this library (the
/// default, what an error's `Display` shows), or a command line.
///
/// ```
/// use alembix_runtime::{Naming, NextCommand};
/// let next = NextCommand::Stamp { purge: true };
/// assert_eq!(
///     Naming::library().command(&next),
///     "`Migrator::stamp(&mut db, &[\"REVISION\"], StampMode::Purge)`"
/// );
/// let binary = Naming::binary("myapp migrate", Some("postgres://ops:s3cret@db:5432/app"));
/// assert_eq!(
///     binary.command(&next),
///     "`myapp migrate stamp --purge REVISION --db 'postgres://ops:***@db:5432/app'`"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Naming {
    command_line: Option<CommandLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CommandLine {
    /// `myapp migrate`, `cargo xtask`, `alembix`.
    program: String,
    /// ` --db '…'`, password masked, then ` --schema …`; empty when
    /// neither was given.
    db: String,
    /// Whether the program has the authoring commands (`merge`, `new-migration`, importers).
    authoring: bool,
}

impl Naming {
    /// Library calls: `` `Migrator::repair(&mut db, "ae10…", …)` ``.
    pub fn library() -> Naming {
        Naming::default()
    }

    /// The `migrate` commands of a binary (`program` is e.g. `myapp
    /// migrate`), and the `--db` URL the operator passed, if any (shown
    /// with its password masked, quoted for a shell when it needs to be; a
    /// URL from `DATABASE_URL` or the binary's default is left out, as the
    /// next run finds it the same way). The authoring commands the core's
    /// help names (`cargo xtask merge`, `new-migration`, the importers) are
    /// not the binary's: they keep the developer's tool's name.
    pub fn binary(program: impl Into<String>, db: Option<&str>) -> Naming {
        Naming::command_line(program.into(), db, false)
    }

    /// A tool with the whole command set over a folder (`alembix`, `cargo
    /// xtask`): every command is `program`'s, the authoring ones included.
    pub fn tool(program: impl Into<String>, db: Option<&str>) -> Naming {
        Naming::command_line(program.into(), db, true)
    }

    fn command_line(program: String, db: Option<&str>, authoring: bool) -> Naming {
        let db = db
            .map(|url| format!(" --db {}", shell_word(&redact_url(url))))
            .unwrap_or_default();
        Naming {
            command_line: Some(CommandLine {
                program,
                db,
                authoring,
            }),
        }
    }

    /// Adds the `--schema` the operator passed to every command line
    /// (`… --db … --schema tenant_a`); nothing for library calls.
    ///
    /// ```
    /// use alembix_runtime::{Naming, NextCommand};
    /// let naming = Naming::binary("myapp migrate", None).with_schema(Some("tenant_a"));
    /// assert_eq!(
    ///     naming.command(&NextCommand::UpgradeHeads),
    ///     "`myapp migrate upgrade heads --schema tenant_a`"
    /// );
    /// ```
    pub fn with_schema(mut self, schema: Option<&str>) -> Naming {
        if let (Some(line), Some(schema)) = (self.command_line.as_mut(), schema) {
            line.db
                .push_str(&format!(" --schema {}", shell_word(schema)));
        }
        self
    }

    /// The same program naming one target of a fleet: its URL (password
    /// masked) and schema, so that a hint reaches that target alone.
    ///
    /// ```
    /// use alembix_runtime::{Naming, NextCommand};
    /// let fleet = Naming::binary("myapp migrate", None);
    /// let one = fleet.for_target("postgres://ops:s3cret@db/app", Some("tenant_7"));
    /// assert_eq!(
    ///     one.command(&NextCommand::UpgradeHeads),
    ///     "`myapp migrate upgrade heads --db 'postgres://ops:***@db/app' --schema tenant_7`"
    /// );
    /// ```
    pub fn for_target(&self, url: &str, schema: Option<&str>) -> Naming {
        match &self.command_line {
            None => Naming::library(),
            Some(line) => Naming::command_line(line.program.clone(), Some(url), line.authoring)
                .with_schema(schema),
        }
    }

    /// Whether this names command lines (not library calls).
    pub fn is_command_line(&self) -> bool {
        self.command_line.is_some()
    }

    /// `next` in backticks: a Rust call, or a command line.
    pub fn command(&self, next: &NextCommand) -> String {
        match &self.command_line {
            None => format!("`{}`", rust_call(next)),
            Some(line) => format!("`{} {}{}`", line.program, arguments(next), line.db),
        }
    }

    /// `next` with its verb: "call `…`" for a library call, "run `…`" for a
    /// command line.
    pub fn invite(&self, next: &NextCommand) -> String {
        let verb = if self.is_command_line() {
            "run"
        } else {
            "call"
        };
        format!("{verb} {}", self.command(next))
    }

    /// The core's help text (which names `` `cargo xtask <command>` ``) with
    /// the commands this program has named as its own.
    pub fn core_text(&self, text: &str) -> String {
        match &self.command_line {
            None => text.to_string(),
            Some(line) => name_commands(text, &line.program, |command| {
                line.authoring || !AUTHORING_COMMANDS.contains(&command)
            }),
        }
    }
}

fn revision_or(revision: &Option<String>, placeholder: &'static str) -> String {
    revision.clone().unwrap_or_else(|| placeholder.to_string())
}

/// The library call of `next`.
fn rust_call(next: &NextCommand) -> String {
    let quoted = |revision: &Option<String>| match revision {
        Some(r) => format!("{r:?}"),
        None => "revision".to_string(),
    };
    match next {
        NextCommand::Resume { revision } => {
            format!("Migrator::resume(&mut db, {}, reason)", quoted(revision))
        }
        NextCommand::Repair { revision, action } => format!(
            "Migrator::repair(&mut db, {}, {}, reason)",
            quoted(revision),
            match action {
                Some(RepairAction::Completed) => "RepairAction::Completed",
                Some(RepairAction::RolledBack) => "RepairAction::RolledBack",
                None => "RepairAction::Completed | RepairAction::RolledBack",
            }
        ),
        NextCommand::AcceptEdit { revision } => {
            format!(
                "Migrator::accept_edit(&mut db, {}, reason)",
                quoted(revision)
            )
        }
        NextCommand::Stamp { purge } => format!(
            "Migrator::stamp(&mut db, &[\"REVISION\"], StampMode::{})",
            if *purge { "Purge" } else { "Keep" }
        ),
        NextCommand::AdoptDiesel => "Migrator::adopt_diesel(&mut db)".to_string(),
        NextCommand::UpgradeHeads => "Migrator::upgrade(&mut db, \"heads\")".to_string(),
        NextCommand::SchemaDiff => "schema::diff(&migrator.replay_schema(&mut scratch, \"heads\")?, &migrator.inspect_schema(&mut db)?)".to_string(),
        NextCommand::PrintSchema { revision, .. } => format!(
            "schema::schema_rs(&migrator.replay_schema(&mut scratch, {:?})?)",
            revision.as_deref().unwrap_or("heads")
        ),
    }
}

/// The command and its arguments, after the program's name.
fn arguments(next: &NextCommand) -> String {
    const REASON: &str = "--reason \"…\"";
    match next {
        NextCommand::Resume { revision } => format!(
            "repair {} --resume {REASON}",
            revision_or(revision, "<revision>")
        ),
        NextCommand::Repair { revision, action } => format!(
            "repair {} {} {REASON}",
            revision_or(revision, "<revision>"),
            match action {
                Some(RepairAction::Completed) => "--completed",
                Some(RepairAction::RolledBack) => "--rolled-back",
                None => "--completed|--rolled-back",
            }
        ),
        NextCommand::AcceptEdit { revision } => format!(
            "repair {} --accept-edit {REASON}",
            revision_or(revision, "<revision>")
        ),
        NextCommand::Stamp { purge: true } => "stamp --purge REVISION".to_string(),
        NextCommand::Stamp { purge: false } => "stamp REVISION".to_string(),
        NextCommand::AdoptDiesel => "adopt-diesel".to_string(),
        NextCommand::UpgradeHeads => "upgrade heads".to_string(),
        NextCommand::SchemaDiff => "schema diff".to_string(),
        NextCommand::PrintSchema { output, revision } => match revision {
            Some(revision) => format!("print-schema --revision {revision} --output {output}"),
            None => format!("print-schema --output {output}"),
        },
    }
}

/// `text` as one word for a POSIX shell: as it is when it holds nothing a
/// shell reads specially, else in single quotes.
#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<NextCommand> {
        let revision = Some("ae1027a6acf0".to_string());
        vec![
            NextCommand::Resume {
                revision: revision.clone(),
            },
            NextCommand::Repair {
                revision: revision.clone(),
                action: None,
            },
            NextCommand::Repair {
                revision: None,
                action: Some(RepairAction::RolledBack),
            },
            NextCommand::AcceptEdit { revision },
            NextCommand::Stamp { purge: false },
            NextCommand::Stamp { purge: true },
            NextCommand::AdoptDiesel,
            NextCommand::UpgradeHeads,
        ]
    }

    #[test]
    fn library_calls_and_command_lines() {
        let library: Vec<String> = all().iter().map(|n| Naming::library().invite(n)).collect();
        assert_eq!(
            library,
            [
                "call `Migrator::resume(&mut db, \"ae1027a6acf0\", reason)`",
                "call `Migrator::repair(&mut db, \"ae1027a6acf0\", RepairAction::Completed | RepairAction::RolledBack, reason)`",
                "call `Migrator::repair(&mut db, revision, RepairAction::RolledBack, reason)`",
                "call `Migrator::accept_edit(&mut db, \"ae1027a6acf0\", reason)`",
                "call `Migrator::stamp(&mut db, &[\"REVISION\"], StampMode::Keep)`",
                "call `Migrator::stamp(&mut db, &[\"REVISION\"], StampMode::Purge)`",
                "call `Migrator::adopt_diesel(&mut db)`",
                "call `Migrator::upgrade(&mut db, \"heads\")`",
            ]
        );
        let binary = Naming::binary("myapp migrate", Some("sqlite://data/app.db"));
        let lines: Vec<String> = all().iter().map(|n| binary.invite(n)).collect();
        assert_eq!(
            lines,
            [
                "run `myapp migrate repair ae1027a6acf0 --resume --reason \"…\" --db sqlite://data/app.db`",
                "run `myapp migrate repair ae1027a6acf0 --completed|--rolled-back --reason \"…\" --db sqlite://data/app.db`",
                "run `myapp migrate repair <revision> --rolled-back --reason \"…\" --db sqlite://data/app.db`",
                "run `myapp migrate repair ae1027a6acf0 --accept-edit --reason \"…\" --db sqlite://data/app.db`",
                "run `myapp migrate stamp REVISION --db sqlite://data/app.db`",
                "run `myapp migrate stamp --purge REVISION --db sqlite://data/app.db`",
                "run `myapp migrate adopt-diesel --db sqlite://data/app.db`",
                "run `myapp migrate upgrade heads --db sqlite://data/app.db`",
            ]
        );
        let tool = Naming::tool("cargo xtask", None);
        assert_eq!(
            tool.command(&NextCommand::UpgradeHeads),
            "`cargo xtask upgrade heads`"
        );
        let print = NextCommand::PrintSchema {
            output: "src/schema.rs".to_string(),
            revision: None,
        };
        assert_eq!(
            tool.command(&print),
            "`cargo xtask print-schema --output src/schema.rs`"
        );
        assert_eq!(
            Naming::library().command(&print),
            "`schema::schema_rs(&migrator.replay_schema(&mut scratch, \"heads\")?)`"
        );
    }

    #[test]
    fn the_url_is_redacted_and_quoted() {
        for (url, shown) in [
            (
                "postgres://ops:p@ss w'rd@db.internal:5432/app?sslmode=require",
                " --db 'postgres://ops:***@db.internal:5432/app?sslmode=require'",
            ),
            (
                "mysql://root@127.0.0.1:3306/test",
                " --db mysql://root@127.0.0.1:3306/test",
            ),
            ("sqlite://it's here.db", " --db 'sqlite://it'\\''s here.db'"),
            (
                "postgres://u@h/db?password=hunter2",
                " --db 'postgres://u@h/db?password=***'",
            ),
        ] {
            let text = Naming::binary("app migrate", Some(url)).command(&NextCommand::UpgradeHeads);
            assert_eq!(text, format!("`app migrate upgrade heads{shown}`"), "{url}");
            assert!(
                !text.contains("hunter2") && !text.contains("ss w"),
                "{text}"
            );
        }
    }

    #[test]
    fn core_help_names_the_commands_the_program_has() {
        let text = "`cargo xtask history` lists the revisions; merge them with `cargo xtask merge -m \"m\"`; `cargo xtask new-migration` writes it";
        assert_eq!(Naming::library().core_text(text), text);
        assert_eq!(
            Naming::binary("chatbot migrate", Some("sqlite://x.db")).core_text(text),
            "`chatbot migrate history` lists the revisions; merge them with `cargo xtask merge -m \"m\"`; `cargo xtask new-migration` writes it"
        );
        assert_eq!(
            Naming::tool("alembix", None).core_text(text),
            "`alembix history` lists the revisions; merge them with `alembix merge -m \"m\"`; `alembix new-migration` writes it"
        );
    }
}
