//! The history's settings: `alembix.toml` in the migrations folder, read by
//! the macro, the commands and (through what the macro embeds) the runtime.
//!
//! ```toml
//! # The databases this history is written for.
//! dialects = ["sqlite", "postgresql", "mysql"]
//! ```
//!
//! - `dialects` lists `sqlite`, `postgresql` and `mysql` (MySQL and MariaDB).
//!   A database of another dialect is refused before any statement runs,
//!   every migration must have SQL for each declared dialect (its default
//!   section or a variant), and the build parses that SQL for each of them.
//!   A history without the file (or without the key) declares nothing: it
//!   runs on any database, as it always did, and its SQL is not parsed.
//! - Any other key is an error, so that a typo never drops a setting.

use crate::problem::{Problem, ProblemKind, Problems};
use crate::sql::{near_dialect, SqlDialect, DIALECT_NAMES};
use std::fmt;

/// The settings file's name, in the migrations folder.
pub const SETTINGS_FILE: &str = "alembix.toml";

/// A set of dialects: the ones a history declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Dialects(u8);

impl Dialects {
    /// No declaration: the history runs on any database.
    pub const UNDECLARED: Dialects = Dialects(0);

    /// The set of `dialects`.
    pub fn of(dialects: &[SqlDialect]) -> Dialects {
        Dialects(dialects.iter().fold(0, |bits, d| bits | 1 << d.index()))
    }

    /// The set from its [`Dialects::bits`] (unknown bits dropped).
    pub const fn from_bits(bits: u8) -> Dialects {
        Dialects(bits & 0b111)
    }

    /// One bit per dialect, by [`SqlDialect::index`]; 0 when undeclared.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether the history declares its dialects.
    pub const fn is_declared(self) -> bool {
        self.0 != 0
    }

    /// Whether a database of `dialect` may run the history: it is declared,
    /// or nothing is.
    pub const fn allows(self, dialect: SqlDialect) -> bool {
        self.0 == 0 || self.0 & (1 << dialect.index()) != 0
    }

    /// The dialects a database may be of, in [`SqlDialect::ALL`] order: the
    /// declared ones, or all when nothing is declared.
    pub fn allowed(self) -> impl Iterator<Item = SqlDialect> {
        SqlDialect::ALL.into_iter().filter(move |&d| self.allows(d))
    }
}

impl fmt::Display for Dialects {
    /// `sqlite, postgresql`; `any dialect` when undeclared.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_declared() {
            return f.write_str("any dialect");
        }
        let names: Vec<&str> = self.allowed().map(SqlDialect::name).collect();
        f.write_str(&names.join(", "))
    }
}

/// What `alembix.toml` says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The dialects the history is written for.
    pub dialects: Dialects,
}

impl Settings {
    /// Settings declaring `dialects`.
    pub fn with_dialects(dialects: Dialects) -> Settings {
        Settings { dialects }
    }
}

/// Parses the settings file `file` (the name used in problems), whose text
/// is `text`.
pub fn parse(file: &str, text: &str) -> Result<Settings, Problems> {
    let line_of = |at: usize| {
        let before = text.get(..at).unwrap_or(text);
        u32::try_from(before.bytes().filter(|&b| b == b'\n').count() + 1).unwrap_or(u32::MAX)
    };
    let problem = |at: usize, message: String, help: String| {
        Problem::new(ProblemKind::Settings, message)
            .at(file, Some(line_of(at)))
            .help(help)
    };
    let table = match toml::de::DeTable::parse(text) {
        Ok(table) => table.into_inner(),
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            return Err(problem(
                at,
                format!("`{file}` is not valid TOML: {}", e.message().trim()),
                "write `dialects = [\"sqlite\", \"postgresql\"]`: the file is TOML".to_string(),
            )
            .into());
        }
    };
    let mut problems = Vec::new();
    let mut settings = Settings::default();
    for (key, value) in &table {
        let at = key.span().start;
        if key.get_ref().as_ref() != "dialects" {
            problems.push(problem(
                at,
                format!("unknown setting `{}`", key.get_ref()),
                "the one setting is `dialects`, e.g. `dialects = [\"sqlite\", \"postgresql\"]`"
                    .to_string(),
            ));
            continue;
        }
        let toml::de::DeValue::Array(items) = value.get_ref() else {
            problems.push(problem(
                value.span().start,
                "`dialects` is not a list".to_string(),
                format!("write a list of dialect names, e.g. `dialects = [\"postgresql\"]`; the dialects are {DIALECT_NAMES}"),
            ));
            continue;
        };
        let mut declared: Vec<SqlDialect> = Vec::new();
        for item in items {
            let at = item.span().start;
            let name = match item.get_ref() {
                toml::de::DeValue::String(name) => name.as_ref(),
                _ => {
                    problems.push(problem(
                        at,
                        "a `dialects` entry is not a string".to_string(),
                        format!("quote each name; the dialects are {DIALECT_NAMES}"),
                    ));
                    continue;
                }
            };
            match SqlDialect::from_name(name) {
                Some(d) if declared.contains(&d) => problems.push(problem(
                    at,
                    format!("`dialects` lists `{name}` twice"),
                    "remove the repeated entry".to_string(),
                )),
                Some(d) => declared.push(d),
                None => problems.push(problem(
                    at,
                    format!("unknown dialect `{}`", name.escape_debug()),
                    format!("the dialects are {DIALECT_NAMES}{}", near_dialect(name)),
                )),
            }
        }
        if declared.is_empty() && problems.is_empty() {
            problems.push(problem(
                value.span().start,
                "`dialects` is empty".to_string(),
                "list the databases the history runs on, or remove the line to declare none (any database)".to_string(),
            ));
        }
        settings.dialects = Dialects::of(&declared);
    }
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(Problems(problems))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;

    #[test]
    fn dialects_are_read_and_allowed() -> Result<(), Problems> {
        let s = parse(
            "m/alembix.toml",
            "# ours\ndialects = [\"postgresql\", \"mysql\"]\n",
        )?;
        assert!(s.dialects.is_declared());
        assert!(!s.dialects.allows(SqlDialect::Sqlite));
        assert!(s.dialects.allows(SqlDialect::Mysql));
        assert_eq!(s.dialects.to_string(), "postgresql, mysql");
        assert_eq!(Dialects::from_bits(s.dialects.bits()), s.dialects);
        let none = parse("m/alembix.toml", "")?;
        assert!(!none.dialects.is_declared());
        assert!(none.dialects.allows(SqlDialect::Sqlite));
        Ok(())
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            ("dialect = [\"sqlite\"]\n", 1, "unknown setting `dialect`"),
            (
                "\ndialects = [\"postgres\"]\n",
                2,
                "unknown dialect `postgres`",
            ),
            (
                "dialects = [\"sqlite\", \"sqlite\"]",
                1,
                "`dialects` lists `sqlite` twice",
            ),
            ("dialects = \"sqlite\"", 1, "`dialects` is not a list"),
            ("dialects = []", 1, "`dialects` is empty"),
            ("dialects = [1]", 1, "a `dialects` entry is not a string"),
            ("\n\ndialects = [", 3, "is not valid TOML"),
        ];
        for (text, line, message) in cases {
            let Err(Problems(ps)) = parse("m/alembix.toml", text) else {
                panic!("{text:?} was accepted");
            };
            assert_eq!(ps.len(), 1, "{text:?}: {ps:?}");
            assert_eq!(ps[0].line, Some(line), "{text:?}");
            assert!(
                ps[0].message.contains(message),
                "{text:?}: {}",
                ps[0].message
            );
            assert_eq!(ps[0].file.as_deref(), Some("m/alembix.toml"));
        }
        let Err(Problems(ps)) = parse("m/alembix.toml", "dialects = [\"postgres\"]") else {
            panic!("accepted");
        };
        assert!(ps[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("did you mean `postgresql`")));
    }
}
