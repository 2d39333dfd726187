//! Identifiers from configuration (version table name, schema): validated, then quoted.
//!
//! A name is accepted only if it matches `^[A-Za-z_][A-Za-z0-9_]{0,62}$`, so it
//! can never carry a quote, a semicolon or a comment into SQL; it is quoted per
//! dialect anyway (`"x"` on PostgreSQL and SQLite, `` `x` `` on MySQL/MariaDB), so
//! reserved words and mixed case work too. Validation happens when a
//! [`Migrator`](crate::Migrator) is built, before any SQL is sent.

use crate::error::Error;
use std::fmt;

/// The longest identifier accepted: PostgreSQL's limit (MySQL allows 64).
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// A validated SQL identifier: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`.
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
}
