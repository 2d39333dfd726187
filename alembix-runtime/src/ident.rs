//! Identifiers from configuration (version table name, schema): validated, then quoted.
//!
//! A name is accepted only if it matches `^[A-Za-z_][A-Za-z0-9_]{0,62}$`, so it
//! can never carry a quote, a semicolon or a comment into SQL; it is quoted per
//! dialect anyway (`"x"` on PostgreSQL and SQLite, `` `x` `` on MySQL/MariaDB), so
//! reserved words and mixed case work too. Validation happens when a
//! [`Migrator`](crate::Migrator) is built, before any SQL is sent.
//!
//! A name may not start with `sqlite_` (in any case): SQLite reserves those for
//! its own tables and indexes and refuses to create one, but only when the
//! statement runs, at launch. The validation does not know the backend (it runs
//! when the `Migrator` is built, before a database is given, and one binary may
//! be pointed at SQLite, PostgreSQL or MySQL/MariaDB by its URL), so the name is
//! refused everywhere: a configured name must work on every backend. The names
//! derived from the version table are checked too, so a version table named
//! `sqlite` (in any case) is refused for its history table, `sqlite_history`. The
//! schema name, only used on PostgreSQL and MySQL/MariaDB, follows the same rule.

use crate::error::Error;
use std::fmt;

/// The longest identifier accepted: PostgreSQL's limit (MySQL allows 64).
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// The prefix SQLite reserves for its own objects (compared without case); no
/// identifier may start with it, on any backend.
pub const SQLITE_RESERVED_PREFIX: &str = "sqlite_";

/// A validated SQL identifier: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`, not starting
/// with `sqlite_` in any case ([`SQLITE_RESERVED_PREFIX`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// Validates `name`; `what` says which setting it came from (for the error).
    pub fn new(name: &str, what: &str) -> Result<Identifier, Error> {
        match check(name) {
            Ok(()) => Ok(Identifier(name.to_string())),
            Err(why) => Err(Error::InvalidIdentifier {
                setting: what.to_string(),
                name: name.escape_debug().to_string(),
                reason: why,
            }),
        }
    }

    /// The name as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("it is empty".to_string());
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(format!(
            "it starts with {first:?}; a name starts with a letter or `_`"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "it contains {bad:?}; only A-Z, a-z, 0-9 and _ are allowed"
        ));
    }
    if name.len() > MAX_IDENTIFIER_LEN {
        return Err(format!(
            "it is {} characters long; at most {MAX_IDENTIFIER_LEN} are allowed",
            name.len()
        ));
    }
    // Only ASCII is left, so the slice ends on a character boundary.
    if let Some(prefix) = name.get(..SQLITE_RESERVED_PREFIX.len()) {
        if prefix.eq_ignore_ascii_case(SQLITE_RESERVED_PREFIX) {
            return Err(format!(
                "it starts with `{prefix}`, which SQLite reserves for its own tables in any case \
                 of the letters (it refuses to create one), and a name must work on every backend; \
                 choose a name that does not start with `sqlite_` (nor a version table named \
                 `sqlite`, whose history table would be `sqlite_history`)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for ok in ["alembic_version", "_x", "A", "t1_2", &"a".repeat(63)] {
            assert!(Identifier::new(ok, "version_table").is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_hostile_and_odd_names() {
        for bad in [
            "",
            "x; DROP TABLE t; --",
            "a\"b",
            "a`b",
            "a'b",
            "1abc",
            "a b",
            "a.b",
            "é",
            "a\0",
            &"a".repeat(64),
        ] {
            let err = Identifier::new(bad, "version_table");
            assert!(err.is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rejects_sqlites_reserved_prefix_in_any_case() {
        for bad in [
            "sqlite_",
            "sqlite_version",
            "SQLITE_MASTER",
            "SQLite_x",
            "sQlItE_1",
        ] {
            let reason = match Identifier::new(bad, "version_table") {
                Err(Error::InvalidIdentifier { reason, .. }) => reason,
                other => format!("not refused as expected: {other:?}"),
            };
            assert!(reason.contains("SQLite reserves"), "{bad:?}: {reason}");
            assert!(
                reason.contains("does not start with `sqlite_`"),
                "{bad:?}: {reason}"
            );
        }
        // Only the prefix with its underscore is reserved.
        for ok in [
            "sqlite",
            "sqlitex",
            "sqlite1_x",
            "my_sqlite_version",
            "_sqlite_x",
        ] {
            assert!(Identifier::new(ok, "version_table").is_ok(), "{ok}");
        }
    }
}
