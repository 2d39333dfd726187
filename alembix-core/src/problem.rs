//! Problems found in a migration history: where, what, and what to do next.
//!
//! Every check in the core reports a [`Problem`] instead of stopping at the first
//! one, so a user with three broken files fixes them in one pass. The macro turns
//! each problem into a compile error, the runtime and the xtask print them.

use std::fmt;

/// What kind of problem was found; stable, so tests and tools can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A header line is missing, repeated, unknown or has a bad value.
    MalformedHeader,
    /// The `-- migrate:upgrade` / `-- migrate:downgrade` markers are missing or out of order.
    MalformedSections,
    /// The upgrade section contains no SQL statement.
    EmptyUpgrade,
    /// The downgrade section is blank (neither SQL nor a comment saying why not).
    EmptyDowngrade,
    /// A section ends inside a string, quoted name, block comment or
    /// dollar-quoted body, in every SQL dialect.
    UnterminatedSql,
    /// A revision id or branch label has characters or a length we do not accept.
    InvalidIdentifier,
    /// The file name names another revision than the header.
    FileNameMismatch,
    /// Two files declare the same revision id.
    DuplicateRevision,
    /// A branch label is declared twice, or equals a revision id.
    DuplicateBranchLabel,
    /// A `down_revision` names no revision in the set.
    MissingDownRevision,
    /// A `depends_on` entry names no revision or branch label in the set.
    MissingDependency,
    /// A revision lists itself as its own `down_revision`.
    SelfLoop,
    /// A revision lists itself in its own `depends_on`.
    DependencySelfLoop,
    /// `down_revision` links form a cycle.
    Cycle,
    /// A cycle that needs `depends_on` links.
    DependencyCycle,
    /// More than one head that nobody merged.
    MultipleHeads,
    /// The settings file (`alembix.toml`) says something we cannot use.
    Settings,
    /// A migration has no SQL for a dialect the history declares (or, when
    /// it declares none, for some dialect).
    MissingDialect,
    /// A file could not be read, is not UTF-8 (its text or its name), is not a
    /// regular file (a FIFO, a socket, a device), or should not be in the folder.
    File,
    /// A statement does not parse as SQL of a dialect the history declares.
    SqlSyntax,
    /// A statement the database refuses inside a transaction, in a migration
    /// that runs in one.
    NotTransactional,
    /// MySQL/MariaDB: a section run in a transaction mixes schema changes,
    /// which commit implicitly, with data changes.
    MixedDdlAndData,
}

/// One problem in a migration history, with its location and a suggested fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The category of the problem.
    pub kind: ProblemKind,
    /// The file, relative to the crate or project root, if the problem has one.
    pub file: Option<String>,
    /// The 1-based line in `file`, if the problem has one.
    pub line: Option<u32>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Problem {
    /// A problem without a location.
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Problem {
            kind,
            file: None,
            line: None,
            message: message.into(),
            help: None,
        }
    }

    /// Attaches a location.
    pub fn at(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }

    /// Attaches a location when there is one.
    pub fn at_origin(self, origin: &Origin) -> Self {
        match &origin.file {
            Some(file) => self.at(file.clone(), origin.line),
            None => self,
        }
    }

    /// Attaches the suggested fix.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Where a revision was declared: a file and the line of its `revision:` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// File name relative to the crate or project root; `None` for graphs built in code.
    pub file: Option<String>,
    /// 1-based line of the declaration.
    pub line: Option<u32>,
}

impl Origin {
    /// An origin in a file.
    pub fn file(file: impl Into<String>, line: u32) -> Self {
        Origin {
            file: Some(file.into()),
            line: Some(line),
        }
    }
}

/// All problems found in one pass; the error type of everything that validates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The problems, in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// Whether a problem of `kind` is among them.
    pub fn has(&self, kind: ProblemKind) -> bool {
        self.0.iter().any(|p| p.kind == kind)
    }
}

impl From<Problem> for Problems {
    fn from(problem: Problem) -> Self {
        Problems(vec![problem])
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        if n != 1 {
            writeln!(f, "{n} problems in the migration history:")?;
        }
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// How the core's help texts name the command-line tool that writes and reads a
/// migrations folder: `` `cargo xtask merge` ``, `` `cargo xtask heads` ``.
pub const TOOL: &str = "cargo xtask";

/// The commands the core's help names that write or import a migrations
/// folder: a developer's tool (`cargo xtask`, the `alembix` binary) has them,
/// a binary's embedded `migrate` command set has not.
pub const AUTHORING_COMMANDS: [&str; 4] =
    ["new-migration", "merge", "import-alembic", "import-diesel"];

/// `text` with each command the core's help names as `` `cargo xtask <command>` ``
/// named `` `<program> <command>` `` instead, for a tool mounted under another name
/// (the `alembix` binary, a project's own xtask).
///
/// ```
/// use alembix_core::problem::name_program;
/// assert_eq!(
///     name_program("merge them with `cargo xtask merge`", "alembix"),
///     "merge them with `alembix merge`"
/// );
/// ```
pub fn name_program(text: &str, program: &str) -> String {
    name_commands(text, program, |_| true)
}

/// `text` with `` `cargo xtask <command>` `` named `` `<program> <command>` ``
/// for each command `renamed` accepts; the others keep the core's words. A
/// binary's `migrate` names its own `history` and `heads`, while `merge` and
/// `new-migration` stay the developer's tool's ([`AUTHORING_COMMANDS`]).
///
/// ```
/// use alembix_core::problem::{name_commands, AUTHORING_COMMANDS};
/// let text = "`cargo xtask history` lists them; merge with `cargo xtask merge`";
/// assert_eq!(
///     name_commands(text, "myapp migrate", |c| !AUTHORING_COMMANDS.contains(&c)),
///     "`myapp migrate history` lists them; merge with `cargo xtask merge`"
/// );
/// ```
pub fn name_commands(text: &str, program: &str, renamed: impl Fn(&str) -> bool) -> String {
    if program == TOOL {
        return text.to_string();
    }
    let marker = format!("`{TOOL} ");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        let after = &rest[at + marker.len()..];
        let command_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        out.push_str(&rest[..at]);
        if renamed(&after[..command_len]) {
            out.push('`');
            out.push_str(program);
            out.push(' ');
        } else {
            out.push_str(&marker);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` as one shell word: as is when it holds only characters no shell
/// reads specially, else in single quotes (for the command lines hints print).
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '%' | '+' | ',' | '=')
        });
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
